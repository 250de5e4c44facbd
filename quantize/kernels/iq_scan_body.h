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

/* The scan for a lattice of dim coordinates of `bits` bits each (constants
 * at the call sites, so the loops unroll). */
IQS_INLINE float iqs_scan(const qk_lattice *lat, const iq_scan *p, float ref, float scale, const float *xval,
                          const float *weight, const float *waux, int8_t *L, const int dim, const int bits) {
    const int ngroups = p->n / dim, ns = p->is_hi - p->is_lo + 1, top = p->kmaxq - 1;
    const int32_t lmask = (1 << bits) - 1;
    if (ns > IQS_NS || ngroups > 8) return iq_scan_scale(lat, p, ref, scale, xval, weight, waux, L);
    float id[IQS_NS];
    for (int s = 0; s < IQS_NS; ++s) id[s] = iq_scan_id(p, ref, p->is_lo + (s < ns ? s : ns - 1));

    /* (1) the packed levels u[k][s] of group k at scale s */
    int32_t u[8][IQS_NS];
    for (int k = 0; k < ngroups; ++k)
        for (int v = 0; v < IQS_NV; ++v) {
            const iqs_vf idv = iqs_ldf(id + v * IQS_VW);
            iqs_vi acc = {0};
            for (int i = 0; i < dim; ++i) acc |= iqs_level(0.5f * (idv * xval[dim * k + i] - 1.f), top) << (bits * i);
            iqs_sti(u[k] + v * IQS_VW, acc);
        }

    /* (2) off the grid: the nearest neighbour's levels instead; bit k of
     * on[s] says group k was on the grid */
    uint8_t on[IQS_NS];
    for (int s = 0; s < ns; ++s) {
        const float sc = 1 / id[s];
        on[s] = 0;
        for (int k = 0; k < ngroups; ++k) {
            const int uks = u[k][s];
            if (lat->map[uks] >= 0) {
                on[s] |= (uint8_t)(1u << k);
                continue;
            }
            u[k][s] = iqs_nb_packed(lat, iq_neighbours(lat, uks), xval + dim * k, waux + dim * k, sc, dim, bits);
        }
    }

    /* (3) sumqx and sumq2 per scale, elements in order */
    float qx[IQS_NS], q2[IQS_NS];
    for (int v = 0; v < IQS_NV; ++v) {
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

#endif
