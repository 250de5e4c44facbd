/* tq_avx512.c - TQ1_0 and TQ2_0 with AVX-512 (F, BW, VL): tq_body.h (its
 * head has the exactness argument, tq_x86.h the byte vocabulary) with
 * 16-lane amax and trits. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "tq_x86.h"

static inline uint32_t tq_amax_bits(const float *x) {
    const __m512i abs = _mm512_set1_epi32(0x7fffffff);
    __m512i m[4];
    for (int k = 0; k < 4; k++) m[k] = _mm512_and_si512(_mm512_loadu_si512(x + 16 * k), abs);
    for (int i = 64; i < 256; i += 64)
        for (int k = 0; k < 4; k++) m[k] = _mm512_max_epu32(m[k], _mm512_and_si512(_mm512_loadu_si512(x + i + 16 * k), abs));
    return _mm512_reduce_max_epu32(_mm512_max_epu32(_mm512_max_epu32(m[0], m[1]), _mm512_max_epu32(m[2], m[3])));
}

/* 1 + (v >= 0.5) - (v <= -0.5) for v = x[i] * id, i = 0..15, as bytes */
static inline tq_v8 tq_trits16(const float *x, __m512 vid) {
    const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x), vid);
    const __mmask16 ge = _mm512_cmp_ps_mask(v, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __mmask16 le = _mm512_cmp_ps_mask(v, _mm512_set1_ps(-0.5f), _CMP_LE_OQ);
    return _mm_add_epi8(_mm_sub_epi8(_mm_set1_epi8(1), _mm_movm_epi8(ge)), _mm_movm_epi8(le));
}

#define TQ_VF __m512
#define TQ_SET1(f) _mm512_set1_ps(f)
#include "tq_body.h"

size_t qk_quantize_tq1_0_avx512(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq1_0, tq1_0_block); }
size_t qk_quantize_tq2_0_avx512(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq2_0, tq2_0_block); }
