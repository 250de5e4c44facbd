/* legacy_blk_body.h - the block half of the vocabulary of
 * legacy_rows_body.h, written once for every ISA (x86/legacy_avx2.c,
 * x86/legacy_avx512.c, arm/legacy_neon.c) over that ISA's primitives on one
 * vector. Each file defines, then includes this:
 *   LG_VEC, LG_NV, LG_LANES     vector type, vectors per block of 32, lanes per vector
 *   LG_LOAD(p), LG_SET1(f)      unaligned load, splat
 *   LG_MIN, LG_MAX, LG_ABS      lanewise min, max, |x| (exact on NaN-free lanes)
 *   LG_HMIN(v), LG_HMAX(v)      the smallest / largest lane (exact in any order)
 *   LG_MASK, LG_UNORD(a, b)     a lane mask: a or b is NaN in that lane
 *   LG_MASK_OR, LG_MASK_ANY(m)  the mask's union, and "some lane is set"
 *   LG_EQ_BITS(v, s)            bit j: lane j of v equals lane j of s (ordered)
 * and gets blk32, load_blk, blk_has_nan, eq_mask, blk_amax, blk_absmax,
 * blk_signed_absmax, blk_reduce_min_max and blk_min_max.
 *
 * Exactness: the value of a max/min reduction does not depend on the order
 * of a NaN-free block's lanes; what does (which of equal magnitudes of
 * opposite sign, +0 or -0, the scalar loop keeps) is the first lane holding
 * the result, found with eq_mask, so the result is the scalar reference's. */
#ifndef QK_LEGACY_BLK_BODY_H
#define QK_LEGACY_BLK_BODY_H

#include <float.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct { LG_VEC v[LG_NV]; } blk32;

static inline blk32 load_blk(const float *x) {
    blk32 b;
    for (int k = 0; k < LG_NV; k++) b.v[k] = LG_LOAD(x + LG_LANES * k);
    return b;
}

/* Two vectors per test: LG_NV is even on every ISA (8, 4, 2). */
static inline bool blk_has_nan(const blk32 *b) {
    LG_MASK m = LG_UNORD(b->v[0], b->v[1]);
    for (int k = 2; k < LG_NV; k += 2) m = LG_MASK_OR(m, LG_UNORD(b->v[k], b->v[k + 1]));
    return LG_MASK_ANY(m);
}

/* Bit k of the result: lane k of the block (k = 0..31) equals val. */
static inline uint32_t eq_mask(const LG_VEC v[LG_NV], float val) {
    const LG_VEC s = LG_SET1(val);
    uint32_t m = 0;
    for (int k = 0; k < LG_NV; k++) m |= (uint32_t)LG_EQ_BITS(v[k], s) << (LG_LANES * k);
    return m;
}

/* Largest |x| of a NaN-free block; a = the |x| vectors. */
static inline float blk_amax(const blk32 *b, LG_VEC a[LG_NV]) {
    LG_VEC m = a[0] = LG_ABS(b->v[0]);
    for (int k = 1; k < LG_NV; k++) {
        a[k] = LG_ABS(b->v[k]);
        m = LG_MAX(m, a[k]);
    }
    return LG_HMAX(m);
}

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

/* The block's min and max, reduced from FLT_MAX / -FLT_MAX. */
static inline void blk_reduce_min_max(const blk32 *b, float *mn, float *mx) {
    LG_VEC lo = LG_SET1(FLT_MAX), hi = LG_SET1(-FLT_MAX);
    for (int k = 0; k < LG_NV; k++) {
        lo = LG_MIN(lo, b->v[k]);
        hi = LG_MAX(hi, b->v[k]);
    }
    *mn = LG_HMIN(lo);
    *mx = LG_HMAX(hi);
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

#endif
