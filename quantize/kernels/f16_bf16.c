/* float_rows.c - F16 and BF16 "quantization": per-element conversion, as
 * ggml_quantize_chunk does it (ggml_fp32_to_fp16_row and
 * ggml_fp32_to_bf16_row_ref; the imatrix is ignored). */
#include "float_formats.h"
#include "f16_bf16.h"
#include "kernel_util.h"

size_t qk_quantize_f16(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, qk_fp32_to_fp16_row); }
size_t qk_quantize_bf16(QK_QUANTIZE_PARAMS) { return qk_quantize_halves(QK_QUANTIZE_ARGS, qk_fp32_to_bf16_row); }

/* ggml's F16 to_float returns signaling NaNs quieted (bit 22 set), unlike
 * the exact qk_fp16_to_fp32, so the row form quiets them too. */
void qk_dequantize_row_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = (const uint16_t *)src;
    qk_fp16_to_fp32_row(h, dst, n);
    for (int64_t i = 0; i < n; i++)
        if ((h[i] & 0x7C00u) == 0x7C00u && (h[i] & 0x03FFu)) dst[i] = qk_f32_from_bits(qk_f32_bits(dst[i]) | 0x00400000u);
}

void qk_dequantize_row_bf16(const void *src, float *dst, int64_t n) {
    qk_bf16_to_fp32_row((const uint16_t *)src, dst, n);
}
