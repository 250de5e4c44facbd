/* k_quants_internal.h - what the Q4_K/Q5_K scalar code shares with its SIMD
 * searches (lanes_<isa>.c). Not part of the library's interface. */
#ifndef QK_K_QUANTS_INTERNAL_H
#define QK_K_QUANTS_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "ggml_blocks.h"

typedef struct qk_kq_params {
    int nmax;            /* 15 for Q4_K, 31 for Q5_K */
    float rmin, rdelta;  /* make_qkx2_quants' search grid */
    int nstep;
} qk_kq_params;

/* Q4_K/Q5_K requantization of one sub-block of 32 against its stored scale
 * (qk_kq_requant32_<isa> in lanes_<isa>.c, and the scalar code's loop):
 * L[i] = clamp(nearest_int((x[i] + dm) / d), 0, nmax), nearest_int being
 * ggml's 12582912.f bit trick (so NaN and huge values give the same garbage
 * as the scalar twin in q4_k_q5_k.c). */
typedef void (*qk_kq_requant32_fn)(const float *x, float d, float dm, int nmax, uint8_t *L);

/* The imatrix weights of one super-block, in ggml's order: sigma2 =
 * c * sum(x^2) / QK_K, weight = qw * sqrt(sigma2 + x^2), sw[j] = the sum of
 * sub-block j's weights (sub-blocks of `sub`). Q2_K: sub 16, c 1; Q3_K:
 * 16, 2; Q4_K/Q5_K: 32, 2. */
static inline void qk_kq_imatrix_weights_sub(int sub, float c, const float *x, const float *qw, float *weight,
                                             float *sw) {
    float sumx2 = 0;
    for (int j = 0; j < QK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = c * sumx2 / QK_K;
    for (int j = 0; j < QK_K / sub; ++j) {
        float *w = weight + sub * j;
        for (int l = 0; l < sub; ++l) w[l] = qw[sub * j + l] * sqrtf(sigma2 + x[sub * j + l] * x[sub * j + l]);
        float sumw = 0;
        for (int l = 0; l < sub; ++l) sumw += w[l];
        sw[j] = sumw;
    }
}

/* Scalar twins of the SIMD helpers in lanes_<isa>.c, exported for
 * the lane tests: Q4_K/Q5_K's imatrix weights of one super-block (sigma2 =
 * 2 * mean x^2, weight = qw * sqrt(sigma2 + x^2), sw = per-sub-block-of-32
 * sums), Q4_K/Q5_K's packing of 256 levels (qh NULL: Q4_K) and Q6_K's
 * requantization against d[16] (d == 0 keeps L) and packing. */
void qk_kq_imatrix_weights32_ref(const float *x, const float *qw, float *weights, float *sw);
void qk_kq_pack_ref(const uint8_t *L, uint8_t *qh, uint8_t *qs);
void qk_q6k_pack_ref(const float *x, const float *d, int8_t *L, uint8_t *y);

#endif
