/* kq_search_avx2.c - the AVX2 twin of kq_search_avx512.c: the Q4_K/Q5_K
 * scale search for 8 sub-blocks (one super-block) and Q6_K's for 8 of its 16
 * sub-blocks, one lane each, in exactly the scalar order (no FMA; ordered
 * comparisons keep their NaN behaviour), so the bytes equal the scalar code's. */
#include <immintrin.h>
#include <stdint.h>

#include "k_quants_internal.h"
#include "quant_search.h"

static inline __m256i nearest_int8(__m256 f) {
    const __m256 v = _mm256_add_ps(f, _mm256_set1_ps(12582912.f));
    const __m256i i = _mm256_castps_si256(v);
    return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

static inline __m256 sel(__m256 a, __m256 b, __m256 mask) { return _mm256_blendv_ps(a, b, mask); }

void qk_kq_search8_avx2(const qk_kq_params *p, const float *x, float *scales_out, float *mins_out, uint8_t *L_out) {
    __m256 xt[32], w[32], L[32], Laux[32];
    const __m256i idx = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    for (int l = 0; l < 32; l++) xt[l] = _mm256_i32gather_ps(x, _mm256_add_epi32(idx, _mm256_set1_epi32(l)), 4);
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 zero = _mm256_setzero_ps();
    __m256 sum_x2 = zero;
    for (int l = 0; l < 32; l++) sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(xt[l], xt[l]));
    const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.f)));
    for (int l = 0; l < 32; l++) w[l] = _mm256_add_ps(av_x, _mm256_and_ps(xt[l], abs_mask));
    __m256 min = xt[0], max = xt[0], sum_w = w[0], sum_x = _mm256_mul_ps(w[0], xt[0]);
    for (int i = 1; i < 32; i++) {
        min = sel(min, xt[i], _mm256_cmp_ps(xt[i], min, _CMP_LT_OQ));
        max = sel(max, xt[i], _mm256_cmp_ps(xt[i], max, _CMP_GT_OQ));
        sum_w = _mm256_add_ps(sum_w, w[i]);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(w[i], xt[i]));
    }
    min = sel(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
    const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);
    const __m256 fnmax = _mm256_set1_ps((float)p->nmax);
    const __m256i lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(p->nmax);
    __m256 iscale = _mm256_div_ps(fnmax, _mm256_sub_ps(max, min));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.f), iscale);
    __m256 best = zero;
    for (int i = 0; i < 32; i++) {
        __m256i l = nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min)));
        L[i] = _mm256_cvtepi32_ps(_mm256_max_epi32(lo, _mm256_min_epi32(hi, l)));
        __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, L[i]), min), xt[i]);
        best = _mm256_add_ps(best, _mm256_mul_ps(w[i], _mm256_mul_ps(diff, diff)));
    }
    for (int is = 0; is <= p->nstep; is++) {
        const float step = p->rmin + p->rdelta * (float)is;
        iscale = _mm256_div_ps(_mm256_add_ps(_mm256_set1_ps(step), fnmax), _mm256_sub_ps(max, min));
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < 32; i++) {
            __m256i l = nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min)));
            Laux[i] = _mm256_cvtepi32_ps(_mm256_max_epi32(lo, _mm256_min_epi32(hi, l)));
            const __m256 wl = _mm256_mul_ps(w[i], Laux[i]);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, Laux[i]));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xt[i]));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        const __m256 dpos = _mm256_andnot_ps(flat, _mm256_cmp_ps(D, zero, _CMP_GT_OQ));
        if (!_mm256_movemask_ps(dpos)) continue;
        __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 mpos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
        this_min = sel(this_min, zero, mpos);
        this_scale = sel(this_scale, _mm256_div_ps(sum_xl, sum_l2), mpos);
        __m256 cur = zero;
        for (int i = 0; i < 32; i++) {
            __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, Laux[i]), this_min), xt[i]);
            cur = _mm256_add_ps(cur, _mm256_mul_ps(w[i], _mm256_mul_ps(diff, diff)));
        }
        const __m256 better = _mm256_and_ps(dpos, _mm256_cmp_ps(cur, best, _CMP_LT_OQ));
        if (!_mm256_movemask_ps(better)) continue;
        for (int i = 0; i < 32; i++) L[i] = sel(L[i], Laux[i], better);
        best = sel(best, cur, better);
        scale = sel(scale, this_scale, better);
        min = sel(min, this_min, better);
    }
    scale = sel(scale, zero, flat);
    for (int i = 0; i < 32; i++) L[i] = sel(L[i], zero, flat);
    _mm256_storeu_ps(scales_out, scale);
    _mm256_storeu_ps(mins_out, _mm256_xor_ps(min, _mm256_set1_ps(-0.0f)));
    for (int i = 0; i < 32; i++) {
        float v[8];
        _mm256_storeu_ps(v, L[i]);
        for (int k = 0; k < 8; k++) L_out[32 * k + i] = (uint8_t)(int)v[k];
    }
}

void qk_q6k_search8_avx2(const float *x, float *scales_out, int8_t *L_out) {
    __m256 xt[16], w[16], L[16], Lt[16];
    const __m256i idx = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    for (int l = 0; l < 16; l++) xt[l] = _mm256_i32gather_ps(x, _mm256_add_epi32(idx, _mm256_set1_epi32(l)), 4);
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 zero = _mm256_setzero_ps();
    __m256 max = zero, amax = zero;
    for (int i = 0; i < 16; i++) {
        const __m256 ax = _mm256_and_ps(xt[i], abs_mask);
        const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = sel(amax, ax, gt);
        max = sel(max, xt[i], gt);
        w[i] = _mm256_mul_ps(xt[i], xt[i]);
    }
    const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(QK_GROUP_MAX_EPS), _CMP_LT_OQ);
    const __m256i lo = _mm256_set1_epi32(-32), hi = _mm256_set1_epi32(31), off = _mm256_set1_epi32(32);
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps(-32.f), max);
    __m256 sumlx = zero, suml2 = zero;
    for (int i = 0; i < 16; i++) {
        __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, nearest_int8(_mm256_mul_ps(iscale, xt[i]))));
        const __m256 lf = _mm256_cvtepi32_ps(l);
        L[i] = _mm256_cvtepi32_ps(_mm256_add_epi32(l, off));
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w[i], xt[i]), lf));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w[i], lf), lf));
    }
    __m256 scale = _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ), _mm256_div_ps(sumlx, suml2));
    __m256 best = _mm256_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = _mm256_div_ps(_mm256_set1_ps(-(32.f + 0.1f * (float)is)), max);
        __m256 slx = zero, sl2 = zero;
        for (int i = 0; i < 16; i++) {
            __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, nearest_int8(_mm256_mul_ps(iscale, xt[i]))));
            const __m256 lf = _mm256_cvtepi32_ps(l);
            Lt[i] = _mm256_cvtepi32_ps(_mm256_add_epi32(l, off));
            slx = _mm256_add_ps(slx, _mm256_mul_ps(_mm256_mul_ps(w[i], xt[i]), lf));
            sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(w[i], lf), lf));
        }
        const __m256 better = _mm256_and_ps(_mm256_cmp_ps(sl2, zero, _CMP_GT_OQ),
                                            _mm256_cmp_ps(_mm256_mul_ps(slx, slx), _mm256_mul_ps(best, sl2), _CMP_GT_OQ));
        if (!_mm256_movemask_ps(better)) continue;
        for (int i = 0; i < 16; i++) L[i] = sel(L[i], Lt[i], better);
        const __m256 sc = _mm256_div_ps(slx, sl2);
        scale = sel(scale, sc, better);
        best = sel(best, _mm256_mul_ps(sc, slx), better);
    }
    scale = sel(scale, zero, tiny);
    for (int i = 0; i < 16; i++) L[i] = sel(L[i], zero, tiny);
    _mm256_storeu_ps(scales_out, scale);
    for (int i = 0; i < 16; i++) {
        float v[8];
        _mm256_storeu_ps(v, L[i]);
        for (int k = 0; k < 8; k++) L_out[16 * k + i] = (int8_t)(int)v[k];
    }
}

void qk_kq_requant32_avx2(const float *x, float d, float dm, int nmax, uint8_t *L) {
    const __m256 vd = _mm256_set1_ps(d), vdm = _mm256_set1_ps(dm);
    const __m256i lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(nmax);
    for (int i = 0; i < 32; i += 8) {
        const __m256 q = _mm256_div_ps(_mm256_add_ps(_mm256_loadu_ps(x + i), vdm), vd);
        const __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, nearest_int8(q)));
        /* 8 int32 in 0..31 -> 8 bytes */
        const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(l), _mm256_extracti128_si256(l, 1));
        _mm_storel_epi64((__m128i *)(L + i), _mm_packus_epi16(w, _mm_setzero_si128()));
    }
}
