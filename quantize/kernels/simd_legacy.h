/* simd_legacy.h - the SIMD variants of the legacy kernels, one set per ISA
 * (defined in legacy_<isa>.c and f16_<isa>.c, built only for their
 * architecture). Same contract and bytes as the scalar qk_quantize_<t>.
 * With an imatrix, Q8_0, F16 and BF16 ignore it; Q4_0, Q4_1, Q5_0 and Q5_1
 * run their block searches as lanes (quants_legacy.h: 8 or 16 blocks at a
 * time on x86-64, 4 on NEON). F16/BF16 also have SIMD
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
