/* f16_bf16_neon.c - NEON (aarch64) F16 and BF16 rows, bit-identical with
 * f16_bf16.c: vcvt_f16_f32 rounds to nearest even with subnormals kept (the
 * default FPCR); ggml maps every NaN to 0x7E00|sign while the instruction
 * keeps payload bits, so 4-lane groups holding a NaN use the scalar
 * conversion. BF16 is integer arithmetic on the bits. */
#include <arm_neon.h>

#include "f16_bf16.h"
#include "float_formats.h"
#include "kernel_util.h"

size_t qk_quantize_f16_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    (void)imatrix;
    if (qk_blocks_per_row(nrows, n_per_row, 1) < 0) return 0;
    const int64_t n = nrows * n_per_row;
    uint16_t *y = (uint16_t *)dst;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t x = vld1q_f32(src + i);
        if (vminvq_u32(vceqq_f32(x, x)) == 0) {
            qk_fp32_to_fp16_row(src + i, y + i, 4);
            continue;
        }
        vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(x)));
    }
    qk_fp32_to_fp16_row(src + i, y + i, n - i);
    return (size_t)n * 2;
}

size_t qk_quantize_bf16_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    (void)imatrix;
    if (qk_blocks_per_row(nrows, n_per_row, 1) < 0) return 0;
    const int64_t n = nrows * n_per_row;
    uint16_t *y = (uint16_t *)dst;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t u = vld1q_u32((const uint32_t *)(const void *)(src + i));
        const uint32x4_t r = vshrq_n_u32(
            vaddq_u32(vaddq_u32(u, vdupq_n_u32(0x7FFF)), vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1))), 16);
        const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
        const uint32x4_t q = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
        vst1_u16(y + i, vmovn_u32(vbslq_u32(nan, q, r)));
    }
    qk_fp32_to_bf16_row(src + i, y + i, n - i);
    return (size_t)n * 2;
}

/* F16 -> F32 is exact in fcvtl (subnormals included); a signaling NaN comes
 * out quieted (FPCR.DN is 0 on Linux, so the payload stays), as ggml's
 * to_float returns it. */
void qk_dequantize_row_f16_neon(const void *src, float *dst, int64_t n) {
    const uint16_t *h = (const uint16_t *)src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + i))));
    qk_dequantize_row_f16(h + i, dst + i, n - i);
}

/* BF16 -> F32 is the 16 bits shifted up, NaNs untouched (as ggml). */
void qk_dequantize_row_bf16_neon(const void *src, float *dst, int64_t n) {
    const uint16_t *h = (const uint16_t *)src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_u32((uint32_t *)(void *)(dst + i), vshll_n_u16(vld1_u16(h + i), 16));
    qk_dequantize_row_bf16(h + i, dst + i, n - i);
}
