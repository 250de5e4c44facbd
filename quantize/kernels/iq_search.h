/* iq_search.h - the grid searches the IQ2/IQ3 quantizers share (ggml-quants.c
 * of the pinned release: iq2_find_best_neighbour / iq3_find_best_neighbour and
 * the scale scan of quantize_row_iq2_xs_impl & co), with ggml's float
 * operations in ggml's order (see quant_search.h's contract). Internal to
 * quantize/kernels/.
 */
#ifndef QK_IQ_SEARCH_H
#define QK_IQ_SEARCH_H

#include <float.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iq_grids.h"
#include "quant_search.h"

/* Packed level vector of L[0..dim-1]. */
static inline int iq_pack(const qk_lattice *lat, const int8_t *L) {
    int u = 0;
    for (int i = 0; i < lat->dim; ++i) u |= L[i] << (lat->bits * i);
    return u;
}

/* Of the neighbours of a packed vector (list nb: count, points), the grid
 * point nearest to xval at this scale under weight (strictly smaller d2
 * wins, so the first of equals); its levels go to L. ggml aborts when no
 * d2 is below FLT_MAX (NaN or infinite input); this returns the first
 * neighbour then, so the library never stops. */
static inline int iq_best_neighbour(const qk_lattice *lat, const uint16_t *nb, const float *xval,
                                    const float *weight, float scale, int8_t *L) {
    const int dim = lat->dim;
    float best_d2 = FLT_MAX;
    int gi = -1;
    for (int j = 1; j <= nb[0]; ++j) {
        const int8_t *pg = lat->pos + nb[j] * dim;
        float d2 = 0;
        for (int i = 0; i < dim; ++i) {
            float q = pg[i];
            float diff = scale * q - xval[i];
            d2 += weight[i] * diff * diff;
        }
        if (d2 < best_d2) {
            best_d2 = d2;
            gi = nb[j];
        }
    }
    if (gi < 0) gi = nb[1];
    const int8_t *pg = lat->pos + gi * dim;
    for (int i = 0; i < dim; ++i) L[i] = (int8_t)((pg[i] - 1) / 2);
    return gi;
}

/* Levels of xval[0..dim-1] at inverse scale id, clamped to [0, kmaxq-1];
 * returns the grid point, or -1 (then L holds the raw levels). */
static inline int iq_round_group(const qk_lattice *lat, int kmaxq, float id, const float *xval, int8_t *L) {
    for (int i = 0; i < lat->dim; ++i) {
        int l = qk_nearest_int(0.5f * (id * xval[i] - 1));
        L[i] = (int8_t)QK_MAX(0, QK_MIN(kmaxq - 1, l));
    }
    return lat->map[iq_pack(lat, L)];
}

/* The neighbour list of an off-grid packed vector. */
static inline const uint16_t *iq_neighbours(const qk_lattice *lat, int u) {
    return lat->neighbours + (-lat->map[u] - 1);
}

/* Groups of 8 with an even number of negative signs (IQ2_XXS, IQ2_XS,
 * IQ3_XXS store 7 sign bits): xval = |x|, except that with an odd count the
 * element of least weight*x^2 keeps its sign flipped (its xval negative).
 * Returns the 7 stored bits. */
static inline uint8_t iq_signs_even(const float *xb, const float *weight, float *xval) {
    int nflip = 0;
    uint8_t s = 0;
    for (int i = 0; i < 8; ++i) {
        if (xb[i] >= 0) {
            xval[i] = xb[i];
        } else {
            xval[i] = -xb[i];
            ++nflip;
            s |= (uint8_t)(1 << i);
        }
    }
    if (nflip % 2) {
        int imin = 0;
        float min = weight[imin] * xb[imin] * xb[imin];
        for (int i = 1; i < 8; ++i) {
            float ax = weight[i] * xb[i] * xb[i];
            if (ax < min) {
                min = ax;
                imin = i;
            }
        }
        xval[imin] = -xval[imin];
        s ^= (uint8_t)(1 << imin);
    }
    return s & 127;
}

/* All 8 sign bits (IQ2_S, IQ3_S). */
static inline uint8_t iq_signs_all(const float *xb, float *xval) {
    uint8_t s = 0;
    for (int i = 0; i < 8; ++i) {
        if (xb[i] >= 0) {
            xval[i] = xb[i];
        } else {
            xval[i] = -xb[i];
            s |= (uint8_t)(1 << i);
        }
    }
    return s;
}

/* When the search's best levels are refined at the best scale:
 * ALWAYS (IQ2_XXS) every group, whenever the scale is > 0;
 * OFFGRID (IQ2_XS, IQ2_S, IQ3_XXS) only groups that were off the grid;
 * ALL_IF_OFFGRID (IQ3_S) every group if any was off the grid (a group
 * counts as off the grid until a candidate scale is accepted). */
typedef enum { IQ_REFINE_ALWAYS, IQ_REFINE_OFFGRID, IQ_REFINE_ALL_IF_OFFGRID } iq_refine;

typedef struct iq_scan {
    int n;            /* elements of the sub-block: 16 or 32 */
    int kmaxq;        /* levels: 3 (IQ2) or 8 (IQ3) */
    int is_lo, is_hi; /* candidate inverse scales (2*kmaxq-1 + is*step)/ref */
    float step;
    iq_refine refine;
} iq_scan;

/* The scale scan of one sub-block: tries the candidate scales, keeps the
 * weighted least-squares best (levels in L), then refines per `refine`.
 * scale is the starting value returned if no candidate is accepted; L keeps
 * its incoming contents then (as ggml's). Returns the scale. */
static inline float iq_scan_scale(const qk_lattice *lat, const iq_scan *p, float ref, float scale,
                                  const float *xval, const float *weight, const float *waux, int8_t *L) {
    const int dim = lat->dim, ngroups = p->n / dim;
    int8_t Laux[32];
    bool on[8], on_aux[8];
    for (int k = 0; k < ngroups; ++k) on[k] = p->refine != IQ_REFINE_ALL_IF_OFFGRID;
    float best = 0;
    for (int is = p->is_lo; is <= p->is_hi; ++is) {
        float id = (2 * p->kmaxq - 1 + is * p->step) / ref;
        float this_scale = 1 / id;
        for (int k = 0; k < ngroups; ++k) {
            int gi = iq_round_group(lat, p->kmaxq, id, xval + dim * k, Laux + dim * k);
            on_aux[k] = true;
            if (gi < 0) {
                on_aux[k] = false;
                iq_best_neighbour(lat, iq_neighbours(lat, iq_pack(lat, Laux + dim * k)), xval + dim * k,
                                  waux + dim * k, this_scale, Laux + dim * k);
            }
        }
        float sumqx = 0, sumq2 = 0;
        for (int i = 0; i < p->n; ++i) {
            float w = weight[i];
            float q = 2 * Laux[i] + 1;
            sumqx += w * xval[i] * q;
            sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            memcpy(L, Laux, (size_t)p->n);
            memcpy(on, on_aux, sizeof on);
        }
    }
    int n_off = 0;
    for (int k = 0; k < ngroups; ++k) n_off += !on[k];
    bool refine = p->refine == IQ_REFINE_ALWAYS ? scale > 0 : (n_off > 0 && scale > 0);
    if (refine) {
        float id = 1 / scale;
        for (int k = 0; k < ngroups; ++k) {
            if (p->refine == IQ_REFINE_OFFGRID && on[k]) continue;
            int gi = iq_round_group(lat, p->kmaxq, id, xval + dim * k, L + dim * k);
            if (gi < 0)
                iq_best_neighbour(lat, iq_neighbours(lat, iq_pack(lat, L + dim * k)), xval + dim * k,
                                  waux + dim * k, scale, L + dim * k);
        }
        float sumqx = 0, sumq2 = 0;
        for (int i = 0; i < p->n; ++i) {
            float w = weight[i];
            float q = 2 * L[i] + 1;
            sumqx += w * xval[i] * q;
            sumq2 += w * q * q;
        }
        if (sumq2 > 0) scale = sumqx / sumq2;
    }
    return scale;
}

#endif
