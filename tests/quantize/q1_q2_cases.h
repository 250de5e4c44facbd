/* q1_q2_cases.h - the Q1_0 / Q2_0 input rows of test_kernels_simd_q1_q2.c
 * (SIMD vs scalar) and test_kernels_q1_q2_vs_ggml.c (every kernel vs ggml):
 * the inputs the SIMD paths (quantize/kernels/q1_q2_body.h) are built
 * around. A block is qk floats (128 for Q1_0, 64 for Q2_0).
 * Included by those two test programs only (static functions). */
#ifndef QK_TEST_Q1_Q2_CASES_H
#define QK_TEST_Q1_Q2_CASES_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernel_cases.h" /* kc_ulps, kc_rand_mag, kc_tiny_amax */
#include "qk_test.h"

enum { QQ_TIES, QQ_PATTERNS, QQ_ORDER, QQ_NAN_INF_AT, QQ_TINY, QQ_HUGE, QQ_EQUAL_ZEROS, QQ_CASES };
static const char *k_case_names[QQ_CASES] = {"ties", "patterns", "order", "nan_inf_at", "tiny", "huge", "equal_zeros"};

/* Q2_0's 1/amax, computed the same way */
static float inv(float amax) { return amax > 0.0f ? 1.0f / amax : 0.0f; }

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float rand_sign(qk_rng *r, float v) { return (qk_rng_next(r) & 1) ? v : -v; }

/* Block b (qk floats at x) of case c. */
static void fill_block(int c, int64_t b, qk_rng *r, float *x, int qk) {
    switch (c) {
    case QQ_TIES: {
        /* Q2_0's rounding points: x * id within 3 ulps of +-0.5 (x = 0.5 / id
         * and x = 0.5 * amax, which differ for some amax), x at +-amax and
         * the ulps below it (x * id near 1, where amax * id may round above
         * 1; 1.5 * amax cannot occur: it would be the amax) */
        const float amax = (b % 5 == 0) ? ldexpf(1.0f, (int)(b % 60) - 30) : kc_rand_mag(r, 1e-30f, 1e30f);
        const float id = inv(amax);
        for (int i = 0; i < qk; i++) {
            const int kind = (int)(qk_rng_next(r) % 4), k = (int)(qk_rng_next(r) % 7) - 3;
            float v = kind == 0   ? kc_ulps(0.5f / id, k)
                      : kind == 1 ? kc_ulps(0.5f * amax, k)
                      : kind == 2 ? kc_ulps(amax, -(k + 3))
                                  : 0.5f * amax;
            if (v > amax) v = amax;
            x[i] = rand_sign(r, v);
        }
        x[qk_rng_next(r) % (uint64_t)qk] = rand_sign(r, amax);
        break;
    }
    case QQ_PATTERNS: {
        /* Q2_0 code p of element j = digit j % 4 of pattern (b * 16 + j / 4)
         * % 81 in base 3: every 4-code byte through every byte position;
         * x = (code - 1) * amax. Q1_0: the same values, so every sign
         * pattern of 4 (and zeros: +0 counts positive) */
        const float amax = 1.0f + (float)b;
        static const int pow3[4] = {1, 3, 9, 27};
        for (int j = 0; j < qk; j++) {
            const int p = (int)((b * 16 + j / 4) % 81);
            x[j] = (float)((p / pow3[j % 4]) % 3 - 1) * amax;
        }
        break;
    }
    case QQ_ORDER: {
        /* Q1_0's sum: a reordered sum mostly differs in the last float bits
         * only, which the fp16 scale rounds away; so in 2 of 3 blocks the
         * in-order sum is exactly Big = qk * (a midpoint of two fp16
         * values, normal or subnormal), and the other elements are "tinies"
         * the in-order sum absorbs one at a time but two or more added
         * together before Big (any other order) push it off the midpoint:
         * Big first, then tinies of 1/4..1/2 ulp(Big); or Big at a random
         * place after tinies of ulp/256 (their sum < ulp/2) and before
         * tinies of 1/4..1/2 ulp. The third block: magnitudes over 18
         * binades with a large value at a random place. Random signs. */
        if (b % 3 == 2) {
            for (int i = 0; i < qk; i++) x[i] = rand_sign(r, kc_rand_mag(r, 1e-9f, 1e9f));
            x[qk_rng_next(r) % (uint64_t)qk] = rand_sign(r, 3e9f);
            if (b % 4 == 1) x[qk_rng_next(r) % (uint64_t)qk] = -0.0f;
            break;
        }
        const float mid = (qk_rng_next(r) % 8 == 0)
                              ? ldexpf((float)(qk_rng_next(r) % 1023) + 0.5f, -24)
                              : ldexpf((float)(1024 + qk_rng_next(r) % 1024) + 0.5f, (int)(qk_rng_next(r) % 30) - 24);
        const float big = mid * (float)qk, ulp = kc_ulps(big, 1) - big;
        const int at = (b % 3 == 0) ? 0 : (int)(qk_rng_next(r) % (uint64_t)qk);
        for (int i = 0; i < qk; i++)
            x[i] = rand_sign(r, i < at ? ulp / 256 : ulp * (float)(2 + qk_rng_next(r) % 3) / 8);
        x[at] = rand_sign(r, big);
        break;
    }
    case QQ_NAN_INF_AT: {
        /* NaN (both signs, quiet and signalling, payloads) and +-inf at
         * every position of a block; some blocks have a second NaN of
         * another payload (which one the sum keeps) or an inf and a NaN */
        for (int i = 0; i < qk; i++) x[i] = qk_rng_gauss(r);
        const int pos = (int)(b % qk);
        const uint32_t payload = (uint32_t)(qk_rng_next(r) & 0x3fffff) | 1u;
        const float special[6] = {from_bits(0x7fc00000u | payload), from_bits(0xffc00000u | payload),
                                  from_bits(0x7f800000u | payload), INFINITY, -INFINITY,
                                  from_bits(0xff800000u | payload)};
        x[pos] = special[(b / qk + b) % 6];
        x[(pos + 1 + (int)(qk_rng_next(r) % (uint64_t)(qk - 1))) % qk] = 10.0f; /* the largest |x|, before or after */
        if (b % 3 == 1) x[(pos + 7) % qk] = from_bits(0x7fc00000u | (payload ^ 0x155555u));
        if (b % 5 == 2) x[(pos + 3) % qk] = INFINITY;
        break;
    }
    case QQ_TINY: {
        /* kc_tiny_amax (1/amax near overflow, subnormal, FLT_MIN): Q1_0 sums denormals */
        const float amax = kc_tiny_amax(r, b);
        for (int i = 0; i < qk; i++) x[i] = (qk_rng_uniform(r) * 2 - 1) * amax;
        x[qk_rng_next(r) % (uint64_t)qk] = rand_sign(r, amax);
        break;
    }
    case QQ_HUGE: {
        /* amax up to FLT_MAX (Q1_0's sum overflows to inf), half of them
         * at exactly +-0.5 amax */
        const float amax = (b % 3 == 0) ? FLT_MAX : kc_rand_mag(r, 1e30f, FLT_MAX);
        for (int i = 0; i < qk; i++) {
            const float u = qk_rng_uniform(r) * 2 - 1;
            x[i] = (i % 2 == 0) ? ((u > 0) ? 0.5f : -0.5f) * amax : u * amax;
        }
        x[qk_rng_next(r) % (uint64_t)qk] = rand_sign(r, amax);
        break;
    }
    case QQ_EQUAL_ZEROS: {
        const float v = (b % 4 == 0) ? 0.0f : (b % 4 == 1) ? kc_rand_mag(r, 1e-20f, 1e20f) : -kc_rand_mag(r, 1e-20f, 1e20f);
        for (int i = 0; i < qk; i++) x[i] = (b % 4 == 0) ? rand_sign(r, 0.0f) : v;
        if (b % 8 == 4) x[qk_rng_next(r) % (uint64_t)qk] = 1e-3f; /* one nonzero among zeros */
        break;
    }
    default: break;
    }
}

/* Fills x[0..n-1] (n a multiple of qk) with case c, deterministic in seed. */
static void fill(int c, uint64_t seed, float *x, int64_t n, int qk) {
    qk_rng r = {seed * 0x9E3779B97F4A7C15ULL + (uint64_t)c + 1};
    for (int64_t b = 0; b * qk < n; b++) fill_block(c, (int64_t)(seed % 1000) * 37 + b, &r, x + b * qk, qk);
}

#endif
