/* arch_moe_more.c - mixture-of-experts families added after Mixtral and
 * Qwen-MoE:
 * OlmoeForCausalLM (OLMoE) -> "olmoe": the Llama layout without Q/K
 *   permutation (NeoX rope), q_norm / k_norm RMS-normed over the whole
 *   projection (attn_q_norm [n_embd]), every layer sparse with Qwen's
 *   expert names (mlp.gate -> ffn_gate_inp, mlp.experts.E.{gate,up,down}_proj
 *   stacked), intermediate_size the experts' width. llama.cpp's graph
 *   hard-codes softmax routing without renormalising the top-k weights
 *   (norm_topk_prob must be false), k_norm as wide as q_norm (as many kv heads
 *   as heads), no clip_qkv, and the converter writes the RMS epsilon 1e-5
 *   whatever the config says (so the config must say 1e-5).
 * GraniteMoeForCausalLM, GraniteMoeSharedForCausalLM -> "granitemoe":
 *   Granite's layer and multipliers (attention.scale, embedding_scale,
 *   residual_scale, logit_scale) with Q/K un-permuted; the router
 *   block_sparse_moe.router.layer -> ffn_gate_inp; the experts arrive fused
 *   as 3-D tensors: input_linear [E, 2 I, H] split into ffn_gate_exps (first
 *   I rows of each expert) and ffn_up_exps, output_linear [E, H, I] ->
 *   ffn_down_exps; the shared expert (Shared) shared_mlp.input_linear
 *   [2 S, H] split into ffn_gate_shexp / ffn_up_shexp, output_linear ->
 *   ffn_down_shexp, shared_intermediate_size -> expert_shared_feed_forward_length.
 *   Routing (softmax of the top-k logits) is llama.cpp's softmax with the
 *   top-k weights renormalised.
 * Qwen3VLMoeForConditionalGeneration (Qwen3-VL-30B-A3B ...) -> "qwen3vlmoe":
 *   the Qwen3-MoE text model in text_config under model.language_model.,
 *   its experts fused and stored transposed: mlp.experts.gate_up_proj
 *   [E, H, 2 I] -> ffn_gate_exps / ffn_up_exps (columns [0, I) / [I, 2 I)),
 *   mlp.experts.down_proj [E, I, H] -> ffn_down_exps; M-RoPE sections,
 *   n_deepstack_layers from the vision config; the vision tower left out.
 * Ernie4_5_MoeForCausalLM (ERNIE 4.5 21B-A3B ...) -> "ernie4_5-moe": ERNIE
 *   4.5's layer (rope on adjacent pairs, no permutation), moe_layer_start_index
 *   leading dense layers (leading_dense_block_count), then sparse layers with
 *   Qwen-named experts, the router mlp.gate, the selection bias
 *   mlp.moe_statics.e_score_correction_bias -> exp_probs_b.bias (added to the
 *   softmax only to choose the experts) and shared experts
 *   (mlp.shared_experts.* -> ffn_*_shexp, summed ungated); the top-k weights
 *   renormalised. KVs as Ernie4_5MoeModel writes them, including the shared
 *   width intermediate_size // num_key_value_heads, which must therefore be
 *   the real one. Its multi-token-prediction block (model.mtp_*.N.) is left
 *   out, as the converter filters it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_priv.h"

static const char *const k_req_olmoe[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                          "attn_output.weight", "attn_q_norm.weight", "attn_k_norm.weight",
                                          "ffn_norm.weight", "ffn_gate_inp.weight", NULL};

static int olmoe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob")))
        return qk_fail(err, "%s/config.json: norm_topk_prob is true, but llama.cpp's olmoe does not renormalise the "
                            "top-k expert weights", ck->dir);
    const cJSON *clip = cJSON_GetObjectItemCaseSensitive(c, "clip_qkv");
    if (clip && !cJSON_IsNull(clip))
        return qk_fail(err, "%s/config.json: clip_qkv is set, but llama.cpp's olmoe does not clamp q/k/v (expected null)",
                       ck->dir);
    if (p->n_head_kv != p->n_head)
        return qk_fail(err, "%s/config.json: %u kv heads for %u heads: llama.cpp's olmoe needs k_norm as wide as q_norm "
                            "(as many kv heads as heads)", ck->dir, p->n_head_kv, p->n_head);
    double eps;
    if (qk_hf_cfg_num(c, "rms_norm_eps", &eps) && fabs(eps - 1e-5) > 1e-12)
        return qk_fail(err, "%s/config.json: rms_norm_eps is %g, but the converter writes OLMoE's 1e-5 (expected 1e-5)",
                       ck->dir, eps);
    return QK_OK;
}

const qk_fused_expert_rule qk_fused_experts_granitemoe[] = {
    {"block_sparse_moe.input_linear.weight", "ffn_gate_exps.weight", 0, 2, false, false},
    {"block_sparse_moe.input_linear.weight", "ffn_up_exps.weight", 1, 2, false, false},
    {"block_sparse_moe.output_linear.weight", "ffn_down_exps.weight", 0, 1, false, false},
    {"shared_mlp.input_linear.weight", "ffn_gate_shexp.weight", 0, 2, false, true},
    {"shared_mlp.input_linear.weight", "ffn_up_shexp.weight", 1, 2, false, true},
    {NULL, NULL, 0, 0, false, false},
};
static const char *const k_req_granitemoe[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                               "attn_output.weight", "ffn_norm.weight", "ffn_gate_inp.weight", NULL};
static const char *const k_req_granitemoe_shared[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight",
                                                      "attn_v.weight", "attn_output.weight", "ffn_norm.weight",
                                                      "ffn_gate_inp.weight", "ffn_gate_shexp.weight",
                                                      "ffn_up_shexp.weight", "ffn_down_shexp.weight", NULL};
static const qk_kv_rule k_kvs_granitemoe[] = {
    QK_KV_RULES_GRANITE,
    {"shared_intermediate_size", "expert_shared_feed_forward_length", QK_KVR_U32, false},
    {NULL, NULL, 0, false},
};

/* The shared expert: llama.cpp adds it when expert_shared_feed_forward_length is written, i.e. exactly when
 * the config has a non-zero shared_intermediate_size, which must then match the checkpoint's tensors. */
int qk_arch_granitemoe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    /* GraniteModel pops head_dim: llama.cpp then uses hidden_size / heads, so any other head_dim is refused */
    int64_t hd = 0, hidden = 0;
    if (qk_hf_cfg_int(ck->config, "head_dim", &hd) && qk_hf_cfg_int(ck->config, "hidden_size", &hidden) &&
        hd != hidden / p->n_head)
        return qk_fail(err, "%s/config.json: head_dim %lld is not hidden_size / num_attention_heads = %lld, which "
                            "llama.cpp would use (the converter drops head_dim)", ck->dir, (long long)hd,
                       (long long)(hidden / p->n_head));
    double s = 0;
    const bool want = qk_hf_cfg_num(ck->config, "shared_intermediate_size", &s) && s != 0;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const qk_conv_tensor *t = &p->tensors[i];
        if (!strstr(t->name, "_shexp.")) continue;
        if (!want)
            return qk_fail(err, "%s: the checkpoint has a shared expert (%s) but config.json has no "
                                "shared_intermediate_size, without which llama.cpp's granitemoe leaves it out", ck->dir,
                           t->name);
        const int64_t width = strstr(t->name, "ffn_down_shexp") ? t->ne[0] : t->ne[1];
        if ((double)width != s)
            return qk_fail(err, "%s: %s is %lld wide, config.json's shared_intermediate_size is %g", ck->dir, t->name,
                           (long long)width, s);
    }
    return QK_OK;
}

static const qk_fused_expert_rule k_fused_qwen3vlmoe[] = {
    QK_FUSED_GATE_UP_DOWN("mlp.experts.", true),
    {NULL, NULL, 0, 0, false, false},
};
static const char *const k_req_qwen3vlmoe[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                               "attn_output.weight", "attn_q_norm.weight", "attn_k_norm.weight",
                                               "ffn_norm.weight", "ffn_gate_inp.weight", NULL};
static const qk_kv_rule k_kvs_qwen3vlmoe[] = {
    {"moe_intermediate_size", "expert_feed_forward_length", QK_KVR_U32, true},
    {"vision_config.deepstack_visual_indexes", "n_deepstack_layers", QK_KVR_COUNT, false},
    {NULL, NULL, 0, false},
};
/* Qwen3VLMoeTextConfig: every layer sparse, top-k renormalised, which is what llama.cpp's graph does */
static int qwen3vlmoe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    return qk_arch_qwen_moe_check(ck, p, true, true, err); /* Qwen3VLMoeTextConfig's norm_topk_prob default: true */
}

/* Ernie4_5MoeModel.filter_tensors: the multi-token-prediction layers, left out */
static const char *const k_skip_ernie_moe[] = {"model.mtp_block.", "model.mtp_emb_norm.", "model.mtp_hidden_norm.",
                                               "model.mtp_linear_proj.", NULL};
static const char *const k_req_ernie_moe[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                              "attn_output.weight", "ffn_norm.weight", NULL};
static const qk_kv_rule k_kvs_ernie_moe[] = {
    {"moe_layer_interval", "interleave_moe_layer_step", QK_KVR_U32, true},
    {"moe_layer_start_index", "leading_dense_block_count", QK_KVR_U32, false},
    {"moe_intermediate_size", "expert_feed_forward_length", QK_KVR_U32, true},
    {"moe_num_shared_experts", "expert_shared_count", QK_KVR_U32, true},
    {"intermediate_size", "expert_shared_feed_forward_length", QK_KVR_PER_KV_HEAD, false},
    {NULL, NULL, 0, false},
};

/* llama.cpp's ernie4_5-moe: layers [0, lead) dense, every later one sparse (its loader wants experts there
 * whatever the interval), the shared experts always (their width read from intermediate_size // kv heads, as
 * the converter writes it), no biases. */
static int ernie_moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    int64_t lead = 0, step = 0, end = -1, shared = 0, mi = 0, ff = 0;
    if (!qk_hf_cfg_int(c, "moe_layer_interval", &step) || step != 1)
        return qk_fail(err, "%s/config.json: moe_layer_interval is not 1: llama.cpp's ernie4_5-moe loads experts in "
                            "every layer after the leading dense ones", ck->dir);
    if (cJSON_GetObjectItemCaseSensitive(c, "moe_layer_start_index") &&
        (!qk_hf_cfg_int(c, "moe_layer_start_index", &lead) || lead < 0 || lead >= (int64_t)p->n_layer))
        return qk_fail(err, "%s/config.json: moe_layer_start_index is not a layer index below %u", ck->dir, p->n_layer);
    if (qk_hf_cfg_int(c, "moe_layer_end_index", &end) && end != -1 && end < (int64_t)p->n_layer - 1)
        return qk_fail(err, "%s/config.json: moe_layer_end_index %lld leaves trailing dense layers, which llama.cpp's "
                            "ernie4_5-moe does not have", ck->dir, (long long)end);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "use_bias")))
        return qk_fail(err, "%s/config.json: use_bias is true: ERNIE 4.5 MoE with biases is not supported", ck->dir);
    qk_hf_cfg_int(c, "moe_num_shared_experts", &shared);
    qk_hf_cfg_int(c, "moe_intermediate_size", &mi);
    qk_hf_cfg_int(c, "intermediate_size", &ff);
    if (shared <= 0)
        return qk_fail(err, "%s/config.json: moe_num_shared_experts is %lld: ERNIE 4.5 MoE without shared experts is "
                            "not supported yet", ck->dir, (long long)shared);
    if (ff / p->n_head_kv != mi * shared)
        return qk_fail(err, "%s/config.json: intermediate_size // num_key_value_heads = %lld, which the converter "
                            "writes as the shared experts' width, is not moe_intermediate_size x "
                            "moe_num_shared_experts = %lld", ck->dir, (long long)(ff / p->n_head_kv),
                       (long long)(mi * shared));
    for (uint32_t l = 0; l < p->n_layer; l++) {
        static const char *const sparse[] = {"ffn_gate_inp.weight", "ffn_gate_shexp.weight", "ffn_up_shexp.weight",
                                             "ffn_down_shexp.weight"};
        const bool moe = (int64_t)l >= lead;
        const char *miss = qk_plan_layer_missing(p, l, moe ? sparse : qk_req_dense_ffn, moe ? 4 : 3);
        if (miss)
            return qk_fail(err, "%s: layer %u lacks blk.%u.%s (%s layer)", ck->dir, l, l, miss,
                           moe ? "a sparse" : "a leading dense");
        if (qk_plan_layer_tensor(p, l, moe ? "ffn_gate.weight" : "ffn_gate_inp.weight"))
            return qk_fail(err, "%s: layer %u is %s by moe_layer_start_index %lld, but has %s tensors", ck->dir, l,
                           moe ? "sparse" : "dense", (long long)lead, moe ? "dense MLP" : "router");
    }
    return QK_OK;
}

const qk_arch_desc qk_arch_family_moe_more[] = {
    {.hf = "OlmoeForCausalLM", .gguf = "olmoe", .family = "OLMoE", .kv = QK_KV_LLAMA, .names = QK_N_ROUTER,
     .required = k_req_olmoe, .experts = qk_experts_mlp, .n_expert_key = "num_experts",
     .n_used_key = "num_experts_per_tok", .check = olmoe_check},
    {.hf = "GraniteMoeForCausalLM", .pre = "refact", .gguf = "granitemoe", .family = "Granite 3.x MoE", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .names = QK_N_GRANITEMOE, .required = k_req_granitemoe,
     .fused_experts = qk_fused_experts_granitemoe, .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok",
     .kvs = k_kvs_granitemoe, .check = qk_arch_granitemoe_check},
    {.hf = "GraniteMoeSharedForCausalLM", .pre = "refact", .gguf = "granitemoe", .family = "Granite MoE with a shared expert",
     .flags = QK_A_PERMUTE_QK, .kv = QK_KV_LLAMA, .names = QK_N_GRANITEMOE, .required = k_req_granitemoe_shared,
     .fused_experts = qk_fused_experts_granitemoe, .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok",
     .kvs = k_kvs_granitemoe, .check = qk_arch_granitemoe_check},
    {.hf = "Qwen3VLMoeForConditionalGeneration", .gguf = "qwen3vlmoe", .family = "Qwen3-VL-MoE (text model)",
     .flags = QK_A_MULTIMODAL, .kv = QK_KV_LLAMA, .names = QK_N_ROUTER, .required = k_req_qwen3vlmoe,
     .fused_experts = k_fused_qwen3vlmoe, .n_expert_key = "num_experts", .n_used_key = "num_experts_per_tok",
     .mrope_key = "mrope_section", .kvs = k_kvs_qwen3vlmoe, .check = qwen3vlmoe_check},
    {.hf = "Ernie4_5_MoeForCausalLM", .gguf = "ernie4_5-moe", .family = "ERNIE 4.5 MoE (21B-A3B, 300B-A47B)",
     .kv = QK_KV_LLAMA, .names = QK_N_ERNIE | QK_N_ROUTER | QK_N_SHARED_EXPERTS,
     .required = k_req_ernie_moe, .experts = qk_experts_mlp,
     .n_expert_key = "moe_num_experts", .n_used_key = "moe_k", .n_dense_lead_key = "moe_layer_start_index",
     .skip_prefixes = k_skip_ernie_moe, .kvs = k_kvs_ernie_moe, .check = ernie_moe_check},
    {.hf = NULL},
};
