/* arch_falconh1.c - TII's Falcon-H1 (FalconH1ForCausalLM, model_type falcon_h1) as FalconH1Model (conversion/
 * falcon_h1.py, derived from Mamba2Model) writes it: llama.cpp's "falcon-h1", every layer running attention (rope,
 * NEOX pairs as HF's rotate-half, so no un-permutation) and a Mamba-2 mixer side by side on the same normed input,
 * their sum added to the residual, then a SwiGLU MLP.
 *
 * Tensors: input_layernorm -> attn_norm, pre_ff_layernorm -> "ffn_norm" (no ".weight": the converter's map has the
 *   whole name, and llama.cpp looks it up so), self_attn.q/k/v/o_proj, feed_forward.gate/up/down_proj, the Mamba-2
 *   mixer mamba.* (arch_mamba2.c; d_inner = mamba_d_ssm; mamba.norm only with mamba_rms_norm), model.final_layernorm
 *   -> output_norm. The muP multipliers folded into the weights as modify_tensors does (float32 products of the
 *   float32 source, in its order): embed_tokens x embedding_multiplier, lm_head x lm_head_multiplier, gate_proj x
 *   mlp_multipliers[0], down_proj x mlp_multipliers[1], k_proj x key_multiplier x attention_in_multiplier, q_proj and
 *   v_proj x attention_in_multiplier, o_proj x attention_out_multiplier, out_proj x ssm_out_multiplier, in_proj x
 *   ssm_in_multiplier, then its z / x / B / C / dt rows each x its ssm_multipliers entry.
 * KVs, in the converter's order: Mamba2Model's (context_length, embedding_length, feed_forward_length, head_count,
 *   block_count, ssm conv_kernel / inner_size / state_size / time_step_rank (d_inner / mamba_d_head) / group_count,
 *   the RMS epsilon, the file type), then FalconH1Model's vocab_size, head_count_kv, key_length, value_length,
 *   rope.freq_base; context_length (max_position_embeddings), feed_forward_length and head_count overwritten in
 *   place.
 * Refused by name: tied embeddings (the converter folds embedding_multiplier into token_embd, which llama.cpp would
 *   then use as the output without lm_head_multiplier), mamba_norm_before_gate (llama.cpp gates, then normalizes),
 *   a missing multiplier (the converter fails), a time_step_limit that clamps dt, rope scaling, a hidden_act other
 *   than silu, mamba_n_heads other than mamba_d_ssm / mamba_d_head (llama.cpp's head count), an F16 tensor to
 *   multiply (the converter keeps F16 sources F16, so torch rounds each product to F16; BF16 ones it makes F32
 *   first), layer_norm_epsilon unlike rms_norm_eps. */
#include <math.h>
#include <string.h>

#include "arch_priv.h"

static const char *const k_req_fh[] = {"attn_norm.weight",   "ffn_norm",          "attn_q.weight",   "attn_k.weight",
                                       "attn_v.weight",      "attn_output.weight", "ffn_gate.weight", "ffn_up.weight",
                                       "ffn_down.weight",    "ssm_in.weight",      "ssm_conv1d.weight", "ssm_dt.bias",
                                       "ssm_a",              "ssm_d",              "ssm_out.weight",  NULL};

/* the mixer's sizes: d_inner = mamba_d_ssm, llama.cpp's head count d_inner / mamba_d_head = mamba_n_heads */
static int fh_dims(const qk_hf_checkpoint *ck, qk_mamba2_dims *d, qk_err *err) {
    static const char *const k_ssm[] = {"mamba_d_ssm", NULL};
    if (qk_mamba2_dims_of(ck, false, d, err)) return QK_FAIL;
    if (!qk_mamba2_hparam(ck->config, k_ssm, &d->d_inner) || d->d_inner <= 0 || d->d_inner % d->n_group)
        return qk_fail(err, "%s/config.json: 'mamba_d_ssm' should be a positive multiple of mamba_n_groups", ck->dir);
    if (!d->d_head || d->d_inner % d->d_head || d->d_inner / d->d_head != d->n_head)
        return qk_fail(err, "%s/config.json: mamba_d_ssm %lld / mamba_d_head %lld is not mamba_n_heads %lld (the "
                            "converter writes that quotient as llama.cpp's head count)", ck->dir,
                       (long long)d->d_inner, (long long)d->d_head, (long long)d->n_head);
    return QK_OK;
}

static const qk_ssm_mixer k_fh_mixer = {.prefix = "mamba.", .dims2 = fh_dims};

/* a multiplier the converter reads (a number, or entry i of a list when i >= 0) into *v; QK_FAIL naming it */
static int mult(const qk_hf_checkpoint *ck, const char *key, int i, int n, float *v, qk_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(ck->config, key);
    if (i >= 0) j = cJSON_IsArray(j) && cJSON_GetArraySize(j) == n ? cJSON_GetArrayItem(j, i) : NULL;
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble)) {
        if (i >= 0) return qk_fail(err, "%s/config.json: '%s' should list %d numbers", ck->dir, key, n);
        return qk_fail(err, "%s/config.json: '%s' should be a number (FalconH1Model multiplies by it)", ck->dir, key);
    }
    *v = (float)j->valuedouble;
    return QK_OK;
}

static int fh_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    qk_mamba2_dims d;
    if (fh_dims(ck, &d, err)) return QK_FAIL;
    if (!qk_plan_tensor(p, "output.weight"))
        return qk_fail(err, "%s: no lm_head (tied embeddings): the converter folds embedding_multiplier into "
                            "token_embd, which llama.cpp would also use as the output, without lm_head_multiplier (not "
                            "supported)", ck->dir);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "mamba_norm_before_gate")))
        return qk_fail(err, "%s/config.json: mamba_norm_before_gate true: llama.cpp's Mamba-2 gates by silu(z) before "
                            "its norm", ck->dir);
    const bool norm = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "mamba_rms_norm"));
    const char *act = qk_hf_cfg_str(c, "hidden_act");
    if (act && strcmp(act, "silu"))
        return qk_fail(err, "%s/config.json: hidden_act '%s': llama.cpp's falcon-h1 uses SiLU", ck->dir, act);
    if (qk_mamba2_check_dt_limit(ck, err)) return QK_FAIL;
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    if (rv.type && strcmp(rv.type, "default"))
        return qk_fail(err, "%s/config.json: rope scaling '%s' is not supported for Falcon-H1", ck->dir, rv.type);
    if (!rv.has_theta) return qk_fail(err, "%s/config.json: 'rope_theta' is missing (the converter reads it)", ck->dir);
    double rms = 0, ln = 0;
    if (qk_hf_cfg_num(c, "layer_norm_epsilon", &ln) && (!qk_hf_cfg_num(c, "rms_norm_eps", &rms) || rms != ln))
        return qk_fail(err, "%s/config.json: layer_norm_epsilon unlike rms_norm_eps: the converter writes the former, "
                            "Hugging Face's norms use the latter", ck->dir);
    int64_t v = 0;
    static const char *const need[] = {"intermediate_size", "num_key_value_heads", "head_dim", "vocab_size"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!qk_hf_cfg_int(c, need[i], &v) || v <= 0)
            return qk_fail(err, "%s/config.json: '%s' should be a positive integer", ck->dir, need[i]);
    static const char *const one[] = {"embedding_multiplier", "lm_head_multiplier", "key_multiplier",
                                      "attention_in_multiplier", "attention_out_multiplier", "ssm_in_multiplier",
                                      "ssm_out_multiplier"};
    float m;
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        if (mult(ck, one[i], -1, 0, &m, err)) return QK_FAIL;
    if (mult(ck, "mlp_multipliers", 0, 2, &m, err) || mult(ck, "ssm_multipliers", 0, 5, &m, err)) return QK_FAIL;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const char *norm_name = "ssm_norm.weight";
        if (norm != (qk_plan_layer_missing(p, l, &norm_name, 1) == NULL))
            return qk_fail(err, "%s: layer %u %s mamba.norm.weight, but mamba_rms_norm is %s", ck->dir, l,
                           norm ? "lacks" : "has", norm ? "true" : "false");
    }
    return QK_OK;
}

/* FalconH1Model.modify_tensors' multipliers on the planned tensors */
static int fh_finish(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    static const struct {
        const char *suffix, *key, *key2;
        int idx; /* entry of a list key, -1: a number */
    } by_name[] = {
        {"token_embd.weight", "embedding_multiplier", NULL, -1}, {"output.weight", "lm_head_multiplier", NULL, -1},
        {".ffn_gate.weight", "mlp_multipliers", NULL, 0},        {".ffn_down.weight", "mlp_multipliers", NULL, 1},
        {".attn_k.weight", "key_multiplier", "attention_in_multiplier", -1},
        {".attn_q.weight", "attention_in_multiplier", NULL, -1},
        {".attn_v.weight", "attention_in_multiplier", NULL, -1},
        {".attn_output.weight", "attention_out_multiplier", NULL, -1},
        {".ssm_out.weight", "ssm_out_multiplier", NULL, -1},     {".ssm_in.weight", "ssm_in_multiplier", NULL, -1},
    };
    qk_mamba2_dims d;
    if (fh_dims(ck, &d, err)) return QK_FAIL;
    const int64_t gts = d.n_group * d.d_state;
    const int64_t ends[5] = {d.d_inner, 2 * d.d_inner, 2 * d.d_inner + gts, 2 * d.d_inner + 2 * gts,
                             2 * d.d_inner + 2 * gts + d.n_head};
    for (size_t i = 0; i < p->n_tensors; i++) {
        qk_conv_tensor *t = &p->tensors[i];
        const size_t nl = strlen(t->name);
        for (size_t k = 0; k < sizeof by_name / sizeof by_name[0]; k++) {
            const size_t sl = strlen(by_name[k].suffix);
            if (nl < sl || strcmp(t->name + nl - sl, by_name[k].suffix)) continue;
            const int n = by_name[k].idx >= 0 ? 2 : 0;
            if (t->src && t->src->t->dtype == QK_ST_F16)
                return qk_fail(err, "%s: tensor '%s' is F16: the converter would round its multiplied values to F16 "
                                    "(not supported; BF16 and F32 checkpoints convert)", ck->dir, t->src->t->name);
            if (mult(ck, by_name[k].key, by_name[k].idx, n, &t->mul[0], err)) return QK_FAIL;
            if (by_name[k].key2 && mult(ck, by_name[k].key2, -1, 0, &t->mul[1], err)) return QK_FAIL;
            if (!strcmp(by_name[k].suffix, ".ssm_in.weight")) { /* then tensor[a:b, :] *= ssm_multipliers[k] */
                t->n_seg = 5;
                for (int s = 0; s < 5; s++) {
                    t->seg_end[s] = ends[s];
                    if (mult(ck, "ssm_multipliers", s, 5, &t->seg_mul[s], err)) return QK_FAIL;
                }
            }
        }
    }
    return QK_OK;
}

static int fh_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                  qk_err *err) {
    const cJSON *c = ck->config;
    qk_mamba2_dims d;
    if (fh_dims(ck, &d, err)) return QK_FAIL;
    /* Mamba2Model's, with FalconH1Model's overwrites in place */
    const qk_ssm_model_sizes s = {.n_ctx = qk_hf_cfg_int_or(c, "max_position_embeddings", 0), .n_embd = d.n_embd,
                                  .n_ff = qk_hf_cfg_int_or(c, "intermediate_size", 0), .n_head = p->n_head,
                                  .d_conv = d.d_conv, .d_inner = d.d_inner, .d_state = d.d_state,
                                  .dt_rank = d.d_inner / d.d_head, .n_group = d.n_group};
    const int64_t hd = qk_hf_cfg_int_or(c, "head_dim", 0);
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    int rc = qk_ssm_model_kvs(ck, p, w, &s, err);
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    /* FalconH1Model's own */
    rc |= qk_arch_kv_u32(w, p, "vocab_size", (uint32_t)p->vocab_size, err);
    rc |= qk_arch_kv_u32(w, p, "attention.head_count_kv", p->n_head_kv, err);
    rc |= qk_arch_kv_u32(w, p, "attention.key_length", (uint32_t)hd, err);
    rc |= qk_arch_kv_u32(w, p, "attention.value_length", (uint32_t)hd, err);
    rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)rv.theta, err);
    return rc ? QK_FAIL : QK_OK;
}

const qk_arch_desc qk_arch_family_falconh1[] = {
    {.hf = "FalconH1ForCausalLM", .gguf = "falcon-h1",
     .family = "Falcon-H1 (parallel attention and Mamba-2 in every layer, muP multipliers folded)",
     .kv = QK_KV_OWN, .names = QK_N_FALCONH1 | QK_N_FFN_PROJ, .required = k_req_fh, .check = fh_check,
     .write_kvs = fh_kvs, .ssm = &k_fh_mixer, .finish = fh_finish},
    {.hf = NULL},
};
