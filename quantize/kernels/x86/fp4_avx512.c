/* fp4_avx512.c - MXFP4 and NVFP4 with AVX-512 (F, BW, VL): fp4_body.h (its
 * head has the exactness argument) over vec_x86.h's 16 float lanes; an
 * NVFP4 vector holds the pairing halves of two sub-blocks. */
#define QK_LANES_AVX512
#include "vec_x86.h"

/* MAXPS returns its second operand when either is NaN: a NaN |x| keeps m,
 * which never holds NaN, so the reduction is a plain maximum */
static inline float fp4_amax(const float *x, int n) {
    __m512 m = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) m = _mm512_max_ps(vf_abs(vf_load(x + i)), m);
    return _mm512_reduce_max_ps(m);
}

static inline vf fp4_load_2x8(const float *p, const float *q) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(p))),
                                               _mm256_castps_pd(_mm256_loadu_ps(q)), 1));
}
static inline vf fp4_set_2(float a, float b) { return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a), _mm512_set1_ps(b)); }

#include "fp4_body.h"

size_t qk_quantize_mxfp4_avx512(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_LEGACY, qk_block_mxfp4, fp4_mxfp4_block); }
size_t qk_quantize_nvfp4_avx512(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_NVFP4, qk_block_nvfp4, fp4_nvfp4_block); }
