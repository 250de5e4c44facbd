/* q1_q2_body.h - the SIMD Q1_0 / Q2_0 quantizers (layouts in q1_q2.c),
 * written once for x86 (x86/q1_q2_avx2.c, q1_q2_avx512.c) and NEON
 * (arm/q1_q2_neon.c).
 *
 * Each of those files defines the vocabulary below, includes this body and
 * then defines its qk_quantize_q1_0_<isa> / qk_quantize_q2_0_<isa>
 * (q1_q2.h) by name, as q1_0_quantize / q2_0_quantize. The vocabulary:
 *   QQ_W                    float lanes of qq_vf (8 / 16 / 4)
 *   qq_vf, qq_vf_zero(), qq_vf_add(a, b) (one IEEE add per lane),
 *   qq_vf_store(p, a)       the float vector
 *   q1_cols4(x, c)          c[i] lane k = |x[k * QK_Q1_0 + i]|, i = 0..3,
 *                           k = 0..QQ_W-1 (element i of QQ_W blocks)
 *   q1_signs(x, qs)         the 16 sign bytes of one block: bit j of byte
 *                           j / 8 set iff x[j] >= 0 (C's >=: -0 yes, NaN no)
 *   q2_amax_bits(x)         max over x[0..63] of the bits of |x| as uint32
 *   q2_codes(x, id, qs)     the 16 code bytes of one Q2_0 block: element j
 *                           in bits 2(j%4) of byte j/4, code 1 + (v >= 0.5)
 *                           - (v <= -0.5) for v = x[j] * id
 *
 * Q1_0's scale is the sum of |x| in element order, each add rounded: a
 * reassociated (tree) sum gives other bits, so the sum is vectorized across
 * blocks instead: lane k of an accumulator adds block k's |x[0]|, |x[1]|,
 * ... one after the other, exactly the scalar's sequence of adds (from 0,
 * as the scalar's). Which NaN payload a sum keeps (compilers order an add's
 * operands freely) does not show: all |x| are positive, so a NaN sum is a
 * positive NaN, which the fp16 conversion writes as 0x7e00 whatever its
 * payload.
 * q1_cols4 transposes four elements of QQ_W blocks into that layout. A run
 * of blocks is taken in groups of Q1_GROUPS * QQ_W (independent
 * accumulators, so the adds' latency overlaps), then QQ_W, and the last
 * blocks (fewer than QQ_W) go to the scalar qk_q1_0_block. Rows of a valid
 * shape are contiguous whole blocks, so groups may span rows.
 *
 * Q2_0's code is clamp(trunc-convert(roundf(x * id)) + 1, 0, 3). The bits of
 * |x| order as the floats do, with inf and NaN above every finite value, so
 * one integer max gives amax (exact: without NaN/inf it is the scalar's
 * `if (a > amax) amax = a` result, which skips NaN) or a NaN/inf. Such a
 * block, or one whose 1 / amax is infinite (amax subnormal), goes to the
 * scalar qk_q2_0_block; one test finds all three: amax * id is NaN for a
 * NaN amax (id 0) and for an infinite one (id 0), inf for an infinite id,
 * and otherwise within a few ulps of 1 (0 for an all-zero block). Then every
 * v = x * id (one IEEE multiply, as the scalar's: no FMA in these files)
 * has |v| <= amax * id < 1.5 (rounding is monotonic); on (-1.5, 1.5) roundf
 * (half away from zero) is (v >= 0.5) - (v <= -0.5), an exact integer the
 * conversion keeps, never 2 or -2, so the clamp never acts and the code is
 * 1 + that: two compares, no rounding emulation. The fp16 scales are
 * qk_put_f16's, the scalar's conversion, one per block. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel_util.h"
#include "lowbit.h"
#include "q1_q2.h"

#ifndef Q1_GROUPS
#define Q1_GROUPS 2
#endif

/* ng * QQ_W blocks (ng <= Q1_GROUPS) at x to ng * QQ_W Q1_0 blocks at y */
static inline void q1_0_groups(const float *x, uint8_t *y, int ng) {
    qq_vf acc[Q1_GROUPS];
    for (int g = 0; g < ng; g++) acc[g] = qq_vf_zero();
    for (int j = 0; j < QK_Q1_0; j += 4) {
        for (int g = 0; g < ng; g++) {
            qq_vf c[4];
            q1_cols4(x + (size_t)g * QQ_W * QK_Q1_0 + j, c);
            for (int i = 0; i < 4; i++) acc[g] = qq_vf_add(acc[g], c[i]);
        }
    }
    float sum[Q1_GROUPS * QQ_W];
    for (int g = 0; g < ng; g++) qq_vf_store(sum + g * QQ_W, acc[g]);
    for (int k = 0; k < ng * QQ_W; k++) {
        uint8_t *b = y + (size_t)k * sizeof(qk_block_q1_0);
        qk_put_f16(b + offsetof(qk_block_q1_0, d), sum[k] / QK_Q1_0);
        q1_signs(x + (size_t)k * QK_Q1_0, b + offsetof(qk_block_q1_0, qs));
    }
}

/* the qk_quantize_q1_0 contract (the imatrix ignored, as ggml does) */
static size_t q1_0_quantize(QK_QUANTIZE_PARAMS) {
    (void)imatrix;
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_Q1_0);
    if (nb < 0) return 0;
    const int64_t total = nrows * nb;
    const size_t bytes = sizeof(qk_block_q1_0);
    uint8_t *y = (uint8_t *)dst;
    int64_t b = 0;
    for (; total - b >= Q1_GROUPS * QQ_W; b += Q1_GROUPS * QQ_W)
        q1_0_groups(src + b * QK_Q1_0, y + (size_t)b * bytes, Q1_GROUPS);
    for (; total - b >= QQ_W; b += QQ_W) q1_0_groups(src + b * QK_Q1_0, y + (size_t)b * bytes, 1);
    for (; b < total; b++) qk_q1_0_block(src + b * QK_Q1_0, y + (size_t)b * bytes);
    return (size_t)total * bytes;
}

static void q2_0_block(const float *x, uint8_t *y) {
    const uint32_t bits = q2_amax_bits(x);
    float amax;
    memcpy(&amax, &bits, sizeof amax);
    const float id = amax > 0.0f ? 1.0f / amax : 0.0f;
    if (!(amax * id < 1.5f)) { /* NaN (id 0), inf (inf * 0 is NaN), or id infinite */
        qk_q2_0_block(x, y);
        return;
    }
    qk_put_f16(y + offsetof(qk_block_q2_0, d), amax);
    q2_codes(x, id, y + offsetof(qk_block_q2_0, qs));
}

static size_t q2_0_quantize(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_Q2_0, qk_block_q2_0, q2_0_block); }
