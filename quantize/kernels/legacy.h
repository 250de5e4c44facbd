/* legacy.h - the legacy block formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0
 * (blocks of 32, ggml_blocks.h), byte-identical with the pinned ggml.
 *
 * qk_quantize_<t>(src, dst, nrows, n_per_row, imatrix) quantizes nrows rows
 * of n_per_row floats to dst and returns the bytes written (nrows * row size),
 * exactly as ggml's quantize_<t>() (what ggml_quantize_chunk calls):
 *  - imatrix NULL: the *_ref algorithm;
 *  - imatrix given: n_per_row column weights, shared by every row, used the
 *    way ggml's *_impl functions use them (Q4_0/Q5_0: make_qx_quants with
 *    sigma2 over the whole row; Q4_1/Q5_1: make_qkx3_quants). Q8_0 ignores it.
 * Preconditions: nrows >= 0, n_per_row >= 0 and a multiple of the block size;
 * otherwise nothing is written and 0 is returned. src holds nrows*n_per_row
 * floats (4-byte aligned), dst nrows * row size bytes (any alignment).
 * The same contract holds for every other kernel type (k_quants.h, iq4.h,
 * f16_bf16.h) with its own block size.
 *
 * qk_dequantize_row_<t>(src, dst, n) expands n elements (a multiple of the
 * block size) exactly as ggml's dequantize_row_<t> / to_float.
 *
 * Scalar reference: legacy.c (Q4_0 .. Q5_1), q8_0.c. Variants, same bytes:
 * x86/legacy_avx2.c, x86/legacy_avx512.c, arm/legacy_neon.c.
 */
#ifndef QK_LEGACY_H
#define QK_LEGACY_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ggml_blocks.h"
#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(q4_0, q4_1, q5_0, q5_1, q8_0)

/* One block of 32 floats to one block, without imatrix: the scalar
 * reference the SIMD variants fall back to (e.g. for blocks holding NaN). */
void qk_q8_0_block_ref(const float *x, uint8_t *y);
void qk_q4_0_block_ref(const float *x, uint8_t *y);
void qk_q4_1_block_ref(const float *x, uint8_t *y);
void qk_q5_0_block_ref(const float *x, uint8_t *y);
void qk_q5_1_block_ref(const float *x, uint8_t *y);

/* Q4_0, Q4_1, Q5_0, Q5_1 are one algorithm with two switches: 4 or 5 bits,
 * and symmetric (d only: the _0 types) or asymmetric (d and m: the _1
 * types). qk_legacy_type describes one of them for the code every ISA
 * shares (legacy_rows_body.h and the imatrix rows).
 *
 * With an imatrix (ggml's quantize_row_*_impl): per row sigma2 = sum(x^2,
 * in order) / n_per_row; per block weight[j] = qw[j] * sqrtf(sigma2 +
 * x[j]*x[j]) and then make_qx_quants(32, nmax, x, L, 1, weight) (the _0
 * types) or make_qkx3_quants(32, nmax, x, weight, L, &the_min, .., -0.9,
 * 0.05, 36, false) (the _1 types), then the packing of d (and m = -the_min)
 * and L (qk_legacy_pack).
 *   block_imatrix: all of that for one block (xb, its imatrix qw, its row's sigma2).
 * qk_legacy_quantize_imatrix runs block_imatrix on every block (the scalar
 * qk_quantize_<t> with an imatrix); the SIMD variants run the searches of
 * several blocks as lanes (x86/legacy_imatrix_x86.h, arm/legacy_neon.c). */
typedef struct qk_legacy_type {
    int bits;       /* 4 or 5 */
    bool has_min;   /* the _1 types: fp16 d and m, x = d * q + m */
    int nmax;       /* the imatrix search's nmax: 8, 16 (make_qx_quants) or 15, 31 (make_qkx3_quants) */
    size_t bytes;   /* sizeof(qk_block_<t>) */
    size_t qh_off;  /* 5-bit types: offsetof(qk_block_<t>, qh) */
    size_t qs_off;  /* offsetof(qk_block_<t>, qs) */
    void (*block_ref)(const float *x, uint8_t *y);
    void (*block_imatrix)(const float *xb, const float *qw, float sigma2, uint8_t *y);
} qk_legacy_type;

/* One block of ggml's quantize_row_<t>_impl (see above). */
void qk_q4_0_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *y);
void qk_q4_1_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *y);
void qk_q5_0_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *y);
void qk_q5_1_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *y);

/* static: every file gets constants the compiler folds into its loops */
static const qk_legacy_type qk_legacy_q4_0 = {4, false, 8, sizeof(qk_block_q4_0), 0, offsetof(qk_block_q4_0, qs),
                                              qk_q4_0_block_ref, qk_q4_0_block_imatrix};
static const qk_legacy_type qk_legacy_q4_1 = {4, true, 15, sizeof(qk_block_q4_1), 0, offsetof(qk_block_q4_1, qs),
                                              qk_q4_1_block_ref, qk_q4_1_block_imatrix};
static const qk_legacy_type qk_legacy_q5_0 = {5, false, 16, sizeof(qk_block_q5_0), offsetof(qk_block_q5_0, qh),
                                              offsetof(qk_block_q5_0, qs), qk_q5_0_block_ref, qk_q5_0_block_imatrix};
static const qk_legacy_type qk_legacy_q5_1 = {5, true, 31, sizeof(qk_block_q5_1), offsetof(qk_block_q5_1, qh),
                                              offsetof(qk_block_q5_1, qs), qk_q5_1_block_ref, qk_q5_1_block_imatrix};

/* The block y from its scale d, the_min (the _1 types store m = -the_min)
 * and its 32 levels L. */
void qk_legacy_pack(const qk_legacy_type *t, uint8_t *y, float d, float the_min, const uint8_t *L);

/* weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]) for one block of 32:
 * the scalar blocks, and the SIMD rows for a row whose sigma2 is NaN. There
 * the sign of the NaN that survives depends on the operand order the
 * compiler picks (IEEE leaves it open), so both paths call this one
 * compiled function and agree bit for bit. */
static inline void qk_legacy_imatrix_weights(const float *xb, const float *qw, float sigma2, float *weight) {
    for (int j = 0; j < QK_LEGACY; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
}

/* sigma2 of ggml's *_impl: sum of squares of the row, in order, over n. */
float qk_legacy_row_sigma2(const float *x, int64_t n);

size_t qk_legacy_quantize_imatrix(const qk_legacy_type *t, const float *src, void *dst, int64_t nrows,
                                  int64_t n_per_row, const float *imatrix);

#endif
