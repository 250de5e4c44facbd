/* iq4.h - IQ4_NL (blocks of 32) and IQ4_XS (super-blocks of 256): 4-bit
 * indices into ggml's non-linear codebook. Contract of qk_quantize_<t> as
 * in legacy.h (the imatrix, when given, weights the scale search). Scalar
 * reference: iq4.c; variants: x86/iq4_avx2.c, x86/iq4_avx512.c,
 * arm/iq4_neon.c (same bytes). */
#ifndef QK_IQ4_H
#define QK_IQ4_H

#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(iq4_nl, iq4_xs)

#endif
