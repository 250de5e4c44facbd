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

static const qk_name_rule k_globals_meta[] = {
    {"tok_embeddings.weight", "token_embd.weight", QK_PERM_NONE},
    {"norm.weight", "output_norm.weight", QK_PERM_NONE},
    {"output.weight", "output.weight", QK_PERM_NONE},
    {"rope.freqs", "", QK_PERM_NONE},
    {NULL, NULL, 0},
};

/* with qk_rules_ffn_w123: ffn_norm, feed_forward.w1 (gate) / w3 (up) / w2 (down) */
static const qk_name_rule k_rules_meta[] = {
    {"attention_norm.weight", "attn_norm.weight", QK_PERM_NONE},
    {"attention.wq.weight", "attn_q.weight", QK_PERM_NONE},
    {"attention.wk.weight", "attn_k.weight", QK_PERM_NONE},
    {"attention.wv.weight", "attn_v.weight", QK_PERM_NONE},
    {"attention.wo.weight", "attn_output.weight", QK_PERM_NONE},
    {"attention.inner_attention.rope.freqs", "", QK_PERM_NONE},
    {NULL, NULL, 0},
};

/* Not in the registry: chosen for a folder whose config was derived from
 * params.json (qk_hf_checkpoint.meta_layout), whatever architectures says. */
const qk_arch_desc qk_arch_meta_llama = {
    .hf = "LlamaForCausalLM", .gguf = "llama", .family = "Llama / Mistral (Meta's original layout: params.json)",
    .kv = QK_KV_LLAMA, .rule_blocks = QK_RULE_BLOCKS(k_rules_meta, qk_rules_ffn_w123), .globals = k_globals_meta,
    .layer_prefix = "layers.",
    .required = qk_req_llama};
