/* kernel_api.h - the two signatures every kernel type shares, declared by
 * one macro per group of types (legacy.h, k_quants.h, iq*.h, lowbit.h,
 * f16_bf16.h use it; the contract is in legacy.h):
 *
 *   size_t qk_quantize_<t>(const float *src, void *dst, int64_t nrows,
 *                          int64_t n_per_row, const float *imatrix);
 *   void   qk_dequantize_row_<t>(const void *src, float *dst, int64_t n);
 *
 * QK_DECLARE_KERNELS(t, ...) declares both for each type named;
 * QK_DECLARE_SIMD_KERNELS(t, ...) also qk_quantize_<t>_avx2, _avx512 and
 * _neon; QK_DECLARE_SIMD_DEQUANTIZERS(t, ...) qk_dequantize_row_<t>_avx2,
 * _avx512 and _neon. The definitions are plain functions written out by name (grep
 * 'qk_quantize_q4_k_avx2(' finds one), except the IQ1/IQ2/IQ3 types', which
 * one macro per type defines (iq_search.h IQ_KERNELS: its ISA variants are
 * the same row code over another table of searches); a declaration whose
 * ISA is not built on this target is never referenced. */
#ifndef QK_KERNEL_API_H
#define QK_KERNEL_API_H

#include <stddef.h>
#include <stdint.h>

#define QK_QUANTIZE_PARAMS const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix
#define QK_QUANTIZE_ARGS src, dst, nrows, n_per_row, imatrix
#define QK_DEQUANTIZE_PARAMS const void *src, float *y, int64_t n

#define QK_DECLARE_KERNEL_(t) \
    size_t qk_quantize_##t(QK_QUANTIZE_PARAMS); \
    void qk_dequantize_row_##t(const void *src, float *dst, int64_t n);
#define QK_DECLARE_SIMD_KERNEL_(t) \
    QK_DECLARE_KERNEL_(t) \
    size_t qk_quantize_##t##_avx2(QK_QUANTIZE_PARAMS); \
    size_t qk_quantize_##t##_avx512(QK_QUANTIZE_PARAMS); \
    size_t qk_quantize_##t##_neon(QK_QUANTIZE_PARAMS);

#define QK_DECLARE_SIMD_DEQUANTIZE_(t) \
    void qk_dequantize_row_##t##_avx2(const void *src, float *dst, int64_t n); \
    void qk_dequantize_row_##t##_avx512(const void *src, float *dst, int64_t n); \
    void qk_dequantize_row_##t##_neon(const void *src, float *dst, int64_t n);

/* m(a) for each of up to six arguments */
#define QK_EACH_1(m, a) m(a)
#define QK_EACH_2(m, a, ...) m(a) QK_EACH_1(m, __VA_ARGS__)
#define QK_EACH_3(m, a, ...) m(a) QK_EACH_2(m, __VA_ARGS__)
#define QK_EACH_4(m, a, ...) m(a) QK_EACH_3(m, __VA_ARGS__)
#define QK_EACH_5(m, a, ...) m(a) QK_EACH_4(m, __VA_ARGS__)
#define QK_EACH_6(m, a, ...) m(a) QK_EACH_5(m, __VA_ARGS__)
#define QK_EACH_N_(_1, _2, _3, _4, _5, _6, n, ...) QK_EACH_##n
#define QK_EACH(m, ...) QK_EACH_N_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)(m, __VA_ARGS__)

#define QK_DECLARE_KERNELS(...) QK_EACH(QK_DECLARE_KERNEL_, __VA_ARGS__)
#define QK_DECLARE_SIMD_KERNELS(...) QK_EACH(QK_DECLARE_SIMD_KERNEL_, __VA_ARGS__)
#define QK_DECLARE_SIMD_DEQUANTIZERS(...) QK_EACH(QK_DECLARE_SIMD_DEQUANTIZE_, __VA_ARGS__)

#endif
