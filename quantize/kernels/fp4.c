/* fp4.c - MXFP4 and NVFP4: 4-bit E2M1 values (the FP4 lattice 0, 0.5, 1,
 * 1.5, 2, 3, 4, 6 and their negatives, stored doubled as ggml's kvalues_fp4)
 * times a per-block power of two (MXFP4) or a per-16 UE4M3 scale (NVFP4).
 *
 *   MXFP4  byte 0   1                 17
 *               +---+-----------------+
 *               | e | qs[16]          |   32 weights; x[j] = kv[q] * 2^(e-128)
 *               +---+-----------------+
 *   NVFP4  byte 0      4                 36
 *               +------+-----------------+
 *               | d[4] | qs[32]          |   64 weights, d[s] (UE4M3) per 16;
 *               +------+-----------------+   x = kv[q] * ue4m3(d[s]) / 2
 *   qs: element j in the low nibble, element j + half in the high nibble
 *   (half = 16 for MXFP4, 8 within each 16 for NVFP4).
 *
 * MXFP4: e = (uint8_t)(floorf(log2f(amax)) - 2 + 127) for amax > 0 (else 0),
 * the float -> uint8 conversion truncating as x86-64 does (qk_cvtt_u8; inf
 * gives 0, tiny amax wraps), log2f/floorf from the same libm. Each value
 * takes the first index of the smallest |kv[i]*d - x| (NaN x -> index 0).
 * The lattice (kvalues_fp4) and the UE4M3 conversions are the format's
 * definition, ggml-common.h / ggml-impl.h of the pinned llama.cpp; they and
 * the scale expressions are in fp4_scale.h, shared with the AVX2, AVX-512
 * and NEON variants (body fp4_body.h), which this file is the twin of.
 */
#include <math.h>
#include <stddef.h>

#include "fp4_scale.h"
#include "kernel_util.h"
#include "lowbit.h"

static inline uint8_t best_index(float x, float d) {
    int best = 0;
    float best_err = fabsf(k_fp4[0] * d - x);
    for (int i = 1; i < 16; i++) {
        const float err = fabsf(k_fp4[i] * d - x);
        if (err < best_err) {
            best = i;
            best_err = err;
        }
    }
    return (uint8_t)best;
}

static void mxfp4_block(const float *x, uint8_t *y) {
    float amax = 0.0f;
    for (int j = 0; j < QK_LEGACY; j++)
        if (amax < fabsf(x[j])) amax = fabsf(x[j]);
    const uint8_t e = fp4_mxfp4_e(amax);
    const float d = fp4_e8m0_half(e);
    y[0] = e;
    for (int j = 0; j < QK_LEGACY / 2; j++)
        y[1 + j] = (uint8_t)(best_index(x[j], d) | best_index(x[QK_LEGACY / 2 + j], d) << 4);
}

enum { NVFP4_SUB = 16 };

static void nvfp4_block(const float *x, uint8_t *y) {
    for (int s = 0; s < QK_NVFP4 / NVFP4_SUB; s++) {
        const float *xb = x + s * NVFP4_SUB;
        float amax = 0.0f;
        for (int j = 0; j < NVFP4_SUB; j++)
            if (amax < fabsf(xb[j])) amax = fabsf(xb[j]);
        const uint8_t ue = fp4_nvfp4_ue(amax);
        y[offsetof(qk_block_nvfp4, d) + s] = ue;
        const float d = fp4_ue4m3_to_f32(ue);
        uint8_t *qs = y + offsetof(qk_block_nvfp4, qs) + s * (NVFP4_SUB / 2);
        for (int j = 0; j < NVFP4_SUB / 2; j++)
            qs[j] = (uint8_t)(best_index(xb[j], d) | best_index(xb[NVFP4_SUB / 2 + j], d) << 4);
    }
}

static void mxfp4_to_float(const uint8_t *b, float *y) {
    const float d = fp4_e8m0_half(b[0]);
    for (int j = 0; j < QK_LEGACY / 2; j++) {
        y[j] = k_fp4[b[1 + j] & 0x0F] * d;
        y[j + QK_LEGACY / 2] = k_fp4[b[1 + j] >> 4] * d;
    }
}

size_t qk_quantize_mxfp4(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_LEGACY, qk_block_mxfp4, mxfp4_block); }
void qk_dequantize_row_mxfp4(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_LEGACY, qk_block_mxfp4, mxfp4_to_float); }

static void nvfp4_to_float(const uint8_t *b, float *y) {
    for (int s = 0; s < QK_NVFP4 / NVFP4_SUB; s++) {
        const float d = fp4_ue4m3_to_f32(b[offsetof(qk_block_nvfp4, d) + s]);
        const uint8_t *qs = b + offsetof(qk_block_nvfp4, qs) + s * (NVFP4_SUB / 2);
        float *yb = y + s * NVFP4_SUB;
        for (int j = 0; j < NVFP4_SUB / 2; j++) {
            yb[j] = k_fp4[qs[j] & 0x0F] * d;
            yb[j + NVFP4_SUB / 2] = k_fp4[qs[j] >> 4] * d;
        }
    }
}

size_t qk_quantize_nvfp4(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_NVFP4, qk_block_nvfp4, nvfp4_block); }
void qk_dequantize_row_nvfp4(QK_DEQUANTIZE_PARAMS) { QK_BLOCKS_DEQUANTIZE(QK_NVFP4, qk_block_nvfp4, nvfp4_to_float); }

