/* search_neon.c - the NEON (aarch64) twin of the x86 lane searches
 * (x86/lanes_body.h): the K-quant and IQ4 scale searches of 4 independent
 * sub-blocks, one float32x4_t lane each, every lane in exactly the scalar
 * order of quant_search.c (qkx_search, make_qx_quants, make_q3_quants) and
 * iq4.c (iq4_search), so the bytes equal the scalar code's. Callers
 * (q2_k.c .. q6_k.c, iq4.c) run 2 (Q4_K/Q5_K/IQ4_XS) or 4 (Q2_K/Q3_K/Q6_K)
 * groups per super-block; the scalar code does everything around the search.
 * Vectorizing across sub-blocks never reorders a float sum.
 *
 * Exactness rules (see also quant_search.h):
 *  - only separate vmulq/vaddq/vsubq/vdivq/vsqrtq (IEEE-exact on aarch64);
 *    never vfmaq/vmlaq, and the file is built with -ffp-contract=off (the
 *    CMake default for every file) so the compiler fuses nothing either;
 *  - nearest_int is ggml's magic-number trick (add 1.5*2^23, keep the low
 *    mantissa bits), bit for bit, for every input incl. NaN/inf/huge; no
 *    vcvtnq (which saturates instead of returning ggml's garbage);
 *  - no vmaxq_f32/vminq_f32 on floats (they propagate NaN, the scalar
 *    `if (a < b)` does not): every min/max/select is an ordered comparison
 *    (vcltq/vcgtq/vceqq/vcleq, false for NaN like C's < > == <=) + vbslq;
 *    integer clamps use vmaxq_s32/vminq_s32, which are exact.
 */
#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>

#include "k_quants_internal.h"
#include "search_neon.h"
#include "quant_search.h"

static inline int32x4_t nearest_int4(float32x4_t f) {
    const float32x4_t v = vaddq_f32(f, vdupq_n_f32(12582912.f));
    const int32x4_t i = vreinterpretq_s32_f32(v);
    return vsubq_s32(vandq_s32(i, vdupq_n_s32(0x007fffff)), vdupq_n_s32(0x00400000));
}

/* mask ? b : a */
static inline float32x4_t sel(float32x4_t a, float32x4_t b, uint32x4_t mask) { return vbslq_f32(mask, b, a); }

static inline bool any(uint32x4_t m) { return vmaxvq_u32(m) != 0; }

/* Per lane, the largest |x| (returned) and the signed x holding it (*max,
 * the first of equals), as quant_search.h's qk_signed_absmax. */
static inline float32x4_t signed_absmax4(const float32x4_t *xt, int n, float32x4_t *max) {
    float32x4_t amax = vdupq_n_f32(0.f), mx = amax;
    for (int i = 0; i < n; i++) {
        const float32x4_t ax = vabsq_f32(xt[i]);
        const uint32x4_t gt = vcgtq_f32(ax, amax);
        amax = sel(amax, ax, gt);
        mx = sel(mx, xt[i], gt);
    }
    *max = mx;
    return amax;
}

/* out[l] = {p[l], p[n+l], p[2n+l], p[3n+l]} for l = 0..n-1 (n a multiple of 4):
 * lane k holds sub-block k. */
static void load_lanes(const float *p, int n, float32x4_t *out) {
    for (int l = 0; l < n; l += 4) {
        const float32x4_t r0 = vld1q_f32(p + l), r1 = vld1q_f32(p + n + l);
        const float32x4_t r2 = vld1q_f32(p + 2 * n + l), r3 = vld1q_f32(p + 3 * n + l);
        const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1)); /* r0[0] r1[0] r0[2] r1[2] */
        const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1)); /* r0[1] r1[1] r0[3] r1[3] */
        const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
        const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
        out[l + 0] = vreinterpretq_f32_f64(vtrn1q_f64(t0, t2));
        out[l + 1] = vreinterpretq_f32_f64(vtrn1q_f64(t1, t3));
        out[l + 2] = vreinterpretq_f32_f64(vtrn2q_f64(t0, t2));
        out[l + 3] = vreinterpretq_f32_f64(vtrn2q_f64(t1, t3));
    }
}

static inline float32x4_t clamp_level(int32x4_t l, int32x4_t lo, int32x4_t hi) {
    return vcvtq_f32_s32(vmaxq_s32(lo, vminq_s32(hi, l)));
}

/* |diff| (use_mad) or diff^2 */
static inline float32x4_t err_term(float32x4_t diff, bool use_mad) {
    return use_mad ? vabsq_f32(diff) : vmulq_f32(diff, diff);
}

void qk_kq_search4_neon(const qk_kq_params *p, int n, bool v3, bool use_mad, const float *x, const float *weights,
                        float *scales_out, float *mins_out, uint8_t *L_out) {
    float32x4_t xt[32], w[32], L[32], Laux[32];
    load_lanes(x, n, xt);
    const float32x4_t zero = vdupq_n_f32(0.f);
    if (weights) {
        load_lanes(weights, n, w);
    } else {
        /* Q4_K/Q5_K without imatrix (n == 32): sqrt(sum x^2 / 32) + |x| */
        float32x4_t sum_x2 = zero;
        for (int l = 0; l < 32; l++) sum_x2 = vaddq_f32(sum_x2, vmulq_f32(xt[l], xt[l]));
        const float32x4_t av_x = vsqrtq_f32(vdivq_f32(sum_x2, vdupq_n_f32(32.f)));
        for (int l = 0; l < 32; l++) w[l] = vaddq_f32(av_x, vabsq_f32(xt[l]));
    }
    float32x4_t min = xt[0], max = xt[0], sum_w = w[0], sum_x = vmulq_f32(w[0], xt[0]);
    for (int i = 1; i < n; i++) {
        min = sel(min, xt[i], vcltq_f32(xt[i], min));
        max = sel(max, xt[i], vcgtq_f32(xt[i], max));
        sum_w = vaddq_f32(sum_w, w[i]);
        sum_x = vaddq_f32(sum_x, vmulq_f32(w[i], xt[i]));
    }
    min = sel(min, zero, vcgtq_f32(min, zero));
    /* these lanes return scale 0, L 0, -min: max == min (qkx2) or max <= min
     * (qkx3); both ordered, so false for a NaN max, as in C */
    const uint32x4_t flat = v3 ? vcleq_f32(max, min) : vceqq_f32(max, min);
    const float32x4_t fnmax = vdupq_n_f32((float)p->nmax);
    const int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(p->nmax);
    float32x4_t iscale = vdivq_f32(fnmax, vsubq_f32(max, min));
    float32x4_t scale = vdivq_f32(vdupq_n_f32(1.f), iscale);
    float32x4_t best = zero;
    for (int i = 0; i < n; i++) {
        L[i] = clamp_level(nearest_int4(vmulq_f32(iscale, vsubq_f32(xt[i], min))), lo, hi);
        const float32x4_t diff = vsubq_f32(vaddq_f32(vmulq_f32(scale, L[i]), min), xt[i]);
        best = vaddq_f32(best, vmulq_f32(w[i], err_term(diff, use_mad)));
    }
    for (int is = 0; is <= p->nstep; is++) {
        const float step = p->rmin + p->rdelta * (float)is; /* (rmin + rdelta*is) + nmax, as the scalar code */
        /* max - min with the current min: an accepted step moves min (as in ggml) */
        iscale = vdivq_f32(vaddq_f32(vdupq_n_f32(step), fnmax), vsubq_f32(max, min));
        float32x4_t sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < n; i++) {
            Laux[i] = clamp_level(nearest_int4(vmulq_f32(iscale, vsubq_f32(xt[i], min))), lo, hi);
            const float32x4_t wl = vmulq_f32(w[i], Laux[i]);
            sum_l = vaddq_f32(sum_l, wl);
            sum_l2 = vaddq_f32(sum_l2, vmulq_f32(wl, Laux[i]));
            sum_xl = vaddq_f32(sum_xl, vmulq_f32(wl, xt[i]));
        }
        const float32x4_t D = vsubq_f32(vmulq_f32(sum_w, sum_l2), vmulq_f32(sum_l, sum_l));
        const uint32x4_t dpos = vbicq_u32(vcgtq_f32(D, zero), flat);
        if (!any(dpos)) continue;
        float32x4_t this_scale = vdivq_f32(vsubq_f32(vmulq_f32(sum_w, sum_xl), vmulq_f32(sum_x, sum_l)), D);
        float32x4_t this_min = vdivq_f32(vsubq_f32(vmulq_f32(sum_l2, sum_x), vmulq_f32(sum_l, sum_xl)), D);
        const uint32x4_t mpos = vcgtq_f32(this_min, zero);
        this_min = sel(this_min, zero, mpos);
        this_scale = sel(this_scale, vdivq_f32(sum_xl, sum_l2), mpos);
        float32x4_t cur = zero;
        for (int i = 0; i < n; i++) {
            const float32x4_t diff = vsubq_f32(vaddq_f32(vmulq_f32(this_scale, Laux[i]), this_min), xt[i]);
            cur = vaddq_f32(cur, vmulq_f32(w[i], err_term(diff, use_mad)));
        }
        const uint32x4_t better = vandq_u32(dpos, vcltq_f32(cur, best));
        if (!any(better)) continue;
        for (int i = 0; i < n; i++) L[i] = sel(L[i], Laux[i], better);
        best = sel(best, cur, better);
        scale = sel(scale, this_scale, better);
        min = sel(min, this_min, better);
    }
    scale = sel(scale, zero, flat);
    vst1q_f32(scales_out, scale);
    vst1q_f32(mins_out, vnegq_f32(min)); /* -min, as the scalar code */
    for (int i = 0; i < n; i++) {
        uint32_t v[4];
        vst1q_u32(v, vbicq_u32(vcvtq_u32_f32(L[i]), flat));
        for (int k = 0; k < 4; k++) L_out[n * k + i] = (uint8_t)v[k];
    }
}

/* make_qx_quants(n, nmax, x, L, 1, qw) for 4 groups of n (16 or 32), one
 * lane each; weights x^2 (qw NULL) or qw. Q6_K (16, nmax 32), Q3_K with
 * imatrix (16, 4), Q4_0/Q5_0 with imatrix (32, 8 / 16). */
/* make_qx_quants' rounding at inverse scale iscale: L = clamp(l, lo, hi) + off
 * (as floats), sumlx = sum(w x l), suml2 = sum(w l l), in order. */
static inline void qx_levels4(int n, const float32x4_t *xt, const float32x4_t *w, float32x4_t iscale, int32x4_t lo,
                              int32x4_t hi, int32x4_t off, float32x4_t *L, float32x4_t *sumlx, float32x4_t *suml2) {
    float32x4_t slx = vdupq_n_f32(0.f), sl2 = slx;
    for (int i = 0; i < n; i++) {
        const int32x4_t l = vmaxq_s32(lo, vminq_s32(hi, nearest_int4(vmulq_f32(iscale, xt[i]))));
        const float32x4_t lf = vcvtq_f32_s32(l);
        L[i] = vcvtq_f32_s32(vaddq_s32(l, off));
        slx = vaddq_f32(slx, vmulq_f32(vmulq_f32(w[i], xt[i]), lf));
        sl2 = vaddq_f32(sl2, vmulq_f32(vmulq_f32(w[i], lf), lf));
    }
    *sumlx = slx;
    *suml2 = sl2;
}

void qk_qx_search4_neon(int n, int nmax, const float *x, const float *qw, float *scales_out, int8_t *L_out) {
    if (n < 1 || n > 32) return; /* contract (also tells the compiler) */
    float32x4_t xt[32], w[32], L[32], Lt[32];
    load_lanes(x, n, xt);
    if (qw) load_lanes(qw, n, w);
    const float32x4_t zero = vdupq_n_f32(0.f);
    float32x4_t max;
    const float32x4_t amax = signed_absmax4(xt, n, &max);
    if (!qw)
        for (int i = 0; i < n; i++) w[i] = vmulq_f32(xt[i], xt[i]);
    const uint32x4_t tiny = vcltq_f32(amax, vdupq_n_f32(QK_GROUP_MAX_EPS));
    const int32x4_t lo = vdupq_n_s32(-nmax), hi = vdupq_n_s32(nmax - 1), off = vdupq_n_s32(nmax);
    float32x4_t iscale = vdivq_f32(vdupq_n_f32((float)-nmax), max); /* -nmax / max */
    float32x4_t sumlx, suml2;
    qx_levels4(n, xt, w, iscale, lo, hi, off, L, &sumlx, &suml2);
    /* suml2 ? sumlx / suml2 : 0 (a NaN suml2 divides) */
    float32x4_t scale = sel(vdivq_f32(sumlx, suml2), zero, vceqq_f32(suml2, zero));
    float32x4_t best = vmulq_f32(scale, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = vdivq_f32(vdupq_n_f32(-((float)nmax + 0.1f * (float)is)), max); /* -(nmax + 0.1f*is) / max */
        float32x4_t slx, sl2;
        qx_levels4(n, xt, w, iscale, lo, hi, off, Lt, &slx, &sl2);
        const uint32x4_t better =
            vandq_u32(vcgtq_f32(sl2, zero), vcgtq_f32(vmulq_f32(slx, slx), vmulq_f32(best, sl2)));
        if (!any(better)) continue;
        for (int i = 0; i < n; i++) L[i] = sel(L[i], Lt[i], better);
        const float32x4_t sc = vdivq_f32(slx, sl2);
        scale = sel(scale, sc, better);
        best = sel(best, vmulq_f32(sc, slx), better);
    }
    scale = sel(scale, zero, tiny);
    vst1q_f32(scales_out, scale);
    for (int i = 0; i < n; i++) {
        uint32_t v[4];
        vst1q_u32(v, vbicq_u32(vcvtq_u32_f32(L[i]), tiny));
        for (int k = 0; k < 4; k++) L_out[n * k + i] = (int8_t)v[k];
    }
}

/* Q3_K without imatrix: make_q3_quants(16, nmax, x, L, true) for 4
 * sub-blocks of 16, one lane each: the fit, then up to 5 passes of
 * per-element refinement. A lane whose pass changed nothing would break out
 * in the scalar code; running it further changes nothing either (same state,
 * same decisions), so all lanes run until none changes. */
void qk_q3_search4_neon(int nmax, const float *x, float *scales_out, int8_t *L_out) {
    float32x4_t xt[16], w[16];
    int32x4_t L[16];
    load_lanes(x, 16, xt);
    const float32x4_t zero = vdupq_n_f32(0.f);
    float32x4_t max;
    const float32x4_t amax = signed_absmax4(xt, 16, &max);
    for (int i = 0; i < 16; i++) w[i] = vmulq_f32(xt[i], xt[i]);
    const uint32x4_t tiny = vcltq_f32(amax, vdupq_n_f32(QK_GROUP_MAX_EPS));
    const int32x4_t lo = vdupq_n_s32(-nmax), hi = vdupq_n_s32(nmax - 1);
    const float32x4_t iscale = vdivq_f32(vdupq_n_f32((float)-nmax), max); /* -nmax / max */
    float32x4_t sumlx = zero, suml2 = zero;
    for (int i = 0; i < 16; i++) {
        L[i] = vmaxq_s32(lo, vminq_s32(hi, nearest_int4(vmulq_f32(iscale, xt[i]))));
        const float32x4_t lf = vcvtq_f32_s32(L[i]);
        sumlx = vaddq_f32(sumlx, vmulq_f32(vmulq_f32(w[i], xt[i]), lf)); /* w * x[i] * l */
        suml2 = vaddq_f32(suml2, vmulq_f32(vmulq_f32(w[i], lf), lf));    /* w * l * l */
    }
    for (int itry = 0; itry < 5; ++itry) {
        uint32x4_t changed = vdupq_n_u32(0);
        for (int i = 0; i < 16; i++) {
            const float32x4_t lf = vcvtq_f32_s32(L[i]);
            float32x4_t slx = vsubq_f32(sumlx, vmulq_f32(vmulq_f32(w[i], xt[i]), lf));
            const uint32x4_t spos = vcgtq_f32(slx, zero);
            float32x4_t sl2 = vsubq_f32(suml2, vmulq_f32(vmulq_f32(w[i], lf), lf));
            const int32x4_t new_l =
                vmaxq_s32(lo, vminq_s32(hi, nearest_int4(vdivq_f32(vmulq_f32(xt[i], sl2), slx))));
            const uint32x4_t differs = vandq_u32(spos, vmvnq_u32(vceqq_s32(new_l, L[i])));
            if (!any(differs)) continue;
            const float32x4_t nf = vcvtq_f32_s32(new_l);
            slx = vaddq_f32(slx, vmulq_f32(vmulq_f32(w[i], xt[i]), nf));
            sl2 = vaddq_f32(sl2, vmulq_f32(vmulq_f32(w[i], nf), nf));
            /* sl2 > 0 && slx*slx*suml2 > sumlx*sumlx*sl2 */
            const uint32x4_t take = vandq_u32(
                differs, vandq_u32(vcgtq_f32(sl2, zero), vcgtq_f32(vmulq_f32(vmulq_f32(slx, slx), suml2),
                                                                   vmulq_f32(vmulq_f32(sumlx, sumlx), sl2))));
            L[i] = vbslq_s32(take, new_l, L[i]);
            sumlx = sel(sumlx, slx, take);
            suml2 = sel(suml2, sl2, take);
            changed = vorrq_u32(changed, take);
        }
        if (!any(changed)) break;
    }
    /* suml2 > 0 ? sumlx / suml2 : 0; tiny lanes: 0 and L = 0 */
    const float32x4_t scale = sel(zero, vdivq_f32(sumlx, suml2), vcgtq_f32(suml2, zero));
    vst1q_f32(scales_out, sel(scale, zero, tiny));
    for (int i = 0; i < 16; i++) {
        int32_t v[4];
        vst1q_s32(v, vbicq_s32(vaddq_s32(L[i], vdupq_n_s32(nmax)), vreinterpretq_s32_u32(tiny)));
        for (int k = 0; k < 4; k++) L_out[16 * k + i] = (int8_t)v[k];
    }
}

/* ggml's best_index_int8(16, kvalues_iq4nl, x) for 4 lanes, returning the
 * value kvalues[index] as a float (what the search uses). The scalar binary
 * search ends with val[ml] <= x < val[ml+1] (strictly increasing table), so
 * ml = #{k in 1..14 : val[k] <= x}; then the same float test
 * x - val[ml] < val[ml+1] - x. x <= val[0] gives val[0]; x >= val[15] and
 * NaN (every compare false: ml runs up to 14, the test fails) give val[15]. */
static const int8_t k_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static inline float32x4_t iq4_value(float32x4_t x) {
    int32x4_t lo = vdupq_n_s32(k_iq4nl[0]), hi = vdupq_n_s32(k_iq4nl[1]);
    for (int k = 1; k < 15; k++) {
        const int32x4_t le = vreinterpretq_s32_u32(vcleq_f32(vdupq_n_f32((float)k_iq4nl[k]), x));
        lo = vaddq_s32(lo, vandq_s32(le, vdupq_n_s32(k_iq4nl[k] - k_iq4nl[k - 1])));
        hi = vaddq_s32(hi, vandq_s32(le, vdupq_n_s32(k_iq4nl[k + 1] - k_iq4nl[k])));
    }
    const float32x4_t flo = vcvtq_f32_s32(lo), fhi = vcvtq_f32_s32(hi);
    float32x4_t q = sel(fhi, flo, vcltq_f32(vsubq_f32(x, flo), vsubq_f32(fhi, x)));
    const uint32x4_t top = vornq_u32(vcgeq_f32(x, vdupq_n_f32(113.f)), vceqq_f32(x, x)); /* x >= 113 or NaN */
    q = sel(q, vdupq_n_f32(113.f), top);
    return sel(q, vdupq_n_f32(-127.f), vcleq_f32(x, vdupq_n_f32(-127.f)));
}

/* IQ4_NL / IQ4_XS: the scale search of quantize_row_iq4_nl_impl (ntry = 7)
 * for 4 sub-blocks of 32, one lane each; weights laid out like x. Only the
 * scales come out: with ntry > 0 the levels are recomputed after the search. */
void qk_iq4_search4_neon(const float *x, const float *weight, float *scales_out) {
    float32x4_t xt[32], w[32];
    load_lanes(x, 32, xt);
    load_lanes(weight, 32, w);
    const float32x4_t zero = vdupq_n_f32(0.f);
    float32x4_t max;
    const float32x4_t amax = signed_absmax4(xt, 32, &max);
    const uint32x4_t tiny = vcltq_f32(amax, vdupq_n_f32(QK_GROUP_MAX_EPS));
    float32x4_t d = vdivq_f32(vnegq_f32(max), vdupq_n_f32(-127.f)); /* -max / values[0] */
    float32x4_t id = vdivq_f32(vdupq_n_f32(1.f), d);
    float32x4_t sumqx = zero, sumq2 = zero;
    for (int j = 0; j < 32; j++) {
        const float32x4_t q = iq4_value(vmulq_f32(id, xt[j]));
        const float32x4_t wq = vmulq_f32(w[j], q);
        sumqx = vaddq_f32(sumqx, vmulq_f32(wq, xt[j])); /* w * q * x */
        sumq2 = vaddq_f32(sumq2, vmulq_f32(wq, q));     /* w * q * q */
    }
    d = sel(zero, vdivq_f32(sumqx, sumq2), vcgtq_f32(sumq2, zero));
    float32x4_t best = vmulq_f32(d, sumqx);
    for (int itry = -7; itry <= 7; ++itry) {
        id = vdivq_f32(vdupq_n_f32((float)(itry - 127)), max); /* (itry + values[0]) / max */
        sumqx = sumq2 = zero;
        for (int j = 0; j < 32; j++) {
            const float32x4_t q = iq4_value(vmulq_f32(id, xt[j]));
            const float32x4_t wq = vmulq_f32(w[j], q);
            sumqx = vaddq_f32(sumqx, vmulq_f32(wq, xt[j]));
            sumq2 = vaddq_f32(sumq2, vmulq_f32(wq, q));
        }
        const uint32x4_t better =
            vandq_u32(vcgtq_f32(sumq2, zero), vcgtq_f32(vmulq_f32(sumqx, sumqx), vmulq_f32(best, sumq2)));
        if (!any(better)) continue;
        const float32x4_t dn = vdivq_f32(sumqx, sumq2);
        d = sel(d, dn, better);
        best = sel(best, vmulq_f32(dn, sumqx), better);
    }
    vst1q_f32(scales_out, sel(d, zero, tiny));
}
