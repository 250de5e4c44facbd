/* legacy_rows_body.h - the one SIMD body of Q4_0, Q4_1, Q5_0 and Q5_1 (and
 * the row loop of Q8_0), instantiated by x86/legacy_avx2.c,
 * x86/legacy_avx512.c and arm/legacy_neon.c. Each includes it after
 * defining its vector vocabulary for one block of 32 floats:
 *   blk32, load_blk(x), blk_has_nan(&b)
 *   blk_signed_absmax(x, &b)   the x with the largest |x|, first on ties
 *   blk_min_max(x, &b, &mn, &mx)  as the scalar loops from FLT_MAX / -FLT_MAX
 *   bytes32, cvtt_low_bytes(v)  the low bytes of cvtt of the block's vectors
 *   LG_VEC, LG_NV, LG_SET1/SUB/ADD/MUL  its vector type, count and operations
 *   clamp_bytes(q, hi)         signed byte minimum with hi
 *   store_nibbles(qs, q, mask_low), store_qh(qh, q)
 *   blk_absmax(&b)             the largest |x| (of a NaN-free block)
 *   q8_0_levels(&b, id, qs)    Q8_0's roundf(x * id) bytes (the ISA's own code)
 *   LG_IMATRIX_ROWS(t, ...)    the ISA's imatrix rows for qk_legacy_type t
 * optionally LG_PUT_F16(p, f): the fp16 store of a block's d / min,
 * qk_put_f16 unless the ISA has a conversion instruction that gives the
 * same bits for every value it can meet here (x86/legacy_blk_x86.h),
 * and optionally LG_GROUP8: then the _1 types go eight blocks at a time,
 * with group8_scales(x, levels, &g) (x86/legacy_group8_x86.h; false: leave
 * these 8 blocks to the block path) and group8_bytes(&b, min, id), the
 * unclamped levels of one block from its group8 scales.
 * Every step is the scalar reference's (legacy.c) operation per lane, so the
 * bytes are the scalar bytes; blocks holding NaN take the scalar block.
 * It ends with the entry points qk_quantize_<t>_<isa> (kernel_api.h). */
#include <stddef.h>
#include <string.h>

#include "kernel_util.h"
#include "legacy.h"

#define LG_INLINE static inline __attribute__((always_inline))

#ifndef LG_PUT_F16
#define LG_PUT_F16 qk_put_f16
#endif

/* The low bytes of cvtt((x - sub) * id + add), lane by lane. */
LG_INLINE bytes32 quant_bytes(const blk32 *b, float sub, float id, float add, bool use_sub) {
    const LG_VEC vs = LG_SET1(sub), vid = LG_SET1(id), va = LG_SET1(add);
    LG_VEC v[LG_NV];
    for (int k = 0; k < LG_NV; k++) {
        const LG_VEC x = use_sub ? LG_SUB(b->v[k], vs) : b->v[k];
        v[k] = LG_ADD(LG_MUL(x, vid), va);
    }
    return cvtt_low_bytes(v);
}

/* the levels of one block to its qs (and qh) */
LG_INLINE void lg_store_levels(const qk_legacy_type *t, uint8_t *y, bytes32 q) {
    if (t->bits == 4) {
        store_nibbles(y + t->qs_off, q, false);
    } else {
        store_qh(y + t->qh_off, q);
        store_nibbles(y + t->qs_off, q, true);
    }
}

/* One block without imatrix (legacy.c's block_ref, vectorized). */
LG_INLINE void lg_block(const qk_legacy_type *t, const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) {
        t->block_ref(x, y);
        return;
    }
    const int half = 1 << (t->bits - 1), top = (1 << t->bits) - 1;
    bytes32 q;
    if (!t->has_min) {
        const float max = blk_signed_absmax(x, &b);
        const float d = max / (float)-half;
        const float id = d ? 1.0f / d : 0.0f;
        LG_PUT_F16(y, d);
        q = clamp_bytes(quant_bytes(&b, 0, id, (float)half + 0.5f, false), top);
    } else {
        float min, max;
        blk_min_max(x, &b, &min, &max);
        const float d = (max - min) / (float)top;
        const float id = d ? 1.0f / d : 0.0f;
        LG_PUT_F16(y, d);
        LG_PUT_F16(y + offsetof(qk_block_q4_1, m), min);
        q = quant_bytes(&b, min, id, 0.5f, true);
        if (t->bits == 4) q = clamp_bytes(q, 15); /* Q5_1 has no clamp */
    }
    lg_store_levels(t, y, q);
}

LG_INLINE void lg_blocks(const qk_legacy_type *t, const float *x, uint8_t *y, int64_t nb) {
    int64_t i = 0;
#ifdef LG_GROUP8
    if (t->has_min) {
        const int top = (1 << t->bits) - 1;
        for (; i + 8 <= nb; i += 8) {
            const float *xg = x + i * QK_LEGACY;
            uint8_t *yg = y + (size_t)i * t->bytes;
            qk_group8 g;
            if (!group8_scales(xg, (float)top, &g)) {
                for (int k = 0; k < 8; k++) lg_block(t, xg + QK_LEGACY * k, yg + t->bytes * (size_t)k);
                continue;
            }
            for (int k = 0; k < 8; k++) {
                uint8_t *yb = yg + t->bytes * (size_t)k;
                const blk32 b = load_blk(xg + QK_LEGACY * k);
                memcpy(yb, &g.dm[k], 4);
                bytes32 q = group8_bytes(&b, g.min[k], g.id[k]);
                if (t->bits == 4) q = clamp_bytes(q, 15);
                lg_store_levels(t, yb, q);
            }
        }
    }
#endif
    for (; i < nb; i++) lg_block(t, x + i * QK_LEGACY, y + (size_t)i * t->bytes);
}

/* Rows are contiguous, so a call is all its blocks in order; with an
 * imatrix the ISA's imatrix rows run (which validate the shape the same way). */
LG_INLINE size_t lg_rows(const qk_legacy_type *t, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                         const float *imatrix) {
    if (imatrix) return LG_IMATRIX_ROWS(t, src, dst, nrows, n_per_row, imatrix);
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    lg_blocks(t, src, (uint8_t *)dst, nrows * nb);
    return (size_t)(nrows * nb) * t->bytes;
}

/* One Q8_0 block (q8_0.c's, vectorized): d = amax / 127. */
LG_INLINE void lg_q8_0_block(const float *x, uint8_t *y) {
    const blk32 b = load_blk(x);
    if (blk_has_nan(&b)) {
        qk_q8_0_block_ref(x, y);
        return;
    }
    const float d = blk_absmax(&b) / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    LG_PUT_F16(y, d);
    q8_0_levels(&b, id, y + 2);
}

/* Q8_0 ignores the imatrix, as ggml's quantize_q8_0 does. */
static inline size_t lg_q8_0_rows(QK_QUANTIZE_PARAMS) {
    (void)imatrix;
    return qk_quantize_blocks(src, dst, nrows, n_per_row, QK_LEGACY, sizeof(qk_block_q8_0), lg_q8_0_block);
}

