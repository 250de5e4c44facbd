/* gptq.h - GPTQ checkpoints (config.json quantization_config.quant_method
 * "gptq"), dequantized to float32 rows exactly as convert_hf_to_gguf.py's
 * dequant_gptq (conversion/base.py of the pinned llama.cpp) does.
 *
 * A GPTQ linear layer `X` is stored as four tensors instead of X.weight
 * (out_features x in_features):
 *   X.qweight  int32 [in / pack, out]   pack = 32 / bits values per int32, the
 *                                       value of input k in bits (k % pack) * bits
 *                                       of row k / pack (low bits first)
 *   X.qzeros   int32 [groups, out / pack]  zero point of (group, output o) in
 *                                       bits (o % pack) * bits of column o / pack
 *   X.scales   float [groups, out]
 *   X.g_idx    int32 [in]               the group of each input (act-order
 *                                       checkpoints permute them)
 * and weight[o][k] = scales[g][o] * (float)(q(k, o) - (z(g, o) + 1)) with
 * g = g_idx[k]: one float32 multiply; the "+ 1" is the GPTQ v1 storage
 * convention, absent for checkpoint_format "gptq_v2". Bits 2, 4 and 8 are
 * supported (llama.cpp's converter refuses 3-bit too).
 *
 * All four tensors are untrusted: dtypes, shapes and every g_idx value are
 * checked before a row is produced. Rows are read column-wise from qweight
 * in bounded chunks (never the whole tensor in memory).
 */
#ifndef QK_GPTQ_H
#define QK_GPTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_checkpoint.h"
#include "qk_error.h"

typedef struct qk_gptq_config {
    int bits;        /* 2, 4 or 8 */
    int zero_offset; /* 1: checkpoint_format "gptq" (v1), 0: "gptq_v2" */
} qk_gptq_config;

typedef struct qk_gptq {
    const qk_hf_tensor *qweight, *qzeros, *scales, *g_idx;
    qk_gptq_config cfg;
    int64_t rows, cols, groups; /* rows = out features, cols = in features */
} qk_gptq;

/* Reads quantization_config (an object whose quant_method is "gptq"). */
int qk_gptq_read_config(const char *dir, const cJSON *quantization_config, qk_gptq_config *cfg, qk_err *err);

/* True for a GPTQ layer's qzeros, scales or g_idx whose qweight is in ck
 * (they are read through it); an orphan is not a part (and is refused as an
 * unexpected tensor). */
bool qk_gptq_is_part(const qk_hf_checkpoint *ck, const char *name);

/* Binds the layer whose qweight is `qweight` (name ending ".qweight"):
 * finds its siblings in ck and checks dtypes and shapes. */
int qk_gptq_bind(const qk_hf_checkpoint *ck, const qk_hf_tensor *qweight, qk_gptq_config cfg, qk_gptq *g,
                 qk_err *err);

/* Dequantizes output rows src_rows[0..n) (each g->cols floats) into dst. */
int qk_gptq_read_rows(const qk_hf_checkpoint *ck, const qk_gptq *g, const int64_t *src_rows, int64_t n, float *dst,
                      qk_err *err);

#endif
