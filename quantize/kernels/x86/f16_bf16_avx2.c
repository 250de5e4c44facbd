/* f16_avx2.c - F16 (F16C) and BF16 row conversion with AVX2, bit-identical
 * with float_formats.c: vcvtps2ph with round-to-nearest-even matches ggml for
 * every non-NaN input (subnormals kept, overflow to inf); ggml maps every NaN
 * to 0x7E00|sign while F16C keeps payload bits, so 8-lane groups holding a
 * NaN use the scalar conversion. BF16 is integer arithmetic on the bits. */
#include <immintrin.h>
#include <stdbool.h>

#include "float_formats.h"
#include "f16_bf16.h"
#include "kernel_util.h"

/* 8 floats to F16; false (nothing written) for a group holding NaN. */
static inline bool f16_group(const float *src, uint16_t *y) {
    const __m256 x = _mm256_loadu_ps(src);
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q))) return false;
    _mm_storeu_si128((__m128i *)y, _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return true;
}

static void f16_row(const float *src, uint16_t *y, int64_t n) {
    qk_half_row_groups(src, y, n, 8, f16_group, qk_fp32_to_fp16_row);
}

size_t qk_quantize_f16_avx2(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, f16_row); }

/* 8 floats (as bits) -> 8 bf16 in the low 16 bits of each 32-bit lane,
 * for NaN-free lanes: round to nearest even, (u + 0x7FFF + bit 16) >> 16. */
static inline __m256i bf16_lanes_finite(__m256i u) {
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb), 16);
}

/* The same with NaN lanes quieted: (u | bit 22) >> 16. */
static inline __m256i bf16_lanes(__m256i u) {
    const __m256 f = _mm256_castsi256_ps(u);
    const __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)),
                                       _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1)));
    const __m256i q = _mm256_or_si256(u, _mm256_set1_epi32(0x00400000));
    return _mm256_srli_epi32(_mm256_blendv_epi8(r, q, _mm256_castps_si256(_mm256_cmp_ps(f, f, _CMP_UNORD_Q))), 16);
}

/* 16 floats -> 16 bf16. */
static inline __m256i bf16_16(const float *src) {
    const __m256 fa = _mm256_loadu_ps(src), fb = _mm256_loadu_ps(src + 8);
    const __m256i ua = _mm256_castps_si256(fa), ub = _mm256_castps_si256(fb);
    __m256i a, b;
    /* one compare finds a NaN in either vector; NaN groups take the blend */
    if (_mm256_movemask_ps(_mm256_cmp_ps(fa, fb, _CMP_UNORD_Q))) {
        a = bf16_lanes(ua);
        b = bf16_lanes(ub);
    } else {
        a = bf16_lanes_finite(ua);
        b = bf16_lanes_finite(ub);
    }
    return _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
}

/* The row from its loop start (qk_bf16_loop_start), 16 at a time. */
static void bf16_row(const float *src, uint16_t *y, int64_t n) {
    bool stream;
    int64_t i = qk_bf16_loop_start(src, y, n, &stream);
    qk_fp32_to_bf16_row(src, y, i);
    if (stream) {
        for (; i + 16 <= n; i += 16) _mm256_stream_si256((__m256i *)(y + i), bf16_16(src + i));
        _mm_sfence();
    } else {
        for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i *)(y + i), bf16_16(src + i));
    }
    qk_fp32_to_bf16_row(src + i, y + i, n - i);
}

size_t qk_quantize_bf16_avx2(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, bf16_row); }

/* F16 -> F32 is exact in vcvtph2ps (subnormals included); a signaling NaN
 * comes out quieted (bit 22 set), as ggml's to_float (F16C) returns it. */
static inline void f16_to_float8(const uint16_t *h, float *dst) {
    _mm256_storeu_ps(dst, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)));
}

/* BF16 -> F32 is the 16 bits shifted up, NaNs untouched (as ggml). */
static inline void bf16_to_float8(const uint16_t *h, float *dst) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)h));
    _mm256_storeu_si256((__m256i *)dst, _mm256_slli_epi32(v, 16));
}

void qk_dequantize_row_f16_avx2(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, 8, f16_to_float8, qk_dequantize_row_f16);
}
void qk_dequantize_row_bf16_avx2(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, 8, bf16_to_float8, qk_dequantize_row_bf16);
}
