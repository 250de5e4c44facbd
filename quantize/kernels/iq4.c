/* iq4.c - IQ4_NL and IQ4_XS: 4-bit indices into the non-linear codebook
 * kvalues = {-127,-104,-83,-65,-49,-35,-22,-10,1,13,25,38,53,69,89,113}, in
 * split-halves nibble order per 32 elements (as Q4_0).
 *
 *   IQ4_NL (32 elements)  byte 0     2                      18
 *                              +-----+----------------------+
 *                              | d   | qs[16]               |   x[j] = d * kvalues[q[j]]
 *                              +-----+----------------------+
 *   IQ4_XS (256 elements) byte 0     2          4           8                     136
 *                              +-----+----------+-----------+---------------------+
 *                              | d   | scales_h | scales_l[4]| qs[128] (8 x 16)   |
 *                              +-----+----------+-----------+---------------------+
 *     sub-block ib (32 elements): ls = (scales_l[ib/2] >> 4*(ib%2) & 15)
 *                                      | ((scales_h >> 2*ib) & 3) << 4
 *     x[j] = d * (ls - 32) * kvalues[q[j]]
 *
 * Both follow ggml's quantize_row_iq4_nl_impl with ntry = 7 (what
 * quantize_iq4_nl / quantize_iq4_xs use, with or without an imatrix): a
 * weighted least-squares fit of the scale over 15 candidate starting scales.
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "k_quants_internal.h"
#include "search_neon.h"
#include "lanes_x86.h"
#include "quant_search.h"
#include "iq4.h"
#include "kernel_util.h"

static const int8_t k_values_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

typedef void (*iq4_pack_fn)(const float *x, float id, uint8_t *q16);

/* One block of 32 at scale 1/id: q16[j] = index of x[j] | index of x[j+16] << 4. */
static void pack_ref(const float *x, float id, uint8_t *q16) {
    for (int j = 0; j < 16; ++j)
        q16[j] = (uint8_t)(qk_best_index_int8(16, k_values_iq4nl, id * x[j]) |
                           (qk_best_index_int8(16, k_values_iq4nl, id * x[j + 16]) << 4));
}

/* The search weights of one super-block of `super` elements (32 for IQ4_NL,
 * 256 for IQ4_XS), in ggml's order: with an imatrix qw * sqrt(sigma2 + x^2),
 * sigma2 = 2 * mean(x^2) over the super-block; without (qw NULL) x^2. */
static void iq4_weights(int super, const float *x, const float *qw, float *weight) {
    if (!qw) {
        for (int j = 0; j < super; ++j) weight[j] = x[j] * x[j];
        return;
    }
    float sigma2 = 0;
    for (int j = 0; j < super; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.f / super;
    for (int j = 0; j < super; ++j) weight[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
}

/* sum(w * q * x) and sum(w * q^2) of one block of 32 at inverse scale id,
 * q the codebook value nearest id * x, in ggml's order. */
static inline void iq4_sums(const float *xb, const float *weight, float id, float *sumqx, float *sumq2) {
    float qx = 0, q2 = 0;
    for (int j = 0; j < 32; ++j) {
        float al = id * xb[j];
        int l = qk_best_index_int8(16, k_values_iq4nl, al);
        float q = k_values_iq4nl[l];
        float w = weight[j];
        qx += w * q * xb[j];
        q2 += w * q * q;
    }
    *sumqx = qx;
    *sumq2 = q2;
}

/* The scale of one block of 32 (quantize_row_iq4_nl_impl with ntry = 7)
 * under the weights of iq4_weights; 0 for an all-zero block. The levels the
 * search picks are not kept: both formats requantize every element against
 * the final scale. search_neon.c and lanes_body.h are its lane
 * twins. */
static float iq4_search(const float *xb, const float *weight) {
    const int8_t *values = k_values_iq4nl;
    const int ntry = 7;
    float max, sumqx, sumq2;
    if (qk_signed_absmax(xb, 32, &max) < QK_GROUP_MAX_EPS) return 0;
    float d = -max / values[0];
    iq4_sums(xb, weight, 1 / d, &sumqx, &sumq2);
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -ntry; itry <= ntry; ++itry) {
        iq4_sums(xb, weight, (itry + values[0]) / max, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* IQ4_NL block b (18 bytes) from its scale d. */
static void iq4_finish_nl(const float *x, uint8_t *b, float d, iq4_pack_fn pack) {
    qk_put_u16(b, qk_fp32_to_fp16(d));
    float id = d ? 1 / d : 0;
    pack(x, id, b + offsetof(qk_block_iq4_nl, qs));
}

/* IQ4_XS block b (136 bytes) from its 8 sub-block scales: the 6-bit
 * sub-scales against the largest |scale|, then every sub-block requantized
 * against its stored sub-scale. */
static void iq4_finish_xs(const float *x, uint8_t *b, const float *scales, iq4_pack_fn pack) {
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < 8; ++ib) {
        float abs_d = fabsf(scales[ib]);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = scales[ib];
        }
    }
    uint8_t *scales_l = b + offsetof(qk_block_iq4_xs, scales_l), *q4 = b + offsetof(qk_block_iq4_xs, qs);
    uint16_t sh = 0;
    float d = -max_scale / 32;
    qk_put_u16(b, qk_fp32_to_fp16(d));
    float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < 8; ++ib) {
        int l = qk_nearest_int(id * scales[ib]);
        l = QK_MAX(-32, QK_MIN(31, l));
        float dl = d * l;
        float idl = dl ? 1 / dl : 0.f;
        pack(x + 32 * ib, idl, q4 + 16 * ib);
        l += 32;
        uint8_t l_l = (uint8_t)(l & 0xf);
        uint8_t l_h = (uint8_t)(l >> 4);
        if (ib % 2 == 0) scales_l[ib / 2] = l_l;
        else scales_l[ib / 2] |= (uint8_t)(l_l << 4);
        sh |= (uint16_t)(l_h << 2 * (ib % 8));
    }
    qk_put_u16(b + offsetof(qk_block_iq4_xs, scales_h), sh);
}

/* Either format's bytes from the scales of its blocks of 32 (super = 32:
 * IQ4_NL, one scale; 256: IQ4_XS, eight). */
static void iq4_finish(int super, const float *x, uint8_t *b, const float *scales, iq4_pack_fn pack) {
    if (super == QK_LEGACY) iq4_finish_nl(x, b, scales[0], pack);
    else iq4_finish_xs(x, b, scales, pack);
}

/* One super-block of either format (ctx: its size) through the scalar
 * search; qw its imatrix or NULL. */
static void iq4_super_ref(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    const int super = *(const int *)ctx;
    float weight[QK_K], scales[QK_K / 32];
    iq4_weights(super, x, qw, weight);
    for (int ib = 0; ib < super / 32; ++ib) scales[ib] = iq4_search(x + 32 * ib, weight + 32 * ib);
    iq4_finish(super, x, y, scales, pack_ref);
}

static const int k_nl = QK_LEGACY, k_xs = QK_K;

size_t qk_quantize_iq4_nl(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return qk_quantize_blocks_imatrix(src, dst, nrows, n_per_row, imatrix, QK_LEGACY, sizeof(qk_block_iq4_nl),
                                      iq4_super_ref, &k_nl);
}

size_t qk_quantize_iq4_xs(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return qk_quantize_blocks_imatrix(src, dst, nrows, n_per_row, imatrix, QK_K, sizeof(qk_block_iq4_xs),
                                      iq4_super_ref, &k_xs);
}

#if defined(__x86_64__)
/* SIMD variants (both imatrix modes): the block searches run as lanes of
 * lanes_<isa>.c (16 blocks of 32 on AVX-512, 8 on AVX2: IQ4_NL
 * blocks, or the sub-blocks of two / one IQ4_XS super-blocks), the imatrix
 * weights and the final requantization (with its vector best_index) are
 * vectorized; the rest (the 6-bit sub-scales of IQ4_XS) is the scalar code
 * above, so the bytes are the scalar bytes. Rows are contiguous (n_per_row
 * is a multiple of the block), so lanes may span rows. */

/* Either format (super = 32: IQ4_NL, 256: IQ4_XS), `width` blocks of 32
 * per lane call: width IQ4_NL blocks or width / 8 IQ4_XS super-blocks. */
static size_t iq4_lanes(const qk_lanes_x86 *f, int super, size_t bytes, const float *src, void *dst, int64_t nrows,
                        int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, super);
    if (nb < 0) return 0;
    const int64_t total = nrows * nb;
    const int per = f->width * QK_LEGACY / super, sub = super / QK_LEGACY; /* super-blocks per call, their blocks */
    uint8_t *y = (uint8_t *)dst;
    float weight[16 * QK_LEGACY], scales[16];
    for (int64_t g = 0; g < total; g += per) {
        const int avail = (int)(total - g < per ? total - g : per);
        const float *x = src + g * super;
        if (imatrix) {
            const float *qw[16];
            for (int k = 0; k < avail; k++) qw[k] = imatrix + super * ((g + k) % nb);
            f->iq4_imatrix_weights(x, qw, avail, super, weight);
        }
        f->iq4_lanes(x, imatrix ? weight : NULL, avail * sub, scales);
        for (int k = 0; k < avail; k++)
            iq4_finish(super, x + k * super, y + (size_t)(g + k) * bytes, scales + sub * k, f->iq4_pack);
    }
    return (size_t)total * bytes;
}

size_t qk_quantize_iq4_nl_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return iq4_lanes(&qk_lanes_avx2, QK_LEGACY, sizeof(qk_block_iq4_nl), src, dst, nrows, n_per_row, imatrix);
}
size_t qk_quantize_iq4_nl_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return iq4_lanes(&qk_lanes_avx512, QK_LEGACY, sizeof(qk_block_iq4_nl), src, dst, nrows, n_per_row, imatrix);
}
size_t qk_quantize_iq4_xs_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return iq4_lanes(&qk_lanes_avx2, QK_K, sizeof(qk_block_iq4_xs), src, dst, nrows, n_per_row, imatrix);
}
size_t qk_quantize_iq4_xs_avx512(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return iq4_lanes(&qk_lanes_avx512, QK_K, sizeof(qk_block_iq4_xs), src, dst, nrows, n_per_row, imatrix);
}
#endif

#if defined(__aarch64__)
/* NEON (both imatrix modes): the block scale searches run 4 at a time
 * (search_neon.c, iq4_search's lane twin), under the scalar iq4_weights;
 * everything after the search is the scalar iq4_finish_nl / iq4_finish_xs,
 * so the bytes are the scalar bytes. IQ4_NL: 4 consecutive blocks of a row
 * per search (the row's last nb % 4 blocks take the scalar path); IQ4_XS: a
 * super-block's 8 sub-blocks as two. */
size_t qk_quantize_iq4_nl_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    float weight[4 * QK_LEGACY], scales[4];
    for (int64_t r = 0; r < nrows; r++) {
        const float *xr = src + r * n_per_row;
        uint8_t *yr = y + r * nb * sizeof(qk_block_iq4_nl);
        int64_t i = 0;
        for (; i + 4 <= nb; i += 4) {
            for (int k = 0; k < 4; k++)
                iq4_weights(QK_LEGACY, xr + (i + k) * QK_LEGACY,
                            imatrix ? imatrix + QK_LEGACY * (i + k) : NULL, weight + QK_LEGACY * k);
            qk_iq4_search4_neon(xr + i * QK_LEGACY, weight, scales);
            for (int k = 0; k < 4; k++)
                iq4_finish_nl(xr + (i + k) * QK_LEGACY, yr + (i + k) * sizeof(qk_block_iq4_nl), scales[k], pack_ref);
        }
        for (; i < nb; i++) {
            const float *x = xr + i * QK_LEGACY;
            iq4_weights(QK_LEGACY, x, imatrix ? imatrix + QK_LEGACY * i : NULL, weight);
            iq4_finish_nl(x, yr + i * sizeof(qk_block_iq4_nl), iq4_search(x, weight), pack_ref);
        }
    }
    return (size_t)(nrows * nb * sizeof(qk_block_iq4_nl));
}

static void iq4_xs_super_neon(const void *ctx, const float *x, const float *qw, uint8_t *y) {
    (void)ctx;
    float weight[QK_K], scales[QK_K / 32];
    iq4_weights(QK_K, x, qw, weight);
    qk_iq4_search4_neon(x, weight, scales);
    qk_iq4_search4_neon(x + 128, weight + 128, scales + 4);
    iq4_finish_xs(x, y, scales, pack_ref);
}

size_t qk_quantize_iq4_xs_neon(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return qk_quantize_blocks_imatrix(src, dst, nrows, n_per_row, imatrix, QK_K, sizeof(qk_block_iq4_xs),
                                      iq4_xs_super_neon, NULL);
}
#endif

void qk_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_iq4_nl);
        float *y = dst + i * QK_LEGACY;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        for (int j = 0; j < 16; ++j) {
            y[j] = d * k_values_iq4nl[b[2 + j] & 0xf];
            y[j + 16] = d * k_values_iq4nl[b[2 + j] >> 4];
        }
    }
}

void qk_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_iq4_xs);
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        const uint16_t scales_h = qk_get_u16(b + offsetof(qk_block_iq4_xs, scales_h));
        const uint8_t *scales_l = b + offsetof(qk_block_iq4_xs, scales_l);
        const uint8_t *qs = b + offsetof(qk_block_iq4_xs, qs);
        float *y = dst + i * QK_K;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j + 0] = dl * k_values_iq4nl[qs[j] & 0xf];
                y[j + 16] = dl * k_values_iq4nl[qs[j] >> 4];
            }
            y += 32;
            qs += 16;
        }
    }
}
