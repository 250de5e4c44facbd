/* f16_avx512.c - F16 and BF16 row conversion with AVX-512; same exactness
 * argument as f16_avx2.c (16-lane groups holding NaN use the scalar path for
 * F16; BF16 is integer arithmetic on the bits, whose high halves vpermt2w
 * collects). */
#include <immintrin.h>
#include <stdbool.h>

#include "float_formats.h"
#include "f16_bf16.h"
#include "kernel_util.h"

/* 16 floats to F16; false (nothing written) for a group holding NaN. */
static inline bool f16_group(const float *src, uint16_t *y) {
    const __m512 x = _mm512_loadu_ps(src);
    if (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q)) return false;
    _mm256_storeu_si256((__m256i *)y, _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return true;
}

static void f16_row(const float *src, uint16_t *y, int64_t n) {
    qk_half_row_groups(src, y, n, 16, f16_group, qk_fp32_to_fp16_row);
}

size_t qk_quantize_f16_avx512(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, f16_row); }

/* BF16 of 16 floats, in the high 16 bits of each 32-bit lane: round to
 * nearest even (u + 0x7FFF + bit 16 of u: a masked add of 1 where that bit
 * is set), NaN quieted (bit 22 set, which is bit 6 of the high half). */
static inline __m512i bf16_hi(__m512i u) {
    const __mmask16 odd = _mm512_test_epi32_mask(u, _mm512_set1_epi32(0x10000));
    const __mmask16 nan = _mm512_cmp_ps_mask(_mm512_castsi512_ps(u), _mm512_castsi512_ps(u), _CMP_UNORD_Q);
    __m512i r = _mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF));
    r = _mm512_mask_add_epi32(r, odd, r, _mm512_set1_epi32(1));
    return _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x00400000));
}

/* bf16_hi for 8 floats. */
static inline __m256i bf16_hi8(__m256i u) {
    const __mmask8 odd = _mm256_test_epi32_mask(u, _mm256_set1_epi32(0x10000));
    const __mmask8 nan = _mm256_cmp_ps_mask(_mm256_castsi256_ps(u), _mm256_castsi256_ps(u), _CMP_UNORD_Q);
    __m256i r = _mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF));
    r = _mm256_mask_add_epi32(r, odd, r, _mm256_set1_epi32(1));
    return _mm256_mask_or_epi32(r, nan, u, _mm256_set1_epi32(0x00400000));
}

/* 16 floats -> 16 bf16 with 256-bit loads: the streaming loop aligns the
 * destination, so its loads are misaligned, where 512-bit loads (every one
 * straddling two cache lines) measured much slower. */
static inline __m256i bf16_16(const float *src, __m256i hi_words) {
    const __m256i a = bf16_hi8(_mm256_loadu_si256((const __m256i *)src));
    const __m256i b = bf16_hi8(_mm256_loadu_si256((const __m256i *)(src + 8)));
    return _mm256_permutex2var_epi16(a, hi_words, b);
}

/* 32 floats -> 32 bf16: both vectors' high words, in element order. */
static inline __m512i bf16_32(const float *src, __m512i hi_words) {
    const __m512i a = bf16_hi(_mm512_loadu_si512((const void *)src));
    const __m512i b = bf16_hi(_mm512_loadu_si512((const void *)(src + 16)));
    return _mm512_permutex2var_epi16(a, hi_words, b);
}

/* The row from its loop start (qk_bf16_loop_start), 32 or 16 at a time. */
static void bf16_row(const float *src, uint16_t *y, int64_t n) {
    static const uint16_t hi_idx[32] = {1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
                                        33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
    const __m512i hi_words = _mm512_loadu_si512((const void *)hi_idx);
    bool stream;
    int64_t i = qk_bf16_loop_start(src, y, n, &stream);
    qk_fp32_to_bf16_row(src, y, i);
    if (stream) {
        const __m256i hi16 = _mm512_castsi512_si256(hi_words);
        for (; i + 16 <= n; i += 16) _mm256_stream_si256((__m256i *)(y + i), bf16_16(src + i, hi16));
        _mm_sfence();
    } else {
        for (; i + 32 <= n; i += 32) _mm512_storeu_si512((void *)(y + i), bf16_32(src + i, hi_words));
    }
    for (; i + 16 <= n; i += 16) {
        const __m512i a = bf16_hi(_mm512_loadu_si512((const void *)(src + i)));
        _mm256_storeu_si256((__m256i *)(y + i), _mm512_cvtepi32_epi16(_mm512_srli_epi32(a, 16)));
    }
    qk_fp32_to_bf16_row(src + i, y + i, n - i);
}

size_t qk_quantize_bf16_avx512(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, bf16_row); }

/* F16 -> F32 is exact in vcvtph2ps (subnormals included); a signaling NaN
 * comes out quieted (bit 22 set), as ggml's to_float (F16C) returns it. */
static inline void f16_to_float16(const uint16_t *h, float *dst) {
    _mm512_storeu_ps(dst, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h)));
}

/* BF16 -> F32 is the 16 bits shifted up, NaNs untouched (as ggml). */
static inline void bf16_to_float16(const uint16_t *h, float *dst) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)h));
    _mm512_storeu_si512((void *)dst, _mm512_slli_epi32(v, 16));
}

void qk_dequantize_row_f16_avx512(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, 16, f16_to_float16, qk_dequantize_row_f16);
}
void qk_dequantize_row_bf16_avx512(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, 16, bf16_to_float16, qk_dequantize_row_bf16);
}
