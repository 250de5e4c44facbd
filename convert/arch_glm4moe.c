/* arch_glm4moe.c - Glm4MoeForCausalLM (GLM-4.5, GLM-4.5-Air) -> "glm4moe", as
 * the pinned convert_hf_to_gguf.py's Glm4MoeModel writes it (its default:
 * multi-token-prediction layers kept):
 *   - attention: q/k/v with biases, o_proj, optional per-head q/k norms
 *     (use_qk_norm), NeoX rope on int(head_dim x partial_rotary_factor)
 *     dimensions (0.5 when absent), post_attention_layernorm ->
 *     post_attention_norm (the graph's pre-FFN norm);
 *   - the first first_k_dense_replace layers dense, the rest MoE: mlp.gate ->
 *     ffn_gate_inp, mlp.gate.e_score_correction_bias -> exp_probs_b.bias,
 *     experts stacked, mlp.shared_experts.* -> ffn_*_shexp; sigmoid gating
 *     (always written), routed_scaling_factor, norm_topk_prob, groups;
 *   - the num_nextn_predict_layers MTP layers after the last one converted
 *     too (block_count counts them, nextn_predict_layers says how many):
 *     their eh_proj, enorm, hnorm, shared_head.{head,norm}, embed_tokens ->
 *     nextn.*; llama.cpp runs them only for MTP drafting, never for the logits.
 * Refused as llama.cpp's graph cannot reproduce it: topk_group >= n_group
 * when n_group > 1. */
#include <string.h>

#include "arch_priv.h"

static int glm4moe_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    const cJSON *c = ck->config;
    int rc = QK_OK;
    int64_t v;
    double d;
    if (qk_hf_cfg_int(c, "n_group", &v)) rc |= qk_arch_kv_u32(w, p, "expert_group_count", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "topk_group", &v)) rc |= qk_arch_kv_u32(w, p, "expert_group_used_count", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "moe_intermediate_size", &v))
        rc |= qk_arch_kv_u32(w, p, "expert_feed_forward_length", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "n_shared_experts", &v)) rc |= qk_arch_kv_u32(w, p, "expert_shared_count", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "first_k_dense_replace", &v))
        rc |= qk_arch_kv_u32(w, p, "leading_dense_block_count", (uint32_t)v, err);
    rc |= qk_arch_kv_u32(w, p, "expert_gating_func", 2u, err); /* sigmoid */
    if (qk_hf_cfg_num(c, "routed_scaling_factor", &d)) rc |= qk_arch_kv_f32(w, p, "expert_weights_scale", (float)d, err);
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob");
    if (cJSON_IsBool(nt)) rc |= qk_arch_kv_bool(w, p, "expert_weights_norm", cJSON_IsTrue(nt), err);
    if (qk_hf_cfg_int(c, "num_nextn_predict_layers", &v))
        rc |= qk_arch_kv_u32(w, p, "nextn_predict_layers", (uint32_t)v, err);
    return rc ? QK_FAIL : QK_OK;
}

static int glm4moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    const int64_t ng = qk_hf_cfg_int_or(c, "n_group", 1), tg = qk_hf_cfg_int_or(c, "topk_group", ng);
    if (ng > 1 && (tg >= ng || p->n_expert % ng))
        return qk_fail(err, "%s/config.json: topk_group %lld of n_group %lld over %u experts: llama.cpp's glm4moe "
                            "needs fewer groups used than groups, each of as many experts", ck->dir, (long long)tg,
                       (long long)ng, p->n_expert);
    int64_t v;
    if (!qk_hf_cfg_int(c, "moe_intermediate_size", &v) || v <= 0)
        return qk_fail(err, "%s/config.json: 'moe_intermediate_size' is missing (glm4moe needs it)", ck->dir);
    const int64_t lead = qk_hf_cfg_int_or(c, "first_k_dense_replace", 0), shared = qk_hf_cfg_int_or(c, "n_shared_experts", 0);
    for (uint32_t l = 0; l < p->n_layer; l++) {
        static const char *const sparse[] = {"ffn_gate_inp.weight", "exp_probs_b.bias", "ffn_gate_shexp.weight",
                                             "ffn_up_shexp.weight", "ffn_down_shexp.weight"};
        if (qk_arch_moe_layer_check(ck, p, l, lead, sparse, shared > 0 ? 5u : 2u, "dense", err)) return QK_FAIL;
    }
    return QK_OK;
}


static const char *const k_req_glm4moe[] = {"attn_norm.weight", "post_attention_norm.weight", "attn_q.weight",
                                            "attn_k.weight", "attn_v.weight", "attn_output.weight", NULL};

static const qk_cfg_default k_defaults_glm4moe[] = {{"partial_rotary_factor", "0.5"}, {NULL, NULL}};

const qk_arch_desc qk_arch_family_glm4moe[] = {
    {.hf = "Glm4MoeForCausalLM", .pre = "glm4", .gguf = "glm4moe", .family = "GLM-4.5 / GLM-4.5-Air (MTP layers kept)",
     .flags = QK_A_PARTIAL_ROPE_HD, .kv = QK_KV_LLAMA,
     .names = QK_N_POST_NORMS | QK_N_SCORE_BIAS | QK_N_GLM4MOE | QK_N_ROUTER | QK_N_SHARED_EXPERTS, .required = k_req_glm4moe, .experts = qk_experts_mlp,
     .n_expert_key = "n_routed_experts", .n_used_key = "num_experts_per_tok",
     .defaults = k_defaults_glm4moe, .check = glm4moe_check, .extra_kvs = glm4moe_kvs,
     .n_dense_lead_key = "first_k_dense_replace", .extra_layers_key = "num_nextn_predict_layers"},
    {.hf = NULL},
};
