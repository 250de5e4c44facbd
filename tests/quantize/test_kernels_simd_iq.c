/* The SIMD searches of the IQ1/IQ2/IQ3 quantizers (qk_iq_ops_<isa>):
 * - IQ1_S's split search (iq_scan_body.h) against iq1_split_scan, and
 *   make_qp_quants in lanes against qk_make_qp_quants;
 * - the scale scans of IQ2/IQ3 (iq_scan_body.h) against their scalar twin
 *   iq_scan_scale, in each type's configuration: the same scale bits and
 *   levels on random sub-blocks and on the inputs that stress the lanes
 *   (candidate scales tying, no candidate accepted so the incoming levels
 *   stay, NaN/inf x or weights, overflow, subnormals, zero and negative
 *   references, every group off the grid);
 * - the neighbour searches (qk_iq_best_neighbour_<isa>: x86/iq_search_body.h,
 *   arm/iq_search_neon.c) against their scalar twin iq_best_neighbour
 *   (iq_search.h): the same grid
 * point and levels, on EVERY neighbour list of every lattice, with inputs
 * the whole-kernel comparisons rarely reach: exact ties between neighbours
 * in different lanes and in the same lane (zero or constant weights, x on
 * a grid point), NaN and infinite x or weights (no finite d2: the first
 * neighbour), huge values whose d2 overflows, subnormals, signed zeros,
 * scale 0 and negative scales, and both kinds of level values (IQ2/IQ3's
 * 2l+1, IQ1's shifted levels). Whole kernels: test_kernels_simd_legacy
 * (variant == scalar, every type) and test_kernels_iq_grid (== ggml, every
 * ISA). Runs on any architecture (under qemu-aarch64 it checks NEON).
 * Part "sort" and each ISA's part: IQ1's pair sort (iq_sort.h, as the
 * scalar rows and as that ISA's ops have it) against glibc's qsort. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_features.h"
#include "iq_search.h"
#include "iq_sort.h"
#include "kernel_cases.h"
#include "qk_test.h"

static qk_isa g_isa; /* the part's ISA (KC_RUN_ISA_PARTS sets it) */

/* g_isa's searches (only ISAs this CPU has run: kc_run_isa_parts) */
static const iq_ops *isa_ops(void) {
#if defined(__x86_64__)
    if (g_isa == QK_ISA_AVX2) return &qk_iq_ops_avx2;
    if (g_isa == QK_ISA_AVX512) return &qk_iq_ops_avx512;
#elif defined(__aarch64__)
    if (g_isa == QK_ISA_NEON) return &qk_iq_ops_neon;
#endif
    abort(); /* no such variant compiled here: the ISA cannot be available */
}

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
            const int gv = isa_ops()->nb(lat, nb, x, w, scale, qlev, lv);
            ties += k == 1 && gs == nb[1];
            if (gs != gv || memcmp(ls, lv, sizeof ls) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s lattice %d (%s) list of %d at u=%d input %d: scalar %d, %s %d\n",
                            qk_isa_name(g_isa), (int)id, what, nb[0], u, k, gs, qk_isa_name(g_isa), gv);
            }
        }
    }
    fprintf(stderr, "  %-7s lattice %d (%s): %d lists x %d inputs, %d mismatches\n", qk_isa_name(g_isa), (int)id, what,
            lists, N_INPUTS, bad);
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

enum { N_SCAN_INPUTS = 18, N_SCAN_RANDOM = 3000 };

/* Scan input kind k (k >= N_SCAN_INPUTS: random) for a sub-block of n:
 * xval, weight (waux = sqrt(weight), as the rows), and the reference the
 * candidate scales divide by. */
static float fill_scan(int k, int n, float *x, float *w, float *waux) {
    float ref = 0;
    for (int i = 0; i < n; ++i) {
        x[i] = rnd() + 1.f; /* |x|, as the rows pass them */
        w[i] = rnd() + 1.f;
    }
    switch (k) {
    case 0: for (int i = 0; i < n; ++i) w[i] = 0; break; /* sumq2 0: nothing accepted, L stays */
    case 1: for (int i = 0; i < n; ++i) x[i] = 1.f, w[i] = 1.f; break; /* scales tie */
    case 2: for (int i = 0; i < n; ++i) x[i] = (float)(1 + 2 * (i % 3)); break; /* on lattice levels */
    case 3: x[n / 2] = NAN; break;
    case 4: w[1] = NAN; break;
    case 5: x[n - 1] = INFINITY; break;
    case 6: w[0] = INFINITY; break;
    case 7: for (int i = 0; i < n; ++i) x[i] *= 1e19f, w[i] *= 1e19f; break; /* sums overflow */
    case 8: for (int i = 0; i < n; ++i) x[i] *= 1e-40f; break; /* subnormal */
    case 9: ref = -1.f; break;
    case 10: ref = 0.f; break; /* every id infinite */
    case 11: ref = -0.f; break;
    case 12: for (int i = 0; i < n; ++i) x[i] = (i % 8 == 3) ? -x[i] : x[i]; break; /* iq_signs_even's flip */
    case 13: for (int i = 0; i < n; ++i) x[i] = (i & 1) ? 15.f : 0.01f; break; /* far apart: off the grid */
    case 14: for (int i = 0; i < n; ++i) x[i] = 0; break;
    case 15: for (int i = 0; i < n; ++i) x[i] = (float)(i % 16) * 0.2f, w[i] = (i % 5) ? 1.f : 0.f; break;
    case 16: ref = 0.5f; break; /* below the max (IQ2_XXS's ref): levels clamp at the top */
    case 17: for (int i = 0; i < n; ++i) w[i] = (i % 4 == 0) ? 1.f : 0.f; break; /* neighbours tie */
    }

    for (int i = 0; i < n; ++i) waux[i] = sqrtf(w[i]);
    /* search weights mostly zero (the contract does not tie them to the
     * sums' weights): neighbours tie at every scale, and which one wins
     * shows in the sums, so in the scale chosen */
    if (k >= N_SCAN_INPUTS && k % 2 == 1)
        for (int i = 0; i < n; ++i) waux[i] = rnd() > 0.3f ? 1.f : 0.f;
    if (k == 9 || k == 10 || k == 11 || k == 16) return ref;
    float max = 0;
    for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
    return k >= N_SCAN_INPUTS && k % 4 == 0 ? 0.7f * max : max; /* a quarter like IQ2_XXS: below the max */
}

/* The scan of lattice id with configuration sc (the type's, in its row):
 * the ISA's == the scalar's on every input. */
static void check_scan(qk_lattice_id id, iq_scan sc, const char *type) {
    const qk_lattice *lat = qk_lattice_get(id);
    CHECK(lat != NULL);
    if (!lat) return;
    int bad = 0, accepted = 0;
    for (int k = 0; k < N_SCAN_INPUTS + N_SCAN_RANDOM; ++k) {
        float x[32], w[32], waux[32];
        const float ref = fill_scan(k, sc.n, x, w, waux);
        const float start = ref / (2 * sc.kmaxq - 1);
        int8_t ls[32], lv[32];
        for (int i = 0; i < 32; ++i) ls[i] = lv[i] = (int8_t)(i % sc.kmaxq); /* incoming: kept if none accepted */
        sc.nbf = iq_best_neighbour;
        const float ss = iq_scan_scale(lat, &sc, ref, start, x, w, waux, ls);
        sc.nbf = isa_ops()->nb;
        const float sv = isa_ops()->scan(lat, &sc, ref, start, x, w, waux, lv);
        accepted += memcmp(&ss, &start, sizeof ss) != 0;
        if (memcmp(&ss, &sv, sizeof ss) != 0 || memcmp(ls, lv, sizeof ls) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "  %s %s scan input %d: scalar %.9g, %s %.9g\n", qk_isa_name(g_isa), type, k,
                        (double)ss, qk_isa_name(g_isa), (double)sv);
        }
    }
    fprintf(stderr, "  %-7s %-7s scan: %d inputs, %d mismatches\n", qk_isa_name(g_isa), type,
            N_SCAN_INPUTS + N_SCAN_RANDOM, bad);
    CHECK_MSG(bad == 0, "%s scan", type);
    CHECK(accepted > N_SCAN_RANDOM / 2); /* the candidates really compete */
}

/* The configurations of iq2.c / iq3.c's rows. */
static void test_scale_scan_equals_scalar(void) {
    check_scan(QK_LATTICE_IQ2XXS, (iq_scan){32, 3, -6, 6, 0.1f, IQ_REFINE_ALWAYS, NULL}, "IQ2_XXS");
    check_scan(QK_LATTICE_IQ2XS, (iq_scan){16, 3, -9, 9, 0.1f, IQ_REFINE_OFFGRID, NULL}, "IQ2_XS");
    check_scan(QK_LATTICE_IQ2S, (iq_scan){16, 3, -9, 9, 0.1f, IQ_REFINE_OFFGRID, NULL}, "IQ2_S");
    check_scan(QK_LATTICE_IQ3XXS, (iq_scan){32, 8, -15, 15, 0.2f, IQ_REFINE_OFFGRID, NULL}, "IQ3_XXS");
    check_scan(QK_LATTICE_IQ3S, (iq_scan){32, 8, -9, 9, 0.2f, IQ_REFINE_ALL_IF_OFFGRID, NULL}, "IQ3_S");
}

/* IQ1_S's split search: the ISA's == iq1_split_scan (shift, split, scale
 * bits) on prefix sums of sorted random sub-blocks and on ties (constant or
 * coarse x: many splits score alike, also at the top), all-zero and negative weights (nothing or
 * little accepted), NaN and infinite sums, huge and subnormal values. */
static void test_iq1_split_equals_scalar(void) {
    const float d = 0.125f; /* IQ1_DELTA */
    const float x_p[3] = {-1 + d, d, 1 + d}, x_m[3] = {-1 - d, -d, 1 - d};
    int bad = 0, accepted = 0;
    const int n_kinds = 8, n_random = 3000;
    for (int k = 0; k < n_kinds + n_random; ++k) {
        float x[32], w[32], sumx[33], sumw[33];
        for (int i = 0; i < 32; ++i) {
            x[i] = rnd();
            w[i] = rnd() + 1.f;
        }
        switch (k) {
        case 0: for (int i = 0; i < 32; ++i) x[i] = 0.5f; break;
        case 1: for (int i = 0; i < 32; ++i) w[i] = 0; break;
        case 2: for (int i = 0; i < 32; ++i) w[i] = -w[i]; break;
        case 3: x[7] = NAN; break;
        case 4: w[20] = INFINITY; break;
        case 5: for (int i = 0; i < 32; ++i) x[i] *= 1e30f, w[i] *= 1e10f; break;
        case 6: for (int i = 0; i < 32; ++i) x[i] *= 1e-40f; break;
        case 7: for (int i = 0; i < 32; ++i) x[i] = (float)(i / 8) - 1.5f, w[i] = 1.f; break;
        }
        if (k >= n_kinds && k % 3 == 0) /* coarse values and weights: scores tie near the top */
            for (int i = 0; i < 32; ++i) x[i] = (float)(int)(x[i] * 4) * 0.25f, w[i] = k % 2 ? 1.f : w[i];
        for (int i = 1; i < 32; ++i) /* sorted by x, as the row does */
            for (int j = i; j > 0 && x[j] < x[j - 1]; --j) {
                float t = x[j]; x[j] = x[j - 1]; x[j - 1] = t;
                t = w[j]; w[j] = w[j - 1]; w[j - 1] = t;
            }
        sumx[0] = sumw[0] = 0;
        for (int j = 0; j < 32; ++j) {
            sumx[j + 1] = sumx[j] + w[j] * x[j];
            sumw[j + 1] = sumw[j] + w[j];
        }
        float ss = 1.f, sv = 1.f;
        int s1 = -1, s2 = -1, v1 = -1, v2 = -1;
        const int hs = iq1_split_scan(sumx, sumw, x_p, x_m, &ss, &s1, &s2);
        const int hv = isa_ops()->split(sumx, sumw, x_p, x_m, &sv, &v1, &v2);
        accepted += hs != 0;
        if (hs != hv || s1 != v1 || s2 != v2 || memcmp(&ss, &sv, sizeof ss) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "  %s IQ1_S split input %d: scalar %d (%d,%d) %.9g, %s %d (%d,%d) %.9g\n",
                        qk_isa_name(g_isa), k, hs, s1, s2, (double)ss, qk_isa_name(g_isa), hv, v1, v2, (double)sv);
        }
    }
    fprintf(stderr, "  %-7s IQ1_S split: %d inputs, %d mismatches\n", qk_isa_name(g_isa), n_kinds + n_random, bad);
    CHECK(bad == 0);
    CHECK(accepted > n_random / 2);
}

/* make_qp_quants (IQ2_XXS's start): the ISA's == qk_make_qp_quants (scale
 * bits and levels) for n/nmax 32/4 (IQ2_XXS), 16/15 and 8/63, on random
 * values and on candidate errors tying (constant x, zero weights), a
 * negative x (the sign IQ2_XXS keeps flipped), all below QK_GROUP_MAX_EPS,
 * NaN/inf, huge and subnormal values; and qpn (IQ_QPN sub-blocks at once)
 * on each input with the IQ_QPN - 1 before it, in every rotation. */
static void test_make_qp_equals_scalar(void) {
    const int shapes[3][2] = {{32, 4}, {16, 15}, {8, 63}};
    int bad = 0;
    const int n_kinds = 9, n_random = 2000;
    for (int sh = 0; sh < 3; ++sh) {
        const int n = shapes[sh][0], nmax = shapes[sh][1];
        /* the last IQ_QPN inputs, their scalar levels and results */
        float hx[IQ_QPN][32], hw[IQ_QPN][32], hss[IQ_QPN];
        uint8_t hls[IQ_QPN][32];
        for (int k = 0; k < n_kinds + n_random; ++k) {
            float x[32] = {0}, w[32] = {0};
            for (int i = 0; i < n; ++i) {
                x[i] = rnd() + 1.f;
                w[i] = rnd() + 1.f;
            }
            switch (k) {
            case 0: for (int i = 0; i < n; ++i) x[i] = 0.75f; break;
            case 1: for (int i = 0; i < n; ++i) w[i] = 0; break;
            case 2: x[3] = -x[3]; break;
            case 3: for (int i = 0; i < n; ++i) x[i] *= 1e-16f; break;
            case 4: x[5] = NAN; break;
            case 5: x[n - 1] = INFINITY; break;
            case 6: w[2] = INFINITY; break;
            case 7: for (int i = 0; i < n; ++i) x[i] *= 1e30f, w[i] *= 1e20f; break;
            case 8: for (int i = 0; i < n; ++i) x[i] *= 1e-39f; break;
            }
            if (k >= n_kinds && k % 3 == 0) /* coarse values: candidates tie */
                for (int i = 0; i < n; ++i) x[i] = (float)(int)(x[i] * 4) * 0.25f;
            uint8_t ls[32], lv[32];
            memset(ls, 0xAA, sizeof ls);
            memset(lv, 0xAA, sizeof lv);
            const float ss = qk_make_qp_quants(n, nmax, x, ls, w);
            const float sv = isa_ops()->qp(n, nmax, x, lv, w);
            if (memcmp(&ss, &sv, sizeof ss) != 0 || memcmp(ls, lv, sizeof ls) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s make_qp %d/%d input %d: scalar %.9g, %s %.9g\n", qk_isa_name(g_isa), n, nmax,
                            k, (double)ss, qk_isa_name(g_isa), (double)sv);
            }
            /* qpn: this input with the IQ_QPN - 1 before it, in every rotation */
            memcpy(hx[k % IQ_QPN], x, sizeof x);
            memcpy(hw[k % IQ_QPN], w, sizeof w);
            memcpy(hls[k % IQ_QPN], ls, sizeof ls);
            hss[k % IQ_QPN] = ss;
            for (int rot = 0; k >= IQ_QPN - 1 && rot < IQ_QPN; ++rot) {
                uint8_t ln[IQ_QPN][32];
                memset(ln, 0xAA, sizeof ln);
                const float *xs[IQ_QPN], *ws[IQ_QPN];
                uint8_t *lp[IQ_QPN];
                int from[IQ_QPN];
                for (int j = 0; j < IQ_QPN; ++j) {
                    from[j] = (k - (j + rot) % IQ_QPN) % IQ_QPN;
                    xs[j] = hx[from[j]];
                    ws[j] = hw[from[j]];
                    lp[j] = ln[j];
                }
                float out[IQ_QPN];
                isa_ops()->qpn(n, nmax, xs, lp, ws, out);
                for (int j = 0; j < IQ_QPN; ++j)
                    if (memcmp(&hss[from[j]], &out[j], sizeof out[j]) != 0 || memcmp(hls[from[j]], ln[j], 32) != 0) {
                        if (bad++ < 5)
                            fprintf(stderr, "  %s make_qpn %d/%d input %d rotation %d slot %d: scalar %.9g, %s %.9g\n",
                                    qk_isa_name(g_isa), n, nmax, k, rot, j, (double)hss[from[j]], qk_isa_name(g_isa),
                                    (double)out[j]);
                    }
            }
        }
    }
    fprintf(stderr, "  %-7s make_qp (and qpn groups): 3 x %d inputs, %d mismatches\n", qk_isa_name(g_isa),
            n_kinds + n_random, bad);
    CHECK(bad == 0);
}

/* ---- iq_sort.h against the C library's qsort ----------------------------- */

/* ggml's iq1_sort_helper. */
static int ggml_pair_cmp(const void *left, const void *right) {
    const float *l = left, *r = right;
    return *l < *r ? -1 : *l > *r ? 1 : 0;
}

/* Value kind k for element j: random, few distinct values (ties), signed
 * zeros, infinities, NaN here and there or everywhere, and mixes. */
static float sort_value(int k, int j) {
    const float r = rnd();
    switch (k) {
    case 0: return r;
    case 1: return (float)((int)(4 * r)); /* -3..3: many ties */
    case 2: return r < 0 ? -0.f : 0.f;
    case 3: return r < -0.5f ? -INFINITY : r < 0 ? INFINITY : r < 0.5f ? 0.f : r;
    case 4: return r < -0.8f ? NAN : r;
    case 5: return r < 0.6f ? NAN : (float)((int)(3 * r));
    case 6: return j % 7 == 3 ? NAN : r < -0.5f ? -0.f : r < 0 ? 0.f : r < 0.5f ? INFINITY : (float)((int)(2 * r));
    case 7: return r < 0 ? -NAN : NAN;
    default: return r < -0.9f ? NAN : r < -0.7f ? -INFINITY : r < -0.5f ? -0.f : r < -0.3f ? 0.f : r;
    }
}

static bool same_pairs(const iq_pair *a, const iq_pair *b, int n) {
    for (int j = 0; j < n; ++j) {
        uint32_t ua, ub;
        memcpy(&ua, &a[j].x, 4), memcpy(&ub, &b[j].x, 4);
        if (ua != ub || a[j].i != b[j].i) return false;
    }
    return true;
}

/* sort (all its paths: ranks without ties or NaN, ranks with ties, merges
 * with NaN) and the merges
 * alone give glibc's qsort order of ggml's pairs, element for element, on
 * every kind of input, for IQ1_S's 32 and IQ1_M's 16 and the other sizes the
 * merges' odd splits reach. Only glibc is the reference (ggml's order is its
 * C library's; musl's qsort is another algorithm). */
static void check_sort_equals_glibc_qsort(iq_sort_fn sort) {
#if !defined(__GLIBC__)
    (void)sort;
    qk_test_skip("the reference order is glibc's qsort");
#else
    int bad = 0, cases = 0, with_nan = 0;
    for (int n = 1; n <= IQ_SORT_MAX; ++n) {
        const int reps = n == 16 || n == 32 ? 2000 : 100;
        for (int rep = 0; rep < reps; ++rep) {
            const int k = rep % 9;
            float xb[IQ_SORT_MAX];
            iq_pair want[IQ_SORT_MAX], got[IQ_SORT_MAX], merged[IQ_SORT_MAX], tmp[IQ_SORT_MAX];
            bool nan = false;
            for (int j = 0; j < n; ++j) {
                xb[j] = sort_value(k, j);
                nan |= isnan(xb[j]);
                want[j] = merged[j] = (iq_pair){xb[j], j};
            }
            qsort(want, (size_t)n, sizeof want[0], ggml_pair_cmp);
            sort(xb, n, got);
            iq_merge_sort(merged, n, tmp);
            if (!same_pairs(want, got, n) || !same_pairs(want, merged, n)) {
                if (bad++ < 5) fprintf(stderr, "n %d kind %d rep %d: order differs from qsort\n", n, k, rep);
            }
            cases++;
            with_nan += nan;
        }
    }
    CHECK_MSG(bad == 0, "%d of %d orders differ", bad, cases);
    CHECK(with_nan > cases / 5); /* the NaN orders really are exercised */
#endif
}

/* iq_sort.h's sort as compiled here (the scalar rows' iq_ops_scalar.sort),
 * and as compiled for the part's ISA (its ops->sort). */
static void test_iq_sort_equals_glibc_qsort(void) { check_sort_equals_glibc_qsort(iq_ops_scalar.sort); }
static void test_isa_sort_equals_glibc_qsort(void) { check_sort_equals_glibc_qsort(isa_ops()->sort); }

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN_PART("sort", test_iq_sort_equals_glibc_qsort);
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_scale_scan_equals_scalar), KC_TEST(test_iq1_split_equals_scalar),
                     KC_TEST(test_make_qp_equals_scalar), KC_TEST(test_neighbour_search_equals_scalar),
                     KC_TEST(test_isa_sort_equals_glibc_qsort));
    return qk_test_summary();
}
