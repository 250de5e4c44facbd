/* hf_forward_llama4.h - an independent float reference of transformers'
 * modeling_llama4.py text model (Llama4ForCausalLM, or the language model of
 * Llama4ForConditionalGeneration), for tests: every 4th layer NoPE with full
 * attention and the attention temperature on its queries, the others roped on
 * adjacent pairs (complex rotation; llama3 rope scaling) with chunked
 * attention and, when use_qk_norm, the weightless L2 (RMS) norm of q and k
 * after the rope; sparse layers (every interleave_moe_layer_step-th) route
 * the top-k router logits, scale each chosen expert's input by the sigmoid of
 * its logit and add the shared expert; the experts read from the fused,
 * transposed gate_up_proj [E, H, 2 I] / down_proj [E, I, H]. Double
 * accumulators. Test support only. */
#ifndef QK_HF_FORWARD_LLAMA4_H
#define QK_HF_FORWARD_LLAMA4_H

#include <stddef.h>
#include <stdint.h>

/* The logits of tokens[0..n) (from position 0) of the HF folder dir (config.json and one model.safetensors):
 * logits[i * vocab + j], malloc'd, *vocab set; margin[0..n) (may be NULL) per position the smallest gap, over the
 * sparse layers, between the last chosen router logit and the best unchosen one (a tie flips under rounding). NULL with a reason in err. */
float *hf_llama4_logits(const char *dir, const int32_t *tokens, int n, int *vocab, double *margin, char *err,
                        size_t errlen);

#endif
