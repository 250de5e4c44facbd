/* float_formats.h - scalar conversions between float32 and the 16- and 8-bit
 * float formats models are stored in.
 *
 * These are the reference conversions, bit-exact with ggml:
 *  - fp32 -> fp16: round to nearest even, subnormals kept (never flushed),
 *    |x| >= 65520 -> +-inf, NaN -> 0x7E00 | sign  (ggml_compute_fp32_to_fp16)
 *  - fp32 -> bf16: round to nearest even, NaN -> (bits >> 16) | 0x40 (quieted)
 *  - fp16/bf16/fp8 -> fp32: exact.
 * F8_E4M3 is the "fn" variant (no infinities, 0x7F/0xFF are NaN, bias 7);
 * F8_E5M2 is the upper byte of an IEEE fp16 (bias 15, with inf and NaN).
 */
#ifndef QK_FLOAT_FORMATS_H
#define QK_FLOAT_FORMATS_H

#include <stdint.h>
#include <string.h>

static inline uint32_t qk_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float qk_f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t qk_fp32_to_fp16(float f);
float qk_fp16_to_fp32(uint16_t h);
uint16_t qk_fp32_to_bf16(float f);
static inline float qk_bf16_to_fp32(uint16_t h) { return qk_f32_from_bits((uint32_t)h << 16); }
float qk_f8_e4m3_to_fp32(uint8_t v);
float qk_f8_e5m2_to_fp32(uint8_t v);

/* Row forms (n elements). */
void qk_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n);
void qk_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n);
void qk_fp32_to_bf16_row(const float *x, uint16_t *y, int64_t n);
void qk_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n);

#endif
