/* lanes_x86.h - the lane-wise searches behind the AVX2 / AVX-512
 * variants of Q2_K to Q6_K, IQ4_NL, IQ4_XS and the legacy imatrix rows (lanes_<isa>.c, bodies in
 * lanes_body.h and lanes_x86_body.h), called from the scalar files q2_k.c, q3_k.c and
 * iq4.c, which keep everything else. Not part of the library's interface.
 *
 * W = 16 lanes (avx512) or 8 (avx2). Each search runs the scalar search of
 * W independent groups at once, one per lane, each in exactly the scalar
 * order, and the element-wise parts use the scalar's exact operations, so
 * every output equals the scalar code's bit for bit:
 *
 *  qk_q2k_lanes:  x = W sub-blocks of 16 (contiguous). w NULL: Q2_K's
 *                 make_qkx2_quants(16, 3, x, |x|, .., -0.5, 0.1, 15, mad);
 *                 w given (W*16 weights): make_qkx3_quants(16, 3, x, w, ..,
 *                 -0.9, 0.05, 36, no mad). scales/mins (the_min) per group,
 *                 L 16 levels per group.
 *  qk_q3k_lanes:  make_q3_quants(16, 4, x, L, true) of W sub-blocks of 16.
 *  qk_qx_lanes:   make_qx_quants(n, nmax, x, L, 1, w) of W groups of n <= 32
 *                 (w NULL: weights x^2).
 *  qk_qkx3_lanes: make_qkx3_quants(n, nmax, x, w, .., -0.9, 0.05, 36, no
 *                 mad) of W groups of n <= 32 (the imatrix search of Q4_K,
 *                 Q5_K, Q4_1, Q5_1); scales and mins (the_min) per group.
 *  qk_qp_lanes:   make_qp_quants(n, nmax, x, L, w) of W groups of n <= 32
 *                 (with an imatrix: the scales, or mins, of W super-blocks).
 *  qk_q2k_pack:   Q2_K's requantization of one super-block x against the
 *                 per-sub-block d[j], m[j] (sub-blocks with d[j] == 0 keep
 *                 their levels in L) and the packing of L into qs[64].
 *  qk_q3k_pack:   the same for Q3_K (no m), also writing hmask[32].
 *  qk_kq_imatrix_weights: the imatrix weights of nsb (<= W) consecutive
 *                 super-blocks of 256 (qw[s]: the imatrix of super-block s)
 *                 as Q2_K (c = 1) and Q3_K (c = 2) compute them: sigma2 =
 *                 c * sum(x^2) / 256, weight = qw * sqrt(sigma2 + x^2), and
 *                 sw[16 s + j] = sum of sub-block j's weights, in order.
 *  qk_iq4_lanes:  the ntry = 7 search of quantize_row_iq4_nl_impl for the
 *                 first `avail` (<= W) of W blocks of 32; w NULL: weights
 *                 x^2. d receives each block's scale (0 if all zero).
 *  qk_iq4_imatrix_weights: IQ4's imatrix weights of nsb (<= 16) consecutive
 *                 super-blocks of `super` (32 or 256): qw[k] * sqrt(sigma2 +
 *                 x^2), sigma2 = sum(x^2) * (2 / super) per super-block.
 *  qk_iq4_pack:   one block of 32: q16[j] = best_index(id*x[j]) |
 *                 best_index(id*x[j+16]) << 4.
 *  qk_kq_imatrix_weights32: Q4_K/Q5_K's imatrix weights of nsb (<= W)
 *                 super-blocks: as qk_kq_imatrix_weights with c = 2, but
 *                 sw[8 s + j] sums sub-block j of 32.
 *  qk_kq_pack:    Q4_K (qh NULL) / Q5_K packing of 256 levels (0..nmax)
 *                 into qs[128] (and qh[32]).
 *  qk_qx2_lanes:  qk_qx_lanes on 2 W groups (two sets of W lanes,
 *                 interleaved to hide the sums' latency).
 *  qk_qkx3_2_lanes: qk_qkx3_lanes on 2 W groups, the same way.
 *  qk_kq_search_lanes: Q4_K/Q5_K's search without an imatrix (weights
 *                 sqrt(mean x^2) + |x|, make_qkx2_quants with p's grid) of
 *                 W consecutive sub-blocks of 32: scales, mins (the_min),
 *                 32 levels each. (Q6_K's is qk_qx_lanes(16, 32, x, NULL).)
 *  qk_kq_requant32: Q4_K/Q5_K's requantization of one sub-block of 32:
 *                 L = clamp(nearest_int((x + dm) / d), 0, nmax).
 *  qk_q6k_pack:   Q6_K's requantization of one super-block x against the
 *                 per-sub-block d[j] (d[j] == 0 keeps the levels in L) and
 *                 the packing of L (0..63) into ql[128] qh[64] at y.
 */
#ifndef QK_LANES_X86_H
#define QK_LANES_X86_H

#include <stdint.h>

#include "k_quants_internal.h"

#define QK_LANES_DECLARE(isa)                                                                              \
    void qk_q2k_lanes_##isa(const float *x, const float *w, float *scales, float *mins, uint8_t *L);        \
    void qk_q3k_lanes_##isa(const float *x, float *scales, int8_t *L);                                      \
    void qk_qx_lanes_##isa(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L);      \
    void qk_qkx3_lanes_##isa(int n, int nmax, const float *x, const float *w, float *scales, float *mins,   \
                             uint8_t *L);                                                                   \
    void qk_qp_lanes_##isa(int n, int nmax, const float *x, const float *w, float *scales, uint8_t *L);     \
    void qk_q2k_pack_##isa(const float *x, const float *d, const float *m, uint8_t *L, uint8_t *qs);        \
    void qk_q3k_pack_##isa(const float *x, const float *d, int8_t *L, uint8_t *hmask, uint8_t *qs);         \
    void qk_kq_imatrix_weights_##isa(const float *x, const float *const *qw, int nsb, float c, float *weight, \
                                     float *sw);                                                            \
    void qk_iq4_lanes_##isa(const float *x, const float *w, int avail, float *d);                           \
    void qk_iq4_imatrix_weights_##isa(const float *x, const float *const *qw, int nsb, int super,            \
                                      float *weight);                                                       \
    void qk_iq4_pack_##isa(const float *x, float id, uint8_t *q16);                                         \
    void qk_kq_imatrix_weights32_##isa(const float *x, const float *const *qw, int nsb, float *weight,        \
                                       float *sw);                                                          \
    void qk_kq_pack_##isa(const uint8_t *L, uint8_t *qh, uint8_t *qs);                                      \
    void qk_q6k_pack_##isa(const float *x, const float *d, int8_t *L, uint8_t *y);                         \
    void qk_qx2_lanes_##isa(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L);     \
    void qk_qkx3_2_lanes_##isa(int n, int nmax, const float *x, const float *w, float *scales, float *mins, \
                               uint8_t *L);                                                                 \
    void qk_kq_search_lanes_##isa(const qk_kq_params *p, const float *x, float *scales, float *mins,         \
                                  uint8_t *L);                                                              \
    void qk_kq_requant32_##isa(const float *x, float d, float dm, int nmax, uint8_t *L);

#if defined(__x86_64__)
QK_LANES_DECLARE(avx2)
QK_LANES_DECLARE(avx512)
#endif

/* One ISA's lane functions as a table (qk_lanes_avx2 and qk_lanes_avx512,
 * defined by lanes_x86_body.h), so that each type's driver is written once and
 * takes the ISA as an argument. */
typedef struct qk_lanes_x86 {
    int width; /* W */
    void (*q2k_lanes)(const float *x, const float *w, float *scales, float *mins, uint8_t *L);
    void (*q3k_lanes)(const float *x, float *scales, int8_t *L);
    void (*qx_lanes)(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L);
    void (*qx2_lanes)(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L);
    void (*qp_lanes)(int n, int nmax, const float *x, const float *w, float *scales, uint8_t *L);
    void (*q2k_pack)(const float *x, const float *d, const float *m, uint8_t *L, uint8_t *qs);
    void (*q3k_pack)(const float *x, const float *d, int8_t *L, uint8_t *hmask, uint8_t *qs);
    void (*q6k_pack)(const float *x, const float *d, int8_t *L, uint8_t *y);
    void (*kq_imatrix_weights)(const float *x, const float *const *qw, int nsb, float c, float *weight, float *sw);
    void (*iq4_lanes)(const float *x, const float *w, int avail, float *d);
    void (*iq4_imatrix_weights)(const float *x, const float *const *qw, int nsb, int super, float *weight);
    void (*iq4_pack)(const float *x, float id, uint8_t *q16);
} qk_lanes_x86;

extern const qk_lanes_x86 qk_lanes_avx2, qk_lanes_avx512;

#endif
