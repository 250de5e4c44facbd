/* legacy_neon.c - NEON (aarch64) variants of the F16, BF16, Q8_0, Q4_0,
 * Q4_1, Q5_0 and Q5_1 quantizers, byte-identical with the scalar reference.
 *
 * Exactness: only separate vmulq/vaddq/vsubq (never vfma/vmla: the file is
 * built with -ffp-contract=off and uses no fused intrinsics); vrndaq is
 * roundf exactly; the scalar reference's float -> int conversion follows x86
 * cvttss2si (NaN / out of range -> INT32_MIN, low byte kept), while NEON's
 * vcvtq saturates, so out-of-range lanes are forced to INT32_MIN. max/min
 * reductions are exact; the first-lane rule for sign ties is applied with a
 * scalar scan; NaN blocks take the scalar path (imatrix rows: q4_0.c, q5_0.c). F16 uses
 * vcvt_f16_f32 (round to nearest even, subnormals kept with the default
 * FPCR), with NaN groups converted by the scalar code (ggml's fixed 0x7E00).
 */
#include <arm_neon.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "float_formats.h"
#include "quant_search.h"
#include "legacy.h"
#include "simd_legacy.h"

typedef struct { float32x4_t v[8]; } blk32;

static inline blk32 load_blk(const float *x) {
    blk32 b;
    for (int k = 0; k < 8; k++) b.v[k] = vld1q_f32(x + 4 * k);
    return b;
}

static inline bool blk_has_nan(const blk32 *b) {
    uint32x4_t ok = vceqq_f32(b->v[0], b->v[0]);
    for (int k = 1; k < 8; k++) ok = vandq_u32(ok, vceqq_f32(b->v[k], b->v[k]));
    return vminvq_u32(ok) == 0;
}

static inline float blk_amax(const blk32 *b) {
    float32x4_t m = vabsq_f32(b->v[0]);
    for (int k = 1; k < 8; k++) m = vmaxq_f32(m, vabsq_f32(b->v[k]));
    return vmaxvq_f32(m);
}

static inline float blk_signed_absmax(const float *x, const blk32 *b) {
    const float amax = blk_amax(b);
    if (amax == 0.0f) return 0.0f;
    int j = 0;
    while (fabsf(x[j]) != amax) j++;
    return x[j];
}

static inline float first_zero(const float *x) {
    int j = 0;
    while (x[j] != 0.0f) j++;
    return x[j];
}

static inline void blk_min_max(const float *x, const blk32 *b, float *mn, float *mx) {
    float32x4_t lo = vdupq_n_f32(FLT_MAX), hi = vdupq_n_f32(-FLT_MAX);
    for (int k = 0; k < 8; k++) {
        lo = vminq_f32(lo, b->v[k]);
        hi = vmaxq_f32(hi, b->v[k]);
    }
    float vmin = vminvq_f32(lo), vmax = vmaxvq_f32(hi);
    if (vmin == 0.0f) vmin = first_zero(x);
    if (vmax == 0.0f) vmax = first_zero(x);
    *mn = vmin;
    *mx = vmax;
}

/* x86 cvttps2dq semantics: NaN or outside [-2^31, 2^31) -> INT32_MIN. */
static inline int32x4_t cvtt_x86(float32x4_t v) {
    const uint32x4_t in = vandq_u32(vcgeq_f32(v, vdupq_n_f32(-2147483648.0f)), vcltq_f32(v, vdupq_n_f32(2147483648.0f)));
    return vbslq_s32(in, vcvtq_s32_f32(v), vdupq_n_s32(INT32_MIN));
}

/* Low bytes of cvtt(v[k]), lanes 0..15 in q[0], 16..31 in q[1]. */
static inline void cvtt_low_bytes(const float32x4_t v[8], uint8x16_t q[2]) {
    for (int h = 0; h < 2; h++) {
        uint16x8_t a = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 0]))),
                                    vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 1]))));
        uint16x8_t b = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 2]))),
                                    vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 3]))));
        q[h] = vcombine_u8(vmovn_u16(a), vmovn_u16(b));
    }
}

static inline void quant_bytes(const blk32 *b, float sub, float id, float add, bool use_sub, uint8x16_t q[2]) {
    const float32x4_t vs = vdupq_n_f32(sub), vid = vdupq_n_f32(id), va = vdupq_n_f32(add);
    float32x4_t v[8];
    for (int k = 0; k < 8; k++) {
        const float32x4_t x = use_sub ? vsubq_f32(b->v[k], vs) : b->v[k];
        v[k] = vaddq_f32(vmulq_f32(x, vid), va);
    }
    cvtt_low_bytes(v, q);
}

static inline void clamp_bytes(uint8x16_t q[2], int hi) {
    for (int h = 0; h < 2; h++)
        q[h] = vreinterpretq_u8_s8(vminq_s8(vreinterpretq_s8_u8(q[h]), vdupq_n_s8((int8_t)hi)));
}

static inline void store_nibbles(uint8_t *qs, const uint8x16_t q[2], bool mask_low) {
    uint8x16_t lo = q[0], hi = q[1];
    if (mask_low) {
        lo = vandq_u8(lo, vdupq_n_u8(0x0F));
        hi = vandq_u8(hi, vdupq_n_u8(0x0F));
    }
    vst1q_u8(qs, vorrq_u8(lo, vshlq_n_u8(hi, 4)));
}

static inline void store_qh(uint8_t *qh, const uint8x16_t q[2]) {
    /* bit 4 of each byte, weighted by its bit position within 8 lanes */
    static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t vw = vld1q_u8(w);
    for (int h = 0; h < 2; h++) {
        const uint8x16_t bits = vandq_u8(vtstq_u8(q[h], vdupq_n_u8(0x10)), vw);
        qh[2 * h] = vaddv_u8(vget_low_u8(bits));
        qh[2 * h + 1] = vaddv_u8(vget_high_u8(bits));
    }
}

static void q8_0_block(const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) { qk_q8_0_block_ref(x, y); return; }
    const float amax = blk_amax(&b);
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    const float32x4_t vid = vdupq_n_f32(id);
    float32x4_t r[8];
    for (int k = 0; k < 8; k++) r[k] = vrndaq_f32(vmulq_f32(b.v[k], vid));
    uint8x16_t q[2];
    cvtt_low_bytes(r, q);
    vst1q_u8(y + 2, q[0]);
    vst1q_u8(y + 18, q[1]);
}

static void q4_0_block(const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) { qk_q4_0_block_ref(x, y); return; }
    const float max = blk_signed_absmax(x, &b);
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    uint8x16_t q[2];
    quant_bytes(&b, 0, id, 8.5f, false, q);
    clamp_bytes(q, 15);
    store_nibbles(y + 2, q, false);
}

static void q4_1_block(const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) { qk_q4_1_block_ref(x, y); return; }
    float min, max;
    blk_min_max(x, &b, &min, &max);
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    qk_put_u16(y + 2, qk_fp32_to_fp16(min));
    uint8x16_t q[2];
    quant_bytes(&b, min, id, 0.5f, true, q);
    clamp_bytes(q, 15);
    store_nibbles(y + 4, q, false);
}

static void q5_0_block(const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) { qk_q5_0_block_ref(x, y); return; }
    const float max = blk_signed_absmax(x, &b);
    const float d = max / -16;
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    uint8x16_t q[2];
    quant_bytes(&b, 0, id, 16.5f, false, q);
    clamp_bytes(q, 31);
    store_qh(y + 2, q);
    store_nibbles(y + 6, q, true);
}

static void q5_1_block(const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) { qk_q5_1_block_ref(x, y); return; }
    float min, max;
    blk_min_max(x, &b, &min, &max);
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    qk_put_u16(y + 2, qk_fp32_to_fp16(min));
    uint8x16_t q[2];
    quant_bytes(&b, min, id, 0.5f, true, q);
    store_qh(y + 4, q);
    store_nibbles(y + 8, q, true);
}

/* With an imatrix: the block searches four at a time (q4_0.c, q5_0.c). */
#define LG_ISA(name) name##_neon
#define LG_IMATRIX(t, ...) qk_legacy_quantize_imatrix_neon(t, __VA_ARGS__)
#include "legacy_rows_body.h"

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
