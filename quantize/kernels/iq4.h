/* iq4.h - IQ4_NL (blocks of 32) and IQ4_XS (super-blocks of 256): 4-bit
 * indices into ggml's non-linear codebook. Contract of qk_quantize_<t> as
 * in legacy.h (the imatrix, when given, weights the scale search). Scalar
 * reference: iq4.c; variants: x86/iq4_avx2.c, x86/iq4_avx512.c,
 * arm/iq4_neon.c (same bytes). */
#ifndef QK_IQ4_H
#define QK_IQ4_H

#include <stddef.h>
#include <stdint.h>

size_t qk_quantize_iq4_nl(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n);
void qk_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n);

size_t qk_quantize_iq4_nl_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_nl_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_nl_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);

#endif
