/* q3_k.c - Q3_K: 256 weights in 16 sub-blocks of 16, 3.4375 bits per weight.
 *
 *   block (110 bytes): | hmask[32] | qs[64] | scales[12] | d fp16 |
 *   weight = d * (s[j] - 32) * (q - 4): q is 3-bit, low 2 bits in qs (packed
 *   like Q2_K), bit 2 in hmask (bit j/32 of hmask[j%32]); the 16 six-bit
 *   scales s[j] (stored +32): low 4 bits in scales[j] (j<8) or the high
 *   nibble of scales[j-8], high 2 bits at bit 2*(j/4) of scales[8 + j%4].
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

#define BYTES sizeof(qk_block_q3_k)
#define SCALES_OFF offsetof(qk_block_q3_k, scales)

static int8_t get_scale(const uint8_t *scales, int j) {
    int8_t sc = (int8_t)(j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4);
    return (int8_t)((sc | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
}

static void put_scale(uint8_t *scales, int j, int l) {
    if (j < 8) scales[j] = (uint8_t)(l & 0xF);
    else scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
    l >>= 4;
    scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
}

typedef void (*q3k_pack_fn)(const float *x, const float *d, int8_t *L, uint8_t *hmask, uint8_t *qs);

/* Requantize x against the per-sub-block d[j] (d[j] == 0 keeps the
 * search's levels) and pack the levels into hmask and qs. */
static void pack_ref(const float *x, const float *dv, int8_t *L, uint8_t *hmask, uint8_t *qs) {
    for (int j = 0; j < QK_K / 16; ++j) {
        float d = dv[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = qk_nearest_int(x[16 * j + ii] / d);
            l = l < -4 ? -4 : l > 3 ? 3 : l;
            L[16 * j + ii] = (int8_t)(l + 4);
        }
    }
    memset(hmask, 0, QK_K / 8);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < QK_K; ++j) {
        if (L[j] > 3) {
            hmask[m] |= hm;
            L[j] -= 4;
        }
        if (++m == QK_K / 8) m = 0, hm <<= 1;
    }
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

static void requantize_and_pack(const float *x, unsigned char *y, int8_t *L, q3k_pack_fn pack) {
    const float dall = qk_fp16_to_fp32(qk_get_u16(y + offsetof(qk_block_q3_k, d)));
    float d[QK_K / 16];
    for (int j = 0; j < QK_K / 16; ++j) d[j] = dall * get_scale(y + SCALES_OFF, j);
    pack(x, d, L, y + offsetof(qk_block_q3_k, hmask), y + offsetof(qk_block_q3_k, qs));
}

static void put_d(unsigned char *y, float d) {
    qk_put_u16(y + offsetof(qk_block_q3_k, d), qk_fp32_to_fp16(d));
}

/* Everything after the search (no imatrix): 6-bit scales against the
 * largest |scale|, the stored d, requantization and packing. */
static void finish_ref(const float *x, unsigned char *y, const float *scales, int8_t *L, q3k_pack_fn pack) {
    float max_scale = 0, amax = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
        float scale = fabsf(scales[j]);
        if (scale > amax) amax = scale, max_scale = scales[j];
    }
    memset(y + SCALES_OFF, 0, 12);
    if (max_scale) {
        float iscale = -32.f / max_scale;
        for (int j = 0; j < QK_K / 16; ++j) {
            int8_t l = (int8_t)qk_nearest_int(iscale * scales[j]); /* int8 first, as ggml */
            int v = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
            put_scale(y + SCALES_OFF, j, v);
        }
        put_d(y, 1 / iscale);
    } else {
        put_d(y, 0.f);
    }
    requantize_and_pack(x, y, L, pack);
}

/* The block from its 6-bit scales Ls (stored +32) and d. */
static void finish_scales(const float *x, unsigned char *y, float d_block, const int8_t *Ls, int8_t *L,
                          q3k_pack_fn pack) {
    memset(y + SCALES_OFF, 0, 12);
    for (int j = 0; j < QK_K / 16; ++j) put_scale(y + SCALES_OFF, j, Ls[j]);
    put_d(y, d_block);
    requantize_and_pack(x, y, L, pack);
}

/* Everything after the imatrix search: make_qx_quants for the 6-bit
 * scales, requantization and packing. */
static void finish_imatrix(const float *x, unsigned char *y, const float *scales, const float *sw, int8_t *L,
                           q3k_pack_fn pack) {
    int8_t Ls[QK_K / 16];
    float d_block = qk_make_qx_quants(QK_K / 16, 32, scales, Ls, 1, sw);
    finish_scales(x, y, d_block, Ls, L, pack);
}

/* One super-block, scalar: make_q3_quants without an imatrix (qw NULL),
 * make_qx_quants with. */
static void super_ref(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    int8_t L[QK_K];
    float scales[QK_K / 16], weight[QK_K], sw[QK_K / 16];
    if (!qw) {
        for (int j = 0; j < QK_K / 16; ++j) scales[j] = qk_make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
        finish_ref(x, y, scales, L, pack_ref);
        return;
    }
    qk_kq_imatrix_weights_sub(16, 2.f, x, qw, weight, sw);
    for (int j = 0; j < QK_K / 16; ++j) scales[j] = qk_make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight + 16 * j);
    finish_imatrix(x, y, scales, sw, L, pack_ref);
}

size_t qk_quantize_q3_k(QK_QUANTIZE_PARAMS) {
    return qk_quantize_blocks_imatrix(QK_QUANTIZE_ARGS, QK_K, BYTES, super_ref, NULL);
}

static void to_float(const uint8_t *b, float *y) {
    const float d_all = qk_fp16_to_fp32(qk_get_u16(b + offsetof(qk_block_q3_k, d)));
    const uint8_t *q = b + offsetof(qk_block_q3_k, qs), *hm = b + offsetof(qk_block_q3_k, hmask);
    uint8_t m = 1;
    int is = 0;
    for (int k = 0; k < QK_K; k += 128, q += 32) {
        int shift = 0;
        for (int j = 0; j < 4; ++j, shift += 2, m <<= 1) {
            float dl = d_all * get_scale(b + SCALES_OFF, is++);
            for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
            dl = d_all * get_scale(b + SCALES_OFF, is++);
            for (int l = 0; l < 16; ++l)
                *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
        }
    }
}

void qk_dequantize_row_q3_k(const void *src, float *y, int64_t n) {
    qk_dequantize_blocks(src, y, n, QK_K, BYTES, to_float);
}

#if defined(__aarch64__)
/* NEON: a super-block's 16 sub-block searches as four groups of 4 lanes
 * (search_neon.c: make_q3_quants without, make_qx_quants with an
 * imatrix); the rest is the scalar code, so the bytes are the scalar bytes. */
static void super_neon(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    int8_t L[QK_K];
    float scales[QK_K / 16], weight[QK_K], sw[QK_K / 16];
    if (qw) {
        qk_kq_imatrix_weights_sub(16, 2.f, x, qw, weight, sw);
        for (int g = 0; g < 4; g++) qk_qx_search4_neon(16, 4, x + 64 * g, weight + 64 * g, scales + 4 * g, L + 64 * g);
        finish_imatrix(x, y, scales, sw, L, pack_ref);
    } else {
        for (int g = 0; g < 4; g++) qk_q3_search4_neon(4, x + 64 * g, scales + 4 * g, L + 64 * g);
        finish_ref(x, y, scales, L, pack_ref);
    }
}

size_t qk_quantize_q3_k_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return qk_quantize_blocks_imatrix(src, dst, nrows, n_per_row, imatrix, QK_K, BYTES, super_neon, NULL);
}
#endif

#if defined(__x86_64__)
/* SIMD variants: the 16 sub-block searches of a super-block (make_q3_quants,
 * or make_qx_quants with an imatrix) run as lanes (lanes_<isa>.c: 16
 * lanes on AVX-512, two sets of 8 on AVX2), and the element-wise
 * requantization and bit packing are vectorized; with an imatrix also the
 * weights and the make_qx_quants of the 16 scales (super-blocks as lanes).
 * The rest is the scalar code above, so the bytes are the scalar bytes. */
/* f below: the ISA's lane table (lanes_x86.h). */

/* With an imatrix, `width` consecutive super-blocks at a time: their
 * weights, their sub-block searches, then make_qx_quants(16, 32, scales, ..,
 * sw) of the super-blocks as lanes (idle lanes get all-zero scales). */
static void imatrix_batch(const void *ctx, const float *x, const float *const *qw, int nsb, uint8_t *y) {
    const qk_lanes_x86 *f = ctx;
    float weight[16 * QK_K], sw[16 * 16], scales[16 * 16], d[16];
    int8_t L[16 * QK_K], Ls[16 * 16];
    f->kq_imatrix_weights(x, qw, nsb, 2.f, weight, sw);
    for (int s = 0; s < nsb; s++)
        for (int j = 0; j < QK_K / 16; j += f->width)
            f->qx_lanes(16, 4, x + QK_K * s + 16 * j, weight + QK_K * s + 16 * j, scales + 16 * s + j,
                        L + QK_K * s + 16 * j);
    memset(scales + 16 * nsb, 0, sizeof(float) * 16 * (size_t)(f->width - nsb));
    memset(sw + 16 * nsb, 0, sizeof(float) * 16 * (size_t)(f->width - nsb));
    f->qx_lanes(16, 32, scales, sw, d, Ls);
    for (int s = 0; s < nsb; s++) finish_scales(x + QK_K * s, y + s * BYTES, d[s], Ls + 16 * s, L + QK_K * s, f->q3k_pack);
}

/* Without an imatrix, one super-block: its sub-block searches as lanes. */
static void super_lanes(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    const qk_lanes_x86 *f = ctx;
    (void)qw;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int j = 0; j < QK_K / 16; j += f->width) f->q3k_lanes(x + 16 * j, scales + j, L + 16 * j);
    finish_ref(x, y, scales, L, f->q3k_pack);
}

static size_t quantize_lanes(const qk_lanes_x86 *f, QK_QUANTIZE_PARAMS) {
    return qk_quantize_batches(QK_QUANTIZE_ARGS, BYTES, f->width, imatrix_batch, super_lanes, f);
}

size_t qk_quantize_q3_k_avx2(QK_QUANTIZE_PARAMS) { return quantize_lanes(&qk_lanes_avx2, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q3_k_avx512(QK_QUANTIZE_PARAMS) { return quantize_lanes(&qk_lanes_avx512, QK_QUANTIZE_ARGS); }
#endif
