/* arch_deepseek.c - DeepseekV2ForCausalLM and DeepseekV3ForCausalLM ->
 * "deepseek2", as the pinned convert_hf_to_gguf.py's DeepseekV2Model writes
 * them:
 *   - MLA attention: self_attn.q_a_proj / q_a_layernorm / q_b_proj (or a
 *     plain q_proj) -> attn_q_a / attn_q_a_norm / attn_q_b (attn_q),
 *     kv_a_proj_with_mqa -> attn_kv_a_mqa, kv_a_layernorm -> attn_kv_a_norm,
 *     kv_b_proj [H * (nope + v), rank] split per head into attn_k_b
 *     [nope, rank, H] (k_b transposed) and attn_v_b [rank, v, H];
 *     head_count_kv 1 (MQA of the compressed kv); no Q/K permutation (the
 *     rope of HF's interleaved variant is llama.cpp's adjacent-pair rope);
 *   - the first first_k_dense_replace layers dense (mlp.{gate,up,down}_proj),
 *     the rest MoE: mlp.gate -> ffn_gate_inp, mlp.gate.e_score_correction_bias
 *     -> exp_probs_b.bias (V3), experts stacked, mlp.shared_experts.* ->
 *     ffn_*_shexp;
 *   - KVs: TextModel's (expert groups, gating function from scoring_func,
 *     YaRN) and DeepseekV2Model's (leading_dense_block_count, q/kv lora ranks,
 *     key/value lengths of the MQA and of MLA, expert_shared_count,
 *     expert_weights_scale = routed_scaling_factor, expert_weights_norm,
 *     rope.dimension_count = qk_rope_head_dim, yarn_log_multiplier =
 *     0.1 mscale_all_dim);
 *   - multi-token-prediction layers (model.layers.N with N >=
 *     num_hidden_layers) are left out, as the converter skips them, and
 *     counted in the plan's left-out list.
 * What llama.cpp's graph hard-codes and is refused otherwise: a q_lora rank
 * unless the layer count is one of its "lite" ones (26, 27); group-limited
 * routing as V3's sum of each group's top two (so V2's
 * "group_limited_greedy", a group maximum, only without a real group limit);
 * topk_group < n_group when n_group > 1; V2 with norm_topk_prob and a routed_scaling_factor
 * (V2 scales only weights it does not renormalise; llama.cpp always scales). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_priv.h"
#include "tensor_rows.h"

/* kv_b_proj: split into attn_k_b and attn_v_b */
static int deepseek_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                                 qk_conv_plan *p, qk_err *err) {
    if (strcmp(rest, "self_attn.kv_b_proj.weight")) return 0;
    const cJSON *c = ck->config;
    const int64_t nope = qk_hf_cfg_int_or(c, "qk_nope_head_dim", 0), v = qk_hf_cfg_int_or(c, "v_head_dim", 0), H = p->n_head;
    const qk_st_tensor *st = src->t;
    if (nope <= 0 || v <= 0)
        return qk_fail(err, "%s/config.json: qk_nope_head_dim / v_head_dim missing or not positive (MLA needs them)",
                       ck->dir);
    if (!qk_st_dtype_is_float(st->dtype) || st->n_dims != 2 || st->shape[0] != H * (nope + v))
        return qk_fail(err, "%s: '%s' is not a float [%lld heads x (%lld + %lld), kv_lora_rank] tensor", ck->dir,
                       st->name, (long long)H, (long long)nope, (long long)v);
    for (int k = 0; k < 2; k++) {
        qk_conv_tensor *t = &p->tensors[p->n_tensors++];
        snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, k ? "attn_v_b.weight" : "attn_k_b.weight");
        t->src = src, t->x3d = k ? QK_X3_MLA_VB : QK_X3_MLA_KB, t->x3d_part = (int)nope, t->x3d_stride = (int)v;
        t->n_dims = 3, t->ne[3] = 1, t->ne[2] = H;
        t->ne[0] = k ? st->shape[1] : nope, t->ne[1] = k ? v : st->shape[1];
        p->n_params += (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)H;
    }
    return 1;
}

int qk_arch_mla_rows(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, int64_t row0, int64_t nrows, float *dst,
                     qk_err *err) {
    const qk_st_tensor *st = t->src->t;
    const qk_st_file *f = ck->files[t->src->file];
    const int64_t nope = t->x3d_part, v = t->x3d_stride, rank = st->shape[1], ne0 = t->ne[0];
    if (t->x3d == QK_X3_MLA_VB) { /* row (h, j): source row h (nope + v) + nope + j */
        for (int64_t r = 0; r < nrows; r++) {
            const int64_t h = (row0 + r) / v, j = (row0 + r) % v;
            if (qk_st_read_f32(f, st, (uint64_t)((h * (nope + v) + nope + j) * rank), (uint64_t)rank, dst + r * ne0, err))
                return QK_FAIL;
        }
        return QK_OK;
    }
    /* attn_k_b row (h, c): element c of source rows h (nope + v) + j, j < nope; per head, its nope rows read once */
    float *buf = malloc((size_t)(nope * rank) * sizeof *buf);
    if (!buf) return qk_fail(err, "out of memory");
    int rc = QK_OK;
    int64_t have = -1;
    for (int64_t r = 0; rc == QK_OK && r < nrows; r++) {
        const int64_t h = (row0 + r) / rank, cidx = (row0 + r) % rank;
        if (h != have) {
            rc = qk_st_read_f32(f, st, (uint64_t)(h * (nope + v) * rank), (uint64_t)(nope * rank), buf, err);
            have = h;
        }
        for (int64_t j = 0; rc == QK_OK && j < nope; j++) dst[r * ne0 + j] = buf[j * rank + cidx];
    }
    free(buf);
    return rc;
}

static int deepseek_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    const cJSON *c = ck->config;
    int rc = QK_OK;
    int64_t v;
    /* TextModel's MoE keys beyond the counts */
    if (qk_hf_cfg_int(c, "n_group", &v)) rc |= qk_arch_kv_u32(w, p, "expert_group_count", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "topk_group", &v)) rc |= qk_arch_kv_u32(w, p, "expert_group_used_count", (uint32_t)v, err);
    const char *sf = qk_hf_cfg_str(c, "scoring_func");
    if (sf) rc |= qk_arch_kv_u32(w, p, "expert_gating_func", !strcmp(sf, "sigmoid") ? 2u : 1u, err);
    /* DeepseekV2Model.set_gguf_parameters */
    const bool moe = cJSON_GetObjectItemCaseSensitive(c, "n_routed_experts") != NULL;
    rc |= qk_arch_kv_u32(w, p, "leading_dense_block_count",
                         (uint32_t)qk_hf_cfg_int_or(c, "first_k_dense_replace", moe ? 0 : p->n_layer), err);
    const int64_t kv_lora = qk_hf_cfg_int_or(c, "kv_lora_rank", 512), rope = qk_hf_cfg_int_or(c, "qk_rope_head_dim", 0),
                  nope = qk_hf_cfg_int_or(c, "qk_nope_head_dim", 0), vd = qk_hf_cfg_int_or(c, "v_head_dim", 0);
    if (qk_hf_cfg_int(c, "q_lora_rank", &v)) rc |= qk_arch_kv_u32(w, p, "attention.q_lora_rank", (uint32_t)v, err);
    rc |= qk_arch_kv_u32(w, p, "attention.kv_lora_rank", (uint32_t)kv_lora, err);
    rc |= qk_arch_kv_u32(w, p, "attention.key_length", (uint32_t)(kv_lora + rope), err);
    rc |= qk_arch_kv_u32(w, p, "attention.value_length", (uint32_t)kv_lora, err);
    rc |= qk_arch_kv_u32(w, p, "attention.key_length_mla", (uint32_t)(nope + rope), err);
    rc |= qk_arch_kv_u32(w, p, "attention.value_length_mla", (uint32_t)vd, err);
    int64_t ff = qk_hf_cfg_int_or(c, "moe_intermediate_size", qk_hf_cfg_int_or(c, "intermediate_size", 0));
    rc |= qk_arch_kv_u32(w, p, "expert_feed_forward_length", (uint32_t)ff, err);
    rc |= qk_arch_kv_u32(w, p, "expert_shared_count", (uint32_t)qk_hf_cfg_int_or(c, "n_shared_experts", 0), err);
    double d;
    if (qk_hf_cfg_num(c, "routed_scaling_factor", &d)) rc |= qk_arch_kv_f32(w, p, "expert_weights_scale", (float)d, err);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob")))
        rc |= qk_arch_kv_bool(w, p, "expert_weights_norm", true, err);
    rc |= qk_arch_kv_u32(w, p, "rope.dimension_count", (uint32_t)rope, err);
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    if (rv.full && qk_hf_cfg_num(rv.full, "mscale_all_dim", &d))
        rc |= qk_arch_kv_f32(w, p, "rope.scaling.yarn_log_multiplier", (float)(0.1 * d), err);
    return rc ? QK_FAIL : QK_OK;
}

static int deepseek_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    static const char *const need[] = {"qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "n_routed_experts",
                                       "moe_intermediate_size"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        int64_t v;
        if (!qk_hf_cfg_int(c, need[i], &v) || v <= 0)
            return qk_fail(err, "%s/config.json: '%s' is missing or not a positive integer (%s needs it)", ck->dir,
                           need[i], p->hf_arch);
    }
    const cJSON *ql = cJSON_GetObjectItemCaseSensitive(c, "q_lora_rank");
    const bool lite = p->n_layer == 26 || p->n_layer == 27;
    if ((!ql || cJSON_IsNull(ql)) && !lite)
        return qk_fail(err, "%s/config.json: q_lora_rank is null (a plain q_proj), but llama.cpp's deepseek2 reads a "
                            "q_lora rank for every model but its \"lite\" ones (26 or 27 layers; this one has %u)",
                       ck->dir, p->n_layer);
    const int64_t ng = qk_hf_cfg_int_or(c, "n_group", 1), tg = qk_hf_cfg_int_or(c, "topk_group", ng);
    if (ng > 1) {
        if (tg >= ng)
            return qk_fail(err, "%s/config.json: topk_group %lld of n_group %lld: llama.cpp's deepseek2 needs fewer "
                                "groups used than groups", ck->dir, (long long)tg, (long long)ng);
        const char *tm = qk_hf_cfg_str(c, "topk_method");
        if (tm && strcmp(tm, "noaux_tc"))
            return qk_fail(err, "%s/config.json: topk_method '%s' with %lld groups: llama.cpp's deepseek2 ranks groups "
                                "by the sum of their top two scores (V3's noaux_tc), not by their maximum", ck->dir, tm,
                           (long long)ng);
        if (p->n_expert % ng)
            return qk_fail(err, "%s/config.json: %u experts do not split into n_group %lld groups", ck->dir, p->n_expert,
                           (long long)ng);
    }
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    if (rv.type && !strcmp(rv.type, "yarn")) {
        double ms = 0, ma = 0;
        const bool has_ms = qk_hf_cfg_num(rv.full, "mscale", &ms), has_ma = qk_hf_cfg_num(rv.full, "mscale_all_dim", &ma);
        if (has_ms && ms != 0 && (!has_ma || ma != ms))
            return qk_fail(err, "%s/config.json: yarn mscale %g with mscale_all_dim %g: llama.cpp's deepseek2 takes "
                                "mscale equal to mscale_all_dim (its rope attention factor is then 1)", ck->dir, ms, ma);
        static const char *const unsupported[] = {"attention_factor", "extrapolation_factor"};
        for (size_t k = 0; k < 2; k++)
            if (cJSON_GetObjectItemCaseSensitive(rv.full, unsupported[k]))
                return qk_fail(err, "%s/config.json: yarn rope scaling with %s: not reproduced by llama.cpp's deepseek2",
                               ck->dir, unsupported[k]);
    }
    double rsf = 1;
    if (!strcmp(p->hf_arch, "DeepseekV2ForCausalLM") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob")) &&
        qk_hf_cfg_num(c, "routed_scaling_factor", &rsf) && rsf != 1.0)
        return qk_fail(err, "%s/config.json: norm_topk_prob with routed_scaling_factor %g: DeepSeek-V2 scales only "
                            "weights it does not renormalise, llama.cpp's deepseek2 scales them always", ck->dir, rsf);
    const char *sf = qk_hf_cfg_str(c, "scoring_func");
    if (sf && strcmp(sf, "sigmoid") && strcmp(sf, "softmax"))
        return qk_fail(err, "%s/config.json: scoring_func '%s' is not supported (sigmoid, softmax are)", ck->dir, sf);
    /* each layer: dense before first_k_dense_replace, MoE with shared experts after */
    const int64_t lead = qk_hf_cfg_int_or(c, "first_k_dense_replace", 0), shared = qk_hf_cfg_int_or(c, "n_shared_experts", 0);
    for (uint32_t l = 0; l < p->n_layer; l++) {
        static const char *const sparse[] = {"ffn_gate_inp.weight", "ffn_gate_shexp.weight", "ffn_up_shexp.weight",
                                             "ffn_down_shexp.weight"};
        if (qk_arch_moe_layer_check(ck, p, l, lead, sparse, shared > 0 ? 4u : 1u, "dense: first_k_dense_replace", err))
            return QK_FAIL;
        const char *q = ql && !cJSON_IsNull(ql) ? "attn_q_b.weight" : "attn_q.weight";
        if (!qk_plan_layer_tensor(p, l, q)) return qk_fail(err, "%s: layer %u lacks blk.%u.%s", ck->dir, l, l, q);
    }
    return QK_OK;
}

/* MLA's projections are QK_N_DEEPSEEK's names; separate k / v projections are not MLA */
static const qk_name_rule k_rules_deepseek[] = {
    {"self_attn.k_proj.weight", NULL, 0},
    {"self_attn.v_proj.weight", NULL, 0},
    {NULL, NULL, 0},
};

static const char *const k_req_deepseek[] = {"attn_norm.weight", "ffn_norm.weight", "attn_kv_a_mqa.weight",
                                             "attn_kv_a_norm.weight", "attn_k_b.weight", "attn_v_b.weight",
                                             "attn_output.weight", NULL};

static const qk_cfg_default k_defaults_deepseek[] = {{"rms_norm_eps", "1e-6"}, {NULL, NULL}};

#define DEEPSEEK(cls, fam)                                                                                         \
    {.hf = cls, .gguf = "deepseek2", .family = fam, .flags = QK_A_ROPE_YARN | QK_A_MLA | QK_A_MTP_LEFT_OUT,        \
     .kv = QK_KV_LLAMA, .rules = k_rules_deepseek,                                                                 \
     .names = QK_N_DEEPSEEK | QK_N_SCORE_BIAS | QK_N_ROUTER | QK_N_SHARED_EXPERTS,                                 \
     .required = k_req_deepseek, .experts = qk_experts_mlp, .n_expert_key = "n_routed_experts",                    \
     .n_used_key = "num_experts_per_tok", .defaults = k_defaults_deepseek, .check = deepseek_check,                \
     .layer_tensor = deepseek_layer_tensor, .extra_kvs = deepseek_kvs, .n_dense_lead_key = "first_k_dense_replace"}

const qk_arch_desc qk_arch_family_deepseek[] = {
    DEEPSEEK("DeepseekV2ForCausalLM", "DeepSeek-V2 / V2.5 (MLA, MoE)"),
    DEEPSEEK("DeepseekV3ForCausalLM", "DeepSeek-V3 / R1, Kimi K2 (MLA, MoE; MTP layers left out)"),
    {.hf = NULL},
};
