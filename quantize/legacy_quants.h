/* legacy_quants.h - ggml's 32-element block formats Q4_0, Q4_1, Q5_0, Q5_1
 * and Q8_0: quantize (the contract of ggml's quantize_<type>: nrows rows of
 * n_per_row floats, optional per-column importance weights, returns bytes)
 * and dequantize (dequantize_row_<type>), byte-exact with the pinned ggml.
 *
 * Block layouts (little-endian, fp16 = IEEE half):
 *   Q4_0 {fp16 d; u8 qs[16]}            x = d * (q - 8)
 *   Q4_1 {fp16 d; fp16 m; u8 qs[16]}    x = d * q + m
 *   Q5_0 {fp16 d; u8 qh[4]; u8 qs[16]}  x = d * (q - 16)
 *   Q5_1 {fp16 d; fp16 m; u8 qh[4]; u8 qs[16]}
 *   Q8_0 {fp16 d; i8 qs[32]}            x = d * q
 * Nibbles are "split halves": element j (j < 16) is the low nibble of qs[j],
 * element j + 16 the high nibble. For 5-bit types bit 4 of element j is bit
 * j of the u32 qh.
 */
#ifndef QK_LEGACY_QUANTS_H
#define QK_LEGACY_QUANTS_H

#include <stddef.h>
#include <stdint.h>

size_t qk_quantize_q4_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q4_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q5_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_q8_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);

void qk_dequantize_row_q4_0(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q4_1(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q5_0(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q5_1(const void *src, float *dst, int64_t n);
void qk_dequantize_row_q8_0(const void *src, float *dst, int64_t n);

#endif
