/* quant_search.h - the rounding helpers and least-squares scale searches that
 * ggml's quantizers share (ggml/src/ggml-quants.c of the pinned release).
 *
 * Bit-exactness contract: each function computes what the ggml function of
 * the same name (without the qk_ prefix) computes, with the same float
 * (single precision) operations in the same order, the same strict/non-strict
 * comparisons and the same loop order, so results are identical bit for bit
 * when built with -ffp-contract=off (no fused multiply-add). Do not
 * "simplify" the arithmetic: (w*x)*l and w*(x*l) round differently.
 *
 * Undefined corners of ggml are given the value the pinned x86-64 build
 * produces: nearest_int outside its valid range returns the same garbage as
 * ggml's bit trick; float -> integer conversions that overflow behave like
 * x86 cvttss2si (see qk_cvtt_i32).
 */
#ifndef QK_QUANT_SEARCH_H
#define QK_QUANT_SEARCH_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A group whose largest |x| is below this is treated as all zero. */
#define QK_GROUP_MAX_EPS 1e-15f
#define QK_GROUP_MAX_EPS_IQ3_XXS 1e-8f
#define QK_GROUP_MAX_EPS_IQ2_S 1e-8f
#define QK_GROUP_MAX_EPS_IQ1_M 1e-7f
#define QK_GROUP_MAX_EPS_IQ1_S 1e-12f

/* ggml's MAX/MIN macros: note the operand order matters with NaN
 * (QK_MAX(a, NaN) is NaN, QK_MAX(NaN, b) is b). Arguments are evaluated twice. */
#define QK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define QK_MIN(a, b) ((a) < (b) ? (a) : (b))

/* The largest |x[i]| (returned) and the signed x[i] holding it (*max; the
 * first of equal magnitudes, 0 when all are 0), as ggml's
 * `if (ax > amax) { amax = ax; max = x[i]; }` loops find them. */
static inline float qk_signed_absmax(const float *x, int n, float *max) {
    float amax = 0;
    *max = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            *max = x[i];
        }
    }
    return amax;
}

/* Round to nearest, ties to even, via adding 1.5*2^23 (ggml nearest_int).
 * Exact for |f| <= 4194303; outside that (and for NaN/inf) it returns what
 * ggml's release build returns (the low mantissa bits of f + 12582912.f). */
static inline int qk_nearest_int(float fval) {
    float val = fval + 12582912.f;
    uint32_t i;
    memcpy(&i, &val, sizeof(i));
    return (int)(i & 0x007fffffu) - 0x00400000;
}

/* Float -> int32 truncating toward zero, as x86 cvttss2si/cvttps2dq does:
 * NaN and values outside [-2^31, 2^31) give INT32_MIN. The pinned ggml
 * converts float -> int8_t/uint8_t through this instruction and keeps the
 * low byte, which is what the legacy quantizers rely on for non-finite input.
 * Written in defined C so every architecture gets the x86 answer. */
static inline int32_t qk_cvtt_i32(float v) {
    if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
    return (int32_t)v;
}

/* (int8_t)v and (uint8_t)v as the pinned x86-64 build computes them. */
static inline int8_t qk_cvtt_i8(float v) {
    return (int8_t)(uint8_t)((uint32_t)qk_cvtt_i32(v) & 0xffu);
}
static inline uint8_t qk_cvtt_u8(float v) {
    return (uint8_t)((uint32_t)qk_cvtt_i32(v) & 0xffu);
}

/* Index of the entry of the sorted table val[0..n-1] nearest to x (binary
 * search; an exact midpoint tie goes to the upper index; NaN gives n-1). */
int qk_best_index_int8(int n, const int8_t *val, float x);

/* Signed symmetric quantization of x[0..n-1] to L in [0, 2*nmax) (stored with
 * +nmax offset), returning the scale. rmse_type 0: plain rounding; 1..4 pick
 * the per-element weight (x^2, 1, |x|, sqrt|x|) when qw is NULL, else qw[i]
 * is the weight; negative rmse_type returns early after the first fit. */
float qk_make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw);

/* Q3_K's variant: weights x^2, with an iterative per-element refinement when
 * do_rmse. L is in [0, 2*nmax). */
float qk_make_q3_quants(int n, int nmax, const float *x, int8_t *L, bool do_rmse);

/* Asymmetric (scale, min) search over nstep+1 candidate scales, L in [0, nmax];
 * *the_min receives -min (a non-negative offset). weights must not be NULL.
 * Laux is scratch of n bytes. use_mad selects |error| instead of error^2. */
float qk_make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                          float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                          bool use_mad);

/* As qk_make_qkx2_quants but weights may be NULL (then x^2), and an all-equal
 * group is detected with max <= min. Used with an imatrix. */
float qk_make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                          float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                          bool use_mad);

/* Non-negative values x (super-block scales) to L in [0, nmax] with weights
 * quant_weights (must not be NULL); returns the scale. */
float qk_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights);

/* The three steps of qk_make_qp_quants, shared with its lane twin (the IQ2
 * searches' iq_scan_body.h), which replaces only the middle one. */

/* First: the levels at nmax / max into L; 0 (L all zero) when max is
 * below QK_GROUP_MAX_EPS, else max, with that inverse scale and its
 * weighted squared error in *iscale and *mse. */
static inline float qk_qp_start(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights,
                                float *iscale, float *mse) {
    float max = 0;
    for (int i = 0; i < n; ++i) max = QK_MAX(max, x[i]);
    if (max < QK_GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    *iscale = nmax / max;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)qk_nearest_int(*iscale * x[i]);
    float scale = 1 / *iscale;
    float best_mse = 0;
    for (int i = 0; i < n; ++i) {
        float diff = x[i] - scale * L[i];
        float w = quant_weights[i];
        best_mse += w * diff * diff;
    }
    *mse = best_mse;
    return max;
}

/* The inverse scale of candidate is (-4..4 but 0). */
static inline float qk_qp_iscale(int nmax, float max, int is) { return (0.1f * is + nmax) / max; }

/* Middle: candidates is = -4..-1, 1..4 in order; the first whose error is
 * strictly below the best so far replaces it. Returns the inverse scale. */
static inline float qk_qp_candidates(int n, int nmax, const float *x, const float *quant_weights, float max,
                                     float iscale, float best_mse) {
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        float iscale_is = qk_qp_iscale(nmax, max, is);
        float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            int l = qk_nearest_int(iscale_is * x[i]);
            l = QK_MIN(nmax, l);
            float diff = x[i] - scale_is * l;
            float w = quant_weights[i];
            mse += w * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    return iscale;
}

/* Last: the levels at iscale, refined level by level (up to 5 passes);
 * returns the scale. */
float qk_qp_finish(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights, float iscale);

#endif
