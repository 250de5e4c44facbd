/* iq1.c - IQ1_S and IQ1_M (ggml-quants.c of the pinned release:
 * quantize_row_iq1_s_impl, quantize_row_iq1_m_impl, their dequantizers).
 *
 *   IQ1_S (50 bytes)  | d f16 | qs[32] grid low bytes | qh u16[8], per
 *                     sub-block of 32: 4 x 3 grid high bits | 3-bit scale s
 *                     << 12 | delta sign << 15 |
 *                     x = d * (2s + 1) * (g + delta), g in {-1,0,1}, delta = +-1/8
 *   IQ1_M (56 bytes)  | qs[32] | qh[16]: per group of 8, 3 grid high bits and
 *                     the delta sign (bit 3 / bit 7) | scales u16[4]: sixteen
 *                     3-bit sub-block scales (sub-blocks of 16); the fp16
 *                     super-block scale spread over their top nibbles |
 *
 * Each sub-block is fitted exactly: with three levels, the best split of the
 * sorted values into (-1, 0, +1) is found by trying every pair of cut points
 * (the sort is iq_sort.h's: ggml's qsort order on glibc, ties and NaN
 * included). A level vector that is
 * not a grid point moves to the nearest neighbour (iq_grids.h, 3 distances).
 */
#include "iq1.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "iq_search.h"
#include "kernel_util.h"

#define IQ1_DELTA 0.125f

/* The grid point of levels L (group of 8), or its nearest neighbour (nbf)
 * with levels mapped through xx, one of the shifted level sets. */
static int group_point(const qk_lattice *lat, iq_nb_fn nbf, const float *xb, const float *weight, float scale,
                       const float *xx, int8_t *L, bool *all_on_grid) {
    int u = iq_pack(lat, L);
    int gi = lat->map[u];
    if (gi < 0) {
        *all_on_grid = false;
        gi = nbf(lat, iq_neighbours(lat, u), xb, weight, scale, xx, L);
    }
    return gi;
}

/* The largest |v[i]|, in order (NaN as QK_MAX passes it on). */
static float absmax(const float *v, int n) {
    float max = fabsf(v[0]);
    for (int i = 1; i < n; ++i) max = QK_MAX(max, fabsf(v[i]));
    return max;
}

/* Sub-block ib (n elements) of the super-block: its floats (search weights
 * into weight), *max their largest |x| and pairs their sort; NULL, unsorted,
 * when *max < eps (ggml leaves such a sub-block at scale 0; a NaN max goes
 * on, as in ggml). */
static const float *sorted_sub_block(const iq_super *sb, int ib, int n, float eps, float *weight, iq_pair *pairs,
                                     float *max, const iq_ops *ops) {
    const float *xb = iq_sub_block(sb, ib, n, weight);
    *max = absmax(xb, n);
    if (*max < eps) return NULL;
    ops->sort(xb, n, pairs);
    return xb;
}

/* The levels of the best split (i1, i2) of the sorted pairs into 0, 1, 2;
 * with a negative scale mirrored (2 - L) and the scale made positive.
 * Returns true if the scale was negative (the caller flips its shift). */
static bool split_levels(const iq_pair *pairs, int n, int i1, int i2, float *scale, int8_t *L) {
    for (int j = 0; j < i1; ++j) L[pairs[j].i] = 0;
    for (int j = i1; j < i2; ++j) L[pairs[j].i] = 1;
    for (int j = i2; j < n; ++j) L[pairs[j].i] = 2;
    if (!(*scale < 0)) return false; /* NaN: kept, as ggml's `if (scale < 0)` */
    for (int j = 0; j < n; ++j) L[j] = (int8_t)(2 - L[j]);
    *scale = -*scale;
    return true;
}

/* The scale refitted to the grid points index[0..ngroups-1] (group k's
 * levels through xx[k]); the given scale unless the fit is positive. */
static float refit_scale(const qk_lattice *lat, const uint16_t *index, int ngroups, const float *const *xx,
                         const float *xb, const float *weight, float scale) {
    float sumqx = 0, sumq2 = 0;
    for (int k = 0; k < ngroups; ++k) {
        const int8_t *pg = lat->pos + index[k] * 8;
        for (int j = 0; j < 8; ++j) {
            float w = weight[8 * k + j];
            float q = xx[k][(pg[j] - 1) / 2];
            sumqx += w * q * xb[8 * k + j];
            sumq2 += w * q * q;
        }
    }
    return sumqx > 0 && sumq2 > 0 ? sumqx / sumq2 : scale;
}

/* ---- IQ1_S ------------------------------------------------------------- */

static void iq1_s_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    const float x_p[3] = {-1 + IQ1_DELTA, IQ1_DELTA, 1 + IQ1_DELTA};
    const float x_m[3] = {-1 - IQ1_DELTA, -IQ1_DELTA, 1 - IQ1_DELTA};
    float scales[8], weight[32], sumx[33], sumw[33];
    int8_t L[32], shifts[8];
    uint16_t index[4], qh[8];
    iq_pair pairs[32];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq1_s)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 2, y, sizeof(qk_block_iq1_s));
        memset(qh, 0, sizeof qh);
        memset(scales, 0, sizeof scales); /* what a sub-block skipped below keeps: scale 0, shift +1 */
        memset(shifts, 1, sizeof shifts);
        uint8_t *qs = y + offsetof(qk_block_iq1_s, qs);
        for (int ib = 0; ib < 8; ++ib) {
            float max;
            const float *xb = sorted_sub_block(&sb, ib, 32, QK_GROUP_MAX_EPS_IQ1_S, weight, pairs, &max, ops);
            if (!xb) continue;
            sumx[0] = sumw[0] = 0;
            for (int j = 0; j < 32; ++j) {
                int i = pairs[j].i;
                sumx[j + 1] = sumx[j] + weight[i] * xb[i];
                sumw[j + 1] = sumw[j] + weight[i];
            }
            float scale = max;
            int besti1 = -1, besti2 = -1;
            int best_shift = ops->split(sumx, sumw, x_p, x_m, &scale, &besti1, &besti2);
            if (besti1 < 0 || besti2 < 0 || best_shift == 0) continue;
            if (split_levels(pairs, 32, besti1, besti2, &scale, L)) best_shift = -best_shift;
            bool all_on_grid = true;
            const float *xx = best_shift == 1 ? x_p : x_m;
            const float *const xxs[4] = {xx, xx, xx, xx};
            for (int k = 0; k < 4; ++k)
                index[k] = (uint16_t)group_point(lat, ops->nb, xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k,
                                                 &all_on_grid);
            if (!all_on_grid) scale = refit_scale(lat, index, 4, xxs, xb, weight, scale);
            uint16_t h = 0;
            for (int k = 0; k < 4; ++k) {
                qs[4 * ib + k] = (uint8_t)(index[k] & 255);
                h |= (uint16_t)((index[k] >> 8) << 3 * k);
            }
            qh[ib] = h;
            scales[ib] = scale;
            shifts[ib] = (int8_t)best_shift;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (sb.max_scale) {
            const float id = iq_super_end(&sb, y, 15, 1.125f);
            for (int ib = 0; ib < 8; ++ib) {
                int l = iq_scale_level(id, scales[ib], 7);
                if (shifts[ib] == -1) l |= 8;
                qh[ib] |= (uint16_t)(l << 12);
            }
        }
        for (int ib = 0; ib < 8; ++ib) qk_put_u16(y + offsetof(qk_block_iq1_s, qh) + 2 * ib, qh[ib]);
    }
}

static void iq1_s_block(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b);
    const uint8_t *qs = b + offsetof(qk_block_iq1_s, qs);
    for (int ib = 0; ib < 8; ++ib) {
        const uint16_t qh = qk_get_u16(b + offsetof(qk_block_iq1_s, qh) + 2 * ib);
        const float dl = d * (2 * ((qh >> 12) & 7) + 1);
        const float delta = qh & 0x8000 ? -IQ1_DELTA : IQ1_DELTA;
        for (int l = 0; l < 4; ++l) {
            const uint64_t g = qk_iq1s_grid[qs[l] | (((qh >> 3 * l) & 7) << 8)];
            for (int j = 0; j < 8; ++j) y[j] = dl * ((int8_t)(uint8_t)(g >> (8 * j)) + delta);
            y += 8;
        }
        qs += 4;
    }
}

IQ_KERNELS(iq1_s, QK_LATTICE_IQ1S, true, qk_block_iq1_s, iq1_s_row, iq1_s_block)

/* ---- IQ1_M ------------------------------------------------------------- */

/* best_k: which shift each half of a sub-block of 16 uses
 * (0: +,+  1: +,-  2: -,+  3: -,-). */
static const float *iq1m_shift(int best_k, int k, const float *x_p, const float *x_m) {
    if (k == 0) return best_k < 2 ? x_p : x_m;
    return best_k % 2 == 0 ? x_p : x_m;
}

/* What ggml's IQ1_M scan adds to its eight sums (sumqx[0..3], then
 * sumq2[0..3], one per shift combination) for sorted element j at level
 * lev: weight[i] * x?[lev] * xb[i] and weight[i] * x?[lev]^2, i =
 * pairs[j].i, with x_p or x_m per combination (the first half of the
 * sub-block takes x_p for combinations 0, 1, the second half for 0, 2).
 * Each term is the same product for every split (i1, i2), so it is computed
 * once per sub-block with ggml's operations; the scan only adds them, each
 * sum in ggml's order (one add per element, element by element), so eight
 * sums can be one vector add. */
typedef struct {
    float v[8];
} iq1m_term;

static void iq1m_terms(const iq_pair *pairs, int n, const float *weight, const float *xb, const float *x_p,
                       const float *x_m, iq1m_term (*t)[3]) {
    for (int j = 0; j < n; ++j) {
        const int i = pairs[j].i;
        for (int lev = 0; lev < 3; ++lev) {
            const float qxp = weight[i] * x_p[lev] * xb[i], qxm = weight[i] * x_m[lev] * xb[i];
            const float q2p = weight[i] * x_p[lev] * x_p[lev], q2m = weight[i] * x_m[lev] * x_m[lev];
            float *v = t[j][lev].v;
            const bool first = i < 8;
            v[0] = qxp, v[1] = first ? qxp : qxm, v[2] = first ? qxm : qxp, v[3] = qxm;
            v[4] = q2p, v[5] = first ? q2p : q2m, v[6] = first ? q2m : q2p, v[7] = q2m;
        }
    }
}

/* Adds the terms of sorted elements lo..hi-1 at level `lev` to the sums. */
static void iq1m_accumulate(int lo, int hi, int lev, iq1m_term (*t)[3], float *sums) {
    for (int j = lo; j < hi; ++j)
        for (int k = 0; k < 8; ++k) sums[k] += t[j][lev].v[k];
}

static void iq1_m_row(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qwr,
                        const iq_ops *ops) {
    const float x_p[3] = {-1 + IQ1_DELTA, IQ1_DELTA, 1 + IQ1_DELTA};
    const float x_m[3] = {-1 - IQ1_DELTA, -IQ1_DELTA, 1 - IQ1_DELTA};
    const uint8_t masks[4] = {0x00, 0x80, 0x08, 0x88};
    float scales[16], weight[16];
    int8_t L[16], shifts[16];
    uint16_t index[2], sc[4];
    iq_pair pairs[16];
    for (int64_t ibl = 0; ibl < nbl; ++ibl, y += sizeof(qk_block_iq1_m)) {
        iq_super sb = iq_super_begin(x, qwr, ibl, 2, y, sizeof(qk_block_iq1_m));
        uint8_t *qs = y + offsetof(qk_block_iq1_m, qs), *qh = y + offsetof(qk_block_iq1_m, qh);
        memset(scales, 0, sizeof scales); /* what a sub-block skipped below keeps */
        memset(shifts, 0, sizeof shifts);
        for (int ib = 0; ib < 16; ++ib) {
            float max;
            const float *xb = sorted_sub_block(&sb, ib, 16, QK_GROUP_MAX_EPS_IQ1_M, weight, pairs, &max, ops);
            if (!xb) continue;
            iq1m_term terms[16][3];
            iq1m_terms(pairs, 16, weight, xb, x_p, x_m, terms);
            float best_score = -FLT_MAX, scale = max;
            int besti1 = -1, besti2 = -1, best_k = -1;
            for (int i1 = 0; i1 <= 16; ++i1) {
                for (int i2 = i1; i2 <= 16; ++i2) {
                    float sums[8] = {0};
                    iq1m_accumulate(0, i1, 0, terms, sums);
                    iq1m_accumulate(i1, i2, 1, terms, sums);
                    iq1m_accumulate(i2, 16, 2, terms, sums);
                    const float *sumqx = sums, *sumq2 = sums + 4;
                    for (int k = 0; k < 4; ++k) {
                        if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best_score * sumq2[k]) {
                            scale = sumqx[k] / sumq2[k];
                            best_score = scale * sumqx[k];
                            besti1 = i1;
                            besti2 = i2;
                            best_k = k;
                        }
                    }
                }
            }
            if (besti1 < 0 || besti2 < 0 || best_k < 0) continue;
            if (split_levels(pairs, 16, besti1, besti2, &scale, L)) best_k = 3 - best_k;
            bool all_on_grid = true;
            const float *const xxs[2] = {iq1m_shift(best_k, 0, x_p, x_m), iq1m_shift(best_k, 1, x_p, x_m)};
            for (int k = 0; k < 2; ++k)
                index[k] = (uint16_t)group_point(lat, ops->nb, xb + 8 * k, weight + 8 * k, scale, xxs[k], L + 8 * k,
                                                 &all_on_grid);
            if (!all_on_grid) scale = refit_scale(lat, index, 2, xxs, xb, weight, scale);
            qs[2 * ib + 0] = (uint8_t)(index[0] & 255);
            qs[2 * ib + 1] = (uint8_t)(index[1] & 255);
            qh[ib] = (uint8_t)((index[0] >> 8) | ((index[1] >> 8) << 4));
            scales[ib] = scale;
            shifts[ib] = (int8_t)best_k;
            sb.max_scale = QK_MAX(sb.max_scale, scale);
        }
        if (!sb.max_scale) continue;

        /* the sub-block scales, then the super-block scale refitted to them */
        memset(sc, 0, sizeof sc);
        float d = sb.max_scale / 15;
        float id = 1 / d;
        float sumqx_f = 0, sumq2_f = 0;
        for (int ib = 0; ib < 16; ++ib) {
            int l = iq_scale_level(id, scales[ib], 7);
            sc[ib / 4] |= (uint16_t)(l << 3 * (ib % 4));
            qh[ib] |= masks[shifts[ib]];
            const float *xb = iq_sub_block(&sb, ib, 16, weight);
            for (int k = 0; k < 2; ++k) {
                const float *xx = iq1m_shift(shifts[ib], k, x_p, x_m);
                const int8_t *pg = lat->pos + (qs[2 * ib + k] + ((qh[ib] << (8 - 4 * k)) & 0x700)) * 8;
                for (int j = 0; j < 8; ++j) {
                    float w = weight[8 * k + j];
                    float q = xx[(pg[j] - 1) / 2] * (2 * l + 1);
                    sumqx_f += w * q * xb[8 * k + j];
                    sumq2_f += w * q * q;
                }
            }
        }
        if (sumq2_f > 0) d = sumqx_f / sumq2_f;
        const uint16_t s = qk_fp32_to_fp16(d * 1.1125f);
        sc[0] |= (uint16_t)((s & 0x000f) << 12);
        sc[1] |= (uint16_t)((s & 0x00f0) << 8);
        sc[2] |= (uint16_t)((s & 0x0f00) << 4);
        sc[3] |= (uint16_t)(s & 0xf000);
        for (int i = 0; i < 4; ++i) qk_put_u16(y + offsetof(qk_block_iq1_m, scales) + 2 * i, sc[i]);
    }
}

static void iq1_m_block(const uint8_t *b, float *y) {
    uint16_t sc[4];
    for (int k = 0; k < 4; ++k) sc[k] = qk_get_u16(b + offsetof(qk_block_iq1_m, scales) + 2 * k);
    const uint16_t s16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) |
                                    (sc[3] & 0xf000));
    const float d = qk_fp16_to_fp32(s16);
    const uint8_t *qs = b + offsetof(qk_block_iq1_m, qs), *qh = b + offsetof(qk_block_iq1_m, qh);
    for (int ib = 0; ib < 8; ++ib) {
        const float dl1 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1);
        const float dl2 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
        const uint16_t idx[4] = {(uint16_t)(qs[0] | ((qh[0] << 8) & 0x700)), (uint16_t)(qs[1] | ((qh[0] << 4) & 0x700)),
                                 (uint16_t)(qs[2] | ((qh[1] << 8) & 0x700)), (uint16_t)(qs[3] | ((qh[1] << 4) & 0x700))};
        const float delta[4] = {qh[0] & 0x08 ? -IQ1_DELTA : IQ1_DELTA, qh[0] & 0x80 ? -IQ1_DELTA : IQ1_DELTA,
                                qh[1] & 0x08 ? -IQ1_DELTA : IQ1_DELTA, qh[1] & 0x80 ? -IQ1_DELTA : IQ1_DELTA};
        for (int l = 0; l < 4; ++l) {
            const uint64_t g = qk_iq1s_grid[idx[l]];
            const float dl = l < 2 ? dl1 : dl2;
            for (int j = 0; j < 8; ++j) y[j] = dl * ((int8_t)(uint8_t)(g >> (8 * j)) + delta[l]);
            y += 8;
        }
        qs += 4;
        qh += 2;
    }
}

IQ_KERNELS(iq1_m, QK_LATTICE_IQ1S, false, qk_block_iq1_m, iq1_m_row, iq1_m_block)
