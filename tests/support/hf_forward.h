/* hf_forward.h - an independent reference forward pass of Hugging Face
 * decoder-only models (what transformers computes in float32), for tests:
 * llama.cpp's logits on a converted GGUF are compared with these.
 *
 * Supported model_type values (transformers' modeling_<type>.py):
 *   llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, phi3, mixtral,
 *   phi (Phi-2: LayerNorm with bias, parallel block, partial rotary, GELU),
 *   starcoder2 (LayerNorm with bias, biases, c_fc/c_proj GELU MLP),
 *   stablelm (LayerNorm with bias, partial rotary, q/k/v biases; sequential),
 *   exaone (EXAONE 3: Llama under GPT-2-style names), cohere (LayerNorm,
 *   parallel blocks, interleaved rope, logit_scale), cohere2 (plus 3:1 sliding
 *   windows, rope on the sliding layers only), smollm3 (NoPE layers), granite (multipliers), olmo2 (post-norms,
 *   full-width q/k norms), qwen2_moe (shared expert), qwen3_moe, qwen2_vl / qwen2_5_vl (their language model, text positions only),
 *   ernie4_5 (rope on adjacent pairs), glm4 (sandwich norms, partial
 *   interleaved rope, fused gate_up), internlm2 (fused grouped wqkv), gpt2
 *   (Conv1D weights, learned positions, no rope), gpt_neox (per-head fused
 *   qkv, parallel block with two LayerNorms, partial rope), exaone4
 *   (post-norms, per-head q/k norms; with sliding_window set, sliding layers
 *   by layer_types and rope on those only), apertus (xIELU ungated MLP), qwen3_vl
 *   (Qwen3's language model), olmo3 (OLMo 2 with sliding windows), seed_oss
 *   (Qwen2's attention biases), olmoe (full-width q/k norms, Qwen-named
 *   experts), granitemoe / granitemoeshared (Granite's multipliers, 3-D
 *   ParallelExperts, ungated shared_mlp), qwen3_vl_moe (Qwen3-MoE's layer,
 *   experts as x @ W 3-D tensors), lfm2 (hf_forward_lfm2.c: short-conv and
 *   attention layers), gemma4_text (hf_forward_gemma4.c: Gemma 4's text
 *   model, per-layer embeddings and KV sharing included, no MoE), gpt_oss
 *   (sinks, biases, top-k-then-softmax routing, clamped swiglu, YaRN;
 *   experts read by hf_forward_moe2.c), deepseek_v2 / deepseek_v3 (MLA,
 *   dense lead layers, shared experts, V3's sigmoid routing with correction
 *   bias and groups, YaRN with mscale), glm4_moe (GLM-4.5: partial rope,
 *   q/k norms, V3's routing), phimoe (Phi-3.5-MoE: LayerNorms with biases,
 *   q/k/v/o and lm_head biases, SparseMixer's top-2 routing, long-rope scaled
 *   by short_mscale), the pseudo type "phimoe:llama.cpp" (the same weights
 *   as llama.cpp's phimoe graph computes them: RMSNorm plus bias, softmax
 *   top-2 renormalised, the converter's long-rope attention factor), and
 *   any config with a text_config (multimodal releases: Gemma 3, Mistral 3,
 *   Qwen2.5-VL), read as that text_config's model_type, with the tensors
 *   under model., language_model.model. or model.language_model.
 * Math is float32 storage with double accumulators (dot products, norms,
 * softmax), so results equal transformers' float32 output within a small
 * tolerance, not bit for bit. Single-threaded; meant for small models.
 *
 * Weights come from a provider callback, so this module does not depend on
 * any particular checkpoint reader. The callback returns the tensor named by
 * its Hugging Face name (e.g. "model.layers.0.self_attn.q_proj.weight") as
 * float32, row-major, in PyTorch's shape, or NULL if the checkpoint has no
 * such tensor. The returned memory needs to stay valid only until the next
 * call of the callback: hf_forward_load copies every tensor it uses.
 *
 * Decoding keeps a KV cache: hf_forward_next appends one token at the next
 * position; hf_forward_logits evaluates a whole sequence from position 0.
 */
#ifndef QK_HF_FORWARD_H
#define QK_HF_FORWARD_H

#include <stddef.h>
#include <stdint.h>

typedef const float *(*hf_tensor_get)(void *ctx, const char *hf_name, int64_t *shape, int *n_dims);

typedef struct hf_model hf_model;

/* Reads config.json and pulls every weight the architecture needs through
 * get(ctx, ...). Returns NULL with a one-line reason in err on failure
 * (unreadable config, unsupported model_type or rope_scaling, missing
 * tensor, wrong shape, ...). */
hf_model *hf_forward_load(const char *config_json_path, hf_tensor_get get, void *ctx, char *err,
                          size_t errlen);
/* The same with the config's JSON text given directly. */
hf_model *hf_forward_load_json(const char *config_json, hf_tensor_get get, void *ctx, char *err,
                               size_t errlen);
void hf_forward_free(hf_model *m);

int hf_forward_vocab(const hf_model *m);
/* The model_type the model was loaded as (e.g. "llama", "gemma3_text"). */
const char *hf_forward_model_type(const hf_model *m);
/* Reason of the last failed call on m (e.g. a token id out of range). */
const char *hf_forward_error(const hf_model *m);

/* Evaluates tokens[0..n) from position 0 (the KV cache is reset first) and
 * writes the logits of every position: logits[i * vocab + j]. 0 / -1. */
int hf_forward_logits(hf_model *m, const int32_t *tokens, int n, float *logits);

/* Incremental decoding: hf_forward_reset empties the KV cache;
 * hf_forward_next evaluates `token` at the next position (0, 1, ...) and
 * writes its vocab logits (logits may be NULL to only extend the cache).
 * 0 / -1. */
void hf_forward_reset(hf_model *m);
int hf_forward_next(hf_model *m, int32_t token, float *logits);
/* Number of positions in the KV cache. */
int hf_forward_n_past(const hf_model *m);
/* Top-k routing by logits (gpt-oss): over every layer of the last token
 * hf_forward_next evaluated, the smallest gap between the k-th chosen
 * router logit and an unchosen one (INFINITY for other models). A tiny gap
 * means any rounding may pick the other expert: a discontinuity. */
double hf_forward_route_margin(const hf_model *m);

/* Introspection for tests: the rotary inverse frequencies layer `layer`
 * uses (HF's inv_freq after any rope_scaling adjustment; rot_dim/2 values)
 * and the attention scaling factor applied to cos/sin. Returns the number of
 * values written to out (at most max; 0 for a layer without rope), or -1
 * for a bad layer. */
int hf_forward_rope_inv_freq(const hf_model *m, int layer, double *out, int max, double *attn_factor);
/* Sliding window of a layer (0 = full causal attention), -1 for a bad layer. */
int hf_forward_layer_window(const hf_model *m, int layer);

/* EXAONE 3's name of the module a Llama checkpoint calls `name`
 * ("model.layers.0.mlp.gate_proj.weight" -> "transformer.h.0.mlp.c_fc_0.weight");
 * 0, or -1 (out = name) for a name EXAONE shares (lm_head.weight). */
int hf_forward_exaone_name(const char *name, char *out, size_t n);

/* Formats an error into err[0..n) (nothing when err is NULL or n is 0): the
 * message buffers of hf_forward and hf_safetensors_min. */
void hf_set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* How far logits a are from the reference b: max |a - b| over max |b|
 * (max |a - b| when b is all zero). */
double hf_rel_err(const float *a, const float *b, size_t n);

#endif
