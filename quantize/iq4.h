/* iq4.h - IQ4_NL and IQ4_XS kernels (see iq4.c), byte-exact with what
 * llama-quantize writes (ggml's quantize_iq4_nl / quantize_iq4_xs). */
#ifndef QK_IQ4_H
#define QK_IQ4_H

#include <stddef.h>
#include <stdint.h>

size_t qk_quantize_iq4_nl(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq4_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n);
void qk_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n);

#endif
