/* lanes_body.h - the lane-wise scale searches of the K-quants
 * (make_qkx2_quants / make_qkx3_quants, make_qx_quants, make_q3_quants of
 * quant_search.c) and IQ4_NL / IQ4_XS (iq4.c), written once over a small
 * vector vocabulary and instantiated per ISA: by x86/lanes_avx2.c and
 * x86/lanes_avx512.c (through x86/lanes_x86_body.h, which adds the x86-only
 * packing and the interleaved searches; contract in x86/lanes_x86.h) and by
 * arm/search_neon.c (contract in arm/search_neon.h).
 *
 * Include after the ISA's vocabulary (x86/vec_x86.h, arm/vec_neon.h):
 *   LN_W                        lanes per vector (16, 8, 4)
 *   vf, vi, vm                  float, int32 and mask vectors of LN_W lanes
 *   vf_load/store, vf_set1, vf_add/sub/mul/div/sqrt, vf_abs, vf_neg
 *                               the IEEE operations, exactly as scalar C
 *                               rounds them (no FMA)
 *   vf_min/max                  the smaller / larger of two non-NaN floats
 *   vf_lt/gt/le/eq              C's < > <= == (ordered: false for NaN)
 *   vf_ne_uq                    C's != (true for NaN), for `f ? a : b`
 *   vf_sel(m, a, b), vi_sel     m ? a : b per lane
 *   vf_nearest_int              ggml's nearest_int, bit for bit
 *   vf_to_i_exact, vi_to_f      float <-> int32 of small integers
 *   vi_set1, vi_add/sub/min/max, vi_ne, vi_inc(a, m) (a + (m ? 1 : 0)),
 *   vi_store                    int32 lanes
 *   vm_and/or/andnot (a & !b), vm_none, vm_all, vm_any
 *   vtab16, vtab16_load/get     t[i] of a 16-float table, i in 0..15
 *
 * Each lane runs ONE group's (sub-block's or block's) scalar search of
 * quant_search.c / iq4.c, element by element in the scalar order, with the
 * scalar's exact float operations; data-dependent branches become per-lane
 * masks, and a lane the scalar code would have left early (all-zero group,
 * converged refinement) is masked so its state stops changing. So every lane
 * ends with the bits the scalar function returns, while W groups run side
 * by side. Inputs are transposed first: xt[i * W + k] = element i of group k.
 */
#ifndef QK_LANES_BODY_H
#define QK_LANES_BODY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "k_quants_internal.h"
#include "quant_search.h"

#define LB_MAXN 32

/* The searches are written once for any n and nmax; the entries below call
 * them with the constants of the hot shapes (Q6_K's 16 x 32 levels, Q3_K's
 * imatrix 16 x 4) so the compiler folds them as a hand-specialised kernel
 * would. Measured with callgrind on AVX2: Q6_K's search 33.0 M -> 26.5 M
 * instructions per 128 rows of 4096 (the kernel before the dedupe: 25.3 M). */
#define LB_INLINE static inline __attribute__((always_inline))

/* groups of n floats, `avail` of them (the rest zeros) -> xt[i * W + k].
 * (Gathering columns instead saved 1% of the Q4_K search's instructions
 * but made Q3_K's AVX-512 search 6% slower on this AMD machine.) */
LB_INLINE void lb_transpose(const float *x, int n, int avail, float *xt) {
    for (int k = 0; k < LN_W; ++k)
        for (int i = 0; i < n; ++i) xt[i * LN_W + k] = k < avail ? x[k * n + i] : 0.f;
}

LB_INLINE void lb_untranspose_u8(const vi *Lv, int n, uint8_t *L) {
    int32_t lt[LB_MAXN * LN_W];
    for (int i = 0; i < n; ++i) vi_store(lt + i * LN_W, Lv[i]);
    for (int k = 0; k < LN_W; ++k)
        for (int i = 0; i < n; ++i) L[k * n + i] = (uint8_t)lt[i * LN_W + k];
}

/* nearest_int(v) as a float, for |v| < 2^22 only: v + 1.5*2^23 lands in
 * [2^23, 2^24), where floats are the integers, so the addition rounds v to
 * nearest-even exactly as nearest_int's does and the subtraction is exact
 * (never -0). nearest_int keeps the same sum's low mantissa bits, which are
 * that integer + 2^22. */
LB_INLINE vf lb_round_small(vf v) {
    const vf magic = vf_set1(12582912.f);
    return vf_sub(vf_add(v, magic), magic);
}

/* clamp(nearest_int(v), lo, hi) as a float: in floats when fast (the caller
 * guarantees |v| < 2^22 and no NaN on every lane whose result is used), else
 * through nearest_int's integers; the same bits under that guarantee. */
LB_INLINE vf lb_level(vf v, int lo, int hi, bool fast) {
    return fast ? vf_max(vf_set1((float)lo), vf_min(vf_set1((float)hi), lb_round_small(v)))
                : vi_to_f(vi_max(vi_set1(lo), vi_min(vi_set1(hi), vf_nearest_int(v))));
}

/* One step of make_qkx2/3_quants' search: the levels clamp(nearest_int(
 * iscale * (x - min)), 0, nmax) of the n elements (as floats, into Laux;
 * fast as lb_level) and their weighted sums, in element order; xm[i] =
 * x[i] - min, which changes only when a step improves the fit. */
LB_INLINE void lb_qkx_levels(int n, const float *xt, const float *wt, const vf *xm, vf iscale, int nmax, bool fast,
                             vf *Laux, vf *sum_l_out, vf *sum_l2_out, vf *sum_xl_out) {
    const vf zero = vf_set1(0.f);
    vf sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
        const vf fl = lb_level(vf_mul(iscale, xm[i]), 0, nmax, fast);
        Laux[i] = fl;
        const vf wl = vf_mul(w, fl);
        sum_l = vf_add(sum_l, wl);
        sum_l2 = vf_add(sum_l2, vf_mul(wl, fl));
        sum_xl = vf_add(sum_xl, vf_mul(wl, x));
    }
    *sum_l_out = sum_l, *sum_l2_out = sum_l2, *sum_xl_out = sum_xl;
}

/* make_qkx2_quants (v3 false) / make_qkx3_quants (v3 true) with explicit
 * weights, on W groups of n. */
LB_INLINE void lb_qkx(int n, int nmax, const float *xt, const float *wt, vi *L, vf *scale_out, vf *themin_out,
                          float rmin, float rdelta, int nstep, bool use_mad, bool v3) {
    const vf zero = vf_set1(0.f);
    vf min = vf_load(xt), max = min;
    vf sum_w = vf_load(wt);
    vf sum_x = vf_mul(sum_w, min);
    for (int i = 1; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
        min = vf_sel(vf_lt(x, min), x, min);
        max = vf_sel(vf_gt(x, max), x, max);
        sum_w = vf_add(sum_w, w);
        sum_x = vf_add(sum_x, vf_mul(w, x));
    }
    const vf lo = min; /* the smallest x, before the clamp to <= 0 (the rounding guard below) */
    /* a NaN x (or weight) makes sum_x NaN: such a lane keeps the integer rounding */
    const vm nan_lane = vf_ne_uq(sum_x, sum_x);
    min = vf_sel(vf_gt(min, zero), zero, min);
    const vm flat = v3 ? vf_le(max, min) : vf_eq(max, min); /* scalar returns early: L = 0, scale 0 */
    vf iscale = vf_div(vf_set1((float)nmax), vf_sub(max, min));
    vf scale = vf_div(vf_set1(1.f), iscale);
    vf best_error = zero;
    const vi vnmax = vi_set1(nmax), vzero = vi_set1(0);
    /* the levels are kept as floats (exact small integers): the error loop
     * and the updates then need no conversions; L gets them at the end */
    vf Lf[LB_MAXN];
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
        const vi l = vi_max(vzero, vi_min(vnmax, vf_nearest_int(vf_mul(iscale, vf_sub(x, min)))));
        Lf[i] = vi_to_f(l);
        vf diff = vf_sub(vf_add(vf_mul(scale, Lf[i]), min), x);
        diff = use_mad ? vf_abs(diff) : vf_mul(diff, diff);
        best_error = vf_add(best_error, vf_mul(w, diff));
    }
    vf Laux[LB_MAXN], xm[LB_MAXN];
    for (int i = 0; i < n; ++i) xm[i] = vf_sub(vf_load(xt + i * LN_W), min);
    for (int is = 0; is <= nstep; ++is) {
        const float step = rmin + rdelta * (float)is; /* (rmin + rdelta*is) + nmax, as the scalar code */
        /* (max - min) with the min of the best fit so far, as the scalar loop */
        iscale = vf_div(vf_add(vf_set1(step), vf_set1((float)nmax)), vf_sub(max, min));
        vf sum_l = zero, sum_l2 = zero, sum_xl = zero;
        /* |iscale * (x - min)| <= |iscale| * max(max - min, min - lo) < 2^21 on every lane that counts (not
         * flat, no NaN): then the levels can be rounded in floats (lb_round_small) with the same result
         * as nearest_int, two operations fewer per element (5% of a Q4_K_M run's CPU); else (huge or
         * non-finite values) through the integers. Every step of the 1.09 GB bench model took the float
         * path; the kernel tests' edge inputs take both. */
        const vf up = vf_sub(max, min), down = vf_sub(min, lo);
        const vf span = vf_sel(vf_gt(up, down), up, down);
        const vm small = vf_lt(vf_abs(vf_mul(iscale, span)), vf_set1(2097152.f)); /* false for NaN */
        if (!vm_any(vm_andnot(vm_andnot(vm_all(), flat), vm_andnot(small, nan_lane))))
            lb_qkx_levels(n, xt, wt, xm, iscale, nmax, true, Laux, &sum_l, &sum_l2, &sum_xl);
        else
            lb_qkx_levels(n, xt, wt, xm, iscale, nmax, false, Laux, &sum_l, &sum_l2, &sum_xl);
        const vf D = vf_sub(vf_mul(sum_w, sum_l2), vf_mul(sum_l, sum_l));
        const vm dpos = vm_andnot(vf_gt(D, zero), flat);
        if (!vm_any(dpos)) continue;
        vf this_scale = vf_div(vf_sub(vf_mul(sum_w, sum_xl), vf_mul(sum_x, sum_l)), D);
        vf this_min = vf_div(vf_sub(vf_mul(sum_l2, sum_x), vf_mul(sum_l, sum_xl)), D);
        const vm mpos = vf_gt(this_min, zero);
        this_min = vf_sel(mpos, zero, this_min);
        this_scale = vf_sel(mpos, vf_div(sum_xl, sum_l2), this_scale);
        vf cur_error = zero;
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
            vf diff = vf_sub(vf_add(vf_mul(this_scale, Laux[i]), this_min), x);
            diff = use_mad ? vf_abs(diff) : vf_mul(diff, diff);
            cur_error = vf_add(cur_error, vf_mul(w, diff));
        }
        const vm upd = vm_and(dpos, vf_lt(cur_error, best_error));
        if (!vm_any(upd)) continue;
        for (int i = 0; i < n; ++i) Lf[i] = vf_sel(upd, Laux[i], Lf[i]);
        best_error = vf_sel(upd, cur_error, best_error);
        scale = vf_sel(upd, this_scale, scale);
        min = vf_sel(upd, this_min, min);
        for (int i = 0; i < n; ++i) xm[i] = vf_sub(vf_load(xt + i * LN_W), min);
    }
    for (int i = 0; i < n; ++i) L[i] = vi_sel(flat, vzero, vf_to_i_exact(Lf[i]));
    *scale_out = vf_sel(flat, zero, scale);
    *themin_out = vf_neg(min);
}

/* The signed-max scan make_qx_quants, make_q3_quants and the IQ4 search
 * start with: max = the x with the largest |x| (first on ties). Returns the
 * lanes whose group counts as all zero (amax < GROUP_MAX_EPS). */
LB_INLINE vm lb_signed_max(int n, const float *xt, vf *max_out) {
    vf max = vf_set1(0.f), amax = vf_set1(0.f);
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W), ax = vf_abs(x);
        const vm m = vf_gt(ax, amax);
        amax = vf_sel(m, ax, amax);
        max = vf_sel(m, x, max);
    }
    *max_out = max;
    return vf_lt(amax, vf_set1(QK_GROUP_MAX_EPS));
}

/* One step of make_qx_quants' search: the levels clamp(nearest_int(iscale *
 * x), -nmax, nmax - 1) (as floats, into lt; fast as lb_level) and the sums
 * of w*x*l and w*l*l in element order. */
LB_INLINE void lb_qx_levels(int n, int nmax, const float *xt, const vf *wx, const vf *wv, vf iscale, bool fast,
                            vf *lt, vf *sumlx_out, vf *suml2_out) {
    vf sumlx = vf_set1(0.f), suml2 = sumlx;
    for (int i = 0; i < n; ++i) {
        const vf fl = lb_level(vf_mul(iscale, vf_load(xt + i * LN_W)), -nmax, nmax - 1, fast);
        lt[i] = fl;
        sumlx = vf_add(sumlx, vf_mul(wx[i], fl));
        suml2 = vf_add(suml2, vf_mul(vf_mul(wv[i], fl), fl));
    }
    *sumlx_out = sumlx, *suml2_out = suml2;
}

/* make_qx_quants(n, nmax, x, L, rmse_type = 1, qw) on W groups; wt NULL
 * means qw = NULL (weights x^2). */
LB_INLINE vf lb_qx(int n, int nmax, const float *xt, const float *wt, vi *L) {
    const vf zero = vf_set1(0.f);
    vf max;
    const vm allzero = lb_signed_max(n, xt, &max);
    const vi lo = vi_set1(-nmax), hi = vi_set1(nmax - 1), off = vi_set1(nmax);
    vf wv[LB_MAXN], wx[LB_MAXN];
    vm nan = vm_none();
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W);
        wv[i] = wt ? vf_load(wt + i * LN_W) : vf_mul(x, x);
        wx[i] = vf_mul(wv[i], x); /* w * x[i] * l = (w * x) * l */
        nan = vm_or(nan, vf_ne_uq(x, x));
    }
    /* |iscale * x| <= |iscale * max| = nmax + 0.1 |is| < 2^21 when every x is finite: then the steps'
     * levels are rounded in floats (lb_round_small), with nearest_int's result; a lane with a NaN or an
     * infinity (unless all-zero, whose result is not used) keeps the integers for the whole search */
    const vm finite = vm_andnot(vf_lt(vf_abs(max), vf_set1(INFINITY)), nan);
    const bool fast = !vm_any(vm_andnot(vm_andnot(vm_all(), finite), allzero));
    vf iscale = vf_div(vf_set1((float)-nmax), max);
    vf sumlx = zero, suml2 = zero;
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W);
        const vi l = vi_max(lo, vi_min(hi, vf_nearest_int(vf_mul(iscale, x))));
        L[i] = vi_add(l, off);
        const vf fl = vi_to_f(l);
        sumlx = vf_add(sumlx, vf_mul(wx[i], fl));
        suml2 = vf_add(suml2, vf_mul(vf_mul(wv[i], fl), fl));
    }
    /* `suml2 ? a : b` is true for NaN too, hence the unordered compare */
    vf scale = vf_sel(vf_ne_uq(suml2, zero), vf_div(sumlx, suml2), zero);
    vf best = vf_mul(scale, sumlx);
    vf lt[LB_MAXN];
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const float c = -((float)nmax + 0.1f * (float)is);
        iscale = vf_div(vf_set1(c), max);
        if (fast) lb_qx_levels(n, nmax, xt, wx, wv, iscale, true, lt, &sumlx, &suml2);
        else lb_qx_levels(n, nmax, xt, wx, wv, iscale, false, lt, &sumlx, &suml2);
        const vm upd =
            vm_andnot(vm_and(vf_gt(suml2, zero), vf_gt(vf_mul(sumlx, sumlx), vf_mul(best, suml2))), allzero);
        if (!vm_any(upd)) continue;
        for (int i = 0; i < n; ++i) L[i] = vi_sel(upd, vi_add(vf_to_i_exact(lt[i]), off), L[i]);
        scale = vf_sel(upd, vf_div(sumlx, suml2), scale);
        best = vf_sel(upd, vf_mul(scale, sumlx), best);
    }
    const vi vzero = vi_set1(0);
    for (int i = 0; i < n; ++i) L[i] = vi_sel(allzero, vzero, L[i]);
    return vf_sel(allzero, zero, scale);
}

/* make_q3_quants(n, nmax, x, L, do_rmse = true) on W groups. */
static inline vf lb_q3(int n, int nmax, const float *xt, vi *L) {
    const vf zero = vf_set1(0.f);
    vf max;
    const vm allzero = lb_signed_max(n, xt, &max);
    const vi lo = vi_set1(-nmax), hi = vi_set1(nmax - 1);
    const vf iscale = vf_div(vf_set1((float)-nmax), max);
    vf sumlx = zero, suml2 = zero;
    vf wv[LB_MAXN], wx[LB_MAXN];
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W);
        wv[i] = vf_mul(x, x);
        wx[i] = vf_mul(wv[i], x);
        const vi l = vi_max(lo, vi_min(hi, vf_nearest_int(vf_mul(iscale, x))));
        L[i] = l;
        const vf fl = vi_to_f(l);
        sumlx = vf_add(sumlx, vf_mul(wx[i], fl));
        suml2 = vf_add(suml2, vf_mul(vf_mul(wv[i], fl), fl));
    }
    /* w*x*L and w*L*L of the current levels, refreshed when a level changes
     * (the same products the scalar code forms, so the same bits) */
    vf wxl[LB_MAXN], wll[LB_MAXN];
    for (int i = 0; i < n; ++i) {
        const vf fL = vi_to_f(L[i]);
        wxl[i] = vf_mul(wx[i], fL);
        wll[i] = vf_mul(vf_mul(wv[i], fL), fL);
    }
    vm active = vm_andnot(vm_all(), allzero);
    for (int itry = 0; itry < 5 && vm_any(active); ++itry) {
        vm changed = vm_none();
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt + i * LN_W);
            const vf slx0 = vf_sub(sumlx, wxl[i]);
            const vf sl20 = vf_sub(suml2, wll[i]);
            vi new_l = vf_nearest_int(vf_div(vf_mul(x, sl20), slx0));
            new_l = vi_max(lo, vi_min(hi, new_l));
            /* the common case: no lane moves (slx0 > 0 gates the scalar's division) */
            const vm differs = vm_and(vm_and(active, vf_gt(slx0, zero)), vi_ne(new_l, L[i]));
            if (!vm_any(differs)) continue;
            const vf fn = vi_to_f(new_l);
            const vf wxn = vf_mul(wx[i], fn), wnn = vf_mul(vf_mul(wv[i], fn), fn);
            const vf slx = vf_add(slx0, wxn);
            const vf sl2 = vf_add(sl20, wnn);
            const vm ok = vm_and(differs, vm_and(vf_gt(sl2, zero), vf_gt(vf_mul(vf_mul(slx, slx), suml2),
                                                                         vf_mul(vf_mul(sumlx, sumlx), sl2))));
            if (!vm_any(ok)) continue;
            L[i] = vi_sel(ok, new_l, L[i]);
            wxl[i] = vf_sel(ok, wxn, wxl[i]);
            wll[i] = vf_sel(ok, wnn, wll[i]);
            sumlx = vf_sel(ok, slx, sumlx);
            suml2 = vf_sel(ok, sl2, suml2);
            changed = vm_or(changed, ok);
        }
        active = vm_and(active, changed);
    }
    const vi off = vi_set1(nmax), vzero = vi_set1(0);
    for (int i = 0; i < n; ++i) L[i] = vi_sel(allzero, vzero, vi_add(L[i], off));
    return vf_sel(vm_andnot(vf_gt(suml2, zero), allzero), vf_div(sumlx, suml2), zero);
}

/* ------------------------------------------------- entry glue
 * The entry points are each ISA file's (x86/lanes_x86_body.h,
 * arm/search_neon.c); below is the glue (transposition in and out) they
 * share. x86's qk_q3k_lanes, qk_qkx3_lanes and qk_iq4_lanes spell theirs
 * out instead: one more always_inline layer there changed GCC 12's x86
 * output (a reordered loop exit, swapped cmp operands), and the x86 objects
 * are kept byte for byte as they were. */

LB_INLINE void lb_qx_lanes(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L) {
    float xt[LB_MAXN * LN_W], wt[LB_MAXN * LN_W];
    lb_transpose(x, n, LN_W, xt);
    if (w) lb_transpose(w, n, LN_W, wt);
    vi Lv[LB_MAXN];
    vf_store(scales, lb_qx(n, nmax, xt, w ? wt : NULL, Lv));
    lb_untranspose_u8(Lv, n, (uint8_t *)L);
}

/* make_qx_quants(n, nmax, x, L, 1, w) of W groups of n <= 32 (w NULL:
 * weights x^2). */
LB_INLINE void lb_qx_search(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L) {
    if (n < 1 || n > LB_MAXN) return; /* contract: 1 <= n <= 32 (also tells the compiler) */
    if (n == 16 && nmax == 32) lb_qx_lanes(16, 32, x, w, scales, L); /* Q6_K */
    else if (n == 16 && nmax == 4) lb_qx_lanes(16, 4, x, w, scales, L); /* Q3_K with an imatrix */
    else lb_qx_lanes(n, nmax, x, w, scales, L);
}

/* Q4_K/Q5_K's weights without an imatrix for W transposed sub-blocks of 32:
 * wt = sqrt(sum x^2 / 32) + |x|, the sum in element order. */
LB_INLINE void lb_kq_auto_weights(const float *xt, float *wt) {
    vf sum_x2 = vf_set1(0.f);
    for (int i = 0; i < 32; ++i) {
        const vf v = vf_load(xt + i * LN_W);
        sum_x2 = vf_add(sum_x2, vf_mul(v, v));
    }
    const vf av_x = vf_sqrt(vf_div(sum_x2, vf_set1(32.f)));
    for (int i = 0; i < 32; ++i) vf_store(wt + i * LN_W, vf_add(av_x, vf_abs(vf_load(xt + i * LN_W))));
}

/* lb_qkx on the transposed groups xt, weights wt (W groups of n <= 32),
 * each group's scale, min (the_min) and levels stored. */
LB_INLINE void lb_qkx_store(int n, int nmax, const float *xt, const float *wt, float rmin, float rdelta, int nstep,
                            bool use_mad, bool v3, float *scales, float *mins, uint8_t *L) {
    vi Lv[LB_MAXN];
    vf sc, mn;
    lb_qkx(n, nmax, xt, wt, Lv, &sc, &mn, rmin, rdelta, nstep, use_mad, v3);
    vf_store(scales, sc);
    vf_store(mins, mn);
    lb_untranspose_u8(Lv, n, L);
}

/* ---------------------------------------------------------------- IQ4 */

static const float lb_iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* best_index_int8(16, kvalues, x) per lane. The binary search ends with mu
 * = the first index whose value exceeds x; for x strictly inside the table
 * that is 1 + #{i in 1..14 : !(x < val[i])}, and the same count also gives
 * the two clamped ends (x <= val[0] -> 0, x >= val[15] -> 15, infinities
 * included) and NaN (all comparisons false -> mu = 15, the tie test false ->
 * 15), as the scalar does. */
static inline vi lb_iq4_index(vf x, vtab16 tab) {
    vi c = vi_set1(1);
    for (int i = 1; i < 15; ++i) c = vi_inc(c, vm_andnot(vm_all(), vf_lt(x, vf_set1(lb_iq4_values[i]))));
    const vi cm1 = vi_sub(c, vi_set1(1));
    const vf lo = vtab16_get(tab, cm1), hi = vtab16_get(tab, c);
    return vi_sel(vf_lt(vf_sub(x, lo), vf_sub(hi, x)), cm1, c);
}

/* iq4.c's iq4_sums per lane: sum(w q x) and sum(w q^2) at inverse scale id. */
static inline void lb_iq4_sums(const float *xt, const float *wt, vf id, vtab16 tab, vf *sumqx, vf *sumq2) {
    vf qx = vf_set1(0.f), q2 = qx;
    for (int j = 0; j < 32; ++j) {
        const vf x = vf_load(xt + j * LN_W);
        const vf q = vtab16_get(tab, lb_iq4_index(vf_mul(id, x), tab));
        const vf wq = vf_mul(vf_load(wt + j * LN_W), q);
        qx = vf_add(qx, vf_mul(wq, x));
        q2 = vf_add(q2, vf_mul(wq, q));
    }
    *sumqx = qx;
    *sumq2 = q2;
}

/* The ntry = 7 scale search of quantize_row_iq4_nl_impl on W transposed
 * blocks of 32 (xt) with their weights (wt): d[k] is the block's
 * (sub-block's) scale, 0 for an all-zero block, for the first avail (<= W). */
LB_INLINE void lb_iq4_scales(const float *xt, const float *wt, int avail, float *d_out) {
    const vtab16 tab = vtab16_load(lb_iq4_values);
    const vf zero = vf_set1(0.f);
    vf max;
    const vm allzero = lb_signed_max(32, xt, &max);
    vf d = vf_div(vf_neg(max), vf_set1(-127.f)); /* -max / values[0] */
    vf id = vf_div(vf_set1(1.f), d);
    vf sumqx, sumq2;
    lb_iq4_sums(xt, wt, id, tab, &sumqx, &sumq2);
    d = vf_sel(vf_gt(sumq2, zero), vf_div(sumqx, sumq2), zero);
    vf best = vf_mul(d, sumqx);
    for (int itry = -7; itry <= 7; ++itry) {
        id = vf_div(vf_set1((float)(itry - 127)), max);
        lb_iq4_sums(xt, wt, id, tab, &sumqx, &sumq2);
        const vm upd = vm_and(vf_gt(sumq2, zero), vf_gt(vf_mul(sumqx, sumqx), vf_mul(best, sumq2)));
        if (!vm_any(upd)) continue;
        d = vf_sel(upd, vf_div(sumqx, sumq2), d);
        best = vf_sel(upd, vf_mul(d, sumqx), best);
    }
    float out[LN_W];
    vf_store(out, vf_sel(allzero, zero, d));
    memcpy(d_out, out, sizeof(float) * (size_t)avail);
}

#endif
