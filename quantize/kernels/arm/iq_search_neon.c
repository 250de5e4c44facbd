/* iq_search_neon.c - the NEON build of the IQ1/IQ2/IQ3 neighbour search and
 * of the IQ2/IQ3 scale scan (iq_scan_body.h; contract: iq_scan_scale in
 * iq_search.h). The search: four neighbours per vector, each lane in the
 * scalar order (contract:
 * iq_best_neighbour in iq_search.h; why it is bit-identical: the x86 body
 * x86/iq_search_body.h, whose scheme this is). The per-element terms
 * t(i, l) for the (at most 8) levels sit in two vectors, looked up per lane
 * by byte table (TBL), and d2 adds them in element order. */
#include <arm_neon.h>
#include <float.h>

#include "iq_search.h"

#define INS_INLINE static inline __attribute__((always_inline))

/* The position in nb of the point found, the level values in vq[0..7]. */
INS_INLINE int ins_search_at(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                             float scale, float32x4_t vq0, float32x4_t vq1, const int dim, const int bits) {
    const float32x4_t vs = vdupq_n_f32(scale);
    uint8x16x2_t tab[8];
    for (int i = 0; i < dim; ++i) {
        const float32x4_t x = vdupq_n_f32(xval[i]), w = vdupq_n_f32(weight[i]);
        const float32x4_t d0 = vsubq_f32(vmulq_f32(vs, vq0), x);
        const float32x4_t d1 = vsubq_f32(vmulq_f32(vs, vq1), x);
        tab[i].val[0] = vreinterpretq_u8_f32(vmulq_f32(vmulq_f32(w, d0), d0));
        tab[i].val[1] = vreinterpretq_u8_f32(vmulq_f32(vmulq_f32(w, d1), d1));
    }
    const int n = nb[0];
    const uint16_t *lev = lat->nb_levels + (nb - lat->neighbours);
    const uint32x4_t lmask = vdupq_n_u32((1u << bits) - 1), bytes = vdupq_n_u32(0x03020100u);
    const uint32x4_t splat = vdupq_n_u32(0x04040404u); /* 4 * level into each byte */
    const int32_t iota_a[4] = {0, 1, 2, 3};
    const int32x4_t iota = vld1q_s32(iota_a), end = vdupq_n_s32(n + 1);
    float32x4_t best = vdupq_n_f32(FLT_MAX);
    int32x4_t bestj = vdupq_n_s32(-1);
    for (int j = 1; j <= n; j += 4) {
        const uint32x4_t p = vmovl_u16(vld1_u16(lev + j));
        float32x4_t d2 = vdupq_n_f32(0.f);
        for (int i = 0; i < dim; ++i) {
            const uint32x4_t l = vandq_u32(vshlq_u32(p, vdupq_n_s32(-bits * i)), lmask);
            const uint8x16_t idx = vreinterpretq_u8_u32(vaddq_u32(vmulq_u32(l, splat), bytes));
            d2 = vaddq_f32(d2, vreinterpretq_f32_u8(vqtbl2q_u8(tab[i], idx)));
        }
        const int32x4_t jv = vaddq_s32(vdupq_n_s32(j), iota);
        const uint32x4_t m = vandq_u32(vcltq_f32(d2, best), vcltq_s32(jv, end)); /* past the list: never */
        best = vbslq_f32(m, d2, best);
        bestj = vbslq_s32(m, jv, bestj);
    }
    float bv[4];
    int32_t bj[4];
    vst1q_f32(bv, best);
    vst1q_s32(bj, bestj);
    int jbest = -1;
    float bd = FLT_MAX;
    for (int k = 0; k < 4; ++k) {
        if (bj[k] < 0) continue;
        if (bv[k] < bd || (bv[k] == bd && bj[k] < jbest)) {
            bd = bv[k];
            jbest = bj[k];
        }
    }
    return jbest < 0 ? 1 : jbest;
}

INS_INLINE int ins_search(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                          float scale, const float *qlev, int8_t *L, const int dim, const int bits) {
    float ql[8];
    for (int l = 0; l < 8; ++l) ql[l] = l < lat->levels ? qlev[l] : 0.f;
    const int at = ins_search_at(lat, nb, xval, weight, scale, vld1q_f32(ql), vld1q_f32(ql + 4), dim, bits);
    const uint16_t *lev = lat->nb_levels + (nb - lat->neighbours);
    for (int i = 0; i < dim; ++i) L[i] = (int8_t)((lev[at] >> (bits * i)) & ((1 << bits) - 1));
    return nb[at];
}

/* For the scale scan (iq_scan_body.h): the search with levels 2l+1
 * (iq_odd_levels), returning the packed levels of the point found. */
INS_INLINE int iqs_nb_packed(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                             float scale, const int dim, const int bits) {
    const float odd[8] = {1, 3, 5, 7, 9, 11, 13, 15};
    const int at = ins_search_at(lat, nb, xval, weight, scale, vld1q_f32(odd), vld1q_f32(odd + 4), dim, bits);
    return lat->nb_levels[(nb - lat->neighbours) + at];
}

int qk_iq_best_neighbour_neon(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                              float scale, const float *qlev, int8_t *L) {
    if (lat->dim == 8) return ins_search(lat, nb, xval, weight, scale, qlev, L, 8, 2);
    return ins_search(lat, nb, xval, weight, scale, qlev, L, 4, 3);
}

#define IQS_VW 4
#define IQS_ANY(m) (vmaxvq_u32((uint32x4_t)(m)) != 0)
#include "iq_scan_body.h"

const iq_ops qk_iq_ops_neon = {qk_iq_best_neighbour_neon, iqs_scan_scale, iqs_iq1_split, iqs_make_qp_quants,
                                 iq_sort_pairs, iqs_make_qp_quantsn};
