/* The lane-wise searches of lanes_<isa>.c, each lane against its
 * scalar twin in quant_search.c, bit for bit (returned scale, the_min and
 * levels), on the kernel edge cases (ties, zeros, denormals, huge values,
 * NaN/inf) used directly as the group values AND as weights, which reaches
 * corners the whole-kernel comparison cannot (negative or NaN inputs to
 * make_qp_quants, whose uint8_t levels wrap; NaN weights). x86-64 only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_features.h"
#include "kernel_cases.h"
#include "qk_test.h"
#include "quant_inputs.h"
#include "quant_search.h"

#if defined(__x86_64__)
#include "k_quants_internal.h"
#include "lanes_x86.h"

typedef struct {
    const char *name;
    qk_isa isa;
    int width;
    void (*q2k)(const float *, const float *, float *, float *, uint8_t *);
    void (*q3k)(const float *, float *, int8_t *);
    void (*qx)(int, int, const float *, const float *, float *, int8_t *);
    void (*qp)(int, int, const float *, const float *, float *, uint8_t *);
    void (*qkx3)(int, int, const float *, const float *, float *, float *, uint8_t *);
    void (*weights32)(const float *, const float *const *, int, float *, float *);
    void (*kq_pack)(const uint8_t *, uint8_t *, uint8_t *);
    void (*q6k_pack)(const float *, const float *, int8_t *, uint8_t *);
    void (*qx2)(int, int, const float *, const float *, float *, int8_t *);
    void (*qkx3_2)(int, int, const float *, const float *, float *, float *, uint8_t *);
} lanes;

static const lanes k_lanes[] = {
    {"avx2", QK_ISA_AVX2, 8, qk_q2k_lanes_avx2, qk_q3k_lanes_avx2, qk_qx_lanes_avx2, qk_qp_lanes_avx2,
     qk_qkx3_lanes_avx2, qk_kq_imatrix_weights32_avx2, qk_kq_pack_avx2, qk_q6k_pack_avx2, qk_qx2_lanes_avx2,
     qk_qkx3_2_lanes_avx2},
    {"avx512", QK_ISA_AVX512, 16, qk_q2k_lanes_avx512, qk_q3k_lanes_avx512, qk_qx_lanes_avx512,
     qk_qp_lanes_avx512, qk_qkx3_lanes_avx512, qk_kq_imatrix_weights32_avx512, qk_kq_pack_avx512,
     qk_q6k_pack_avx512, qk_qx2_lanes_avx512, qk_qkx3_2_lanes_avx512},
};

/* the ISA of this run's part (see main) */
static qk_isa g_isa;

static int same_f(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* n floats equal bit for bit, or both NaN. Where two NaNs meet (a NaN
 * weight times a NaN value, a sum of NaNs of both signs), IEEE 754 leaves
 * open which one comes out, and the compiler picks the operand order of a
 * commutative vector or scalar op freely: the sign and payload of such a
 * NaN follow the register allocation (and the C library: scalar sqrtf of a
 * NaN goes through libm's errno path), in the scalar code and in ggml
 * alike. Used only for the weights and for the two-set qx search's scale,
 * whose NaN sign never reaches Q6_K's bytes (|scale| comparisons, and
 * nearest_int keeps only mantissa bits); the levels stay bit for bit, and
 * the whole-kernel tests check the bytes on NaN inputs against the scalar
 * code and ggml. */
static int same_or_nan(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (!same_f(a[i], b[i]) && !(isnan(a[i]) && isnan(b[i]))) return 0;
    return 1;
}


/* one input set: W groups of 16 values x and weights w */
static int check_set(const lanes *ln, const float *x, const float *w, const char *what) {
    const int W = ln->width;
    int bad = 0;
    float s[16], m[16], rs, rm;
    uint8_t L[512], Lr[32], Laux[32];
    int8_t L8[512], Lr8[32];
    float absx[16];
#define FAIL(fn, k)                                                         \
    do {                                                                    \
        bad++;                                                              \
        CHECK_MSG(0, "%s %s %s group %d", ln->name, fn, what, k);           \
    } while (0)
    /* Q2_K without imatrix: make_qkx2_quants(16, 3, x, |x|, ...) */
    ln->q2k(x, NULL, s, m, L);
    for (int k = 0; k < W; k++) {
        for (int i = 0; i < 16; i++) absx[i] = fabsf(x[16 * k + i]);
        rs = qk_make_qkx2_quants(16, 3, x + 16 * k, absx, Lr, &rm, Laux, -0.5f, 0.1f, 15, true);
        if (!same_f(s[k], rs) || !same_f(m[k], rm) || memcmp(L + 16 * k, Lr, 16)) FAIL("qkx2", k);
    }
    /* Q2_K with imatrix: make_qkx3_quants(16, 3, x, w, ...) */
    ln->q2k(x, w, s, m, L);
    for (int k = 0; k < W; k++) {
        rs = qk_make_qkx3_quants(16, 3, x + 16 * k, w + 16 * k, Lr, &rm, Laux, -0.9f, 0.05f, 36, false);
        if (!same_f(s[k], rs) || !same_f(m[k], rm) || memcmp(L + 16 * k, Lr, 16)) FAIL("qkx3", k);
    }
    ln->q3k(x, s, L8);
    for (int k = 0; k < W; k++) {
        rs = qk_make_q3_quants(16, 4, x + 16 * k, Lr8, true);
        if (!same_f(s[k], rs) || memcmp(L8 + 16 * k, Lr8, 16)) FAIL("q3", k);
    }
    /* the n-generic searches, at every (n, nmax) a quantizer uses them with */
    static const int qx_cases[][2] = {{16, 4}, {16, 32}, {32, 8}, {32, 16}};
    for (size_t ci = 0; ci < sizeof qx_cases / sizeof qx_cases[0]; ci++) {
        const int n = qx_cases[ci][0], nmax = qx_cases[ci][1];
        for (int wi = 0; wi < 2; wi++) {
            const float *ww = wi ? w : NULL;
            ln->qx(n, nmax, x, ww, s, L8);
            for (int k = 0; k < W; k++) {
                rs = qk_make_qx_quants(n, nmax, x + n * k, Lr8, 1, ww ? ww + n * k : NULL);
                if (!same_f(s[k], rs) || memcmp(L8 + n * k, Lr8, (size_t)n)) FAIL("qx", k);
            }
            /* the two-set variant on 2 W groups, where the 512 values hold them */
            if (2 * W * n > 512) continue;
            float s2[32];
            ln->qx2(n, nmax, x, ww, s2, L8);
            for (int k = 0; k < 2 * W; k++) {
                rs = qk_make_qx_quants(n, nmax, x + n * k, Lr8, 1, ww ? ww + n * k : NULL);
                if (!same_or_nan(&s2[k], &rs, 1) || memcmp(L8 + n * k, Lr8, (size_t)n)) FAIL("qx2", k);
            }
        }
    }
    static const int qkx3_cases[][2] = {{16, 3}, {32, 15}, {32, 31}};
    for (size_t ci = 0; ci < sizeof qkx3_cases / sizeof qkx3_cases[0]; ci++) {
        const int n = qkx3_cases[ci][0], nmax = qkx3_cases[ci][1];
        ln->qkx3(n, nmax, x, w, s, m, L);
        for (int k = 0; k < W; k++) {
            rs = qk_make_qkx3_quants(n, nmax, x + n * k, w + n * k, Lr, &rm, Laux, -0.9f, 0.05f, 36, false);
            if (!same_f(s[k], rs) || !same_f(m[k], rm) || memcmp(L + n * k, Lr, (size_t)n)) FAIL("qkx3/n", k);
        }
        /* the two-set variant on 2 W groups, where the 512 values hold them */
        if (2 * W * n > 512) continue;
        float s2[32], m2[32];
        ln->qkx3_2(n, nmax, x, w, s2, m2, L);
        for (int k = 0; k < 2 * W; k++) {
            rs = qk_make_qkx3_quants(n, nmax, x + n * k, w + n * k, Lr, &rm, Laux, -0.9f, 0.05f, 36, false);
            if (!same_f(s2[k], rs) || !same_f(m2[k], rm) || memcmp(L + n * k, Lr, (size_t)n)) FAIL("qkx3_2", k);
        }
    }
    static const int qp_cases[][2] = {{8, 63}, {16, 15}};
    for (size_t ci = 0; ci < sizeof qp_cases / sizeof qp_cases[0]; ci++) {
        const int n = qp_cases[ci][0], nmax = qp_cases[ci][1];
        ln->qp(n, nmax, x, w, s, L);
        for (int k = 0; k < W; k++) {
            rs = qk_make_qp_quants(n, nmax, x + n * k, Lr, w + n * k);
            if (!same_f(s[k], rs) || memcmp(L + n * k, Lr, (size_t)n)) FAIL("qp", k);
        }
    }
#undef FAIL
    return bad;
}

static void test_lanes_equal_scalar(void) {
    int compared = 0;
    for (size_t li = 0; li < sizeof k_lanes / sizeof k_lanes[0]; li++) {
        const lanes *ln = &k_lanes[li];
        if (ln->isa != g_isa) continue;
        int bad = 0;
        float x[512], w[512], pos[512]; /* W groups of up to 32 */
        for (int c = 0; c < kc_count(); c++) {
            for (uint64_t seed = 1; seed <= 4; seed++) {
                kc_fill(c, seed, x, 512);
                qk_quant_imatrix(seed, pos, 512);
                bad += check_set(ln, x, pos, kc_name(c));
                /* the case values as weights too (negative, zero, NaN weights) */
                kc_fill(c, seed + 100, w, 512);
                bad += check_set(ln, x, w, kc_name(c));
                /* non-negative values (the scales/mins make_qp_quants usually sees) */
                for (int i = 0; i < 512; i++) w[i] = fabsf(x[i]);
                bad += check_set(ln, w, pos, kc_name(c));
                compared += 3;
            }
        }
        fprintf(stderr, "  %-7s %s\n", ln->name, bad ? "MISMATCH" : "ok");
    }
    fprintf(stderr, "  %d input sets compared per ISA\n", compared);
    CHECK(compared > 0);
}
/* The Q4_K/Q5_K/Q6_K helpers against their scalar twins: the two-set
 * searches on 2 W groups (at every ISA's width), the imatrix weights
 * of 1..W super-blocks (case values as x and as imatrix), the Q4_K/Q5_K
 * packing of levels 0..nmax, and Q6_K's requantization (scales from the
 * case values: zeros, NaN, inf, denormals) and packing. */
static void test_kq_helpers_equal_scalar(void) {
    enum { NX = 16 * 256 };
    float *x = malloc(sizeof(float) * NX), *qwv = malloc(sizeof(float) * NX);
    float *w = malloc(sizeof(float) * NX), *wr = malloc(sizeof(float) * NX);
    CHECK(x && qwv && w && wr);
    if (!x || !qwv || !w || !wr) return;
    for (size_t li = 0; li < sizeof k_lanes / sizeof k_lanes[0]; li++) {
        const lanes *ln = &k_lanes[li];
        if (ln->isa != g_isa) continue;
        int bad = 0;
        for (int c = 0; c < kc_count(); c++) {
            for (uint64_t seed = 1; seed <= 3; seed++) {
                kc_fill(c, seed, x, NX);
                if (seed == 3) kc_fill(c, seed + 50, qwv, NX); /* odd imatrix values too */
                else qk_quant_imatrix(seed, qwv, NX);
                /* weights: nsb = 1 .. W super-blocks, each with its own imatrix row */
                for (int nsb = 1; nsb <= ln->width; nsb += (nsb < 3 ? 1 : ln->width - 3)) {
                    const float *qw[16];
                    float sw[16 * 8], swr[8];
                    for (int s = 0; s < nsb; s++) qw[s] = qwv + 256 * ((s * 5 + (int)seed) % 16);
                    ln->weights32(x, qw, nsb, w, sw);
                    for (int s = 0; s < nsb; s++) {
                        qk_kq_imatrix_weights32_ref(x + 256 * s, qw[s], wr + 256 * s, swr);
                        if (!same_or_nan(w + 256 * s, wr + 256 * s, 256) || !same_or_nan(sw + 8 * s, swr, 8)) {
                            bad++;
                            CHECK_MSG(0, "%s weights32 %s nsb %d block %d", ln->name, kc_name(c), nsb, s);
                        }
                    }
                }
                /* the two-set searches at the quantizers' (n, nmax), all widths */
                static const int kx[][2] = {{32, 15}, {32, 31}, {16, 3}};
                for (size_t ci = 0; ci < sizeof kx / sizeof kx[0]; ci++) {
                    const int n = kx[ci][0], nmax = kx[ci][1];
                    float s2[32], m2[32], rs, rm;
                    uint8_t L2[32 * 32], Lr[32], Laux[32];
                    ln->qkx3_2(n, nmax, x, qwv, s2, m2, L2);
                    for (int k = 0; k < 2 * ln->width; k++) {
                        rs = qk_make_qkx3_quants(n, nmax, x + n * k, qwv + n * k, Lr, &rm, Laux, -0.9f, 0.05f, 36,
                                                 false);
                        if (!same_f(s2[k], rs) || !same_f(m2[k], rm) || memcmp(L2 + n * k, Lr, (size_t)n)) {
                            bad++;
                            CHECK_MSG(0, "%s qkx3_2 n %d nmax %d %s group %d", ln->name, n, nmax, kc_name(c), k);
                        }
                    }
                }
                for (int wi = 0; wi < 2; wi++) {
                    const float *ww = wi ? qwv : NULL;
                    float s2[32], rs;
                    int8_t L2[32 * 16], Lr[16];
                    ln->qx2(16, 32, x, ww, s2, L2);
                    for (int k = 0; k < 2 * ln->width; k++) {
                        rs = qk_make_qx_quants(16, 32, x + 16 * k, Lr, 1, ww ? ww + 16 * k : NULL);
                        if (!same_or_nan(&s2[k], &rs, 1) || memcmp(L2 + 16 * k, Lr, 16)) {
                            bad++;
                            CHECK_MSG(0, "%s qx2 %s group %d", ln->name, kc_name(c), k);
                        }
                    }
                }
                /* Q6_K requantization + packing: d from the case values */
                float d[16];
                int8_t L[256], Lr[256];
                uint8_t y[192], yr[192];
                for (int j = 0; j < 16; j++) d[j] = (j % 5 == 0) ? 0.f : x[NX - 1 - 7 * j];
                for (int i = 0; i < 256; i++) L[i] = Lr[i] = (int8_t)((i * 37 + (int)seed * 11) % 64);
                ln->q6k_pack(x + 256 * (int)seed, d, L, y);
                qk_q6k_pack_ref(x + 256 * (int)seed, d, Lr, yr);
                if (memcmp(L, Lr, sizeof L) || memcmp(y, yr, sizeof y)) {
                    bad++;
                    CHECK_MSG(0, "%s q6k_pack %s seed %d", ln->name, kc_name(c), (int)seed);
                }
            }
        }
        /* Q4_K / Q5_K packing of levels 0..nmax */
        for (int nmax = 15; nmax <= 31; nmax += 16) {
            for (uint32_t seed = 1; seed <= 20; seed++) {
                uint8_t L[256], qs[128], qsr[128], qh[32], qhr[32];
                uint32_t r = seed * 2654435761u;
                for (int i = 0; i < 256; i++) {
                    r = r * 1664525u + 1013904223u;
                    L[i] = (uint8_t)((r >> 16) % (uint32_t)(nmax + 1));
                    if (seed == 1) L[i] = (uint8_t)(i % 2 ? nmax : 0); /* the extremes */
                }
                uint8_t *h = nmax == 15 ? NULL : qh, *hr = nmax == 15 ? NULL : qhr;
                memset(qh, 0xAA, sizeof qh), memset(qhr, 0xAA, sizeof qhr);
                ln->kq_pack(L, h, qs);
                qk_kq_pack_ref(L, hr, qsr);
                if (memcmp(qs, qsr, sizeof qs) || memcmp(qh, qhr, sizeof qh)) {
                    bad++;
                    CHECK_MSG(0, "%s kq_pack nmax %d seed %u", ln->name, nmax, seed);
                }
            }
        }
        fprintf(stderr, "  %-7s Q4_K/Q5_K/Q6_K helpers %s\n", ln->name, bad ? "MISMATCH" : "ok");
    }
    free(x), free(qwv), free(w), free(wr);
}
#endif

#if defined(__x86_64__)
/* One ctest entry per ISA: a CPU without it shows that entry Skipped. */
static void run_isa(qk_isa isa) {
    if (!kc_isa_here(isa)) return;
    g_isa = isa;
    RUN(test_lanes_equal_scalar);
    RUN(test_kq_helpers_equal_scalar);
}
#endif

int main(int argc, char **argv) {
#if defined(__x86_64__)
    qk_test_init(argc, argv);
    if (qk_test_part("avx2")) run_isa(QK_ISA_AVX2);
    if (qk_test_part("avx512")) run_isa(QK_ISA_AVX512);
    return qk_test_summary();
#else
    (void)argc, (void)argv;
    /* ctest's SKIP_RETURN_CODE: reported as skipped, never as a pass */
    fprintf(stderr, "x86-64 lane searches only: skipped on this architecture\n");
    return 77;
#endif
}
