/* arch_jamba.c - AI21's Jamba (JambaForCausalLM: Jamba v0.1, Jamba 1.5 / 1.6 Mini and Large, Jamba Reasoning) ->
 * "jamba", as the pinned converter's JambaModel (conversion/jamba.py) writes it:
 *   layers are Mamba-1 mixers (mamba.*, arch_mamba1.c, with the RMS norms on dt, B and C: dt_layernorm /
 *   b_layernorm / c_layernorm -> ssm_dt_norm / ssm_b_norm / ssm_c_norm) or, every attn_layer_period layers from
 *   attn_layer_offset, attention without rope (self_attn.q/k/v/o_proj, not permuted); every layer has an MLP
 *   (feed_forward.gate/up/down_proj), a mixture of experts every expert_layer_period layers from
 *   expert_layer_offset (router feed_forward.router -> ffn_gate_inp, feed_forward.experts.E.* stacked into
 *   ffn_{gate,up,down}_exps); input_layernorm -> attn_norm, pre_ff_layernorm -> ffn_norm, model.final_layernorm
 *   -> output_norm.
 * KVs (JambaModel.set_gguf_parameters, in its order): block_count, context_length, embedding_length,
 *   feed_forward_length, head_count, head_count_kv per layer (the kv heads on attention layers, 0 on Mamba ones),
 *   ssm.conv_kernel / inner_size (mamba_expand x hidden) / state_size / time_step_rank (mamba_dt_rank, "auto" or
 *   absent: ceil(hidden / 16)), the RMS epsilon (else 1e-6), expert_count, expert_used_count, the file type.
 * llama.cpp's graph computes transformers' JambaForCausalLM: no positional encoding, softmax routing over every
 * expert with the top k taken without renormalising.
 * Refused: offsets not below their periods (the converter's and transformers' layer patterns would differ), in /
 * out projection biases (mamba_proj_bias), no conv bias (mamba_conv_bias false: llama.cpp needs it), Mini-Jamba's
 * "moe." names, a sliding window (llama.cpp's jamba attends to everything). */
#include <math.h>
#include <string.h>

#include "arch_priv.h"

static int jamba_dims(const qk_hf_checkpoint *ck, qk_mamba1_dims *d, qk_err *err) {
    const cJSON *c = ck->config;
    int64_t expand = 0;
    if (!qk_hf_cfg_int(c, "hidden_size", &d->d_model) || !qk_hf_cfg_int(c, "mamba_expand", &expand) || expand <= 0 ||
        expand > 64)
        return qk_fail(err, "%s/config.json: 'hidden_size' and 'mamba_expand' should be positive integers", ck->dir);
    d->d_inner = expand * d->d_model;
    d->d_conv = qk_hf_cfg_int_or(c, "mamba_d_conv", 0);
    if (!d->d_conv) d->d_conv = 4;
    d->d_state = qk_hf_cfg_int_or(c, "mamba_d_state", 0);
    if (!d->d_state) d->d_state = 16;
    /* JambaConfig resolves "auto" to ceil(hidden / 16), as the converter's fallback does */
    d->dt_rank = qk_hf_cfg_int_or(c, "mamba_dt_rank", 0);
    if (!d->dt_rank) d->dt_rank = (d->d_model + 15) / 16;
    return qk_mamba1_dims_check(ck, d, err);
}

/* layer l's kind by the converter's pattern: attention (a) and experts (e) from their offsets every period */
static void jamba_layer(const cJSON *c, uint32_t l, bool *attn, bool *moe) {
    const int64_t ao = qk_hf_cfg_int_or(c, "attn_layer_offset", 0), ap = qk_hf_cfg_int_or(c, "attn_layer_period", 1);
    const int64_t eo = qk_hf_cfg_int_or(c, "expert_layer_offset", 0), ep = qk_hf_cfg_int_or(c, "expert_layer_period", 1);
    *attn = (int64_t)l >= ao && ((int64_t)l - ao) % ap == 0;
    *moe = qk_hf_cfg_int_or(c, "num_experts", 1) > 1 && (int64_t)l >= eo && ((int64_t)l - eo) % ep == 0;
}

static int jamba_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                              qk_conv_plan *p, qk_err *err) {
    if (!strncmp(rest, "moe.", 4))
        return qk_fail(err, "%s: tensor '%s' is Mini-Jamba's layout ('moe.'), which is not supported", ck->dir,
                       src->t->name);
    (void)layer, (void)p;
    return 0; /* the mixer: k_jamba_mixer; attention, norms, MLPs and experts: the names */
}
static const qk_ssm_mixer k_jamba_mixer = {.prefix = "mamba.", .dims1 = jamba_dims, .norms = true};

static const char *const k_req_attn[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                         NULL};
static const char *const k_req_mamba[] = {"ssm_in.weight", "ssm_conv1d.weight", "ssm_conv1d.bias", "ssm_x.weight",
                                          "ssm_dt_norm.weight", "ssm_dt.weight", "ssm_dt.bias", "ssm_b_norm.weight",
                                          "ssm_c_norm.weight", "ssm_a", "ssm_d", "ssm_out.weight", NULL};
static const char *const k_req_moe[] = {"ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight",
                                        "ffn_down_exps.weight", NULL};

static int jamba_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    qk_mamba1_dims d;
    if (jamba_dims(ck, &d, err)) return QK_FAIL;
    static const char *const pairs[][2] = {{"attn_layer_offset", "attn_layer_period"},
                                           {"expert_layer_offset", "expert_layer_period"}};
    for (int i = 0; i < 2; i++) {
        int64_t o, per;
        if (!qk_hf_cfg_int(c, pairs[i][0], &o) || !qk_hf_cfg_int(c, pairs[i][1], &per) || o < 0 || per < 1 || o >= per)
            return qk_fail(err, "%s/config.json: '%s' should be an integer below '%s' (a positive integer): "
                                "transformers and the converter place those layers differently otherwise",
                           ck->dir, pairs[i][0], pairs[i][1]);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "mamba_proj_bias")))
        return qk_fail(err, "%s/config.json: mamba_proj_bias is true: llama.cpp's jamba has no in/out projection "
                            "biases", ck->dir);
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "mamba_conv_bias")))
        return qk_fail(err, "%s/config.json: mamba_conv_bias is false: llama.cpp's jamba needs the conv1d bias",
                       ck->dir);
    int64_t sw = 0;
    if (qk_hf_cfg_int(c, "sliding_window", &sw) && sw > 0)
        return qk_fail(err, "%s/config.json: sliding_window %lld: llama.cpp's jamba attends to every position", ck->dir,
                       (long long)sw);
    for (uint32_t l = 0; l < p->n_layer; l++) {
        bool attn, moe;
        jamba_layer(c, l, &attn, &moe);
        const char *miss = qk_plan_layer_missing(p, l, attn ? k_req_attn : k_req_mamba, SIZE_MAX);
        if (!miss) miss = qk_plan_layer_missing(p, l, moe ? k_req_moe : qk_req_dense_ffn, SIZE_MAX);
        if (miss)
            return qk_fail(err, "%s: layer %u (%s, %s) lacks the tensor for blk.%u.%s", ck->dir, l,
                           attn ? "attention" : "Mamba", moe ? "experts" : "dense MLP", l, miss);
        const char *extra = qk_plan_layer_extra(p, l, attn ? k_req_mamba : k_req_attn, SIZE_MAX);
        if (!extra) extra = qk_plan_layer_extra(p, l, moe ? qk_req_dense_ffn : k_req_moe, SIZE_MAX);
        if (extra)
            return qk_fail(err, "%s: layer %u is %s with %s by the config's offsets and periods, but has a tensor for "
                                "blk.%u.%s", ck->dir, l, attn ? "attention" : "Mamba",
                           moe ? "experts" : "a dense MLP", l, extra);
    }
    return QK_OK;
}

static int jamba_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                     qk_err *err) {
    const cJSON *c = ck->config;
    qk_mamba1_dims d;
    if (jamba_dims(ck, &d, err)) return QK_FAIL;
    int32_t kv[1024];
    if (p->n_layer > 1024) return qk_fail(err, "%s/config.json: more than 1024 layers", ck->dir);
    for (uint32_t l = 0; l < p->n_layer; l++) {
        bool attn, moe;
        jamba_layer(c, l, &attn, &moe);
        kv[l] = attn ? (int32_t)p->n_head_kv : 0;
    }
    double eps;
    if (!qk_hf_cfg_num(c, "layer_norm_epsilon", &eps) && !qk_hf_cfg_num(c, "rms_norm_eps", &eps)) eps = 1e-6;
    int64_t ctx = 0;
    if (!qk_hf_cfg_int(c, "max_position_embeddings", &ctx) && !qk_hf_cfg_int(c, "n_ctx", &ctx))
        return qk_fail(err, "%s/config.json: no 'max_position_embeddings'", ck->dir);
    const qk_text_sizes s = {.n_ctx = ctx, .n_embd = d.d_model, .n_ff = qk_hf_cfg_int_or(c, "intermediate_size", 0),
                             .head_count_kv = kv};
    int rc = qk_arch_text_size_kvs(w, p, &s, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.conv_kernel", (uint32_t)d.d_conv, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.inner_size", (uint32_t)d.d_inner, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.state_size", (uint32_t)d.d_state, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.time_step_rank", (uint32_t)d.dt_rank, err);
    rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)eps, err);
    rc |= qk_arch_kv_u32(w, p, "expert_count", (uint32_t)qk_hf_cfg_int_or(c, "num_experts", 1), err);
    rc |= qk_arch_kv_u32(w, p, "expert_used_count", (uint32_t)qk_hf_cfg_int_or(c, "num_experts_per_tok", 1),
                                 err);
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    return rc ? QK_FAIL : QK_OK;
}

static const qk_expert_rule k_experts_jamba[] = {QK_EXPERTS_GATE_UP_DOWN("feed_forward.experts."), {NULL, NULL, NULL}};
static const char *const k_req_jamba[] = {"attn_norm.weight", "ffn_norm.weight", NULL};
/* JambaConfig's defaults (AutoConfig fills them in for the converter) */
static const qk_cfg_default k_defaults_jamba[] = {
    {"num_experts", "16"},          {"num_experts_per_tok", "2"},  {"expert_layer_period", "2"},
    {"expert_layer_offset", "1"},   {"attn_layer_period", "8"},    {"attn_layer_offset", "4"},
    {"mamba_d_state", "16"},        {"mamba_d_conv", "4"},         {"mamba_expand", "2"},
    {"mamba_conv_bias", "true"},    {"mamba_proj_bias", "false"},  {"rms_norm_eps", "1e-6"},
    {"max_position_embeddings", "262144"},
    {NULL, NULL},
};

const qk_arch_desc qk_arch_family_jamba[] = {
    {.hf = "JambaForCausalLM", .gguf = "jamba", .family = "Jamba (Mamba-1 / attention hybrid, MoE)",
     .flags = QK_A_EXPERTS_OPTIONAL | QK_A_EXPERT_LAYERS_OWN, .kv = QK_KV_OWN,
     .names = QK_N_JAMBA | QK_N_FFN_PROJ, .required = k_req_jamba,
     .experts = k_experts_jamba, .n_expert_key = "num_experts", .n_used_key = "num_experts_per_tok", .defaults = k_defaults_jamba, .check = jamba_check,
     .write_kvs = jamba_kvs, .layer_tensor = jamba_layer_tensor, .ssm = &k_jamba_mixer},
    {.hf = NULL},
};
