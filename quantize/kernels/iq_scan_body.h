/* iq_scan_body.h - the scale scan of the IQ2/IQ3 quantizers (iq_scan_scale
 * of iq_search.h, its contract) with the candidate scales in lanes (GCC/
 * clang vector extensions, compiled with the ISA of the file that includes
 * it: x86/iq_search_avx2.c, _avx512.c, arm/iq_search_neon.c). Defines the
 * static iqs_scan_scale, which that file puts in its qk_iq_ops_<isa>.
 *
 * Why it is bit-identical: per candidate scale the scalar scan computes
 * (1) each element's level, (2) per group of dim elements the grid point of
 * those levels or the nearest neighbour, (3) sumqx and sumq2 over the
 * elements in order, (4) the running argmax. (1) and (3) are per-scale
 * chains of the same IEEE operations in the same order, so doing them for
 * every scale at once (one lane per scale, element loop outside) changes no
 * bit: a lane's sum is still ((0 + t0) + t1) + ..., no sum crosses lanes,
 * and no FMA forms (-ffp-contract=off; GCC also -mno-fma). (2) depends on
 * nothing but the scale, so it runs per scale and group in any order, with
 * the ISA's neighbour search inlined: iqs_nb_packed(lat, nb, xval, weight,
 * scale, dim, bits), which the including file defines first (its
 * qk_iq_best_neighbour_<isa> with levels 2l+1, returning the packed levels
 * of the point found). (4) stays sequential over the
 * scales, with the scalar's strict `>` (first best wins). The refinement at
 * the chosen scale is the scalar one (iq_scan_refine). Lanes past the last
 * candidate repeat it and are never read. */
#ifndef QK_IQ_SCAN_BODY_H
#define QK_IQ_SCAN_BODY_H

#include <float.h>

#include "iq_search.h"

/* Candidate scales per call at most (IQ3_XXS scans 31), as IQS_NV vectors
 * of IQS_VW lanes (IQS_VW: set by the including file to its ISA's floats per
 * register; GCC/clang vector extensions, so the lanes are explicit). */
#define IQS_NS 32
#define IQS_NV (IQS_NS / IQS_VW)
typedef float iqs_vf __attribute__((vector_size(4 * IQS_VW)));
typedef int32_t iqs_vi __attribute__((vector_size(4 * IQS_VW)));

#define IQS_INLINE static inline __attribute__((always_inline))

IQS_INLINE iqs_vf iqs_ldf(const float *p) {
    iqs_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
IQS_INLINE iqs_vi iqs_ldi(const int32_t *p) {
    iqs_vi v;
    memcpy(&v, p, sizeof v);
    return v;
}
IQS_INLINE void iqs_sti(int32_t *p, iqs_vi v) { memcpy(p, &v, sizeof v); }

/* qk_nearest_int per lane, clamped to [0, top] (top >= 0): the same bits. */
IQS_INLINE iqs_vi iqs_level(iqs_vf f, int top) {
    iqs_vf val = f + 12582912.f;
    iqs_vi i;
    memcpy(&i, &val, sizeof i);
    iqs_vi l = (i & 0x007fffff) - 0x00400000;
    const iqs_vi hi = l > top; /* lanes -1 where true */
    l = (l & ~hi) | (top & hi);
    return l & ~(l < 0);
}

/* The nearest neighbour (iq_best_neighbour with levels 2l+1) in the list nb
 * at m scales sc[0..m-1] at once, one scale per lane, each lane the scalar
 * search itself: d2 = ((0 + t(0, l0)) + t(1, l1)) + ..., t(i, l) =
 * (weight[i] * diff) * diff, diff = sc * (2l + 1) - xval[i] (computed once
 * per element and level), the neighbours in list order, strictly smaller d2
 * wins (an ordered compare, as `<`), none: the first. Writes each scale's
 * point as packed levels to u[0..m-1]. sc has m rounded up to IQS_VW floats;
 * nl: the lattice's levels (IQ2: 3, IQ3: 8). */
IQS_INLINE void iqs_run(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                        const float *sc, int m, int32_t *u, const int dim, const int bits, const int nl) {
    const int n = nb[0];
    const uint16_t *lev = lat->nb_levels + (nb - lat->neighbours);
    const int lmask = (1 << bits) - 1;
    for (int s0 = 0; s0 < m; s0 += IQS_VW) {
        const iqs_vf vsc = iqs_ldf(sc + s0);
        iqs_vf t[8 * 8];
        for (int i = 0; i < dim; ++i)
            for (int l = 0; l < nl; ++l) {
                const iqs_vf diff = vsc * (float)(2 * l + 1) - xval[i];
                t[nl * i + l] = weight[i] * diff * diff;
            }
        const iqs_vf zero = {0};
        iqs_vf best = zero + FLT_MAX;
        iqs_vi bj = {0};
        bj -= 1;
        for (int j = 1; j <= n; ++j) {
            const int pk = lev[j];
            iqs_vf d2 = zero;
            for (int i = 0; i < dim; ++i) d2 += t[nl * i + ((pk >> (bits * i)) & lmask)];
            const iqs_vi lt = d2 < best;
            best = (iqs_vf)(((iqs_vi)d2 & lt) | ((iqs_vi)best & ~lt));
            bj = (j & lt) | (bj & ~lt);
        }
        int32_t at[IQS_VW];
        iqs_sti(at, bj);
        for (int k = 0; k < IQS_VW && s0 + k < m; ++k) u[s0 + k] = lev[at[k] < 0 ? 1 : at[k]];
    }
}

/* Whether iqs_run is cheaper than m searches of one scale each
 * (iqs_nb_packed: the list in lanes) for a list of n: a rough instruction
 * count of each (both give the same points; this only picks the faster). */
IQS_INLINE bool iqs_run_pays(int m, int n, int dim, int nl) {
    const int passes = (m + IQS_VW - 1) / IQS_VW, blocks = (n + IQS_VW - 1) / IQS_VW;
    return passes * (5 * nl * dim + n * (5 * dim + 12)) < m * (70 + 4 * dim + blocks * (4 * dim + 10));
}

/* The scan for a lattice of dim coordinates of `bits` bits each (constants
 * at the call sites, so the loops unroll). */
IQS_INLINE float iqs_scan(const qk_lattice *lat, const iq_scan *p, float ref, float scale, const float *xval,
                          const float *weight, const float *waux, int8_t *L, const int dim, const int bits) {
    const int ngroups = p->n / dim, ns = p->is_hi - p->is_lo + 1, top = p->kmaxq - 1;
    const int nv = (ns + IQS_VW - 1) / IQS_VW; /* the vectors holding the ns candidates */
    const int32_t lmask = (1 << bits) - 1, nl = dim == 8 ? 3 : 8;
    if (ns > IQS_NS || ngroups > 8) return iq_scan_scale(lat, p, ref, scale, xval, weight, waux, L);
    float id[IQS_NS];
    for (int s = 0; s < IQS_NS; ++s) id[s] = iq_scan_id(p, ref, p->is_lo + (s < ns ? s : ns - 1));

    /* (1) the packed levels u[k][s] of group k at scale s */
    int32_t u[8][IQS_NS];
    for (int k = 0; k < ngroups; ++k)
        for (int v = 0; v < nv; ++v) {
            const iqs_vf idv = iqs_ldf(id + v * IQS_VW);
            iqs_vi acc = {0};
            for (int i = 0; i < dim; ++i) acc |= iqs_level(0.5f * (idv * xval[dim * k + i] - 1.f), top) << (bits * i);
            iqs_sti(u[k] + v * IQS_VW, acc);
        }

    /* (2) off the grid: the nearest neighbour's levels instead (iqs_run,
     * over each run of scales sharing a group's list); bit k of on[s] says
     * group k was on the grid */
    uint8_t on[IQS_NS] = {0};
    float sc[IQS_NS + IQS_VW];
    for (int s = 0; s < IQS_NS + IQS_VW; ++s) sc[s] = 1 / id[s < IQS_NS ? s : IQS_NS - 1];
    for (int k = 0; k < ngroups; ++k) {
        int32_t *uk = u[k];
        for (int s = 0; s < ns;) {
            const int uks = uk[s];
            if (lat->map[uks] >= 0) {
                on[s++] |= (uint8_t)(1u << k);
                continue;
            }
            int e = s + 1;
            while (e < ns && uk[e] == uks) ++e;
            const uint16_t *nb = iq_neighbours(lat, uks);
            if (iqs_run_pays(e - s, nb[0], dim, nl))
                iqs_run(lat, nb, xval + dim * k, waux + dim * k, sc + s, e - s, uk + s, dim, bits, nl);
            else
                for (; s < e; ++s) uk[s] = iqs_nb_packed(lat, nb, xval + dim * k, waux + dim * k, sc[s], dim, bits);
            s = e;
        }
    }

    /* (3) sumqx and sumq2 per scale, elements in order */
    float qx[IQS_NS], q2[IQS_NS];
    for (int v = 0; v < nv; ++v) {
        iqs_vf sx = {0}, s2 = {0};
        for (int k = 0; k < ngroups; ++k) {
            const iqs_vi uk = iqs_ldi(u[k] + v * IQS_VW);
            for (int i = 0; i < dim; ++i) {
                const float w = weight[dim * k + i], wx = w * xval[dim * k + i];
                const iqs_vf q = __builtin_convertvector(2 * ((uk >> (bits * i)) & lmask) + 1, iqs_vf);
                sx += wx * q;
                s2 += w * q * q;
            }
        }
        memcpy(qx + v * IQS_VW, &sx, sizeof sx);
        memcpy(q2 + v * IQS_VW, &s2, sizeof s2);
    }

    /* (4) the scalar's running choice */
    float best = 0;
    int bs = -1;
    for (int s = 0; s < ns; ++s) {
        if (q2[s] > 0 && qx[s] * qx[s] > best * q2[s]) {
            scale = qx[s] / q2[s];
            best = scale * qx[s];
            bs = s;
        }
    }
    bool gon[8];
    for (int k = 0; k < ngroups; ++k) gon[k] = p->refine != IQ_REFINE_ALL_IF_OFFGRID;
    if (bs >= 0) {
        for (int k = 0; k < ngroups; ++k) {
            gon[k] = (on[bs] >> k) & 1;
            for (int i = 0; i < dim; ++i) L[dim * k + i] = (int8_t)((u[k][bs] >> (bits * i)) & lmask);
        }
    }
    return iq_scan_refine(lat, p, scale, xval, weight, waux, L, gon);
}

static float iqs_scan_scale(const qk_lattice *lat, const iq_scan *p, float ref, float scale, const float *xval,
                            const float *weight, const float *waux, int8_t *L) {
    if (lat->dim == 8) return iqs_scan(lat, p, ref, scale, xval, weight, waux, L, 8, 2);
    return iqs_scan(lat, p, ref, scale, xval, weight, waux, L, 4, 3);
}

/* IQ1_S's split search (iq1_split_scan of iq_search.h, its contract) with
 * i2 in lanes: each lane's sumqx and sumq2 are the scalar's expressions,
 * operation for operation. The acceptance test depends on the best so far,
 * so it stays sequential, but a vector of candidates none of which passes
 * against the current best (the common case) is skipped as a whole: the
 * scalar would have changed nothing there. A vector with a pass is walked
 * in the scalar order (i2, then +delta before -delta). */
static int iqs_iq1_split(const float *sumx, const float *sumw, const float *x_p, const float *x_m, float *scale,
                         int *besti1, int *besti2) {
    /* per i2: sumx/sumw, and the third terms of the sums, which do not
     * depend on i1 (the same products the scalar forms each time) */
    float sx[33 + IQS_VW], sw[33 + IQS_VW], cp[33 + IQS_VW], cm[33 + IQS_VW], cwp[33 + IQS_VW], cwm[33 + IQS_VW];
    for (int i = 0; i < 33 + IQS_VW; ++i) {
        sx[i] = sumx[i < 33 ? i : 32];
        sw[i] = sumw[i < 33 ? i : 32];
        const float c = sumx[32] - sx[i], cw = sumw[32] - sw[i];
        cp[i] = c * x_p[2];
        cm[i] = c * x_m[2];
        cwp[i] = cw * x_p[2] * x_p[2];
        cwm[i] = cw * x_m[2] * x_m[2];
    }
    int32_t iota_a[IQS_VW];
    for (int t = 0; t < IQS_VW; ++t) iota_a[t] = t;
    const iqs_vi iota = iqs_ldi(iota_a);
    float best_score = -FLT_MAX;
    int best_shift = 0;
    for (int i1 = 0; i1 <= 32; ++i1) {
        const float ap = (sumx[i1] - sumx[0]) * x_p[0], am = (sumx[i1] - sumx[0]) * x_m[0];
        const float awp = (sumw[i1] - sumw[0]) * x_p[0] * x_p[0], awm = (sumw[i1] - sumw[0]) * x_m[0] * x_m[0];
        for (int i2 = i1; i2 <= 32; i2 += IQS_VW) {
            const iqs_vf b = iqs_ldf(sx + i2) - sumx[i1], bw = iqs_ldf(sw + i2) - sumw[i1];
            iqs_vf qx[2], q2[2];
            qx[0] = ap + b * x_p[1] + iqs_ldf(cp + i2);
            q2[0] = awp + bw * x_p[1] * x_p[1] + iqs_ldf(cwp + i2);
            qx[1] = am + b * x_m[1] + iqs_ldf(cm + i2);
            q2[1] = awm + bw * x_m[1] * x_m[1] + iqs_ldf(cwm + i2);
            const iqs_vi pass = (iota + i2 <= 32) & (((q2[0] > 0) & (qx[0] * qx[0] > best_score * q2[0])) |
                                                     ((q2[1] > 0) & (qx[1] * qx[1] > best_score * q2[1])));
            uint64_t any[IQS_VW / 2], anyv = 0;
            memcpy(any, &pass, sizeof any);
            for (int t = 0; t < IQS_VW / 2; ++t) anyv |= any[t];
            if (!anyv) continue;
            float fx[2][IQS_VW], f2[2][IQS_VW];
            memcpy(fx, qx, sizeof fx);
            memcpy(f2, q2, sizeof f2);
            int32_t pb[IQS_VW];
            memcpy(pb, &pass, sizeof pb);
            const float start = best_score;
            for (int t = 0; t < IQS_VW && i2 + t <= 32; ++t) {
                if (!pb[t] && best_score == start) continue; /* fails both tests against this best */
                for (int h = 0; h < 2; ++h)
                    if (f2[h][t] > 0 && fx[h][t] * fx[h][t] > best_score * f2[h][t]) {
                        *scale = fx[h][t] / f2[h][t];
                        best_score = *scale * fx[h][t];
                        *besti1 = i1;
                        *besti2 = i2 + t;
                        best_shift = h ? -1 : 1;
                    }
            }
        }
    }
    return best_shift;
}

/* qk_make_qp_quants with its eight candidate scales in lanes (8-lane
 * vectors whatever the ISA): each lane's error sum is the scalar's, term by
 * term in element order; the choice stays sequential in candidate order
 * with the scalar's strict `<`. The first and last steps are the scalar's
 * own (qk_qp_start, qk_qp_finish). */
static float iqs_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights) {
    typedef float v8f __attribute__((vector_size(32)));
    typedef int32_t v8i __attribute__((vector_size(32)));
    float iscale, best_mse;
    const float max = qk_qp_start(n, nmax, x, L, quant_weights, &iscale, &best_mse);
    if (max == 0) return 0.f;
    float isa[8], ssa[8];
    for (int c = 0; c < 8; ++c) {
        isa[c] = qk_qp_iscale(nmax, max, c < 4 ? c - 4 : c - 3);
        ssa[c] = 1 / isa[c];
    }
    v8f isv, ssv, mse = {0};
    memcpy(&isv, isa, sizeof isv);
    memcpy(&ssv, ssa, sizeof ssv);
    for (int i = 0; i < n; ++i) {
        const v8f f = isv * x[i] + 12582912.f; /* qk_nearest_int */
        v8i b;
        memcpy(&b, &f, sizeof b);
        v8i l = (b & 0x007fffff) - 0x00400000;
        const v8i hi = l > nmax;
        l = (l & ~hi) | (nmax & hi);
        const v8f diff = x[i] - ssv * __builtin_convertvector(l, v8f);
        mse += quant_weights[i] * diff * diff;
    }
    float ms[8];
    memcpy(ms, &mse, sizeof ms);
    for (int c = 0; c < 8; ++c)
        if (ms[c] < best_mse) {
            best_mse = ms[c];
            iscale = isa[c];
        }
    return qk_qp_finish(n, nmax, x, L, quant_weights, iscale);
}

#endif
