/* q1_q2_x86.h - the part of q1_q2_body.h's vocabulary that AVX2 and AVX-512
 * spell alike (through vec_x86.h's vf / vi / VX_), shared by
 * q1_q2_avx2.c and q1_q2_avx512.c. Include after vec_x86.h and after the
 * ISA's own pieces:
 *   q1_load_parts(p)    the 4 floats at p + 4 * m * QK_Q1_0 in 128-bit lane m
 *   q1_mask_bits(m)     a compare's lanes as bits (lane i -> bit i)
 *   qq_hmax_u32(a)      the largest 32-bit lane of a (all below 2^31) */
#ifndef QK_Q1_Q2_X86_H
#define QK_Q1_Q2_X86_H

#include <stdint.h>
#include <string.h>

#include "ggml_blocks.h"

#define QQ_W LN_W
typedef vf qq_vf;
static inline qq_vf qq_vf_zero(void) { return VX_(setzero_ps)(); }
static inline qq_vf qq_vf_add(qq_vf acc, qq_vf a) { return vf_add(acc, a); }
static inline void qq_vf_store(float *p, qq_vf a) { vf_store(p, a); }

/* Row r (r = 0..3) holds elements 0..3 of blocks r, r + 4, r + 8, ... in
 * its 128-bit lanes; an in-lane 4 x 4 transpose then gives c[i] lane
 * 4m + r = element i of block 4m + r, i.e. lane k = block k. */
static inline void q1_cols4(const float *x, qq_vf c[4]) {
    vf r[4];
    for (int k = 0; k < 4; k++) r[k] = vf_abs(q1_load_parts(x + k * QK_Q1_0));
    const vf t0 = VX_(unpacklo_ps)(r[0], r[1]), t1 = VX_(unpackhi_ps)(r[0], r[1]);
    const vf t2 = VX_(unpacklo_ps)(r[2], r[3]), t3 = VX_(unpackhi_ps)(r[2], r[3]);
    c[0] = VX_(castpd_ps)(VX_(unpacklo_pd)(VX_(castps_pd)(t0), VX_(castps_pd)(t2)));
    c[1] = VX_(castpd_ps)(VX_(unpackhi_pd)(VX_(castps_pd)(t0), VX_(castps_pd)(t2)));
    c[2] = VX_(castpd_ps)(VX_(unpacklo_pd)(VX_(castps_pd)(t1), VX_(castps_pd)(t3)));
    c[3] = VX_(castpd_ps)(VX_(unpackhi_pd)(VX_(castps_pd)(t1), VX_(castps_pd)(t3)));
}

/* LN_W sign bits per compare, stored little-endian (x86) as LN_W / 8 bytes */
static inline void q1_signs(const float *x, uint8_t *qs) {
    for (int j = 0; j < QK_Q1_0; j += LN_W) {
        const uint32_t bits = q1_mask_bits(VX_CMP(vf_load(x + j), qq_vf_zero(), _CMP_GE_OQ));
        memcpy(qs + j / 8, &bits, LN_W / 8);
    }
}

/* |x| as bits is non-negative as int32, so the signed max orders it */
static inline uint32_t q2_amax_bits(const float *x) {
    const vi abs = vi_set1(0x7fffffff);
    vi m = vi_and(VX_SI(castps)(vf_load(x)), abs);
    for (int j = LN_W; j < QK_Q2_0; j += LN_W) m = vi_max(m, vi_and(VX_SI(castps)(vf_load(x + j)), abs));
    return qq_hmax_u32(m);
}

/* Codes (bytes 0..2) to packed bytes: each 4 consecutive bytes c0..c3 of t
 * to the 32-bit lane c0 + 4 c1 + 16 c2 + 64 c3 (at most 170) */
static inline vi q2_pack4(vi t) {
    return VX_(madd_epi16)(VX_(maddubs_epi16)(t, VX_(set1_epi16)(0x0401)), VX_(set1_epi32)(0x00100001));
}

#endif
