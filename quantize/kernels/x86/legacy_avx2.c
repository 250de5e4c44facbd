/* legacy_avx2.c - AVX2 (+F16C, no FMA) variants of the Q8_0, Q4_0, Q4_1,
 * Q5_0 and Q5_1 quantizers, byte-identical with the scalar reference in
 * q8_0.c / legacy.c: the vector vocabulary of one block (a block is four
 * ymm registers) for the shared body legacy_rows_body.h, Q8_0's block, and
 * the entry points.
 *
 * How exactness is kept: per block of 32, the elementwise part (x*id + c,
 * truncation, clamps, packing) runs 8 lanes at a time with the same single
 * IEEE operations as scalar (no FMA: the file is built with -mno-fma and
 * -ffp-contract=off); cvttps2dq is the very instruction the scalar
 * emulation (qk_cvtt_i32) models, and only its low byte is kept, as ggml
 * does. Reductions are max/min, which are exact in any order; the scalar
 * "first element wins" rule only decides between equal magnitudes of
 * opposite sign (and +0/-0), so it is resolved by locating the first lane
 * equal to the result. Blocks containing NaN (where the scalar loops' order
 * matters) are handed to the scalar block function. With an imatrix, the
 * block searches run as lanes (legacy_imatrix_x86.h); Q8_0 ignores the imatrix.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "kernel_util.h"
#include "quant_search.h"
#include "legacy.h"
#include "lanes_x86.h"
#include "legacy_group8_x86.h"

static inline float hmax8(__m256 m) {
    __m128 r = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    r = _mm_max_ps(r, _mm_movehl_ps(r, r));
    r = _mm_max_ss(r, _mm_shuffle_ps(r, r, 1));
    return _mm_cvtss_f32(r);
}

static inline float hmin8(__m256 m) {
    __m128 r = _mm_min_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    r = _mm_min_ps(r, _mm_movehl_ps(r, r));
    r = _mm_min_ss(r, _mm_shuffle_ps(r, r, 1));
    return _mm_cvtss_f32(r);
}

/* A block is four ymm registers; the rest of its vocabulary is
 * legacy_blk_body.h's over these. */
#define LG_VEC __m256
#define LG_NV 4
#define LG_LANES 8
#define LG_LOAD _mm256_loadu_ps
#define LG_SET1 _mm256_set1_ps
#define LG_SUB _mm256_sub_ps
#define LG_ADD _mm256_add_ps
#define LG_MUL _mm256_mul_ps
#define LG_MIN _mm256_min_ps
#define LG_MAX _mm256_max_ps
#define LG_ABS(v) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (v))
#define LG_HMIN hmin8
#define LG_HMAX hmax8
#define LG_MASK __m256
#define LG_UNORD(a, b) _mm256_cmp_ps((a), (b), _CMP_UNORD_Q)
#define LG_MASK_OR _mm256_or_ps
#define LG_MASK_ANY(m) (_mm256_movemask_ps(m) != 0)
#define LG_EQ_BITS(v, s) _mm256_movemask_ps(_mm256_cmp_ps((v), (s), _CMP_EQ_OQ))
#include "legacy_blk_body.h"
#include "legacy_blk_x86.h"

/* Low bytes of cvtt(v[k]) for all 32 lanes, in lane order. */
typedef __m256i bytes32;
static inline __m256i cvtt_low_bytes(const __m256 v[4]) {
    const __m256i ff = _mm256_set1_epi32(0xff);
    __m256i i[4];
    for (int k = 0; k < 4; k++) i[k] = _mm256_and_si256(_mm256_cvttps_epi32(v[k]), ff);
    const __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(i[0], i[1]), _mm256_packus_epi32(i[2], i[3]));
    return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline __m256i clamp_bytes(__m256i q, int hi) { return _mm256_min_epi8(q, _mm256_set1_epi8((char)hi)); }

/* qs[j] = q[j] | q[j+16] << 4 (byte arithmetic, as the scalar uint8 store). */
static inline void store_nibbles(uint8_t *qs, __m256i q, bool mask_low) {
    store_nibbles128(qs, _mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1), mask_low);
}

/* qh: bit j = bit 4 of q[j]. */
static inline void store_qh(uint8_t *qh, __m256i q) {
    const uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(q, 3));
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(m >> (8 * k));
}

/* Q8_0's levels roundf(x * id) as bytes. */
static inline void q8_0_levels(const blk32 *b, float id, uint8_t *qs) {
    const __m256 vid = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 r[4];
    for (int k = 0; k < 4; k++) {
        /* roundf: truncate, then step away from zero when |fraction| >= 0.5
         * (the fraction v - trunc(v) is exact). */
        const __m256 v = _mm256_mul_ps(b->v[k], vid);
        const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
        const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), one);
        r[k] = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), step));
    }
    _mm256_storeu_si256((__m256i *)qs, cvtt_low_bytes(r));
}

/* Q4_1 and Q5_1 eight blocks at a time (legacy_group8_x86.h). The scale
 * part of the 8 blocks at x (256 floats) with levels = 15 or 31: each
 * block folded to one vector of minima and one of maxima, then the shared
 * code; false if the group holds a NaN (or a d comes out NaN), which then
 * goes block by block through the functions above. */
static inline bool group8_scales(const float *x, float levels, qk_group8 *g) {
    __m256 lo[8], hi[8], nan = _mm256_setzero_ps();
    for (int k = 0; k < 8; k++) {
        const blk32 b = load_blk(x + 32 * k);
        nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(b.v[0], b.v[1], _CMP_UNORD_Q),
                                             _mm256_cmp_ps(b.v[2], b.v[3], _CMP_UNORD_Q)));
        lo[k] = _mm256_min_ps(_mm256_min_ps(b.v[0], b.v[1]), _mm256_min_ps(b.v[2], b.v[3]));
        hi[k] = _mm256_max_ps(_mm256_max_ps(b.v[0], b.v[1]), _mm256_max_ps(b.v[2], b.v[3]));
    }
    if (_mm256_movemask_ps(nan)) return false;
    return qk_group8_scales(x, lo, hi, levels, g);
}

/* cvtt((x - min) * id + 0.5f) as bytes, for a group8 block: every lane is
 * either in [0, 47] or cvttps2dq's 0x80000000 (NaN, inf, >= 2^31), because
 * x - min <= max - min = R rounds monotonically and id = 1/(R/levels):
 * R*id is within rounding of levels (15 or 31) for a normal d, below
 * 1.5 * levels for a subnormal d with a finite 1/d, and an infinite id or R
 * gives inf/NaN. On that range the saturating packs equal cvtt_low_bytes'
 * low bytes (0x80000000 saturates to 0, its low byte), without the masks;
 * and the signed clamp of clamp_bytes is the unsigned one there. */
static inline __m256i group_quant_bytes(const blk32 *b, float min, float id) {
    const __m256 vs = _mm256_set1_ps(min), vid = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f);
    __m256i i[4];
    for (int k = 0; k < 4; k++) i[k] = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(b->v[k], vs), vid), half));
    const __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(i[0], i[1]), _mm256_packus_epi32(i[2], i[3]));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

#define LG_W 8
#define LG_QX_LANES qk_qx_lanes_avx2
#define LG_QKX3_LANES qk_qkx3_lanes_avx2
#include "legacy_imatrix_x86.h"
#define LG_IMATRIX_ROWS lg_imatrix_rows
#define LG_GROUP8 1
#define group8_bytes group_quant_bytes
#include "legacy_rows_body.h"

/* The entry points, by name (kernel_api.h: grep finds each definition). */
size_t qk_quantize_q4_0_avx2(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q4_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q4_1_avx2(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q4_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_0_avx2(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q5_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_1_avx2(QK_QUANTIZE_PARAMS) { return lg_rows(&qk_legacy_q5_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q8_0_avx2(QK_QUANTIZE_PARAMS) { return lg_q8_0_rows(QK_QUANTIZE_ARGS); }
