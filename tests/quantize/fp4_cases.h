/* fp4_cases.h - the MXFP4 / NVFP4 input rows of test_kernels_simd_fp4.c
 * (SIMD vs scalar) and test_kernels_fp4_vs_ggml.c (every kernel vs ggml):
 * the inputs the SIMD body (quantize/kernels/fp4_body.h) is built around.
 * Rows are made of chunks of 64 floats whose four runs of 16 share one
 * largest |x| (amax), so every MXFP4 block (32) and NVFP4 sub-block (16)
 * has the scale the chunk planned; values aimed at a lattice point or a
 * midpoint use that scale of one format or the other. Included by those two
 * test programs only (static functions). */
#ifndef QK_TEST_FP4_CASES_H
#define QK_TEST_FP4_CASES_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fp4_scale.h" /* the scales the kernels derive from amax, to aim at */
#include "kernel_cases.h" /* kc_ulps */
#include "qk_test.h"

enum { FP4_TIES, FP4_EXACT, FP4_NAN_INF_AT, FP4_TINY, FP4_HUGE, FP4_EQUAL_ZEROS, FP4_CASES };
static const char *k_case_names[FP4_CASES] = {"ties", "exact", "nan_inf_at", "tiny", "huge", "equal_zeros"};

/* the positive half of the doubled E2M1 lattice */
static const float k_half[8] = {0, 1, 2, 3, 4, 6, 8, 12};

/* A random magnitude spread over the binades of [lo, hi], in double (not
 * kernel_cases.h's kc_rand_mag: the FP4 rows are these values). */
static float rand_mag(qk_rng *r, float lo, float hi) {
    const double e = log(lo) + qk_rng_uniform(r) * (log(hi) - log(lo));
    const float v = (float)exp(e);
    return v < lo ? lo : v > hi ? hi : v;
}

/* the scale each format derives from amax (what the kernels multiply by) */
static float d_mxfp4(float amax) { return fp4_e8m0_half(fp4_mxfp4_e(amax)); }
static float d_nvfp4(float amax) { return fp4_ue4m3_to_f32(fp4_nvfp4_ue(amax)); }

/* A value near a midpoint between adjacent lattice points (or on one, when
 * exact) for one of the two scales of amax, a few ulps off, of either sign,
 * no larger than amax. */
static float aimed(qk_rng *r, float amax, bool exact) {
    const float d = (qk_rng_next(r) & 1) ? d_mxfp4(amax) : d_nvfp4(amax);
    const int k = (int)(qk_rng_next(r) % 7);
    float v = exact ? k_half[k + (qk_rng_next(r) & 1)] * d : (k_half[k] + k_half[k + 1]) * 0.5f * d;
    if (!exact) v = kc_ulps(v, (int)(qk_rng_next(r) % 7) - 3);
    if (!(fabsf(v) <= amax)) v = amax;
    return (qk_rng_next(r) & 1) ? v : -v;
}

/* Chunk b (64 floats at x) of case c. */
static void fill_chunk(int c, int64_t b, qk_rng *r, float *x) {
    float amax = 1.0f;
    switch (c) {
    case FP4_TIES:
    case FP4_EXACT: {
        /* powers of two and their neighbours (MXFP4's exponent steps there)
         * or any magnitude the formats hold, small and large */
        const int pick = (int)(b % 4);
        amax = pick == 0 ? kc_ulps(ldexpf(1.0f, (int)(b % 250) - 140), (int)(qk_rng_next(r) % 5) - 2)
             : pick == 1 ? rand_mag(r, 1e-3f, 3e3f)
                         : rand_mag(r, 1e-40f, 1e38f);
        if (!(amax > 0)) amax = FLT_MIN;
        for (int i = 0; i < 64; i++) x[i] = aimed(r, amax, c == FP4_EXACT);
        break;
    }
    case FP4_NAN_INF_AT: {
        amax = 10.0f;
        for (int i = 0; i < 64; i++) x[i] = (i % 3 == 0) ? aimed(r, amax, false) : qk_rng_gauss(r);
        /* quiet NaN with a payload, its negative, a signalling NaN, +-inf */
        union { uint32_t u; float f; } nan = {0x7fc00000u | (uint32_t)(qk_rng_next(r) & 0x3fffff)}, snan = {0x7f800001u};
        const float special[5] = {nan.f, -nan.f, snan.f, INFINITY, -INFINITY};
        const int pos = (int)(b % 64), kind = (int)((b / 64 + b) % 5);
        x[pos] = special[kind];
        if (b % 7 == 3) /* a whole run of 16 special, or of NaN and one inf */
            for (int i = pos & ~15; i < (pos & ~15) + 16; i++) x[i] = special[(kind + (i == pos)) % 5];
        break;
    }
    case FP4_TINY: {
        /* subnormal amax (MXFP4's exponent wraps), amax with a subnormal
         * MXFP4 scale (2^-125 .. 2^-123), FLT_MIN, and NVFP4's UE4M3
         * subnormal / zero-scale range (amax / 6 below 2^-6, and below
         * 2^-10 where the scale rounds to 0) */
        static const float amaxes[] = {1e-40f, 1.4e-45f, 3e-38f, 4e-38f, 6e-38f, 8e-38f, FLT_MIN, 0.09f, 0.04f, 0.01f, 0.00586f, 0.003f};
        amax = kc_ulps(amaxes[b % (int64_t)(sizeof amaxes / sizeof amaxes[0])], (int)(qk_rng_next(r) % 5) - 2);
        if (!(amax > 0)) amax = 1.4e-45f;
        for (int i = 0; i < 64; i++) x[i] = (i & 1) ? aimed(r, amax, false) : (qk_rng_uniform(r) * 2 - 1) * amax;
        break;
    }
    case FP4_HUGE: {
        /* NVFP4's scale saturates (amax / 6 > 448): errors round alike and
         * ties of equal errors decide; up to FLT_MAX */
        amax = (b % 3 == 0) ? FLT_MAX : rand_mag(r, 2e3f, FLT_MAX);
        for (int i = 0; i < 64; i++) {
            const float u = qk_rng_uniform(r) * 2 - 1;
            x[i] = (i % 4 == 0) ? aimed(r, amax, false) : (i % 4 == 1) ? u * 3000.0f : u * amax;
        }
        break;
    }
    case FP4_EQUAL_ZEROS: {
        const int pick = (int)(b % 4);
        const float v = pick == 1 ? rand_mag(r, 1e-20f, 1e20f) : pick == 2 ? -rand_mag(r, 1e-20f, 1e20f) : 0.0f;
        for (int i = 0; i < 64; i++) x[i] = pick == 0 || pick == 3 ? ((qk_rng_next(r) & 1) ? 0.0f : -0.0f) : v;
        if (pick == 3) x[qk_rng_next(r) % 64] = (b & 4) ? 1e-3f : -7.0f; /* one nonzero among signed zeros */
        return;
    }
    default: return;
    }
    /* amax, of either sign, in each run of 16 (never over a special value) */
    for (int s = 0; s < 4; s++) {
        int at = s * 16 + (int)(qk_rng_next(r) % 16);
        if (isnan(x[at]) || isinf(x[at])) at = s * 16 + (at + 1) % 16;
        if (!isnan(x[at]) && !isinf(x[at])) x[at] = (qk_rng_next(r) & 1) ? amax : -amax;
    }
}

/* Fills x[0..n-1] (n a multiple of 32) with case c, deterministic in seed. */
static void fill(int c, uint64_t seed, float *x, int64_t n) {
    qk_rng r = {seed * 0x9E3779B97F4A7C15ULL + (uint64_t)c + 1};
    float chunk[64];
    for (int64_t b = 0; b * 64 < n; b++) {
        fill_chunk(c, (int64_t)(seed % 1000) * 37 + b, &r, chunk);
        const int64_t m = n - b * 64 < 64 ? n - b * 64 : 64;
        memcpy(x + b * 64, chunk, sizeof(float) * (size_t)m);
    }
}

#endif
