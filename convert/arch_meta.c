/* arch_meta.c - Llama in Meta's original layout (params.json + consolidated
 * weights; formats/meta_params.h derives the config), as Meta's reference
 * code and Mistral's consolidated files name the tensors:
 *   tok_embeddings -> token_embd, norm -> output_norm, output -> output,
 *   layers.N.attention_norm / ffn_norm, attention.w{q,k,v,o},
 *   feed_forward.w1 (gate) / w2 (down) / w3 (up).
 * Q and K are stored in the adjacent-pair rope order llama.cpp computes in
 * (Hugging Face's checkpoints are the rotate-half permutation of these), so
 * nothing is permuted: the tensors are those of the Hugging Face twin after
 * convert's un-permuting. The "rope.freqs" buffers of Llama 1/2 checkpoints
 * are the reference code's cache, not weights: skipped. */
#include "arch_priv.h"

/* the reference code's rope caches: skipped (its names: QK_N_META, QK_N_META_FFN) */
static const qk_name_rule k_globals_meta[] = {{"rope.freqs", "", QK_PERM_NONE}, {NULL, NULL, 0}};
static const qk_name_rule k_rules_meta[] = {{"attention.inner_attention.rope.freqs", "", QK_PERM_NONE}, {NULL, NULL, 0}};


/* Not in the registry: chosen for a folder whose config was derived from
 * params.json (qk_hf_checkpoint.meta_layout), whatever architectures says. */
const qk_arch_desc qk_arch_meta_llama = {
    .hf = "LlamaForCausalLM", .gguf = "llama", .family = "Llama / Mistral (Meta's original layout: params.json)",
    .kv = QK_KV_LLAMA, .names = QK_N_META | QK_N_META_FFN, .rules = k_rules_meta, .globals = k_globals_meta,
    .layer_prefix = "layers.",
    .required = qk_req_llama};
