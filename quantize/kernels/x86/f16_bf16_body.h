/* f16_bf16_body.h - the parts of the AVX2 and AVX-512 F16/BF16 kernels that
 * are one algorithm at two vector widths, written once: F16 quantization
 * (vcvtps2ph per group of HB_W floats, a group holding NaN left to the scalar
 * conversion) and the F16 and BF16 dequantizations. BF16 quantization differs
 * per ISA (blends against mask registers) and stays in each file.
 *
 * Included once by f16_bf16_avx2.c and f16_bf16_avx512.c, after they define:
 *   HB_W               floats per group (8 / 16)
 *   HB_ISA(name)       the exported name's ISA suffix (name##_avx2 ...)
 *   HB_VF              the float vector (__m256 / __m512)
 *   HB_(op), HB_SI(op) the intrinsic prefix (_mm256_##op) and the integer
 *                      vector's name of op (_mm256_##op##_si256)
 *   HB_LOADH(p), HB_STOREH(p, v)  HB_W halves as one integer vector of half
 *                      the width (__m128i / __m256i), from / to memory
 *   HB_ANY_NAN(x)      whether the float vector x holds a NaN
 * The exactness arguments are in the two files' heads. */
#include <stdbool.h>

#include "f16_bf16.h"
#include "float_formats.h"
#include "kernel_util.h"

/* HB_W floats to F16; false (nothing written) for a group holding NaN. */
static inline bool f16_group(const float *src, uint16_t *y) {
    const HB_VF x = HB_(loadu_ps)(src);
    if (HB_ANY_NAN(x)) return false;
    HB_STOREH(y, HB_(cvtps_ph)(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return true;
}

static void f16_row(const float *src, uint16_t *y, int64_t n) {
    qk_half_row_groups(src, y, n, HB_W, f16_group, qk_fp32_to_fp16_row);
}

size_t HB_ISA(qk_quantize_f16)(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, f16_row); }

/* F16 -> F32 is exact in vcvtph2ps (subnormals included); a signaling NaN
 * comes out quieted (bit 22 set), as ggml's to_float (F16C) returns it. */
static inline void f16_to_float_group(const uint16_t *h, float *dst) {
    HB_(storeu_ps)(dst, HB_(cvtph_ps)(HB_LOADH(h)));
}

/* BF16 -> F32 is the 16 bits shifted up, NaNs untouched (as ggml). */
static inline void bf16_to_float_group(const uint16_t *h, float *dst) {
    HB_SI(storeu)((void *)dst, HB_(slli_epi32)(HB_(cvtepu16_epi32)(HB_LOADH(h)), 16));
}

void HB_ISA(qk_dequantize_row_f16)(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, HB_W, f16_to_float_group, qk_dequantize_row_f16);
}
void HB_ISA(qk_dequantize_row_bf16)(const void *src, float *dst, int64_t n) {
    qk_half_to_float_groups(src, dst, n, HB_W, bf16_to_float_group, qk_dequantize_row_bf16);
}
