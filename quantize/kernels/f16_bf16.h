/* f16_bf16.h - F16 and BF16 rows as "quantization" types: per-element
 * conversion exactly as ggml_quantize_chunk does it (the imatrix is
 * ignored), and the rows back to float as ggml's to_float. Contract of
 * qk_quantize_<t> as in legacy.h; dst is 2-byte aligned. Scalar reference:
 * f16_bf16.c; variants: x86/f16_bf16_avx2.c, x86/f16_bf16_avx512.c,
 * arm/f16_bf16_neon.c (same bits). The SIMD dequantizers feed every F16/BF16
 * input row of quantize and convert. */
#ifndef QK_F16_BF16_H
#define QK_F16_BF16_H

#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(f16, bf16)
QK_DECLARE_SIMD_DEQUANTIZERS(f16, bf16)

#endif
