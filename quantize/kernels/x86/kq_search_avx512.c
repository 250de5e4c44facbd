/* kq_search_avx512.c - the Q4_K / Q5_K scale search (ggml's make_qkx2_quants
 * with the weights of quantize_row_q4_K_ref / q5_K_ref) for 16 sub-blocks at
 * once: each AVX-512 lane runs one sub-block's search in exactly the scalar
 * order (same float operations, same order, no FMA; comparisons keep their
 * NaN behaviour), so results are bit-identical with the scalar code, while
 * 16 searches run side by side.
 *
 * x: 16 consecutive sub-blocks of 32 floats (two super-blocks); out: the
 * scale and min of each sub-block and its 32 levels L (0..nmax).
 */
#include <immintrin.h>
#include <stdint.h>

#include "k_quants_internal.h"
#include "quant_search.h"

static inline __m512i nearest_int16(__m512 f) {
    const __m512 v = _mm512_add_ps(f, _mm512_set1_ps(12582912.f));
    const __m512i i = _mm512_castps_si512(v);
    return _mm512_sub_epi32(_mm512_and_si512(i, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x00400000));
}

static inline __m512 clamp_level(__m512i l, int nmax) {
    l = _mm512_max_epi32(_mm512_setzero_si512(), _mm512_min_epi32(_mm512_set1_epi32(nmax), l));
    return _mm512_cvtepi32_ps(l);
}

void qk_kq_search16_avx512(const qk_kq_params *p, const float *x, float *scales_out, float *mins_out, uint8_t *L_out) {
    __m512 xt[32], w[32], L[32], Laux[32];
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(32));
    for (int l = 0; l < 32; l++) xt[l] = _mm512_i32gather_ps(_mm512_add_epi32(idx, _mm512_set1_epi32(l)), x, 4);
    const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));

    /* weights: sqrt(sum x^2 / 32) + |x| */
    __m512 sum_x2 = _mm512_setzero_ps();
    for (int l = 0; l < 32; l++) sum_x2 = _mm512_add_ps(sum_x2, _mm512_mul_ps(xt[l], xt[l]));
    const __m512 av_x = _mm512_sqrt_ps(_mm512_div_ps(sum_x2, _mm512_set1_ps(32.f)));
    for (int l = 0; l < 32; l++) w[l] = _mm512_add_ps(av_x, _mm512_and_ps(xt[l], abs_mask));

    /* make_qkx2_quants */
    __m512 min = xt[0], max = xt[0];
    __m512 sum_w = w[0];
    __m512 sum_x = _mm512_mul_ps(sum_w, xt[0]);
    for (int i = 1; i < 32; i++) {
        min = _mm512_mask_mov_ps(min, _mm512_cmp_ps_mask(xt[i], min, _CMP_LT_OQ), xt[i]);
        max = _mm512_mask_mov_ps(max, _mm512_cmp_ps_mask(xt[i], max, _CMP_GT_OQ), xt[i]);
        sum_w = _mm512_add_ps(sum_w, w[i]);
        sum_x = _mm512_add_ps(sum_x, _mm512_mul_ps(w[i], xt[i]));
    }
    const __m512 zero = _mm512_setzero_ps();
    min = _mm512_mask_mov_ps(min, _mm512_cmp_ps_mask(min, zero, _CMP_GT_OQ), zero);
    const __mmask16 flat = _mm512_cmp_ps_mask(max, min, _CMP_EQ_OQ); /* these lanes return 0, L = 0 */
    const __m512 range = _mm512_sub_ps(max, min);
    const __m512 fnmax = _mm512_set1_ps((float)p->nmax);
    __m512 iscale = _mm512_div_ps(fnmax, range);
    __m512 scale = _mm512_div_ps(_mm512_set1_ps(1.f), iscale);
    __m512 best = zero;
    for (int i = 0; i < 32; i++) {
        L[i] = clamp_level(nearest_int16(_mm512_mul_ps(iscale, _mm512_sub_ps(xt[i], min))), p->nmax);
        __m512 diff = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(scale, L[i]), min), xt[i]);
        diff = _mm512_mul_ps(diff, diff);
        best = _mm512_add_ps(best, _mm512_mul_ps(w[i], diff));
    }
    for (int is = 0; is <= p->nstep; is++) {
        const float step = p->rmin + p->rdelta * (float)is; /* (rmin + rdelta*is) + nmax, as the scalar code */
        /* max - min with the current min: an accepted step moves min (as in ggml) */
        iscale = _mm512_div_ps(_mm512_add_ps(_mm512_set1_ps(step), fnmax), _mm512_sub_ps(max, min));
        __m512 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < 32; i++) {
            Laux[i] = clamp_level(nearest_int16(_mm512_mul_ps(iscale, _mm512_sub_ps(xt[i], min))), p->nmax);
            const __m512 wl = _mm512_mul_ps(w[i], Laux[i]);
            sum_l = _mm512_add_ps(sum_l, wl);
            sum_l2 = _mm512_add_ps(sum_l2, _mm512_mul_ps(wl, Laux[i]));
            sum_xl = _mm512_add_ps(sum_xl, _mm512_mul_ps(wl, xt[i]));
        }
        const __m512 D = _mm512_sub_ps(_mm512_mul_ps(sum_w, sum_l2), _mm512_mul_ps(sum_l, sum_l));
        const __mmask16 dpos = _mm512_cmp_ps_mask(D, zero, _CMP_GT_OQ) & (__mmask16)~flat;
        if (!dpos) continue;
        __m512 this_scale = _mm512_div_ps(_mm512_sub_ps(_mm512_mul_ps(sum_w, sum_xl), _mm512_mul_ps(sum_x, sum_l)), D);
        __m512 this_min = _mm512_div_ps(_mm512_sub_ps(_mm512_mul_ps(sum_l2, sum_x), _mm512_mul_ps(sum_l, sum_xl)), D);
        const __mmask16 mpos = _mm512_cmp_ps_mask(this_min, zero, _CMP_GT_OQ);
        this_min = _mm512_mask_mov_ps(this_min, mpos, zero);
        this_scale = _mm512_mask_mov_ps(this_scale, mpos, _mm512_div_ps(sum_xl, sum_l2));
        __m512 cur = zero;
        for (int i = 0; i < 32; i++) {
            __m512 diff = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(this_scale, Laux[i]), this_min), xt[i]);
            diff = _mm512_mul_ps(diff, diff);
            cur = _mm512_add_ps(cur, _mm512_mul_ps(w[i], diff));
        }
        const __mmask16 better = dpos & _mm512_cmp_ps_mask(cur, best, _CMP_LT_OQ);
        if (!better) continue;
        for (int i = 0; i < 32; i++) L[i] = _mm512_mask_mov_ps(L[i], better, Laux[i]);
        best = _mm512_mask_mov_ps(best, better, cur);
        scale = _mm512_mask_mov_ps(scale, better, this_scale);
        min = _mm512_mask_mov_ps(min, better, this_min);
    }
    /* lanes with max == min: scale 0, L 0, the_min = -min */
    scale = _mm512_mask_mov_ps(scale, flat, zero);
    for (int i = 0; i < 32; i++) L[i] = _mm512_mask_mov_ps(L[i], flat, zero);
    _mm512_storeu_ps(scales_out, scale);
    _mm512_storeu_ps(mins_out, _mm512_xor_ps(min, _mm512_set1_ps(-0.0f))); /* -min, as the scalar code */
    for (int i = 0; i < 32; i++) {
        float v[16];
        _mm512_storeu_ps(v, L[i]);
        for (int k = 0; k < 16; k++) L_out[32 * k + i] = (uint8_t)(int)v[k];
    }
}

/* Q6_K's search (ggml's make_qx_quants(16, 32, x, L, 1, NULL)) for the 16
 * sub-blocks of 16 of one super-block, one lane each, in scalar order. */
void qk_q6k_search16_avx512(const float *x, float *scales_out, int8_t *L_out) {
    __m512 xt[16], w[16], L[16];
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(16));
    for (int l = 0; l < 16; l++) xt[l] = _mm512_i32gather_ps(_mm512_add_epi32(idx, _mm512_set1_epi32(l)), x, 4);
    const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __m512 zero = _mm512_setzero_ps();
    __m512 max = zero, amax = zero;
    for (int i = 0; i < 16; i++) {
        const __m512 ax = _mm512_and_ps(xt[i], abs_mask);
        const __mmask16 gt = _mm512_cmp_ps_mask(ax, amax, _CMP_GT_OQ);
        amax = _mm512_mask_mov_ps(amax, gt, ax);
        max = _mm512_mask_mov_ps(max, gt, xt[i]);
        w[i] = _mm512_mul_ps(xt[i], xt[i]);
    }
    const __mmask16 tiny = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(QK_GROUP_MAX_EPS), _CMP_LT_OQ);
    const __m512i lo = _mm512_set1_epi32(-32), hi = _mm512_set1_epi32(31), off = _mm512_set1_epi32(32);
    __m512 iscale = _mm512_div_ps(_mm512_set1_ps(-32.f), max);
    __m512 sumlx = zero, suml2 = zero;
    for (int i = 0; i < 16; i++) {
        __m512i l = nearest_int16(_mm512_mul_ps(iscale, xt[i]));
        l = _mm512_max_epi32(lo, _mm512_min_epi32(hi, l));
        const __m512 lf = _mm512_cvtepi32_ps(l);
        L[i] = _mm512_cvtepi32_ps(_mm512_add_epi32(l, off));
        sumlx = _mm512_add_ps(sumlx, _mm512_mul_ps(_mm512_mul_ps(w[i], xt[i]), lf));
        suml2 = _mm512_add_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w[i], lf), lf));
    }
    __m512 scale = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(suml2, zero, _CMP_NEQ_UQ), sumlx, suml2);
    __m512 best = _mm512_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        /* -(nmax + 0.1f*is) / max */
        const float num = -(32.f + 0.1f * (float)is);
        iscale = _mm512_div_ps(_mm512_set1_ps(num), max);
        __m512 slx = zero, sl2 = zero;
        __m512 Lt[16];
        for (int i = 0; i < 16; i++) {
            __m512i l = nearest_int16(_mm512_mul_ps(iscale, xt[i]));
            l = _mm512_max_epi32(lo, _mm512_min_epi32(hi, l));
            const __m512 lf = _mm512_cvtepi32_ps(l);
            Lt[i] = _mm512_cvtepi32_ps(_mm512_add_epi32(l, off));
            slx = _mm512_add_ps(slx, _mm512_mul_ps(_mm512_mul_ps(w[i], xt[i]), lf));
            sl2 = _mm512_add_ps(sl2, _mm512_mul_ps(_mm512_mul_ps(w[i], lf), lf));
        }
        const __mmask16 better = _mm512_cmp_ps_mask(sl2, zero, _CMP_GT_OQ) &
                                 _mm512_cmp_ps_mask(_mm512_mul_ps(slx, slx), _mm512_mul_ps(best, sl2), _CMP_GT_OQ);
        if (!better) continue;
        for (int i = 0; i < 16; i++) L[i] = _mm512_mask_mov_ps(L[i], better, Lt[i]);
        const __m512 sc = _mm512_div_ps(slx, sl2);
        scale = _mm512_mask_mov_ps(scale, better, sc);
        best = _mm512_mask_mov_ps(best, better, _mm512_mul_ps(sc, slx));
    }
    scale = _mm512_mask_mov_ps(scale, tiny, zero);
    for (int i = 0; i < 16; i++) L[i] = _mm512_mask_mov_ps(L[i], tiny, zero);
    _mm512_storeu_ps(scales_out, scale);
    for (int i = 0; i < 16; i++) {
        float v[16];
        _mm512_storeu_ps(v, L[i]);
        for (int k = 0; k < 16; k++) L_out[16 * k + i] = (int8_t)(int)v[k];
    }
}

void qk_kq_requant32_avx512(const float *x, float d, float dm, int nmax, uint8_t *L) {
    const __m512 vd = _mm512_set1_ps(d), vdm = _mm512_set1_ps(dm);
    const __m512i lo = _mm512_setzero_si512(), hi = _mm512_set1_epi32(nmax);
    for (int i = 0; i < 32; i += 16) {
        const __m512 q = _mm512_div_ps(_mm512_add_ps(_mm512_loadu_ps(x + i), vdm), vd);
        const __m512i l = _mm512_max_epi32(lo, _mm512_min_epi32(hi, nearest_int16(q)));
        _mm_storeu_si128((__m128i *)(L + i), _mm512_cvtepi32_epi8(l));
    }
}
