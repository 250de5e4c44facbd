/* fp4_body.h - the SIMD MXFP4 / NVFP4 quantizers (layouts in fp4.c),
 * written once over vec_x86.h's lane vocabulary and instantiated by
 * x86/fp4_avx2.c, x86/fp4_avx512.c and arm/fp4_neon.c.
 *
 * Included once by each of those files, after they define LN_W (8, 16 or 4
 * lanes) and the vocabulary of vec_x86.h that this body uses (vf, vi, vm,
 * vf_load, vf_set1, vf_sub, vf_mul, vf_abs, vf_lt, vi_set1, vi_sel, vi_add,
 * vi_ne, vi_shl, vm_and, vi_store_u8: LN_W bytes, the low byte of each
 * lane), plus:
 *   fp4_amax(x, n)            the largest |x[i]|, i < n (n a multiple of
 *                             LN_W), NaN skipped: the scalar's
 *                             `if (amax < fabsf(v)) amax = fabsf(v)` (exact,
 *                             so any order gives it)
 * and, for LN_W == 16 only (an NVFP4 sub-block has 16 values but each byte
 * pairs element j with j + 8, so 16 lanes hold two sub-blocks' halves):
 *   fp4_load_2x8(p, q)        lanes 0..7 from p[0..7], 8..15 from q[0..7]
 *   fp4_set_2(a, b)           lanes 0..7 a, 8..15 b
 * Only IEEE multiply / subtract and compares are used, no FMA (the files are
 * built with -ffp-contract=off).
 *
 * Exactness. Scales are computed per block in scalar by fp4_scale.h, the
 * scalar kernels' own expressions (so log2f/floorf are the same libm calls)
 * or their proven bit-level equals (fp4_mxfp4_e_fast, fp4_ue4m3_to_f32_fast).
 * The per-value search of the scalar is: first index i of the smallest
 * err_i = fabsf(kv[i]*d - x), strictly-less in index order, over the 16
 * lattice values. Here t_k = kv[k]*d, k = 0..7 (t_0 = 0 <= t_1 <=
 * ... <= t_7, d >= 0 finite), computed by the same multiply, and the search
 * runs over those 8 with a = |x| in each lane, in the same order with the
 * same strict compare, then adds 8 when x < 0 and the index is not 0. That
 * equals the scalar's 16-way search because rounding to nearest is
 * monotone and symmetric (round(-v) = -round(v)):
 *  - x >= 0 (or -0): indices 1..7 see err = |round(t_k - x)|, as here; index
 *    8 (kv = 0) repeats index 0's error, never strictly less; index 8 + k
 *    sees round(t_k + x) >= |round(t_k - x)| >= the best so far, never less.
 *    A -0 makes every err_k = t_k >= 0 = err_0: index 0, kept by the "not 0"
 *    condition.
 *  - x < 0: index k = 1..7 sees round(t_k + |x|) >= |x| = err_0, so index 0
 *    stays the best through index 8; index 8 + k then sees
 *    |round(-t_k - x)| = |round(t_k - |x|)|, the errors of the |x| search in
 *    the same order: the same winner, plus 8 unless it is index 0.
 *  - NaN x: every compare is false, index 0 (NaN < 0 is false too); +-inf:
 *    every err is inf, index 0.
 * The 8-way search itself needs no running minimum: round(t_k - a) never
 * decreases with k (t_k does not, rounding is monotone), so its magnitude
 * err_k falls (or stays) while it is <= 0 and then rises (or stays). The
 * strict-< running minimum therefore changes exactly where err_k < err_{k-1}
 * inside the falling part and never after: the first index of the smallest
 * err is the last k with err_k < err_{k-1}, 0 if none.
 * tests/quantize/test_kernels_simd_fp4.c checks this against the scalar on
 * ties (midpoints and their ulp neighbours), signed zeros, subnormal
 * amax and d, huge and infinite values and NaN at every position. */
#include <stddef.h>
#include <stdint.h>

#include "fp4_scale.h"
#include "kernel_util.h"
#include "lowbit.h"

/* t[k] = kv[k] * d per lane, k = 1..7 (t[0] = 0 is implicit) */
static inline void fp4_lattice(vf t[8], vf d) {
    for (int k = 1; k < 8; k++) t[k] = vf_mul(vf_set1((float)k_fp4[k]), d);
}

/* the scalar's best_index of each lane of x against t (see the head) */
static inline vi fp4_index(vf x, const vf t[8]) {
    const vf a = vf_abs(x);
    vf prev = a; /* err_0 = |0 - a| */
    vi idx = vi_set1(0);
    for (int k = 1; k < 8; k++) {
        const vf err = vf_abs(vf_sub(t[k], a));
        idx = vi_sel(vf_lt(err, prev), vi_set1(k), idx);
        prev = err;
    }
    const vm neg = vm_and(vf_lt(x, vf_set1(0.0f)), vi_ne(idx, vi_set1(0)));
    return vi_sel(neg, vi_add(idx, vi_set1(8)), idx);
}

/* one byte per lane: the index of lo in the low nibble, of hi in the high */
static inline void fp4_store_pairs(uint8_t *q, vf lo, vf hi, const vf t[8]) {
    vi_store_u8(q, vi_add(fp4_index(lo, t), vi_shl(fp4_index(hi, t), 4)));
}

static void fp4_mxfp4_block(const float *x, uint8_t *y) {
    const uint8_t e = fp4_mxfp4_e_fast(fp4_amax(x, QK_LEGACY));
    vf t[8];
    fp4_lattice(t, vf_set1(fp4_e8m0_half(e)));
    y[0] = e;
    for (int j = 0; j < QK_LEGACY / 2; j += LN_W)
        fp4_store_pairs(y + 1 + j, vf_load(x + j), vf_load(x + QK_LEGACY / 2 + j), t);
}

enum { FP4_SUB = 16, FP4_NSUB = QK_NVFP4 / FP4_SUB };

static void fp4_nvfp4_block(const float *x, uint8_t *y) {
    float d[FP4_NSUB];
    for (int s = 0; s < FP4_NSUB; s++) {
        const uint8_t ue = fp4_nvfp4_ue(fp4_amax(x + FP4_SUB * s, FP4_SUB));
        y[offsetof(qk_block_nvfp4, d) + s] = ue;
        d[s] = fp4_ue4m3_to_f32_fast(ue);
    }
    uint8_t *qs = y + offsetof(qk_block_nvfp4, qs); /* sub-block s: qs[8s + j] pairs x[16s + j], x[16s + 8 + j] */
    vf t[8];
#if LN_W == 16
    for (int s = 0; s < FP4_NSUB; s += 2) {
        const float *xs = x + FP4_SUB * s;
        fp4_lattice(t, fp4_set_2(d[s], d[s + 1]));
        fp4_store_pairs(qs + 8 * s, fp4_load_2x8(xs, xs + 16), fp4_load_2x8(xs + 8, xs + 24), t);
    }
#else
    for (int s = 0; s < FP4_NSUB; s++) {
        const float *xs = x + FP4_SUB * s;
        fp4_lattice(t, vf_set1(d[s]));
        for (int j = 0; j < FP4_SUB / 2; j += LN_W) fp4_store_pairs(qs + 8 * s + j, vf_load(xs + j), vf_load(xs + 8 + j), t);
    }
#endif
}
