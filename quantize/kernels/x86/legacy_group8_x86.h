/* legacy_group8_x86.h - the scale part of eight Q4_1/Q5_1 blocks at once,
 * shared by legacy_avx2.c and legacy_avx512.c (both compile it with at
 * least AVX2 + F16C, no FMA).
 *
 * The caller folds each block's 32 values to one vector of 8 minima and one
 * of 8 maxima (lo[k], hi[k] for block k) and makes sure the group holds no
 * NaN. From there the per-block reductions end in one vector holding the 8
 * blocks' min (and one their max), so d, id and both fp16 conversions are
 * single vector operations for all 8: vcvtps2ph with round-to-nearest-even
 * is qk_fp32_to_fp16 for every non-NaN value, and neither d nor min can be
 * NaN for a NaN-free block. Every lane computes what the scalar block
 * function computes, so the bytes are the scalar bytes. */
#ifndef QK_LEGACY_GROUP8_X86_H
#define QK_LEGACY_GROUP8_X86_H

#include <immintrin.h>
#include <float.h>
#include <stdbool.h>
#include <stdint.h>

/* Lane k of the result: min (max) over the 8 lanes of m[k]. Exact in any
 * order for NaN-free inputs, up to the sign of a zero (fixed below). */
#define QK_REDUCE8(name, op)                                                                          \
    static inline __m256 name(const __m256 m[8]) {                                                   \
        __m256 t[4];                                                                                 \
        for (int k = 0; k < 4; k++)                                                                  \
            t[k] = op(_mm256_unpacklo_ps(m[2 * k], m[2 * k + 1]), _mm256_unpackhi_ps(m[2 * k], m[2 * k + 1])); \
        const __m256 u0 = op(_mm256_shuffle_ps(t[0], t[1], 0x44), _mm256_shuffle_ps(t[0], t[1], 0xEE));   \
        const __m256 u1 = op(_mm256_shuffle_ps(t[2], t[3], 0x44), _mm256_shuffle_ps(t[2], t[3], 0xEE));   \
        return op(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));           \
    }
QK_REDUCE8(qk_reduce8_min, _mm256_min_ps)
QK_REDUCE8(qk_reduce8_max, _mm256_max_ps)
#undef QK_REDUCE8

typedef struct {
    float min[8], id[8];
    uint32_t dm[8]; /* fp16 d | fp16 min << 16: the first 4 bytes of each block */
} qk_group8;

/* The scales of the 8 NaN-free blocks of 32 at x from their folded minima
 * lo[k] and maxima hi[k], with levels = 15 (Q4_1) or 31 (Q5_1). False when
 * a d comes out NaN (a block of only +inf or only -inf: inf - inf), which
 * the caller leaves to the block-by-block path. */
static inline bool qk_group8_scales(const float *x, const __m256 lo[8], const __m256 hi[8], float levels,
                                    qk_group8 *g) {
    /* the scalar loops start from FLT_MAX / -FLT_MAX */
    __m256 vmin = _mm256_min_ps(qk_reduce8_min(lo), _mm256_set1_ps(FLT_MAX));
    __m256 vmax = _mm256_max_ps(qk_reduce8_max(hi), _mm256_set1_ps(-FLT_MAX));
    const __m256 zero = _mm256_setzero_ps();
    const int zmin = _mm256_movemask_ps(_mm256_cmp_ps(vmin, zero, _CMP_EQ_OQ));
    const int zmax = _mm256_movemask_ps(_mm256_cmp_ps(vmax, zero, _CMP_EQ_OQ));
    if (zmin | zmax) {
        /* a zero min or max takes its sign from the block's first zero (rare:
         * found by a plain scan) */
        float mn[8], mx[8];
        _mm256_storeu_ps(mn, vmin);
        _mm256_storeu_ps(mx, vmax);
        for (int k = 0; k < 8; k++) {
            if (!((zmin | zmax) >> k & 1)) continue;
            const float *b = x + 32 * k;
            int j = 0;
            while (b[j] != 0.0f) j++; /* a zero min or max means the block holds a zero */
            if (zmin >> k & 1) mn[k] = b[j];
            if (zmax >> k & 1) mx[k] = b[j];
        }
        vmin = _mm256_loadu_ps(mn);
        vmax = _mm256_loadu_ps(mx);
    }
    const __m256 d = _mm256_div_ps(_mm256_sub_ps(vmax, vmin), _mm256_set1_ps(levels));
    /* id = d ? 1/d : 0 (the division's inf for d == 0 is masked away) */
    const __m256 id = _mm256_and_ps(_mm256_div_ps(_mm256_set1_ps(1.0f), d), _mm256_cmp_ps(d, zero, _CMP_NEQ_UQ));
    if (_mm256_movemask_ps(_mm256_cmp_ps(d, d, _CMP_UNORD_Q))) return false;
    const __m128i dh = _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m128i mh = _mm256_cvtps_ph(vmin, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128((__m128i *)g->dm, _mm_unpacklo_epi16(dh, mh));
    _mm_storeu_si128((__m128i *)(g->dm + 4), _mm_unpackhi_epi16(dh, mh));
    _mm256_storeu_ps(g->min, vmin);
    _mm256_storeu_ps(g->id, id);
    return true;
}

#endif
