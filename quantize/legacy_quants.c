/* legacy_quants.c - scalar reference kernels for Q4_0 Q4_1 Q5_0 Q5_1 Q8_0.
 * Same float operations in the same order as ggml-quants.c; see
 * quant_search.h for the integer conversions spelled out. */
#include "legacy_quants.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "quant_search.h"

#define QK 32

static void put_f16(unsigned char *p, float f) {
    uint16_t h = qk_fp32_to_fp16(f);
    p[0] = (unsigned char)h;
    p[1] = (unsigned char)(h >> 8);
}

static float get_f16(const unsigned char *p) { return qk_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); }

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int imin(int a, int b) { return a < b ? a : b; }

/* sigma2 over the whole row and the per-element weights of one block, as
 * the _impl variants compute them. */
static float row_sigma2(const float *x, int64_t n) {
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

static void block_weights(const float *xb, const float *qw, float sigma2, float *w) {
    for (int j = 0; j < QK; ++j) w[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
}

/* ---- Q4_0 ---- */
static void q4_0_row(const float *x, unsigned char *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++, x += QK, y += 18) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float v = x[j];
            if (amax < fabsf(v)) amax = fabsf(v), max = v;
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        put_f16(y, d);
        for (int j = 0; j < QK / 2; ++j) {
            const uint8_t xi0 = (uint8_t)imin(15, qk_trunc_i8(x[j] * id + 8.5f));
            const uint8_t xi1 = (uint8_t)imin(15, qk_trunc_i8(x[QK / 2 + j] * id + 8.5f));
            y[2 + j] = (uint8_t)(xi0 | xi1 << 4);
        }
    }
}

static void q4_0_row_imatrix(const float *x, unsigned char *y, int64_t n, const float *qw) {
    float weight[QK];
    int8_t L[QK];
    const float sigma2 = row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / QK; ++ib, y += 18) {
        const float *xb = x + QK * ib;
        block_weights(xb, qw + QK * ib, sigma2, weight);
        float d = qk_make_qx_quants(QK, 8, xb, L, 1, weight);
        put_f16(y, d);
        for (int j = 0; j < 16; ++j) y[2 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

/* ---- Q4_1 ---- */
static void q4_1_row(const float *x, unsigned char *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++, x += QK, y += 20) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            const float v = x[j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        put_f16(y, d);
        put_f16(y + 2, min);
        for (int j = 0; j < QK / 2; ++j) {
            const uint8_t xi0 = (uint8_t)imin(15, qk_trunc_i8((x[j] - min) * id + 0.5f));
            const uint8_t xi1 = (uint8_t)imin(15, qk_trunc_i8((x[QK / 2 + j] - min) * id + 0.5f));
            y[4 + j] = (uint8_t)(xi0 | xi1 << 4);
        }
    }
}

static void q4_1_row_imatrix(const float *x, unsigned char *y, int64_t n, const float *qw) {
    float weight[QK];
    uint8_t L[QK], Laux[QK];
    const float sigma2 = row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / QK; ++ib, y += 20) {
        const float *xb = x + QK * ib;
        block_weights(xb, qw + QK * ib, sigma2, weight);
        float min;
        float d = qk_make_qkx3_quants(QK, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
        put_f16(y, d);
        put_f16(y + 2, -min);
        for (int j = 0; j < 16; ++j) y[4 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

/* ---- Q5_0 / Q5_1 packing ---- */
static void pack5(unsigned char *qh_out, unsigned char *qs, const uint8_t *q) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = q[j], xi1 = q[j + 16];
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    put_u32(qh_out, qh);
}

static void q5_0_row(const float *x, unsigned char *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++, x += QK, y += 22) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float v = x[j];
            if (amax < fabsf(v)) amax = fabsf(v), max = v;
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        put_f16(y, d);
        uint8_t q[QK];
        for (int j = 0; j < QK; ++j) q[j] = (uint8_t)imin(31, qk_trunc_i8(x[j] * id + 16.5f));
        pack5(y + 2, y + 6, q);
    }
}

static void q5_0_row_imatrix(const float *x, unsigned char *y, int64_t n, const float *qw) {
    float weight[QK];
    int8_t L[QK];
    const float sigma2 = row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / QK; ++ib, y += 22) {
        const float *xb = x + QK * ib;
        block_weights(xb, qw + QK * ib, sigma2, weight);
        float d = qk_make_qx_quants(QK, 16, xb, L, 1, weight);
        put_f16(y, d);
        uint8_t q[QK];
        for (int j = 0; j < QK; ++j) q[j] = (uint8_t)L[j];
        pack5(y + 2, y + 6, q);
    }
}

static void q5_1_row(const float *x, unsigned char *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++, x += QK, y += 24) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            const float v = x[j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        put_f16(y, d);
        put_f16(y + 2, min);
        uint8_t q[QK];
        for (int j = 0; j < QK; ++j) q[j] = qk_trunc_u8((x[j] - min) * id + 0.5f); /* no clamp, as ggml */
        pack5(y + 4, y + 8, q);
    }
}

static void q5_1_row_imatrix(const float *x, unsigned char *y, int64_t n, const float *qw) {
    float weight[QK];
    uint8_t L[QK], Laux[QK];
    const float sigma2 = row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / QK; ++ib, y += 24) {
        const float *xb = x + QK * ib;
        block_weights(xb, qw + QK * ib, sigma2, weight);
        float min;
        float d = qk_make_qkx3_quants(QK, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
        put_f16(y, d);
        put_f16(y + 2, -min);
        pack5(y + 4, y + 8, L);
    }
}

/* ---- Q8_0 (an imatrix is ignored, as in ggml) ---- */
static void q8_0_row(const float *x, unsigned char *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++, x += QK, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float a = fabsf(x[j]);
            amax = amax > a ? amax : a;
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        put_f16(y, d);
        for (int j = 0; j < QK; ++j) y[2 + j] = (uint8_t)qk_trunc_i8(roundf(x[j] * id));
    }
}

/* ggml's quantize_<type>: without an imatrix the whole chunk is one long
 * "row" for the _ref function (block-local, so identical); with one, each
 * row runs the _impl variant. */
#define DEFINE_QUANTIZE(name, bytes, ref_row, imatrix_row)                                              \
    size_t qk_quantize_##name(const float *src, void *dst, int64_t nrows, int64_t n_per_row,            \
                              const float *imatrix) {                                                   \
        const size_t row_size = (size_t)(n_per_row / QK) * (bytes);                                     \
        unsigned char *q = dst;                                                                          \
        for (int64_t r = 0; r < nrows; r++, src += n_per_row, q += row_size) {                          \
            if (imatrix) imatrix_row(src, q, n_per_row, imatrix);                                        \
            else ref_row(src, q, n_per_row);                                                             \
        }                                                                                                \
        return (size_t)nrows * row_size;                                                                 \
    }

static void q8_0_row_imatrix(const float *x, unsigned char *y, int64_t n, const float *qw) {
    (void)qw;
    q8_0_row(x, y, n);
}

DEFINE_QUANTIZE(q4_0, 18, q4_0_row, q4_0_row_imatrix)
DEFINE_QUANTIZE(q4_1, 20, q4_1_row, q4_1_row_imatrix)
DEFINE_QUANTIZE(q5_0, 22, q5_0_row, q5_0_row_imatrix)
DEFINE_QUANTIZE(q5_1, 24, q5_1_row, q5_1_row_imatrix)
DEFINE_QUANTIZE(q8_0, 34, q8_0_row, q8_0_row_imatrix)

/* ---- dequantization ---- */
void qk_dequantize_row_q4_0(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += 18, y += QK) {
        const float d = get_f16(b);
        for (int j = 0; j < QK / 2; ++j) {
            y[j] = ((b[2 + j] & 0x0F) - 8) * d;
            y[j + QK / 2] = ((b[2 + j] >> 4) - 8) * d;
        }
    }
}

void qk_dequantize_row_q4_1(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += 20, y += QK) {
        const float d = get_f16(b), m = get_f16(b + 2);
        for (int j = 0; j < QK / 2; ++j) {
            y[j] = (b[4 + j] & 0x0F) * d + m;
            y[j + QK / 2] = (b[4 + j] >> 4) * d + m;
        }
    }
}

void qk_dequantize_row_q5_0(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += 22, y += QK) {
        const float d = get_f16(b);
        const uint32_t qh = get_u32(b + 2);
        for (int j = 0; j < QK / 2; ++j) {
            const uint8_t h0 = (uint8_t)(((qh >> j) << 4) & 0x10);
            const uint8_t h1 = (uint8_t)((qh >> (j + 12)) & 0x10);
            y[j] = (((b[6 + j] & 0x0F) | h0) - 16) * d;
            y[j + QK / 2] = (((b[6 + j] >> 4) | h1) - 16) * d;
        }
    }
}

void qk_dequantize_row_q5_1(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += 24, y += QK) {
        const float d = get_f16(b), m = get_f16(b + 2);
        const uint32_t qh = get_u32(b + 4);
        for (int j = 0; j < QK / 2; ++j) {
            const uint8_t h0 = (uint8_t)(((qh >> j) << 4) & 0x10);
            const uint8_t h1 = (uint8_t)((qh >> (j + 12)) & 0x10);
            y[j] = ((b[8 + j] & 0x0F) | h0) * d + m;
            y[j + QK / 2] = ((b[8 + j] >> 4) | h1) * d + m;
        }
    }
}

void qk_dequantize_row_q8_0(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += 34, y += QK) {
        const float d = get_f16(b);
        for (int j = 0; j < QK; ++j) y[j] = (int8_t)b[2 + j] * d;
    }
}
