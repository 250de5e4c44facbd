/* arch_rules.c - the name-rule fragments the architecture registry's
 * families compose (arch_priv.h): the Llama layout every family falls back
 * to, and the blocks several families share, so that a family's own table
 * says only what is its own (qk_arch_desc.rule_blocks / global_blocks). */
#include "arch_priv.h"

/* The Llama layout every family shares (its own rules come first). */
const qk_name_rule qk_rules_llama[] = {
    {"input_layernorm.weight", "attn_norm.weight", QK_PERM_NONE},
    {"self_attn.q_proj.weight", "attn_q.weight", QK_PERM_Q},
    {"self_attn.k_proj.weight", "attn_k.weight", QK_PERM_K},
    {"self_attn.v_proj.weight", "attn_v.weight", QK_PERM_NONE},
    {"self_attn.o_proj.weight", "attn_output.weight", QK_PERM_NONE},
    {"self_attn.q_proj.bias", "attn_q.bias", QK_PERM_Q},
    {"self_attn.k_proj.bias", "attn_k.bias", QK_PERM_K},
    {"self_attn.v_proj.bias", "attn_v.bias", QK_PERM_NONE},
    {"self_attn.o_proj.bias", "attn_output.bias", QK_PERM_NONE},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", QK_PERM_NONE},
    {"self_attn.k_norm.weight", "attn_k_norm.weight", QK_PERM_NONE},
    {"post_attention_layernorm.weight", "ffn_norm.weight", QK_PERM_NONE},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight", QK_PERM_NONE},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight", QK_PERM_NONE},
    QK_RULES_GATE_UP_DOWN("mlp.", ""),
    {NULL, NULL, 0},
};

/* the tensors outside the layers, Llama's names */
const qk_name_rule qk_globals_llama[] = {
    {"model.embed_tokens.weight", "token_embd.weight", QK_PERM_NONE},
    {"model.norm.weight", "output_norm.weight", QK_PERM_NONE},
    {"lm_head.weight", "output.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_globals_embed_head[] = {
    {"model.embed_tokens.weight", "token_embd.weight", QK_PERM_NONE},
    {"lm_head.weight", "output.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_globals_final_layernorm[] = {
    {"model.final_layernorm.weight", "output_norm.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_globals_norm_bias[] = {{"model.norm.bias", "output_norm.bias", QK_PERM_NONE}, {NULL, NULL, 0}};
const qk_name_rule qk_globals_lm_head_bias[] = {{"lm_head.bias", "output.bias", QK_PERM_NONE}, {NULL, NULL, 0}};

const qk_name_rule qk_rules_post_norms[] = {
    {"post_attention_layernorm.weight", "post_attention_norm.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_rules_norm_biases[] = {
    {"input_layernorm.bias", "attn_norm.bias", QK_PERM_NONE},
    {"post_attention_layernorm.bias", "ffn_norm.bias", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_rules_ffn_w123[] = {
    {"ffn_norm.weight", "ffn_norm.weight", QK_PERM_NONE},
    {"feed_forward.w1.weight", "ffn_gate.weight", QK_PERM_NONE},
    {"feed_forward.w3.weight", "ffn_up.weight", QK_PERM_NONE},
    {"feed_forward.w2.weight", "ffn_down.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_rules_ffn_proj[] = {
    QK_RULES_GATE_UP_DOWN("feed_forward.", ""),
    {NULL, NULL, 0},
};
const qk_name_rule qk_rules_score_bias[] = {
    {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias", QK_PERM_NONE},
    {NULL, NULL, 0},
};
const qk_name_rule qk_rules_w123_router[] = {
    {"block_sparse_moe.gate.weight", "ffn_gate_inp.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};

const char *const qk_req_llama[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                    "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                    "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", NULL};
const char *const qk_req_dense_ffn[] = {"ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", NULL};
