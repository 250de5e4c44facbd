/* legacy_neon.c - NEON (aarch64) variants of the Q8_0, Q4_0, Q4_1, Q5_0 and
 * Q5_1 quantizers, byte-identical with the scalar reference (q8_0.c,
 * legacy.c): the vocabulary of legacy_rows_body.h for one block (eight
 * float32x4_t), Q8_0's block, the imatrix rows and the entry points.
 *
 * Exactness: only separate vmulq/vaddq/vsubq (never vfma/vmla: the file is
 * built with -ffp-contract=off and uses no fused intrinsics); vrndaq is
 * roundf exactly; the scalar reference's float -> int conversion follows x86
 * cvttss2si (NaN / out of range -> INT32_MIN, low byte kept), while NEON's
 * vcvtq saturates, so out-of-range lanes are forced to INT32_MIN. max/min
 * reductions are exact; the first-lane rule for sign ties is applied with a
 * lane mask (legacy_blk_body.h); NaN blocks take the scalar path.
 */
#include <arm_neon.h>
#include <stdbool.h>

#include "kernel_util.h"
#include "quant_search.h"
#include "legacy.h"
#include "search_neon.h"

/* Bit j: lane j of v equals lane j of s. */
static inline uint32_t eq_bits4(float32x4_t v, float32x4_t s) {
    static const uint32_t w[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(vceqq_f32(v, s), vld1q_u32(w)));
}

/* Lanes where a or b is NaN. */
static inline uint32x4_t unord4(float32x4_t a, float32x4_t b) {
    return vmvnq_u32(vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b)));
}

/* A block is eight float32x4_t; the rest of its vocabulary is
 * legacy_blk_body.h's over these. */
#define LG_VEC float32x4_t
#define LG_NV 8
#define LG_LANES 4
#define LG_LOAD vld1q_f32
#define LG_SET1 vdupq_n_f32
#define LG_SUB vsubq_f32
#define LG_ADD vaddq_f32
#define LG_MUL vmulq_f32
#define LG_MIN vminq_f32
#define LG_MAX vmaxq_f32
#define LG_ABS vabsq_f32
#define LG_HMIN vminvq_f32
#define LG_HMAX vmaxvq_f32
#define LG_MASK uint32x4_t
#define LG_UNORD unord4
#define LG_MASK_OR vorrq_u32
#define LG_MASK_ANY(m) (vmaxvq_u32(m) != 0)
#define LG_EQ_BITS eq_bits4
#include "legacy_blk_body.h"

/* x86 cvttps2dq semantics: NaN or outside [-2^31, 2^31) -> INT32_MIN. */
static inline int32x4_t cvtt_x86(float32x4_t v) {
    const uint32x4_t in = vandq_u32(vcgeq_f32(v, vdupq_n_f32(-2147483648.0f)), vcltq_f32(v, vdupq_n_f32(2147483648.0f)));
    return vbslq_s32(in, vcvtq_s32_f32(v), vdupq_n_s32(INT32_MIN));
}

/* Low bytes of cvtt(v[k]), lanes 0..15 in q[0], 16..31 in q[1]. */
typedef struct { uint8x16_t v[2]; } bytes32;

static inline bytes32 cvtt_low_bytes(const float32x4_t v[8]) {
    bytes32 r;
    uint8x16_t *q = r.v;
    for (int h = 0; h < 2; h++) {
        uint16x8_t a = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 0]))),
                                    vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 1]))));
        uint16x8_t b = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 2]))),
                                    vmovn_u32(vreinterpretq_u32_s32(cvtt_x86(v[4 * h + 3]))));
        q[h] = vcombine_u8(vmovn_u16(a), vmovn_u16(b));
    }
    return r;
}

static inline bytes32 clamp_bytes(bytes32 q, int hi) {
    for (int h = 0; h < 2; h++)
        q.v[h] = vreinterpretq_u8_s8(vminq_s8(vreinterpretq_s8_u8(q.v[h]), vdupq_n_s8((int8_t)hi)));
    return q;
}

static inline void store_nibbles(uint8_t *qs, bytes32 q, bool mask_low) {
    uint8x16_t lo = q.v[0], hi = q.v[1];
    if (mask_low) {
        lo = vandq_u8(lo, vdupq_n_u8(0x0F));
        hi = vandq_u8(hi, vdupq_n_u8(0x0F));
    }
    vst1q_u8(qs, vorrq_u8(lo, vshlq_n_u8(hi, 4)));
}

static inline void store_qh(uint8_t *qh, bytes32 q) {
    /* bit 4 of each byte, weighted by its bit position within 8 lanes */
    static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t vw = vld1q_u8(w);
    for (int h = 0; h < 2; h++) {
        const uint8x16_t bits = vandq_u8(vtstq_u8(q.v[h], vdupq_n_u8(0x10)), vw);
        qh[2 * h] = vaddv_u8(vget_low_u8(bits));
        qh[2 * h + 1] = vaddv_u8(vget_high_u8(bits));
    }
}

/* Q8_0's levels roundf(x * id) (vrndaq) as bytes. */
static inline void q8_0_levels(const blk32 *b, float id, uint8_t *qs) {
    const float32x4_t vid = vdupq_n_f32(id);
    float32x4_t r[8];
    for (int k = 0; k < 8; k++) r[k] = vrndaq_f32(vmulq_f32(b->v[k], vid));
    const bytes32 q = cvtt_low_bytes(r);
    vst1q_u8(qs, q.v[0]);
    vst1q_u8(qs + 16, q.v[1]);
}

/* With an imatrix: per row, four blocks at a time through
 * qk_qx_search4_neon / qk_kq_search4_neon (search_neon.c), the row's last
 * nb % 4 blocks through the scalar block; weights and packing as the scalar
 * code: the same bytes. A row holding NaN (NaN sigma2) goes through the
 * scalar block whole: which NaN survives depends on the operand order of
 * each compiled copy, so only the same code gives the same bits. */
static size_t lg_imatrix_rows_neon(const qk_legacy_type *t, const float *src, void *dst, int64_t nrows,
                                   int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    /* make_qkx3_quants(32, nmax, .., -0.9, 0.05, 36, false) */
    const qk_kq_params p3 = {t->nmax, -0.9f, 0.05f, 36};
    float weight[4 * QK_LEGACY], scales[4], mins[4] = {0};
    uint8_t L[4 * QK_LEGACY];
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        const float sigma2 = qk_legacy_row_sigma2(x, n_per_row);
        int64_t ib = 0;
        for (; ib + 4 <= nb && sigma2 == sigma2; ib += 4) {
            const float *xb = x + QK_LEGACY * ib;
            for (int k = 0; k < 4; k++)
                qk_legacy_imatrix_weights(xb + QK_LEGACY * k, imatrix + QK_LEGACY * (ib + k), sigma2,
                                          weight + QK_LEGACY * k);
            if (!t->has_min) qk_qx_search4_neon(QK_LEGACY, t->nmax, xb, weight, scales, (int8_t *)L);
            else qk_kq_search4_neon(&p3, QK_LEGACY, true, false, xb, weight, scales, mins, L);
            for (int k = 0; k < 4; k++)
                qk_legacy_pack(t, y + (size_t)(r * nb + ib + k) * t->bytes, scales[k], mins[k], L + QK_LEGACY * k);
        }
        for (; ib < nb; ib++)
            t->block_imatrix(x + QK_LEGACY * ib, imatrix + QK_LEGACY * ib, sigma2, y + (size_t)(r * nb + ib) * t->bytes);
    }
    return (size_t)(nrows * nb) * t->bytes;
}

#define LG_IMATRIX_ROWS lg_imatrix_rows_neon
#include "legacy_rows_body.h"

/* The entry points, by name (kernel_api.h: grep finds each definition). */
size_t qk_quantize_q4_0_neon(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q4_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q4_1_neon(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q4_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_0_neon(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q5_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_1_neon(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q5_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q8_0_neon(QK_QUANTIZE_PARAMS) { return lg_q8_0_rows(QK_QUANTIZE_ARGS); }
