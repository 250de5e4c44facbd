/* q3_k.c - Q3_K: 256 weights in 16 sub-blocks of 16, 3.4375 bits per weight.
 *
 *   block (110 bytes): | hmask[32] | qs[64] | scales[12] | d fp16 |
 *   weight = d * (s[j] - 32) * (q - 4): q is 3-bit, low 2 bits in qs (packed
 *   like Q2_K), bit 2 in hmask (bit j/32 of hmask[j%32]); the 16 six-bit
 *   scales s[j] (stored +32): low 4 bits in scales[j] (j<8) or the high
 *   nibble of scales[j-8], high 2 bits at bit 2*(j/4) of scales[8 + j%4].
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "k_quants.h"
#include "k_quants_internal.h"
#include "quant_search.h"

#define BYTES 110

static int8_t get_scale(const uint8_t *scales, int j) {
    int8_t sc = (int8_t)(j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4);
    return (int8_t)((sc | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
}

static void put_scale(uint8_t *scales, int j, int l) {
    if (j < 8) scales[j] = (uint8_t)(l & 0xF);
    else scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
    l >>= 4;
    scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
}

static void requantize_and_pack(const float *x, unsigned char *y, int8_t *L) {
    const float dall = qk_fp16_to_fp32((uint16_t)(y[108] | y[109] << 8));
    for (int j = 0; j < QK_K / 16; ++j) {
        float d = dall * get_scale(y + 96, j);
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = qk_nearest_int(x[16 * j + ii] / d);
            l = l < -4 ? -4 : l > 3 ? 3 : l;
            L[16 * j + ii] = (int8_t)(l + 4);
        }
    }
    uint8_t *hmask = y;
    memset(hmask, 0, QK_K / 8);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < QK_K; ++j) {
        if (L[j] > 3) {
            hmask[m] |= hm;
            L[j] -= 4;
        }
        if (++m == QK_K / 8) m = 0, hm <<= 1;
    }
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            y[32 + j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

static void put_d(unsigned char *y, float d) {
    uint16_t h = qk_fp32_to_fp16(d);
    y[108] = (unsigned char)h, y[109] = (unsigned char)(h >> 8);
}

/* After the 16 make_q3_quants searches (no imatrix): 6-bit scales against
 * the largest |scale|, the fp16 d, requantization and packing. */
static void finish_ref(const float *x, unsigned char *y, const float *scales, int8_t *L) {
    float max_scale = 0, amax = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
        float scale = fabsf(scales[j]);
        if (scale > amax) amax = scale, max_scale = scales[j];
    }
    memset(y + 96, 0, 12);
    if (max_scale) {
        float iscale = -32.f / max_scale;
        for (int j = 0; j < QK_K / 16; ++j) {
            int8_t l = (int8_t)qk_nearest_int(iscale * scales[j]); /* int8 first, as ggml */
            int v = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
            put_scale(y + 96, j, v);
        }
        put_d(y, 1 / iscale);
    } else {
        put_d(y, 0.f);
    }
    requantize_and_pack(x, y, L);
}

static void row_ref(const float *x, unsigned char *y, int64_t k) {
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < k / QK_K; i++, x += QK_K, y += BYTES) {
        for (int j = 0; j < QK_K / 16; ++j) scales[j] = qk_make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
        finish_ref(x, y, scales, L);
    }
}

/* With an imatrix: the weights qw * sqrt(sigma2 + x^2) of one super-block
 * (sigma2 = 2 * mean x^2 over its 256 values) and their per-sub-block sums. */
static void imatrix_weights(const float *x, const float *qw, float *weight, float *sw) {
    float sumx2 = 0;
    for (int j = 0; j < QK_K; ++j) sumx2 += x[j] * x[j];
    float sigma2 = 2 * sumx2 / QK_K;
    for (int j = 0; j < QK_K / 16; ++j) {
        float *wj = weight + 16 * j;
        for (int l = 0; l < 16; ++l) wj[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        float sumw = 0;
        for (int l = 0; l < 16; ++l) sumw += wj[l];
        sw[j] = sumw;
    }
}

/* With an imatrix, after the make_qx_quants searches. */
static void finish_imatrix(const float *x, unsigned char *y, const float *scales, const float *sw, int8_t *L) {
    int8_t Ls[QK_K / 16];
    memset(y + 96, 0, 12);
    float d_block = qk_make_qx_quants(QK_K / 16, 32, scales, Ls, 1, sw);
    for (int j = 0; j < QK_K / 16; ++j) put_scale(y + 96, j, Ls[j]);
    put_d(y, d_block);
    requantize_and_pack(x, y, L);
}

static void row_imatrix(const float *x, unsigned char *y, int64_t n_per_row, const float *quant_weights) {
    int8_t L[QK_K];
    float scales[QK_K / 16], weight[QK_K], sw[QK_K / 16];
    for (int64_t i = 0; i < n_per_row / QK_K; i++, x += QK_K, y += BYTES) {
        imatrix_weights(x, quant_weights + QK_K * i, weight, sw);
        for (int j = 0; j < QK_K / 16; ++j)
            scales[j] = qk_make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight + 16 * j);
        finish_imatrix(x, y, scales, sw, L);
    }
}

size_t qk_quantize_q3_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const size_t row_size = (size_t)(n_per_row / QK_K) * BYTES;
    unsigned char *q = dst;
    for (int64_t r = 0; r < nrows; r++, src += n_per_row, q += row_size) {
        if (imatrix) row_imatrix(src, q, n_per_row, imatrix);
        else row_ref(src, q, n_per_row);
    }
    return (size_t)nrows * row_size;
}

void qk_dequantize_row_q3_k(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += BYTES) {
        const float d_all = qk_fp16_to_fp32((uint16_t)(b[108] | b[109] << 8));
        const uint8_t *q = b + 32, *hm = b;
        uint8_t m = 1;
        int is = 0;
        for (int k = 0; k < QK_K; k += 128, q += 32) {
            int shift = 0;
            for (int j = 0; j < 4; ++j, shift += 2, m <<= 1) {
                float dl = d_all * get_scale(b + 96, is++);
                for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                dl = d_all * get_scale(b + 96, is++);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            }
        }
    }
}

#if defined(__aarch64__)
/* NEON: a super-block's 16 sub-block searches as four groups of 4 lanes
 * (kq_search_neon.c: make_q3_quants without, make_qx_quants with an
 * imatrix); the rest is the scalar code, so the bytes are the scalar bytes. */
size_t qk_quantize_q3_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = n_per_row / QK_K;
    int8_t L[QK_K];
    float scales[QK_K / 16], weight[QK_K], sw[QK_K / 16];
    unsigned char *y = dst;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t i = 0; i < nb; i++, src += QK_K, y += BYTES) {
            if (imatrix) {
                imatrix_weights(src, imatrix + QK_K * i, weight, sw);
                for (int g = 0; g < 4; g++) qk_qx_search4_neon(4, src + 64 * g, weight + 64 * g, scales + 4 * g, L + 64 * g);
                finish_imatrix(src, y, scales, sw, L);
            } else {
                for (int g = 0; g < 4; g++) qk_q3_search4_neon(4, src + 64 * g, scales + 4 * g, L + 64 * g);
                finish_ref(src, y, scales, L);
            }
        }
    }
    return (size_t)(nrows * nb) * BYTES;
}
#endif
