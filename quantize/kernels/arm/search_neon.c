/* search_neon.c - the NEON (aarch64) build of the lane searches of
 * lanes_body.h (the body the AVX2 / AVX-512 lanes_<isa>.c build too) over
 * vec_neon.h's 4 float lanes: the K-quant and IQ4 scale searches of 4
 * independent sub-blocks, one lane each, every lane in exactly the scalar
 * order of quant_search.c (make_qkx2/3_quants, make_qx_quants,
 * make_q3_quants) and iq4.c (iq4_search), so the bytes equal the scalar
 * code's (the exactness argument is in lanes_body.h and vec_neon.h). Callers
 * (q2_k.c .. q6_k.c, iq4.c, arm/legacy_neon.c) run 2 (Q4_K/Q5_K/IQ4_XS) or 4
 * (Q2_K/Q3_K/Q6_K) groups per super-block; the scalar code does everything
 * around the search. Contract in search_neon.h.
 */
#include "vec_neon.h"
#include "lanes_body.h"
#include "search_neon.h"

void qk_kq_search4_neon(const qk_kq_params *p, int n, bool v3, bool use_mad, const float *x, const float *weights,
                        float *scales, float *mins, uint8_t *L) {
    if (n < 1 || n > LB_MAXN) return; /* contract: 1 <= n <= 32 (also tells the compiler) */
    float xt[LB_MAXN * LN_W], wt[LB_MAXN * LN_W];
    lb_transpose(x, n, LN_W, xt);
    if (weights) lb_transpose(weights, n, LN_W, wt);
    else lb_kq_auto_weights(xt, wt); /* Q4_K/Q5_K without an imatrix: n == 32 */
    lb_qkx_store(n, p->nmax, xt, wt, p->rmin, p->rdelta, p->nstep, use_mad, v3, scales, mins, L);
}

void qk_qx_search4_neon(int n, int nmax, const float *x, const float *qw, float *scales, int8_t *L) {
    lb_qx_search(n, nmax, x, qw, scales, L);
}

void qk_q3_search4_neon(int nmax, const float *x, float *scales, int8_t *L) {
    float xt[16 * LN_W];
    lb_transpose(x, 16, LN_W, xt);
    vi Lv[16];
    vf_store(scales, lb_q3(16, nmax, xt, Lv));
    lb_untranspose_u8(Lv, 16, (uint8_t *)L);
}

void qk_iq4_search4_neon(const float *x, const float *weight, float *scales) {
    float xt[32 * LN_W], wt[32 * LN_W];
    lb_transpose(x, 32, LN_W, xt);
    lb_transpose(weight, 32, LN_W, wt);
    lb_iq4_scales(xt, wt, LN_W, scales);
}
