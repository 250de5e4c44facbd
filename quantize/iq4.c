/* iq4.c - IQ4_NL and IQ4_XS: 4-bit indices into the non-linear codebook
 * kvalues = {-127,-104,-83,-65,-49,-35,-22,-10,1,13,25,38,53,69,89,113}, in
 * split-halves nibble order per 32 elements (as Q4_0).
 *
 *   IQ4_NL (32 elements)  byte 0     2                      18
 *                              +-----+----------------------+
 *                              | d   | qs[16]               |   x[j] = d * kvalues[q[j]]
 *                              +-----+----------------------+
 *   IQ4_XS (256 elements) byte 0     2          4           8                     136
 *                              +-----+----------+-----------+---------------------+
 *                              | d   | scales_h | scales_l[4]| qs[128] (8 x 16)   |
 *                              +-----+----------+-----------+---------------------+
 *     sub-block ib (32 elements): ls = (scales_l[ib/2] >> 4*(ib%2) & 15)
 *                                      | ((scales_h >> 2*ib) & 3) << 4
 *     x[j] = d * (ls - 32) * kvalues[q[j]]
 *
 * Both follow ggml's quantize_row_iq4_nl_impl with ntry = 7 (what
 * quantize_iq4_nl / quantize_iq4_xs use, with or without an imatrix): a
 * weighted least-squares fit of the scale over 15 candidate starting scales.
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "k_quants_internal.h"
#include "quant_search.h"
#include "quants_legacy.h"

static const int8_t k_values_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

/* The weights of one super-block of `super` elements (32 for IQ4_NL, 256 for
 * IQ4_XS): qw * sqrt(sigma2 + x^2) with an imatrix (sigma2 = 2 * mean x^2
 * over the super-block), else x^2. */
static void iq4_weights(int super, const float *x, const float *quant_weights, float *weight) {
    float sigma2 = 0;
    for (int j = 0; j < super; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.f / super;
    for (int j = 0; j < super; ++j)
        weight[j] = quant_weights ? quant_weights[j] * sqrtf(sigma2 + x[j] * x[j]) : x[j] * x[j];
}

/* The scale of one sub-block of 32 (0 if all |x| < QK_GROUP_MAX_EPS); Lb gets
 * the first fit's indices (ggml writes them; with ntry > 0 they are
 * recomputed against the final scale before packing). */
static float iq4_search(const float *xb, const float *weight, uint8_t *Lb, int ntry) {
    const int8_t *values = k_values_iq4nl;
    const int block = 32;
    float amax = 0, max = 0;
    for (int j = 0; j < block; ++j) {
        float ax = fabsf(xb[j]);
        if (ax > amax) {
            amax = ax;
            max = xb[j];
        }
    }
    if (amax < QK_GROUP_MAX_EPS) return 0;
    float d = ntry > 0 ? -max / values[0] : max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < block; ++j) {
        float al = id * xb[j];
        int l = qk_best_index_int8(16, values, al);
        Lb[j] = (uint8_t)l;
        float q = values[l];
        float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -ntry; itry <= ntry; ++itry) {
        id = (itry + values[0]) / max;
        sumqx = sumq2 = 0;
        for (int j = 0; j < block; ++j) {
            float al = id * xb[j];
            int l = qk_best_index_int8(16, values, al);
            float q = values[l];
            float w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* After the sub-block searches: writes *dh, q4[super/2] and, for IQ4_XS, the
 * 6-bit sub-scales, requantizing L (scratch of `super` bytes) against them. */
static void iq4_finish(int super, const float *x, uint8_t *dh, uint8_t *q4, uint8_t *scales_h, uint8_t *scales_l,
                       const float *scales, uint8_t *L, int ntry) {
    const int8_t *values = k_values_iq4nl;
    const int block = 32;
    memset(q4, 0, (size_t)super / 2);
    qk_put_u16(dh, qk_fp32_to_fp16(0.f));

    /* the largest |scale| (an all-small sub-block's 0 never wins) */
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < super / block; ++ib) {
        float abs_d = fabsf(scales[ib]);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = scales[ib];
        }
    }

    if (super / block > 1) {
        uint16_t sh = 0;
        float d = -max_scale / 32;
        qk_put_u16(dh, qk_fp32_to_fp16(d));
        float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < super / block; ++ib) {
            int l = qk_nearest_int(id * scales[ib]);
            l = QK_MAX(-32, QK_MIN(31, l));
            float dl = d * l;
            float idl = dl ? 1 / dl : 0.f;
            uint8_t *Lb = L + ib * block;
            const float *xb = x + ib * block;
            for (int j = 0; j < block; ++j) Lb[j] = (uint8_t)qk_best_index_int8(16, values, idl * xb[j]);
            l += 32;
            uint8_t l_l = (uint8_t)(l & 0xf);
            uint8_t l_h = (uint8_t)(l >> 4);
            if (ib % 2 == 0) scales_l[ib / 2] = l_l;
            else scales_l[ib / 2] |= (uint8_t)(l_l << 4);
            sh |= (uint16_t)(l_h << 2 * (ib % 8));
        }
        qk_put_u16(scales_h, sh);
    } else {
        qk_put_u16(dh, qk_fp32_to_fp16(scales[0]));
        if (ntry > 0) {
            float id = scales[0] ? 1 / scales[0] : 0;
            for (int j = 0; j < super; ++j) L[j] = (uint8_t)qk_best_index_int8(16, values, id * x[j]);
        }
    }

    for (int i = 0; i < super / 32; ++i)
        for (int j = 0; j < 16; ++j) q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

/* One super-block of `super` elements (32 for IQ4_NL, 256 for IQ4_XS) in
 * sub-blocks of 32. Writes *dh, q4[super/2] and, for IQ4_XS, the 6-bit
 * sub-scales. L is scratch of `super` bytes, scales of super/32 floats. */
static void iq4_superblock(int super, const float *x, uint8_t *dh, uint8_t *q4, uint8_t *scales_h,
                           uint8_t *scales_l, float *scales, uint8_t *L, const float *quant_weights,
                           int ntry) {
    float weight[QK_IQ4_XS_QK];
    iq4_weights(super, x, quant_weights, weight);
    for (int ib = 0; ib < super / 32; ++ib) scales[ib] = iq4_search(x + 32 * ib, weight + 32 * ib, L + 32 * ib, ntry);
    iq4_finish(super, x, dh, q4, scales_h, scales_l, scales, L, ntry);
}

size_t qk_quantize_iq4_nl(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY_QK);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    /* L persists across blocks as in ggml; with ntry = 7 every block rewrites
     * all of it, so no state leaks (kept for fidelity, not needed). */
    uint8_t L[QK_LEGACY_QK] = {0};
    float scale;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t i = 0; i < nb; i++) {
            uint8_t *b = y + (r * nb + i) * QK_IQ4_NL_BYTES;
            const float *qw = imatrix ? imatrix + QK_LEGACY_QK * i : NULL;
            iq4_superblock(QK_LEGACY_QK, src + r * n_per_row + i * QK_LEGACY_QK, b, b + 2, NULL, NULL, &scale,
                           L, qw, 7);
        }
    }
    return (size_t)(nrows * nb * QK_IQ4_NL_BYTES);
}

size_t qk_quantize_iq4_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_IQ4_XS_QK);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    uint8_t L[QK_IQ4_XS_QK] = {0};
    float scales[QK_IQ4_XS_QK / 32];
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t i = 0; i < nb; i++) {
            uint8_t *b = y + (r * nb + i) * QK_IQ4_XS_BYTES;
            const float *qw = imatrix ? imatrix + QK_IQ4_XS_QK * i : NULL;
            iq4_superblock(QK_IQ4_XS_QK, src + r * n_per_row + i * QK_IQ4_XS_QK, b, b + 8, b + 2, b + 4, scales,
                           L, qw, 7);
        }
    }
    return (size_t)(nrows * nb * QK_IQ4_XS_BYTES);
}

#if defined(__aarch64__)
/* NEON: the sub-block scale searches run 4 at a time (kq_search_neon.c,
 * ntry = 7 as above), with and without an imatrix; weights and everything
 * after the search are the scalar code, so the bytes are the scalar bytes.
 * IQ4_NL: 4 consecutive blocks of a row per search (the row's last nb % 4
 * blocks take the scalar path); IQ4_XS: a super-block's 8 sub-blocks as two. */
size_t qk_quantize_iq4_nl_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY_QK);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    uint8_t L[QK_LEGACY_QK] = {0};
    float weight[4 * QK_LEGACY_QK], scales[4];
    for (int64_t r = 0; r < nrows; r++) {
        const float *xr = src + r * n_per_row;
        int64_t i = 0;
        for (; i + 4 <= nb; i += 4) {
            for (int k = 0; k < 4; k++)
                iq4_weights(QK_LEGACY_QK, xr + (i + k) * QK_LEGACY_QK,
                            imatrix ? imatrix + QK_LEGACY_QK * (i + k) : NULL, weight + QK_LEGACY_QK * k);
            qk_iq4_search4_neon(xr + i * QK_LEGACY_QK, weight, scales);
            for (int k = 0; k < 4; k++) {
                uint8_t *b = y + (r * nb + i + k) * QK_IQ4_NL_BYTES;
                iq4_finish(QK_LEGACY_QK, xr + (i + k) * QK_LEGACY_QK, b, b + 2, NULL, NULL, scales + k, L, 7);
            }
        }
        for (; i < nb; i++) {
            uint8_t *b = y + (r * nb + i) * QK_IQ4_NL_BYTES;
            float scale;
            iq4_superblock(QK_LEGACY_QK, xr + i * QK_LEGACY_QK, b, b + 2, NULL, NULL, &scale, L,
                           imatrix ? imatrix + QK_LEGACY_QK * i : NULL, 7);
        }
    }
    return (size_t)(nrows * nb * QK_IQ4_NL_BYTES);
}

size_t qk_quantize_iq4_xs_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_IQ4_XS_QK);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    uint8_t L[QK_IQ4_XS_QK] = {0};
    float weight[QK_IQ4_XS_QK], scales[QK_IQ4_XS_QK / 32];
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t i = 0; i < nb; i++) {
            uint8_t *b = y + (r * nb + i) * QK_IQ4_XS_BYTES;
            const float *x = src + r * n_per_row + i * QK_IQ4_XS_QK;
            iq4_weights(QK_IQ4_XS_QK, x, imatrix ? imatrix + QK_IQ4_XS_QK * i : NULL, weight);
            qk_iq4_search4_neon(x, weight, scales);
            qk_iq4_search4_neon(x + 128, weight + 128, scales + 4);
            iq4_finish(QK_IQ4_XS_QK, x, b, b + 8, b + 2, b + 4, scales, L, 7);
        }
    }
    return (size_t)(nrows * nb * QK_IQ4_XS_BYTES);
}
#endif

void qk_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY_QK; i++) {
        const uint8_t *b = x + i * QK_IQ4_NL_BYTES;
        float *y = dst + i * QK_LEGACY_QK;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        for (int j = 0; j < 16; ++j) {
            y[j] = d * k_values_iq4nl[b[2 + j] & 0xf];
            y[j + 16] = d * k_values_iq4nl[b[2 + j] >> 4];
        }
    }
}

void qk_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_IQ4_XS_QK; i++) {
        const uint8_t *b = x + i * QK_IQ4_XS_BYTES;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        const uint16_t scales_h = qk_get_u16(b + 2);
        const uint8_t *scales_l = b + 4;
        const uint8_t *qs = b + 8;
        float *y = dst + i * QK_IQ4_XS_QK;
        for (int ib = 0; ib < QK_IQ4_XS_QK / 32; ++ib) {
            const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j + 0] = dl * k_values_iq4nl[qs[j] & 0xf];
                y[j + 16] = dl * k_values_iq4nl[qs[j] >> 4];
            }
            y += 32;
            qs += 16;
        }
    }
}
