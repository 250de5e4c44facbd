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

static void q8_0_to_float(const uint8_t *b, float *dst) {
    const float d = qk_fp16_to_fp32(qk_get_u16(b));
    for (int j = 0; j < QK_LEGACY; j++) dst[j] = (int8_t)b[2 + j] * d;
}

size_t qk_quantize_q8_0(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_LEGACY, qk_block_q8_0, qk_q8_0_block_ref); }
void qk_dequantize_row_q8_0(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_LEGACY, qk_block_q8_0, q8_0_to_float); }

