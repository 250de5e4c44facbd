/* arch_mamba.c - the attention-free Mamba language models.
 *
 * Mamba-1: MambaForCausalLM / MambaLMHeadModel (state-spaces/mamba-*-hf) and FalconMambaForCausalLM
 * (tiiuae/falcon-mamba-7b) -> "mamba", as the pinned converter's MambaModel (conversion/mamba.py) writes them:
 *   backbone.embeddings (or backbone.embedding) -> token_embd, backbone.norm_f -> output_norm, lm_head -> output;
 *   per layer norm -> attn_norm, mixer in_proj -> ssm_in, conv1d [d_inner, 1, K] squeezed -> ssm_conv1d (F32) and
 *   its bias, x_proj -> ssm_x, dt_proj -> ssm_dt (weight and bias), A_log [d_inner, d_state] -> ssm_a = -exp,
 *   D -> ssm_d, out_proj -> ssm_out. Sizes from the config itself: d_model (hidden_size / d_model), d_conv
 *   (conv_kernel / d_conv, else 4), d_inner (intermediate_size / d_inner, else 2 d_model, and it must be that), d_state
 *   (state_size / d_state, else 16), dt_rank (time_step_rank / dt_rank, else ceil(d_model / 16)); KVs as for
 *   Mamba-2 but no group count, plus ssm.dt_b_c_rms (true for model_type falcon_mamba: RMS norms without weights on
 *   dt, B and C; llama.cpp takes their epsilon from layer_norm_epsilon, transformers from mixer_rms_eps). The
 *   vocabulary is padded to a multiple of 8. lm_head is written as the checkpoint has it (the converter drops one
 *   equal to the embeddings: llama.cpp then reuses the embeddings; the logits are the same).
 *
 * Mamba-2: Mamba2ForCausalLM (transformers' layout,
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
 * clamped time step (time_step_limit), a transformers config without n_groups (Mamba2Config defaults it to 8,
 * the converter to 1: they would disagree; a mamba_ssm config, with ssm_cfg, defaults to 1 as the converter does),
 * an ssm_cfg holding sizes (the converter reads only the top-level keys). */
#include <string.h>

#include "arch_priv.h"
#include "json_file.h"

static bool has_file(const qk_hf_checkpoint *ck, const char *name) {
    char path[4096];
    qk_err e;
    return !qk_path_join(path, sizeof path, ck->dir, name, &e) && qk_file_exists(path);
}

/* set_vocab of both converters: the vocabulary padded to a multiple of pad_vocab_size_multiple (def when absent) */
static int pad_vocab(const qk_hf_checkpoint *ck, qk_conv_plan *p, int64_t def, qk_err *err) {
    const int64_t pad = qk_hf_cfg_int_or(ck->config, "pad_vocab_size_multiple", def);
    if (pad <= 0 || pad > 65536)
        return qk_fail(err, "%s/config.json: pad_vocab_size_multiple %lld is out of range", ck->dir, (long long)pad);
    if (p->vocab_size) p->vocab_size = (p->vocab_size + (uint64_t)pad - 1) / (uint64_t)pad * (uint64_t)pad;
    return QK_OK;
}

/* layer_norm_epsilon / rms_norm_eps, else 1e-5 */
static double rms_eps(const qk_hf_checkpoint *ck) {
    double eps;
    if (!qk_hf_cfg_num(ck->config, "layer_norm_epsilon", &eps) && !qk_hf_cfg_num(ck->config, "rms_norm_eps", &eps))
        eps = 1e-5;
    return eps;
}

/* the converter reads only the top-level keys: a mamba_ssm config's ssm_cfg holding sizes would be ignored */
static int ssm_cfg_check(const qk_hf_checkpoint *ck, qk_err *err) {
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(ck->config, "ssm_cfg");
    for (const cJSON *e = cJSON_IsObject(sc) ? sc->child : NULL; e; e = e->next)
        if (strcmp(e->string, "layer"))
            return qk_fail(err, "%s/config.json: ssm_cfg sets '%s', which llama.cpp's converter does not read (it takes "
                                "the top-level keys); move it to the top level under the Hugging Face name", ck->dir,
                           e->string);
    return QK_OK;
}

/* the tokenizer MambaModel / Mamba2Model.set_vocab reads (either file; v3 and none refused) */
static int tokenizer_check(const qk_hf_checkpoint *ck, qk_err *err) {
    if (has_file(ck, "tokenizer.model") || has_file(ck, "tokenizer.json")) return QK_OK;
    if (has_file(ck, "tokenizer.model.v3"))
        return qk_fail(err, "%s: the tokenizer is tokenizer.model.v3: rename it to tokenizer.model (as llama.cpp's "
                            "converter asks) and convert again", ck->dir);
    return qk_fail(err, "%s: no tokenizer.model or tokenizer.json: llama.cpp's converter would fall back to its "
                        "built-in GPT-NeoX vocabulary, which quantkit does not ship; add the model's tokenizer",
                   ck->dir);
}

/* MambaModel / Mamba2Model: the first key of keys present in the config (Python's find_hparam with `or default`:
 * an absent or 0 value takes def) */
static int64_t find_hparam(const cJSON *c, const char *const *keys, int64_t def) {
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
    d->n_embd = d->d_model = find_hparam(c, k_model, 0);
    d->expand = find_hparam(c, k_expand, 2);
    d->d_inner = find_hparam(c, k_inner, d->expand * d->d_model);
    d->n_group = find_hparam(c, k_group, 1);
    d->d_conv = find_hparam(c, k_conv, 4);
    d->d_state = find_hparam(c, k_state, 128);
    const int64_t hd = find_hparam(c, k_head, 64);
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

/* the block norm besides: the names (QK_N_MAMBA) */
static const qk_ssm_mixer k_m2_mixer = {.prefix = "mixer.", .dims2 = m2_dims};


static int m2_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    (void)p;
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err) || qk_mamba2_check_dt_limit(ck, err) || ssm_cfg_check(ck, err)) return QK_FAIL;
    /* a mamba_ssm config (ssm_cfg) defaults to 1 group, as the converter does */
    if (!cJSON_GetObjectItemCaseSensitive(ck->config, "n_groups") &&
        !cJSON_GetObjectItemCaseSensitive(ck->config, "ssm_cfg"))
        return qk_fail(err, "%s/config.json: no 'n_groups': transformers' Mamba2Config takes 8 groups, the converter 1, "
                            "so the file would not compute what the model does; add the key", ck->dir);
    return tokenizer_check(ck, err);
}

/* Mamba2Model.set_vocab: the vocabulary padded to a multiple of pad_vocab_size_multiple; the caveat only where it
 * applies */
static int m2_finish(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err)) return QK_FAIL;
    if (d.n_group == 1) p->caveat = NULL;
    return pad_vocab(ck, p, 16, err);
}

int qk_ssm_model_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, const qk_ssm_model_sizes *s,
                     qk_err *err) {
    int rc = QK_OK;
    rc |= qk_arch_kv_u32(w, p, "context_length", (uint32_t)s->n_ctx, err);
    rc |= qk_arch_kv_u32(w, p, "embedding_length", (uint32_t)s->n_embd, err);
    rc |= qk_arch_kv_u32(w, p, "feed_forward_length", (uint32_t)s->n_ff, err);
    rc |= qk_arch_kv_u32(w, p, "attention.head_count", (uint32_t)s->n_head, err);
    rc |= qk_arch_kv_u32(w, p, "block_count", p->n_layer, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.conv_kernel", (uint32_t)s->d_conv, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.inner_size", (uint32_t)s->d_inner, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.state_size", (uint32_t)s->d_state, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.time_step_rank", (uint32_t)s->dt_rank, err);
    if (s->n_group >= 0) rc |= qk_arch_kv_u32(w, p, "ssm.group_count", (uint32_t)s->n_group, err);
    rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)rms_eps(ck), err);
    return rc ? QK_FAIL : QK_OK;
}

/* context_length 2^20 (the converter's placeholder), feed_forward_length and head_count 0 (unused, read by the
 * loader) */
static int m2_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                  qk_err *err) {
    qk_mamba2_dims d;
    if (m2_dims(ck, &d, err)) return QK_FAIL;
    const qk_ssm_model_sizes s = {.n_ctx = 1 << 20, .n_embd = d.d_model, .d_conv = d.d_conv, .d_inner = d.d_inner,
                                  .d_state = d.d_state, .dt_rank = d.n_head, .n_group = d.n_group};
    if (qk_ssm_model_kvs(ck, p, w, &s, err)) return QK_FAIL;
    return qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
}

/* Mamba-1's sizes (MambaModel.set_gguf_parameters) */
static int m1_dims_of(const qk_hf_checkpoint *ck, qk_mamba1_dims *d, qk_err *err) {
    static const char *const k_model[] = {"hidden_size", "d_model", NULL};
    static const char *const k_conv[] = {"conv_kernel", "d_conv", NULL};
    static const char *const k_inner[] = {"intermediate_size", "d_inner", NULL};
    static const char *const k_state[] = {"state_size", "d_state", NULL};
    static const char *const k_rank[] = {"time_step_rank", "dt_rank", NULL};
    const cJSON *c = ck->config;
    d->d_model = find_hparam(c, k_model, 0);
    d->d_conv = find_hparam(c, k_conv, 4);
    d->d_inner = find_hparam(c, k_inner, 2 * d->d_model);
    d->d_state = find_hparam(c, k_state, 16);
    d->dt_rank = find_hparam(c, k_rank, (d->d_model + 15) / 16);
    if (qk_mamba1_dims_check(ck, d, err)) return QK_FAIL;
    if (d->d_inner != 2 * d->d_model)
        return qk_fail(err, "%s/config.json: intermediate_size %lld is not 2 x hidden_size = %lld (the converter "
                            "asserts a block expansion of 2)", ck->dir, (long long)d->d_inner,
                       (long long)(2 * d->d_model));
    return QK_OK;
}

static const qk_ssm_mixer k_m1_mixer = {.prefix = "mixer.", .dims1 = m1_dims_of};

static int m1_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    (void)p;
    qk_mamba1_dims d;
    if (m1_dims_of(ck, &d, err) || ssm_cfg_check(ck, err) || tokenizer_check(ck, err)) return QK_FAIL;
    const cJSON *ub = cJSON_GetObjectItemCaseSensitive(ck->config, "use_bias");
    if (cJSON_IsTrue(ub))
        return qk_fail(err, "%s/config.json: use_bias is true: llama.cpp's Mamba has no in/out projection biases",
                       ck->dir);
    return QK_OK;
}

/* MambaModel.set_vocab: the vocabulary padded to a multiple of pad_vocab_size_multiple (8); Falcon Mamba's caveat
 * only where its mixer epsilon (FalconMambaConfig's default 1e-6) is not the one llama.cpp uses */
static int m1_finish(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    double me;
    if (p->caveat && qk_hf_cfg_num(ck->config, "mixer_rms_eps", &me) && (float)me == (float)rms_eps(ck))
        p->caveat = NULL;
    return pad_vocab(ck, p, 8, err);
}

static int m1_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                  qk_err *err) {
    qk_mamba1_dims d;
    if (m1_dims_of(ck, &d, err)) return QK_FAIL;
    const qk_ssm_model_sizes s = {.n_ctx = 1 << 20, .n_embd = d.d_model, .d_conv = d.d_conv, .d_inner = d.d_inner,
                                  .d_state = d.d_state, .dt_rank = d.dt_rank, .n_group = -1};
    const char *mt = qk_hf_cfg_str(ck->config, "model_type");
    if (qk_ssm_model_kvs(ck, p, w, &s, err) ||
        qk_arch_kv_bool(w, p, "ssm.dt_b_c_rms", mt && !strcmp(mt, "falcon_mamba"), err))
        return QK_FAIL;
    return qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
}

static const char *const k_req_mamba2[] = {"attn_norm.weight", "ssm_in.weight", "ssm_conv1d.weight",
                                           "ssm_conv1d.bias", "ssm_dt.bias", "ssm_a", "ssm_d", "ssm_norm.weight",
                                           "ssm_out.weight", NULL};

/* where llama.cpp's graph (like mamba_ssm's RMSNormGated) and transformers' torch path part ways */
#define MAMBA2_CAVEAT                                                                                                 \
    "with n_groups > 1, llama.cpp normalizes the gated SSM output per group (as mamba_ssm, which Mamba-Codestral "   \
    "was trained with, does); transformers' Mamba2 torch path normalizes it over the whole inner size"

static const char *const k_req_mamba[] = {"attn_norm.weight", "ssm_in.weight", "ssm_conv1d.weight",
                                          "ssm_conv1d.bias", "ssm_x.weight", "ssm_dt.weight", "ssm_dt.bias", "ssm_a",
                                          "ssm_d", "ssm_out.weight", NULL};
/* mamba_ssm's config.json names the sizes d_model / n_layer */
static const qk_cfg_alias k_alias_mamba[] = {{"hidden_size", "d_model"}, {"num_hidden_layers", "n_layer"}, {NULL, NULL}};

#define FALCON_MAMBA_CAVEAT                                                                                           \
    "llama.cpp RMS-normalizes dt, B and C with layer_norm_epsilon where Falcon Mamba's mixer uses mixer_rms_eps "  \
    "(1e-6 in the releases): a small difference in the logits"

#define MAMBA1(cls, fam, cav)                                                                                         \
    {.hf = cls, .gguf = "mamba", .family = fam, .caveat = cav, .flags = QK_A_NO_ATTENTION, .kv = QK_KV_OWN,         \
     .names = QK_N_MAMBA, .layer_prefix = "backbone.layers.",                       \
     .required = k_req_mamba, .aliases = k_alias_mamba, .check = m1_check, .write_kvs = m1_kvs,                      \
     .ssm = &k_m1_mixer, .finish = m1_finish}

const qk_arch_desc qk_arch_family_mamba[] = {
    MAMBA1("MambaForCausalLM", "Mamba (attention-free)", NULL),
    MAMBA1("MambaLMHeadModel", "Mamba (attention-free; mamba_ssm's config)", NULL),
    MAMBA1("FalconMambaForCausalLM", "Falcon Mamba (attention-free; RMS-normalized dt, B, C)", FALCON_MAMBA_CAVEAT),
    {.hf = "Mamba2ForCausalLM", .gguf = "mamba2", .family = "Mamba-2 (attention-free)", .caveat = MAMBA2_CAVEAT,
     .flags = QK_A_NO_ATTENTION, .kv = QK_KV_OWN, .names = QK_N_MAMBA,
     .layer_prefix = "backbone.layers.", .strip_prefix = "model.", .required = k_req_mamba2, .aliases = k_alias_mamba,
     .check = m2_check, .write_kvs = m2_kvs, .ssm = &k_m2_mixer, .finish = m2_finish},
    {.hf = NULL},
};
