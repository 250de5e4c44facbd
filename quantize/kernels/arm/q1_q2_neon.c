/* q1_q2_neon.c - Q1_0 and Q2_0 with NEON (aarch64): q1_q2_body.h (its head
 * has the exactness argument) with Q1_0 over 4 blocks per vector and Q2_0's
 * codes one output byte (4 elements) per vector. vaddq_f32 / vmulq_f32 are
 * the scalar's IEEE add / multiply (the file is built with -ffp-contract=off
 * and uses no fused intrinsic); vcgeq / vcleq are C's >= and <= (false for
 * NaN); |x| is a clear of the sign bit, as fabsf. */
#include <arm_neon.h>
#include <stdint.h>

#include "ggml_blocks.h"

#define QQ_W 4
typedef float32x4_t qq_vf;
static inline qq_vf qq_vf_zero(void) { return vdupq_n_f32(0.0f); }
static inline qq_vf qq_vf_add(qq_vf acc, qq_vf a) { return vaddq_f32(acc, a); }
static inline void qq_vf_store(float *p, qq_vf a) { vst1q_f32(p, a); }

static inline float32x4_t abs_bits(float32x4_t a) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vdupq_n_u32(0x7fffffffu)));
}

/* |elements 0..3| of blocks 0..3 transposed: c[i] lane k = block k, element i */
static inline void q1_cols4(const float *x, qq_vf c[4]) {
    float32x4_t r[4];
    for (int k = 0; k < 4; k++) r[k] = abs_bits(vld1q_f32(x + k * QK_Q1_0));
    const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r[0], r[1]));
    const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r[0], r[1]));
    const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r[2], r[3]));
    const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r[2], r[3]));
    c[0] = vreinterpretq_f32_f64(vtrn1q_f64(t0, t2));
    c[1] = vreinterpretq_f32_f64(vtrn1q_f64(t1, t3));
    c[2] = vreinterpretq_f32_f64(vtrn2q_f64(t0, t2));
    c[3] = vreinterpretq_f32_f64(vtrn2q_f64(t1, t3));
}

/* The >= 0 masks of 16 elements narrowed to bytes, each keeping its bit
 * (1 << j % 8); three rounds of pairwise byte adds then sum each 8
 * consecutive bytes (distinct bits: the sum is their or) in order. */
static inline void q1_signs(const float *x, uint8_t *qs) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t vbit = vld1q_u8(bit);
    uint8x16_t m[8];
    for (int i = 0; i < 8; i++) {
        uint16x4_t h[4];
        for (int k = 0; k < 4; k++) h[k] = vmovn_u32(vcgeq_f32(vld1q_f32(x + 16 * i + 4 * k), vdupq_n_f32(0.0f)));
        const uint8x16_t b = vcombine_u8(vmovn_u16(vcombine_u16(h[0], h[1])), vmovn_u16(vcombine_u16(h[2], h[3])));
        m[i] = vandq_u8(b, vbit);
    }
    for (int n = 8; n > 1; n /= 2)
        for (int i = 0; i < n / 2; i++) m[i] = vpaddq_u8(m[2 * i], m[2 * i + 1]);
    vst1q_u8(qs, m[0]);
}

static inline uint32_t q2_amax_bits(const float *x) {
    uint32x4_t m = vreinterpretq_u32_f32(abs_bits(vld1q_f32(x)));
    for (int j = 4; j < QK_Q2_0; j += 4) m = vmaxq_u32(m, vreinterpretq_u32_f32(abs_bits(vld1q_f32(x + j))));
    return vmaxvq_u32(m);
}

/* One vector = the 4 elements of one output byte: code 1 - ge + le (all-ones
 * masks, mod 2^32) shifted to bits 2i of lane i; two rounds of pairwise adds
 * sum each vector's lanes, four vectors at a time, then two narrowings. */
static inline void q2_codes(const float *x, float id, uint8_t *qs) {
    static const int32_t shift[4] = {0, 2, 4, 6};
    const int32x4_t sh = vld1q_s32(shift);
    const float32x4_t vid = vdupq_n_f32(id);
    uint32x4_t c[16];
    for (int m = 0; m < 16; m++) {
        const float32x4_t v = vmulq_f32(vld1q_f32(x + 4 * m), vid);
        const uint32x4_t code = vaddq_u32(vsubq_u32(vdupq_n_u32(1), vcgeq_f32(v, vdupq_n_f32(0.5f))),
                                          vcleq_f32(v, vdupq_n_f32(-0.5f)));
        c[m] = vshlq_u32(code, sh);
    }
    uint16x4_t b[4];
    for (int q = 0; q < 4; q++)
        b[q] = vmovn_u32(vpaddq_u32(vpaddq_u32(c[4 * q], c[4 * q + 1]), vpaddq_u32(c[4 * q + 2], c[4 * q + 3])));
    vst1q_u8(qs, vcombine_u8(vmovn_u16(vcombine_u16(b[0], b[1])), vmovn_u16(vcombine_u16(b[2], b[3]))));
}

#include "q1_q2_body.h"

size_t qk_quantize_q1_0_neon(QK_QUANTIZE_PARAMS) { return q1_0_quantize(QK_QUANTIZE_ARGS); }
size_t qk_quantize_q2_0_neon(QK_QUANTIZE_PARAMS) { return q2_0_quantize(QK_QUANTIZE_ARGS); }
