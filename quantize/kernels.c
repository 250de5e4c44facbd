#include "kernels.h"

#include <string.h>

#include "float_formats.h"
#include "iq4.h"
#include "k_quants.h"
#include "legacy_quants.h"
#include "qtypes.h"

static size_t quantize_f32(const float *src, void *dst, int64_t nrows, int64_t n, const float *im) {
    (void)im;
    memcpy(dst, src, (size_t)(nrows * n) * 4);
    return (size_t)(nrows * n) * 4;
}
static size_t quantize_f16(const float *src, void *dst, int64_t nrows, int64_t n, const float *im) {
    (void)im;
    qk_fp32_to_fp16_row(src, dst, nrows * n);
    return (size_t)(nrows * n) * 2;
}
static size_t quantize_bf16(const float *src, void *dst, int64_t nrows, int64_t n, const float *im) {
    (void)im;
    qk_fp32_to_bf16_row(src, dst, nrows * n);
    return (size_t)(nrows * n) * 2;
}
static void dequantize_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
static void dequantize_f16(const void *src, float *dst, int64_t n) { qk_fp16_to_fp32_row(src, dst, n); }
static void dequantize_bf16(const void *src, float *dst, int64_t n) { qk_bf16_to_fp32_row(src, dst, n); }

static const qk_kernel k_kernels[] = {
    {QK_TYPE_F32, quantize_f32, dequantize_f32},
    {QK_TYPE_F16, quantize_f16, dequantize_f16},
    {QK_TYPE_BF16, quantize_bf16, dequantize_bf16},
    {QK_TYPE_Q8_0, qk_quantize_q8_0, qk_dequantize_row_q8_0},
    {QK_TYPE_Q4_0, qk_quantize_q4_0, qk_dequantize_row_q4_0},
    {QK_TYPE_Q4_1, qk_quantize_q4_1, qk_dequantize_row_q4_1},
    {QK_TYPE_Q5_0, qk_quantize_q5_0, qk_dequantize_row_q5_0},
    {QK_TYPE_Q5_1, qk_quantize_q5_1, qk_dequantize_row_q5_1},
    {QK_TYPE_Q2_K, qk_quantize_q2_k, qk_dequantize_row_q2_k},
    {QK_TYPE_Q3_K, qk_quantize_q3_k, qk_dequantize_row_q3_k},
    {QK_TYPE_Q4_K, qk_quantize_q4_k, qk_dequantize_row_q4_k},
    {QK_TYPE_Q5_K, qk_quantize_q5_k, qk_dequantize_row_q5_k},
    {QK_TYPE_Q6_K, qk_quantize_q6_k, qk_dequantize_row_q6_k},
    {QK_TYPE_IQ4_NL, qk_quantize_iq4_nl, qk_dequantize_row_iq4_nl},
    {QK_TYPE_IQ4_XS, qk_quantize_iq4_xs, qk_dequantize_row_iq4_xs},
};

const qk_kernel *qk_kernel_get(uint32_t type) {
    for (size_t i = 0; i < sizeof k_kernels / sizeof k_kernels[0]; i++)
        if (k_kernels[i].type == type) return &k_kernels[i];
    return NULL;
}

const char *qk_kernels_isa(void) { return "scalar"; }
