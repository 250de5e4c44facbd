/* q1_q2_avx2.c - Q1_0 and Q2_0 with AVX2: q1_q2_body.h (its head has the
 * exactness argument; q1_q2_x86.h the pieces AVX-512 shares) with Q1_0 over
 * 8 blocks per vector and Q2_0's 64 codes from 8-lane compares. */
#define QK_LANES_AVX2
#include "vec_x86.h"

#include "ggml_blocks.h"

static inline vf q1_load_parts(const float *p) { return _mm256_loadu2_m128(p + 4 * QK_Q1_0, p); }
static inline uint32_t q1_mask_bits(vm m) { return (uint32_t)_mm256_movemask_ps(m); }
static inline uint32_t qq_hmax_u32(vi a) {
    __m128i r = _mm_max_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    r = _mm_max_epi32(r, _mm_shuffle_epi32(r, _MM_SHUFFLE(1, 0, 3, 2)));
    r = _mm_max_epi32(r, _mm_shuffle_epi32(r, _MM_SHUFFLE(2, 3, 0, 1)));
    return (uint32_t)_mm_cvtsi128_si32(r);
}

#include "q1_q2_x86.h"

/* Lane code - 1 = (v <= -0.5) - (v >= 0.5) as -1/0 compare masks, narrowed
 * with signed saturation (keeps -1, 0, 1). The packs work per 128-bit lane,
 * so in b[h] the dword of four consecutive codes holds elements 4g..4g+3 of
 * x + 32h in the order g = 0, 2, 4, 6 | 1, 3, 5, 7; after q2_pack4 and one
 * more pack the low half holds the even output bytes as 16-bit lanes and
 * the high half the odd ones, which one shift and or interleave. */
static inline void q2_codes(const float *x, float id, uint8_t *qs) {
    const vf vid = vf_set1(id), h = vf_set1(0.5f), nh = vf_set1(-0.5f);
    vi s[8];
    for (int i = 0; i < 8; i++) {
        const vf v = vf_mul(vf_load(x + 8 * i), vid);
        s[i] = _mm256_sub_epi32(_mm256_castps_si256(vf_le(v, nh)), _mm256_castps_si256(VX_CMP(v, h, _CMP_GE_OQ)));
    }
    vi r[2];
    for (int k = 0; k < 2; k++) {
        const vi b = _mm256_packs_epi16(_mm256_packs_epi32(s[4 * k], s[4 * k + 1]),
                                        _mm256_packs_epi32(s[4 * k + 2], s[4 * k + 3]));
        r[k] = q2_pack4(_mm256_add_epi8(b, _mm256_set1_epi8(1)));
    }
    const vi p = _mm256_packs_epi32(r[0], r[1]);
    const __m128i out = _mm_or_si128(_mm256_castsi256_si128(p), _mm_slli_epi16(_mm256_extracti128_si256(p, 1), 8));
    _mm_storeu_si128((__m128i *)qs, out);
}

#include "q1_q2_body.h"

size_t qk_quantize_q1_0_avx2(QK_QUANTIZE_PARAMS) { return q1_0_quantize(QK_QUANTIZE_ARGS); }
size_t qk_quantize_q2_0_avx2(QK_QUANTIZE_PARAMS) { return q2_0_quantize(QK_QUANTIZE_ARGS); }
