/* q4_0.c - Q4_0 and Q4_1: 32 weights per block, 4-bit values in "split
 * halves" nibble order (element j in the low nibble of qs[j], element j+16 in
 * the high nibble of qs[j]).
 *
 *   Q4_0  byte 0     2                      18
 *              +-----+----------------------+
 *              | d   | qs[16]               |   x[j] = d * (q[j] - 8)
 *              +-----+----------------------+
 *   Q4_1  byte 0     2     4                      20
 *              +-----+-----+----------------------+
 *              | d   | m   | qs[16]               |   x[j] = d * q[j] + m
 *              +-----+-----+----------------------+
 *   qs[j] = q[j] | q[j+16] << 4            (d, m: fp16)
 *
 * Without an imatrix (ggml's *_ref):
 *   Q4_0: max = the signed x with the largest |x| (first wins), d = max/-8,
 *         q = MIN(15, (int8_t)(x/d + 8.5f))    (truncation)
 *   Q4_1: d = (max-min)/15, m = min, q = MIN(15, (int8_t)((x-min)/d + 0.5f))
 * where "/d" is a multiply by id = 1/d computed from the float d.
 * With an imatrix (ggml's *_impl): weights qw*sqrt(sigma2 + x^2), sigma2 the
 * mean square of the whole row; Q4_0 uses make_qx_quants, Q4_1
 * make_qkx3_quants(-0.9, 0.05, 36) and stores m = -min.
 */
#include <float.h>
#include <math.h>

#include "float_formats.h"
#include "quant_search.h"
#include "quants_legacy.h"

void qk_q4_0_block_ref(const float *x, uint8_t *y) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK_LEGACY_QK; j++) {
        const float v = x[j];
        if (amax < fabsf(v)) {
            amax = fabsf(v);
            max = v;
        }
    }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    for (int j = 0; j < QK_LEGACY_QK / 2; j++) {
        const float x0 = x[j] * id;
        const float x1 = x[QK_LEGACY_QK / 2 + j] * id;
        const uint8_t xi0 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x0 + 8.5f));
        const uint8_t xi1 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x1 + 8.5f));
        y[2 + j] = (uint8_t)(xi0 | (xi1 << 4));
    }
}

void qk_q4_1_block_ref(const float *x, uint8_t *y) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK_LEGACY_QK; j++) {
        const float v = x[j];
        if (v < min) min = v;
        if (v > max) max = v;
    }
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    qk_put_u16(y + 2, qk_fp32_to_fp16(min));
    for (int j = 0; j < QK_LEGACY_QK / 2; j++) {
        const float x0 = (x[j] - min) * id;
        const float x1 = (x[QK_LEGACY_QK / 2 + j] - min) * id;
        const uint8_t xi0 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x0 + 0.5f));
        const uint8_t xi1 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x1 + 0.5f));
        y[4 + j] = (uint8_t)(xi0 | (xi1 << 4));
    }
}

/* sigma2 of ggml's *_impl: sum of squares of the row, in order, over n. */
static float row_sigma2(const float *x, int64_t n) {
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

static void q4_0_row_imatrix(const float *x, uint8_t *y, int64_t n_per_row, const float *qw_row) {
    float weight[QK_LEGACY_QK];
    int8_t L[QK_LEGACY_QK];
    const float sigma2 = row_sigma2(x, n_per_row);
    for (int64_t ib = 0; ib < n_per_row / QK_LEGACY_QK; ++ib) {
        const float *xb = x + QK_LEGACY_QK * ib;
        const float *qw = qw_row + QK_LEGACY_QK * ib;
        uint8_t *b = y + ib * QK_Q4_0_BYTES;
        for (int j = 0; j < QK_LEGACY_QK; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        const float d = qk_make_qx_quants(QK_LEGACY_QK, 8, xb, L, 1, weight);
        qk_put_u16(b, qk_fp32_to_fp16(d));
        for (int j = 0; j < 16; ++j) b[2 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

static void q4_1_row_imatrix(const float *x, uint8_t *y, int64_t n_per_row, const float *qw_row) {
    float weight[QK_LEGACY_QK];
    uint8_t L[QK_LEGACY_QK], Laux[QK_LEGACY_QK];
    const float sigma2 = row_sigma2(x, n_per_row);
    for (int64_t ib = 0; ib < n_per_row / QK_LEGACY_QK; ++ib) {
        const float *xb = x + QK_LEGACY_QK * ib;
        const float *qw = qw_row + QK_LEGACY_QK * ib;
        uint8_t *b = y + ib * QK_Q4_1_BYTES;
        for (int j = 0; j < QK_LEGACY_QK; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        const float d = qk_make_qkx3_quants(QK_LEGACY_QK, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
        qk_put_u16(b, qk_fp32_to_fp16(d));
        qk_put_u16(b + 2, qk_fp32_to_fp16(-min));
        for (int j = 0; j < 16; ++j) b[4 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

size_t qk_quantize_q4_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY_QK);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        uint8_t *yr = y + r * nb * QK_Q4_0_BYTES;
        if (imatrix) q4_0_row_imatrix(x, yr, n_per_row, imatrix);
        else for (int64_t i = 0; i < nb; i++) qk_q4_0_block_ref(x + i * QK_LEGACY_QK, yr + i * QK_Q4_0_BYTES);
    }
    return (size_t)(nrows * nb * QK_Q4_0_BYTES);
}

size_t qk_quantize_q4_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY_QK);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        uint8_t *yr = y + r * nb * QK_Q4_1_BYTES;
        if (imatrix) q4_1_row_imatrix(x, yr, n_per_row, imatrix);
        else for (int64_t i = 0; i < nb; i++) qk_q4_1_block_ref(x + i * QK_LEGACY_QK, yr + i * QK_Q4_1_BYTES);
    }
    return (size_t)(nrows * nb * QK_Q4_1_BYTES);
}

void qk_dequantize_row_q4_0(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY_QK; i++) {
        const uint8_t *b = x + i * QK_Q4_0_BYTES;
        float *y = dst + i * QK_LEGACY_QK;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        for (int j = 0; j < 16; j++) {
            const int x0 = (b[2 + j] & 0x0F) - 8;
            const int x1 = (b[2 + j] >> 4) - 8;
            y[j] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

void qk_dequantize_row_q4_1(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY_QK; i++) {
        const uint8_t *b = x + i * QK_Q4_1_BYTES;
        float *y = dst + i * QK_LEGACY_QK;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        const float m = qk_fp16_to_fp32(qk_get_u16(b + 2));
        for (int j = 0; j < 16; j++) {
            const int x0 = b[4 + j] & 0x0F;
            const int x1 = b[4 + j] >> 4;
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        }
    }
}
