/* lowbit.h - the ternary, FP4 and 1-/2-bit block types: TQ1_0, TQ2_0
 * (tq.c), MXFP4, NVFP4 (fp4.c), Q1_0, Q2_0 (q1_q2.c), byte-identical with
 * the pinned ggml's quantize_<t> (what ggml_quantize_chunk calls) and
 * dequantize_row_<t>.
 *
 * Same contract as legacy.h: qk_quantize_<t>(src, dst, nrows, n_per_row,
 * imatrix) writes nrows rows and returns nrows * row size, or 0 (writing
 * nothing) for nrows < 0 or n_per_row not a non-negative multiple of the
 * block size. None of these types uses the imatrix (ggml ignores it: the
 * *_ref algorithm is blockwise, so ggml's per-row path with weights gives
 * the same bytes). qk_dequantize_row_<t>(src, dst, n) expands n elements.
 * None of them is a search (one pass per block); TQ1_0 and TQ2_0 have AVX2,
 * AVX-512 and NEON variants (x86/tq_<isa>.c, arm/tq_neon.c; body tq_body.h),
 * byte-identical with the scalar ones; Q1_0 and Q2_0 too (declared in
 * q1_q2.h), and MXFP4 and NVFP4 (x86/fp4_<isa>.c, arm/fp4_neon.c; body
 * fp4_body.h).
 */
#ifndef QK_LOWBIT_H
#define QK_LOWBIT_H

#include "kernel_api.h"

QK_DECLARE_KERNELS(q1_0, q2_0) /* their variants: q1_q2.h */
QK_DECLARE_SIMD_KERNELS(tq1_0, tq2_0, mxfp4, nvfp4)

/* One block of QK_K floats at x to one TQ1_0 / TQ2_0 block at y: the scalar
 * reference, which the SIMD variants call for the blocks they leave to it. */
void qk_tq1_0_block(const float *x, uint8_t *y);
void qk_tq2_0_block(const float *x, uint8_t *y);

#endif
