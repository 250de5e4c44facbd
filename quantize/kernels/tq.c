/* tq.c - TQ1_0 and TQ2_0, the ternary types (BitNet b1.58, TriLM): 256
 * weights per block, each -1, 0 or +1 times one fp16 scale d = max |x|.
 *
 *   TQ1_0  byte 0          48       52   54
 *               +----------+--------+----+
 *               | qs[48]   | qh[4]  | d  |   5 trits per qs byte, 4 per qh byte
 *               +----------+--------+----+
 *   TQ2_0  byte 0          64   66
 *               +----------+----+
 *               | qs[64]   | d  |             4 x 2-bit (trit + 1) per byte
 *               +----------+----+
 *
 * A trit t = lroundf(x / d) + 1 in {0, 1, 2}. TQ1_0 packs 5 trits base 3
 * (first trit most significant) then stores ceil(v * 256 / 243) so that the
 * decoder reads trit n as ((uint8_t)(q * 3^n) * 3) >> 8. Element order: qs
 * bytes 0..31 hold elements m + 32n (n = 0..4) of the first 160, bytes 32..47
 * elements m + 16n of the next 80, qh byte j elements j + 4m of the last 16
 * (with a fifth, zero trit). TQ2_0: byte j + m of each 32-byte group holds
 * elements m + 32n of its 128 in bits 2n..2n+1.
 *
 * Bit-exactness: ggml's MAX (a NaN resets the running max), lroundf from
 * the same libm (its result for NaN/inf is what x86-64 glibc returns), the
 * int and uint8_t wraps of the C source kept as they are. The AVX2 / AVX-512 /
 * NEON variants (tq_body.h) hand every block they cannot reproduce exactly
 * (NaN, inf, an infinite 1/amax) to qk_tq1_0_block / qk_tq2_0_block.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernel_util.h"
#include "lowbit.h"
#include "quant_search.h"

static inline float block_scale(const float *x, float *id) {
    float amax = 0.0f;
    for (int j = 0; j < QK_K; j++) amax = QK_MAX(amax, fabsf(x[j]));
    *id = amax ? 1.0f / amax : 0.0f;
    return amax;
}

/* lroundf(v) + 1 as ggml's `int xi = lroundf(...) + 1` computes it */
static inline int trit(float v) { return (int)lroundf(v) + 1; }

/* w bytes of five trits each: byte m holds x[m + n w] for n = 0..4
 * (base 3, first trit most significant), scaled to a byte as ggml does. */
static void pack5(uint8_t *qs, const float *x, int w, float id) {
    for (int m = 0; m < w; m++) {
        uint8_t q = 0;
        for (int n = 0; n < 5; n++) {
            q = (uint8_t)(q * 3);
            q = (uint8_t)(q + trit(x[m + n * w] * id));
        }
        qs[m] = (uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243);
    }
}

void qk_tq1_0_block(const float *x, uint8_t *y) {
    float id;
    const float d = block_scale(x, &id);
    enum { NQS = sizeof(((qk_block_tq1_0 *)0)->qs), NQH = sizeof(((qk_block_tq1_0 *)0)->qh) };
    uint8_t *qs = y + offsetof(qk_block_tq1_0, qs), *qh = y + offsetof(qk_block_tq1_0, qh);
    for (int j = 0; j < NQS - NQS % 32; j += 32, x += 5 * 32) pack5(qs + j, x, 32, id);
    for (int j = NQS - NQS % 32; j < NQS; j += 16, x += 5 * 16) pack5(qs + j, x, 16, id);
    for (int j = 0; j < NQH; j++) {
        uint8_t q = 0;
        for (int m = 0; m < 4; m++) {
            q = (uint8_t)(q * 3);
            q = (uint8_t)(q + trit(x[j + m * NQH] * id));
        }
        q = (uint8_t)(q * 3);
        qh[j] = (uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243);
    }
    qk_put_f16(y + offsetof(qk_block_tq1_0, d), d);
}

void qk_tq2_0_block(const float *x, uint8_t *y) {
    float id;
    const float d = block_scale(x, &id);
    for (int j = 0; j < QK_K / 4; j += 32) {
        for (int m = 0; m < 32; m++) {
            uint8_t q = 0;
            for (int n = 0; n < 4; n++) q = (uint8_t)(q + ((trit(x[m + n * 32] * id) & 3) << (2 * n)));
            y[j + m] = q;
        }
        x += 4 * 32;
    }
    qk_put_f16(y + offsetof(qk_block_tq2_0, d), d);
}

/* trit n of a packed byte: ((uint8_t)(q * 3^n) * 3) >> 8, minus 1 */
static inline float tq1_value(uint8_t b, int n, float d) {
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    const uint8_t q = (uint8_t)(b * pow3[n]);
    const int16_t xi = (int16_t)(((uint16_t)q * 3) >> 8);
    return (float)(xi - 1) * d;
}

static void tq1_0_to_float(const uint8_t *b, float *y) {
    enum { NQS = sizeof(((qk_block_tq1_0 *)0)->qs), NQH = sizeof(((qk_block_tq1_0 *)0)->qh) };
    const uint8_t *qs = b + offsetof(qk_block_tq1_0, qs), *qh = b + offsetof(qk_block_tq1_0, qh);
    const float d = qk_get_f16(b + offsetof(qk_block_tq1_0, d));
    for (int j = 0; j < NQS - NQS % 32; j += 32)
        for (int k = 0; k < 5; k++)
            for (int m = 0; m < 32; m++) *y++ = tq1_value(qs[j + m], k, d);
    for (int j = NQS - NQS % 32; j < NQS; j += 16)
        for (int k = 0; k < 5; k++)
            for (int m = 0; m < 16; m++) *y++ = tq1_value(qs[j + m], k, d);
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < NQH; j++) *y++ = tq1_value(qh[j], k, d);
}

size_t qk_quantize_tq1_0(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq1_0, qk_tq1_0_block); }
void qk_dequantize_row_tq1_0(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_K, qk_block_tq1_0, tq1_0_to_float); }

static void tq2_0_to_float(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b + offsetof(qk_block_tq2_0, d));
    for (int j = 0; j < QK_K / 4; j += 32)
        for (int l = 0; l < 4; l++)
            for (int m = 0; m < 32; m++) *y++ = (float)(((b[j + m] >> (l * 2)) & 3) - 1) * d;
}

size_t qk_quantize_tq2_0(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_K, qk_block_tq2_0, qk_tq2_0_block); }
void qk_dequantize_row_tq2_0(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_K, qk_block_tq2_0, tq2_0_to_float); }

