/* q1_q2.c - Q1_0 and Q2_0, the plain 1- and 2-bit block types.
 *
 *   Q1_0  byte 0   2                  18
 *              +---+------------------+
 *              | d | qs[16]           |   128 weights; bit j set: +d, clear: -d
 *              +---+------------------+   d = sum |x| / 128 (float, in order)
 *   Q2_0  byte 0   2                  18
 *              +---+------------------+
 *              | d | qs[16]           |   64 weights; 2 bits each, element j in
 *              +---+------------------+   bits 2(j%4) of byte j/4: x = (q - 1) d
 *
 * Q1_0 stores the sign only (x >= 0, so -0 counts as positive, NaN as
 * negative). Q2_0: d = max |x|, q = clamp((int)roundf(x / d) + 1, 0, 3),
 * the float -> int conversion truncating as x86-64 does (qk_cvtt_i32).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernel_util.h"
#include "lowbit.h"
#include "q1_q2.h"
#include "quant_search.h"

void qk_q1_0_block(const float *x, uint8_t *y) {
    float sum_abs = 0.0f;
    for (int j = 0; j < QK_Q1_0; j++) sum_abs += fabsf(x[j]);
    qk_put_f16(y, sum_abs / QK_Q1_0);
    uint8_t *qs = y + offsetof(qk_block_q1_0, qs);
    memset(qs, 0, QK_Q1_0 / 8);
    for (int j = 0; j < QK_Q1_0; j++)
        if (x[j] >= 0.0f) qs[j / 8] |= (uint8_t)(1 << (j % 8));
}

void qk_q2_0_block(const float *x, uint8_t *y) {
    float amax = 0.0f;
    for (int j = 0; j < QK_Q2_0; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    const float id = amax > 0.0f ? 1.0f / amax : 0.0f;
    qk_put_f16(y, amax);
    uint8_t *qs = y + offsetof(qk_block_q2_0, qs);
    memset(qs, 0, QK_Q2_0 / 4);
    for (int j = 0; j < QK_Q2_0; j++) {
        int q = qk_cvtt_i32(roundf(x[j] * id)) + 1;
        if (q < 0) q = 0;
        if (q > 3) q = 3;
        qs[j / 4] |= (uint8_t)(q << ((j % 4) * 2));
    }
}

/* ggml's fp16 -> fp32 conversion quiets a signaling NaN (an arithmetic or
 * conversion instruction does); Q1_0's decoder copies d without arithmetic,
 * so the quieting must be done here to keep the bits. */
static inline float f16_quiet(const uint8_t *p) {
    const float d = qk_get_f16(p);
    return isnan(d) ? qk_f32_from_bits(qk_f32_bits(d) | 0x00400000u) : d;
}

static void q1_0_to_float(const uint8_t *b, float *y) {
    const float d = f16_quiet(b), neg_d = -d;
    for (int j = 0; j < QK_Q1_0; j++) y[j] = (b[2 + j / 8] >> (j % 8)) & 1 ? d : neg_d;
}

size_t qk_quantize_q1_0(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_Q1_0, qk_block_q1_0, qk_q1_0_block); }
void qk_dequantize_row_q1_0(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_Q1_0, qk_block_q1_0, q1_0_to_float); }

static void q2_0_to_float(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    for (int j = 0; j < QK_Q2_0; j++) y[j] = (float)(((b[2 + j / 4] >> ((j % 4) * 2)) & 3) - 1) * d;
}

size_t qk_quantize_q2_0(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_Q2_0, qk_block_q2_0, qk_q2_0_block); }
void qk_dequantize_row_q2_0(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_Q2_0, qk_block_q2_0, q2_0_to_float); }

