/* tq_neon.c - TQ1_0 and TQ2_0 with NEON (aarch64): tq_body.h (its head has
 * the exactness argument) with 4-lane amax and trits and its 16-byte
 * vocabulary in uint8x16_t. vmulq_f32 is the scalar's IEEE multiply (the
 * file is built with -ffp-contract=off and uses no fused intrinsic);
 * vcgeq/vcleq are C's >= and <= (false for NaN, which never reaches them). */
#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>

static inline uint32_t tq_amax_bits(const float *x) {
    const uint32x4_t abs = vdupq_n_u32(0x7fffffffu);
    uint32x4_t m[4];
    for (int k = 0; k < 4; k++) m[k] = vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + 4 * k)), abs);
    for (int i = 16; i < 256; i += 16)
        for (int k = 0; k < 4; k++) m[k] = vmaxq_u32(m[k], vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i + 4 * k)), abs));
    return vmaxvq_u32(vmaxq_u32(vmaxq_u32(m[0], m[1]), vmaxq_u32(m[2], m[3])));
}

typedef uint8x16_t tq_v8;

/* 1 + (v >= 0.5) - (v <= -0.5) for v = x[i] * id, i = 0..15, as bytes: the
 * all-ones compare lanes narrowed to 0xff bytes, which count as -1 mod 256 */
static inline tq_v8 tq_trits16(const float *x, float32x4_t vid) {
    uint16x8_t ge[2], le[2];
    for (int h = 0; h < 2; h++) {
        const float32x4_t v0 = vmulq_f32(vld1q_f32(x + 8 * h), vid), v1 = vmulq_f32(vld1q_f32(x + 8 * h + 4), vid);
        ge[h] = vcombine_u16(vmovn_u32(vcgeq_f32(v0, vdupq_n_f32(0.5f))), vmovn_u32(vcgeq_f32(v1, vdupq_n_f32(0.5f))));
        le[h] = vcombine_u16(vmovn_u32(vcleq_f32(v0, vdupq_n_f32(-0.5f))), vmovn_u32(vcleq_f32(v1, vdupq_n_f32(-0.5f))));
    }
    const uint8x16_t g = vcombine_u8(vmovn_u16(ge[0]), vmovn_u16(ge[1]));
    const uint8x16_t l = vcombine_u8(vmovn_u16(le[0]), vmovn_u16(le[1]));
    return vaddq_u8(vsubq_u8(vdupq_n_u8(1), g), l);
}

static inline tq_v8 tq_v8_add(tq_v8 a, tq_v8 b) { return vaddq_u8(a, b); }
static inline tq_v8 tq_v8_or(tq_v8 a, tq_v8 b) { return vorrq_u8(a, b); }
static inline tq_v8 tq_v8_shl(tq_v8 a, int k) { return vshlq_u8(a, vdupq_n_s8((int8_t)k)); }
#define TQ_V8_SHR_BYTES(a, k) vextq_u8((a), vdupq_n_u8(0), (k))
static inline tq_v8 tq_v8_zero(void) { return vdupq_n_u8(0); }
static inline void tq_v8_store(uint8_t *p, tq_v8 a) { vst1q_u8(p, a); }
static inline uint32_t tq_v8_low32(tq_v8 a) { return vgetq_lane_u32(vreinterpretq_u32_u8(a), 0); } /* little-endian */

/* (q * 256 + 242) / 243 per byte as ((q << 8 | 242) * 34522) >> 23 in 32-bit lanes */
static inline uint16x8_t tq_scale243_half(uint8x8_t q) {
    const uint16x8_t n = vorrq_u16(vshll_n_u8(q, 8), vdupq_n_u16(242));
    const uint32x4_t lo = vshrq_n_u32(vmull_n_u16(vget_low_u16(n), 34522), 23);
    const uint32x4_t hi = vshrq_n_u32(vmull_n_u16(vget_high_u16(n), 34522), 23);
    return vcombine_u16(vmovn_u32(lo), vmovn_u32(hi));
}
static inline tq_v8 tq_v8_scale243(tq_v8 q) {
    return vcombine_u8(vmovn_u16(tq_scale243_half(vget_low_u8(q))), vmovn_u16(tq_scale243_half(vget_high_u8(q))));
}

#define TQ_VF float32x4_t
#define TQ_SET1(f) vdupq_n_f32(f)
#include "tq_body.h"

size_t qk_quantize_tq1_0_neon(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq1_0, tq1_0_block); }
size_t qk_quantize_tq2_0_neon(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq2_0, tq2_0_block); }
