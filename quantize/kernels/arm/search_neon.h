/* search_neon.h - the NEON (aarch64) lane searches of search_neon.c, used
 * by the NEON variants of every K-quant, IQ4 and the legacy imatrix rows.
 * Internal to quantize/kernels/. */
#ifndef QK_SEARCH_NEON_H
#define QK_SEARCH_NEON_H

#include <stdbool.h>
#include <stdint.h>

#include "k_quants_internal.h"

/* NEON twins (search_neon.c): 4 sub-blocks, one float32x4_t lane each.
 * qkx search (make_qkx2_quants / make_qkx3_quants when v3: flat test
 * max <= min instead of max == min): 4 consecutive sub-blocks of n (16 or
 * 32) floats; weights laid out like x, or NULL for the Q4_K/Q5_K no-imatrix
 * weights sqrt(mean x^2) + |x| (n must be 32 then); use_mad: |error|.
 * qx search (make_qx_quants(n, nmax, x, L, 1, qw): Q6_K, Q3_K with imatrix
 * (n 16), Q4_0/Q5_0 with imatrix (n 32)): 4 groups of n <= 32, weights x^2
 * (qw NULL) or qw. */
void qk_kq_search4_neon(const qk_kq_params *p, int n, bool v3, bool use_mad, const float *x, const float *weights,
                        float *scales, float *mins, uint8_t *L);
void qk_qx_search4_neon(int n, int nmax, const float *x, const float *qw, float *scales, int8_t *L);
/* Q3_K without imatrix: make_q3_quants(16, nmax, x, L, true) for 4 sub-blocks of 16. */
void qk_q3_search4_neon(int nmax, const float *x, float *scales, int8_t *L);
/* IQ4_NL/IQ4_XS (ntry = 7): the scales of 4 sub-blocks of 32, weights laid out like x. */
void qk_iq4_search4_neon(const float *x, const float *weight, float *scales);

#endif
