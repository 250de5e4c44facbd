/* hf_forward_qwen35.h - the reference forward pass of Qwen 3.5 / 3.6 (transformers' modeling_qwen3_5.py and
 * modeling_qwen3_5_moe.py, model_types qwen3_5_text / qwen3_5_moe_text) and of Qwen3-Next (modeling_qwen3_next.py, qwen3_next: its fused
 * in_proj_qkvz / in_proj_ba split as fix_query_key_value_ordering does), used by hf_forward.c for those model_types: gated DeltaNet layers in their recurrent form and gated full-attention layers every
 * full_attention_interval-th layer, each followed by a SwiGLU MLP or the sparse MoE block with its gated shared
 * expert. Float32 weights, double accumulators and state. Test support only. */
#ifndef QK_HF_FORWARD_QWEN35_H
#define QK_HF_FORWARD_QWEN35_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_forward.h"

typedef struct hf_qwen35 hf_qwen35;

/* cfg: the text config; NULL with a reason in err on failure. */
hf_qwen35 *hf_qwen35_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen);
int hf_qwen35_vocab(const hf_qwen35 *m);
/* token at position pos (0, 1, ... in order; 0 starts over); logits may be NULL. 0 / -1 (reason in err). */
int hf_qwen35_next(hf_qwen35 *m, int32_t token, int pos, float *logits, char *err, size_t errlen);
/* the last token's smallest gap between a chosen and an unchosen router probability over the MoE layers
 * (INFINITY for a dense model) */
double hf_qwen35_route_margin(const hf_qwen35 *m);
void hf_qwen35_free(hf_qwen35 *m);

#endif
