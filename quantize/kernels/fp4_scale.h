/* fp4_scale.h - the per-block scalar parts of MXFP4 and NVFP4 (layouts in
 * fp4.c): the lattice, the scale conversions and MXFP4's exponent. Shared
 * by the scalar kernels (fp4.c) and the SIMD body (fp4_body.h), so both
 * compute every scale with the same C expressions and the same libm.
 * Internal to quantize/kernels/. */
#ifndef QK_FP4_SCALE_H
#define QK_FP4_SCALE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant_search.h"

/* kvalues_fp4 (ggml-common.h): E2M1 values times 2; index 8 is a second
 * zero and 9..15 are the negatives of 1..7 */
static const int8_t k_fp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static inline float fp4_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ggml_e8m0_to_fp32_half: 2^(x-128), exact; x < 2 are the two subnormals */
static inline float fp4_e8m0_half(uint8_t x) {
    return fp4_bits_f32(x < 2 ? 0x00200000u << x : (uint32_t)(x - 1) << 23);
}

/* MXFP4's exponent byte for a block whose largest |x| (NaN skipped) is
 * amax: floorf(log2f(amax)) - 2 + 127 for amax > 0, converted to uint8 the
 * way x86-64 does (qk_cvtt_u8: inf gives 0, tiny amax wraps), else 0 */
static inline uint8_t fp4_mxfp4_e(float amax) {
    return amax > 0.0f ? qk_cvtt_u8(floorf(log2f(amax)) - 2 + 127) : 0;
}

/* fp4_mxfp4_e without libm where that is provably the same: a normal amax
 * = 2^E * (1 + m / 2^23) whose mantissa m keeps 2^-11 away from both ends
 * of its binade has log2(amax) at least 2^-12 / ln 2 = 3.5e-4 from any
 * integer, while an ulp of log2f's result (|result| < 128) is at most
 * 2^-17 = 7.6e-6: any log2f within 46 ulps (glibc's is within 1) floors to
 * E, so e = E + 125 =
 * the biased exponent - 2. The rest (subnormal, inf, near a power of two)
 * takes the libm expression. tests/quantize/test_fp4_scale.c compares the
 * two on every non-negative float. */
static inline uint8_t fp4_mxfp4_e_fast(float amax) {
    uint32_t bits;
    memcpy(&bits, &amax, sizeof bits);
    const uint32_t ex = bits >> 23, man = bits & 0x7fffffu;
    if (ex - 1u < 254u && man - 0x1000u < 0x7fe000u) return (uint8_t)(ex - 2u);
    return fp4_mxfp4_e(amax);
}

/* ggml_ue4m3_to_fp32 (value * 0.5, to match the doubled lattice) */
static inline float fp4_ue4m3_to_f32(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    const int exp = (x >> 3) & 0xF, man = x & 0x7;
    const float raw = exp == 0 ? ldexpf((float)man, -9) : ldexpf(1.0f + (float)man / 8.0f, exp - 7);
    return raw * 0.5f;
}

/* fp4_ue4m3_to_f32 from the bits, for every byte (bit 7 ignored, as there):
 * man * 2^-10 for exponent 0 (exact), else (1 + man/8) * 2^(exp-8), whose
 * float bits are the byte's low 7 bits << 20 plus a biased exponent of 119
 * (tests/quantize/test_fp4_scale.c checks all 256 bytes) */
static inline float fp4_ue4m3_to_f32_fast(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f; /* the whole byte, as there: 0xFF is 240 */
    const uint32_t y = x & 0x7Fu;
    if (y < 8) return (float)y * 0x1p-10f;
    return fp4_bits_f32((y << 20) + (119u << 23));
}

/* ggml_fp32_to_ue4m3: round half up on the mantissa, saturate at 0x7E */
static inline uint8_t fp4_f32_to_ue4m3(float x) {
    if (!(x > 0.0f)) return 0;
    if (x > 448.0f) x = 448.0f;
    uint32_t bits;
    memcpy(&bits, &x, 4);
    const int fp32_exp = (int)((bits >> 23) & 0xFF) - 127;
    const int fp32_man = (int)((bits >> 20) & 0x7);
    int e = fp32_exp + 7;
    if (e <= 0) {
        int man = (int)(x * 512.0f + 0.5f); /* x <= 2^-7: no overflow */
        if (man > 7) man = 7;
        if (man < 1) return 0;
        return (uint8_t)man;
    }
    if (e >= 15) return 0x7E;
    int m = fp32_man + (int)((bits >> 19) & 1);
    if (m > 7) {
        m = 0;
        if (++e >= 15) return 0x7E;
    }
    return (uint8_t)((e << 3) | m);
}

/* NVFP4's scale byte for a sub-block whose largest |x| (NaN skipped) is amax */
static inline uint8_t fp4_nvfp4_ue(float amax) { return fp4_f32_to_ue4m3(amax / 6.0f); }

#endif
