/* q1_q2.h - the ISA variants of Q1_0 and Q2_0 (layouts in q1_q2.c; the
 * scalar entry points and the contract are lowbit.h's):
 * qk_quantize_q1_0_<isa> / qk_quantize_q2_0_<isa> for avx2, avx512 and neon
 * (x86/q1_q2_<isa>.c, arm/q1_q2_neon.c, one body q1_q2_body.h), each
 * byte-identical with the scalar qk_quantize_q1_0 / qk_quantize_q2_0 on
 * every input. Internal to quantize/kernels/. */
#ifndef QK_Q1_Q2_H
#define QK_Q1_Q2_H

#include <stdint.h>

#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(q1_0, q2_0)

/* One block of QK_Q1_0 / QK_Q2_0 floats at x to one Q1_0 / Q2_0 block at
 * y: the scalar reference, which the SIMD variants call for the blocks they
 * leave to it (Q1_0: the blocks past the last whole group of lanes; Q2_0:
 * blocks with NaN/inf or a subnormal largest |x|). */
void qk_q1_0_block(const float *x, uint8_t *y);
void qk_q2_0_block(const float *x, uint8_t *y);

#endif
