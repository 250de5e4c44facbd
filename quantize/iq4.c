/* iq4.c - IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear codebook.
 *
 *   IQ4_NL (18 bytes / 32 weights):  | d fp16 | qs[16] |
 *   IQ4_XS (136 bytes / 256 weights): | d fp16 | scales_h u16 | scales_l[4] | qs[128] |
 *   weight = d * kvalues[q]  (IQ4_XS: d * (ls - 32) * kvalues[q], ls a 6-bit
 *   sub-block scale: low 4 bits in nibble ib%2 of scales_l[ib/2], high 2
 *   bits at bit 2*ib of scales_h). qs nibbles are split halves per 32.
 *
 * Both go through one search (ggml's quantize_row_iq4_nl_impl): per block of
 * 32 a least-squares scale, refined over ntry candidate scales; llama-quantize
 * uses ntry = 7 for both (quantize_iq4_nl / quantize_iq4_xs; the _ref row
 * function of IQ4_NL uses -1 and is NOT what llama-quantize writes).
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "iq4.h"
#include "quant_search.h"

static const int8_t kvalues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static int best_index(const int8_t *val, float x) {
    if (x <= val[0]) return 0;
    if (x >= val[15]) return 15;
    int ml = 0, mu = 15;
    while (mu - ml > 1) {
        int mav = (ml + mu) / 2;
        if (x < val[mav]) mu = mav;
        else ml = mav;
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

/* One super-block (32 for IQ4_NL, 256 for IQ4_XS) in blocks of 32. */
static void super_block(int sbs, const float *x, uint16_t *dh, uint8_t *q4, uint16_t *scales_h, uint8_t *scales_l,
                        const float *quant_weights, int ntry) {
    float scales[8], weight[32];
    uint8_t L[256];
    const int bs = 32;
    float sigma2 = 0;
    for (int j = 0; j < sbs; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.f / sbs;
    memset(q4, 0, (size_t)sbs / 2);
    *dh = qk_fp32_to_fp16(0.f);
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < sbs / bs; ++ib) {
        const float *xb = x + ib * bs;
        uint8_t *Lb = L + ib * bs;
        if (quant_weights) {
            const float *qw = quant_weights + ib * bs;
            for (int j = 0; j < bs; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        } else {
            for (int j = 0; j < bs; ++j) weight[j] = xb[j] * xb[j];
        }
        float amax = 0, max = 0;
        for (int j = 0; j < bs; ++j) {
            float ax = fabsf(xb[j]);
            if (ax > amax) amax = ax, max = xb[j];
        }
        if (amax < QK_GROUP_MAX_EPS) {
            scales[ib] = 0;
            continue;
        }
        float d = ntry > 0 ? -max / kvalues[0] : max / kvalues[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < bs; ++j) {
            float al = id * xb[j];
            int l = best_index(kvalues, al);
            Lb[j] = (uint8_t)l;
            float q = kvalues[l];
            float w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; ++itry) {
            id = (itry + kvalues[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < bs; ++j) {
                float al = id * xb[j];
                int l = best_index(kvalues, al);
                float q = kvalues[l];
                float w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        float abs_d = fabsf(d);
        if (abs_d > amax_scale) amax_scale = abs_d, max_scale = d;
    }
    if (sbs / bs > 1) {
        *scales_h = 0;
        float d = -max_scale / 32;
        *dh = qk_fp32_to_fp16(d);
        float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < sbs / bs; ++ib) {
            int l = qk_nearest_int(id * scales[ib]);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            float dl = d * l;
            float idl = dl ? 1 / dl : 0.f;
            uint8_t *Lb = L + ib * bs;
            const float *xb = x + ib * bs;
            for (int j = 0; j < bs; ++j) Lb[j] = (uint8_t)best_index(kvalues, idl * xb[j]);
            l += 32;
            uint8_t l_l = (uint8_t)(l & 0xf), l_h = (uint8_t)(l >> 4);
            if (ib % 2 == 0) scales_l[ib / 2] = l_l;
            else scales_l[ib / 2] |= (uint8_t)(l_l << 4);
            *scales_h |= (uint16_t)(l_h << 2 * (ib % 8));
        }
    } else {
        *dh = qk_fp32_to_fp16(scales[0]);
        if (ntry > 0) {
            float id = scales[0] ? 1 / scales[0] : 0;
            for (int j = 0; j < sbs; ++j) L[j] = (uint8_t)best_index(kvalues, id * x[j]);
        }
    }
    for (int i = 0; i < sbs / 32; ++i)
        for (int j = 0; j < 16; ++j) q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

static void put_u16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }

size_t qk_quantize_iq4_nl(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nblock = n_per_row / 32;
    unsigned char *q = dst;
    for (int64_t r = 0; r < nrows; r++, src += n_per_row) {
        for (int64_t b = 0; b < nblock; b++, q += 18) {
            uint16_t dh, unused_h;
            super_block(32, src + 32 * b, &dh, q + 2, &unused_h, NULL, imatrix ? imatrix + 32 * b : NULL, 7);
            put_u16(q, dh);
        }
    }
    return (size_t)(nrows * nblock) * 18;
}

size_t qk_quantize_iq4_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nblock = n_per_row / 256;
    unsigned char *q = dst;
    for (int64_t r = 0; r < nrows; r++, src += n_per_row) {
        for (int64_t b = 0; b < nblock; b++, q += 136) {
            uint16_t dh, sh;
            super_block(256, src + 256 * b, &dh, q + 8, &sh, q + 4, imatrix ? imatrix + 256 * b : NULL, 7);
            put_u16(q, dh);
            put_u16(q + 2, sh);
        }
    }
    return (size_t)(nrows * nblock) * 136;
}

void qk_dequantize_row_iq4_nl(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 18, y += 32) {
        const float d = qk_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
        for (int j = 0; j < 16; ++j) {
            y[j] = d * kvalues[b[2 + j] & 0xf];
            y[j + 16] = d * kvalues[b[2 + j] >> 4];
        }
    }
}

void qk_dequantize_row_iq4_xs(const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / 256; i++, b += 136) {
        const float d = qk_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
        const uint16_t sh = (uint16_t)(b[2] | b[3] << 8);
        const uint8_t *qs = b + 8;
        for (int ib = 0; ib < 8; ++ib, y += 32, qs += 16) {
            const int ls = ((b[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((sh >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j] = dl * kvalues[qs[j] & 0xf];
                y[j + 16] = dl * kvalues[qs[j] >> 4];
            }
        }
    }
}
