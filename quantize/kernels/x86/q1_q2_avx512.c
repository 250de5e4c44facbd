/* q1_q2_avx512.c - Q1_0 and Q2_0 with AVX-512 (F, BW): q1_q2_body.h (its
 * head has the exactness argument; q1_q2_x86.h the pieces AVX2 shares) with
 * Q1_0 over 16 blocks per vector and Q2_0's 64 codes from compare masks. */
#define QK_LANES_AVX512
#include "vec_x86.h"

#include "ggml_blocks.h"

static inline vf q1_load_parts(const float *p) {
    vf r = _mm512_castps128_ps512(_mm_loadu_ps(p));
    r = _mm512_insertf32x4(r, _mm_loadu_ps(p + 4 * QK_Q1_0), 1);
    r = _mm512_insertf32x4(r, _mm_loadu_ps(p + 8 * QK_Q1_0), 2);
    return _mm512_insertf32x4(r, _mm_loadu_ps(p + 12 * QK_Q1_0), 3);
}
static inline uint32_t q1_mask_bits(vm m) { return (uint32_t)m; }
static inline uint32_t qq_hmax_u32(vi a) { return (uint32_t)_mm512_reduce_max_epi32(a); }

#include "q1_q2_x86.h"

/* The 64 ge / le compare bits to bytes (all-ones where set): code = 1 -
 * ge + le in two's complement; element j is byte j, so q2_pack4 and one
 * narrowing give the output bytes in order. */
static inline void q2_codes(const float *x, float id, uint8_t *qs) {
    const vf vid = vf_set1(id), h = vf_set1(0.5f), nh = vf_set1(-0.5f);
    uint64_t ge = 0, le = 0;
    for (int i = 0; i < 4; i++) {
        const vf v = vf_mul(vf_load(x + 16 * i), vid);
        ge |= (uint64_t)VX_CMP(v, h, _CMP_GE_OQ) << (16 * i);
        le |= (uint64_t)vf_le(v, nh) << (16 * i);
    }
    const vi t = _mm512_sub_epi8(_mm512_add_epi8(_mm512_set1_epi8(1), _mm512_movm_epi8(le)), _mm512_movm_epi8(ge));
    _mm_storeu_si128((__m128i *)qs, _mm512_cvtepi32_epi8(q2_pack4(t)));
}

#include "q1_q2_body.h"

size_t qk_quantize_q1_0_avx512(QK_QUANTIZE_PARAMS) { return q1_0_quantize(QK_QUANTIZE_ARGS); }
size_t qk_quantize_q2_0_avx512(QK_QUANTIZE_PARAMS) { return q2_0_quantize(QK_QUANTIZE_ARGS); }
