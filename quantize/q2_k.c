/* q2_k.c - Q2_K: 256 weights in 16 sub-blocks of 16, 2.625 bits per weight.
 *
 *   block (84 bytes): | scales[16] | qs[64] | d fp16 | dmin fp16 |
 *   scales[j] = 4-bit scale (low nibble) | 4-bit min (high nibble)
 *   weight = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4), q in 0..3;
 *   per 128-weight half: qs[l] = q[l] | q[l+32] << 2 | q[l+64] << 4 | q[l+96] << 6.
 *   Note d and dmin come last.
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "k_quants.h"
#include "k_quants_internal.h"
#include "quant_search.h"

#define BYTES 84

static void put_f16(unsigned char *p, float f) {
    uint16_t h = qk_fp32_to_fp16(f);
    p[0] = (unsigned char)h, p[1] = (unsigned char)(h >> 8);
}
static float get_f16(const unsigned char *p) { return qk_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); }

static void requantize_and_pack(const float *x, unsigned char *y, uint8_t *L) {
    const float dm = get_f16(y + 80), mm = get_f16(y + 82);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dm * (y[j] & 0xF);
        if (!d) continue;
        const float m = mm * (y[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            int l = qk_nearest_int((x[16 * j + ii] + m) / d);
            L[16 * j + ii] = (uint8_t)(l < 0 ? 0 : l > 3 ? 3 : l);
        }
    }
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            y[16 + j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

/* After the 16 make_qkx2_quants searches (no imatrix): 4-bit scales and mins
 * against the block maxima, the fp16 d/dmin, requantization and packing. */
static void finish_ref(const float *x, unsigned char *y, const float *scales, const float *mins, uint8_t *L) {
    const float q4scale = 15.f;
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
        float iscale = q4scale / max_scale;
        for (int j = 0; j < QK_K / 16; ++j) y[j] = (uint8_t)qk_nearest_int(iscale * scales[j]);
        put_f16(y + 80, max_scale / q4scale);
    } else {
        for (int j = 0; j < QK_K / 16; ++j) y[j] = 0;
        put_f16(y + 80, 0.f);
    }
    if (max_min > 0) {
        float iscale = q4scale / max_min;
        /* as unsigned: a NaN input makes nearest_int negative, and x86 wraps the shift */
        for (int j = 0; j < QK_K / 16; ++j) y[j] |= (uint8_t)((unsigned)qk_nearest_int(iscale * mins[j]) << 4);
        put_f16(y + 82, max_min / q4scale);
    } else {
        put_f16(y + 82, 0.f);
    }
    requantize_and_pack(x, y, L);
}

static void row_ref(const float *x, unsigned char *y, int64_t k) {
    uint8_t L[QK_K], Laux[16];
    float weights[16], mins[QK_K / 16], scales[QK_K / 16];
    for (int64_t i = 0; i < k / QK_K; i++, x += QK_K, y += BYTES) {
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = qk_make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
        }
        finish_ref(x, y, scales, mins, L);
    }
}

/* With an imatrix: the weights qw * sqrt(sigma2 + x^2) of one super-block
 * (sigma2 = mean x^2 over its 256 values) and their per-sub-block sums. */
static void imatrix_weights(const float *x, const float *qw, float *weight, float *sw) {
    memset(sw, 0, QK_K / 16 * sizeof(float));
    float sumx2 = 0;
    for (int j = 0; j < QK_K; ++j) sumx2 += x[j] * x[j];
    float sigma2 = sumx2 / QK_K;
    for (int j = 0; j < QK_K / 16; ++j) {
        float *wj = weight + 16 * j;
        for (int l = 0; l < 16; ++l) wj[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        for (int l = 0; l < QK_K / 16; ++l) sw[j] += wj[l];
    }
}

/* With an imatrix, after the make_qkx3_quants searches. */
static void finish_imatrix(const float *x, unsigned char *y, const float *scales, const float *mins, const float *sw,
                           uint8_t *L) {
    uint8_t Ls[QK_K / 16], Lm[QK_K / 16];
    float dm = qk_make_qp_quants(QK_K / 16, 15, scales, Ls, sw);
    float mm = qk_make_qp_quants(QK_K / 16, 15, mins, Lm, sw);
    put_f16(y + 80, dm);
    put_f16(y + 82, mm);
    for (int j = 0; j < QK_K / 16; ++j) y[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
    requantize_and_pack(x, y, L);
}

static void row_imatrix(const float *x, unsigned char *y, int64_t k, const float *quant_weights) {
    uint8_t L[QK_K], Laux[16];
    float mins[QK_K / 16], scales[QK_K / 16], sw[QK_K / 16], weight[QK_K];
    for (int64_t i = 0; i < k / QK_K; i++, x += QK_K, y += BYTES) {
        imatrix_weights(x, quant_weights + QK_K * i, weight, sw);
        for (int j = 0; j < QK_K / 16; ++j)
            scales[j] = qk_make_qkx3_quants(16, 3, x + 16 * j, weight + 16 * j, L + 16 * j, &mins[j], Laux, -0.9f,
                                            0.05f, 36, false);
        finish_imatrix(x, y, scales, mins, sw, L);
    }
}

size_t qk_quantize_q2_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const size_t row_size = (size_t)(n_per_row / QK_K) * BYTES;
    unsigned char *q = dst;
    for (int64_t r = 0; r < nrows; r++, src += n_per_row, q += row_size) {
        if (imatrix) row_imatrix(src, q, n_per_row, imatrix);
        else row_ref(src, q, n_per_row);
    }
    return (size_t)nrows * row_size;
}

void qk_dequantize_row_q2_k(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += BYTES) {
        const float d = get_f16(b + 80), min = get_f16(b + 82);
        const uint8_t *q = b + 16;
        int is = 0;
        for (int k = 0; k < QK_K; k += 128, q += 32) {
            int shift = 0;
            for (int j = 0; j < 4; ++j, shift += 2) {
                uint8_t sc = b[is++];
                float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l] >> shift) & 3)) - ml;
                sc = b[is++];
                dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3)) - ml;
            }
        }
    }
}

#if defined(__aarch64__)

/* NEON: a super-block's 16 sub-block searches as four groups of 4 lanes
 * (kq_search_neon.c), with and without an imatrix; the rest is the scalar
 * code, so the bytes are the scalar bytes. */
size_t qk_quantize_q2_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = n_per_row / QK_K;
    const qk_kq_params ref = {3, -0.5f, 0.1f, 15}; /* make_qkx2_quants(16, 3, ..., -0.5f, 0.1f, 15, true) */
    const qk_kq_params im = {3, -0.9f, 0.05f, 36}; /* make_qkx3_quants(16, 3, ..., -0.9f, 0.05f, 36, false) */
    uint8_t L[QK_K];
    float scales[QK_K / 16], mins[QK_K / 16], weight[QK_K], sw[QK_K / 16];
    unsigned char *y = dst;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t i = 0; i < nb; i++, src += QK_K, y += BYTES) {
            if (imatrix) imatrix_weights(src, imatrix + QK_K * i, weight, sw);
            else
                for (int l = 0; l < QK_K; ++l) weight[l] = fabsf(src[l]);
            for (int g = 0; g < 4; g++)
                qk_kq_search4_neon(imatrix ? &im : &ref, 16, imatrix != NULL, imatrix == NULL, src + 64 * g,
                                   weight + 64 * g, scales + 4 * g, mins + 4 * g, L + 64 * g);
            if (imatrix) finish_imatrix(src, y, scales, mins, sw, L);
            else finish_ref(src, y, scales, mins, L);
        }
    }
    return (size_t)(nrows * nb) * BYTES;
}
#endif
