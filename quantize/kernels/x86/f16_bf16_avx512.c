/* f16_bf16_avx512.c - F16 and BF16 row conversion with AVX-512; same
 * exactness argument as f16_bf16_avx2.c (16-lane groups holding NaN use the
 * scalar path for F16; BF16 is integer arithmetic on the bits, whose high
 * halves vpermt2w collects). F16 and the dequantizations are
 * f16_bf16_body.h's, instantiated here at 16 lanes. */
#include <immintrin.h>

#define HB_W 16
#define HB_ISA(name) name##_avx512
#define HB_VF __m512
#define HB_(op) _mm512_##op
#define HB_SI(op) _mm512_##op##_si512
#define HB_LOADH(p) _mm256_loadu_si256((const __m256i *)(p))
#define HB_STOREH(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define HB_ANY_NAN(x) _mm512_cmp_ps_mask((x), (x), _CMP_UNORD_Q)
#include "f16_bf16_body.h"

/* BF16 of the floats (as bits) in u, in the high 16 bits of each 32-bit
 * lane: round to nearest even (u + 0x7FFF + bit 16 of u: a masked add of 1
 * where that bit is set), NaN quieted (bit 22 set, which is bit 6 of the
 * high half). One body at two widths: bf16_hi (16 floats, 512 bits) and
 * bf16_hi8 (8 floats, 256 bits with AVX-512VL's mask registers); P is the
 * intrinsic prefix, SI the integer vector's cast name. */
#define BF16_HI(name, vec, mask, P, SI)                                                                                \
    static inline vec name(vec u) {                                                                                    \
        const mask odd = P##_test_epi32_mask(u, P##_set1_epi32(0x10000));                                              \
        const mask nan = P##_cmp_ps_mask(P##_cast##SI##_ps(u), P##_cast##SI##_ps(u), _CMP_UNORD_Q);                    \
        vec r = P##_add_epi32(u, P##_set1_epi32(0x7FFF));                                                              \
        r = P##_mask_add_epi32(r, odd, r, P##_set1_epi32(1));                                                          \
        return P##_mask_or_epi32(r, nan, u, P##_set1_epi32(0x00400000));                                               \
    }
BF16_HI(bf16_hi, __m512i, __mmask16, _mm512, si512)
BF16_HI(bf16_hi8, __m256i, __mmask8, _mm256, si256)
#undef BF16_HI

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
