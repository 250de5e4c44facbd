/* q8_0.c - Q8_0: 32 weights per block, one fp16 scale, signed 8-bit values.
 *
 *   byte  0      2                                      34
 *         +------+--------------------------------------+
 *         | d    | qs[0] qs[1] ... qs[31]   (int8)      |
 *         +------+--------------------------------------+
 *   x[j] = d * qs[j]
 *
 * d = amax/127 with amax = MAX(amax, |x|) folded over the block (so a NaN
 * resets it, as ggml's macro does), qs = roundf(x * (1/d)) (half away from
 * zero). The imatrix is ignored, as in ggml. */
#include <math.h>

#include "float_formats.h"
#include "quant_search.h"
#include "kernel_util.h"
#include "legacy.h"

void qk_q8_0_block_ref(const float *x, uint8_t *y) {
    float amax = 0.0f;
    for (int j = 0; j < QK_LEGACY; j++) amax = QK_MAX(amax, fabsf(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    for (int j = 0; j < QK_LEGACY; j++) y[2 + j] = (uint8_t)qk_cvtt_i8(roundf(x[j] * id));
}

size_t qk_quantize_q8_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    (void)imatrix;
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < nrows * nb; i++) qk_q8_0_block_ref(src + i * QK_LEGACY, y + i * sizeof(qk_block_q8_0));
    return (size_t)(nrows * nb * sizeof(qk_block_q8_0));
}

void qk_dequantize_row_q8_0(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_q8_0);
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        for (int j = 0; j < QK_LEGACY; j++) dst[i * QK_LEGACY + j] = (int8_t)b[2 + j] * d;
    }
}
