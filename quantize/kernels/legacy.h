/* quants_legacy.h - scalar reference kernels for the legacy block formats
 * (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), the 4-bit non-linear ones (IQ4_NL, IQ4_XS)
 * and the plain F16/BF16 rows, byte-identical with the pinned ggml.
 *
 * qk_quantize_<t>(src, dst, nrows, n_per_row, imatrix) quantizes nrows rows
 * of n_per_row floats to dst and returns the bytes written (nrows * row size),
 * exactly as ggml's quantize_<t>() (what ggml_quantize_chunk calls):
 *  - imatrix NULL: the *_ref algorithm (IQ4_NL: ntry = 7, not the _ref's -1);
 *  - imatrix given: n_per_row column weights, shared by every row, used the
 *    way ggml's *_impl functions use them (Q4_0/Q5_0: make_qx_quants with
 *    sigma2 over the whole row; Q4_1/Q5_1: make_qkx3_quants; IQ4: weighted
 *    search). Q8_0, F16 and BF16 ignore it.
 * Preconditions: nrows >= 0, n_per_row >= 0 and a multiple of the block size
 * (32; 256 for IQ4_XS); otherwise nothing is written and 0 is returned.
 * src holds nrows*n_per_row floats (4-byte aligned), dst nrows * row size
 * bytes (any alignment for block types; 2-byte aligned for F16/BF16).
 *
 * qk_dequantize_row_<t>(src, dst, n) expands n elements (a multiple of the
 * block size) exactly as ggml's dequantize_row_<t> / to_float.
 */
#ifndef QK_QUANTS_LEGACY_H
#define QK_QUANTS_LEGACY_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ggml_blocks.h"

size_t qk_quantize_f16(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_bf16(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q8_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q4_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q4_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_nl(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
#if defined(__aarch64__)
/* NEON variants (iq4.c + kq_search_neon.c), same bytes as the scalar ones. */
size_t qk_quantize_iq4_nl_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
#endif
#if defined(__x86_64__)
/* IQ4 SIMD variants (iq4.c with lowbit_search_<isa>.c), both imatrix modes */
size_t qk_quantize_iq4_nl_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_nl_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
#endif

void qk_dequantize_row_f16(const void *src, float *dst, int64_t n);
void qk_dequantize_row_bf16(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q8_0(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q4_0(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q4_1(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q5_0(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q5_1(const void *src, float *dst, int64_t n);
void qk_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n);
void qk_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n);

/* One block of 32 floats to one block, without imatrix: the scalar
 * reference the SIMD variants fall back to (e.g. for blocks holding NaN). */
void qk_q8_0_block_ref(const float *x, uint8_t *y);
void qk_q4_0_block_ref(const float *x, uint8_t *y);
void qk_q4_1_block_ref(const float *x, uint8_t *y);
void qk_q5_0_block_ref(const float *x, uint8_t *y);
void qk_q5_1_block_ref(const float *x, uint8_t *y);

/* The shared row-count/size check of every qk_quantize_*: the number of
 * blocks in one row, or -1 if the shape is invalid. */
static inline int64_t qk_blocks_per_row(int64_t nrows, int64_t n_per_row, int64_t qk) {
    if (nrows < 0 || n_per_row < 0 || n_per_row % qk != 0) return -1;
    return n_per_row / qk;
}

/* The imatrix path of Q4_0 / Q4_1 / Q5_0 / Q5_1 (ggml's quantize_row_*_impl),
 * described per type: per row sigma2 = sum(x^2, in order) / n_per_row; per
 * block weight[j] = qw[j] * sqrtf(sigma2 + x[j]*x[j]) and then either
 * make_qx_quants(32, nmax, x, L, 1, weight) (qx: Q4_0, Q5_0) or
 * make_qkx3_quants(32, nmax, x, weight, L, &the_min, .., -0.9, 0.05, 36,
 * false) (Q4_1, Q5_1), and the packing of d (and m = -the_min) and L.
 *   block: all of it for one block (xb, its imatrix qw, its row's sigma2);
 *   pack:  the packing alone, as `block` packs (min: the_min; unused by
 *          Q4_0/Q5_0); SSE2 on x86-64, used by the SIMD rows only.
 * qk_legacy_quantize_imatrix runs the scalar block on every block (the
 * scalar qk_quantize_<t> with an imatrix); on x86-64,
 * qk_legacy_quantize_imatrix_lanes (q4_0.c) runs the search on `width`
 * (8: AVX2, 16: AVX-512) blocks at a time through qk_qx_lanes_<isa> /
 * qk_qkx3_lanes_<isa> (lane groups run across row boundaries; the last,
 * partial group is padded with zero blocks, or, for one block on AVX2 and
 * up to two on AVX-512, goes through `block`): the same bytes. */
typedef struct {
    bool qx;
    int nmax;
    int bytes;
    void (*block)(const float *xb, const float *qw, float sigma2, uint8_t *y);
    void (*pack)(uint8_t *y, float d, float min, const uint8_t *L);
} qk_legacy_imatrix_type;

/* weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]) for one block of 32 (the
 * scalar blocks, and the SIMD rows for a row whose sigma2 is NaN, where the
 * NaN that survives depends on the operand order). */
static inline void qk_legacy_imatrix_weights(const float *xb, const float *qw, float sigma2, float *weight) {
    for (int j = 0; j < QK_LEGACY; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
}

extern const qk_legacy_imatrix_type qk_legacy_imatrix_q4_0, qk_legacy_imatrix_q4_1, qk_legacy_imatrix_q5_0,
    qk_legacy_imatrix_q5_1;

size_t qk_legacy_quantize_imatrix(const qk_legacy_imatrix_type *t, const float *src, void *dst, int64_t nrows,
                                  int64_t n_per_row, const float *imatrix);
#if defined(__aarch64__)
/* NEON: per row, four blocks at a time through qk_qx_search4_neon /
 * qk_kq_search4_neon (kq_search_neon.c), the row's last nb % 4 blocks
 * through `block`; weights and packing as the scalar code: the same bytes. */
size_t qk_legacy_quantize_imatrix_neon(const qk_legacy_imatrix_type *t, const float *src, void *dst, int64_t nrows,
                                       int64_t n_per_row, const float *imatrix);
#endif
#if defined(__x86_64__)
size_t qk_legacy_quantize_imatrix_lanes(const qk_legacy_imatrix_type *t, int width, const float *src, void *dst,
                                        int64_t nrows, int64_t n_per_row, const float *imatrix);
#endif

#endif
