/* iq_search.h - the grid searches the IQ2/IQ3 quantizers share (ggml-quants.c
 * of the pinned release: iq2_find_best_neighbour / iq3_find_best_neighbour and
 * the scale scan of quantize_row_iq2_xs_impl & co), with ggml's float
 * operations in ggml's order (see quant_search.h's contract). Internal to
 * quantize/kernels/.
 */
#ifndef QK_IQ_SEARCH_H
#define QK_IQ_SEARCH_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iq_grids.h"
#include "iq_sort.h"
#include "kernel_api.h"
#include "kernel_util.h"
#include "quant_search.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- what every IQ quantizer's row and block code shares ---------------- */

/* The nearest-neighbour search of an off-grid level vector: the scalar
 * iq_best_neighbour below, or its SIMD twin of one ISA (same result; see
 * there for the contract). */
typedef int (*iq_nb_fn)(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                        float scale, const float *qlev, int8_t *L);
#if defined(__x86_64__)
int qk_iq_best_neighbour_avx2(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                              float scale, const float *qlev, int8_t *L);
int qk_iq_best_neighbour_avx512(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                                float scale, const float *qlev, int8_t *L);
#endif
#if defined(__aarch64__)
int qk_iq_best_neighbour_neon(const qk_lattice *lat, const uint16_t *nb, const float *xval, const float *weight,
                              float scale, const float *qlev, int8_t *L);
#endif

/* The scale scan of one IQ2/IQ3 sub-block: the scalar iq_scan_scale below,
 * or its SIMD twin of one ISA (iq_scan_body.h; same result, see there). */
typedef struct iq_scan iq_scan;
typedef float (*iq_scan_fn)(const qk_lattice *lat, const iq_scan *p, float ref, float scale, const float *xval,
                            const float *weight, const float *waux, int8_t *L);

/* IQ1_S's split search: the scalar iq1_split_scan below, or its SIMD twin
 * (iq_scan_body.h; same result). */
typedef int (*iq1_split_fn)(const float *sumx, const float *sumw, const float *x_p, const float *x_m, float *scale,
                            int *besti1, int *besti2);

/* qk_make_qp_quants (IQ2_XXS's starting levels), or its SIMD twin
 * (iq_scan_body.h; same result). */
typedef float (*iq_qp_fn)(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights);

/* IQ_QPN independent sub-blocks' qk_make_qp_quants at once: out[k] =
 * qk_make_qp_quants(n, nmax, x[k], L[k], quant_weights[k]), L[k] as it
 * leaves it (the SIMD twins interleave them to overlap their latency). */
#define IQ_QPN 4
typedef void (*iq_qpn_fn)(int n, int nmax, const float *const x[IQ_QPN], uint8_t *const L[IQ_QPN],
                          const float *const quant_weights[IQ_QPN], float out[IQ_QPN]);

/* IQ1's pair sort: iq_sort_pairs (iq_sort.h), compiled for the ISA (its
 * compares vectorize wider; the same order). */
typedef void (*iq_sort_fn)(const float *xb, int n, iq_pair *pairs);

/* What a row needs of an ISA: its neighbour search, its scale scan,
 * IQ1_S's split search, make_qp_quants, IQ1's pair sort and make_qp_quants of IQ_QPN
 * sub-blocks at once. */
typedef struct iq_ops {
    iq_nb_fn nb;
    iq_scan_fn scan;
    iq1_split_fn split;
    iq_qp_fn qp;
    iq_sort_fn sort;
    iq_qpn_fn qpn;
} iq_ops;
#if defined(__x86_64__)
extern const iq_ops qk_iq_ops_avx2, qk_iq_ops_avx512;
#endif
#if defined(__aarch64__)
extern const iq_ops qk_iq_ops_neon;
#endif

/* One row of nbl super-blocks of QK_K (y: their bytes; qw: the row's
 * imatrix, possibly NULL), searching with ops. */
typedef void (*iq_row_fn)(const qk_lattice *lat, const float *x, uint8_t *y, int64_t nbl, const float *qw,
                          const iq_ops *ops);

/* The qk_quantize_<t> contract over row(): 0 (nothing written) for a bad
 * shape, a missing imatrix the type needs (ggml asserts one) or search
 * tables that could not be allocated. */
static inline size_t iq_quantize_rows(qk_lattice_id id, bool needs_imatrix, size_t bytes, iq_row_fn row,
                                      const iq_ops *ops, QK_QUANTIZE_PARAMS) {
    const int64_t nbl = qk_blocks_per_row(nrows, n_per_row, QK_K);
    const qk_lattice *lat = qk_lattice_get(id);
    if (nbl < 0 || (needs_imatrix && !imatrix) || !lat) return 0;
    uint8_t *y = dst;
    for (int64_t r = 0; r < nrows; ++r) row(lat, src + r * n_per_row, y + r * nbl * (int64_t)bytes, nbl, imatrix, ops);
    return (size_t)(nrows * nbl) * bytes;
}

/* The entry points of IQ type t over row() and block(): qk_quantize_<t>
 * with the scalar searches (&iq_ops_scalar), qk_quantize_<t>_<isa> with each
 * built ISA's (&qk_iq_ops_<isa>; the same bytes), qk_dequantize_row_<t>.
 * Defined by this macro rather than written out, as the ISA variants differ
 * only in their ops: grep 'IQ_KERNELS(<t>,' finds a type's. */
#define IQ_KERNELS(t, lattice, needs_imatrix, block_t, row, block)                                   \
    IQ_KERNEL_(qk_quantize_##t, lattice, needs_imatrix, block_t, row, &iq_ops_scalar)                 \
    IQ_SIMD_KERNELS_(t, lattice, needs_imatrix, block_t, row)                                           \
    void qk_dequantize_row_##t(QK_DEQUANTIZE_PARAMS) {                                                 \
        qk_dequantize_blocks(src, y, n, QK_K, sizeof(block_t), block);                                 \
    }
#define IQ_KERNEL_(name, lattice, needs_imatrix, block_t, row, ops)                                    \
    size_t name(QK_QUANTIZE_PARAMS) {                                                                  \
        return iq_quantize_rows(lattice, needs_imatrix, sizeof(block_t), row, ops, QK_QUANTIZE_ARGS); \
    }
#if defined(__x86_64__)
#define IQ_SIMD_KERNELS_(t, lattice, needs_imatrix, block_t, row)                              \
    IQ_KERNEL_(qk_quantize_##t##_avx2, lattice, needs_imatrix, block_t, row, &qk_iq_ops_avx2) \
    IQ_KERNEL_(qk_quantize_##t##_avx512, lattice, needs_imatrix, block_t, row, &qk_iq_ops_avx512)
#elif defined(__aarch64__)
#define IQ_SIMD_KERNELS_(t, lattice, needs_imatrix, block_t, row) \
    IQ_KERNEL_(qk_quantize_##t##_neon, lattice, needs_imatrix, block_t, row, &qk_iq_ops_neon)
#else
#define IQ_SIMD_KERNELS_(t, lattice, needs_imatrix, block_t, row)
#endif

/* c * sum(x^2) / QK_K over one super-block, summed in order (c = 1 or 2,
 * per type, as ggml). */
static inline float iq_sigma2(const float *xbl, float c) {
    float sumx2 = 0;
    for (int i = 0; i < QK_K; ++i) sumx2 += xbl[i] * xbl[i];
    return c * sumx2 / QK_K;
}

/* out[i] = sqrtf(in[i]) for i < n, four at a time on x86-64 (sqrtps and
 * sqrtss round alike, both correctly; the compiler keeps sqrtf scalar for
 * errno). */
static inline void iq_sqrt(int n, const float *in, float *out) {
    int i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(out + i, _mm_sqrt_ps(_mm_loadu_ps(in + i)));
#endif
    for (; i < n; ++i) out[i] = sqrtf(in[i]);
}

/* The search weights of n <= 32 elements: qw * sqrt(sigma2 + x^2), or x^2
 * without an imatrix (qw NULL). */
static inline void iq_weights(int n, const float *xb, const float *qw, float sigma2, float *weight) {
    if (qw) {
        float r[32];
        for (int i = 0; i < n; ++i) r[i] = sigma2 + xb[i] * xb[i];
        iq_sqrt(n, r, r);
        for (int i = 0; i < n; ++i) weight[i] = qw[i] * r[i];
    } else {
        for (int i = 0; i < n; ++i) weight[i] = xb[i] * xb[i];
    }
}

/* One super-block of an IQ row: where it is, its sigma2 and the largest
 * sub-block scale so far. */
typedef struct iq_super {
    const float *x, *qwr; /* the row and its imatrix (NULL: none) */
    int64_t ibl;          /* the super-block's index in the row */
    float sigma2;         /* iq_sigma2 of its QK_K floats */
    float max_scale;
} iq_super;

/* Super-block ibl of the row x: its bytes y zeroed, sigma2 with factor c. */
static inline iq_super iq_super_begin(const float *x, const float *qwr, int64_t ibl, float c, uint8_t *y,
                                      size_t bytes) {
    memset(y, 0, bytes);
    const iq_super sb = {x, qwr, ibl, iq_sigma2(x + QK_K * ibl, c), 0};
    return sb;
}

/* Sub-block ib (n elements) of the super-block: its floats, with its search
 * weights (iq_weights against the imatrix, or without) in weight. */
static inline const float *iq_sub_block(const iq_super *sb, int ib, int n, float *weight) {
    const float *xb = sb->x + QK_K * sb->ibl + n * ib;
    iq_weights(n, xb, sb->qwr ? sb->qwr + QK_K * sb->ibl + n * ib : NULL, sb->sigma2, weight);
    return xb;
}

/* After the sub-blocks: the super-block scale d = max_scale / levels,
 * stored at y as fp16(d * fudge) (ggml's per-type factor); returns 1 / d. */
static inline float iq_super_end(const iq_super *sb, uint8_t *y, float levels, float fudge) {
    const float d = sb->max_scale / levels;
    qk_put_f16(y, d * fudge);
    return 1 / d;
}

/* The largest of v[0..n-1] (n >= 1), in order. */
static inline float iq_max(const float *v, int n) {
    float max = v[0];
    for (int i = 1; i < n; ++i) max = QK_MAX(max, v[i]);
    return max;
}

/* A sub-block scale as a level l of (2l + 1) / id, clamped to [0, top]. */
static inline int iq_scale_level(float id, float scale, int top) {
    int l = qk_nearest_int(0.5f * (id * scale - 1));
    return QK_MAX(0, QK_MIN(top, l));
}

/* ---- the grid searches ------------------------------------------------- */

/* Packed level vector of L[0..dim-1]. */
static inline int iq_pack(const qk_lattice *lat, const int8_t *L) {
    /* unsigned: a level can be negative here (as in ggml); the bits are the
     * two's-complement ones ggml's signed shift gives */
    unsigned u = 0;
    for (int i = 0; i < lat->dim; ++i) u |= (unsigned)(int)L[i] << (lat->bits * i);
    return (int)u;
}

/* The value of level l in the IQ2/IQ3 searches: 2l + 1 (the grid's pos). */
static const float iq_odd_levels[8] = {1, 3, 5, 7, 9, 11, 13, 15};

/* (odd: qlev is iq_odd_levels, whose value of a coordinate is its pos
 * itself: the same floats without the table lookup.) */
static inline __attribute__((always_inline)) int iq_best_neighbour_(const qk_lattice *lat, const uint16_t *nb,
                                                                    const float *xval, const float *weight,
                                                                    float scale, const float *qlev, int8_t *L,
                                                                    const bool odd, const int dim) {
    float best_d2 = FLT_MAX;
    int gi = -1;
    for (int j = 1; j <= nb[0]; ++j) {
        const int8_t *pg = lat->pos + nb[j] * dim;
        float d2 = 0;
        for (int i = 0; i < dim; ++i) {
            float q = odd ? (float)pg[i] : qlev[(pg[i] - 1) / 2];
            float w = weight[i];
            float diff = scale * q - xval[i];
            d2 += w * diff * diff;
        }
        if (d2 < best_d2) {
            best_d2 = d2;
            gi = nb[j];
        }
    }
    if (gi < 0) gi = nb[1];
    const int8_t *pg = lat->pos + gi * dim;
    for (int i = 0; i < dim; ++i) L[i] = (int8_t)((pg[i] - 1) / 2);
    return gi;
}
/* Of the neighbours of a packed vector (list nb: count, points), the grid
 * point nearest to xval at this scale under weight, a coordinate of level l
 * standing for qlev[l] (iq_odd_levels, or IQ1's shifted levels): d2 =
 * sum over i in order of weight[i] * diff * diff, diff = scale * q - xval[i]
 * (ggml's iq2/iq3_find_best_neighbour, IQ1's best_neighbour). Strictly
 * smaller d2 wins, so the first of equals; its levels go to L. ggml aborts
 * when no d2 is below FLT_MAX (NaN or infinite input); this returns the
 * first neighbour then, so the library never stops. */
static inline int iq_best_neighbour(const qk_lattice *lat, const uint16_t *nb, const float *xval,
                                    const float *weight, float scale, const float *qlev, int8_t *L) {
    /* constant shapes, so each copy unrolls (IQ2: 8, odd; IQ3: 4, odd; IQ1: 8) */
    const bool odd = qlev == iq_odd_levels;
    if (lat->dim == 8) return odd ? iq_best_neighbour_(lat, nb, xval, weight, scale, qlev, L, true, 8)
                                  : iq_best_neighbour_(lat, nb, xval, weight, scale, qlev, L, false, 8);
    return odd ? iq_best_neighbour_(lat, nb, xval, weight, scale, qlev, L, true, 4)
               : iq_best_neighbour_(lat, nb, xval, weight, scale, qlev, L, false, 4);
}

/* Levels of xval[0..dim-1] at inverse scale id, clamped to [0, kmaxq-1],
 * into L; returns their packed vector (iq_pack). */
static inline __attribute__((always_inline)) int iq_round_pack_(int kmaxq, float id, const float *xval, int8_t *L,
                                                                const int dim, const int bits) {
    unsigned u = 0;
    for (int i = 0; i < dim; ++i) {
        int l = qk_nearest_int(0.5f * (id * xval[i] - 1));
        l = QK_MAX(0, QK_MIN(kmaxq - 1, l));
        L[i] = (int8_t)l;
        u |= (unsigned)l << (bits * i);
    }
    return (int)u;
}
static inline int iq_round_pack(const qk_lattice *lat, int kmaxq, float id, const float *xval, int8_t *L) {
    /* constant shapes, so each copy unrolls (IQ2: 8 x 2 bits; IQ3: 4 x 3) */
    if (lat->dim == 8) return iq_round_pack_(kmaxq, id, xval, L, 8, 2);
    return iq_round_pack_(kmaxq, id, xval, L, 4, 3);
}

/* The grid point of L (on the grid by construction; ggml aborts otherwise). */
static inline int iq_on_grid_point(const qk_lattice *lat, const int8_t *L) {
    /* a level outside the lattice (non-finite input, where ggml aborts) packs
     * outside the map: treated as off the grid, never read out of bounds */
    const int u = iq_pack(lat, L);
    if (u < 0 || u >= 1 << (lat->bits * lat->dim)) return 0;
    int gi = lat->map[u];
    return gi < 0 ? 0 : gi;
}

/* The neighbour list of an off-grid packed vector. */
static inline const uint16_t *iq_neighbours(const qk_lattice *lat, int u) {
    return lat->neighbours + (-lat->map[u] - 1);
}

/* All 8 sign bits (IQ2_S, IQ3_S): bit i set for a negative xb[i];
 * xval = |x|. */
static inline uint8_t iq_signs_all(const float *xb, float *xval) {
    /* without branches (random signs mispredict): not (x >= 0), NaN too,
     * flips the sign bit, as -x does */
    unsigned s = 0;
    for (int i = 0; i < 8; ++i) {
        const unsigned neg = !(xb[i] >= 0);
        uint32_t u;
        memcpy(&u, xb + i, sizeof u);
        u ^= (uint32_t)neg << 31;
        memcpy(xval + i, &u, sizeof u);
        s |= neg << i;
    }
    return (uint8_t)s;
}

/* Groups of 8 with an even number of negative signs (IQ2_XXS, IQ2_XS,
 * IQ3_XXS store 7 sign bits): xval = |x|, except that with an odd count the
 * element of least weight*x^2 keeps its sign flipped (its xval negative).
 * Returns the 7 stored bits. */
static inline uint8_t iq_signs_even(const float *xb, const float *weight, float *xval) {
    uint8_t s = iq_signs_all(xb, xval);
    if (__builtin_popcount(s) % 2) {
        int imin = 0;
        float min = weight[imin] * xb[imin] * xb[imin];
        for (int i = 1; i < 8; ++i) {
            float ax = weight[i] * xb[i] * xb[i];
            if (ax < min) {
                min = ax;
                imin = i;
            }
        }
        xval[imin] = -xval[imin];
        s ^= (uint8_t)(1 << imin);
    }
    return s & 127;
}

/* When the search's best levels are refined at the best scale:
 * ALWAYS (IQ2_XXS) every group, whenever the scale is > 0;
 * OFFGRID (IQ2_XS, IQ2_S, IQ3_XXS) only groups that were off the grid;
 * ALL_IF_OFFGRID (IQ3_S) every group if any was off the grid (a group
 * counts as off the grid until a candidate scale is accepted). */
typedef enum { IQ_REFINE_ALWAYS, IQ_REFINE_OFFGRID, IQ_REFINE_ALL_IF_OFFGRID } iq_refine;

struct iq_scan {
    int n;            /* elements of the sub-block: 16 or 32 */
    int kmaxq;        /* levels: 3 (IQ2) or 8 (IQ3) */
    int is_lo, is_hi; /* candidate inverse scales (2*kmaxq-1 + is*step)/ref */
    float step;
    iq_refine refine;
    iq_nb_fn nbf;     /* the neighbour search (the ISA's) */
};

/* The levels of one group at inverse scale id (scale = 1/id): rounded,
 * or the nearest grid neighbour; false if the rounding was off the grid. */
static inline bool iq_group_levels(const qk_lattice *lat, const iq_scan *p, float id, float scale,
                                   const float *xval, const float *waux, int8_t *L) {
    const int u = iq_round_pack(lat, p->kmaxq, id, xval, L);
    if (lat->map[u] >= 0) return true;
    p->nbf(lat, iq_neighbours(lat, u), xval, waux, scale, iq_odd_levels, L);
    return false;
}

/* sum(w * x * q) and sum(w * q^2) over levels L, q = 2L + 1, in order. */
static inline void iq_level_sums(int n, const float *weight, const float *xval, const int8_t *L, float *sumqx,
                                 float *sumq2) {
    float qx = 0, q2 = 0;
    for (int i = 0; i < n; ++i) {
        float w = weight[i];
        float q = 2 * L[i] + 1;
        qx += w * xval[i] * q;
        q2 += w * q * q;
    }
    *sumqx = qx;
    *sumq2 = q2;
}

/* After the candidate scales: the refinement of the best levels L at the
 * chosen scale per p->refine (on[k]: group k of L was on the grid when
 * accepted); returns the final scale. */
static inline float iq_scan_refine(const qk_lattice *lat, const iq_scan *p, float scale, const float *xval,
                                   const float *weight, const float *waux, int8_t *L, const bool *on) {
    const int dim = lat->dim, ngroups = p->n / dim;
    int n_off = 0;
    for (int k = 0; k < ngroups; ++k) n_off += !on[k];
    bool refine = p->refine == IQ_REFINE_ALWAYS ? scale > 0 : (n_off > 0 && scale > 0);
    if (refine) {
        float id = 1 / scale, sumqx, sumq2;
        for (int k = 0; k < ngroups; ++k)
            if (p->refine != IQ_REFINE_OFFGRID || !on[k])
                iq_group_levels(lat, p, id, scale, xval + dim * k, waux + dim * k, L + dim * k);
        iq_level_sums(p->n, weight, xval, L, &sumqx, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
    }
    return scale;
}

/* The candidate inverse scale of scan step `is`. */
static inline float iq_scan_id(const iq_scan *p, float ref, int is) { return (2 * p->kmaxq - 1 + is * p->step) / ref; }

/* The scale scan of one sub-block: tries the candidate scales, keeps the
 * weighted least-squares best (levels in L), then refines per `refine`.
 * scale is the starting value returned if no candidate is accepted; L keeps
 * its incoming contents then (as ggml's). Returns the scale. */
static inline float iq_scan_scale(const qk_lattice *lat, const iq_scan *p, float ref, float scale,
                                  const float *xval, const float *weight, const float *waux, int8_t *L) {
    const int dim = lat->dim, ngroups = p->n / dim;
    int8_t Laux[32];
    bool on[8], on_aux[8];
    for (int k = 0; k < ngroups; ++k) on[k] = p->refine != IQ_REFINE_ALL_IF_OFFGRID;
    float best = 0, sumqx, sumq2;
    for (int is = p->is_lo; is <= p->is_hi; ++is) {
        float id = iq_scan_id(p, ref, is);
        for (int k = 0; k < ngroups; ++k)
            on_aux[k] = iq_group_levels(lat, p, id, 1 / id, xval + dim * k, waux + dim * k, Laux + dim * k);
        iq_level_sums(p->n, weight, xval, Laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            memcpy(L, Laux, (size_t)p->n);
            memcpy(on, on_aux, sizeof on);
        }
    }
    return iq_scan_refine(lat, p, scale, xval, weight, waux, L, on);
}

/* IQ1_S's search of the best split of a sub-block of 32 sorted by x into
 * levels -1, 0, 1 (ggml's quantize_row_iq1_s_impl): sumx / sumw are the 33
 * prefix sums of w*x and w in sorted order; the first i1 elements take level
 * -1, the next up to i2 level 0, the rest 1, each shifted by +delta (x_p) or
 * -delta (x_m). For i1 = 0..32, i2 = i1..32, shift +delta then -delta, in
 * that order, the least-squares fit is accepted when sumq2 > 0 and sumqx^2 >
 * best * sumq2 (strictly: the first of equals), starting from best =
 * -FLT_MAX. Returns the shift of the last accepted (1: x_p, -1: x_m, 0:
 * none), its split in besti1/besti2 and its scale sumqx/sumq2 in scale
 * (untouched if none). */
static inline int iq1_split_scan(const float *sumx, const float *sumw, const float *x_p, const float *x_m,
                                 float *scale, int *besti1, int *besti2) {
    float best_score = -FLT_MAX;
    int best_shift = 0;
    for (int i1 = 0; i1 <= 32; ++i1) {
        for (int i2 = i1; i2 <= 32; ++i2) {
            float sumqx = (sumx[i1] - sumx[0]) * x_p[0] + (sumx[i2] - sumx[i1]) * x_p[1] +
                          (sumx[32] - sumx[i2]) * x_p[2];
            float sumq2 = (sumw[i1] - sumw[0]) * x_p[0] * x_p[0] + (sumw[i2] - sumw[i1]) * x_p[1] * x_p[1] +
                          (sumw[32] - sumw[i2]) * x_p[2] * x_p[2];
            if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
                *scale = sumqx / sumq2;
                best_score = *scale * sumqx;
                *besti1 = i1;
                *besti2 = i2;
                best_shift = 1;
            }
            sumqx = (sumx[i1] - sumx[0]) * x_m[0] + (sumx[i2] - sumx[i1]) * x_m[1] + (sumx[32] - sumx[i2]) * x_m[2];
            sumq2 = (sumw[i1] - sumw[0]) * x_m[0] * x_m[0] + (sumw[i2] - sumw[i1]) * x_m[1] * x_m[1] +
                    (sumw[32] - sumw[i2]) * x_m[2] * x_m[2];
            if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
                *scale = sumqx / sumq2;
                best_score = *scale * sumqx;
                *besti1 = i1;
                *besti2 = i2;
                best_shift = -1;
            }
        }
    }
    return best_shift;
}

static inline void iq_make_qp_quantsn(int n, int nmax, const float *const x[IQ_QPN], uint8_t *const L[IQ_QPN],
                                      const float *const quant_weights[IQ_QPN], float out[IQ_QPN]) {
    for (int k = 0; k < IQ_QPN; ++k) out[k] = qk_make_qp_quants(n, nmax, x[k], L[k], quant_weights[k]);
}

/* The scalar ops (each file that uses them gets its own copy). */
static const iq_ops iq_ops_scalar = {iq_best_neighbour, iq_scan_scale, iq1_split_scan, qk_make_qp_quants,
                                     iq_sort_pairs, iq_make_qp_quantsn};

#endif
