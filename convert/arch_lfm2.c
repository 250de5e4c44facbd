/* arch_lfm2.c - Liquid AI's LFM2 (Lfm2ForCausalLM, LFM2-350M/700M/1.2B/2.6B,
 * LFM2.5) -> "lfm2": a hybrid of gated short-convolution layers and
 * grouped-query attention layers, which config.json's layer_types lists
 * ("conv" / "full_attention"), every layer followed by a SwiGLU MLP.
 *
 * Tensors, as LFM2Model (convert_hf_to_gguf.py) maps them:
 *   model.embed_tokens -> token_embd, model.embedding_norm (the final norm,
 *   which llama.cpp names token_embd_norm) ; per layer operator_norm ->
 *   attn_norm, ffn_norm, feed_forward.w1/w3/w2 -> ffn_gate/up/down;
 *   (layer_types, else derived from full_attn_idxs as Lfm2Config does);
 *   conv layers: conv.in_proj ([B | C | x] rows) -> shortconv.in_proj,
 *   conv.conv ([hidden, 1, L] depthwise Conv1d, squeezed to [hidden, L],
 *   kept F32) -> shortconv.conv, conv.out_proj -> shortconv.out_proj;
 *   attention layers: self_attn.q/k/v_proj, out_proj -> attn_output,
 *   q_layernorm / k_layernorm -> attn_q_norm / attn_k_norm. HF's rope is
 *   rotate-half, which is llama.cpp's NeoX rope for lfm2: no permutation.
 * KVs (TextModel.set_gguf_parameters, then LFM2Model's): head_count_kv an
 *   i32 array, 0 on the conv layers (llama.cpp takes those as recurrent);
 *   shortconv.l_cache = conv_L_cache; attention.layer_norm_rms_epsilon =
 *   norm_eps; feed_forward_length = block_ff_dim (else intermediate_size),
 *   with block_auto_adjust_ff_dim: int(2 ff / 3), times
 *   block_ffn_dim_multiplier, rounded up to block_multiple_of.
 * LFM2-MoE (Lfm2MoeForCausalLM, LFM2-8B-A1B) -> "lfm2moe", as LFM2MoeModel
 * writes it: the same layers, whose MLP after the first num_dense_layers is
 * a sparse block: router feed_forward.gate -> ffn_gate_inp, the selection
 * bias feed_forward.expert_bias -> exp_probs_b.bias, experts
 * feed_forward.experts.E.w1 / w3 / w2 stacked into ffn_{gate,up,down}_exps;
 * KVs TextModel's (feed_forward_length = intermediate_size, no LFM2
 * adjustment) plus expert_feed_forward_length, leading_dense_block_count,
 * expert_gating_func sigmoid, vocab_size and shortconv.l_cache.
 * Not covered: the ColBERT / embedding heads (Lfm2Model), the audio / vision
 * releases. */
#include <string.h>

#include "arch_priv.h"

/* its short convolution's depthwise Conv1d weight, squeezed (its other names: QK_N_LFM2, QK_N_META_FFN) */
static const qk_name_rule k_rules_lfm2[] = {
    {"conv.conv.weight", "shortconv.conv.weight", QK_X_SQUEEZE},
    {NULL, NULL, 0},
};
/* every layer: the norms and the MLP; the mixer's tensors depend on its kind (lfm2_check) */
static const char *const k_req_lfm2[] = {"attn_norm.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight",
                                         "ffn_down.weight", NULL};
static const char *const k_req_conv[] = {"shortconv.in_proj.weight", "shortconv.conv.weight",
                                         "shortconv.out_proj.weight", NULL};
static const char *const k_req_attn[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                         "attn_q_norm.weight", "attn_k_norm.weight", NULL};

/* Lfm2Config's defaults (transformers) for keys a config leaves out */
static const qk_cfg_default k_lfm2_defaults[] = {
    {"norm_eps", "1e-5"},           {"conv_L_cache", "3"},
    {"block_multiple_of", "256"},   {"block_ffn_dim_multiplier", "1.0"},
    {"block_auto_adjust_ff_dim", "true"}, {"rope_theta", "1000000.0"},
    {NULL, NULL},
};

static const qk_expert_rule k_experts_lfm2moe[] = {QK_EXPERTS_W123("feed_forward.experts."), {NULL, NULL, NULL}};
static const char *const k_req_lfm2moe[] = {"attn_norm.weight", "ffn_norm.weight", NULL};
/* llama_model_lfm2moe::load_arch_tensors: a sparse layer's router and selection bias (both required) */
static const char *const k_req_sparse[] = {"ffn_gate_inp.weight", "exp_probs_b.bias", NULL};
/* Lfm2MoeConfig's defaults */
static const qk_cfg_default k_lfm2moe_defaults[] = {
    {"norm_eps", "1e-5"},        {"conv_L_cache", "3"},          {"rope_theta", "1000000.0"},
    {"intermediate_size", "7168"}, {"moe_intermediate_size", "1792"}, {"num_dense_layers", "2"},
    {"num_experts", "32"},       {"num_experts_per_tok", "4"},   {"use_expert_bias", "true"},
    {"routed_scaling_factor", "1.0"}, {"norm_topk_prob", "true"},
    {NULL, NULL},
};

/* layer_types[i] is "conv" (true) or "full_attention" (false); a config without layer_types (the first LFM2
 * releases) lists its attention layers in full_attn_idxs, from which Lfm2Config derives layer_types (every layer
 * attention when neither is given) */
static int layer_is_conv(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t i, bool *conv, qk_err *err) {
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(ck->config, "layer_types");
    const cJSON *fa = cJSON_GetObjectItemCaseSensitive(ck->config, "full_attn_idxs");
    if ((!lt || cJSON_IsNull(lt)) && (!fa || cJSON_IsNull(fa))) {
        *conv = false;
        return QK_OK;
    }
    if (!lt || cJSON_IsNull(lt)) {
        if (!cJSON_IsArray(fa))
            return qk_fail(err, "%s/config.json: 'full_attn_idxs' is not a list of layer numbers", ck->dir);
        *conv = true;
        for (const cJSON *e = fa->child; e; e = e->next) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= p->n_layer ||
                e->valuedouble != (double)(int64_t)e->valuedouble)
                return qk_fail(err, "%s/config.json: full_attn_idxs holds something other than a layer number below %u",
                               ck->dir, p->n_layer);
            if ((uint32_t)e->valuedouble == i) *conv = false;
        }
        return QK_OK;
    }
    return qk_arch_layer_kind(ck, p, i, "conv", "full_attention", conv, err);
}

/* LFM2Model._add_feed_forward_length */
static int lfm2_ff(const qk_hf_checkpoint *ck, int64_t *out, qk_err *err) {
    const cJSON *c = ck->config;
    int64_t ff, mult;
    if ((!qk_hf_cfg_int(c, "block_ff_dim", &ff) && !qk_hf_cfg_int(c, "intermediate_size", &ff)) || ff <= 0 ||
        ff > (int64_t)1 << 31)
        return qk_fail(err, "%s/config.json: neither 'block_ff_dim' nor 'intermediate_size' is a positive integer",
                       ck->dir);
    const cJSON *adj = cJSON_GetObjectItemCaseSensitive(c, "block_auto_adjust_ff_dim");
    if (!cJSON_IsBool(adj))
        return qk_fail(err, "%s/config.json: 'block_auto_adjust_ff_dim' is not a bool", ck->dir);
    if (cJSON_IsTrue(adj)) {
        if (!qk_hf_cfg_int(c, "block_multiple_of", &mult) || mult <= 0 || mult > 65536)
            return qk_fail(err, "%s/config.json: 'block_multiple_of' is not an integer in 1..65536", ck->dir);
        ff = 2 * ff / 3;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "block_ffn_dim_multiplier");
        if (cJSON_IsNumber(m)) {
            if (!(m->valuedouble > 0 && m->valuedouble < 64))
                return qk_fail(err, "%s/config.json: 'block_ffn_dim_multiplier' %g is out of range (0, 64)", ck->dir,
                               m->valuedouble);
            ff = (int64_t)(m->valuedouble * (double)ff);
        } else if (m && !cJSON_IsNull(m)) {
            return qk_fail(err, "%s/config.json: 'block_ffn_dim_multiplier' is neither a number nor null", ck->dir);
        }
        ff = mult * ((ff + mult - 1) / mult);
    }
    *out = ff;
    return QK_OK;
}

/* the dense MLP's width: LFM2's adjusted block_ff_dim; LFM2-MoE's dense layers take intermediate_size as it is */
static int dense_ff(const qk_hf_checkpoint *ck, const qk_conv_plan *p, int64_t *out, qk_err *err) {
    if (!p->n_expert) return lfm2_ff(ck, out, err);
    if (!qk_hf_cfg_int(ck->config, "intermediate_size", out) || *out <= 0 || *out > (int64_t)1 << 31)
        return qk_fail(err, "%s/config.json: 'intermediate_size' is not a positive integer", ck->dir);
    return QK_OK;
}

/* LFM2-MoE's sparse block as llama.cpp's lfm2 graph computes it: sigmoid scores, the top k by score + expert_bias,
 * their scores renormalised to sum 1 (build_moe_ffn with norm_w), no routed scaling; and which layers are sparse */
static int lfm2moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, int64_t *lead, qk_err *err) {
    const cJSON *c = ck->config;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "use_expert_bias")))
        return qk_fail(err, "%s/config.json: use_expert_bias is not true: llama.cpp's lfm2moe needs each sparse "
                            "layer's expert_bias (exp_probs_b), which the converter does not make up", ck->dir);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob")))
        return qk_fail(err, "%s/config.json: norm_topk_prob is not true: llama.cpp's lfm2moe always renormalises the "
                            "chosen experts' weights", ck->dir);
    double rsf = 1.0;
    if (qk_hf_cfg_num(c, "routed_scaling_factor", &rsf) && rsf != 1.0)
        return qk_fail(err, "%s/config.json: routed_scaling_factor is %g: llama.cpp's lfm2moe does not scale the "
                            "experts' weights (1.0 expected)", ck->dir, rsf);
    int64_t ffe = 0;
    if (!qk_hf_cfg_int(c, "moe_intermediate_size", &ffe) || ffe <= 0)
        return qk_fail(err, "%s/config.json: 'moe_intermediate_size' is not a positive integer", ck->dir);
    if (!qk_hf_cfg_int(c, "num_dense_layers", lead) || *lead < 0 || *lead > (int64_t)p->n_layer)
        return qk_fail(err, "%s/config.json: 'num_dense_layers' should be an integer in 0..%u", ck->dir, p->n_layer);
    for (uint32_t l = (uint32_t)*lead; l < p->n_layer; l++) {
        const qk_conv_tensor *g = qk_plan_layer_tensor(p, l, "ffn_gate_exps.weight");
        if (g && g->ne[1] != ffe)
            return qk_fail(err, "%s: layer %u's experts are %lld wide, but moe_intermediate_size is %lld", ck->dir, l,
                           (long long)g->ne[1], (long long)ffe);
    }
    return QK_OK;
}

static int lfm2_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    int64_t l_cache = 0, ff = 0, lead = (int64_t)p->n_layer;
    if (!qk_hf_cfg_int(ck->config, "conv_L_cache", &l_cache) || l_cache < 2 || l_cache > 64)
        return qk_fail(err, "%s/config.json: 'conv_L_cache' should be an integer in 2..64 (llama.cpp keeps L - 1 "
                            "tokens of state)", ck->dir);
    if (dense_ff(ck, p, &ff, err)) return QK_FAIL;
    if (p->n_expert && lfm2moe_check(ck, p, &lead, err)) return QK_FAIL;
    /* what TextModel.set_gguf_parameters would write and this family's writer does not carry */
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ck->config, "rope_scaling");
    if (!rs || cJSON_IsNull(rs)) rs = cJSON_GetObjectItemCaseSensitive(ck->config, "rope_parameters");
    const char *rt = cJSON_IsObject(rs) ? qk_hf_cfg_str(rs, "rope_type") : NULL;
    if (cJSON_IsObject(rs) && !rt) rt = qk_hf_cfg_str(rs, "type");
    if (rt && strcmp(rt, "default"))
        return qk_fail(err, "%s/config.json: LFM2 rope scaling '%s' is not supported (plain rope is)", ck->dir, rt);
    const cJSON *causal = cJSON_GetObjectItemCaseSensitive(ck->config, "is_causal");
    if (cJSON_IsFalse(causal))
        return qk_fail(err, "%s/config.json: is_causal is false (a bidirectional LFM2 encoder), which is not supported",
                       ck->dir);
    bool any_attn = false;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        bool conv = false;
        if (layer_is_conv(ck, p, l, &conv, err)) return QK_FAIL;
        any_attn |= !conv;
        if (qk_plan_layer_need(ck, p, l, conv ? "conv" : "attention", conv ? k_req_conv : k_req_attn, err))
            return QK_FAIL;
        const char *extra = qk_plan_layer_extra(p, l, conv ? k_req_attn : k_req_conv, SIZE_MAX);
        if (extra)
            return qk_fail(err, "%s: %s layer %u has a tensor for blk.%u.%s, which only %s layers have", ck->dir,
                           conv ? "conv" : "attention", l, l, extra, conv ? "attention" : "conv");
        const qk_conv_tensor *cw = qk_plan_layer_tensor(p, l, "shortconv.conv.weight");
        if (cw && cw->ne[0] != l_cache)
            return qk_fail(err, "%s: layer %u's conv.conv.weight has a kernel of %lld, but conv_L_cache is %lld",
                           ck->dir, l, (long long)cw->ne[0], (long long)l_cache);
        /* the first `lead` layers' MLP is dense, the rest sparse (all dense in LFM2) */
        const bool dense = (int64_t)l < lead;
        if (qk_plan_layer_need(ck, p, l, dense ? "dense" : "sparse", dense ? qk_req_dense_ffn : k_req_sparse, err))
            return QK_FAIL;
        extra = qk_plan_layer_extra(p, l, dense ? k_req_sparse : qk_req_dense_ffn, SIZE_MAX);
        if (extra)
            return qk_fail(err, "%s: %s layer %u (num_dense_layers %lld) has a tensor for blk.%u.%s", ck->dir,
                           dense ? "dense" : "sparse", l, (long long)lead, l, extra);
        const qk_conv_tensor *g = qk_plan_layer_tensor(p, l, "ffn_gate.weight");
        if (g && g->ne[1] != ff)
            return qk_fail(err, "%s: layer %u's feed_forward.w1.weight has %lld rows, but the config's feed-forward "
                                "length (%s) is %lld", ck->dir, l, (long long)g->ne[1],
                           p->n_expert ? "intermediate_size" : "block_ff_dim adjusted as LFM2 does", (long long)ff);
    }
    if (!any_attn)
        return qk_fail(err, "%s/config.json: layer_types has no 'full_attention' layer (llama.cpp's lfm2 needs one)",
                       ck->dir);
    return QK_OK;
}

static int lfm2_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                    qk_err *err) {
    const cJSON *c = ck->config;
    int64_t ff, n_embd = 0, l_cache = 0;
    double d;
    int32_t kv[1024];
    if (qk_arch_kv_heads_by_layer(ck, p, layer_is_conv, kv, err)) return QK_FAIL;
    if (dense_ff(ck, p, &ff, err)) return QK_FAIL;
    qk_hf_cfg_int(c, "hidden_size", &n_embd);
    qk_hf_cfg_int(c, "conv_L_cache", &l_cache);
    const qk_text_sizes s = {.n_ctx = qk_hf_cfg_int_or(c, "max_position_embeddings", QK_KV_ABSENT), .n_embd = n_embd,
                             .n_ff = ff, .head_count_kv = kv};
    int rc = qk_arch_text_size_kvs(w, p, &s, err);
    if (qk_hf_cfg_num(c, "rope_theta", &d)) rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)d, err);
    if (!qk_hf_cfg_num(c, "norm_eps", &d)) d = 1e-5;
    rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)d, err);
    if (p->n_expert) { /* TextModel's expert counts, then LFM2MoeModel's own keys */
        rc |= qk_arch_kv_u32(w, p, "expert_count", p->n_expert, err);
        rc |= qk_arch_kv_u32(w, p, "expert_used_count", (uint32_t)qk_hf_cfg_int_or(c, "num_experts_per_tok", 0), err);
    }
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    if (p->n_expert) {
        rc |= qk_arch_kv_u32(w, p, "expert_feed_forward_length",
                             (uint32_t)qk_hf_cfg_int_or(c, "moe_intermediate_size", 0), err);
        rc |= qk_arch_kv_u32(w, p, "leading_dense_block_count",
                             (uint32_t)qk_hf_cfg_int_or(c, "num_dense_layers", 0), err);
        rc |= qk_arch_kv_u32(w, p, "expert_gating_func", 2u, err); /* sigmoid */
    }
    if (p->vocab_size) rc |= qk_arch_kv_u32(w, p, "vocab_size", (uint32_t)p->vocab_size, err);
    rc |= qk_arch_kv_u32(w, p, "shortconv.l_cache", (uint32_t)l_cache, err);
    return rc ? QK_FAIL : QK_OK;
}

const qk_arch_desc qk_arch_family_lfm2[] = {
    {.hf = "Lfm2ForCausalLM", .gguf = "lfm2", .family = "LFM2 (dense hybrid)", .kv = QK_KV_OWN,
     .names = QK_N_LFM2 | QK_N_META_FFN, .rules = k_rules_lfm2, .required = k_req_lfm2,
     .defaults = k_lfm2_defaults,
     .check = lfm2_check, .write_kvs = lfm2_kvs, .output_norm = "token_embd_norm.weight"},
    /* the spelling LFM2Model also registers */
    {.hf = "LFM2ForCausalLM", .gguf = "lfm2", .family = "LFM2 (dense hybrid)", .kv = QK_KV_OWN,
     .names = QK_N_LFM2 | QK_N_META_FFN, .rules = k_rules_lfm2, .required = k_req_lfm2,
     .defaults = k_lfm2_defaults,
     .check = lfm2_check, .write_kvs = lfm2_kvs, .output_norm = "token_embd_norm.weight"},
    {.hf = "Lfm2MoeForCausalLM", .gguf = "lfm2moe", .family = "LFM2-MoE (sparse hybrid)", .kv = QK_KV_OWN,
     .names = QK_N_LFM2 | QK_N_META_FFN | QK_N_LFM2MOE, .rules = k_rules_lfm2,
     .required = k_req_lfm2moe,
     .experts = k_experts_lfm2moe, .n_expert_key = "num_experts", .n_used_key = "num_experts_per_tok",
     .n_dense_lead_key = "num_dense_layers", .defaults = k_lfm2moe_defaults, .check = lfm2_check,
     .write_kvs = lfm2_kvs, .output_norm = "token_embd_norm.weight"},
    {.hf = NULL},
};
