/* tq_body.h - the AVX2 and AVX-512 TQ1_0 / TQ2_0 quantizers (layouts in
 * tq.c), written once over 16-byte vectors of trits; only the block's
 * amax and the trits of 16 floats differ per ISA.
 *
 * Included once by tq_avx2.c and tq_avx512.c, after they define:
 *   TQ_ISA(name)              the exported name's ISA suffix (name##_avx2 ...)
 *   TQ_VF                     the float vector (__m256 / __m512)
 *   TQ_SET1(f)                TQ_VF with every lane f
 *   tq_amax_bits(x)           max over x[0..255] of the bits of |x| as uint32
 *   tq_trits16(x, vid)        __m128i: byte i = trit of x[i] * id, i = 0..15
 *
 * Exactness. The bits of |x| order as the floats do, with inf and NaN above
 * every finite value, so one integer max finds both amax (exact: a max does
 * not round, and without NaN ggml's MAX is the plain maximum) and whether
 * the block holds NaN/inf; such a block, or one whose 1/amax is infinite
 * (amax subnormal), goes to the scalar qk_tq*_block. Otherwise every
 * v = x * id (one IEEE multiply, as in scalar: no FMA in these files) has
 * |v| <= amax * id, which is within a few ulps of 1 (checked: < 1.5), and on
 * (-1.5, 1.5) lroundf (half away from zero) is (v >= 0.5) - (v <= -0.5),
 * so a trit is 1 + that: two compares. Base-3 packing never wraps a byte
 * (at most 242), and ceil(q * 256 / 243) = (q * 256 + 242) / 243 is
 * mulhi_epu16(q * 256 + 242, 34522) >> 7 for every q <= 255 the trits
 * give (q <= 242: checked exhaustively, see tests/quantize/test_kernels_simd_tq.c).
 * The fp16 scale is qk_put_f16 of amax, the scalar's conversion. */
#include <stddef.h>
#include <string.h>

#include "kernel_util.h"
#include "lowbit.h"

/* q * 3 + t per byte (no wrap: the result is at most 242) */
static inline __m128i tq_base3(__m128i q, __m128i t) { return _mm_add_epi8(_mm_add_epi8(q, _mm_add_epi8(q, q)), t); }

/* ceil(q * 256 / 243) per byte for q <= 242 */
static inline __m128i tq_scale243(__m128i q) {
    const __m128i c = _mm_set1_epi8((char)242), m = _mm_set1_epi16((short)34522);
    const __m128i lo = _mm_srli_epi16(_mm_mulhi_epu16(_mm_unpacklo_epi8(c, q), m), 7);
    const __m128i hi = _mm_srli_epi16(_mm_mulhi_epu16(_mm_unpackhi_epi8(c, q), m), 7);
    return _mm_packus_epi16(lo, hi);
}

/* amax and id of the block at x for the fast path; false: leave the block
 * to the scalar code (NaN/inf, or an id the two compares cannot serve). */
static inline bool tq_scale(const float *x, float *amax, float *id) {
    const uint32_t bits = tq_amax_bits(x);
    if (bits >= 0x7f800000u) return false;
    memcpy(amax, &bits, sizeof bits);
    *id = *amax ? 1.0f / *amax : 0.0f;
    return *amax * *id < 1.5f; /* false for an infinite id */
}

/* 16 bytes of five trits each: byte m holds x[m + n w], n = 0..4 */
static inline __m128i tq_pack5(const float *x, int w, TQ_VF vid) {
    __m128i q = tq_trits16(x, vid);
    for (int n = 1; n < 5; n++) q = tq_base3(q, tq_trits16(x + n * w, vid));
    return tq_scale243(q);
}

static void tq1_0_block(const float *x, uint8_t *y) {
    float amax, id;
    if (!tq_scale(x, &amax, &id)) {
        qk_tq1_0_block(x, y);
        return;
    }
    const TQ_VF vid = TQ_SET1(id);
    uint8_t *qs = y + offsetof(qk_block_tq1_0, qs), *qh = y + offsetof(qk_block_tq1_0, qh);
    _mm_storeu_si128((__m128i *)qs, tq_pack5(x, 32, vid));
    _mm_storeu_si128((__m128i *)(qs + 16), tq_pack5(x + 16, 32, vid));
    _mm_storeu_si128((__m128i *)(qs + 32), tq_pack5(x + 160, 16, vid));
    /* qh[j]: x[240 + j + 4m], m = 0..3, then a fifth, zero trit */
    const __m128i t = tq_trits16(x + 240, vid);
    __m128i q = tq_base3(t, _mm_srli_si128(t, 4));
    q = tq_base3(q, _mm_srli_si128(t, 8));
    q = tq_base3(q, _mm_srli_si128(t, 12));
    const uint32_t h = (uint32_t)_mm_cvtsi128_si32(tq_scale243(tq_base3(q, _mm_setzero_si128())));
    memcpy(qh, &h, sizeof h); /* x86: little-endian, byte j is lane j */
    qk_put_f16(y + offsetof(qk_block_tq1_0, d), amax);
}

static void tq2_0_block(const float *x, uint8_t *y) {
    float amax, id;
    if (!tq_scale(x, &amax, &id)) {
        qk_tq2_0_block(x, y);
        return;
    }
    const TQ_VF vid = TQ_SET1(id);
    /* byte j + m of each 32-byte group: x[m + 32n] in bits 2n..2n+1; the
     * 16-bit shifts move no bit across a byte (a trit is at most 2) */
    for (int j = 0; j < QK_K / 4; j += 32, x += 128) {
        for (int h = 0; h < 32; h += 16) {
            __m128i q = tq_trits16(x + h, vid);
            for (int n = 1; n < 4; n++) q = _mm_or_si128(q, _mm_slli_epi16(tq_trits16(x + h + 32 * n, vid), 2 * n));
            _mm_storeu_si128((__m128i *)(y + j + h), q);
        }
    }
    qk_put_f16(y + offsetof(qk_block_tq2_0, d), amax);
}

size_t TQ_ISA(qk_quantize_tq1_0)(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq1_0, tq1_0_block); }
size_t TQ_ISA(qk_quantize_tq2_0)(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq2_0, tq2_0_block); }
