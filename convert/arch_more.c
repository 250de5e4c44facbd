/* arch_more.c - dense families added after the first registry:
 * Ernie4_5ForCausalLM (ERNIE 4.5 0.3B) -> "ernie4_5": the Llama layout and
 *   computation, with rope on adjacent pairs in Hugging Face's model too
 *   (cos/sin repeat_interleave'd), which is llama.cpp's "normal" rope: no
 *   Q/K permutation, as the converter writes them.
 * Glm4ForCausalLM (GLM-4-0414) -> "glm4": q/k/v biases, rope on adjacent
 *   pairs of the first partial_rotary_factor (Glm4Config's 0.5 when absent)
 *   of each head (rope.dimension_count = int(head_dim * factor)), sandwich
 *   norms: post_self_attn_layernorm -> post_attention_norm,
 *   post_attention_layernorm -> ffn_norm, post_mlp_layernorm ->
 *   post_ffw_norm; mlp.gate_up_proj kept fused as ffn_up ([gate | up] rows,
 *   which llama.cpp's SwiGLU splits), split projections refused. */
#include "arch_priv.h"

static const qk_name_rule k_rules_glm4[] = {
    {"post_self_attn_layernorm.weight", "post_attention_norm.weight", QK_PERM_NONE},
    {"post_mlp_layernorm.weight", "post_ffw_norm.weight", QK_PERM_NONE},
    {"mlp.gate_up_proj.weight", "ffn_up.weight", QK_PERM_NONE},
    {"mlp.gate_proj.weight", NULL, 0},
    {"mlp.up_proj.weight", NULL, 0},
    {NULL, NULL, 0},
};
static const char *const k_req_glm4[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                         "attn_output.weight", "post_attention_norm.weight", "ffn_norm.weight",
                                         "ffn_up.weight", "ffn_down.weight", "post_ffw_norm.weight", NULL};
static const qk_cfg_default k_glm4_defaults[] = {{"partial_rotary_factor", "0.5"}, {NULL, NULL}};

const qk_arch_desc qk_arch_family_more[] = {
    {.hf = "Ernie4_5ForCausalLM", .gguf = "ernie4_5", .family = "ERNIE 4.5 (dense)", .kv = QK_KV_LLAMA,
     .required = qk_req_llama},
    {.hf = "Glm4ForCausalLM", .gguf = "glm4", .family = "GLM-4 (0414)", .flags = QK_A_PARTIAL_ROPE_HD,
     .kv = QK_KV_LLAMA, .rules = k_rules_glm4, .required = k_req_glm4, .defaults = k_glm4_defaults},
    {.hf = NULL},
};
