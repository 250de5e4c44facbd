/* arch_nemotronh.c - NVIDIA Nemotron-H (NemotronHForCausalLM, model_type nemotron_h: Nemotron-H 8B / 47B / 56B,
 * Nemotron Nano 2 9B / 12B; with num_experts_per_tok Nemotron 3 Nano) as NemotronHModel (conversion/nemotron.py,
 * derived from GraniteHybridModel) writes it: llama.cpp's "nemotron_h" ("nemotron_h_moe" with experts), one mixer
 * per layer as config.json's hybrid_override_pattern spells it ("M" Mamba-2, "*" attention without rope, "-" a
 * squared-ReLU MLP, "E" for the MoE models instead: experts), each behind its RMS norm, with a residual.
 *
 * Tensors (layer prefix backbone.layers.N.): norm -> attn_norm (every layer); "M": the Mamba-2 mixer
 *   (arch_mamba2.c: in_proj, conv1d squeezed, dt_bias, A_log -> -exp, D, norm grouped by n_groups, out_proj);
 *   "*": mixer.q/k/v/o_proj -> attn_q/k/v/output, q and k un-permuted as LlamaModel does (undo_permute, inherited:
 *   with no rope it leaves q.k unchanged); "-": mixer.up_proj -> ffn_up, mixer.down_proj -> ffn_down; "E":
 *   mixer.gate -> ffn_gate_inp, its e_score_correction_bias -> exp_probs_b.bias, mixer.experts.N.up_proj /
 *   down_proj stacked -> ffn_up_exps / ffn_down_exps, mixer.shared_experts.up_proj / down_proj -> ffn_*_shexp;
 *   backbone.embeddings -> token_embd, backbone.norm_f -> output_norm, lm_head -> output.
 * KVs, in the converter's order: TextModel's (block_count, context_length, embedding_length, feed_forward_length,
 *   head_count, head_count_kv, rope.freq_base when given, the RMS and the plain norm epsilons, the expert, used,
 *   group and group-used counts when given, the file type; no key_length there: GraniteModel pops head_dim),
 *   LlamaModel's vocab_size and rope.dimension_count (hidden / heads), the five ssm.* sizes (d_inner =
 *   mamba_num_heads x mamba_head_dim), rope.scaling.finetuned false, then NemotronHModel's key_length / value_length
 *   (head_dim, else attention_head_dim) and for the MoE expert_feed_forward_length, expert_shared_feed_forward_length,
 *   expert_shared_count, expert_weights_norm, expert_weights_scale; in place: head_count_kv and feed_forward_length
 *   as per-layer arrays (0 where the layer has none: how llama.cpp tells the layer kinds; intermediate_size, or
 *   moe_intermediate_size on "E") and context_length 2^20.
 * Refused by name: a layers_block_type list instead of the pattern, a pattern without a Mamba layer (the converter
 *   switches to granite), activations other than relu2 / silu, a time_step_limit that clamps dt (llama.cpp does
 *   not), an RMS epsilon (rms_norm_eps, else norm_eps, as TextModel finds it) missing or unlike layer_norm_epsilon
 *   (HF's norms use the latter, llama.cpp's the former), Granite's multipliers, a vocab_size not a multiple of 8
 *   (the converter pads it), an inner size not a multiple of 64 (the converter's own assertion); for the MoE an MTP
 *   block (num_nextn_predict_layers), latent expert projections (moe_latent_size, Nemotron 3 Super), expert groups
 *   other than 1 and a score function key (not supported yet). */
#include <stdio.h>
#include <string.h>

#include "arch_priv.h"

static const char *const k_req_nh[] = {"attn_norm.weight", NULL};
static const char *const k_req_m[] = {"ssm_in.weight", "ssm_conv1d.weight", "ssm_conv1d.bias", "ssm_dt.bias", "ssm_a",
                                      "ssm_d",         "ssm_norm.weight",   "ssm_out.weight",  NULL};
static const char *const k_req_a[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", NULL};
static const char *const k_req_f[] = {"ffn_up.weight", "ffn_down.weight", NULL};
static const char *const k_req_e[] = {"ffn_gate_inp.weight", "exp_probs_b.bias",     "ffn_up_exps.weight",
                                      "ffn_down_exps.weight", "ffn_up_shexp.weight", "ffn_down_shexp.weight", NULL};

static const qk_expert_rule k_experts_nh[] = {
    {"mixer.experts.", ".up_proj.weight", "ffn_up_exps.weight"},
    {"mixer.experts.", ".down_proj.weight", "ffn_down_exps.weight"},
    {NULL, NULL, NULL},
};
/* NemotronHModel.__init__: head_dim, else attention_head_dim (Nemotron-H 8B's config) */
static const qk_cfg_alias k_alias_nh[] = {{"head_dim", "attention_head_dim"}, {NULL, NULL}};

/* kind_of's failure: qk_fail has set err */
static char no_kind(int rc) {
    (void)rc;
    return 0;
}

/* NemotronHModel.__init__: num_experts_per_tok makes the model nemotron_h_moe */
static bool is_moe(const cJSON *cfg) { return cJSON_GetObjectItemCaseSensitive(cfg, "num_experts_per_tok") != NULL; }
static const char *nh_arch_of(const cJSON *cfg) { return is_moe(cfg) ? "nemotron_h_moe" : "nemotron_h"; }

/* the layer's letter in hybrid_override_pattern ('M', '*', and '-' for nemotron_h or 'E' for nemotron_h_moe: the
 * converter's MLP layers); 0 with err set otherwise */
static char kind_of(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t il, qk_err *err) {
    const char *pat = qk_hf_cfg_str(ck->config, "hybrid_override_pattern");
    if (!pat && cJSON_GetObjectItemCaseSensitive(ck->config, "layers_block_type"))
        return no_kind(qk_fail(err, "%s/config.json: layers_block_type without hybrid_override_pattern (Nemotron 3's "
                                  "list form) is not supported yet", ck->dir));
    if (!pat || strlen(pat) != p->n_layer)
        return no_kind(qk_fail(err, "%s/config.json: 'hybrid_override_pattern' should spell the %u layers ('M' "
                                  "Mamba-2, '*' attention, '-' MLP)", ck->dir, p->n_layer));
    const char c = pat[il], mlp = is_moe(ck->config) ? 'E' : '-';
    if (c != 'M' && c != '*' && c != mlp)
        return no_kind(qk_fail(err, "%s/config.json: hybrid_override_pattern[%u] is '%c', expected 'M', '*' or '%c' "
                                  "(%s)", ck->dir, il, c, mlp, mlp == 'E' ? "num_experts_per_tok is set: MoE layers"
                                                                          : "no num_experts_per_tok: MLP layers"));
    return c;
}

/* the Mamba-2 sizes (d_inner = mamba_num_heads x mamba_head_dim), and GraniteHybridModel's assertion on them */
static int nh_dims(const qk_hf_checkpoint *ck, qk_mamba2_dims *d, qk_err *err) {
    if (qk_mamba2_dims_of(ck, true, d, err)) return QK_FAIL;
    const int64_t d_head = d->d_head ? d->d_head : 64;
    if (d->d_inner % d_head)
        return qk_fail(err, "%s/config.json: the SSM inner size %lld is not a multiple of the head dim %lld (the "
                            "converter asserts it)", ck->dir, (long long)d->d_inner, (long long)d_head);
    return QK_OK;
}

static int nh_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                           qk_conv_plan *p, qk_err *err) {
    if (strncmp(rest, "mixer.", 6)) return 0;
    const char k = kind_of(ck, p, (uint32_t)layer, err);
    if (!k) return QK_FAIL;
    /* an attention, MLP or MoE mixer's name (QK_N_NEMOTRONH's rows of the shared map) */
    const bool named = qk_tensor_map_find(qk_layer_names, QK_N_NEMOTRONH, false, rest) != NULL;
    if ((k == 'M') == (named || !strncmp(rest, "mixer.experts.", 14)))
        return qk_fail(err, "%s: layer %d is '%c' in hybrid_override_pattern, but has the tensor '%s'", ck->dir, layer,
                       k, src->t->name);
    if (k != 'M') return 0; /* the rules (and the experts' stacking) map it; the check sees it is of its kind */
    qk_mamba2_dims d;
    if (nh_dims(ck, &d, err)) return QK_FAIL;
    return qk_mamba2_tensor(ck, src, layer, rest + 6, &d, p, err);
}

/* TextModel's find_hparam (with GraniteHybridModel's "mamba_" prefix) of a number: the RMS epsilon (rms) from
 * rms_norm_eps / norm_eps, else the plain one from layer_norm_eps / layer_norm_epsilon / norm_epsilon */
static bool nh_eps(const cJSON *c, bool rms, double *v) {
    static const char *const k_rms[] = {"rms_norm_eps", "norm_eps", NULL};
    static const char *const k_ln[] = {"layer_norm_eps", "layer_norm_epsilon", "norm_epsilon", NULL};
    for (int pass = 0; pass < 2; pass++)
        for (const char *const *k = rms ? k_rms : k_ln; *k; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", pass ? "mamba_" : "", *k);
            if (cJSON_GetObjectItemCaseSensitive(c, name)) return qk_hf_cfg_num(c, name, v);
        }
    return false;
}

/* what nemotron_h_moe needs of the config: the keys NemotronHModel reads, and what llama.cpp computes as Hugging
 * Face does (sigmoid routing, no latent projection, one expert group, no MTP block) */
static int moe_check(const qk_hf_checkpoint *ck, qk_err *err) {
    const cJSON *c = ck->config;
    static const char *const need[] = {"moe_intermediate_size", "moe_shared_expert_intermediate_size",
                                       "n_routed_experts",      "n_shared_experts",
                                       "n_group",               "routed_scaling_factor"};
    double v = 0;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!qk_hf_cfg_num(c, need[i], &v) || v <= 0)
            return qk_fail(err, "%s/config.json: '%s' should be a positive number (NemotronHModel reads it)", ck->dir,
                           need[i]);
    if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob")))
        return qk_fail(err, "%s/config.json: 'norm_topk_prob' should be true or false (NemotronHModel reads it)",
                       ck->dir);
    if (qk_hf_cfg_num(c, "num_nextn_predict_layers", &v) && v > 0)
        return qk_fail(err, "%s/config.json: num_nextn_predict_layers %g: the converter appends the multi-token-"
                            "prediction block as a layer of its own (not supported yet)", ck->dir, v);
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c, "moe_latent_size");
    if (lat && !cJSON_IsNull(lat))
        return qk_fail(err, "%s/config.json: moe_latent_size (Nemotron 3 Super's latent expert projections) is not "
                            "supported yet", ck->dir);
    if (!qk_hf_cfg_num(c, "n_group", &v) || v != 1 || (qk_hf_cfg_num(c, "topk_group", &v) && v != 1))
        return qk_fail(err, "%s/config.json: n_group / topk_group other than 1 (group-limited routing) is not "
                            "supported yet", ck->dir);
    static const char *const score_keys[] = {"score_function", "scoring_func", "score_func"};
    for (size_t i = 0; i < sizeof score_keys / sizeof score_keys[0]; i++) {
        const char *f = qk_hf_cfg_str(c, score_keys[i]);
        if (f && strcmp(f, "sigmoid"))
            return qk_fail(err, "%s/config.json: %s '%s': llama.cpp's nemotron_h_moe routes by sigmoid", ck->dir,
                           score_keys[i], f);
        if (f) return qk_fail(err, "%s/config.json: '%s' is not supported yet (the converter writes it as a KV)",
                              ck->dir, score_keys[i]);
    }
    return QK_OK;
}

static int nh_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    if (is_moe(c) && moe_check(ck, err)) return QK_FAIL;
    qk_mamba2_dims d;
    if (nh_dims(ck, &d, err)) return QK_FAIL;
    const char *act = qk_hf_cfg_str(c, "mlp_hidden_act"), *mact = qk_hf_cfg_str(c, "mamba_hidden_act");
    if ((act && strcmp(act, "relu2")) || (mact && strcmp(mact, "silu")))
        return qk_fail(err, "%s/config.json: mlp_hidden_act '%s' / mamba_hidden_act '%s': llama.cpp's nemotron_h runs "
                            "relu2 / silu", ck->dir, act ? act : "relu2", mact ? mact : "silu");
    if (qk_mamba2_check_dt_limit(ck, err)) return QK_FAIL;
    double rms = 0, ln = 0;
    if (!nh_eps(c, true, &rms) || !nh_eps(c, false, &ln) || rms != ln)
        return qk_fail(err, "%s/config.json: rms_norm_eps (or norm_eps) should equal layer_norm_epsilon: Hugging "
                            "Face's norms use the latter, llama.cpp's nemotron_h the former (the only one it reads)",
                       ck->dir);
    static const char *const granite_only[] = {"attention_multiplier", "embedding_multiplier", "residual_multiplier",
                                               "logits_scaling", "shared_intermediate_size", "attn_rotary_emb"};
    for (size_t i = 0; i < sizeof granite_only / sizeof granite_only[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(c, granite_only[i]))
            return qk_fail(err, "%s/config.json: '%s' is a Granite key, which the converter would write for "
                                "nemotron_h (not supported)", ck->dir, granite_only[i]);
    int64_t vocab = 0, ff = 0, nkv = 0, hd = 0;
    if (!qk_hf_cfg_int(c, "vocab_size", &vocab) || vocab <= 0 || vocab % 8)
        return qk_fail(err, "%s/config.json: vocab_size %lld is not a multiple of 8, to which the converter pads the "
                            "vocabulary (not supported)", ck->dir, (long long)vocab);
    if ((!is_moe(c) && (!qk_hf_cfg_int(c, "intermediate_size", &ff) || ff <= 0)) ||
        !qk_hf_cfg_int(c, "num_key_value_heads", &nkv) || nkv <= 0 || !qk_hf_cfg_int(c, "head_dim", &hd) || hd <= 0)
        return qk_fail(err, "%s/config.json: intermediate_size (without experts), num_key_value_heads and head_dim (or "
                            "attention_head_dim) should be positive integers", ck->dir);
    bool any_m = false;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const char k = kind_of(ck, p, l, err);
        if (!k) return QK_FAIL;
        any_m |= k == 'M';
        const char *const *all[4] = {k_req_m, k_req_a, k_req_f, k_req_e};
        const int mine = k == 'M' ? 0 : k == '*' ? 1 : k == '-' ? 2 : 3;
        const char *miss = qk_plan_layer_missing(p, l, all[mine], SIZE_MAX);
        if (miss) return qk_fail(err, "%s: layer %u ('%c') lacks the tensor for blk.%u.%s", ck->dir, l, k, l, miss);
        for (int o = 0; o < 4; o++) {
            const char *extra = o == mine ? NULL : qk_plan_layer_extra(p, l, all[o], SIZE_MAX);
            if (extra)
                return qk_fail(err, "%s: layer %u ('%c' in hybrid_override_pattern) has a tensor for blk.%u.%s",
                               ck->dir, l, k, l, extra);
        }
    }
    if (!any_m)
        return qk_fail(err, "%s/config.json: no Mamba layer in hybrid_override_pattern: the converter writes such a "
                            "model as llama.cpp's granite (not supported)", ck->dir);
    return QK_OK;
}

/* a u32 / f32 / bool KV "<arch>.<suffix>" of the config number at key (absent: nothing) */
static int kv_num(qk_gguf_writer *w, const qk_conv_plan *p, const cJSON *c, const char *key, const char *suffix,
                  char type, qk_err *err) {
    double v;
    if (!qk_hf_cfg_num(c, key, &v) && !(type == 'b' && cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(c, key))))
        return QK_OK;
    if (type == 'b') return qk_arch_kv_bool(w, p, suffix, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, key)), err);
    return type == 'f' ? qk_arch_kv_f32(w, p, suffix, (float)v, err)
                       : qk_arch_kv_u32(w, p, suffix, (uint32_t)v, err);
}

static int nh_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                  qk_err *err) {
    const cJSON *c = ck->config;
    const bool moe = is_moe(c);
    qk_mamba2_dims d;
    if (nh_dims(ck, &d, err)) return QK_FAIL;
    if (p->n_layer > 1024) return qk_fail(err, "%s/config.json: more than 1024 layers", ck->dir);
    int64_t ff = 0, hd = 0;
    qk_hf_cfg_int(c, moe ? "moe_intermediate_size" : "intermediate_size", &ff);
    qk_hf_cfg_int(c, "head_dim", &hd);
    int32_t kv[1024], ffl[1024];
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const char k = kind_of(ck, p, i, err);
        if (!k) return QK_FAIL;
        kv[i] = k == '*' ? (int32_t)p->n_head_kv : 0, ffl[i] = k == '-' || k == 'E' ? (int32_t)ff : 0;
    }
    /* TextModel wrote a feed_forward_length where NemotronHModel's array overwrites it, when the config has one */
    static const char *const k_ff[] = {"prefix_dense_intermediate_size", "dense_intermediate_size",
                                       "intermediate_size", "n_inner", "hidden_dim", NULL};
    int64_t any = 0;
    const bool ff_early = qk_mamba2_hparam(c, k_ff, &any);
    double x;
    /* TextModel's; context_length overwritten in place with 2^20: no rope */
    const qk_text_sizes s = {.n_ctx = 1 << 20, .n_embd = d.n_embd, .n_ff = QK_KV_ABSENT,
                             .ff_per_layer = ff_early ? ffl : NULL, .head_count_kv = kv};
    int rc = qk_arch_text_size_kvs(w, p, &s, err);
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    if (rv.has_theta) rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)rv.theta, err);
    if (nh_eps(c, true, &x)) rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)x, err);
    if (nh_eps(c, false, &x)) rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_epsilon", (float)x, err);
    rc |= kv_num(w, p, c, "n_routed_experts", "expert_count", 'u', err);
    rc |= kv_num(w, p, c, "num_experts_per_tok", "expert_used_count", 'u', err);
    rc |= kv_num(w, p, c, "n_group", "expert_group_count", 'u', err);
    rc |= kv_num(w, p, c, "topk_group", "expert_group_used_count", 'u', err);
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    /* LlamaModel's (GraniteModel popped head_dim), then GraniteHybridModel's */
    rc |= qk_arch_kv_u32(w, p, "vocab_size", (uint32_t)p->vocab_size, err);
    rc |= qk_arch_kv_u32(w, p, "rope.dimension_count", (uint32_t)(d.n_embd / p->n_head), err);
    rc |= qk_mamba2_kvs(w, p, &d, err);
    rc |= qk_arch_kv_bool(w, p, "rope.scaling.finetuned", false, err);
    /* NemotronHModel's (its rewrites of expert_count / expert_used_count / expert_group_count keep their places) */
    rc |= qk_arch_kv_u32(w, p, "attention.key_length", (uint32_t)hd, err);
    rc |= qk_arch_kv_u32(w, p, "attention.value_length", (uint32_t)hd, err);
    if (!ff_early) rc |= qk_arch_kv_arr(w, p, "feed_forward_length", QK_GGUF_I32, ffl, p->n_layer, err);
    if (moe) {
        rc |= kv_num(w, p, c, "moe_intermediate_size", "expert_feed_forward_length", 'u', err);
        rc |= kv_num(w, p, c, "moe_shared_expert_intermediate_size", "expert_shared_feed_forward_length", 'u', err);
        rc |= kv_num(w, p, c, "n_shared_experts", "expert_shared_count", 'u', err);
        rc |= kv_num(w, p, c, "norm_topk_prob", "expert_weights_norm", 'b', err);
        rc |= kv_num(w, p, c, "routed_scaling_factor", "expert_weights_scale", 'f', err);
    }
    return rc ? QK_FAIL : QK_OK;
}

const qk_arch_desc qk_arch_family_nemotronh[] = {
    {.hf = "NemotronHForCausalLM", .gguf = "nemotron_h",
     .family = "Nemotron-H / Nemotron Nano 2 / Nemotron 3 Nano (Mamba-2, attention and squared-ReLU MLP or MoE layers)",
     .flags = QK_A_PERMUTE_QK | QK_A_EXPERTS_OPTIONAL | QK_A_EXPERT_LAYERS_OWN, .kv = QK_KV_OWN, .names = QK_N_NEMOTRONH,
     .layer_prefix = "backbone.layers.", .required = k_req_nh, .experts = k_experts_nh,
     .n_expert_key = "n_routed_experts", .n_used_key = "num_experts_per_tok", .aliases = k_alias_nh, .check = nh_check,
     .write_kvs = nh_kvs, .layer_tensor = nh_layer_tensor, .arch_of = nh_arch_of},
    {.hf = NULL},
};
