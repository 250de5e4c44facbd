/* legacy_rows_body.h - the row entry points qk_quantize_<type>_<isa> of the
 * five legacy types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1), one body for
 * legacy_avx2.c, legacy_avx512.c and legacy_neon.c. Each includes it last,
 * after defining:
 *   LG_ISA(name)           name##_<isa>, the suffix of the entry points;
 *   <t>_block(x, y)        one block of 32 floats -> its bytes, for each t;
 *   LG_IMATRIX(t, ...)     the ISA's imatrix rows for the type table t
 *                          (qk_legacy_imatrix_<type>, quants_legacy.h) and
 *                          the kernel arguments (Q8_0 ignores the imatrix,
 *                          as ggml's quantize_q8_0 does);
 *   LG_GROUP8 (optional)   then Q4_1/Q5_1 go eight blocks at a time:
 *                          group8_scales(x, levels, g) fills a qk_group8
 *                          (false: leave these 8 blocks to <t>_block) and
 *                          <t>_group8_levels(yb, xb, min, id) writes one
 *                          block's levels after its 4 scale bytes.
 * Rows are contiguous, so a call is all its blocks in order. */
#include <string.h>

#define LG_BLOCKS_LOOP(t, bytes)                                                                     \
    static void t##_blocks(const float *x, uint8_t *y, int64_t nb) {                                \
        for (int64_t i = 0; i < nb; i++) t##_block(x + i * QK_LEGACY, y + i * (bytes));          \
    }
LG_BLOCKS_LOOP(q8_0, sizeof(qk_block_q8_0))
LG_BLOCKS_LOOP(q4_0, sizeof(qk_block_q4_0))
LG_BLOCKS_LOOP(q5_0, sizeof(qk_block_q5_0))

#ifdef LG_GROUP8
#define LG_GROUP8_BLOCKS(t, bytes, levels)                                                           \
    static void t##_blocks(const float *x, uint8_t *y, int64_t nb) {                                \
        int64_t i = 0;                                                                               \
        for (; i + 8 <= nb; i += 8) {                                                                \
            const float *xg = x + i * QK_LEGACY;                                                  \
            uint8_t *yg = y + i * (bytes);                                                           \
            qk_group8 g;                                                                             \
            if (!group8_scales(xg, (levels), &g)) {                                                  \
                for (int k = 0; k < 8; k++) t##_block(xg + QK_LEGACY * k, yg + (bytes) * k);     \
                continue;                                                                            \
            }                                                                                        \
            for (int k = 0; k < 8; k++) {                                                            \
                memcpy(yg + (bytes) * k, &g.dm[k], 4);                                               \
                t##_group8_levels(yg + (bytes) * k, xg + QK_LEGACY * k, g.min[k], g.id[k]);      \
            }                                                                                        \
        }                                                                                            \
        for (; i < nb; i++) t##_block(x + i * QK_LEGACY, y + i * (bytes));                       \
    }
LG_GROUP8_BLOCKS(q4_1, sizeof(qk_block_q4_1), (1 << 4) - 1)
LG_GROUP8_BLOCKS(q5_1, sizeof(qk_block_q5_1), (1 << 5) - 1)
#undef LG_GROUP8_BLOCKS
#else
LG_BLOCKS_LOOP(q4_1, sizeof(qk_block_q4_1))
LG_BLOCKS_LOOP(q5_1, sizeof(qk_block_q5_1))
#endif
#undef LG_BLOCKS_LOOP

/* with an imatrix, t##_imatrix_rows runs (which validates the shape the same way) */
#define LG_ROWS(t, bytes)                                                                            \
    size_t LG_ISA(qk_quantize_##t)(const float *src, void *dst, int64_t nrows, int64_t n_per_row,   \
                                   const float *imatrix) {                                           \
        if (imatrix) return t##_imatrix_rows(src, dst, nrows, n_per_row, imatrix);                   \
        const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);                        \
        if (nb < 0) return 0;                                                                        \
        t##_blocks(src, (uint8_t *)dst, nrows * nb);                                                 \
        return (size_t)(nrows * nb * (bytes));                                                       \
    }
#define LG_IMATRIX_ROWS(t)                                                                           \
    static size_t t##_imatrix_rows(const float *src, void *dst, int64_t nrows, int64_t n_per_row,   \
                                   const float *imatrix) {                                           \
        return LG_IMATRIX(&qk_legacy_imatrix_##t, src, dst, nrows, n_per_row, imatrix);              \
    }

static size_t q8_0_imatrix_rows(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix) {
    (void)imatrix;
    return LG_ISA(qk_quantize_q8_0)(src, dst, nrows, n_per_row, NULL);
}
LG_IMATRIX_ROWS(q4_0)
LG_IMATRIX_ROWS(q4_1)
LG_IMATRIX_ROWS(q5_0)
LG_IMATRIX_ROWS(q5_1)

LG_ROWS(q8_0, sizeof(qk_block_q8_0))
LG_ROWS(q4_0, sizeof(qk_block_q4_0))
LG_ROWS(q4_1, sizeof(qk_block_q4_1))
LG_ROWS(q5_0, sizeof(qk_block_q5_0))
LG_ROWS(q5_1, sizeof(qk_block_q5_1))
#undef LG_IMATRIX_ROWS
#undef LG_ROWS
