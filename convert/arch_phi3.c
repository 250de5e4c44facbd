/* arch_phi3.c - the Phi-3 family:
 * Phi3ForCausalLM -> "phi3": fused qkv_proj -> attn_qkv and gate_up_proj ->
 *   ffn_up ([gate | up] rows), kept fused as llama.cpp's phi3 graph splits
 *   them; split gate/up projections are refused; long-rope factor tensors
 *   generated from config.json (arch_hparams.c).
 * PhiMoEForCausalLM (Phi-3.5-MoE) -> "phimoe", as PhiMoeModel writes it:
 *   Phi3MiniModel's KVs, rope factors and vocabulary plus the expert counts;
 *   separate q/k/v/o projections with biases (NeoX rope: nothing permuted),
 *   norm weights and biases, lm_head with its bias, the router
 *   block_sparse_moe.gate and Mixtral's per-expert w1/w2/w3 stacked.
 *   llama.cpp's graph is phi3's, which differs from the HF model in three
 *   places (the caveat below); the conversion is the converter's all the
 *   same, so a user gets the file llama.cpp's own tools give. */
#include "arch_priv.h"


static const char *const k_req_phi3[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                         "attn_qkv.weight", "ffn_up.weight", "ffn_down.weight", NULL};

/* llama_model_phimoe::load_arch_tensors: every norm and the output projection carry biases */
static const char *const k_req_phimoe[] = {"attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_k.weight",
                                           "attn_v.weight", "attn_output.weight", "attn_output.bias",
                                           "ffn_norm.weight", "ffn_norm.bias", "ffn_gate_inp.weight", NULL};

const qk_arch_desc qk_arch_family_phi3[] = {
    {.hf = "Phi3ForCausalLM", .gguf = "phi3", .family = "Phi-3 / Phi-4", .kv = QK_KV_PHI3, .names = QK_N_PHI3,
     .rules = qk_rules_fused_gate_up,
     .required = k_req_phi3},
    {.hf = "PhiMoEForCausalLM", .gguf = "phimoe", .family = "Phi-3.5-MoE", .kv = QK_KV_PHI3,
     .names = QK_N_LLAMA | QK_N_LN_BIASES | QK_N_MIXTRAL | QK_N_PHIMOE,
     .required = k_req_phimoe, .experts = qk_experts_w123,
     .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok",
     .caveat = "llama.cpp's phimoe graph differs from the Hugging Face model: it RMS-normalises where Phi-3.5-MoE "
               "uses LayerNorm (the norm biases are added after), routes by a softmax over all experts with the top 2 "
               "renormalised instead of SparseMixer's two masked softmaxes, and scales long-rope by "
               "sqrt(1 + ln(s) / ln(original context)) instead of the config's short_mscale / long_mscale; the file "
               "is what llama.cpp's converter writes, its output will not equal transformers'"},
    {.hf = NULL},
};
