/* q4_k_q5_k.c - Q4_K and Q5_K: 256 weights in 8 sub-blocks of 32 with a
 * 6-bit scale and min each; 4.5 and 5.5 bits per weight. They share the
 * scale search and differ in nmax (15 / 31), search parameters and packing.
 *
 *   Q4_K (144 bytes): | d fp16 | dmin fp16 | scales[12] | qs[128] |
 *   Q5_K (176 bytes): | d fp16 | dmin fp16 | scales[12] | qh[32] | qs[128] |
 *   weight = d * sc[j] * q - dmin * m[j]   (sc/m packed as in
 *   qk_get_scale_min_k4); qs: for each 64-weight chunk, byte l holds weight l
 *   (low nibble) and weight l+32 (high nibble). Q5_K's fifth bits: chunk n
 *   sets bit 2n of qh[l] for weight l and bit 2n+1 for weight l+32.
 *
 * Without an imatrix (quantize_row_q4_K_ref): per sub-block a weighted
 * make_qkx2_quants search (weights sqrt(mean x^2) + |x|), then scales/mins
 * quantized against the block maxima. With one (quantize_row_q4_K_impl):
 * make_qkx3_quants with weights qw * sqrt(sigma2 + x^2), and make_qp_quants
 * for the 6-bit scales. Both then requantize against the stored fp16 d/dmin.
 */
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "k_quants.h"
#include "k_quants_internal.h"
#include "search_neon.h"
#include "lanes_x86.h"
#include "quant_search.h"

typedef struct {
    int nmax, bytes, qs_off;
    float rmin2, rdelta2; /* make_qkx2_quants search (no imatrix) */
    int nstep2;
} kparams;

static const kparams Q4K = {15, sizeof(qk_block_q4_k), offsetof(qk_block_q4_k, qs), -1.f, 0.1f, 20};
static const kparams Q5K = {31, sizeof(qk_block_q5_k), offsetof(qk_block_q5_k, qs), -0.5f, 0.1f, 15};

/* d, dmin and scales lead both blocks at the same offsets */
#define DMIN_OFF offsetof(qk_block_q4_k, dmin)
#define SCALES_OFF offsetof(qk_block_q4_k, scales)
#define QH_OFF offsetof(qk_block_q5_k, qh)
_Static_assert(offsetof(qk_block_q5_k, scales) == SCALES_OFF && offsetof(qk_block_q5_k, dmin) == DMIN_OFF &&
                   offsetof(qk_block_q4_k, d) == 0 && offsetof(qk_block_q5_k, d) == 0,
               "Q4_K and Q5_K share their head");

static void put_f16(unsigned char *p, float f) {
    uint16_t h = qk_fp32_to_fp16(f);
    p[0] = (unsigned char)h, p[1] = (unsigned char)(h >> 8);
}
static float get_f16(const unsigned char *p) { return qk_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); }

/* One sub-block of 32 requantized against its stored scale: the scalar twin
 * of qk_kq_requant32_<isa> (lanes_<isa>.c). */
static void requant32_ref(const float *x, float d, float dm, int nmax, uint8_t *L) {
    for (int ii = 0; ii < 32; ++ii) {
        int l = qk_nearest_int((x[ii] + dm) / d);
        l = l < 0 ? 0 : l > nmax ? nmax : l;
        L[ii] = (uint8_t)l;
    }
}

/* Packing of the 256 levels (0..nmax) into qs (and Q5_K's qh; qh NULL for
 * Q4_K): the scalar twin of qk_kq_pack_<isa> (lanes_<isa>.c). */
typedef void (*kq_pack_fn)(const uint8_t *L, uint8_t *qh, uint8_t *qs);

void qk_kq_pack_ref(const uint8_t *L, uint8_t *qh, uint8_t *q) {
    if (!qh) {
        for (int j = 0; j < QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        return;
    }
    memset(qh, 0, QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < QK_K; n += 64, q += 32, m1 <<= 2, m2 <<= 2) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j], l2 = L[n + j + 32];
            if (l1 > 15) l1 -= 16, qh[j] |= m1;
            if (l2 > 15) l2 -= 16, qh[j] |= m2;
            q[j] = (uint8_t)(l1 | (l2 << 4));
        }
    }
}

/* requantize against the stored scales and pack */
static void finish_block_pack(const kparams *p, const float *x, unsigned char *y, uint8_t *L, qk_kq_requant32_fn rq,
                              kq_pack_fn pack) {
    const uint8_t *scales = y + SCALES_OFF;
    const float d_all = get_f16(y), dmin_all = get_f16(y + DMIN_OFF);
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t sc, m;
        qk_get_scale_min_k4(j, scales, &sc, &m);
        const float d = d_all * sc;
        if (!d) continue;
        rq(x + 32 * j, d, dmin_all * m, p->nmax, L + 32 * j);
    }
    pack(L, p->nmax == 15 ? NULL : y + QH_OFF, y + p->qs_off);
}

static void finish_block(const kparams *p, const float *x, unsigned char *y, uint8_t *L, qk_kq_requant32_fn rq) {
    finish_block_pack(p, x, y, L, rq, qk_kq_pack_ref);
}

/* The scalar search of one super-block: per sub-block, make_qkx2_quants with
 * weights sqrt(mean x^2) + |x|. */
static void search_ref(const kparams *p, const float *x, float *scales, float *mins, uint8_t *L) {
    uint8_t Laux[32];
    float weights[32];
    for (int j = 0; j < QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = qk_make_qkx2_quants(32, p->nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, p->rmin2,
                                        p->rdelta2, p->nstep2, false);
    }
}

/* Everything after the search: 6-bit scales against the block maxima, the
 * stored fp16 d/dmin, requantization and packing. */
static void finish_ref_pack(const kparams *p, const float *x, unsigned char *y, const float *scales,
                            const float *mins, uint8_t *L, qk_kq_requant32_fn rq, kq_pack_fn pack) {
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 32; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(y + SCALES_OFF, 0, 12);
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t ls = (uint8_t)qk_nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)qk_nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        qk_set_scale_min_k4(j, y + SCALES_OFF, ls, lm);
    }
    put_f16(y, max_scale / 63.f);
    put_f16(y + DMIN_OFF, max_min / 63.f);
    finish_block_pack(p, x, y, L, rq, pack);
}

static void finish_ref(const kparams *p, const float *x, unsigned char *y, const float *scales, const float *mins,
                       uint8_t *L, qk_kq_requant32_fn rq) {
    finish_ref_pack(p, x, y, scales, mins, L, rq, qk_kq_pack_ref);
}

static void row_ref(const kparams *p, const float *x, unsigned char *y, int64_t k) {
    uint8_t L[QK_K];
    float mins[QK_K / 32], scales[QK_K / 32];
    for (int64_t i = 0; i < k / QK_K; i++, x += QK_K, y += p->bytes) {
        search_ref(p, x, scales, mins, L);
        finish_ref(p, x, y, scales, mins, L, requant32_ref);
    }
}

/* With an imatrix: the weights qw * sqrt(sigma2 + x^2) of one super-block
 * (sigma2 = 2 * mean x^2 over its 256 values) and their per-sub-block sums. */
void qk_kq_imatrix_weights32_ref(const float *x, const float *qw, float *weights, float *sw) {
    qk_kq_imatrix_weights_sub(32, 2.f, x, qw, weights, sw);
}

/* With an imatrix, after the make_qkx3_quants searches: make_qp_quants for
 * the 6-bit scales and mins, requantization and packing. */
static void finish_imatrix(const kparams *p, const float *x, unsigned char *y, const float *scales, const float *mins,
                           const float *sw, uint8_t *L, qk_kq_requant32_fn rq) {
    uint8_t Ls[QK_K / 32], Lm[QK_K / 32];
    float d_block = qk_make_qp_quants(QK_K / 32, 63, scales, Ls, sw);
    float m_block = qk_make_qp_quants(QK_K / 32, 63, mins, Lm, sw);
    memset(y + SCALES_OFF, 0, 12);
    for (int j = 0; j < QK_K / 32; ++j) qk_set_scale_min_k4(j, y + SCALES_OFF, Ls[j], Lm[j]);
    put_f16(y, d_block);
    put_f16(y + DMIN_OFF, m_block);
    finish_block(p, x, y, L, rq);
}

static void row_imatrix(const kparams *p, const float *x, unsigned char *y, int64_t n_per_row, const float *quant_weights) {
    uint8_t L[QK_K], Laux[32];
    float weights[QK_K], sw[QK_K / 32], mins[QK_K / 32], scales[QK_K / 32];
    for (int64_t i = 0; i < n_per_row / QK_K; i++, x += QK_K, y += p->bytes) {
        qk_kq_imatrix_weights32_ref(x, quant_weights + QK_K * i, weights, sw);
        for (int j = 0; j < QK_K / 32; ++j)
            scales[j] = qk_make_qkx3_quants(32, p->nmax, x + 32 * j, weights + 32 * j, L + 32 * j, &mins[j], Laux,
                                            -0.9f, 0.05f, 36, false);
        finish_imatrix(p, x, y, scales, mins, sw, L, requant32_ref);
    }
}

static size_t quantize(const kparams *p, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                       const float *imatrix) {
    const size_t row_size = (size_t)(n_per_row / QK_K) * (size_t)p->bytes;
    unsigned char *q = dst;
    for (int64_t r = 0; r < nrows; r++, src += n_per_row, q += row_size) {
        if (imatrix) row_imatrix(p, src, q, n_per_row, imatrix);
        else row_ref(p, src, q, n_per_row);
    }
    return (size_t)nrows * row_size;
}

size_t qk_quantize_q4_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return quantize(&Q4K, src, dst, nrows, n_per_row, imatrix);
}

size_t qk_quantize_q5_k(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return quantize(&Q5K, src, dst, nrows, n_per_row, imatrix);
}

/* A SIMD driver, for rows that are contiguous (whole super-blocks);
 * otherwise the scalar kernel. */
typedef size_t (*kq_driver)(const kparams *p, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                            const float *imatrix);
static inline size_t dispatch(const kparams *p, kq_driver simd, QK_QUANTIZE_PARAMS) {
    return n_per_row % QK_K ? quantize(p, QK_QUANTIZE_ARGS) : simd(p, QK_QUANTIZE_ARGS);
}

static void dequantize(const kparams *p, const void *src, float *y, int64_t n) {
    const unsigned char *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += p->bytes) {
        const float d = get_f16(b), min = get_f16(b + DMIN_OFF);
        const uint8_t *q = b + p->qs_off, *qh = b + QH_OFF;
        int is = 0;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K; j += 64, q += 32, is += 2, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            qk_get_scale_min_k4(is + 0, b + SCALES_OFF, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            qk_get_scale_min_k4(is + 1, b + SCALES_OFF, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            if (p->nmax == 15) {
                for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
                for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
            } else {
                for (int l = 0; l < 32; ++l) *y++ = d1 * ((q[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; ++l) *y++ = d2 * ((q[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            }
        }
    }
}

void qk_dequantize_row_q4_k(const void *src, float *y, int64_t n) { dequantize(&Q4K, src, y, n); }
void qk_dequantize_row_q5_k(const void *src, float *y, int64_t n) { dequantize(&Q5K, src, y, n); }

#if defined(__x86_64__)
/* With an imatrix on AVX2 / AVX-512: `width` (8 or 16) consecutive
 * super-blocks at a time. Their weights (qk_kq_imatrix_weights32), the
 * make_qkx3_quants of all their sub-blocks of 32 as lanes
 * (lanes_<isa>.c; a batch's sub-blocks are contiguous, so a call
 * takes 2 W (two interleaved sets of lanes) or W consecutive ones), then the two make_qp_quants (scales, mins) with
 * the super-blocks as lanes (idle lanes: all-zero input), then the SIMD
 * requantization and packing. Every step is the scalar step per
 * lane, so the bytes are the scalar bytes. */
typedef void (*qkx3_lanes_fn)(int n, int nmax, const float *x, const float *w, float *scales, float *mins,
                              uint8_t *L);
typedef void (*qp_lanes_fn)(int n, int nmax, const float *x, const float *w, float *scales, uint8_t *L);
typedef void (*weights32_fn)(const float *x, const float *const *qw, int nsb, float *weight, float *sw);

typedef struct {
    int width; /* lanes: 8 or 16 */
    qkx3_lanes_fn qkx3, qkx3_2; /* W groups; 2 W groups as two interleaved sets */
    qp_lanes_fn qp;
    qk_kq_requant32_fn rq;
    weights32_fn weights;
    kq_pack_fn pack;
} imatrix_fns;

static void imatrix_batch(const kparams *p, const imatrix_fns *f, const float *x, const float *const *qw, int nsb,
                          unsigned char *y) {
    enum { SB = QK_K / 32 }; /* sub-blocks per super-block */
    float weights[16 * QK_K], sw[16 * SB], scales[16 * SB], mins[16 * SB], dm[16], mm[16];
    uint8_t L[16 * QK_K], Ls[16 * SB], Lm[16 * SB];
    f->weights(x, qw, nsb, weights, sw);
    const int groups = SB * nsb, W = f->width;
    int g = 0;
    for (; g + 2 * W <= groups; g += 2 * W)
        f->qkx3_2(32, p->nmax, x + 32 * g, weights + 32 * g, scales + g, mins + g, L + 32 * g);
    for (; g + W <= groups; g += W)
        f->qkx3(32, p->nmax, x + 32 * g, weights + 32 * g, scales + g, mins + g, L + 32 * g);
    if (g < groups) { /* AVX-512 with an odd number of super-blocks: pad the last call with zero groups */
        float xp[16 * 32], wp[16 * 32], sp[16], mp[16];
        uint8_t Lp[16 * 32];
        const size_t used = sizeof(float) * 32 * (size_t)(groups - g), all = sizeof(float) * 32 * (size_t)W;
        memset(xp, 0, all);
        memset(wp, 0, all);
        memcpy(xp, x + 32 * g, used);
        memcpy(wp, weights + 32 * g, used);
        f->qkx3(32, p->nmax, xp, wp, sp, mp, Lp);
        memcpy(scales + g, sp, sizeof(float) * (size_t)(groups - g));
        memcpy(mins + g, mp, sizeof(float) * (size_t)(groups - g));
        memcpy(L + 32 * g, Lp, 32 * (size_t)(groups - g));
    }
    const size_t idle = sizeof(float) * SB * (size_t)(W - nsb);
    memset(scales + SB * nsb, 0, idle);
    memset(mins + SB * nsb, 0, idle);
    memset(sw + SB * nsb, 0, idle);
    f->qp(SB, 63, scales, sw, dm, Ls);
    f->qp(SB, 63, mins, sw, mm, Lm);
    for (int s = 0; s < nsb; s++) {
        unsigned char *ys = y + s * p->bytes;
        memset(ys + SCALES_OFF, 0, 12);
        for (int j = 0; j < SB; ++j) qk_set_scale_min_k4(j, ys + SCALES_OFF, Ls[SB * s + j], Lm[SB * s + j]);
        put_f16(ys, dm[s]);
        put_f16(ys + DMIN_OFF, mm[s]);
        finish_block_pack(p, x + QK_K * s, ys, L + QK_K * s, f->rq, f->pack);
    }
}

static size_t quantize_imatrix_lanes(const kparams *p, const imatrix_fns *f, const float *src, void *dst,
                                     int64_t nrows, int64_t n_per_row, const float *imatrix) {
    /* the entry points hand rows that are not whole super-blocks to the scalar
     * code: here rows are contiguous super-blocks */
    const int64_t nb = n_per_row / QK_K, total = nrows * nb;
    unsigned char *y = dst;
    const float *qw[16];
    for (int64_t b = 0; b < total; b += f->width) {
        const int nsb = (int)(total - b < f->width ? total - b : f->width);
        for (int s = 0; s < nsb; s++) qw[s] = imatrix + QK_K * ((b + s) % nb);
        imatrix_batch(p, f, src + QK_K * b, qw, nsb, y + b * p->bytes);
    }
    return (size_t)total * (size_t)p->bytes;
}

static const imatrix_fns k_im_avx2 = {8, qk_qkx3_lanes_avx2, qk_qkx3_2_lanes_avx2, qk_qp_lanes_avx2,
                                      qk_kq_requant32_avx2, qk_kq_imatrix_weights32_avx2, qk_kq_pack_avx2};
static const imatrix_fns k_im_avx512 = {16, qk_qkx3_lanes_avx512, qk_qkx3_2_lanes_avx512, qk_qp_lanes_avx512,
                                        qk_kq_requant32_avx512, qk_kq_imatrix_weights32_avx512, qk_kq_pack_avx512};

/* AVX-512: the searches of two super-blocks run as 16 lanes (qk_kq_search_lanes),
 * requantization and packing are vectorized; the rest is the scalar code, so
 * the bytes are the scalar bytes. */
static size_t quantize_avx512(const kparams *p, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    if (imatrix) return quantize_imatrix_lanes(p, &k_im_avx512, src, dst, nrows, n_per_row, imatrix);
    const qk_kq_params kp = {p->nmax, p->rmin2, p->rdelta2, p->nstep2};
    const int64_t total = nrows * (n_per_row / QK_K); /* super-blocks are row-independent */
    uint8_t L[2 * QK_K];
    float scales[16], mins[16];
    unsigned char *y = dst;
    int64_t b = 0;
    for (; b + 2 <= total; b += 2) {
        const float *x = src + b * QK_K;
        qk_kq_search_lanes_avx512(&kp, x, scales, mins, L);
        finish_ref_pack(p, x, y + b * p->bytes, scales, mins, L, qk_kq_requant32_avx512, qk_kq_pack_avx512);
        finish_ref_pack(p, x + QK_K, y + (b + 1) * p->bytes, scales + 8, mins + 8, L + QK_K, qk_kq_requant32_avx512,
                        qk_kq_pack_avx512);
    }
    for (; b < total; b++) {
        const float *x = src + b * QK_K;
        search_ref(p, x, scales, mins, L);
        finish_ref_pack(p, x, y + b * p->bytes, scales, mins, L, qk_kq_requant32_avx512, qk_kq_pack_avx512);
    }
    return (size_t)total * (size_t)p->bytes;
}

/* AVX2: one super-block's 8 sub-block searches as 8 lanes. */
static size_t quantize_avx2(const kparams *p, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                            const float *imatrix) {
    if (imatrix) return quantize_imatrix_lanes(p, &k_im_avx2, src, dst, nrows, n_per_row, imatrix);
    const qk_kq_params kp = {p->nmax, p->rmin2, p->rdelta2, p->nstep2};
    const int64_t total = nrows * (n_per_row / QK_K);
    uint8_t L[QK_K];
    float scales[8], mins[8];
    unsigned char *y = dst;
    for (int64_t b = 0; b < total; b++) {
        qk_kq_search_lanes_avx2(&kp, src + b * QK_K, scales, mins, L);
        finish_ref_pack(p, src + b * QK_K, y + b * p->bytes, scales, mins, L, qk_kq_requant32_avx2, qk_kq_pack_avx2);
    }
    return (size_t)total * (size_t)p->bytes;
}

size_t qk_quantize_q4_k_avx2(QK_QUANTIZE_PARAMS) { return dispatch(&Q4K, quantize_avx2, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_k_avx2(QK_QUANTIZE_PARAMS) { return dispatch(&Q5K, quantize_avx2, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q4_k_avx512(QK_QUANTIZE_PARAMS) { return dispatch(&Q4K, quantize_avx512, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_k_avx512(QK_QUANTIZE_PARAMS) { return dispatch(&Q5K, quantize_avx512, QK_QUANTIZE_ARGS); }
#endif

#if defined(__aarch64__)
/* NEON: a super-block's 8 sub-block searches as two groups of 4 lanes
 * (search_neon.c), with and without an imatrix; the rest is the scalar
 * code, so the bytes are the scalar bytes. */
static size_t quantize_neon(const kparams *p, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                            const float *imatrix) {
    const int64_t nb = n_per_row / QK_K;
    const qk_kq_params ref = {p->nmax, p->rmin2, p->rdelta2, p->nstep2};
    const qk_kq_params im = {p->nmax, -0.9f, 0.05f, 36}; /* make_qkx3_quants(..., -0.9f, 0.05f, 36, false) */
    uint8_t L[QK_K];
    float scales[QK_K / 32], mins[QK_K / 32], weights[QK_K], sw[QK_K / 32];
    unsigned char *y = dst;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t i = 0; i < nb; i++, src += QK_K, y += p->bytes) {
            if (imatrix) {
                qk_kq_imatrix_weights32_ref(src, imatrix + QK_K * i, weights, sw);
                qk_kq_search4_neon(&im, 32, true, false, src, weights, scales, mins, L);
                qk_kq_search4_neon(&im, 32, true, false, src + 128, weights + 128, scales + 4, mins + 4, L + 128);
                finish_imatrix(p, src, y, scales, mins, sw, L, requant32_ref);
            } else {
                qk_kq_search4_neon(&ref, 32, false, false, src, NULL, scales, mins, L);
                qk_kq_search4_neon(&ref, 32, false, false, src + 128, NULL, scales + 4, mins + 4, L + 128);
                finish_ref(p, src, y, scales, mins, L, requant32_ref);
            }
        }
    }
    return (size_t)(nrows * nb) * (size_t)p->bytes;
}

size_t qk_quantize_q4_k_neon(QK_QUANTIZE_PARAMS) { return dispatch(&Q4K, quantize_neon, QK_QUANTIZE_ARGS); }
size_t qk_quantize_q5_k_neon(QK_QUANTIZE_PARAMS) { return dispatch(&Q5K, quantize_neon, QK_QUANTIZE_ARGS); }
#endif
