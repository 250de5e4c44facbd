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
typedef int32_t iqs_v8i __attribute__((vector_size(32))); /* 8 lanes whatever the ISA */

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
 * i2 in lanes. Each lane's sumqx (qx), sumq2 (q2) and score qx / q2 * qx
 * are the scalar's expressions, operation for operation. The scalar accepts
 * a candidate c = (i1, i2, shift) when q2 > 0 and fl(qx * qx) > fl(b * q2),
 * b the score of the last accepted (first -FLT_MAX), and returns the last
 * accepted. That test is sequential, but only candidates near the top score
 * can be the last one. Below, every q2 is finite and > 0 (see the ranges).
 * With L a little below the top score, let S be the candidates that pass
 * against L (fl(qx * qx) > fl(L * q2)). If (a) every candidate of S scores
 * >= L and (b) every other one scores < L, then
 *  - before the first candidate of S whatever was accepted scored < L, so
 *    b < L; as fl(y * q2) is non-decreasing in y for a finite q2 > 0, that
 *    candidate passes against b: it is accepted, and b >= L from then on;
 *  - after it a candidate outside S fails against L, hence against b >= L;
 *    one of S, when accepted, leaves b >= L again.
 * So the scalar's result is that of its own walk over S alone, from
 * -FLT_MAX (whose first candidate is then accepted too): S in scan order
 * (i1, i2, then +delta before -delta) is walked with the scalar test
 * (iqs_iq1_walk). S is one or two candidates, where the scalar's walk
 * changes its best ~56 times per sub-block. (a) is checked exactly on S,
 * (b) exactly on the band just below S, the candidates passing against
 * L2 = fl(L (1 - 2^-16)); one failing against L2 scores < L by rounding
 * bounds (u = 2^-24): with q2 in [2^-58, 2^52], 2^-61 <= L2 <= 2^60 and
 * qx * qx finite, fl(L2 * q2) is a normal and fl(qx * qx) <= fl(L2 * q2)
 * gives qx^2 <= L2 q2 (1 + u)^2 + 2^-150 (a subnormal's rounding), so the
 * score fl(fl(qx / q2) * qx) <= L2 (1 + 5u) + 2^-90 < L (1 - 2^-16 + 6u)
 * <= L - 2^-78. The ranges: with sumw[0] = 0, sumw non-decreasing and
 * 2^-50 <= sumw[32] = W <= 2^50, each of q2's three weight parts is in
 * [0, W] (rounding is monotone) and they add up to >= W (1 - u), the
 * largest >= W / 3; every |level| is in [1/8, 9/8], so q2 is in
 * [W (1 - u)^5 / 192, 3.8 W]: [2^-58, 2^52]. With |sumx| <= 2^60, |qx| <
 * 2^63 and qx * qx is finite. Outside those ranges the scalar
 * iq1_split_scan runs instead; so it does when a check fails for three
 * choices of L (a score within rounding of L: ~1% of sub-blocks for one L,
 * as scores crowd near the top; for three, 2 sub-blocks in 65536). */
#define IQS_Q1 (32 / IQS_VW)                                  /* vectors of i2 for i1 = 0, less one */
#define IQS_NV1 (IQS_VW * IQS_Q1 * (IQS_Q1 + 1) / 2 + IQS_Q1 + 1) /* vectors over all i1 */
/* Whether a lane of the mask m is set: the including file's IQS_ANY (one
 * instruction or two) if it has one. */
IQS_INLINE bool iqs_any(iqs_vi m) {
#ifdef IQS_ANY
    return IQS_ANY(m);
#else
    uint64_t w[IQS_VW / 2], any = 0;
    memcpy(w, &m, sizeof w);
    for (int t = 0; t < IQS_VW / 2; ++t) any |= w[t];
    return any != 0;
#endif
}
IQS_INLINE iqs_vf iqs_self(iqs_vi m, iqs_vf a, iqs_vf b) { return (iqs_vf)(((iqs_vi)a & m) | ((iqs_vi)b & ~m)); }

/* The pair (i1, i2) of the first lane of candidate vector v. */
static void iqs_iq1_at(int v, int *i1, int *i2) {
    int a = 0;
    for (;; ++a) {
        const int nv = (33 - a + IQS_VW - 1) / IQS_VW;
        if (v < nv) break;
        v -= nv;
    }
    *i1 = a;
    *i2 = a + v * IQS_VW;
}

/* The walk over S of the nv candidate vectors (qx, q2 and x2 = fl(qx * qx)
 * at [2 v + shift], in scan order, then padding to a multiple of 4 vectors
 * that passes nothing; lanes past i2 = 32 repeat i2 = 32 and are not read)
 * for the bound lim, with the checks (a) and (b); false if one fails. */
static bool iqs_iq1_walk(const iqs_vf *qx, const iqs_vf *q2, const iqs_vf *x2, int nv, float lim, float *scale,
                         int *besti1, int *besti2, int *shift) {
    const float lim2 = lim * (1.f - 0x1p-16f);
    if (!(lim2 >= 0x1p-61f && lim2 <= 0x1p60f)) return false;
    float best_score = -FLT_MAX;
    *besti1 = -1;
    for (int g = 0; g < 2 * nv; g += 8) {
        iqs_vi near[8], any = {0};
        for (int k = 0; k < 8; ++k) any |= near[k] = x2[g + k] > lim2 * q2[g + k];
        if (!iqs_any(any)) continue; /* the common case: nothing near in 4 vectors */
        for (int k = 0; k < 8; k += 2) {
            if (!iqs_any(near[k] | near[k + 1])) continue;
            int i1, i2;
            iqs_iq1_at((g + k) / 2, &i1, &i2);
            int32_t nr[2][IQS_VW];
            float fx[2][IQS_VW], f2[2][IQS_VW], fs[2][IQS_VW];
            memcpy(nr, near + k, sizeof nr);
            memcpy(fx, qx + g + k, sizeof fx);
            memcpy(f2, q2 + g + k, sizeof f2);
            memcpy(fs, x2 + g + k, sizeof fs);
            for (int t = 0; t < IQS_VW && i2 + t <= 32; ++t)
                for (int h = 0; h < 2; ++h) {
                    if (!nr[h][t]) continue;
                    const float score = fx[h][t] / f2[h][t] * fx[h][t];
                    if (!(fs[h][t] > lim * f2[h][t])) { /* the band */
                        if (!(score < lim)) return false;
                        continue;
                    }
                    if (!(score >= lim)) return false;
                    if (fs[h][t] > best_score * f2[h][t]) { /* in S: the scalar test (q2 > 0 known) */
                        *scale = fx[h][t] / f2[h][t];
                        best_score = *scale * fx[h][t];
                        *besti1 = i1;
                        *besti2 = i2 + t;
                        *shift = h ? -1 : 1;
                    }
                }
        }
    }
    return *besti1 >= 0;
}

/* Whether the sums and the levels are in the ranges above. */
static bool iqs_iq1_ranges(const float *sumx, const float *sumw, const float *x_p, const float *x_m) {
    int bad = !(sumw[0] == 0 && sumw[32] >= 0x1p-50f && sumw[32] <= 0x1p50f && fabsf(sumx[32]) <= 0x1p60f);
    for (int k = 0; k < 3; ++k) /* the levels, as IQ1_S's (+-1/8 shifted) are */
        bad |= !(fabsf(x_p[k]) >= 0.125f && fabsf(x_p[k]) <= 1.125f && fabsf(x_m[k]) >= 0.125f &&
                 fabsf(x_m[k]) <= 1.125f);
    for (int i = 0; i < 32; ++i) bad |= !(sumw[i + 1] >= sumw[i]) | !(fabsf(sumx[i]) <= 0x1p60f);
    return !bad;
}

static int iqs_iq1_split(const float *sumx, const float *sumw, const float *x_p, const float *x_m, float *scale,
                         int *besti1, int *besti2) {
    if (!iqs_iq1_ranges(sumx, sumw, x_p, x_m)) return iq1_split_scan(sumx, sumw, x_p, x_m, scale, besti1, besti2);
    /* per i2: sumx/sumw, and the third terms of the sums, which do not
     * depend on i1 (the same products the scalar forms each time) */
    float sx[33 + IQS_VW], sw[33 + IQS_VW], cp[33 + IQS_VW], cm[33 + IQS_VW], cwp[33 + IQS_VW], cwm[33 + IQS_VW];
    memcpy(sx, sumx, 33 * sizeof *sx);
    memcpy(sw, sumw, 33 * sizeof *sw);
    for (int i = 33; i < 33 + IQS_VW; ++i) sx[i] = sumx[32], sw[i] = sumw[32];
    for (int i = 0; i < 33 + IQS_VW; ++i) {
        const float c = sumx[32] - sx[i], cw = sumw[32] - sw[i];
        cp[i] = c * x_p[2];
        cm[i] = c * x_m[2];
        cwp[i] = cw * x_p[2] * x_p[2];
        cwm[i] = cw * x_m[2] * x_m[2];
    }

    /* every candidate's qx, q2 and qx * qx, at [2 v + shift] for vector v */
    const iqs_vf zero = {0};
    iqs_vf qx[2 * IQS_NV1 + 7], q2[2 * IQS_NV1 + 7], x2[2 * IQS_NV1 + 7];
    int v = 0;
    for (int i1 = 0; i1 <= 32; ++i1) {
        const float ap = (sumx[i1] - sumx[0]) * x_p[0], am = (sumx[i1] - sumx[0]) * x_m[0];
        const float awp = (sumw[i1] - sumw[0]) * x_p[0] * x_p[0], awm = (sumw[i1] - sumw[0]) * x_m[0] * x_m[0];
        for (int i2 = i1; i2 <= 32; i2 += IQS_VW, v += 2) {
            const iqs_vf b = iqs_ldf(sx + i2) - sumx[i1], bw = iqs_ldf(sw + i2) - sumw[i1];
            qx[v] = ap + b * x_p[1] + iqs_ldf(cp + i2);
            q2[v] = awp + bw * x_p[1] * x_p[1] + iqs_ldf(cwp + i2);
            qx[v + 1] = am + b * x_m[1] + iqs_ldf(cm + i2);
            q2[v + 1] = awm + bw * x_m[1] * x_m[1] + iqs_ldf(cwm + i2);
            x2[v] = qx[v] * qx[v];
            x2[v + 1] = qx[v + 1] * qx[v + 1];
        }
    }
    for (int j = v; j < 2 * IQS_NV1 + 7; ++j) qx[j] = x2[j] = zero, q2[j] = zero + 1.f; /* passes nothing */

    /* per lane the largest qx^2 / q2, compared by cross products (it only
     * places L: the checks make the result exact); four running bests, so
     * that their chains overlap */
    iqs_vf bx2[4], bq2[4];
    for (int k = 0; k < 4; ++k) bx2[k] = zero, bq2[k] = zero + 1.f;
    for (int j = 0; j < v; j += 4)
        for (int k = 0; k < 4; ++k) {
            const iqs_vi up = x2[j + k] * bq2[k] > bx2[k] * q2[j + k];
            bx2[k] = iqs_self(up, x2[j + k], bx2[k]);
            bq2[k] = iqs_self(up, q2[j + k], bq2[k]);
        }
    iqs_vf r = bx2[0] / bq2[0];
    for (int k = 1; k < 4; ++k) {
        const iqs_vf rk = bx2[k] / bq2[k];
        r = iqs_self(rk > r, rk, r);
    }
    float fr[IQS_VW], top = 0;
    memcpy(fr, &r, sizeof fr);
    for (int t = 0; t < IQS_VW; ++t) top = QK_MAX(top, fr[t]);

    float sc = 0;
    int i1 = -1, i2 = -1, shift = 0;
    for (int k = 0; k < 3; ++k) {
        const float lim = top * (1.f - (k == 0 ? 0x1p-20f : k == 1 ? 0x1p-17f : 0x1p-14f));
        if (iqs_iq1_walk(qx, q2, x2, v / 2, lim, &sc, &i1, &i2, &shift)) {
            *scale = sc;
            *besti1 = i1;
            *besti2 = i2;
            return shift;
        }
    }
    return iq1_split_scan(sumx, sumw, x_p, x_m, scale, besti1, besti2);
}

/* qk_qp_finish with the elements in lanes (8-lane vectors whatever the
 * ISA; n a multiple of 8 up to 32, else the scalar's own). The scalar
 * refinement visits the elements in order and changes the sums only where
 * it accepts a new level; until then every element's test reads the same
 * sums. So each element's test is computed for all the elements left at
 * once, with the scalar's operations per lane, and the first that accepts
 * is applied; the tests after it are computed again from the new sums. The
 * levels are kept as the scalar keeps them (uint8_t: a negative new level
 * wraps, and later tests read it wrapped). */
/* The set lanes of an 8-lane mask as bits (lane k: bit k): the including
 * file's IQS_MASK8 (one instruction) if it has one. */
IQS_INLINE unsigned iqs_mask8(iqs_v8i m) {
#ifdef IQS_MASK8
    return IQS_MASK8(m);
#else
    int32_t h[8];
    memcpy(h, &m, sizeof h);
    unsigned bits = 0;
    for (int k = 0; k < 8; ++k) bits |= (unsigned)(h[k] != 0) << k;
    return bits;
#endif
}

/* The refinement's state between accepts: the vectors, the sums, where the
 * pass resumes (i0), the pass (itry) and its count of changes. */
typedef float iqs_v8f __attribute__((vector_size(32)));
typedef struct iqs_qp {
    iqs_v8f xv[4], wv[4], wx[4];
    iqs_v8i lv[4];
    float sumlx, suml2;
    int n, nmax, nq, i0, itry, n_changed;
    uint8_t *L;
} iqs_qp;

/* The state from the start's levels li (as L keeps them) and sums. */
IQS_INLINE void iqs_qp_set(iqs_qp *st, int n, int nmax, const float *x, uint8_t *L, const float *quant_weights,
                           const int32_t *li, float sumlx, float suml2) {
    st->nq = n / 8;
    for (int q = 0; q < st->nq; ++q) { /* whole vectors: no library call */
        memcpy(&st->xv[q], x + 8 * q, sizeof st->xv[q]);
        memcpy(&st->wv[q], quant_weights + 8 * q, sizeof st->wv[q]);
        memcpy(&st->lv[q], li + 8 * q, sizeof st->lv[q]);
        st->wx[q] = st->wv[q] * st->xv[q]; /* the scalar's w * x[i], then * L[i] */
    }
    st->sumlx = sumlx;
    st->suml2 = suml2;
    st->n = n;
    st->nmax = nmax;
    st->i0 = st->itry = st->n_changed = 0;
    st->L = L;
}

/* The scalar's start: the levels at iscale and their sums, in order. */
IQS_INLINE void iqs_qp_init(iqs_qp *st, int n, int nmax, const float *x, uint8_t *L, const float *quant_weights,
                            float iscale) {
    float sumlx = 0, suml2 = 0;
    int32_t li[32];
    for (int i = 0; i < n; ++i) { /* the scalar's start, sequential sums */
        int l = qk_nearest_int(iscale * x[i]);
        l = QK_MIN(nmax, l);
        L[i] = (uint8_t)l;
        li[i] = L[i];
        const float w = quant_weights[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    iqs_qp_set(st, n, nmax, x, L, quant_weights, li, sumlx, suml2);
}

/* One step of the scalar's passes: from i0 the first element that accepts,
 * applied; or, none left in the pass, the next pass (or the end: true). */
IQS_INLINE bool iqs_qp_step(iqs_qp *st) {
    typedef iqs_v8f v8f;
    typedef iqs_v8i v8i;
    const v8i iota = {0, 1, 2, 3, 4, 5, 6, 7};
    const int nmax = st->nmax, nq = st->nq, i0 = st->i0;
    const float sumlx = st->sumlx, suml2 = st->suml2;
    for (int q = i0 / 8; q < nq; ++q) {
        const v8f lf = __builtin_convertvector(st->lv[q], v8f);
        const v8f slx = sumlx - st->wx[q] * lf, sl2 = suml2 - st->wv[q] * lf * lf;
        const v8f f = st->xv[q] * sl2 / slx + 12582912.f; /* qk_nearest_int */
        v8i b;
        memcpy(&b, &f, sizeof b);
        v8i nl = (b & 0x007fffff) - 0x00400000;
        const v8i hi = nl > nmax;
        nl = (nl & ~hi) | (nmax & hi);
        const v8f nf = __builtin_convertvector(nl, v8f);
        const v8f slx2 = slx + st->wx[q] * nf, sl22 = sl2 + st->wv[q] * nf * nf;
        const v8i hit = (slx > 0) & (sl2 > 0) & (nl != st->lv[q]) &
                        (slx2 * slx2 * suml2 > sumlx * sumlx * sl22) & (iota + 8 * q >= i0);
        const unsigned bits = iqs_mask8(hit);
        if (!bits) continue; /* the usual case */
        const int t = __builtin_ctz(bits);
        const int lnew = nl[t];
        const v8i here = iota == t; /* the level updated in its register, as the scalar stores it */
        st->lv[q] = (st->lv[q] & ~here) | ((lnew & 255) & here);
        st->L[8 * q + t] = (uint8_t)lnew;
        st->sumlx = slx2[t];
        st->suml2 = sl22[t];
        ++st->n_changed;
        st->i0 = 8 * q + t + 1;
        return false;
    }
    if (!st->n_changed || ++st->itry == 5) return true;
    st->i0 = st->n_changed = 0;
    return false;
}

IQS_INLINE float iqs_qp_result(const iqs_qp *st) { return st->suml2 > 0.0f ? st->sumlx / st->suml2 : 0.0f; }

static float iqs_qp_finish(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights, float iscale) {
    if (n % 8 || n > 32) return qk_qp_finish(n, nmax, x, L, quant_weights, iscale);
    iqs_qp st;
    iqs_qp_init(&st, n, nmax, x, L, quant_weights, iscale);
    while (!iqs_qp_step(&st)) {
    }
    return iqs_qp_result(&st);
}

/* qk_make_qp_quants with its eight candidate scales in lanes (8-lane
 * vectors whatever the ISA): each lane's error sum is the scalar's, term by
 * term in element order; the choice stays sequential in candidate order
 * with the scalar's strict `<`. The first step is the scalar's own
 * (qk_qp_start), the last iqs_qp_finish. */
IQS_INLINE bool iqs_qp_pick(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights, float *iscale_out) {
    typedef float v8f __attribute__((vector_size(32)));
    typedef int32_t v8i __attribute__((vector_size(32)));
    float iscale, best_mse;
    const float max = qk_qp_start(n, nmax, x, L, quant_weights, &iscale, &best_mse);
    if (max == 0) return false;
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
    *iscale_out = iscale;
    return true;
}

static float iqs_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights) {
    float iscale;
    if (!iqs_qp_pick(n, nmax, x, L, quant_weights, &iscale)) return 0.f;
    return iqs_qp_finish(n, nmax, x, L, quant_weights, iscale);
}

/* IQ_QPN sub-blocks' make_qp_quants at once (iq_qpn_fn). Each step of
 * them runs in the same loops (qk_qp_start's max, levels and error; the
 * candidates' errors; the refinement's start), so that the in-order chains
 * of each (a float sum each, one add after another) overlap; the
 * refinements then go step by step in turn. Per sub-block the operations
 * and their order are the single version's; neither reads the other's. */
static void iqs_make_qp_quantsn(int n, int nmax, const float *const x[IQ_QPN], uint8_t *const L[IQ_QPN],
                                const float *const quant_weights[IQ_QPN], float out[IQ_QPN]) {
    typedef float v8f __attribute__((vector_size(32)));
    typedef int32_t v8i __attribute__((vector_size(32)));
    if (n % 8 || n > 32) {
        for (int k = 0; k < IQ_QPN; ++k) out[k] = iqs_make_qp_quants(n, nmax, x[k], L[k], quant_weights[k]);
        return;
    }
    /* qk_qp_start (its levels are only read here: the refinement's start
     * stores L again, and a dead sub-block's L is set to 0 below) */
    float max[IQ_QPN] = {0}, iscale[IQ_QPN], scale[IQ_QPN], best_mse[IQ_QPN] = {0};
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < IQ_QPN; ++k) max[k] = QK_MAX(max[k], x[k][i]);
    bool live[IQ_QPN];
    for (int k = 0; k < IQ_QPN; ++k) {
        live[k] = !(max[k] < QK_GROUP_MAX_EPS);
        iscale[k] = live[k] ? nmax / max[k] : 1.f; /* dead: computed on, never used */
        scale[k] = 1 / iscale[k];
    }
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < IQ_QPN; ++k) {
            const uint8_t l = (uint8_t)qk_nearest_int(iscale[k] * x[k][i]);
            const float diff = x[k][i] - scale[k] * l;
            best_mse[k] += quant_weights[k][i] * diff * diff;
        }
    /* the candidates, as iqs_make_qp_quants's */
    float isa[IQ_QPN][8];
    v8f isv[IQ_QPN], ssv[IQ_QPN], mse[IQ_QPN];
    for (int k = 0; k < IQ_QPN; ++k) {
        float ssa[8];
        for (int c = 0; c < 8; ++c) {
            isa[k][c] = qk_qp_iscale(nmax, live[k] ? max[k] : 1.f, c < 4 ? c - 4 : c - 3);
            ssa[c] = 1 / isa[k][c];
        }
        memcpy(&isv[k], isa[k], sizeof isv[k]);
        memcpy(&ssv[k], ssa, sizeof ssv[k]);
        mse[k] = (v8f){0};
    }
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < IQ_QPN; ++k) {
            const v8f f = isv[k] * x[k][i] + 12582912.f; /* qk_nearest_int */
            v8i b;
            memcpy(&b, &f, sizeof b);
            v8i l = (b & 0x007fffff) - 0x00400000;
            const v8i hi = l > nmax;
            l = (l & ~hi) | (nmax & hi);
            const v8f diff = x[k][i] - ssv[k] * __builtin_convertvector(l, v8f);
            mse[k] += quant_weights[k][i] * diff * diff;
        }
    for (int k = 0; k < IQ_QPN; ++k) {
        float ms[8];
        memcpy(ms, &mse[k], sizeof ms);
        for (int c = 0; c < 8; ++c)
            if (ms[c] < best_mse[k]) {
                best_mse[k] = ms[c];
                iscale[k] = isa[k][c];
            }
    }
    /* the refinement's start (iqs_qp_init's), then its steps in turn */
    float sumlx[IQ_QPN] = {0}, suml2[IQ_QPN] = {0};
    int32_t li[IQ_QPN][32];
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < IQ_QPN; ++k) {
            int l = qk_nearest_int(iscale[k] * x[k][i]);
            l = QK_MIN(nmax, l);
            li[k][i] = (uint8_t)l;
            const float w = quant_weights[k][i];
            sumlx[k] += w * x[k][i] * l;
            suml2[k] += w * l * l;
        }
    iqs_qp st[IQ_QPN];
    bool done[IQ_QPN];
    for (int k = 0; k < IQ_QPN; ++k) {
        for (int i = 0; i < n; ++i) L[k][i] = live[k] ? (uint8_t)li[k][i] : 0;
        done[k] = !live[k];
        if (live[k]) iqs_qp_set(&st[k], n, nmax, x[k], L[k], quant_weights[k], li[k], sumlx[k], suml2[k]);
    }
    int left = 0;
    for (int k = 0; k < IQ_QPN; ++k) left += !done[k];
    while (left > 0)
        for (int k = 0; k < IQ_QPN; ++k)
            if (!done[k]) left -= done[k] = iqs_qp_step(&st[k]);
    for (int k = 0; k < IQ_QPN; ++k) out[k] = live[k] ? iqs_qp_result(&st[k]) : 0.f;
}

#endif
