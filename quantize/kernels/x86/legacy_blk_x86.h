/* legacy_blk_x86.h - the part of the legacy block vocabulary
 * (legacy_rows_body.h) that AVX2 and AVX-512 share and NEON does not
 * (legacy_blk_body.h holds what all three share): store_nibbles128 and
 * LG_PUT_F16. */
#ifndef QK_LEGACY_BLK_X86_H
#define QK_LEGACY_BLK_X86_H

/* A block's fp16 d / min: vcvtps2ph rounds to nearest even, as
 * qk_fp32_to_fp16 does, for every value that is not NaN. Blocks holding NaN
 * take the scalar block, so the only NaN here is the d of a _1 block of equal
 * infinities (inf - inf): the default NaN, which both turn into 0x7E00 with
 * its sign (0xFE00 on x86). legacy_group8_x86.h converts 8 blocks at once. */
#define LG_PUT_F16(p, f) qk_put_u16((p), (uint16_t)_cvtss_sh((f), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))

/* qs[j] = lo[j] | hi[j] << 4 for 16 bytes (byte arithmetic, as the scalar
 * uint8 store), the levels masked to 4 bits first if mask_low (5-bit types). */
static inline void store_nibbles128(uint8_t *qs, __m128i lo, __m128i hi, bool mask_low) {
    if (mask_low) {
        lo = _mm_and_si128(lo, _mm_set1_epi8(0x0F));
        hi = _mm_and_si128(hi, _mm_set1_epi8(0x0F));
    }
    const __m128i h4 = _mm_and_si128(_mm_slli_epi16(hi, 4), _mm_set1_epi8((char)0xF0));
    _mm_storeu_si128((__m128i *)qs, _mm_or_si128(lo, h4));
}

#endif
