/* kernel_util.h - what every kernel file shares: the shape check of the
 * qk_quantize_<t> contract and the fp16 fields of a block. Internal to
 * quantize/kernels/. */
#ifndef QK_KERNEL_UTIL_H
#define QK_KERNEL_UTIL_H

#include <stdint.h>

#include "float_formats.h"
#include "ggml_blocks.h"

/* The shared row-count/size check of every qk_quantize_*: the number of
 * blocks in one row, or -1 if the shape is invalid. */
static inline int64_t qk_blocks_per_row(int64_t nrows, int64_t n_per_row, int64_t qk) {
    if (nrows < 0 || n_per_row < 0 || n_per_row % qk != 0) return -1;
    return n_per_row / qk;
}

/* An fp16 field of a block (any alignment), as float. */
static inline void qk_put_f16(uint8_t *p, float f) { qk_put_u16(p, qk_fp32_to_fp16(f)); }
static inline float qk_get_f16(const uint8_t *p) { return qk_fp16_to_fp32(qk_get_u16(p)); }

#endif
