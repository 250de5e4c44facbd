/* arch_mamba.c - the attention-free Mamba-2 language models: Mamba2ForCausalLM (transformers' layout,
 * "backbone.layers.N.mixer.*"; Mamba-Codestral-7B-v0.1's "model.backbone.*" names too) -> "mamba2", as the
 * pinned converter's Mamba2Model (conversion/mamba.py) writes it:
 *   backbone.embeddings (or mamba_ssm's backbone.embedding) -> token_embd, backbone.norm_f -> output_norm,
 *   lm_head -> output; per layer norm -> attn_norm and the mixer as arch_mamba2.c plans it (ssm_in, ssm_conv1d
 *   squeezed, ssm_dt.bias, ssm_a = -exp(A_log), ssm_d, ssm_norm grouped by n_groups, ssm_out).
 * Sizes as Mamba2Model reads them from config.json itself (no AutoConfig, so no config-class defaults): d_model
 * from hidden_size / d_model / dim, expand (mamba_expand / expand, else 2), d_inner (mamba_d_ssm /
 * intermediate_size / d_inner, else expand x d_model, and it must equal that), n_groups (else 1), conv_kernel /
 * d_conv (else 4), state_size / d_state (else 128), head dim mamba_d_head / head_dim (else 64), time_step_rank
 * = d_inner / head dim. KVs: context_length 2^20 (the converter's placeholder), embedding_length,
 * feed_forward_length 0 and head_count 0 (unused, read by the loader), block_count, the five ssm.* sizes, the RMS
 * epsilon (layer_norm_epsilon / rms_norm_eps, else 1e-5), the file type.
 * The vocabulary is padded to a multiple of pad_vocab_size_multiple (16), as Mamba2Model.set_vocab does.
 * Refused: no tokenizer file (the converter falls back to a GPT-NeoX vocabulary shipped with gguf-py), a
 * tokenizer.model.v3 alone (the converter asks for it to be renamed), in/out projection biases (use_bias), a
 * clamped time step (time_step_limit), a config without n_groups (transformers' Mamba2Config defaults it to 8,
 * the converter to 1: they would disagree). */
#include <string.h>

#include "arch_priv.h"
#include "json_file.h"

/* Mamba2Model.__init__ / set_gguf_parameters: the first key of keys present in the config (Python's find_hparam
 * with `or default`: an absent or 0 value takes def) */
static int64_t m2_find(const cJSON *c, const char *const *keys, int64_t def) {
    for (const char *const *k = keys; *k; k++) {
        int64_t v;
        if (cJSON_GetObjectItemCaseSensitive(c, *k)) return qk_hf_cfg_int(c, *k, &v) && v ? v : def;
    }
    return def;
}

static int m2_dims(const qk_hf_checkpoint *ck, qk_mamba2_dims *d, qk_err *err) {
    static const char *const k_model[] = {"hidden_size", "d_model", "dim", NULL};
    static const char *const k_expand[] = {"mamba_expand", "expand", NULL};
    static const char *const k_inner[] = {"mamba_d_ssm", "intermediate_size", "d_inner", NULL};
    static const char *const k_group[] = {"n_groups", NULL};
    static const char *const k_conv[] = {"conv_kernel", "d_conv", NULL};
    static const char *const k_state[] = {"state_size", "d_state", NULL};
    static const char *const k_head[] = {"mamba_d_head", "head_dim", NULL};
    const cJSON *c = ck->config;
    memset(d, 0, sizeof *d);
    d->n_embd = d->d_model = m2_find(c, k_model, 0);
    d->expand = m2_find(c, k_expand, 2);
    d->d_inner = m2_find(c, k_inner, d->expand * d->d_model);
    d->n_group = m2_find(c, k_group, 1);
    d->d_conv = m2_find(c, k_conv, 4);
    d->d_state = m2_find(c, k_state, 128);
    const int64_t hd = m2_find(c, k_head, 64);
    const int64_t lim = (int64_t)1 << 20;
    if (d->d_model <= 0 || d->d_model > lim || d->expand <= 0 || d->expand > 64 || d->n_group <= 0 ||
        d->n_group > lim || d->d_conv <= 0 || d->d_conv > 64 || d->d_state <= 0 || d->d_state > lim || hd <= 0 ||
        hd > lim)
        return qk_fail(err, "%s/config.json: the Mamba-2 sizes (hidden_size, expand, n_groups, conv_kernel, "
                            "state_size, head_dim) should be positive integers in range", ck->dir);
    if (d->d_inner != d->expand * d->d_model)
        return qk_fail(err, "%s/config.json: the inner size %lld is not expand x hidden_size = %lld (the converter "
                            "asserts it)", ck->dir, (long long)d->d_inner, (long long)(d->expand * d->d_model));
    if (d->d_inner % hd)
        return qk_fail(err, "%s/config.json: the inner size %lld is not a multiple of head_dim %lld", ck->dir,
                       (long long)d->d_inner, (long long)hd);
    d->n_head = d->d_inner / hd;
    if (d->d_inner % d->n_group || d->n_head % d->n_group)
        return qk_fail(err, "%s/config.json: the inner size %lld and %lld heads do not split into %lld groups", ck->dir,
                       (long long)d->d_inner, (long long)d->n_head, (long long)d->n_group);
    return QK_OK;
}

static int m2_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                           qk_conv_plan *p, qk_err *err) {
    if (strncmp(rest, "mixer.", 6)) return 0; /* the block norm: the rules */
    if (!qk_st_dtype_is_float(src->t->dtype))
        return qk_fail(err, "%s: tensor '%s' has dtype %s, expected a float type", ck->dir, src->t->name,
                       qk_st_dtype_name(src->t->dtype));
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err)) return QK_FAIL;
    return qk_mamba2_tensor(ck, src, layer, rest + 6, &d, p, err);
}

static bool has_file(const qk_hf_checkpoint *ck, const char *name) {
    char path[4096];
    qk_err e;
    return !qk_path_join(path, sizeof path, ck->dir, name, &e) && qk_file_exists(path);
}

static int m2_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    (void)p;
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err) || qk_mamba2_check_dt_limit(ck, err)) return QK_FAIL;
    if (!cJSON_GetObjectItemCaseSensitive(ck->config, "n_groups"))
        return qk_fail(err, "%s/config.json: no 'n_groups': transformers' Mamba2Config takes 8 groups, the converter 1, "
                            "so the file would not compute what the model does; add the key", ck->dir);
    if (!has_file(ck, "tokenizer.model") && !has_file(ck, "tokenizer.json")) {
        if (has_file(ck, "tokenizer.model.v3"))
            return qk_fail(err, "%s: the tokenizer is tokenizer.model.v3: rename it to tokenizer.model (as llama.cpp's "
                                "converter asks) and convert again", ck->dir);
        return qk_fail(err, "%s: no tokenizer.model or tokenizer.json: llama.cpp's converter would fall back to its "
                            "built-in GPT-NeoX vocabulary, which quantkit does not ship; add the model's tokenizer",
                       ck->dir);
    }
    return QK_OK;
}

/* Mamba2Model.set_vocab: the vocabulary padded to a multiple of pad_vocab_size_multiple; the caveat only where it
 * applies */
static int m2_finish(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err)) return QK_FAIL;
    if (d.n_group == 1) p->caveat = NULL;
    int64_t pad = qk_hf_cfg_int_or(ck->config, "pad_vocab_size_multiple", 16);
    if (pad <= 0 || pad > 65536)
        return qk_fail(err, "%s/config.json: pad_vocab_size_multiple %lld is out of range", ck->dir, (long long)pad);
    if (p->vocab_size) p->vocab_size = (p->vocab_size + (uint64_t)pad - 1) / (uint64_t)pad * (uint64_t)pad;
    return QK_OK;
}

static int m2_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                  qk_err *err) {
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err)) return QK_FAIL;
    double eps;
    if (!qk_hf_cfg_num(ck->config, "layer_norm_epsilon", &eps) && !qk_hf_cfg_num(ck->config, "rms_norm_eps", &eps))
        eps = 1e-5;
    int rc = QK_OK;
    rc |= qk_arch_kv_u32(w, p, "context_length", 1u << 20, err);
    rc |= qk_arch_kv_u32(w, p, "embedding_length", (uint32_t)d.d_model, err);
    rc |= qk_arch_kv_u32(w, p, "feed_forward_length", 0, err);
    rc |= qk_arch_kv_u32(w, p, "attention.head_count", 0, err);
    rc |= qk_arch_kv_u32(w, p, "block_count", p->n_layer, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.conv_kernel", (uint32_t)d.d_conv, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.inner_size", (uint32_t)d.d_inner, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.state_size", (uint32_t)d.d_state, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.time_step_rank", (uint32_t)d.n_head, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.group_count", (uint32_t)d.n_group, err);
    rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)eps, err);
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    return rc ? QK_FAIL : QK_OK;
}

static const qk_name_rule k_globals_mamba2[] = {
    {"backbone.embeddings.weight", "token_embd.weight", QK_PERM_NONE},
    {"backbone.embedding.weight", "token_embd.weight", QK_PERM_NONE}, /* mamba_ssm's checkpoints */
    {"backbone.norm_f.weight", "output_norm.weight", QK_PERM_NONE},
    {"lm_head.weight", "output.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
static const qk_name_rule k_rules_mamba2[] = {
    {"norm.weight", "attn_norm.weight", QK_PERM_NONE},
    {NULL, NULL, 0},
};
static const char *const k_req_mamba2[] = {"attn_norm.weight", "ssm_in.weight", "ssm_conv1d.weight",
                                           "ssm_conv1d.bias", "ssm_dt.bias", "ssm_a", "ssm_d", "ssm_norm.weight",
                                           "ssm_out.weight", NULL};

/* where llama.cpp's graph (like mamba_ssm's RMSNormGated) and transformers' torch path part ways */
#define MAMBA2_CAVEAT                                                                                                 \
    "with n_groups > 1, llama.cpp normalizes the gated SSM output per group (as mamba_ssm, which Mamba-Codestral "   \
    "was trained with, does); transformers' Mamba2 torch path normalizes it over the whole inner size"

const qk_arch_desc qk_arch_family_mamba[] = {
    {.hf = "Mamba2ForCausalLM", .gguf = "mamba2", .family = "Mamba-2 (attention-free)", .caveat = MAMBA2_CAVEAT,
     .flags = QK_A_NO_ATTENTION, .kv = QK_KV_OWN, .rules = k_rules_mamba2, .globals = k_globals_mamba2,
     .layer_prefix = "backbone.layers.", .strip_prefix = "model.", .required = k_req_mamba2,
     .check = m2_check, .write_kvs = m2_kvs, .layer_tensor = m2_layer_tensor, .finish = m2_finish},
    {.hf = NULL},
};
