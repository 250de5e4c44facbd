/* lanes_x86_body.h - the x86 half of the lane-wise searches behind the
 * AVX2 / AVX-512 variants of Q2_K .. Q6_K, IQ4_NL, IQ4_XS and the legacy
 * imatrix rows; included by lanes_avx512.c and lanes_avx2.c after
 * vec_x86.h, which fixes the lane count LN_W and the function suffix.
 * Declarations and the contract are in lanes_x86.h.
 *
 * The searches NEON shares (make_qkx2/3_quants, make_qx_quants,
 * make_q3_quants, the IQ4 scale search) are ISA-neutral in ../lanes_body.h,
 * with the lane-by-lane exactness argument; here are the entry points over
 * them and what only x86 runs: make_qp_quants, the imatrix weights, the
 * requantization and packing (256-bit byte vectors), and the searches on two
 * interleaved sets of lanes.
 */
#include <string.h>

#include "lanes_x86.h"
#include "lanes_body.h"

/* make_qp_quants(n, nmax, x, L, w) on W groups (the scales or mins of one
 * super-block per lane). The levels are uint8_t in the scalar code: stored
 * wrapped (l & 255; nearest_int is unclamped below), while the sums of the
 * fit use the unwrapped l, exactly as the scalar does. */
static inline vf lb_qp(int n, int nmax, const float *xt, const float *wt, vi *L) {
    const vf zero = vf_set1(0.f);
    const vi vnmax = vi_set1(nmax), byte = vi_set1(255);
    vf max = zero;
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W);
        max = vf_sel(vf_gt(max, x), max, x); /* QK_MAX(max, x) */
    }
    const vm tiny = vf_lt(max, vf_set1(QK_GROUP_MAX_EPS));
    vf iscale = vf_div(vf_set1((float)nmax), max);
    vf scale = vf_div(vf_set1(1.f), iscale);
    vf best_mse = zero;
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
        const vi l = vi_and(vf_nearest_int(vf_mul(iscale, x)), byte);
        const vf diff = vf_sub(x, vf_mul(scale, vi_to_f(l)));
        best_mse = vf_add(best_mse, vf_mul(vf_mul(w, diff), diff));
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        const vf iscale_is = vf_div(vf_set1(0.1f * (float)is + (float)nmax), max);
        const vf scale_is = vf_div(vf_set1(1.f), iscale_is);
        vf mse = zero;
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
            const vi l = vi_min(vnmax, vf_nearest_int(vf_mul(iscale_is, x)));
            const vf diff = vf_sub(x, vf_mul(scale_is, vi_to_f(l)));
            mse = vf_add(mse, vf_mul(vf_mul(w, diff), diff));
        }
        const vm better = vf_lt(mse, best_mse);
        best_mse = vf_sel(better, mse, best_mse);
        iscale = vf_sel(better, iscale_is, iscale);
    }
    vf sumlx = zero, suml2 = zero;
    for (int i = 0; i < n; ++i) {
        const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
        const vi l = vi_min(vnmax, vf_nearest_int(vf_mul(iscale, x)));
        L[i] = vi_and(l, byte);
        const vf fl = vi_to_f(l);
        sumlx = vf_add(sumlx, vf_mul(vf_mul(w, x), fl));
        suml2 = vf_add(suml2, vf_mul(vf_mul(w, fl), fl));
    }
    vm active = vm_andnot(vm_all(), tiny);
    for (int itry = 0; itry < 5 && vm_any(active); ++itry) {
        vm changed = vm_none();
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt + i * LN_W), w = vf_load(wt + i * LN_W);
            const vf fL = vi_to_f(L[i]), wx = vf_mul(w, x);
            const vf slx0 = vf_sub(sumlx, vf_mul(wx, fL));
            const vf sl20 = vf_sub(suml2, vf_mul(vf_mul(w, fL), fL));
            const vi new_l = vi_min(vnmax, vf_nearest_int(vf_div(vf_mul(x, sl20), slx0)));
            const vm differs = vm_and(vm_and(active, vm_and(vf_gt(slx0, zero), vf_gt(sl20, zero))), vi_ne(new_l, L[i]));
            if (!vm_any(differs)) continue;
            const vf fn = vi_to_f(new_l);
            const vf slx = vf_add(slx0, vf_mul(wx, fn));
            const vf sl2 = vf_add(sl20, vf_mul(vf_mul(w, fn), fn));
            const vm ok = vm_and(differs, vf_gt(vf_mul(vf_mul(slx, slx), suml2), vf_mul(vf_mul(sumlx, sumlx), sl2)));
            if (!vm_any(ok)) continue;
            L[i] = vi_sel(ok, vi_and(new_l, byte), L[i]);
            sumlx = vf_sel(ok, slx, sumlx);
            suml2 = vf_sel(ok, sl2, suml2);
            changed = vm_or(changed, ok);
        }
        active = vm_and(active, changed);
    }
    const vi vzero = vi_set1(0);
    for (int i = 0; i < n; ++i) L[i] = vi_sel(tiny, vzero, L[i]);
    return vf_sel(tiny, zero, vf_sel(vf_gt(suml2, zero), vf_div(sumlx, suml2), zero));
}

/* ------------------------------------------------------------ entries */

void LN_ISA(qk_q2k_lanes)(const float *x, const float *w, float *scales, float *mins, uint8_t *L) {
    float xt[16 * LN_W], wt[16 * LN_W];
    lb_transpose(x, 16, LN_W, xt);
    if (w) lb_transpose(w, 16, LN_W, wt);
    else
        for (int i = 0; i < 16; ++i) vf_store(wt + i * LN_W, vf_abs(vf_load(xt + i * LN_W)));
    vi Lv[16];
    vf sc, mn;
    if (w) lb_qkx(16, 3, xt, wt, Lv, &sc, &mn, -0.9f, 0.05f, 36, false, true);
    else lb_qkx(16, 3, xt, wt, Lv, &sc, &mn, -0.5f, 0.1f, 15, true, false);
    vf_store(scales, sc);
    vf_store(mins, mn);
    lb_untranspose_u8(Lv, 16, L);
}

void LN_ISA(qk_q3k_lanes)(const float *x, float *scales, int8_t *L) {
    float xt[16 * LN_W];
    lb_transpose(x, 16, LN_W, xt);
    vi Lv[16];
    vf_store(scales, lb_q3(16, 4, xt, Lv));
    lb_untranspose_u8(Lv, 16, (uint8_t *)L);
}

void LN_ISA(qk_qx_lanes)(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L) {
    lb_qx_search(n, nmax, x, w, scales, L);
}

void LN_ISA(qk_qkx3_lanes)(int n, int nmax, const float *x, const float *w, float *scales, float *mins, uint8_t *L) {
    if (n < 1 || n > LB_MAXN) return; /* contract: 1 <= n <= 32 (also tells the compiler) */
    float xt[LB_MAXN * LN_W], wt[LB_MAXN * LN_W];
    lb_transpose(x, n, LN_W, xt);
    lb_transpose(w, n, LN_W, wt);
    vi Lv[LB_MAXN];
    vf sc, mn;
    lb_qkx(n, nmax, xt, wt, Lv, &sc, &mn, -0.9f, 0.05f, 36, false, true);
    vf_store(scales, sc);
    vf_store(mins, mn);
    lb_untranspose_u8(Lv, n, L);
}

/* weight = qw * sqrt(sigma2 + x^2) (element-wise) for nsb (<= W)
 * consecutive super-blocks of 256, sigma2 = (c * sum x^2) / 256 per
 * super-block (each sum in element order; the nsb chains interleave). c = 1
 * (Q2_K) skips the multiplication, as the scalar code has none. */
static inline void lb_superblock_weights(const float *x, const float *const *qw, int nsb, float c, float *weight) {
    float sum[LN_W] = {0};
    for (int j = 0; j < 256; ++j)
        for (int k = 0; k < nsb; ++k) sum[k] += x[256 * k + j] * x[256 * k + j];
    vf acc = vf_load(sum);
    if (c != 1.f) acc = vf_mul(vf_set1(c), acc);
    float sigma2[LN_W];
    vf_store(sigma2, vf_div(acc, vf_set1(256.f)));
    for (int s = 0; s < nsb; ++s) {
        const vf sg = vf_set1(sigma2[s]);
        const float *xs = x + 256 * s;
        float *ws = weight + 256 * s;
        for (int l = 0; l < 256; l += LN_W) {
            const vf v = vf_load(xs + l);
            vf_store(ws + l, vf_mul(vf_load(qw[s] + l), vf_sqrt(vf_add(sg, vf_mul(v, v)))));
        }
    }
}

/* sums[g] = w[n g] + w[n g + 1] + ... in order, for ngroups contiguous groups
 * of n <= 32 values, W groups at a time (one group per lane). */
static inline void lb_group_sums(const float *w, int ngroups, int n, float *sums) {
    float wt[LB_MAXN * LN_W], out[LN_W];
    for (int g = 0; g < ngroups; g += LN_W) {
        const int avail = ngroups - g < LN_W ? ngroups - g : LN_W;
        lb_transpose(w + n * g, n, avail, wt);
        vf a = vf_set1(0.f);
        for (int l = 0; l < n; ++l) a = vf_add(a, vf_load(wt + l * LN_W));
        vf_store(out, a);
        memcpy(sums + g, out, sizeof(float) * (size_t)avail);
    }
}

/* Q2_K (c = 1) / Q3_K (c = 2): the weights of nsb (<= W) super-blocks and
 * sw[16 s + j] = the weights of sub-block j (of 16) summed in order. */
void LN_ISA(qk_kq_imatrix_weights)(const float *x, const float *const *qw, int nsb, float c, float *weight,
                                   float *sw) {
    lb_superblock_weights(x, qw, nsb, c, weight);
    lb_group_sums(weight, 16 * nsb, 16, sw);
}

/* ------------------------------------------- Q2_K / Q3_K requantization */

/* 256 levels L (0..3, or 0..7 for Q3_K with hmask) -> qs[64]: per 128-weight
 * half, qs[l] = L[l] | L[l+32] << 2 | L[l+64] << 4 | L[l+96] << 6; Q3_K's
 * bit 2 of L[j] goes to bit j/32 of hmask[j%32] and is cleared from L (as
 * the scalar `L > 3 ? L - 4`). 16-bit shifts are safe: no byte overflows. */
static inline void lb_pack_2bit(uint8_t *L, uint8_t *qs, uint8_t *hmask) {
    __m256i v[8];
    __m256i hm = _mm256_setzero_si256();
    const __m256i three = _mm256_set1_epi8(3);
    for (int c = 0; c < 8; ++c) {
        v[c] = _mm256_loadu_si256((const __m256i *)(L + 32 * c));
        if (hmask) {
            const __m256i bit = _mm256_set1_epi8((char)(1 << c));
            hm = _mm256_or_si256(hm, _mm256_and_si256(_mm256_cmpgt_epi8(v[c], three), bit));
            v[c] = _mm256_and_si256(v[c], three);
            _mm256_storeu_si256((__m256i *)(L + 32 * c), v[c]);
        }
    }
    if (hmask) _mm256_storeu_si256((__m256i *)hmask, hm);
    for (int h = 0; h < 2; ++h) {
        __m256i q = _mm256_or_si256(v[4 * h], _mm256_slli_epi16(v[4 * h + 1], 2));
        q = _mm256_or_si256(q, _mm256_slli_epi16(v[4 * h + 2], 4));
        q = _mm256_or_si256(q, _mm256_slli_epi16(v[4 * h + 3], 6));
        _mm256_storeu_si256((__m256i *)(qs + 32 * h), q);
    }
}

/* The requantization of Q2_K, Q3_K and Q6_K: for each sub-block of 16
 * with d[j] != 0, L = clamp(nearest_int((x + m[j]) / d[j]), lo, hi) + off
 * (m NULL: no m); the others keep the search's levels. */
static inline void lb_requant16(const float *x, const float *d, const float *m, int lo, int hi, int off, uint8_t *L) {
    const vi vlo = vi_set1(lo), vhi = vi_set1(hi), voff = vi_set1(off);
    for (int j = 0; j < 16; ++j) {
        if (!d[j]) continue;
        const vf vd = vf_set1(d[j]);
        for (int i = 0; i < 16; i += LN_W) {
            vf v = vf_load(x + 16 * j + i);
            if (m) v = vf_add(v, vf_set1(m[j]));
            const vi l = vf_nearest_int(vf_div(v, vd));
            vi_store_u8(L + 16 * j + i, vi_add(vi_max(vlo, vi_min(vhi, l)), voff));
        }
    }
}

void LN_ISA(qk_q2k_pack)(const float *x, const float *d, const float *m, uint8_t *L, uint8_t *qs) {
    lb_requant16(x, d, m, 0, 3, 0, L);
    lb_pack_2bit(L, qs, NULL);
}

void LN_ISA(qk_q3k_pack)(const float *x, const float *d, int8_t *L, uint8_t *hmask, uint8_t *qs) {
    lb_requant16(x, d, NULL, -4, 3, 4, (uint8_t *)L);
    lb_pack_2bit((uint8_t *)L, qs, hmask);
}

void LN_ISA(qk_qp_lanes)(int n, int nmax, const float *x, const float *w, float *scales, uint8_t *L) {
    if (n < 1 || n > LB_MAXN) return; /* contract: 1 <= n <= 32 (also tells the compiler) */
    float xt[LB_MAXN * LN_W], wt[LB_MAXN * LN_W];
    lb_transpose(x, n, LN_W, xt);
    lb_transpose(w, n, LN_W, wt);
    vi Lv[LB_MAXN];
    vf_store(scales, lb_qp(n, nmax, xt, wt, Lv));
    lb_untranspose_u8(Lv, n, L);
}

/* ---------------------------------------------------------------- IQ4 */

/* The ntry = 7 scale search of quantize_row_iq4_nl_impl for W blocks of 32:
 * d[k] is the block's (sub-block's) scale, 0 for an all-zero block. */
void LN_ISA(qk_iq4_lanes)(const float *x, const float *w, int avail, float *d_out) {
    float xt[32 * LN_W], wt[32 * LN_W];
    lb_transpose(x, 32, avail, xt);
    if (w) lb_transpose(w, 32, avail, wt);
    else
        for (int i = 0; i < 32; ++i) {
            const vf v = vf_load(xt + i * LN_W);
            vf_store(wt + i * LN_W, vf_mul(v, v));
        }
    lb_iq4_scales(xt, wt, avail, d_out);
}

/* IQ4's imatrix weights of nsb consecutive super-blocks of `super` (32 for
 * IQ4_NL, 256 for IQ4_XS): sigma2 = (sum x^2, in order) * (2 / super),
 * weight = qw * sqrt(sigma2 + x^2). */
void LN_ISA(qk_iq4_imatrix_weights)(const float *x, const float *const *qw, int nsb, int super, float *weight) {
    float sum[16] = {0};
    for (int j = 0; j < super; ++j)
        for (int k = 0; k < nsb; ++k) sum[k] += x[super * k + j] * x[super * k + j];
    for (int k = 0; k < nsb; ++k) {
        float sigma2 = sum[k];
        sigma2 *= 2.f / (float)super;
        const vf sg = vf_set1(sigma2);
        for (int l = 0; l < super; l += LN_W) {
            const vf v = vf_load(x + super * k + l);
            vf_store(weight + super * k + l, vf_mul(vf_load(qw[k] + l), vf_sqrt(vf_add(sg, vf_mul(v, v)))));
        }
    }
}

/* One block of 32: q16[j] = best_index(id * x[j]) | best_index(id * x[j + 16]) << 4. */
void LN_ISA(qk_iq4_pack)(const float *x, float id, uint8_t *q16) {
    const vtab16 tab = vtab16_load(lb_iq4_values);
    const vf vid = vf_set1(id);
    for (int j = 0; j < 16; j += LN_W) {
        const vi lo = lb_iq4_index(vf_mul(vid, vf_load(x + j)), tab);
        const vi hi = lb_iq4_index(vf_mul(vid, vf_load(x + 16 + j)), tab);
        vi_store_u8(q16 + j, vi_add(lo, vi_shl(hi, 4)));
    }
}

/* ------------------------------------------------ Q4_K / Q5_K / Q6_K */

/* Q4_K/Q5_K without an imatrix: quantize_row_q4_K_ref's / q5_K_ref's search
 * of W consecutive sub-blocks of 32: weights sqrt(sum x^2 / 32) + |x|, then
 * make_qkx2_quants(32, nmax, x, w, .., rmin, rdelta, nstep, no mad). */
void LN_ISA(qk_kq_search_lanes)(const qk_kq_params *p, const float *x, float *scales, float *mins, uint8_t *L) {
    float xt[32 * LN_W], wt[32 * LN_W];
    lb_transpose(x, 32, LN_W, xt);
    lb_kq_auto_weights(xt, wt);
    lb_qkx_store(32, p->nmax, xt, wt, p->rmin, p->rdelta, p->nstep, false, false, scales, mins, L);
}

/* Q4_K/Q5_K requantization of one sub-block of 32 against its stored scale:
 * L[i] = clamp(nearest_int((x[i] + dm) / d), 0, nmax). */
void LN_ISA(qk_kq_requant32)(const float *x, float d, float dm, int nmax, uint8_t *L) {
    const vf vd = vf_set1(d), vdm = vf_set1(dm);
    const vi lo = vi_set1(0), hi = vi_set1(nmax);
    for (int i = 0; i < 32; i += LN_W) {
        const vf q = vf_div(vf_add(vf_load(x + i), vdm), vd);
        vi_store_u8(L + i, vi_max(lo, vi_min(hi, vf_nearest_int(q)))); /* levels 0..31 fit a byte */
    }
}

/* Q4_K/Q5_K: the weights of nsb (<= W) super-blocks (c = 2) and sw[8 s + j]
 * = the weights of sub-block j (of 32) summed in order, as
 * qk_kq_imatrix_weights32_ref in q4_k_q5_k.c. */
void LN_ISA(qk_kq_imatrix_weights32)(const float *x, const float *const *qw, int nsb, float *weight, float *sw) {
    lb_superblock_weights(x, qw, nsb, 2.f, weight);
    lb_group_sums(weight, 8 * nsb, 32, sw);
}

/* Q4_K (qh NULL) / Q5_K packing of one super-block's 256 levels L (each in
 * 0..nmax, as the clamped search and requantization leave them): per
 * 64-weight chunk c, qs[32 c + l] = (L[64c+l] & 15) | (L[64c+l+32] & 15) << 4
 * and, for Q5_K, bit 2c of qh[l] = L[64c+l] > 15, bit 2c+1 = L[64c+l+32] > 15. */
void LN_ISA(qk_kq_pack)(const uint8_t *L, uint8_t *qh, uint8_t *qs) {
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256i hm = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(L + 64 * c));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(L + 64 * c + 32));
        const __m256i q = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi16(_mm256_and_si256(b, m4), 4));
        _mm256_storeu_si256((__m256i *)(qs + 32 * c), q);
        if (qh) {
            hm = _mm256_or_si256(hm,
                                 _mm256_and_si256(_mm256_cmpgt_epi8(a, m4), _mm256_set1_epi8((char)(1 << (2 * c)))));
            hm = _mm256_or_si256(hm,
                                 _mm256_and_si256(_mm256_cmpgt_epi8(b, m4), _mm256_set1_epi8((char)(2 << (2 * c)))));
        }
    }
    if (qh) _mm256_storeu_si256((__m256i *)qh, hm);
}

/* Q6_K: the sub-blocks j of 16 with d[j] != 0 requantized, L = clamp(
 * nearest_int(x / d[j]), -32, 31) + 32 (the others keep their levels, each
 * in 0..63), then the 256 levels packed into y: per 128-weight half h,
 * ql = y + 64 h, qh = y + 128 + 32 h: ql[l] = (L[l] & 15) | (L[l+64] & 15)
 * << 4, ql[l+32] = (L[l+32] & 15) | (L[l+96] & 15) << 4, qh[l] = L[l] >> 4
 * | (L[l+32] >> 4) << 2 | (L[l+64] >> 4) << 4 | (L[l+96] >> 4) << 6. */
void LN_ISA(qk_q6k_pack)(const float *x, const float *d, int8_t *L, uint8_t *y) {
    lb_requant16(x, d, NULL, -32, 31, 32, (uint8_t *)L);
    const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
        __m256i v[4];
        for (int c = 0; c < 4; ++c) v[c] = _mm256_loadu_si256((const __m256i *)(L + 128 * h + 32 * c));
        for (int c = 0; c < 2; ++c) {
            const __m256i q = _mm256_or_si256(_mm256_and_si256(v[c], m4),
                                              _mm256_slli_epi16(_mm256_and_si256(v[c + 2], m4), 4));
            _mm256_storeu_si256((__m256i *)(y + 64 * h + 32 * c), q);
        }
        __m256i q = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c)
            q = _mm256_or_si256(q, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(v[c], 4), m2), 2 * c));
        _mm256_storeu_si256((__m256i *)(y + 128 + 32 * h), q);
    }
}

/* lb_qx on two independent sets of W groups at once: the same per-lane
 * operations in the same order as lb_qx (so the same bits), the two sets'
 * instructions interleaved so that their sum chains, which bound lb_qx's
 * speed by latency, overlap. wt[s] NULL: weights x^2. */
LB_INLINE void lb_qx2(int n, int nmax, const float *const xt[2], const float *const wt[2], vi L[2][LB_MAXN],
                          vf out[2]) {
    const vf zero = vf_set1(0.f);
    const vi lo = vi_set1(-nmax), hi = vi_set1(nmax - 1), off = vi_set1(nmax);
    vf max[2], scale[2], best[2], sumlx[2], suml2[2];
    vm allzero[2];
    vf wv[2][LB_MAXN], wx[2][LB_MAXN];
    for (int s = 0; s < 2; ++s) {
        allzero[s] = lb_signed_max(n, xt[s], &max[s]);
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt[s] + i * LN_W);
            wv[s][i] = wt[s] ? vf_load(wt[s] + i * LN_W) : vf_mul(x, x);
            wx[s][i] = vf_mul(wv[s][i], x);
        }
        const vf iscale = vf_div(vf_set1((float)-nmax), max[s]);
        sumlx[s] = suml2[s] = zero;
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt[s] + i * LN_W);
            const vi l = vi_max(lo, vi_min(hi, vf_nearest_int(vf_mul(iscale, x))));
            L[s][i] = vi_add(l, off);
            const vf fl = vi_to_f(l);
            sumlx[s] = vf_add(sumlx[s], vf_mul(wx[s][i], fl));
            suml2[s] = vf_add(suml2[s], vf_mul(vf_mul(wv[s][i], fl), fl));
        }
        scale[s] = vf_sel(vf_ne_uq(suml2[s], zero), vf_div(sumlx[s], suml2[s]), zero);
        best[s] = vf_mul(scale[s], sumlx[s]);
    }
    vi lt[2][LB_MAXN];
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const vf c = vf_set1(-((float)nmax + 0.1f * (float)is));
        const vf iscale0 = vf_div(c, max[0]), iscale1 = vf_div(c, max[1]);
        vf slx0 = zero, sl20 = zero, slx1 = zero, sl21 = zero;
        for (int i = 0; i < n; ++i) {
            const vf x0 = vf_load(xt[0] + i * LN_W), x1 = vf_load(xt[1] + i * LN_W);
            const vi l0 = vi_max(lo, vi_min(hi, vf_nearest_int(vf_mul(iscale0, x0))));
            const vi l1 = vi_max(lo, vi_min(hi, vf_nearest_int(vf_mul(iscale1, x1))));
            lt[0][i] = l0;
            lt[1][i] = l1;
            const vf fl0 = vi_to_f(l0), fl1 = vi_to_f(l1);
            slx0 = vf_add(slx0, vf_mul(wx[0][i], fl0));
            slx1 = vf_add(slx1, vf_mul(wx[1][i], fl1));
            sl20 = vf_add(sl20, vf_mul(vf_mul(wv[0][i], fl0), fl0));
            sl21 = vf_add(sl21, vf_mul(vf_mul(wv[1][i], fl1), fl1));
        }
        sumlx[0] = slx0, suml2[0] = sl20, sumlx[1] = slx1, suml2[1] = sl21;
        for (int s = 0; s < 2; ++s) {
            const vm upd = vm_andnot(
                vm_and(vf_gt(suml2[s], zero), vf_gt(vf_mul(sumlx[s], sumlx[s]), vf_mul(best[s], suml2[s]))),
                allzero[s]);
            if (!vm_any(upd)) continue;
            for (int i = 0; i < n; ++i) L[s][i] = vi_sel(upd, vi_add(lt[s][i], off), L[s][i]);
            scale[s] = vf_sel(upd, vf_div(sumlx[s], suml2[s]), scale[s]);
            best[s] = vf_sel(upd, vf_mul(scale[s], sumlx[s]), best[s]);
        }
    }
    const vi vzero = vi_set1(0);
    for (int s = 0; s < 2; ++s) {
        for (int i = 0; i < n; ++i) L[s][i] = vi_sel(allzero[s], vzero, L[s][i]);
        out[s] = vf_sel(allzero[s], zero, scale[s]);
    }
}

/* make_qx_quants(n, nmax, x, L, 1, w) of 2 W groups of n <= 32 (two sets
 * of W lanes run interleaved; w NULL: weights x^2), as qk_qx_lanes twice. */
void LN_ISA(qk_qx2_lanes)(int n, int nmax, const float *x, const float *w, float *scales, int8_t *L) {
    if (n < 1 || n > LB_MAXN) return; /* contract: 1 <= n <= 32 (also tells the compiler) */
    float xt[2][LB_MAXN * LN_W], wt[2][LB_MAXN * LN_W];
    for (int s = 0; s < 2; ++s) {
        lb_transpose(x + s * n * LN_W, n, LN_W, xt[s]);
        if (w) lb_transpose(w + s * n * LN_W, n, LN_W, wt[s]);
    }
    const float *const xp[2] = {xt[0], xt[1]};
    const float *const wp[2] = {w ? wt[0] : NULL, w ? wt[1] : NULL};
    vi Lv[2][LB_MAXN];
    vf sc[2];
    if (n == 16 && nmax == 32) lb_qx2(16, 32, xp, wp, Lv, sc); /* Q6_K with an imatrix */
    else lb_qx2(n, nmax, xp, wp, Lv, sc);
    for (int s = 0; s < 2; ++s) {
        vf_store(scales + s * LN_W, sc[s]);
        lb_untranspose_u8(Lv[s], n, (uint8_t *)L + s * n * LN_W);
    }
}

/* lb_qkx's make_qkx3_quants case (v3, no mad, -0.9 / 0.05 / 36) on two
 * independent sets of W groups at once: the same per-lane operations in
 * the same order as lb_qkx (so the same bits), the two sets' instructions
 * interleaved so that their sum chains overlap. */
static inline void lb_qkx3_2(int n, int nmax, const float *const xt[2], const float *const wt[2], vi L[2][LB_MAXN],
                             vf scale_out[2], vf themin_out[2]) {
    const vf zero = vf_set1(0.f);
    const vi vnmax = vi_set1(nmax), vzero = vi_set1(0);
    vf min[2], max[2], sum_w[2], sum_x[2], scale[2], best_error[2];
    vm flat[2];
    for (int s = 0; s < 2; ++s) {
        min[s] = vf_load(xt[s]), max[s] = min[s];
        sum_w[s] = vf_load(wt[s]);
        sum_x[s] = vf_mul(sum_w[s], min[s]);
        for (int i = 1; i < n; ++i) {
            const vf x = vf_load(xt[s] + i * LN_W), w = vf_load(wt[s] + i * LN_W);
            min[s] = vf_sel(vf_lt(x, min[s]), x, min[s]);
            max[s] = vf_sel(vf_gt(x, max[s]), x, max[s]);
            sum_w[s] = vf_add(sum_w[s], w);
            sum_x[s] = vf_add(sum_x[s], vf_mul(w, x));
        }
        min[s] = vf_sel(vf_gt(min[s], zero), zero, min[s]);
        flat[s] = vf_le(max[s], min[s]);
        const vf iscale = vf_div(vf_set1((float)nmax), vf_sub(max[s], min[s]));
        scale[s] = vf_div(vf_set1(1.f), iscale);
        best_error[s] = zero;
        for (int i = 0; i < n; ++i) {
            const vf x = vf_load(xt[s] + i * LN_W), w = vf_load(wt[s] + i * LN_W);
            const vi l = vi_max(vzero, vi_min(vnmax, vf_nearest_int(vf_mul(iscale, vf_sub(x, min[s])))));
            L[s][i] = l;
            const vf diff = vf_sub(vf_add(vf_mul(scale[s], vi_to_f(l)), min[s]), x);
            best_error[s] = vf_add(best_error[s], vf_mul(w, vf_mul(diff, diff)));
        }
    }
    vi Laux[2][LB_MAXN];
    for (int is = 0; is <= 36; ++is) {
        const vf step = vf_add(vf_set1(-0.9f + 0.05f * (float)is), vf_set1((float)nmax));
        const vf iscale0 = vf_div(step, vf_sub(max[0], min[0])), iscale1 = vf_div(step, vf_sub(max[1], min[1]));
        vf sl0 = zero, sl20 = zero, sxl0 = zero, sl1 = zero, sl21 = zero, sxl1 = zero;
        for (int i = 0; i < n; ++i) {
            const vf x0 = vf_load(xt[0] + i * LN_W), w0 = vf_load(wt[0] + i * LN_W);
            const vf x1 = vf_load(xt[1] + i * LN_W), w1 = vf_load(wt[1] + i * LN_W);
            const vi l0 = vi_max(vzero, vi_min(vnmax, vf_nearest_int(vf_mul(iscale0, vf_sub(x0, min[0])))));
            const vi l1 = vi_max(vzero, vi_min(vnmax, vf_nearest_int(vf_mul(iscale1, vf_sub(x1, min[1])))));
            Laux[0][i] = l0;
            Laux[1][i] = l1;
            const vf fl0 = vi_to_f(l0), fl1 = vi_to_f(l1);
            const vf wl0 = vf_mul(w0, fl0), wl1 = vf_mul(w1, fl1);
            sl0 = vf_add(sl0, wl0);
            sl1 = vf_add(sl1, wl1);
            sl20 = vf_add(sl20, vf_mul(wl0, fl0));
            sl21 = vf_add(sl21, vf_mul(wl1, fl1));
            sxl0 = vf_add(sxl0, vf_mul(wl0, x0));
            sxl1 = vf_add(sxl1, vf_mul(wl1, x1));
        }
        const vf sum_l[2] = {sl0, sl1}, sum_l2[2] = {sl20, sl21}, sum_xl[2] = {sxl0, sxl1};
        vm dpos[2];
        vf this_scale[2], this_min[2];
        for (int s = 0; s < 2; ++s) {
            const vf D = vf_sub(vf_mul(sum_w[s], sum_l2[s]), vf_mul(sum_l[s], sum_l[s]));
            dpos[s] = vm_andnot(vf_gt(D, zero), flat[s]);
            this_scale[s] = vf_div(vf_sub(vf_mul(sum_w[s], sum_xl[s]), vf_mul(sum_x[s], sum_l[s])), D);
            this_min[s] = vf_div(vf_sub(vf_mul(sum_l2[s], sum_x[s]), vf_mul(sum_l[s], sum_xl[s])), D);
            const vm mpos = vf_gt(this_min[s], zero);
            this_min[s] = vf_sel(mpos, zero, this_min[s]);
            this_scale[s] = vf_sel(mpos, vf_div(sum_xl[s], sum_l2[s]), this_scale[s]);
        }
        if (!vm_any(vm_or(dpos[0], dpos[1]))) continue;
        vf e0 = zero, e1 = zero;
        for (int i = 0; i < n; ++i) {
            const vf x0 = vf_load(xt[0] + i * LN_W), w0 = vf_load(wt[0] + i * LN_W);
            const vf x1 = vf_load(xt[1] + i * LN_W), w1 = vf_load(wt[1] + i * LN_W);
            const vf d0 = vf_sub(vf_add(vf_mul(this_scale[0], vi_to_f(Laux[0][i])), this_min[0]), x0);
            const vf d1 = vf_sub(vf_add(vf_mul(this_scale[1], vi_to_f(Laux[1][i])), this_min[1]), x1);
            e0 = vf_add(e0, vf_mul(w0, vf_mul(d0, d0)));
            e1 = vf_add(e1, vf_mul(w1, vf_mul(d1, d1)));
        }
        const vf cur_error[2] = {e0, e1};
        for (int s = 0; s < 2; ++s) {
            const vm upd = vm_and(dpos[s], vf_lt(cur_error[s], best_error[s]));
            if (!vm_any(upd)) continue;
            for (int i = 0; i < n; ++i) L[s][i] = vi_sel(upd, Laux[s][i], L[s][i]);
            best_error[s] = vf_sel(upd, cur_error[s], best_error[s]);
            scale[s] = vf_sel(upd, this_scale[s], scale[s]);
            min[s] = vf_sel(upd, this_min[s], min[s]);
        }
    }
    for (int s = 0; s < 2; ++s) {
        for (int i = 0; i < n; ++i) L[s][i] = vi_sel(flat[s], vzero, L[s][i]);
        scale_out[s] = vf_sel(flat[s], zero, scale[s]);
        themin_out[s] = vf_neg(min[s]);
    }
}

/* make_qkx3_quants of 2 W groups of n <= 32 (two sets of W lanes run
 * interleaved), as qk_qkx3_lanes twice. */
void LN_ISA(qk_qkx3_2_lanes)(int n, int nmax, const float *x, const float *w, float *scales, float *mins,
                             uint8_t *L) {
    if (n < 1 || n > LB_MAXN) return; /* contract: 1 <= n <= 32 (also tells the compiler) */
    float xt[2][LB_MAXN * LN_W], wt[2][LB_MAXN * LN_W];
    for (int s = 0; s < 2; ++s) {
        lb_transpose(x + s * n * LN_W, n, LN_W, xt[s]);
        lb_transpose(w + s * n * LN_W, n, LN_W, wt[s]);
    }
    const float *const xp[2] = {xt[0], xt[1]}, *const wp[2] = {wt[0], wt[1]};
    vi Lv[2][LB_MAXN];
    vf sc[2], mn[2];
    lb_qkx3_2(n, nmax, xp, wp, Lv, sc, mn);
    for (int s = 0; s < 2; ++s) {
        vf_store(scales + s * LN_W, sc[s]);
        vf_store(mins + s * LN_W, mn[s]);
        lb_untranspose_u8(Lv[s], n, L + s * n * LN_W);
    }
}

const qk_lanes_x86 LN_ISA(qk_lanes) = {
    LN_W,
    LN_ISA(qk_q2k_lanes),
    LN_ISA(qk_q3k_lanes),
    LN_ISA(qk_qx_lanes),
    LN_ISA(qk_qx2_lanes),
    LN_ISA(qk_qp_lanes),
    LN_ISA(qk_q2k_pack),
    LN_ISA(qk_q3k_pack),
    LN_ISA(qk_q6k_pack),
    LN_ISA(qk_kq_imatrix_weights),
    LN_ISA(qk_iq4_lanes),
    LN_ISA(qk_iq4_imatrix_weights),
    LN_ISA(qk_iq4_pack),
};
