/* f16_bf16_neon.c - NEON (aarch64) F16 and BF16 rows, bit-identical with
 * f16_bf16.c: vcvt_f16_f32 rounds to nearest even with subnormals kept (the
 * default FPCR); ggml maps every NaN to 0x7E00|sign while the instruction
 * keeps payload bits, so 4-lane groups holding a NaN use the scalar
 * conversion. BF16 is integer arithmetic on the bits. */
#include <arm_neon.h>

#include "f16_bf16.h"
#include "float_formats.h"
#include "kernel_util.h"

/* 4 floats to F16; false (nothing written) for a group holding NaN. */
static inline bool f16_group(const float *src, uint16_t *y) {
    const float32x4_t x = vld1q_f32(src);
    if (vminvq_u32(vceqq_f32(x, x)) == 0) return false;
    vst1_u16(y, vreinterpret_u16_f16(vcvt_f16_f32(x)));
    return true;
}

/* 4 floats to BF16: round to nearest even, NaN quieted (bit 6 of the high half). */
static inline bool bf16_group(const float *src, uint16_t *y) {
    const uint32x4_t u = vld1q_u32((const uint32_t *)(const void *)src);
    const uint32x4_t r =
        vshrq_n_u32(vaddq_u32(vaddq_u32(u, vdupq_n_u32(0x7FFF)), vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1))), 16);
    const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    const uint32x4_t q = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
    vst1_u16(y, vmovn_u32(vbslq_u32(nan, q, r)));
    return true;
}

static void f16_row(const float *src, uint16_t *y, int64_t n) {
    qk_half_row_groups(src, y, n, 4, f16_group, qk_fp32_to_fp16_row);
}
static void bf16_row(const float *src, uint16_t *y, int64_t n) {
    qk_half_row_groups(src, y, n, 4, bf16_group, qk_fp32_to_bf16_row);
}

size_t qk_quantize_f16_neon(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, f16_row); }
size_t qk_quantize_bf16_neon(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, bf16_row); }

/* F16 -> F32 is exact in fcvtl (subnormals included); a signaling NaN comes
 * out quieted (FPCR.DN is 0 on Linux, so the payload stays), as ggml's
 * to_float returns it. */
static inline void f16_to_float4(const uint16_t *h, float *dst) {
    vst1q_f32(dst, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))));
}

/* BF16 -> F32 is the 16 bits shifted up, NaNs untouched (as ggml). */
static inline void bf16_to_float4(const uint16_t *h, float *dst) {
    vst1q_u32((uint32_t *)(void *)dst, vshll_n_u16(vld1_u16(h), 16));
}

void qk_dequantize_row_f16_neon(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, 4, f16_to_float4, qk_dequantize_row_f16);
}
void qk_dequantize_row_bf16_neon(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, 4, bf16_to_float4, qk_dequantize_row_bf16);
}
