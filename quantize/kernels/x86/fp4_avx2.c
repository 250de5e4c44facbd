/* fp4_avx2.c - MXFP4 and NVFP4 with AVX2: fp4_body.h (its head has the
 * exactness argument) over vec_x86.h's 8 float lanes. */
#define QK_LANES_AVX2
#include "vec_x86.h"

/* MAXPS returns its second operand when either is NaN: a NaN |x| keeps m,
 * which never holds NaN, so the reduction below is a plain maximum */
static inline float fp4_amax(const float *x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(vf_abs(vf_load(x + i)), m);
    __m128 r = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    r = _mm_max_ps(r, _mm_movehl_ps(r, r));
    return _mm_cvtss_f32(_mm_max_ss(r, _mm_movehdup_ps(r)));
}

#include "fp4_body.h"

size_t qk_quantize_mxfp4_avx2(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_LEGACY, qk_block_mxfp4, fp4_mxfp4_block); }
size_t qk_quantize_nvfp4_avx2(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_NVFP4, qk_block_nvfp4, fp4_nvfp4_block); }
