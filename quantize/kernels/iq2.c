/* iq2.c - IQ2_XXS, IQ2_XS and IQ2_S (ggml-quants.c of the pinned release:
 * quantize_row_iq2_xxs_impl, _xs_impl, _s_impl and their dequantizers).
 *
 * A super-block of 256 is 8 sub-blocks of 32 (XXS) or 16 of 16 (XS, S); a
 * group of 8 stores one grid point g (coordinates c in {8, 25, 43}) and
 * signs; x[j] = d * scale(sub-block) * c_j * sign_j.
 *
 *   IQ2_XXS (66 bytes)  | d f16 | per sub-block of 32: u32 grid[4] (8 bits
 *                       each) | u32 signs: 4 x 7 bits, scale nibble << 28 |
 *                       x = d * (0.5 + s) / 4 * c * sign
 *   IQ2_XS  (74 bytes)  | d f16 | u16 qs[32]: grid (9 bits) | 7 sign bits << 9
 *                       | scales[8]: two nibbles (sub-blocks of 16) |
 *   IQ2_S   (82 bytes)  | d f16 | qs[32] grid low bytes | qs[32] 8-bit signs |
 *                       qh[8]: grid bits 8-9, 2 per group | scales[8] |
 *
 * 7 stored sign bits mean the 8th makes the count of negatives even
 * (qk_iq_signs8): the quantizer flips the least important element's sign
 * when the count is odd (iq_signs_even). Each sub-block scans candidate
 * scales over the grid (iq_scan_scale); the sub-block scales are then
 * quantized to 4 bits against max/31 (IQ2_S stores d * 0.9875 and IQ2_XXS
 * starts its scan from make_qp_quants, as ggml).
 */
#include "iq2.h"

#include <math.h>
#include <string.h>

#include "iq_search.h"
#include "kernel_util.h"

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- IQ2_XXS ---------------------------------------------------------- */

/* A super-block's sub-blocks are independent until their scales meet in
 * iq_super_end, so the row prepares all eight first, then runs
 * make_qp_quants IQ_QPN at a time (ops->qpn overlaps their latency chains),
 * then the scans: the same per-sub-block steps as ggml's loop. */
static void iq2_xxs_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    const int kmaxq = 3;
    const iq_scan scan = {32, kmaxq, -6, 6, 0.1f, IQ_REFINE_ALWAYS, ops->nb};
    float scales[8], weight[8][32], waux[8][32], xval[8][32], qps[8];
    int8_t L[8][32];
    uint8_t signs[8][4];
    uint32_t q2[16];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq2_xxs)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 1, y, sizeof(qk_block_iq2_xxs));
        memset(q2, 0, sizeof q2);
        int live[8], nlive = 0;
        for (int ib = 0; ib < 8; ++ib) {
            const float *xb = iq_sub_block(&sb, ib, 32, weight[ib]);
            iq_sqrt(32, weight[ib], waux[ib]);
            for (int k = 0; k < 4; ++k)
                signs[ib][k] = iq_signs_even(xb + 8 * k, weight[ib] + 8 * k, xval[ib] + 8 * k);
            qps[ib] = 0;
            if (iq_max(xval[ib], 32) >= QK_GROUP_MAX_EPS) live[nlive++] = ib;
        }
        int j = 0;
        for (; j + IQ_QPN <= nlive; j += IQ_QPN) {
            const float *xs[IQ_QPN], *ws[IQ_QPN];
            uint8_t *ls[IQ_QPN];
            float out[IQ_QPN];
            for (int k = 0; k < IQ_QPN; ++k) {
                xs[k] = xval[live[j + k]];
                ws[k] = weight[live[j + k]];
                ls[k] = (uint8_t *)L[live[j + k]];
            }
            ops->qpn(32, kmaxq + 1, xs, ls, ws, out);
            for (int k = 0; k < IQ_QPN; ++k) qps[live[j + k]] = out[k];
        }
        for (; j < nlive; ++j) qps[live[j]] = ops->qp(32, kmaxq + 1, xval[live[j]], (uint8_t *)L[live[j]], weight[live[j]]);
        for (int ib = 0; ib < 8; ++ib) {
            float scale = qps[ib];
            const float eff_max = scale * kmaxq;
            if (eff_max <= 0) { /* all zero, or make_qp_quants found no scale */
                scales[ib] = 0;
                continue;
            }
            scale = ops->scan(lat, &scan, eff_max, scale, xval[ib], weight[ib], waux[ib], L[ib]);
            if (scale < 0) {
                scale = -scale;
                for (int k = 0; k < 4; ++k) signs[ib][k] = (uint8_t)(~signs[ib][k] & 127);
            }
            for (int k = 0; k < 4; ++k) {
                q2[2 * ib + 0] |= (uint32_t)iq_on_grid_point(lat, L[ib] + 8 * k) << (8 * k);
                q2[2 * ib + 1] |= (uint32_t)signs[ib][k] << (7 * k);
            }
            scales[ib] = scale;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (!sb.max_scale) continue; /* the block stays all zero */
        const float id = iq_super_end(&sb, y, 31, 1.f);
        for (int ib = 0; ib < 8; ++ib) q2[2 * ib + 1] |= (uint32_t)iq_scale_level(id, scales[ib], 15) << 28;
        for (int i = 0; i < 16; ++i) put_u32(y + offsetof(qk_block_iq2_xxs, qs) + 4 * i, q2[i]);
    }
}

static void iq2_xxs_block(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    const uint8_t *qs = b + offsetof(qk_block_iq2_xxs, qs);
    for (int ib = 0; ib < 8; ++ib) {
        const uint32_t a1 = get_u32(qs + 8 * ib + 4);
        const float db = d * (0.5f + (a1 >> 28)) * 0.25f;
        for (int l = 0; l < 4; ++l) {
            const uint64_t g = qk_iq2xxs_grid[qs[8 * ib + l]];
            const uint8_t signs = qk_iq_signs8(a1 >> (7 * l));
            for (int j = 0; j < 8; ++j)
                y[j] = db * (uint8_t)(g >> (8 * j)) * (signs & (1u << j) ? -1.f : 1.f);
            y += 8;
        }
    }
}

IQ_KERNELS(iq2_xxs, QK_LATTICE_IQ2XXS, true, qk_block_iq2_xxs, iq2_xxs_row, iq2_xxs_block)

/* ---- IQ2_XS and IQ2_S: sub-blocks of 16 -------------------------------- */

/* One sub-block of 16: levels L, signs, returns the scale (0: all zero). */
static float iq2_sub16(const qk_lattice *lat, const iq_ops *ops, const float *xb, const float *weight, bool even_signs,
                       int8_t *L, uint8_t signs[2]) {
    const iq_scan scan = {16, 3, -9, 9, 0.1f, IQ_REFINE_OFFGRID, ops->nb};
    float waux[16], xval[16];
    iq_sqrt(16, weight, waux);
    for (int k = 0; k < 2; ++k)
        signs[k] = even_signs ? iq_signs_even(xb + 8 * k, weight + 8 * k, xval + 8 * k)
                              : iq_signs_all(xb + 8 * k, xval + 8 * k);
    float max = iq_max(xval, 16);
    memset(L, 0, 16);
    if (max < (even_signs ? QK_GROUP_MAX_EPS : QK_GROUP_MAX_EPS_IQ2_S)) return -1;
    float scale = ops->scan(lat, &scan, max, max / (2 * 3 - 1), xval, weight, waux, L);
    if (scale < 0) {
        scale = -scale;
        for (int k = 0; k < 2; ++k) signs[k] = even_signs ? (uint8_t)(~signs[k] & 127) : (uint8_t)~signs[k];
    }
    return scale;
}

/* The 16 sub-block scales as nibbles at inverse scale id (two per byte). */
static void pack_scales16(const float *scales, float id, uint8_t *out) {
    for (int ib = 0; ib < 16; ++ib) {
        int l = iq_scale_level(id, scales[ib], 15);
        if (ib % 2 == 0) out[ib / 2] = (uint8_t)l;
        else out[ib / 2] |= (uint8_t)(l << 4);
    }
}

static void iq2_xs_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    float scales[16], weight[16];
    int8_t L[16];
    uint8_t signs[2];
    uint16_t q2[32];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq2_xs)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 1, y, sizeof(qk_block_iq2_xs));
        memset(q2, 0, sizeof q2);
        for (int ib = 0; ib < 16; ++ib) {
            const float *xb = iq_sub_block(&sb, ib, 16, weight);
            float scale = iq2_sub16(lat, ops, xb, weight, true, L, signs);
            if (scale == -1) {
                scales[ib] = 0;
                continue;
            }
            for (int k = 0; k < 2; ++k)
                q2[2 * ib + k] = (uint16_t)(iq_on_grid_point(lat, L + 8 * k) | (signs[k] << 9));
            scales[ib] = scale;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (!sb.max_scale) continue; /* the block stays all zero */
        pack_scales16(scales, iq_super_end(&sb, y, 31, 1.f), y + offsetof(qk_block_iq2_xs, scales));
        for (int i = 0; i < 32; ++i) qk_put_u16(y + offsetof(qk_block_iq2_xs, qs) + 2 * i, q2[i]);
    }
}

static void iq2_xs_block(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    const uint8_t *qs = b + offsetof(qk_block_iq2_xs, qs);
    const uint8_t *sc = b + offsetof(qk_block_iq2_xs, scales);
    for (int ib = 0; ib < 8; ++ib) {
        float db[2];
        db[0] = d * (0.5f + (sc[ib] & 0xf)) * 0.25f;
        db[1] = d * (0.5f + (sc[ib] >> 4)) * 0.25f;
        for (int l = 0; l < 4; ++l) {
            const uint16_t q = qk_get_u16(qs + 2 * (4 * ib + l));
            const uint64_t g = qk_iq2xs_grid[q & 511];
            const uint8_t signs = qk_iq_signs8(q >> 9);
            for (int j = 0; j < 8; ++j)
                y[j] = db[l / 2] * (uint8_t)(g >> (8 * j)) * (signs & (1u << j) ? -1.f : 1.f);
            y += 8;
        }
    }
}

IQ_KERNELS(iq2_xs, QK_LATTICE_IQ2XS, true, qk_block_iq2_xs, iq2_xs_row, iq2_xs_block)

static void iq2_s_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    float scales[16], weight[16];
    int8_t L[16];
    uint8_t signs[2];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq2_s)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 2, y, sizeof(qk_block_iq2_s));
        uint8_t *qs = y + offsetof(qk_block_iq2_s, qs), *qh = y + offsetof(qk_block_iq2_s, qh);
        for (int ib = 0; ib < 16; ++ib) {
            const float *xb = iq_sub_block(&sb, ib, 16, weight);
            if (!qwr)
                for (int i = 0; i < 16; ++i) weight[i] = 0.25f * sb.sigma2 + xb[i] * xb[i];
            float scale = iq2_sub16(lat, ops, xb, weight, false, L, signs);
            if (scale == -1) {
                scales[ib] = 0;
                continue;
            }
            for (int k = 0; k < 2; ++k) {
                const int gi = iq_on_grid_point(lat, L + 8 * k), i8 = 2 * ib + k;
                qs[i8] = (uint8_t)(gi & 255);
                qh[i8 / 4] |= (uint8_t)((gi >> 8) << 2 * (i8 % 4));
                qs[QK_K / 8 + i8] = signs[k];
            }
            scales[ib] = scale;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (!sb.max_scale) continue;
        pack_scales16(scales, iq_super_end(&sb, y, 31, 0.9875f), y + offsetof(qk_block_iq2_s, scales));
    }
}

static void iq2_s_block(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    const uint8_t *qs = b + offsetof(qk_block_iq2_s, qs), *qh = b + offsetof(qk_block_iq2_s, qh);
    const uint8_t *signs = qs + QK_K / 8, *sc = b + offsetof(qk_block_iq2_s, scales);
    for (int ib = 0; ib < 8; ++ib) {
        float db[2];
        db[0] = d * (0.5f + (sc[ib] & 0xf)) * 0.25f;
        db[1] = d * (0.5f + (sc[ib] >> 4)) * 0.25f;
        for (int l = 0; l < 4; ++l) {
            const float dl = db[l / 2];
            const uint64_t g = qk_iq2s_grid[qs[l] | ((qh[ib] << (8 - 2 * l)) & 0x300)];
            for (int j = 0; j < 8; ++j)
                y[j] = dl * (uint8_t)(g >> (8 * j)) * (signs[l] & (1u << j) ? -1.f : 1.f);
            y += 8;
        }
        qs += 4;
        signs += 4;
    }
}

IQ_KERNELS(iq2_s, QK_LATTICE_IQ2S, false, qk_block_iq2_s, iq2_s_row, iq2_s_block)
