#include "float_formats.h"

uint16_t qk_fp32_to_fp16(float f) {
    uint32_t x = qk_f32_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7FFFFFFFu;
    if (x > 0x7F800000u) return sign | 0x7E00u;        /* NaN */
    if (x >= 0x477FF000u) return sign | 0x7C00u;       /* >= 65520 rounds to inf */
    if (x >= 0x38800000u) {                            /* normal fp16 range (>= 2^-14) */
        /* Round to nearest even at bit 13, then rebias the exponent (127 -> 15);
         * a mantissa carry correctly bumps the exponent. */
        const uint32_t r = x + 0x0FFFu + ((x >> 13) & 1u);
        return sign | (uint16_t)((r - 0x38000000u) >> 13);
    }
    if (x < 0x33000000u) return sign;                  /* <= 2^-25: rounds to zero */
    /* Subnormal fp16: count units of 2^-24 with round to nearest even. */
    const uint32_t exp = x >> 23;                      /* 102..112 */
    const uint32_t mant = (x & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - exp;                 /* 14..24 */
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return sign | (uint16_t)q;
}

float qk_fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1F) return qk_f32_from_bits(sign | 0x7F800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0) return qk_f32_from_bits(sign);
        /* Subnormal: mant * 2^-24, exact in float32. */
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    return qk_f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t qk_fp32_to_bf16(float f) {
    const uint32_t u = qk_f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

float qk_f8_e4m3_to_fp32(uint8_t v) {
    const uint32_t sign = (uint32_t)(v & 0x80u) << 24;
    const uint32_t exp = (v >> 3) & 0xFu;
    const uint32_t mant = v & 0x7u;
    if (exp == 0xF && mant == 0x7) return qk_f32_from_bits(sign | 0x7FC00000u); /* NaN */
    if (exp == 0) {
        float m = (float)mant * 0x1p-9f; /* subnormal: mant/8 * 2^-6 */
        return sign ? -m : m;
    }
    return qk_f32_from_bits(sign | ((exp + 120u) << 23) | (mant << 20));
}

float qk_f8_e5m2_to_fp32(uint8_t v) { return qk_fp16_to_fp32((uint16_t)(v << 8)); }

void qk_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = qk_fp32_to_fp16(x[i]);
}

void qk_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = qk_fp16_to_fp32(x[i]);
}

void qk_fp32_to_bf16_row(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = qk_fp32_to_bf16(x[i]);
}

void qk_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = qk_bf16_to_fp32(x[i]);
}
