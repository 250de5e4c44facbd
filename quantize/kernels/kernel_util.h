/* kernel_util.h - what every kernel file shares: the shape check of the
 * qk_quantize_<t> contract and the fp16 fields of a block. Internal to
 * quantize/kernels/. */
#ifndef QK_KERNEL_UTIL_H
#define QK_KERNEL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "float_formats.h"
#include "ggml_blocks.h"

/* The shared row-count/size check of every qk_quantize_*: the number of
 * blocks in one row, or -1 if the shape is invalid. */
static inline int64_t qk_blocks_per_row(int64_t nrows, int64_t n_per_row, int64_t qk) {
    if (nrows < 0 || n_per_row < 0 || n_per_row % qk != 0) return -1;
    return n_per_row / qk;
}

/* The qk_quantize_<t> contract for types quantized block by block
 * without an imatrix: nrows contiguous rows of blocks of qk floats, each
 * through block() to `bytes` bytes. Returns the bytes written, 0 for a bad
 * shape. */
typedef void (*qk_block_fn)(const float *x, uint8_t *y);
static inline size_t qk_quantize_blocks(const float *src, void *dst, int64_t nrows, int64_t n_per_row, int64_t qk,
                                        size_t bytes, qk_block_fn block) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, qk);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < nrows * nb; i++) block(src + i * qk, y + (size_t)i * bytes);
    return (size_t)(nrows * nb) * bytes;
}

/* The qk_quantize_<t> contract for types whose blocks (super-blocks) of qk
 * floats use the imatrix: block(ctx, x, qw, y) per block, qw its columns'
 * imatrix (NULL without one). Rows are walked one by one, so a row's
 * blocks see the imatrix from its first column. */
typedef void (*qk_block_imatrix_fn)(const void *ctx, const float *x, const float *qw, uint8_t *y);
static inline size_t qk_quantize_blocks_imatrix(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                                const float *imatrix, int64_t qk, size_t bytes,
                                                qk_block_imatrix_fn block, const void *ctx) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, qk);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t i = 0; i < nb; i++)
            block(ctx, src + r * n_per_row + i * qk, imatrix ? imatrix + qk * i : NULL, y + (size_t)(r * nb + i) * bytes);
    return (size_t)(nrows * nb) * bytes;
}

/* The qk_quantize_<t> contract for SIMD drivers that take super-blocks of
 * QK_K in batches (rows are contiguous for a valid shape, so a batch may
 * span rows): with an imatrix, up to `width` super-blocks per
 * batch(ctx, x, qw, nsb, y), qw[s] the imatrix of super-block s; without,
 * each super-block through block(ctx, x, NULL, y). */
typedef void (*qk_batch_fn)(const void *ctx, const float *x, const float *const *qw, int nsb, uint8_t *y);
static inline size_t qk_quantize_batches(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                         const float *imatrix, size_t bytes, int width, qk_batch_fn batch,
                                         qk_block_imatrix_fn block, const void *ctx) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_K);
    if (nb < 0) return 0;
    const int64_t total = nrows * nb;
    uint8_t *y = (uint8_t *)dst;
    const float *qw[16];
    for (int64_t b = 0; b < total; b += imatrix ? width : 1) {
        if (!imatrix) {
            block(ctx, src + QK_K * b, NULL, y + (size_t)b * bytes);
            continue;
        }
        const int nsb = (int)(total - b < width ? total - b : width);
        for (int s = 0; s < nsb; s++) qw[s] = imatrix + QK_K * ((b + s) % nb);
        batch(ctx, src + QK_K * b, qw, nsb, y + (size_t)b * bytes);
    }
    return (size_t)total * bytes;
}

/* dequantize_row_<t> block by block: n / qk blocks of `bytes` bytes, each
 * through block() to qk floats. */
typedef void (*qk_dequantize_block_fn)(const uint8_t *b, float *y);
static inline void qk_dequantize_blocks(const void *src, float *y, int64_t n, int64_t qk, size_t bytes,
                                        qk_dequantize_block_fn block) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < n / qk; i++) block(b + (size_t)i * bytes, y + i * qk);
}

/* The bodies of the entry points of a type of blocks of qk floats, which
 * each file writes out by name (so that grep finds each definition):
 * qk_quantize_<t> over block() (the imatrix ignored, as ggml does for these
 * types) and qk_dequantize_row_<t> over to_float(). */
#define QK_BLOCKS_QUANTIZE(qk, block_t, block) \
    ((void)imatrix, qk_quantize_blocks(src, dst, nrows, n_per_row, qk, sizeof(block_t), block))
#define QK_BLOCKS_DEQUANTIZE(qk, block_t, to_float) qk_dequantize_blocks(src, y, n, qk, sizeof(block_t), to_float)

/* ---- F16 / BF16 rows (f16_bf16.c and its ISA variants) ---------------- */

/* The qk_quantize_<t> contract of the 2-byte float types: the imatrix is
 * ignored (as ggml), the rows are one run of nrows * n_per_row elements
 * through row(). */
typedef void (*qk_half_row_fn)(const float *src, uint16_t *y, int64_t n);
static inline size_t qk_quantize_halves(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                        const float *imatrix, qk_half_row_fn row) {
    (void)imatrix;
    if (qk_blocks_per_row(nrows, n_per_row, 1) < 0) return 0;
    row(src, (uint16_t *)dst, nrows * n_per_row);
    return (size_t)(nrows * n_per_row) * 2;
}

/* A row w elements at a time through group() (which may decline a group,
 * e.g. one holding a NaN, by returning false), the rest through scalar(). */
typedef bool (*qk_half_group_fn)(const float *src, uint16_t *y);
static inline __attribute__((always_inline)) void qk_half_row_groups(const float *src, uint16_t *y, int64_t n, int w,
                                                                     qk_half_group_fn group, qk_half_row_fn scalar) {
    int64_t i = 0;
    for (; i + w <= n; i += w)
        if (!group(src + i, y + i)) scalar(src + i, y + i, w);
    scalar(src + i, y + i, n - i);
}

/* The same back to float: w elements at a time through group(), the rest
 * through the scalar dequantizer. */
static inline __attribute__((always_inline)) void qk_half_to_float_groups(
    const void *src, float *dst, int64_t n, int w, void (*group)(const uint16_t *h, float *dst),
    void (*scalar)(const void *src, float *dst, int64_t n)) {
    const uint16_t *h = (const uint16_t *)src;
    int64_t i = 0;
    for (; i + w <= n; i += w) group(h + i, dst + i);
    scalar(h + i, dst + i, n - i);
}

/* BF16 rows of at least this many elements (4 MiB of output) are written
 * with non-temporal stores. */
#ifndef QK_BF16_STREAM_MIN
#define QK_BF16_STREAM_MIN ((int64_t)1 << 21)
#endif

/* Where a BF16 row's vector loop starts: at a 64-byte boundary of the
 * destination when it streams (*stream: n >= QK_BF16_STREAM_MIN and y 2-byte
 * aligned; non-temporal stores then skip the reads for ownership of lines
 * that would not stay cached anyway), else of the source (aligned loads
 * never straddle cache lines); at most n. */
static inline int64_t qk_bf16_loop_start(const float *src, const uint16_t *y, int64_t n, bool *stream) {
    *stream = n >= QK_BF16_STREAM_MIN && ((uintptr_t)y & 1) == 0;
    int64_t i = *stream ? (int64_t)((64 - ((uintptr_t)y & 63)) & 63) / 2 : (int64_t)((64 - ((uintptr_t)src & 63)) & 63) / 4;
    return i > n ? n : i;
}

/* An fp16 field of a block (any alignment), as float. */
static inline void qk_put_f16(uint8_t *p, float f) { qk_put_u16(p, qk_fp32_to_fp16(f)); }
static inline float qk_get_f16(const uint8_t *p) { return qk_fp16_to_fp32(qk_get_u16(p)); }

#endif
