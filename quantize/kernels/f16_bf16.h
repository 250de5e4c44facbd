/* f16_bf16.h - F16 and BF16 rows as "quantization" types: per-element
 * conversion exactly as ggml_quantize_chunk does it (the imatrix is
 * ignored), and the rows back to float as ggml's to_float. Contract of
 * qk_quantize_<t> as in legacy.h; dst is 2-byte aligned. Scalar reference:
 * f16_bf16.c; variants: x86/f16_bf16_avx2.c, x86/f16_bf16_avx512.c,
 * arm/f16_bf16_neon.c (same bits). The SIMD dequantizers feed every F16/BF16
 * input row of quantize and convert. */
#ifndef QK_F16_BF16_H
#define QK_F16_BF16_H

#include <stddef.h>
#include <stdint.h>

size_t qk_quantize_f16(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_bf16(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_f16(const void *src, float *dst, int64_t n);
void qk_dequantize_row_bf16(const void *src, float *dst, int64_t n);

size_t qk_quantize_f16_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_bf16_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_f16_avx2(const void *src, float *dst, int64_t n);
void qk_dequantize_row_bf16_avx2(const void *src, float *dst, int64_t n);

size_t qk_quantize_f16_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_bf16_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_f16_avx512(const void *src, float *dst, int64_t n);
void qk_dequantize_row_bf16_avx512(const void *src, float *dst, int64_t n);

size_t qk_quantize_f16_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_bf16_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_f16_neon(const void *src, float *dst, int64_t n);
void qk_dequantize_row_bf16_neon(const void *src, float *dst, int64_t n);

#endif
