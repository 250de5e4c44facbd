/* q6_k.c - Q6_K: 256 weights in 16 sub-blocks of 16, 6.5625 bits per weight.
 *
 *   block (210 bytes): | ql[128] | qh[64] | scales[16] int8 | d fp16 |
 *   weight = d * scales[j] * (q - 32), q 6-bit: low 4 bits in ql, high 2 in qh.
 *   Per 128-weight half: ql[l] = q[l] | q[l+64] << 4, ql[l+32] = q[l+32] |
 *   q[l+96] << 4, qh[l] = q[l]>>4 | (q[l+32]>>4)<<2 | (q[l+64]>>4)<<4 | (q[l+96]>>4)<<6.
 *
 * Sub-block scales come from make_qx_quants (rmse_type 1; with an imatrix its
 * weights are the imatrix values themselves), then quantized to int8 against
 * the largest |scale|, then weights are requantized against the stored ones.
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

#define BYTES sizeof(qk_block_q6_k)

/* Scale of each sub-block of 16 (make_qx_quants, rmse_type 1; with an
 * imatrix its weights are the imatrix values themselves). */
static void search_ref(const float *x, const float *qw_block, float *scales, int8_t *L) {
    for (int ib = 0; ib < QK_K / 16; ++ib)
        scales[ib] = qk_make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw_block ? qw_block + 16 * ib : NULL);
}

/* Requantize x against the per-sub-block d[j] (d[j] == 0 keeps the search's
 * levels) and pack the levels into ql/qh: the scalar twin of
 * qk_q6k_pack_<isa> (lanes_<isa>.c). */
typedef void (*q6k_pack_fn)(const float *x, const float *d, int8_t *L, uint8_t *y);

void qk_q6k_pack_ref(const float *x, const float *dv, int8_t *L, uint8_t *y) {
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dv[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = qk_nearest_int(x[16 * j + ii] / d);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            L[16 * j + ii] = (int8_t)(l + 32);
        }
    }
    uint8_t *ql = y + offsetof(qk_block_q6_k, ql), *qh = y + offsetof(qk_block_q6_k, qh);
    for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                              ((L[j + l + 96] >> 4) << 6));
        }
    }
}

/* Everything after the search: int8 scales against the largest, the stored
 * fp16 d, requantization and packing. */
static void finish_pack(const float *x, unsigned char *y, const float *scales, int8_t *L, q6k_pack_fn pack) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        const float abs_scale = fabsf(scales[ib]);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scales[ib];
        }
    }
    if (max_abs_scale < QK_GROUP_MAX_EPS) {
        memset(y, 0, BYTES); /* d = fp16(0) = 0 as well */
        return;
    }
    float iscale = -128.f / max_scale;
    uint16_t dh = qk_fp32_to_fp16(1 / iscale);
    qk_put_u16(y + offsetof(qk_block_q6_k, d), dh);
    int8_t *sc = (int8_t *)(y + offsetof(qk_block_q6_k, scales));
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        int v = qk_nearest_int(iscale * scales[ib]);
        sc[ib] = (int8_t)(v < 127 ? v : 127);
    }
    const float dstored = qk_fp16_to_fp32(dh);
    float d[QK_K / 16];
    for (int j = 0; j < QK_K / 16; ++j) d[j] = dstored * sc[j];
    pack(x, d, L, y);
}

static void finish_ref(const float *x, unsigned char *y, const float *scales, int8_t *L) {
    finish_pack(x, y, scales, L, qk_q6k_pack_ref);
}

/* One super-block, scalar (qw: its imatrix or NULL). */
static void super_ref(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    search_ref(x, qw, scales, L);
    finish_ref(x, y, scales, L);
}

size_t qk_quantize_q6_k(QK_QUANTIZE_PARAMS) {
    return qk_quantize_blocks_imatrix(QK_QUANTIZE_ARGS, QK_K, BYTES, super_ref, NULL);
}

static void to_float(const uint8_t *b, float *y) {
    const float d = qk_fp16_to_fp32(qk_get_u16(b + offsetof(qk_block_q6_k, d)));
    const uint8_t *ql = b + offsetof(qk_block_q6_k, ql), *qh = b + offsetof(qk_block_q6_k, qh);
    const int8_t *sc = (const int8_t *)(b + offsetof(qk_block_q6_k, scales));
    for (int k = 0; k < QK_K; k += 128, y += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; ++l) {
            int is = l / 16;
            const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
    }
}

void qk_dequantize_row_q6_k(const void *src, float *y, int64_t n) {
    qk_dequantize_blocks(src, y, n, QK_K, BYTES, to_float);
}

#if defined(__x86_64__)
/* With an imatrix on AVX2 / AVX-512: the 16 sub-block searches of a
 * super-block, make_qx_quants(16, 32, x, L, 1, qw) with the imatrix values
 * as weights, run as lanes (lanes_<isa>.c: 16 lanes on AVX-512, two
 * interleaved sets of 8 on AVX2, qk_qx2_lanes), then the vectorized requantization and packing (qk_q6k_pack); the
 * rest is the scalar code, so the bytes are the scalar bytes. */
/* f below: the ISA's lane table (lanes_x86.h). With an imatrix the 16
 * searches are one call: 16 lanes on AVX-512, two interleaved sets of 8
 * (qx2_lanes) on AVX2; without, calls of `width` groups. */

static void super_lanes(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    const qk_lanes_x86 *f = ctx;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    if (qw) (f->width == 16 ? f->qx_lanes : f->qx2_lanes)(16, 32, x, qw, scales, L);
    else
        for (int j = 0; j < QK_K / 16; j += f->width) f->qx_lanes(16, 32, x + 16 * j, NULL, scales + j, L + 16 * j);
    finish_pack(x, y, scales, L, f->q6k_pack);
}

size_t qk_quantize_q6_k_avx2(QK_QUANTIZE_PARAMS) {
    return qk_quantize_blocks_imatrix(QK_QUANTIZE_ARGS, QK_K, BYTES, super_lanes, &qk_lanes_avx2);
}
size_t qk_quantize_q6_k_avx512(QK_QUANTIZE_PARAMS) {
    return qk_quantize_blocks_imatrix(QK_QUANTIZE_ARGS, QK_K, BYTES, super_lanes, &qk_lanes_avx512);
}
#endif

#if defined(__aarch64__)
/* NEON: the 16 sub-block searches of a super-block as four groups of 4 lanes
 * (search_neon.c), with and without an imatrix (then its values are the
 * weights, as in search_ref). */
static void super_neon(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int g = 0; g < 4; g++)
        qk_qx_search4_neon(16, 32, x + 64 * g, qw ? qw + 64 * g : NULL, scales + 4 * g, L + 64 * g);
    finish_ref(x, y, scales, L);
}

size_t qk_quantize_q6_k_neon(QK_QUANTIZE_PARAMS) {
    return qk_quantize_blocks_imatrix(QK_QUANTIZE_ARGS, QK_K, BYTES, super_neon, NULL);
}
#endif
