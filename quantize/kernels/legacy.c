/* legacy.c - Q4_0, Q4_1, Q5_0 and Q5_1: 32 weights per block, 4- or 5-bit
 * values in "split halves" order (element j and element j+16 share byte j
 * of qs: low and high nibble), the fifth bit of element j in bit j of the
 * little-endian u32 qh. The scalar reference (the spec) of the family.
 *
 *   Q4_0  byte 0     2                      18
 *              +-----+----------------------+
 *              | d   | qs[16]               |   x[j] = d * (q[j] - 8)
 *              +-----+----------------------+
 *   Q4_1  byte 0     2     4                      20
 *              +-----+-----+----------------------+
 *              | d   | m   | qs[16]               |   x[j] = d * q[j] + m
 *              +-----+-----+----------------------+
 *   Q5_0  byte 0     2        6                      22
 *              +-----+--------+----------------------+
 *              | d   | qh[4]  | qs[16]               |   x[j] = d * (q[j] - 16)
 *              +-----+--------+----------------------+
 *   Q5_1  byte 0     2     4        8                      24
 *              +-----+-----+--------+----------------------+
 *              | d   | m   | qh[4]  | qs[16]               |   x[j] = d * q[j] + m
 *              +-----+-----+--------+----------------------+
 *   qs[j] = (q[j] & 15) | (q[j+16] & 15) << 4,  qh bit j = q[j] >> 4 & 1
 *   (d, m: fp16; the structs are qk_block_<t> in ggml_blocks.h)
 *
 * Without an imatrix (ggml's *_ref), with b = 4 or 5 bits:
 *   _0: max = the signed x with the largest |x| (first wins),
 *       d = max / -2^(b-1),  q = MIN(2^b - 1, (int8_t)(x/d + 2^(b-1) + 0.5f))
 *   _1: d = (max-min) / (2^b - 1), m = min,
 *       q = MIN(15, (int8_t)((x-min)/d + 0.5f))  (Q4_1)
 *       q = (uint8_t)((x-min)/d + 0.5f), NO clamp  (Q5_1)
 * where "/d" is a multiply by id = 1/d computed from the float d and the
 * float -> int8 conversion is x86's truncation (qk_cvtt_i8). Q4_0/Q4_1
 * store q[j] | q[j+16] << 4 unmasked (q fits a nibble except for garbage
 * from non-finite input, which then shows as ggml shows it).
 * With an imatrix (ggml's *_impl): see legacy.h.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernel_util.h"
#include "legacy.h"
#include "quant_search.h"

/* The block levels without an imatrix, as the *_ref code computes them for
 * each of the four types (t constant in every caller, so each inlines to
 * its own loop). */
static inline void block_ref(const qk_legacy_type *t, const float *x, uint8_t *y) {
    const int half = 1 << (t->bits - 1), top = (1 << t->bits) - 1;
    float d, min = 0.0f;
    if (!t->has_min) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK_LEGACY; j++) {
            const float v = x[j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        d = max / (float)-half;
    } else {
        float max = -FLT_MAX;
        min = FLT_MAX;
        for (int j = 0; j < QK_LEGACY; j++) {
            const float v = x[j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        d = (max - min) / (float)top;
    }
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_f16(y, d);
    if (t->has_min) qk_put_f16(y + offsetof(qk_block_q4_1, m), min);
    uint8_t q[QK_LEGACY];
    /* Q5_1 has no clamp: a clamp at 255 keeps every byte as it is */
    const int clamp = t->has_min && t->bits == 5 ? 255 : top;
    for (int j = 0; j < QK_LEGACY; j++) {
        const float v = t->has_min ? (x[j] - min) * id + 0.5f : x[j] * id + ((float)half + 0.5f);
        q[j] = (uint8_t)QK_MIN(clamp, qk_cvtt_i8(v));
    }
    if (t->bits == 4) {
        for (int j = 0; j < QK_LEGACY / 2; j++) y[t->qs_off + j] = (uint8_t)(q[j] | (q[QK_LEGACY / 2 + j] << 4));
    } else {
        qk_legacy_pack(t, y, d, -min, q); /* rewrites d and m with the same bits */
    }
}

void qk_q4_0_block_ref(const float *x, uint8_t *y) { block_ref(&qk_legacy_q4_0, x, y); }
void qk_q4_1_block_ref(const float *x, uint8_t *y) { block_ref(&qk_legacy_q4_1, x, y); }
void qk_q5_0_block_ref(const float *x, uint8_t *y) { block_ref(&qk_legacy_q5_0, x, y); }
void qk_q5_1_block_ref(const float *x, uint8_t *y) { block_ref(&qk_legacy_q5_1, x, y); }

void qk_legacy_pack(const qk_legacy_type *t, uint8_t *y, float d, float the_min, const uint8_t *L) {
    qk_put_f16(y, d);
    if (t->has_min) qk_put_f16(y + offsetof(qk_block_q4_1, m), -the_min);
    uint8_t *qs = y + t->qs_off;
    if (t->bits == 4) {
        for (int j = 0; j < 16; ++j) qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
        return;
    }
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = L[j], xi1 = L[j + 16];
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    for (int k = 0; k < 4; k++) y[t->qh_off + (size_t)k] = (uint8_t)(qh >> (8 * k));
}

/* Not inlined: the scalar and the SIMD rows call this one copy, so a NaN
 * sum (whose sign depends on the operand order of each compiled copy) is
 * the same in both. */
__attribute__((noinline)) float qk_legacy_row_sigma2(const float *x, int64_t n) {
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

/* One block of ggml's quantize_row_<t>_impl: xb, qw its 32 floats and
 * imatrix weights, sigma2 its row's. */
static inline void block_imatrix(const qk_legacy_type *t, const float *xb, const float *qw, float sigma2, uint8_t *y) {
    float weight[QK_LEGACY];
    uint8_t L[QK_LEGACY], Laux[QK_LEGACY];
    qk_legacy_imatrix_weights(xb, qw, sigma2, weight);
    float d, the_min = 0.0f;
    if (!t->has_min) d = qk_make_qx_quants(QK_LEGACY, t->nmax, xb, (int8_t *)L, 1, weight);
    else d = qk_make_qkx3_quants(QK_LEGACY, t->nmax, xb, weight, L, &the_min, Laux, -0.9f, 0.05f, 36, false);
    qk_legacy_pack(t, y, d, the_min, L);
}

void qk_q4_0_block_imatrix(const float *xb, const float *qw, float s2, uint8_t *y) {
    block_imatrix(&qk_legacy_q4_0, xb, qw, s2, y);
}
void qk_q4_1_block_imatrix(const float *xb, const float *qw, float s2, uint8_t *y) {
    block_imatrix(&qk_legacy_q4_1, xb, qw, s2, y);
}
void qk_q5_0_block_imatrix(const float *xb, const float *qw, float s2, uint8_t *y) {
    block_imatrix(&qk_legacy_q5_0, xb, qw, s2, y);
}
void qk_q5_1_block_imatrix(const float *xb, const float *qw, float s2, uint8_t *y) {
    block_imatrix(&qk_legacy_q5_1, xb, qw, s2, y);
}

size_t qk_legacy_quantize_imatrix(const qk_legacy_type *t, const float *src, void *dst, int64_t nrows,
                                  int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        const float sigma2 = qk_legacy_row_sigma2(x, n_per_row);
        for (int64_t ib = 0; ib < nb; ++ib)
            t->block_imatrix(x + QK_LEGACY * ib, imatrix + QK_LEGACY * ib, sigma2, y + (size_t)(r * nb + ib) * t->bytes);
    }
    return (size_t)(nrows * nb) * t->bytes;
}

static size_t quantize(const qk_legacy_type *t, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                       const float *imatrix) {
    if (imatrix) return qk_legacy_quantize_imatrix(t, src, dst, nrows, n_per_row, imatrix);
    return qk_quantize_blocks(src, dst, nrows, n_per_row, QK_LEGACY, t->bytes, t->block_ref);
}

size_t qk_quantize_q4_0(QK_QUANTIZE_PARAMS) { return quantize(&qk_legacy_q4_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q4_1(QK_QUANTIZE_PARAMS) { return quantize(&qk_legacy_q4_1, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_0(QK_QUANTIZE_PARAMS) { return quantize(&qk_legacy_q5_0, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_1(QK_QUANTIZE_PARAMS) { return quantize(&qk_legacy_q5_1, QK_QUANTIZE_ARGS); }

/* x = d * (q - 2^(b-1)) or d * q + m, q the 4 or 5 bits of element j. */
static void dequantize(const qk_legacy_type *t, const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + (size_t)i * t->bytes;
        float *y = dst + i * QK_LEGACY;
        const float d = qk_get_f16(b);
        const float m = t->has_min ? qk_get_f16(b + offsetof(qk_block_q4_1, m)) : 0.0f;
        const uint8_t *qs = b + t->qs_off;
        const uint32_t qh = t->bits == 4 ? 0 : (uint32_t)qk_get_u16(b + t->qh_off) | (uint32_t)qk_get_u16(b + t->qh_off + 2) << 16;
        const int off = t->has_min ? 0 : 1 << (t->bits - 1);
        for (int j = 0; j < 16; ++j) {
            const int32_t x0 = (qs[j] & 0x0F) | (int32_t)(((qh >> (j + 0)) << 4) & 0x10);
            const int32_t x1 = (qs[j] >> 4) | (int32_t)((qh >> (j + 12)) & 0x10);
            if (t->has_min) {
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            } else {
                y[j] = (x0 - off) * d;
                y[j + 16] = (x1 - off) * d;
            }
        }
    }
}

void qk_dequantize_row_q4_0(const void *src, float *dst, int64_t n) { dequantize(&qk_legacy_q4_0, src, dst, n); }
void qk_dequantize_row_q4_1(const void *src, float *dst, int64_t n) { dequantize(&qk_legacy_q4_1, src, dst, n); }
void qk_dequantize_row_q5_0(const void *src, float *dst, int64_t n) { dequantize(&qk_legacy_q5_0, src, dst, n); }
void qk_dequantize_row_q5_1(const void *src, float *dst, int64_t n) { dequantize(&qk_legacy_q5_1, src, dst, n); }
