/* iq2.h - IQ2_XXS, IQ2_XS, IQ2_S: 2-bit-ish super-blocks of 256 whose groups
 * of 8 magnitudes are points of an E8-derived grid (iq_grids.h), plus signs
 * and 4-bit sub-block scales. Contract of qk_quantize_<t> as in legacy.h,
 * except that IQ2_XXS and IQ2_XS need an importance matrix (ggml asserts
 * one): without one they return 0 and write nothing. Also 0 if the grid's
 * search tables could not be allocated. Scalar reference: iq2.c. */
#ifndef QK_IQ2_H
#define QK_IQ2_H

#include <stddef.h>
#include <stdint.h>

size_t qk_quantize_iq2_xxs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq2_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qk_quantize_iq2_s(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
void qk_dequantize_row_iq2_xxs(const void *src, float *dst, int64_t n);
void qk_dequantize_row_iq2_xs(const void *src, float *dst, int64_t n);
void qk_dequantize_row_iq2_s(const void *src, float *dst, int64_t n);

#endif
