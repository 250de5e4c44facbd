/* iq2.h - IQ2_XXS, IQ2_XS, IQ2_S: 2-bit-ish super-blocks of 256 whose groups
 * of 8 magnitudes are points of an E8-derived grid (iq_grids.h), plus signs
 * and 4-bit sub-block scales. Contract of qk_quantize_<t> as in legacy.h,
 * except that IQ2_XXS and IQ2_XS need an importance matrix (ggml asserts
 * one): without one they return 0 and write nothing. Also 0 if the grid's
 * search tables could not be allocated. Scalar reference: iq2.c;
 * _avx2/_avx512/_neon (same file): its rows with the ISA's neighbour search
 * (x86/iq_search_<isa>.c, arm/iq_search_neon.c), the same bytes. */
#ifndef QK_IQ2_H
#define QK_IQ2_H

#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(iq2_xxs, iq2_xs, iq2_s)

#endif
