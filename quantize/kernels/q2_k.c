/* q2_k.c - Q2_K: 256 weights in 16 sub-blocks of 16, 2.625 bits per weight.
 *
 *   block (84 bytes): | scales[16] | qs[64] | d fp16 | dmin fp16 |
 *   scales[j] = 4-bit scale (low nibble) | 4-bit min (high nibble)
 *   weight = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4), q in 0..3;
 *   per 128-weight half: qs[l] = q[l] | q[l+32] << 2 | q[l+64] << 4 | q[l+96] << 6.
 *   Note d and dmin come last.
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "k_quants.h"
#include "k_quants_internal.h"
#include "search_neon.h"
#include "lanes_x86.h"
#include "kernel_util.h"
#include "quant_search.h"

#define BYTES sizeof(qk_block_q2_k)
#define D_OFF offsetof(qk_block_q2_k, d)
#define DMIN_OFF offsetof(qk_block_q2_k, dmin)


typedef void (*q2k_pack_fn)(const float *x, const float *d, const float *m, uint8_t *L, uint8_t *qs);

/* Requantize x against the per-sub-block d[j], m[j] (d[j] == 0 keeps the
 * search's levels) and pack the levels into qs. */
static void pack_ref(const float *x, const float *dv, const float *mv, uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dv[j];
        if (!d) continue;
        const float m = mv[j];
        for (int ii = 0; ii < 16; ++ii) {
            int l = qk_nearest_int((x[16 * j + ii] + m) / d);
            L[16 * j + ii] = (uint8_t)(l < 0 ? 0 : l > 3 ? 3 : l);
        }
    }
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

static void requantize_and_pack(const float *x, unsigned char *y, uint8_t *L, q2k_pack_fn pack) {
    const float dm = qk_get_f16(y + D_OFF), mm = qk_get_f16(y + DMIN_OFF);
    float d[QK_K / 16], m[QK_K / 16];
    for (int j = 0; j < QK_K / 16; ++j) {
        d[j] = dm * (y[j] & 0xF);
        m[j] = mm * (y[j] >> 4);
    }
    pack(x, d, m, L, y + offsetof(qk_block_q2_k, qs));
}

/* The scalar search of one super-block (no imatrix): per sub-block of 16,
 * make_qkx2_quants with weights |x|. */
static void search_ref(const float *x, float *scales, float *mins, uint8_t *L) {
    uint8_t Laux[16];
    float weights[16];
    for (int j = 0; j < QK_K / 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = fabsf(x[16 * j + l]);
        scales[j] = qk_make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
    }
}

/* Everything after the search (no imatrix): 4-bit scales and mins against
 * the block maxima, requantization and packing. */
static void finish_ref(const float *x, unsigned char *y, const float *scales, const float *mins, uint8_t *L,
                       q2k_pack_fn pack) {
    const float q4scale = 15.f;
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
        float iscale = q4scale / max_scale;
        for (int j = 0; j < QK_K / 16; ++j) y[j] = (uint8_t)qk_nearest_int(iscale * scales[j]);
        qk_put_f16(y + D_OFF, max_scale / q4scale);
    } else {
        for (int j = 0; j < QK_K / 16; ++j) y[j] = 0;
        qk_put_f16(y + D_OFF, 0.f);
    }
    if (max_min > 0) {
        float iscale = q4scale / max_min;
        /* as unsigned: a NaN input makes nearest_int negative, and x86 wraps the shift */
        for (int j = 0; j < QK_K / 16; ++j) y[j] |= (uint8_t)((unsigned)qk_nearest_int(iscale * mins[j]) << 4);
        qk_put_f16(y + DMIN_OFF, max_min / q4scale);
    } else {
        qk_put_f16(y + DMIN_OFF, 0.f);
    }
    requantize_and_pack(x, y, L, pack);
}

/* The block from its 4-bit scales Ls and mins Lm and their scales dm, mm. */
static void finish_levels(const float *x, unsigned char *y, float dm, float mm, const uint8_t *Ls, const uint8_t *Lm,
                          uint8_t *L, q2k_pack_fn pack) {
    qk_put_f16(y + D_OFF, dm);
    qk_put_f16(y + DMIN_OFF, mm);
    for (int j = 0; j < QK_K / 16; ++j) y[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
    requantize_and_pack(x, y, L, pack);
}

/* Everything after the imatrix search: make_qp_quants for the 4-bit scales
 * and mins, requantization and packing. */
static void finish_imatrix(const float *x, unsigned char *y, const float *scales, const float *mins, const float *sw,
                           uint8_t *L, q2k_pack_fn pack) {
    uint8_t Ls[QK_K / 16], Lm[QK_K / 16];
    float dm = qk_make_qp_quants(QK_K / 16, 15, scales, Ls, sw);
    float mm = qk_make_qp_quants(QK_K / 16, 15, mins, Lm, sw);
    finish_levels(x, y, dm, mm, Ls, Lm, L, pack);
}

/* One super-block, scalar: make_qkx2_quants without an imatrix (qw NULL),
 * make_qkx3_quants with. */
static void super_ref(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    uint8_t L[QK_K], Laux[16];
    float mins[QK_K / 16], scales[QK_K / 16], sw[QK_K / 16], weight[QK_K];
    if (!qw) {
        search_ref(x, scales, mins, L);
        finish_ref(x, y, scales, mins, L, pack_ref);
        return;
    }
    qk_kq_imatrix_weights_sub(16, 1.f, x, qw, weight, sw);
    for (int j = 0; j < QK_K / 16; ++j)
        scales[j] = qk_make_qkx3_quants(16, 3, x + 16 * j, weight + 16 * j, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f,
                                        36, false);
    finish_imatrix(x, y, scales, mins, sw, L, pack_ref);
}

size_t qk_quantize_q2_k(QK_QUANTIZE_PARAMS) {
    return qk_quantize_blocks_imatrix(QK_QUANTIZE_ARGS, QK_K, BYTES, super_ref, NULL);
}

static void to_float(const uint8_t *b, float *y) {
    const float d = qk_get_f16(b + D_OFF), min = qk_get_f16(b + DMIN_OFF);
    const uint8_t *q = b + offsetof(qk_block_q2_k, qs);
    int is = 0;
    for (int k = 0; k < QK_K; k += 128, q += 32) {
        int shift = 0;
        for (int j = 0; j < 4; ++j, shift += 2) {
            uint8_t sc = b[is++];
            float dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l] >> shift) & 3)) - ml;
            sc = b[is++];
            dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3)) - ml;
        }
    }
}

void qk_dequantize_row_q2_k(const void *src, float *y, int64_t n) {
    qk_dequantize_blocks(src, y, n, QK_K, BYTES, to_float);
}

#if defined(__x86_64__)
/* SIMD variants: the 16 sub-block searches of a super-block run as lanes
 * (lanes_<isa>.c: 16 lanes on AVX-512, two sets of 8 on AVX2), both
 * without and with an imatrix, and the element-wise requantization and bit
 * packing are vectorized; with an imatrix also the weights and the two
 * make_qp_quants per super-block (super-blocks as lanes). The rest is the
 * scalar code above, so the bytes are the scalar bytes. */
/* f below: the ISA's lane table (lanes_x86.h). */

/* With an imatrix, `width` consecutive super-blocks at a time: their
 * weights, their sub-block searches, then the two make_qp_quants (scales,
 * mins) with the super-blocks as lanes (idle lanes: all-zero input). */
static void imatrix_batch(const void *ctx, const float *x, const float *const *qw, int nsb, uint8_t *y) {
    const qk_lanes_x86 *f = ctx;
    float weight[16 * QK_K], sw[16 * 16], scales[16 * 16], mins[16 * 16], dm[16], mm[16];
    uint8_t L[16 * QK_K], Ls[16 * 16], Lm[16 * 16];
    f->kq_imatrix_weights(x, qw, nsb, 1.f, weight, sw);
    for (int s = 0; s < nsb; s++)
        for (int j = 0; j < QK_K / 16; j += f->width)
            f->q2k_lanes(x + QK_K * s + 16 * j, weight + QK_K * s + 16 * j, scales + 16 * s + j, mins + 16 * s + j,
                     L + QK_K * s + 16 * j);
    const size_t idle = sizeof(float) * 16 * (size_t)(f->width - nsb);
    memset(scales + 16 * nsb, 0, idle);
    memset(mins + 16 * nsb, 0, idle);
    memset(sw + 16 * nsb, 0, idle);
    f->qp_lanes(16, 15, scales, sw, dm, Ls);
    f->qp_lanes(16, 15, mins, sw, mm, Lm);
    for (int s = 0; s < nsb; s++)
        finish_levels(x + QK_K * s, y + s * BYTES, dm[s], mm[s], Ls + 16 * s, Lm + 16 * s, L + QK_K * s, f->q2k_pack);
}

/* Without an imatrix, one super-block: its sub-block searches as lanes. */
static void super_lanes(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    const qk_lanes_x86 *f = ctx;
    (void)qw;
    uint8_t L[QK_K];
    float mins[QK_K / 16], scales[QK_K / 16];
    for (int j = 0; j < QK_K / 16; j += f->width) f->q2k_lanes(x + 16 * j, NULL, scales + j, mins + j, L + 16 * j);
    finish_ref(x, y, scales, mins, L, f->q2k_pack);
}

static size_t quantize_lanes(const qk_lanes_x86 *f, QK_QUANTIZE_PARAMS) {
    return qk_quantize_batches(QK_QUANTIZE_ARGS, BYTES, f->width, imatrix_batch, super_lanes, f);
}

size_t qk_quantize_q2_k_avx2(QK_QUANTIZE_PARAMS) { return quantize_lanes(&qk_lanes_avx2, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q2_k_avx512(QK_QUANTIZE_PARAMS) { return quantize_lanes(&qk_lanes_avx512, QK_QUANTIZE_ARGS); }
#endif

#if defined(__aarch64__)
/* NEON: a super-block's 16 sub-block searches as four groups of 4 lanes
 * (search_neon.c), with and without an imatrix; the rest is the scalar
 * code, so the bytes are the scalar bytes. */
static void super_neon(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    const qk_kq_params ref = {3, -0.5f, 0.1f, 15}; /* make_qkx2_quants(16, 3, ..., -0.5f, 0.1f, 15, true) */
    const qk_kq_params im = {3, -0.9f, 0.05f, 36}; /* make_qkx3_quants(16, 3, ..., -0.9f, 0.05f, 36, false) */
    uint8_t L[QK_K];
    float scales[QK_K / 16], mins[QK_K / 16], weight[QK_K], sw[QK_K / 16];
    if (qw) qk_kq_imatrix_weights_sub(16, 1.f, x, qw, weight, sw);
    else
        for (int l = 0; l < QK_K; ++l) weight[l] = fabsf(x[l]);
    for (int g = 0; g < 4; g++)
        qk_kq_search4_neon(qw ? &im : &ref, 16, qw != NULL, qw == NULL, x + 64 * g, weight + 64 * g, scales + 4 * g,
                           mins + 4 * g, L + 64 * g);
    if (qw) finish_imatrix(x, y, scales, mins, sw, L, pack_ref);
    else finish_ref(x, y, scales, mins, L, pack_ref);
}

size_t qk_quantize_q2_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return qk_quantize_blocks_imatrix(src, dst, nrows, n_per_row, imatrix, QK_K, BYTES, super_neon, NULL);
}
#endif
