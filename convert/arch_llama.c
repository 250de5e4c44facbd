/* arch_llama.c - the Llama family: LlamaForCausalLM (Llama 1-3, SmolLM 1/2,
 * Falcon 3 ...), MistralForCausalLM -> "llama" (Q/K rows
 * un-permuted: HF orders them for rotate-half rope, llama.cpp's "llama"
 * graph rotates adjacent pairs; llama3 rope scaling -> rope_freqs.weight);
 * MixtralForCausalLM -> "llama" with block_sparse_moe.experts.E.w1/w2/w3
 * stacked into ffn_gate/down/up_exps and the router (F32) as ffn_gate_inp;
 * InternLM3ForCausalLM -> "llama" (the Llama layout; dynamic NTK rope
 * scaling, which only acts past max_position_embeddings, is not carried);
 * Mistral3ForConditionalGeneration (Mistral Small 3.1/3.2) -> "mistral3",
 * the Llama text model inside (convert_hf_to_gguf.py's Ministral3Model), its
 * Pixtral vision tower and projector left out. */
#include "arch_priv.h"

static const char *const k_req_moe[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                        "attn_q.weight", "attn_k.weight", "attn_v.weight", NULL};

static const qk_name_rule k_rules_mixtral[] = {
    {"block_sparse_moe.gate.weight", "ffn_gate_inp.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};

/* MistralConfig's defaults for keys Mistral3's text_config may leave out */
static const qk_cfg_default k_mistral_text_defaults[] = {
    {"rms_norm_eps", "1e-6"}, {"rope_theta", "10000.0"}, {"max_position_embeddings", "131072"},
    {"num_key_value_heads", "8"}, {NULL, NULL},
};

const qk_arch_desc qk_arch_family_llama[] = {
    {.hf = "LlamaForCausalLM", .gguf = "llama", .family = "Llama (also SmolLM 1/2, Falcon 3)",
     .flags = QK_A_PERMUTE_QK, .kv = QK_KV_LLAMA, .required = qk_req_llama},
    {.hf = "MistralForCausalLM", .gguf = "llama", .family = "Mistral", .flags = QK_A_PERMUTE_QK, .kv = QK_KV_LLAMA,
     .required = qk_req_llama},
    {.hf = "MixtralForCausalLM", .gguf = "llama", .family = "Mixtral (MoE)", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .rules = k_rules_mixtral, .required = k_req_moe, .experts = qk_experts_w123,
     .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok"},
    /* InternLM3Model: the Llama layout, Q/K un-permuted; its dynamic NTK rope acts only past the 32K context */
    {.hf = "InternLM3ForCausalLM", .gguf = "llama", .family = "InternLM 3", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .required = qk_req_llama, .rope_plain = "dynamic"},
    {.hf = "Mistral3ForConditionalGeneration", .gguf = "mistral3", .family = "Mistral Small 3.x (text model)",
     .flags = QK_A_PERMUTE_QK | QK_A_MULTIMODAL, .kv = QK_KV_LLAMA, .required = qk_req_llama,
     .defaults = k_mistral_text_defaults},
    {.hf = NULL},
};
