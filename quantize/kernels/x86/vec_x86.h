/* vec_x86.h - a small vector vocabulary over AVX-512 (16 float lanes) or
 * AVX2 (8 lanes) for the lane-wise searches written once and compiled per
 * ISA (lanes_body.h). Include it from exactly one
 * *_avx512.c or *_avx2.c file after defining
 * QK_LANES_AVX512 or QK_LANES_AVX2; everything is static inline, so each
 * file gets its own copy compiled for its ISA.
 *
 * Only operations that round exactly like their scalar C counterparts are
 * offered (IEEE add/sub/mul/div/sqrt, no FMA); comparisons are the ordered
 * (_OQ) ones that C's <, >, <=, == are, plus the unordered != that C's
 * `f ? a : b` (true for NaN) needs. */
#ifndef QK_VEC_X86_H
#define QK_VEC_X86_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(QK_LANES_AVX512)
#define LN_W 16
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;
static inline vf vf_abs(vf a) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
}
static inline vf vf_neg(vf a) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)));
}
/* m ? a : b per lane */
static inline vf vf_sel(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
static inline vi vi_sel(vm m, vi a, vi b) { return _mm512_mask_blend_epi32(m, b, a); }
static inline vm vi_ne(vi a, vi b) { return _mm512_cmpneq_epi32_mask(a, b); }
/* a + (m ? 1 : 0) */
static inline vi vi_inc(vi a, vm m) { return _mm512_mask_add_epi32(a, m, a, _mm512_set1_epi32(1)); }
/* t[i] for a 16-entry float table (i in 0..15) */
typedef struct { __m512 t; } vtab16;
static inline vtab16 vtab16_load(const float *t) { vtab16 r = {_mm512_loadu_ps(t)}; return r; }
static inline vf vtab16_get(vtab16 t, vi i) { return _mm512_permutexvar_ps(i, t.t); }
static inline vm vm_and(vm a, vm b) { return (vm)(a & b); }
static inline vm vm_or(vm a, vm b) { return (vm)(a | b); }
static inline vm vm_andnot(vm a, vm b) { return (vm)(a & (vm)~b); } /* a & !b */
static inline vm vm_none(void) { return 0; }
static inline vm vm_all(void) { return (vm)0xFFFF; }
static inline bool vm_any(vm a) { return a != 0; }
/* the low byte of each of 16 int32 lanes */
static inline void vi_store_u8(uint8_t *p, vi a) { _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(a)); }
#define LN_ISA(name) name##_avx512
#define VX_(op) _mm512_##op
#define VX_SI(op) _mm512_##op##_si512
#define VX_CMP _mm512_cmp_ps_mask

#elif defined(QK_LANES_AVX2)
#define LN_W 8
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vm; /* all-ones / all-zeros lanes */
static inline vf vf_abs(vf a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
static inline vf vf_neg(vf a) { return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u))); }
static inline vf vf_sel(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
static inline vi vi_sel(vm m, vi a, vi b) {
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), m));
}
static inline vm vi_ne(vi a, vi b) {
    return _mm256_xor_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)), _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
}
static inline vi vi_inc(vi a, vm m) { return _mm256_sub_epi32(a, _mm256_castps_si256(m)); } /* m lanes are -1 */
typedef struct { __m256 lo, hi; } vtab16;
static inline vtab16 vtab16_load(const float *t) {
    vtab16 r = {_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8)};
    return r;
}
static inline vf vtab16_get(vtab16 t, vi i) {
    const __m256 a = _mm256_permutevar8x32_ps(t.lo, i), b = _mm256_permutevar8x32_ps(t.hi, i);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(i, 28))); /* bit 3 of i picks hi */
}
static inline vm vm_and(vm a, vm b) { return _mm256_and_ps(a, b); }
static inline vm vm_or(vm a, vm b) { return _mm256_or_ps(a, b); }
static inline vm vm_andnot(vm a, vm b) { return _mm256_andnot_ps(b, a); } /* a & !b */
static inline vm vm_none(void) { return _mm256_setzero_ps(); }
static inline vm vm_all(void) { return _mm256_castsi256_ps(_mm256_set1_epi32(-1)); }
static inline bool vm_any(vm a) { return _mm256_movemask_ps(a) != 0; }
static inline void vi_store_u8(uint8_t *p, vi a) {
    /* 8 int32 in 0..255 -> 8 bytes */
    const __m256i b = _mm256_shuffle_epi8(a, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                              -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                              -1, -1, -1));
    const __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
    _mm_storel_epi64((__m128i *)p, _mm_unpacklo_epi32(lo, hi));
}
#define LN_ISA(name) name##_avx2
#define VX_(op) _mm256_##op
#define VX_SI(op) _mm256_##op##_si256
#define VX_CMP _mm256_cmp_ps

#else
#error "define QK_LANES_AVX512 or QK_LANES_AVX2 before including lanes_x86.h"
#endif

/* The operations both ISAs spell alike but for the prefix (VX_) and the
 * integer vector width (VX_SI); compares give the ISA's mask type vm
 * (VX_CMP). */
static inline vf vf_load(const float *p) { return VX_(loadu_ps)(p); }
static inline void vf_store(float *p, vf a) { VX_(storeu_ps)(p, a); }
static inline void vi_store(int32_t *p, vi a) { VX_SI(storeu)((void *)p, a); }
static inline vf vf_set1(float a) { return VX_(set1_ps)(a); }
static inline vf vf_add(vf a, vf b) { return VX_(add_ps)(a, b); }
static inline vf vf_sub(vf a, vf b) { return VX_(sub_ps)(a, b); }
static inline vf vf_mul(vf a, vf b) { return VX_(mul_ps)(a, b); }
static inline vf vf_div(vf a, vf b) { return VX_(div_ps)(a, b); }
static inline vf vf_sqrt(vf a) { return VX_(sqrt_ps)(a); }
/* for non-NaN operands (with a NaN, x86 returns the second) */
static inline vf vf_min(vf a, vf b) { return VX_(min_ps)(a, b); }
static inline vf vf_max(vf a, vf b) { return VX_(max_ps)(a, b); }
static inline vi vi_set1(int a) { return VX_(set1_epi32)(a); }
static inline vi vi_add(vi a, vi b) { return VX_(add_epi32)(a, b); }
static inline vi vi_and(vi a, vi b) { return VX_SI(and)(a, b); }
static inline vi vi_sub(vi a, vi b) { return VX_(sub_epi32)(a, b); }
static inline vi vi_min(vi a, vi b) { return VX_(min_epi32)(a, b); }
static inline vi vi_max(vi a, vi b) { return VX_(max_epi32)(a, b); }
static inline vi vi_shl(vi a, int n) { return VX_(sllv_epi32)(a, VX_(set1_epi32)(n)); }
static inline vf vi_to_f(vi a) { return VX_(cvtepi32_ps)(a); }
/* a float holding a small integer (as vi_to_f made it) back to int32 */
static inline vi vf_to_i_exact(vf a) { return VX_(cvttps_epi32)(a); }
static inline vm vf_lt(vf a, vf b) { return VX_CMP(a, b, _CMP_LT_OQ); }
static inline vm vf_gt(vf a, vf b) { return VX_CMP(a, b, _CMP_GT_OQ); }
static inline vm vf_le(vf a, vf b) { return VX_CMP(a, b, _CMP_LE_OQ); }
static inline vm vf_eq(vf a, vf b) { return VX_CMP(a, b, _CMP_EQ_OQ); }
static inline vm vf_ne_uq(vf a, vf b) { return VX_CMP(a, b, _CMP_NEQ_UQ); }
/* ggml's nearest_int: the low mantissa bits of f + 1.5*2^23 */
static inline vi vf_nearest_int(vf f) {
    const vi b = VX_SI(castps)(VX_(add_ps)(f, VX_(set1_ps)(12582912.f)));
    return VX_(sub_epi32)(VX_SI(and)(b, VX_(set1_epi32)(0x007fffff)), VX_(set1_epi32)(0x00400000));
}

#endif
