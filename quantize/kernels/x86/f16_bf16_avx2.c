/* f16_bf16_avx2.c - F16 (F16C) and BF16 row conversion with AVX2, bit-identical
 * with float_formats.c: vcvtps2ph with round-to-nearest-even matches ggml for
 * every non-NaN input (subnormals kept, overflow to inf); ggml maps every NaN
 * to 0x7E00|sign while F16C keeps payload bits, so 8-lane groups holding a
 * NaN use the scalar conversion. BF16 is integer arithmetic on the bits.
 * F16 and the dequantizations are f16_bf16_body.h's, instantiated here at 8
 * lanes. */
#include <immintrin.h>

#define HB_W 8
#define HB_ISA(name) name##_avx2
#define HB_VF __m256
#define HB_(op) _mm256_##op
#define HB_SI(op) _mm256_##op##_si256
#define HB_LOADH(p) _mm_loadu_si128((const __m128i *)(p))
#define HB_STOREH(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define HB_ANY_NAN(x) _mm256_movemask_ps(_mm256_cmp_ps((x), (x), _CMP_UNORD_Q))
#include "f16_bf16_body.h"

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
