/* iq3.c - IQ3_XXS and IQ3_S (ggml-quants.c of the pinned release:
 * quantize_row_iq3_xxs_impl, quantize_row_iq3_s_impl, their dequantizers).
 *
 * A super-block of 256 is 8 sub-blocks of 32; a group of 4 stores one grid
 * point (coordinates c), a group of 8 its signs.
 *
 *   IQ3_XXS (98 bytes)  | d f16 | grid[64] (8 bits, one per group of 4) |
 *                       per sub-block u32: 4 x 7 sign bits, scale nibble << 28 |
 *                       x = d * (0.5 + s) / 2 * c * sign,  c in {4, 12, ..., 52, 62}
 *   IQ3_S  (110 bytes)  | d f16 | qs[64] grid low bytes | qh[8] grid bit 8 |
 *                       signs[32] (8 bits per group of 8) | scales[4] nibbles |
 *                       x = d * (1 + 2s) * c * sign,  c in {1, 3, ..., 15}
 *
 * The stored d carries ggml's fudge factors (1.0125 for XXS, 1.033 for S)
 * while the scale nibbles are computed against max/31 without them.
 * IQ3_S quirk kept for byte identity: a sub-block whose max |x| is 0 writes
 * no grid bytes or signs, so those of the following sub-blocks move up
 * (ggml advances its output pointers only for non-zero sub-blocks).
 */
#include "iq3.h"

#include <math.h>
#include <string.h>

#include "iq_search.h"
#include "kernel_util.h"

static void iq3_xxs_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    const iq_scan scan = {32, 8, -15, 15, 0.2f, IQ_REFINE_OFFGRID, ops->nb};
    float scales[8], weight[32], waux[32], xval[32];
    int8_t L[32];
    uint8_t signs[4], q3[64];
    uint32_t ss[8];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq3_xxs)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 2, y, sizeof(qk_block_iq3_xxs));
        memset(q3, 0, sizeof q3);
        memset(ss, 0, sizeof ss);
        for (int ib = 0; ib < 8; ++ib) {
            const float *xb = iq_sub_block(&sb, ib, 32, weight);
            iq_sqrt(32, weight, waux);
            for (int k = 0; k < 4; ++k) signs[k] = iq_signs_even(xb + 8 * k, weight + 8 * k, xval + 8 * k);
            float max = iq_max(xval, 32);
            memset(L, 0, 32);
            if (max < QK_GROUP_MAX_EPS_IQ3_XXS) {
                scales[ib] = 0;
                continue;
            }
            float scale = ops->scan(lat, &scan, max, max / (2 * 8 - 1), xval, weight, waux, L);
            if (scale < 0) {
                scale = -scale;
                for (int k = 0; k < 4; ++k) signs[k] = (uint8_t)(~signs[k] & 127);
            }
            for (int k = 0; k < 8; ++k) q3[8 * ib + k] = (uint8_t)iq_on_grid_point(lat, L + 4 * k);
            ss[ib] = signs[0] | (uint32_t)signs[1] << 7 | (uint32_t)signs[2] << 14 | (uint32_t)signs[3] << 21;
            scales[ib] = scale;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (!sb.max_scale) continue;
        const float id = iq_super_end(&sb, y, 31, 1.0125f);
        uint8_t *qs = y + offsetof(qk_block_iq3_xxs, qs);
        memcpy(qs, q3, 64);
        for (int ib = 0; ib < 8; ++ib) {
            uint32_t v = ss[ib] | (uint32_t)iq_scale_level(id, scales[ib], 15) << 28;
            for (int b = 0; b < 4; ++b) qs[64 + 4 * ib + b] = (uint8_t)(v >> (8 * b));
        }
    }
}

static void iq3_xxs_block(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    const uint8_t *qs = b + offsetof(qk_block_iq3_xxs, qs);
    const uint8_t *ss = qs + QK_K / 4;
    for (int ib = 0; ib < 8; ++ib) {
        const uint32_t a = (uint32_t)ss[4 * ib] | (uint32_t)ss[4 * ib + 1] << 8 |
                           (uint32_t)ss[4 * ib + 2] << 16 | (uint32_t)ss[4 * ib + 3] << 24;
        const float db = d * (0.5f + (a >> 28)) * 0.5f;
        for (int l = 0; l < 4; ++l) {
            const uint8_t signs = qk_iq_signs8(a >> (7 * l));
            const uint32_t g1 = qk_iq3xxs_grid[qs[2 * l + 0]], g2 = qk_iq3xxs_grid[qs[2 * l + 1]];
            for (int j = 0; j < 4; ++j) {
                y[j + 0] = db * (uint8_t)(g1 >> (8 * j)) * (signs & (1u << j) ? -1.f : 1.f);
                y[j + 4] = db * (uint8_t)(g2 >> (8 * j)) * (signs & (1u << (j + 4)) ? -1.f : 1.f);
            }
            y += 8;
        }
        qs += 8;
    }
}

IQ_KERNELS(iq3_xxs, QK_LATTICE_IQ3XXS, false, qk_block_iq3_xxs, iq3_xxs_row, iq3_xxs_block)

static void iq3_s_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    const iq_scan scan = {32, 8, -9, 9, 0.2f, IQ_REFINE_ALL_IF_OFFGRID, ops->nb};
    float scales[8], weight[32], waux[32], xval[32];
    int8_t L[32];
    uint8_t bsigns[4];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq3_s)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 2, y, sizeof(qk_block_iq3_s));
        uint8_t *qs = y + offsetof(qk_block_iq3_s, qs), *qh = y + offsetof(qk_block_iq3_s, qh);
        uint8_t *signs = y + offsetof(qk_block_iq3_s, signs);
        for (int ib = 0; ib < 8; ++ib) {
            const float *xb = iq_sub_block(&sb, ib, 32, weight);
            iq_sqrt(32, weight, waux);
            for (int k = 0; k < 4; ++k) bsigns[k] = iq_signs_all(xb + 8 * k, xval + 8 * k);
            float max = iq_max(xval, 32);
            memset(L, 0, 32);
            if (!max) {
                scales[ib] = 0;
                continue; /* qs and signs do not advance (see the top) */
            }
            float scale = ops->scan(lat, &scan, max, max / (2 * 8 - 1), xval, weight, waux, L);
            if (scale < 0) {
                scale = -scale;
                for (int k = 0; k < 4; ++k) bsigns[k] = (uint8_t)~bsigns[k];
            }
            for (int k = 0; k < 8; ++k) {
                const int gi = iq_on_grid_point(lat, L + 4 * k);
                qs[k] = (uint8_t)(gi & 255);
                qh[(ib * 8 + k) / 8] |= (uint8_t)((gi >> 8) << ((ib * 8 + k) % 8));
            }
            qs += 8;
            memcpy(signs, bsigns, 4);
            signs += 4;
            scales[ib] = scale;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (!sb.max_scale) continue;
        const float id = iq_super_end(&sb, y, 31, 1.033f);
        uint8_t *sc = y + offsetof(qk_block_iq3_s, scales);
        for (int ib = 0; ib < 8; ib += 2)
            sc[ib / 2] = (uint8_t)(iq_scale_level(id, scales[ib], 15) | iq_scale_level(id, scales[ib + 1], 15) << 4);
    }
}

static void iq3_s_block(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    const uint8_t *qs = b + offsetof(qk_block_iq3_s, qs), *qh = b + offsetof(qk_block_iq3_s, qh);
    const uint8_t *signs = b + offsetof(qk_block_iq3_s, signs), *sc = b + offsetof(qk_block_iq3_s, scales);
    for (int ib = 0; ib < 8; ib += 2) {
        const float dbs[2] = {d * (1 + 2 * (sc[ib / 2] & 0xf)), d * (1 + 2 * (sc[ib / 2] >> 4))};
        for (int h = 0; h < 2; ++h) {
            const float db = dbs[h];
            for (int l = 0; l < 4; ++l) {
                const uint32_t g1 = qk_iq3s_grid[qs[2 * l + 0] | ((qh[h] << (8 - 2 * l)) & 256)];
                const uint32_t g2 = qk_iq3s_grid[qs[2 * l + 1] | ((qh[h] << (7 - 2 * l)) & 256)];
                for (int j = 0; j < 4; ++j) {
                    y[j + 0] = db * (uint8_t)(g1 >> (8 * j)) * (signs[l] & (1u << j) ? -1.f : 1.f);
                    y[j + 4] = db * (uint8_t)(g2 >> (8 * j)) * (signs[l] & (1u << (j + 4)) ? -1.f : 1.f);
                }
                y += 8;
            }
            qs += 8;
            signs += 4;
        }
        qh += 2;
    }
}

IQ_KERNELS(iq3_s, QK_LATTICE_IQ3S, false, qk_block_iq3_s, iq3_s_row, iq3_s_block)
