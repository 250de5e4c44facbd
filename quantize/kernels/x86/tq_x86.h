/* tq_x86.h - tq_body.h's 16-byte vocabulary (tq_v8) in SSE2, shared by
 * tq_avx2.c and tq_avx512.c. Include after <immintrin.h>. */
#ifndef QK_TQ_X86_H
#define QK_TQ_X86_H

#include <stdint.h>

typedef __m128i tq_v8;
static inline tq_v8 tq_v8_add(tq_v8 a, tq_v8 b) { return _mm_add_epi8(a, b); }
static inline tq_v8 tq_v8_or(tq_v8 a, tq_v8 b) { return _mm_or_si128(a, b); }
/* 16-bit shifts: bytes <= 2 shifted by <= 6 bits carry nothing into the next byte */
static inline tq_v8 tq_v8_shl(tq_v8 a, int k) { return _mm_sll_epi16(a, _mm_cvtsi32_si128(k)); }
#define TQ_V8_SHR_BYTES(a, k) _mm_srli_si128((a), (k))
static inline tq_v8 tq_v8_zero(void) { return _mm_setzero_si128(); }
static inline void tq_v8_store(uint8_t *p, tq_v8 a) { _mm_storeu_si128((__m128i *)p, a); }
static inline uint32_t tq_v8_low32(tq_v8 a) { return (uint32_t)_mm_cvtsi128_si32(a); }

/* (q * 256 + 242) / 243 per byte: 16-bit lanes q << 8 | 242 (q <= 242 keeps
 * them below 2^16), their high product with 34522, >> 7 */
static inline tq_v8 tq_v8_scale243(tq_v8 q) {
    const __m128i c = _mm_set1_epi8((char)242), m = _mm_set1_epi16((short)34522);
    const __m128i lo = _mm_srli_epi16(_mm_mulhi_epu16(_mm_unpacklo_epi8(c, q), m), 7);
    const __m128i hi = _mm_srli_epi16(_mm_mulhi_epu16(_mm_unpackhi_epi8(c, q), m), 7);
    return _mm_packus_epi16(lo, hi);
}

#endif
