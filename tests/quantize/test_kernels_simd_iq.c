/* The SIMD neighbour searches of the IQ1/IQ2/IQ3 quantizers
 * (qk_iq_best_neighbour_<isa>: x86/iq_search_body.h, arm/iq_search_neon.c)
 * against their scalar twin iq_best_neighbour (iq_search.h): the same grid
 * point and levels, on EVERY neighbour list of every lattice, with inputs
 * the whole-kernel comparisons rarely reach: exact ties between neighbours
 * in different lanes and in the same lane (zero or constant weights, x on
 * a grid point), NaN and infinite x or weights (no finite d2: the first
 * neighbour), huge values whose d2 overflows, subnormals, signed zeros,
 * scale 0 and negative scales, and both kinds of level values (IQ2/IQ3's
 * 2l+1, IQ1's shifted levels). Whole kernels: test_kernels_simd_legacy
 * (variant == scalar, every type) and test_kernels_iq_grid (== ggml, every
 * ISA). Runs on any architecture (under qemu-aarch64 it checks NEON). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_features.h"
#include "iq_search.h"
#include "kernel_cases.h"
#include "qk_test.h"

static iq_nb_fn g_fn; /* the part's ISA */
static const char *g_isa_name;

static uint64_t g_rng = 88172645463325252ull;
static float rnd(void) { /* uniform [-1, 1) */
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) & 0xffffff) / 8388608.f - 1.f;
}

enum { N_INPUTS = 14 };

/* Input kind k for a group of dim: xval, weight, scale. nb names the list
 * (some kinds put x exactly on one of its points' levels). */
static float fill(int k, const qk_lattice *lat, const uint16_t *nb, const float *qlev, float *x, float *w) {
    const int dim = lat->dim;
    float scale = 0.5f + rnd() * 0.25f;
    for (int i = 0; i < dim; ++i) {
        x[i] = 2.f * rnd() + 2.f;
        w[i] = rnd() + 1.f;
    }
    switch (k) {
    case 0: break; /* random */
    case 1: for (int i = 0; i < dim; ++i) w[i] = 0; break; /* every d2 0: all tie, first wins */
    case 2: for (int i = 0; i < dim; ++i) x[i] = 1.f, w[i] = 1.f; break; /* symmetric ties */
    case 3: { /* x on the last listed point: d2 0 there, ties with equal points */
        const int8_t *pg = lat->pos + nb[nb[0]] * dim;
        for (int i = 0; i < dim; ++i) x[i] = scale * qlev[(pg[i] - 1) / 2];
        break;
    }
    case 4: x[dim / 2] = NAN; break; /* no finite d2: first neighbour */
    case 5: w[0] = NAN; break;
    case 6: x[1] = INFINITY; break;
    case 7: w[dim - 1] = INFINITY; break; /* inf * 0 possible: NaN */
    case 8: for (int i = 0; i < dim; ++i) x[i] *= 1e19f; break; /* d2 overflows to inf */
    case 9: for (int i = 0; i < dim; ++i) x[i] *= 1e-40f, w[i] *= 1e-39f; scale = 1e-41f; break; /* subnormal */
    case 10: for (int i = 0; i < dim; ++i) x[i] = (i & 1) ? -0.f : 0.f; scale = -0.f; break;
    case 11: scale = 0; break;
    case 12: scale = -scale; break;
    case 13: for (int i = 0; i < dim; ++i) w[i] = (i % 3 == 0) ? 0.f : 1.f, x[i] = scale * qlev[i % 2]; break;
    }
    return scale;
}

/* Every neighbour list of lattice id with level values qlev: the SIMD
 * search == the scalar one (point and levels). Returns the lists tried. */
static int check_lattice(qk_lattice_id id, const float *qlev, const char *what) {
    const qk_lattice *lat = qk_lattice_get(id);
    CHECK(lat != NULL);
    if (!lat) return 0;
    const int nmap = 1 << (lat->bits * lat->dim);
    int lists = 0, bad = 0, ties = 0;
    for (int u = 0; u < nmap; ++u) {
        if (lat->map[u] >= 0 || lat->map[u] == INT32_MIN) continue; /* on the grid, or no list */
        const uint16_t *nb = iq_neighbours(lat, u);
        lists++;
        for (int k = 0; k < N_INPUTS; ++k) {
            float x[8], w[8];
            const float scale = fill(k, lat, nb, qlev, x, w);
            int8_t ls[8], lv[8];
            memset(ls, 0x55, sizeof ls);
            memset(lv, 0x55, sizeof lv);
            const int gs = iq_best_neighbour(lat, nb, x, w, scale, qlev, ls);
            const int gv = g_fn(lat, nb, x, w, scale, qlev, lv);
            ties += k == 1 && gs == nb[1];
            if (gs != gv || memcmp(ls, lv, sizeof ls) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s lattice %d (%s) list of %d at u=%d input %d: scalar %d, %s %d\n", g_isa_name,
                            (int)id, what, nb[0], u, k, gs, g_isa_name, gv);
            }
        }
    }
    fprintf(stderr, "  %-7s lattice %d (%s): %d lists x %d inputs, %d mismatches\n", g_isa_name, (int)id, what, lists,
            N_INPUTS, bad);
    CHECK_MSG(bad == 0, "lattice %d %s", (int)id, what);
    CHECK(lists > 100);
    CHECK(ties == lists); /* all-zero weights: every list's first point */
    return lists;
}

static void test_neighbour_search_equals_scalar(void) {
    const float x_p[3] = {-1 + 0.125f, 0.125f, 1 + 0.125f}, x_m[3] = {-1 - 0.125f, -0.125f, 1 - 0.125f};
    check_lattice(QK_LATTICE_IQ2XXS, iq_odd_levels, "2l+1");
    check_lattice(QK_LATTICE_IQ2XS, iq_odd_levels, "2l+1");
    check_lattice(QK_LATTICE_IQ2S, iq_odd_levels, "2l+1");
    check_lattice(QK_LATTICE_IQ3XXS, iq_odd_levels, "2l+1");
    check_lattice(QK_LATTICE_IQ3S, iq_odd_levels, "2l+1");
    check_lattice(QK_LATTICE_IQ1S, x_p, "IQ1 +delta");
    check_lattice(QK_LATTICE_IQ1S, x_m, "IQ1 -delta");
}

/* One ctest entry per ISA: a CPU without it shows that entry Skipped. */
static void run_isa(qk_isa isa, iq_nb_fn fn) {
    if (!kc_isa_here(isa)) return;
    g_fn = fn;
    g_isa_name = qk_isa_name(isa);
    RUN(test_neighbour_search_equals_scalar);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
#if defined(__x86_64__)
    if (qk_test_part("avx2")) run_isa(QK_ISA_AVX2, qk_iq_best_neighbour_avx2);
    if (qk_test_part("avx512")) run_isa(QK_ISA_AVX512, qk_iq_best_neighbour_avx512);
    if (qk_test_part("neon")) qk_test_skip("NEON: aarch64 only");
#elif defined(__aarch64__)
    if (qk_test_part("avx2")) qk_test_skip("AVX2: x86-64 only");
    if (qk_test_part("avx512")) qk_test_skip("AVX-512: x86-64 only");
    if (qk_test_part("neon")) run_isa(QK_ISA_NEON, qk_iq_best_neighbour_neon);
#else
    (void)run_isa;
    if (qk_test_part("avx2") || qk_test_part("avx512") || qk_test_part("neon")) qk_test_skip("no SIMD variants here");
#endif
    return qk_test_summary();
}
