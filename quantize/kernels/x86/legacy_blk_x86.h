/* legacy_blk_x86.h - the parts of the legacy block vocabulary
 * (legacy_rows_body.h) that AVX2 and AVX-512 share, written once over each
 * file's own: blk32 (LG_NV vectors of type LG_VEC), blk_amax(b, a) (the
 * largest |x| of a NaN-free block, a = the |x| vectors), eq_mask(v, val)
 * (bit k: lane k equals val) and blk_reduce_min_max(b, &mn, &mx) (the
 * block's min and max from FLT_MAX / -FLT_MAX). Include after them. */
#ifndef QK_LEGACY_BLK_X86_H
#define QK_LEGACY_BLK_X86_H

/* The largest |x| of a NaN-free block. */
static inline float blk_absmax(const blk32 *b) {
    LG_VEC a[LG_NV];
    return blk_amax(b, a);
}

/* The signed element with the largest |x|, first on ties (+0 if all zero),
 * as the scalar `if (amax < fabsf(v))` loop picks it. */
static inline float blk_signed_absmax(const float *x, const blk32 *b) {
    LG_VEC a[LG_NV];
    const float amax = blk_amax(b, a);
    if (amax == 0.0f) return 0.0f;
    return x[__builtin_ctz(eq_mask(a, amax))];
}

/* min and max as the scalar loops starting from FLT_MAX / -FLT_MAX with
 * strict comparisons: value from min/max, the sign of a zero result from the
 * first lane holding that value. */
static inline void blk_min_max(const float *x, const blk32 *b, float *mn, float *mx) {
    float vmin, vmax;
    blk_reduce_min_max(b, &vmin, &vmax);
    if (vmin == 0.0f) vmin = x[__builtin_ctz(eq_mask(b->v, 0.0f))];
    if (vmax == 0.0f) vmax = x[__builtin_ctz(eq_mask(b->v, 0.0f))];
    *mn = vmin;
    *mx = vmax;
}

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
