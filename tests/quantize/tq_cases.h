/* tq_cases.h - the TQ1_0 / TQ2_0 input rows of test_kernels_simd_tq.c (SIMD
 * vs scalar) and test_kernels_tq_vs_ggml.c (every kernel vs ggml): the
 * inputs the SIMD fast path (quantize/kernels/tq_body.h) is built around.
 * Included by those two test programs only (static functions). */
#ifndef QK_TEST_TQ_CASES_H
#define QK_TEST_TQ_CASES_H

#include <float.h>
#include <math.h>
#include <stdint.h>

#include "kernel_cases.h" /* kc_ulps, kc_rand_mag, kc_tiny_amax */
#include "qk_test.h"

enum { TQ_TIES, TQ_PATTERNS, TQ_NAN_INF_AT, TQ_TINY, TQ_HUGE, TQ_EQUAL_ZEROS, TQ_CASES };
static const char *k_case_names[TQ_CASES] = {"ties", "patterns", "nan_inf_at", "tiny", "huge", "equal_zeros"};

/* the kernel's 1/amax, computed the same way */
static float inv(float amax) { return amax ? 1.0f / amax : 0.0f; }

/* Block b (256 floats at x) of case c. */
static void fill_block(int c, int64_t b, qk_rng *r, float *x) {
    switch (c) {
    case TQ_TIES: {
        /* amax first (its sign varies), then values whose x * id is +-0.5
         * after rounding, and their neighbours */
        const float amax = (b % 5 == 0) ? ldexpf(1.0f, (int)(b % 40) - 20) : kc_rand_mag(r, 1e-30f, 1e30f);
        const float id = inv(amax);
        for (int i = 0; i < 256; i++) {
            const float t = 0.5f / id;
            float v = kc_ulps(t, (int)(qk_rng_next(r) % 7) - 3);
            if (fabsf(v) > amax) v = amax;
            x[i] = (qk_rng_next(r) & 1) ? v : -v;
        }
        x[qk_rng_next(r) % 256] = (b & 1) ? amax : -amax;
        break;
    }
    case TQ_PATTERNS: {
        /* trit t of pattern p at element e: x = (t - 1) * amax, amax = 1 + b */
        const float amax = 1.0f + (float)b;
        static const int pow3[5] = {81, 27, 9, 3, 1};
        /* qs byte m (0..47) holds elements base_m + n * w, n = 0..4 */
        for (int m = 0; m < 48; m++) {
            const int p = (int)((b * 48 + m) % 243);
            const int base = m < 32 ? m : 160 + (m - 32), w = m < 32 ? 32 : 16;
            for (int n = 0; n < 5; n++) x[base + n * w] = (float)((p / pow3[n]) % 3 - 1) * amax;
        }
        /* qh byte j (0..3) holds elements 240 + j + 4k, k = 0..3 */
        for (int j = 0; j < 4; j++) {
            const int p = (int)((b * 4 + j) % 81);
            for (int k = 0; k < 4; k++) x[240 + j + 4 * k] = (float)((p / pow3[k + 1]) % 3 - 1) * amax;
        }
        if (b % 3 == 0) x[b % 256] = amax; /* at least one at +-amax in most blocks */
        break;
    }
    case TQ_NAN_INF_AT: {
        for (int i = 0; i < 256; i++) x[i] = qk_rng_gauss(r);
        const int pos = (int)(b % 256);
        union { uint32_t u; float f; } nan = {0x7fc00000u | (uint32_t)(qk_rng_next(r) & 0x3fffff)};
        const float special[4] = {nan.f, -nan.f, INFINITY, -INFINITY};
        x[pos] = special[(b / 256 + b) % 4];
        x[(pos + 1 + (int)(qk_rng_next(r) % 255)) % 256] = 10.0f; /* the largest |x|, before or after it */
        break;
    }
    case TQ_TINY: {
        const float amax = kc_tiny_amax(r, b); /* 1/amax near overflow, subnormal, FLT_MIN */
        for (int i = 0; i < 256; i++) x[i] = (qk_rng_uniform(r) * 2 - 1) * amax;
        x[qk_rng_next(r) % 256] = (b & 1) ? amax : -amax;
        break;
    }
    case TQ_HUGE: {
        const float amax = (b % 3 == 0) ? FLT_MAX : kc_rand_mag(r, 1e30f, FLT_MAX);
        for (int i = 0; i < 256; i++) {
            const float u = qk_rng_uniform(r) * 2 - 1;
            x[i] = (i % 4 == 0) ? ((u > 0) ? 0.5f : -0.5f) * amax : u * amax;
        }
        x[qk_rng_next(r) % 256] = (b & 1) ? amax : -amax;
        break;
    }
    case TQ_EQUAL_ZEROS: {
        const float v = (b % 4 == 0) ? 0.0f : (b % 4 == 1) ? kc_rand_mag(r, 1e-20f, 1e20f) : -kc_rand_mag(r, 1e-20f, 1e20f);
        for (int i = 0; i < 256; i++) x[i] = (b % 4 == 0) ? ((qk_rng_next(r) & 1) ? 0.0f : -0.0f) : v;
        if (b % 8 == 4) x[qk_rng_next(r) % 256] = 1e-3f; /* one nonzero among zeros */
        break;
    }
    default: break;
    }
}

/* Fills x[0..n-1] (n a multiple of 256) with case c, deterministic in seed. */
static void fill(int c, uint64_t seed, float *x, int64_t n) {
    qk_rng r = {seed * 0x9E3779B97F4A7C15ULL + (uint64_t)c + 1};
    for (int64_t b = 0; b * 256 < n; b++) fill_block(c, (int64_t)(seed % 1000) * 37 + b, &r, x + b * 256);
}

#endif
