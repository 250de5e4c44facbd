/* simd_legacy.h - the SIMD variants of the legacy kernels, one set per ISA
 * (defined in legacy_<isa>.c and f16_<isa>.c, built only for their
 * architecture). Same contract and bytes as the scalar qk_quantize_<t>;
 * with an imatrix they call the scalar path. F16/BF16 also have SIMD
 * dequantizers: they feed every F16/BF16 input row of quantize and convert. */
#ifndef QK_SIMD_LEGACY_H
#define QK_SIMD_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#define QK_DECLARE_SIMD(isa)                                                                        \
    size_t qk_quantize_f16_##isa(const float *, void *, int64_t, int64_t, const float *);          \
    size_t qk_quantize_bf16_##isa(const float *, void *, int64_t, int64_t, const float *);         \
    size_t qk_quantize_q8_0_##isa(const float *, void *, int64_t, int64_t, const float *);         \
    size_t qk_quantize_q4_0_##isa(const float *, void *, int64_t, int64_t, const float *);         \
    size_t qk_quantize_q4_1_##isa(const float *, void *, int64_t, int64_t, const float *);         \
    size_t qk_quantize_q5_0_##isa(const float *, void *, int64_t, int64_t, const float *);         \
    size_t qk_quantize_q5_1_##isa(const float *, void *, int64_t, int64_t, const float *);         \
    void qk_dequantize_row_f16_##isa(const void *, float *, int64_t);                               \
    void qk_dequantize_row_bf16_##isa(const void *, float *, int64_t);

QK_DECLARE_SIMD(avx2)
QK_DECLARE_SIMD(avx512)
QK_DECLARE_SIMD(neon)

#endif
