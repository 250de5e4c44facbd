/* iq3.h - IQ3_XXS and IQ3_S: super-blocks of 256 whose groups of 4
 * magnitudes are points of a D4-derived grid (iq_grids.h), plus signs and
 * 4-bit sub-block scales. Contract of qk_quantize_<t> as in legacy.h (an
 * importance matrix is optional); 0 also if the grid's search tables could
 * not be allocated. Scalar reference: iq3.c;
 * _avx2/_avx512/_neon (same file): its rows with the ISA's neighbour search
 * (x86/iq_search_<isa>.c, arm/iq_search_neon.c), the same bytes. */
#ifndef QK_IQ3_H
#define QK_IQ3_H

#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(iq3_xxs, iq3_s)

#endif
