/* arch_phi3.c - Phi3ForCausalLM -> "phi3": fused qkv_proj -> attn_qkv and
 * gate_up_proj -> ffn_up ([gate | up] rows), kept fused as llama.cpp's phi3
 * graph splits them; split gate/up projections are refused; long-rope
 * factor tensors generated from config.json (arch_hparams.c). */
#include "arch_priv.h"

static const qk_name_rule k_rules_phi3[] = {
    {"self_attn.qkv_proj.weight", "attn_qkv.weight", QK_PERM_NONE},
    {"mlp.gate_up_proj.weight", "ffn_up.weight", QK_PERM_NONE},
    {"mlp.gate_proj.weight", NULL, 0},
    {"mlp.up_proj.weight", NULL, 0},
    {NULL, NULL, 0},
};

static const char *const k_req_phi3[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                         "attn_qkv.weight", "ffn_up.weight", "ffn_down.weight", NULL};

const qk_arch_desc qk_arch_family_phi3[] = {
    {.hf = "Phi3ForCausalLM", .gguf = "phi3", .family = "Phi-3 / Phi-4", .kv = QK_KV_PHI3, .rules = k_rules_phi3,
     .required = k_req_phi3},
    {.hf = NULL},
};
