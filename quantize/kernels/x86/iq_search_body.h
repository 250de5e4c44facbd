/* iq_search_body.h - the nearest-neighbour search of the IQ1/IQ2/IQ3
 * quantizers (iq_best_neighbour of iq_search.h, its contract) with one
 * neighbour per lane; included by iq_search_avx2.c and iq_search_avx512.c
 * after vec_x86.h, which fixes the lane count LN_W and the name suffix.
 *
 * Why it is bit-identical: the scalar d2 of a neighbour is
 * ((0 + t(0, l0)) + t(1, l1)) + ... in element order, where t(i, l) =
 * (weight[i] * diff) * diff, diff = scale * qlev[l] - xval[i], depends only
 * on the element i and the neighbour's level l there. So the t(i, l) are
 * computed once per call, with the scalar's operations (no FMA: the file is
 * built with -ffp-contract=off and -mno-fma), as one vector per element
 * over the levels (at most 8 <= LN_W); each lane then looks its neighbour's
 * t(i, l) up by level (a permute) and adds them in the scalar order. The
 * argmin keeps, per lane, the first strictly smaller d2 (ordered compare:
 * a NaN d2 never wins, as in the scalar `<`), and the lanes are merged by
 * smallest d2, then smallest position: the scalar's first minimum. */
#include <float.h>

#include "iq_search.h"

#define ISB_INLINE static inline __attribute__((always_inline))

#if LN_W == 16
ISB_INLINE vf isb_lookup(vf t, vi l) { return _mm512_permutexvar_ps(l, t); }
ISB_INLINE vi isb_load_u16(const uint16_t *p) { return _mm512_cvtepu16_epi32(_mm256_loadu_si256((const void *)p)); }
ISB_INLINE vi isb_srl(vi a, int n) { return _mm512_srl_epi32(a, _mm_cvtsi32_si128(n)); }
ISB_INLINE vi isb_iota(void) { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
ISB_INLINE vm isb_vi_lt(vi a, vi b) { return _mm512_cmplt_epi32_mask(a, b); }
ISB_INLINE float isb_hmin_f(vf a) { return _mm512_reduce_min_ps(a); }
/* the smallest of the lanes of a in m, INT32_MAX if none */
ISB_INLINE int32_t isb_hmin_i(vm m, vi a) { return _mm512_mask_reduce_min_epi32(m, a); }
#else
ISB_INLINE vf isb_lookup(vf t, vi l) { return _mm256_permutevar8x32_ps(t, l); }
ISB_INLINE vi isb_load_u16(const uint16_t *p) { return _mm256_cvtepu16_epi32(_mm_loadu_si128((const void *)p)); }
ISB_INLINE vi isb_srl(vi a, int n) { return _mm256_srl_epi32(a, _mm_cvtsi32_si128(n)); }
ISB_INLINE vi isb_iota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
ISB_INLINE vm isb_vi_lt(vi a, vi b) { return _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, a)); }
ISB_INLINE float isb_hmin_f(vf a) {
    a = _mm256_min_ps(a, _mm256_permute2f128_ps(a, a, 1));
    a = _mm256_min_ps(a, _mm256_shuffle_ps(a, a, 0x4e));
    a = _mm256_min_ps(a, _mm256_shuffle_ps(a, a, 0xb1));
    return _mm256_cvtss_f32(a);
}
ISB_INLINE int32_t isb_hmin_i(vm m, vi a) {
    a = vi_sel(m, a, _mm256_set1_epi32(INT32_MAX));
    a = _mm256_min_epi32(a, _mm256_permute2x128_si256(a, a, 1));
    a = _mm256_min_epi32(a, _mm256_shuffle_epi32(a, 0x4e));
    a = _mm256_min_epi32(a, _mm256_shuffle_epi32(a, 0xb1));
    return _mm256_cvtsi256_si32(a);
}
#endif

/* The search for a lattice of dim coordinates of `bits` bits each
 * (constants at the call sites below, so the element loop unrolls), the
 * level values in the lanes of vq: the position in nb of the point found.
 * Lane k of vq holds level k mod 2^bits: the permutes read only the low 3
 * (AVX2) or 4 (AVX-512) bits of an index, so the packed levels shifted
 * right are indices as they are (the next coordinates' bits above a level
 * select a copy of the same lane), without a mask. */
ISB_INLINE int isb_search_at(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                             float scale, vf vq, const int dim, const int bits) {
    const vf vs = vf_set1(scale);
    vf tab[8];
    for (int i = 0; i < dim; ++i) {
        const vf diff = vf_sub(vf_mul(vs, vq), vf_set1(xval[i]));
        tab[i] = vf_mul(vf_mul(vf_set1(weight[i]), diff), diff);
    }
    const int n = nb[0];
    const uint16_t *lev = lat->nb_levels + (nb - lat->neighbours);
    const vi iota = isb_iota(), end = vi_set1(n + 1);
    vf best = vf_set1(FLT_MAX);
    vi bestj = vi_set1(-1);
    for (int j = 1; j <= n; j += LN_W) {
        const vi p = isb_load_u16(lev + j);
        vf d2 = vf_set1(0.f);
        for (int i = 0; i < dim; ++i) d2 = vf_add(d2, isb_lookup(tab[i], isb_srl(p, bits * i)));
        const vi jv = vi_add(vi_set1(j), iota);
        const vm m = vm_and(vf_lt(d2, best), isb_vi_lt(jv, end)); /* past the list: never */
        best = vf_sel(m, d2, best);
        bestj = vi_sel(m, jv, bestj);
    }
    /* the lanes' smallest d2 (no NaN can be there: min is exact), then the
     * first position holding it; no lane took any: the first neighbour */
    const vm at_min = vm_and(vf_eq(best, vf_set1(isb_hmin_f(best))), isb_vi_lt(vi_set1(-1), bestj));
    const int32_t jbest = isb_hmin_i(at_min, bestj);
    return jbest == INT32_MAX ? 1 : jbest;
}

ISB_INLINE int isb_search(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                          float scale, const float *qlev, int8_t *L, const int dim, const int bits) {
    float ql[LN_W];
    for (int k = 0; k < LN_W; ++k) {
        const int l = k & ((1 << bits) - 1);
        ql[k] = l < lat->levels ? qlev[l] : 0.f;
    }
    const int at = isb_search_at(lat, nb, xval, weight, scale, vf_load(ql), dim, bits);
    const uint16_t *lev = lat->nb_levels + (nb - lat->neighbours);
    for (int i = 0; i < dim; ++i) L[i] = (int8_t)((lev[at] >> (bits * i)) & ((1 << bits) - 1));
    return nb[at];
}

int LN_ISA(qk_iq_best_neighbour)(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                                 float scale, const float *qlev, int8_t *L) {
    if (lat->dim == 8) return isb_search(lat, nb, xval, weight, scale, qlev, L, 8, 2);
    return isb_search(lat, nb, xval, weight, scale, qlev, L, 4, 3);
}

/* For the scale scan (iq_scan_body.h): the search with IQ2/IQ3's levels
 * 2l+1 (iq_odd_levels; lanes past the lattice's levels are never looked
 * up), returning the packed levels of the point found. */
ISB_INLINE int iqs_nb_packed(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                             float scale, const int dim, const int bits) {
    const vi lev = vi_and(isb_iota(), vi_set1((1 << bits) - 1));
    const vf vq = vi_to_f(vi_add(vi_add(lev, lev), vi_set1(1)));
    return lat->nb_levels[(nb - lat->neighbours) + isb_search_at(lat, nb, xval, weight, scale, vq, dim, bits)];
}
