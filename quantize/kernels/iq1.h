/* iq1.h - IQ1_S and IQ1_M: ~1.6/1.75 bits per weight, groups of 8 values in
 * {-1, 0, +1} from a 2048-point grid (iq_grids.h) shifted by +-1/8, with 3-bit
 * sub-block scales. Contract of qk_quantize_<t> as in legacy.h, except that
 * IQ1_S needs an importance matrix (ggml asserts one): without one it returns
 * 0 and writes nothing. IQ1_M works without. Also 0 if the grid's search
 * tables could not be allocated. Scalar reference: iq1.c;
 * _avx2/_avx512/_neon (same file): its rows with the ISA's neighbour search
 * (x86/iq_search_<isa>.c, arm/iq_search_neon.c), the same bytes. */
#ifndef QK_IQ1_H
#define QK_IQ1_H

#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(iq1_s, iq1_m)

#endif
