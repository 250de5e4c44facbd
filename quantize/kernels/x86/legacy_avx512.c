/* legacy_avx512.c - AVX-512 (F, BW, VL, DQ; no FMA) variants of the Q8_0,
 * Q4_0, Q4_1, Q5_0 and Q5_1 quantizers, byte-identical with the scalar
 * reference (q8_0.c, legacy.c): the vocabulary of legacy_rows_body.h for
 * one block, Q8_0's block and the entry points. Same exactness argument as legacy_avx2.c: identical single IEEE
 * operations per lane, cvttps2dq keeping the low byte (vpmovdb truncates),
 * exact max/min reductions with the first-lane rule for sign ties, NaN
 * blocks on the scalar path. With an imatrix, the block searches run as
 * lanes (legacy_imatrix_x86.h). */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "kernel_util.h"
#include "quant_search.h"
#include "legacy.h"
#include "lanes_x86.h"
#include "legacy_group8_x86.h"

/* A block is two zmm registers; the rest of its vocabulary is
 * legacy_blk_body.h's over these. */
#define LG_VEC __m512
#define LG_NV 2
#define LG_LANES 16
#define LG_LOAD _mm512_loadu_ps
#define LG_SET1 _mm512_set1_ps
#define LG_SUB _mm512_sub_ps
#define LG_ADD _mm512_add_ps
#define LG_MUL _mm512_mul_ps
#define LG_MIN _mm512_min_ps
#define LG_MAX _mm512_max_ps
#define LG_ABS _mm512_abs_ps
#define LG_HMIN _mm512_reduce_min_ps
#define LG_HMAX _mm512_reduce_max_ps
#define LG_MASK __mmask16
#define LG_UNORD(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_UNORD_Q)
#define LG_MASK_OR(a, b) ((__mmask16)((a) | (b)))
#define LG_MASK_ANY(m) ((m) != 0)
#define LG_EQ_BITS(v, s) _mm512_cmp_ps_mask((v), (s), _CMP_EQ_OQ)
#include "legacy_blk_body.h"
#include "legacy_blk_x86.h"

/* Low bytes of cvtt(v): lanes 0..15 in .lo, 16..31 in .hi. */
typedef struct { __m128i lo, hi; } bytes32;

static inline bytes32 cvtt_low_bytes(const __m512 v[2]) {
    bytes32 r = {_mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v[0])), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v[1]))};
    return r;
}

static inline bytes32 clamp_bytes(bytes32 q, int hi) {
    const __m128i h = _mm_set1_epi8((char)hi);
    q.lo = _mm_min_epi8(q.lo, h);
    q.hi = _mm_min_epi8(q.hi, h);
    return q;
}

static inline void store_nibbles(uint8_t *qs, bytes32 q, bool mask_low) { store_nibbles128(qs, q.lo, q.hi, mask_low); }

static inline void store_qh(uint8_t *qh, bytes32 q) {
    const __m128i bit = _mm_set1_epi8(0x10);
    const uint32_t m = (uint32_t)_mm_test_epi8_mask(q.lo, bit) | (uint32_t)_mm_test_epi8_mask(q.hi, bit) << 16;
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(m >> (8 * k));
}

/* Q8_0's levels roundf(x * id) as bytes. */
static inline void q8_0_levels(const blk32 *b, float id, uint8_t *qs) {
    const __m512 vid = _mm512_set1_ps(id), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    __m512 r[2];
    for (int k = 0; k < 2; k++) {
        /* roundf = trunc plus a step away from zero when |v - trunc(v)| >= 0.5 */
        const __m512 v = _mm512_mul_ps(b->v[k], vid);
        const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
        const __m512 step = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), one);
        const __mmask16 up = _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ);
        r[k] = _mm512_mask_add_ps(t, up, t, step);
    }
    const bytes32 q = cvtt_low_bytes(r);
    _mm_storeu_si128((__m128i *)qs, q.lo);
    _mm_storeu_si128((__m128i *)(qs + 16), q.hi);
}

/* Q4_1 and Q5_1 eight blocks at a time (legacy_group8_x86.h). The scale
 * part of the 8 blocks at x (256 floats) with levels = 15 or 31: each
 * block folded to one vector of minima and one of maxima, then the shared
 * code; false if the group holds a NaN (or a d comes out NaN), which then
 * goes block by block through the functions above. */
static inline bool group8_scales(const float *x, float levels, qk_group8 *g) {
    __m256 lo[8], hi[8];
    __mmask16 nan = 0;
    for (int k = 0; k < 8; k++) {
        const blk32 b = load_blk(x + 32 * k);
        nan |= _mm512_cmp_ps_mask(b.v[0], b.v[1], _CMP_UNORD_Q);
        const __m512 l = _mm512_min_ps(b.v[0], b.v[1]), h = _mm512_max_ps(b.v[0], b.v[1]);
        lo[k] = _mm256_min_ps(_mm512_castps512_ps256(l), _mm512_extractf32x8_ps(l, 1));
        hi[k] = _mm256_max_ps(_mm512_castps512_ps256(h), _mm512_extractf32x8_ps(h, 1));
    }
    if (nan) return false;
    return qk_group8_scales(x, lo, hi, levels, g);
}

/* One Q4_1 / Q5_1 block's unclamped levels from its group8 scales. */
#define group8_bytes(b, min, id) quant_bytes(b, min, id, 0.5f, true)

#define LG_W 16
#define LG_QX_LANES qk_qx_lanes_avx512
#define LG_QKX3_LANES qk_qkx3_lanes_avx512
#include "legacy_imatrix_x86.h"
#define LG_IMATRIX_ROWS lg_imatrix_rows
#define LG_GROUP8 1
#include "legacy_rows_body.h"

/* The entry points, by name (kernel_api.h: grep finds each definition). */
size_t qk_quantize_q4_0_avx512(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q4_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q4_1_avx512(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q4_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_0_avx512(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q5_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_1_avx512(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q5_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q8_0_avx512(QK_QUANTIZE_PARAMS) { return lg_q8_0_rows(QK_QUANTIZE_ARGS); }
