/* tq_avx2.c - TQ1_0 and TQ2_0 with AVX2: tq_body.h (its head has the
 * exactness argument, tq_x86.h the byte vocabulary) with 8-lane amax and
 * trits. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "tq_x86.h"

static inline uint32_t tq_amax_bits(const float *x) {
    const __m256i abs = _mm256_set1_epi32(0x7fffffff);
    __m256i m[4];
    for (int k = 0; k < 4; k++) m[k] = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + 8 * k)), abs);
    for (int i = 32; i < 256; i += 32)
        for (int k = 0; k < 4; k++)
            m[k] = _mm256_max_epu32(m[k], _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i + 8 * k)), abs));
    const __m256i m8 = _mm256_max_epu32(_mm256_max_epu32(m[0], m[1]), _mm256_max_epu32(m[2], m[3]));
    __m128i r = _mm_max_epu32(_mm256_castsi256_si128(m8), _mm256_extracti128_si256(m8, 1));
    r = _mm_max_epu32(r, _mm_shuffle_epi32(r, _MM_SHUFFLE(1, 0, 3, 2)));
    r = _mm_max_epu32(r, _mm_shuffle_epi32(r, _MM_SHUFFLE(2, 3, 0, 1)));
    return (uint32_t)_mm_cvtsi128_si32(r);
}

/* 1 + (v >= 0.5) - (v <= -0.5) for v = x[i] * id, i = 0..15, as bytes: the
 * compare masks (-1 / 0) narrowed by signed saturation, which keeps -1 */
static inline tq_v8 tq_trits16(const float *x, __m256 vid) {
    const __m256 v0 = _mm256_mul_ps(_mm256_loadu_ps(x), vid), v1 = _mm256_mul_ps(_mm256_loadu_ps(x + 8), vid);
    const __m256 h = _mm256_set1_ps(0.5f), nh = _mm256_set1_ps(-0.5f);
    const __m256i ge = _mm256_packs_epi32(_mm256_castps_si256(_mm256_cmp_ps(v0, h, _CMP_GE_OQ)),
                                          _mm256_castps_si256(_mm256_cmp_ps(v1, h, _CMP_GE_OQ)));
    const __m256i le = _mm256_packs_epi32(_mm256_castps_si256(_mm256_cmp_ps(v0, nh, _CMP_LE_OQ)),
                                          _mm256_castps_si256(_mm256_cmp_ps(v1, nh, _CMP_LE_OQ)));
    /* dwords of packs(ge, le): ge 0-3, 8-11, le 0-3, 8-11, ge 4-7, 12-15, le 4-7, 12-15 */
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ge, le), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return _mm_add_epi8(_mm_sub_epi8(_mm_set1_epi8(1), _mm256_castsi256_si128(p)), _mm256_extracti128_si256(p, 1));
}

#define TQ_VF __m256
#define TQ_SET1(f) _mm256_set1_ps(f)
#include "tq_body.h"

size_t qk_quantize_tq1_0_avx2(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq1_0, tq1_0_block); }
size_t qk_quantize_tq2_0_avx2(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq2_0, tq2_0_block); }
