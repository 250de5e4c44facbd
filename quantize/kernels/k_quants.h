/* k_quants.h - ggml's 256-element super-block formats, byte-exact with the
 * pinned ggml: quantize (quantize_<type> contract) and dequantize. Each type
 * has its own file with its block layout drawn out. */
#ifndef QK_K_QUANTS_H
#define QK_K_QUANTS_H

#include <stddef.h>
#include <stdint.h>

#include "ggml_blocks.h"

size_t qk_quantize_q2_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q3_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q4_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q6_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);

#if defined(__x86_64__)
/* AVX-512 variants (same bytes as the scalar ones; see lanes_body.h). */
size_t qk_quantize_q4_k_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_k_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q6_k_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q4_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q6_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
/* Q2_K / Q3_K: lane-wise searches of lanes_<isa>.c, both imatrix modes */
size_t qk_quantize_q2_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q2_k_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q3_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q3_k_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
#endif
#if defined(__aarch64__)
/* NEON variants (same bytes as the scalar ones; see search_neon.c). */
size_t qk_quantize_q2_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q3_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q4_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q6_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
#endif

void qk_dequantize_row_q2_k(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q3_k(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q4_k(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q5_k(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q6_k(const void *src, float *dst, int64_t n);

/* The 6-bit (scale, min) pairs of Q4_K/Q5_K, packed into 12 bytes:
 *   j < 4:  scale = q[j] & 63          min = q[j+4] & 63
 *   j >= 4: scale = (q[j+4] & 15) | (q[j-4] >> 6) << 4
 *           min   = (q[j+4] >> 4) | (q[j]   >> 6) << 4            */
static inline void qk_get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

static inline void qk_set_scale_min_k4(int j, uint8_t *q, uint8_t ls, uint8_t lm) {
    if (j < 4) {
        q[j] = ls;
        q[j + 4] = lm;
    } else {
        q[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
        q[j - 4] |= (uint8_t)((ls >> 4) << 6);
        q[j - 0] |= (uint8_t)((lm >> 4) << 6);
    }
}

#endif
