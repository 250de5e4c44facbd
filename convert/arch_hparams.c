/* arch_hparams.c - the hyper-parameter KVs and the generated tensors of each
 * architecture, as convert_hf_to_gguf.py (the pinned release) writes them:
 *
 * LlamaModel and friends: rope_freqs.weight for "llama3" rope scaling and
 *   the KVs main has always written (see add_llama_like).
 * Phi3MiniModel: rope_factors_long.weight / rope_factors_short.weight from
 *   rope_scaling.long_factor / short_factor, with rope.scaling.attn_factor =
 *   sqrt(1 + ln(s) / ln(orig)) (su, longrope) or 0.1 ln(s) + 1 (yarn), where
 *   s = max_position_embeddings / original_max_position_embeddings, written
 *   while the tensors are generated (right after general.architecture);
 *   set_gguf_parameters does not call TextModel's: context_length,
 *   rope.scaling.original_context_length, ..., attention.sliding_window (0
 *   when null). llama.cpp picks the short factors while the context fits the
 *   original one, the long ones beyond, and scales cos/sin by attn_factor.
 * Gemma3Model: TextModel.set_gguf_parameters (rope.scaling.type/factor for
 *   linear scaling of the global layers, rope.freq_base, rope.freq_base_swa
 *   from rope_local_base_freq, key/value length) then its own defaults,
 *   overwriting values in place as GGUFWriter does for a repeated key, then
 *   final_logit_softcapping (if set) and attention.sliding_window.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arch_priv.h"
#include "tensor_rows.h"

/* ---- rope parameters (TextModel.__init__) ---- */

static const cJSON *obj_get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* find_hparam: the first key the config has; its value if a number */
static bool first_num(const cJSON *cfg, const char *const *keys, double *out) {
    for (; *keys; keys++) {
        const cJSON *v = obj_get(cfg, *keys);
        if (v) {
            if (!cJSON_IsNumber(v)) return false;
            *out = v->valuedouble;
            return true;
        }
    }
    return false;
}

void qk_rope_view_init(const cJSON *cfg, qk_rope_view *r) {
    static const char *const k_theta[] = {"global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta",
                                          "rotary_emb_base", NULL};
    static const char *const k_local[] = {"local_rope_theta", "rope_local_theta", "rope_theta_local", "swa_rope_theta",
                                          "rope_local_base_freq", NULL};
    static const char *const k_prf[] = {"partial_rotary_factor", "rope_pct", "rope_percent", NULL};
    static const char *const k_orig[] = {"original_max_position_embeddings", NULL};
    memset(r, 0, sizeof *r);
    const cJSON *rp = obj_get(cfg, "rope_parameters");
    if (!cJSON_IsObject(rp)) rp = obj_get(cfg, "rope_scaling");
    if (!cJSON_IsObject(rp)) rp = NULL;
    const cJSON *full = obj_get(rp, "full_attention"), *sliding = obj_get(rp, "sliding_attention");
    const bool split = full || sliding; /* per layer kind: nothing is mirrored from the top level */
    r->full = cJSON_IsObject(full) ? full : rp;
    const cJSON *t = obj_get(r->full, "rope_type");
    if (!t && !split) t = obj_get(rp, "type");
    r->type = cJSON_IsString(t) ? t->valuestring : NULL;
    const cJSON *v = obj_get(r->full, "rope_theta");
    if (cJSON_IsNumber(v)) r->theta = v->valuedouble, r->has_theta = true;
    else if (!v && !split) r->has_theta = first_num(cfg, k_theta, &r->theta);
    v = obj_get(sliding, "rope_theta");
    if (split) {
        if (cJSON_IsNumber(v)) r->theta_swa = v->valuedouble, r->has_theta_swa = true;
    } else {
        r->has_theta_swa = first_num(cfg, k_local, &r->theta_swa);
    }
    r->partial_rotary_factor = 1.0;
    v = obj_get(r->full, "partial_rotary_factor");
    if (cJSON_IsNumber(v)) r->partial_rotary_factor = v->valuedouble;
    else if (!v && !split) first_num(cfg, k_prf, &r->partial_rotary_factor);
    double o = 0;
    v = obj_get(r->full, "original_max_position_embeddings");
    bool has = cJSON_IsNumber(v) ? (o = v->valuedouble, true) : (!v && !split) ? first_num(cfg, k_orig, &o) : false;
    if (has && o == floor(o) && o > 0 && o < 9e15) r->orig_ctx = (int64_t)o, r->has_orig_ctx = true;
}

/* ---- generated tensors ---- */

/* Llama 3.1 "llama3" rope scaling: per-frequency factors, as the converter
 * computes them (generate_extra_tensors). */
static float *llama3_rope_freqs(const cJSON *rs, double base, int64_t dim, qk_err *err) {
    double factor = 8, low = 1, high = 4, orig = 8192;
    qk_hf_cfg_num(rs, "factor", &factor);
    qk_hf_cfg_num(rs, "low_freq_factor", &low);
    qk_hf_cfg_num(rs, "high_freq_factor", &high);
    qk_hf_cfg_num(rs, "original_max_position_embeddings", &orig);
    float *out = malloc((size_t)(dim / 2) * sizeof *out);
    if (!out) {
        qk_fail(err, "out of memory");
        return NULL;
    }
    const double low_wl = orig / low, high_wl = orig / high;
    for (int64_t i = 0; i < dim / 2; i++) {
        double freq = 1.0 / pow(base, (double)(2 * i) / (double)dim);
        double wl = 2 * M_PI / freq;
        double f;
        if (wl < high_wl) f = 1;
        else if (wl > low_wl) f = factor;
        else {
            double smooth = (orig / wl - low) / (high - low);
            f = 1 / ((1 - smooth) / factor + smooth);
        }
        out[i] = (float)f;
    }
    return out;
}

static qk_conv_tensor *gen_tensor(qk_conv_plan *p, const char *name, int64_t n) {
    qk_conv_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = 1, t->ne[0] = n, t->ne[1] = t->ne[2] = t->ne[3] = 1;
    t->keep_f32 = true;
    return t;
}

/* rope_scaling.<key>: a list of exactly n numbers (float32, as torch.tensor(..., dtype=float32)) */
static float *factor_list(const qk_hf_checkpoint *ck, const cJSON *rs, const char *key, int64_t n, qk_err *err) {
    const cJSON *a = obj_get(rs, key);
    if (!cJSON_IsArray(a)) {
        qk_fail(err, "%s/config.json: rope_scaling.%s is missing or not a list (long-rope needs %lld factors)", ck->dir,
                key, (long long)n);
        return NULL;
    }
    if (cJSON_GetArraySize(a) != n) {
        qk_fail(err, "%s/config.json: rope_scaling.%s has %d factors, expected rope dimensions / 2 = %lld", ck->dir,
                key, cJSON_GetArraySize(a), (long long)n);
        return NULL;
    }
    float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
    if (!f) {
        qk_fail(err, "out of memory");
        return NULL;
    }
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e)) {
            free(f);
            qk_fail(err, "%s/config.json: rope_scaling.%s[%d] is not a number", ck->dir, key, i);
            return NULL;
        }
        f[i] = (float)e->valuedouble;
    }
    return f;
}

/* Phi3: int(partial_rotary_factor * n_embd) // n_head */
static int phi3_rope_dims(const qk_hf_checkpoint *ck, const qk_rope_view *rv, int64_t *out, qk_err *err) {
    int64_t n_embd = 0, n_head = 0;
    qk_hf_cfg_int(ck->config, "hidden_size", &n_embd);
    qk_hf_cfg_int(ck->config, "num_attention_heads", &n_head);
    double d = rv->partial_rotary_factor * (double)n_embd;
    if (!(d >= 2 && d <= (double)n_embd) || n_head <= 0 || (int64_t)d / n_head < 2)
        return qk_fail(err, "%s/config.json: partial_rotary_factor %g gives no rotary dimensions (hidden_size %lld)",
                       ck->dir, rv->partial_rotary_factor, (long long)n_embd);
    *out = (int64_t)d / n_head;
    return QK_OK;
}

static int phi3_generated(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    const cJSON *lf = obj_get(rv.full, "long_factor");
    const bool has_long = cJSON_IsArray(lf) ? cJSON_GetArraySize(lf) > 0 : lf && !cJSON_IsNull(lf);
    if (!has_long) {
        /* the converter writes nothing then, and llama.cpp's phi3 applies no scaling: refuse what HF would scale */
        if (rv.type && strcmp(rv.type, "default"))
            return qk_fail(err, "%s/config.json: Phi3 rope_scaling type '%s' without long_factor is not supported "
                                "(su/longrope with long_factor and short_factor are)", ck->dir, rv.type);
        return QK_OK;
    }
    if (!rv.type || !*rv.type)
        return qk_fail(err, "%s/config.json: rope_scaling has long_factor but no type (expected su or longrope)", ck->dir);
    int64_t max_pos = 0, dims = 0;
    if ((!qk_hf_cfg_int(ck->config, "n_positions", &max_pos) &&
         !qk_hf_cfg_int(ck->config, "max_position_embeddings", &max_pos)) || max_pos <= 0)
        return qk_fail(err, "%s/config.json: 'max_position_embeddings' is missing or not a positive integer", ck->dir);
    if (!rv.has_orig_ctx)
        return qk_fail(err, "%s/config.json: 'original_max_position_embeddings' is missing or not a positive integer "
                            "(Phi3 long-rope needs it)", ck->dir);
    if (phi3_rope_dims(ck, &rv, &dims, err)) return QK_FAIL;
    const double scale = (double)max_pos / (double)rv.orig_ctx;
    double attn;
    if (!strcasecmp(rv.type, "su") || !strcasecmp(rv.type, "longrope"))
        attn = scale > 1.0 ? sqrt(1 + log(scale) / log((double)rv.orig_ctx)) : 1.0;
    else if (!strcasecmp(rv.type, "yarn"))
        attn = scale > 1.0 ? 0.1 * log(scale) + 1.0 : 1.0;
    else
        return qk_fail(err, "%s/config.json: Phi3 rope_scaling type '%s' is not supported (su, longrope, yarn are)",
                       ck->dir, rv.type);
    float *l = factor_list(ck, rv.full, "long_factor", dims / 2, err);
    if (!l) return QK_FAIL;
    float *s = factor_list(ck, rv.full, "short_factor", dims / 2, err);
    if (!s) {
        free(l);
        return QK_FAIL;
    }
    gen_tensor(p, "rope_factors_long.weight", dims / 2)->generated = l;
    gen_tensor(p, "rope_factors_short.weight", dims / 2)->generated = s;
    p->rope_attn_factor = (float)attn;
    return QK_OK;
}

int qk_arch_generated(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, int64_t head_dim, qk_conv_plan *p,
                      qk_err *err) {
    if (ad->generate) return ad->generate(ck, p, err);
    if (ad->kv == QK_KV_PHI3) return phi3_generated(ck, p, err);
    if (ad->kv == QK_KV_GEMMA3) {
        qk_rope_view rv;
        qk_rope_view_init(ck->config, &rv);
        double f;
        if (rv.type && strcmp(rv.type, "default") && !(!strcmp(rv.type, "linear") && qk_hf_cfg_num(rv.full, "factor", &f)))
            return qk_fail(err, "%s/config.json: Gemma3 rope_scaling type '%s' is not supported (linear with a factor is)",
                           ck->dir, rv.type);
        return QK_OK;
    }
    /* generated: rope_freqs for llama3 rope scaling */
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ck->config, "rope_scaling");
    if (cJSON_IsObject(rs)) {
        const char *rt = qk_hf_cfg_str(rs, "rope_type");
        if (!rt) rt = qk_hf_cfg_str(rs, "type");
        if (rt && !strcmp(rt, "llama3")) {
            double base = 10000;
            qk_hf_cfg_num(ck->config, "rope_theta", &base);
            qk_conv_tensor *t = gen_tensor(p, "rope_freqs.weight", head_dim / 2);
            if (!(t->generated = llama3_rope_freqs(rs, base, head_dim, err))) return QK_FAIL;
        } else if (rt && strcmp(rt, "default") && !(ad->mrope_key && !strcmp(rt, "mrope")) &&
                   !((ad->flags & QK_A_ROPE_YARN) && !strcmp(rt, "yarn")) &&
                   !(ad->rope_plain && !strcmp(rt, ad->rope_plain))) {
            /* Qwen2-VL's "mrope" is the default rope with sections (its config class renames it) */
            return qk_fail(err, "%s/config.json: rope_scaling type '%s' is not supported yet (llama3 is)", ck->dir, rt);
        }
    }
    return QK_OK;
}

/* ---- KVs ---- */

int qk_arch_add_early_kvs(const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    if (p->rope_attn_factor <= 0) return QK_OK;
    return qk_arch_kv_f32(w, p, "rope.scaling.attn_factor", p->rope_attn_factor, err);
}

/* An ordered KV list where setting a key again keeps its first position, as
 * GGUFWriter.add_key_value does. */
typedef struct {
    char key[96];
    enum { KV_U32, KV_F32, KV_STR } type;
    uint32_t u;
    float f;
    const char *s;
} kv_t;

typedef struct {
    const char *arch;
    kv_t kv[48];
    int n;
} kv_list;

static kv_t *kv_slot(kv_list *l, const char *suffix) {
    char key[96];
    if (!strncmp(suffix, "general.", 8)) snprintf(key, sizeof key, "%s", suffix);
    else snprintf(key, sizeof key, "%s.%s", l->arch, suffix);
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->kv[i].key, key)) return &l->kv[i];
    kv_t *e = &l->kv[l->n++]; /* at most ~25 keys per architecture: far below the capacity */
    snprintf(e->key, sizeof e->key, "%s", key);
    return e;
}
static void kv_u32(kv_list *l, const char *k, int64_t v) {
    kv_t *e = kv_slot(l, k);
    e->type = KV_U32, e->u = (uint32_t)v;
}
static void kv_f32(kv_list *l, const char *k, double v) {
    kv_t *e = kv_slot(l, k);
    e->type = KV_F32, e->f = (float)v;
}
static void kv_str(kv_list *l, const char *k, const char *v) {
    kv_t *e = kv_slot(l, k);
    e->type = KV_STR, e->s = v;
}
static int kv_write(const kv_list *l, qk_gguf_writer *w, qk_err *err) {
    for (int i = 0; i < l->n; i++) {
        const kv_t *e = &l->kv[i];
        int rc = e->type == KV_U32   ? qk_gguf_writer_add_u32(w, e->key, e->u, err)
                 : e->type == KV_F32 ? qk_gguf_writer_add_f32(w, e->key, e->f, err)
                                     : qk_gguf_writer_add_str(w, e->key, e->s, err);
        if (rc) return QK_FAIL;
    }
    return QK_OK;
}

/* a u32 config value: absent -> false; present but not a non-negative integer -> error */
static int cfg_u32(const qk_hf_checkpoint *ck, const char *key, int64_t *v, bool *present, qk_err *err) {
    const cJSON *j = obj_get(ck->config, key);
    *present = j && !cJSON_IsNull(j);
    if (!*present) return QK_OK;
    if (!qk_hf_cfg_int(ck->config, key, v) || *v < 0 || *v > UINT32_MAX)
        return qk_fail(err, "%s/config.json: '%s' is not an integer in 0..4294967295", ck->dir, key);
    return QK_OK;
}
static int cfg_need_u32(const qk_hf_checkpoint *ck, const char *key, int64_t *v, qk_err *err) {
    bool present;
    if (cfg_u32(ck, key, v, &present, err)) return QK_FAIL;
    if (!present) return qk_fail(err, "%s/config.json: '%s' is missing (the %s converter needs it)", ck->dir, key,
                                 qk_hf_cfg_str(ck->config, "model_type") ? qk_hf_cfg_str(ck->config, "model_type") : "HF");
    return QK_OK;
}
static int cfg_need_num(const qk_hf_checkpoint *ck, const char *key, double *v, qk_err *err) {
    if (!qk_hf_cfg_num(ck->config, key, v))
        return qk_fail(err, "%s/config.json: '%s' is missing or not a number", ck->dir, key);
    return QK_OK;
}

static int add_phi3(const qk_hf_checkpoint *ck, const qk_conv_plan *p, kv_list *l, uint32_t file_type, qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    int64_t ctx = 0, embd = 0, ff = 0, dims = 0, sw = 0;
    double eps;
    bool present;
    if (obj_get(ck->config, "n_positions") ? cfg_need_u32(ck, "n_positions", &ctx, err)
                                           : cfg_need_u32(ck, "max_position_embeddings", &ctx, err))
        return QK_FAIL;
    if (!rv.has_orig_ctx)
        return qk_fail(err, "%s/config.json: 'original_max_position_embeddings' is missing or not a positive integer "
                            "(Phi3 needs it)", ck->dir);
    if (cfg_need_u32(ck, "hidden_size", &embd, err) || cfg_need_u32(ck, "intermediate_size", &ff, err) ||
        cfg_need_num(ck, "rms_norm_eps", &eps, err) || phi3_rope_dims(ck, &rv, &dims, err))
        return QK_FAIL;
    if (!rv.has_theta) return qk_fail(err, "%s/config.json: 'rope_theta' is missing or not a number", ck->dir);
    if (cfg_u32(ck, "sliding_window", &sw, &present, err)) return QK_FAIL;
    kv_u32(l, "context_length", ctx);
    kv_u32(l, "rope.scaling.original_context_length", rv.orig_ctx);
    kv_u32(l, "embedding_length", embd);
    kv_u32(l, "feed_forward_length", ff);
    kv_u32(l, "block_count", p->n_layer);
    kv_u32(l, "attention.head_count", p->n_head);
    kv_u32(l, "attention.head_count_kv", p->n_head_kv);
    kv_f32(l, "attention.layer_norm_rms_epsilon", eps);
    kv_u32(l, "rope.dimension_count", dims);
    kv_f32(l, "rope.freq_base", rv.theta);
    kv_u32(l, "general.file_type", file_type);
    kv_u32(l, "attention.sliding_window", present ? sw : 0); /* 0 tells Phi-4 apart */
    if (p->n_expert) { /* PhiMoeModel: the used count, then the count */
        int64_t used = 0;
        if (cfg_need_u32(ck, p->desc->n_used_key, &used, err)) return QK_FAIL;
        kv_u32(l, "expert_used_count", used);
        kv_u32(l, "expert_count", p->n_expert);
    }
    return QK_OK;
}

/* The layer kinds llama.cpp's gemma3 can express: every P-th layer global
 * (P = attention.sliding_window_pattern, 6 when the key is absent). */
static int gemma3_pattern(const qk_hf_checkpoint *ck, const qk_conv_plan *p, int64_t *pattern, qk_err *err) {
    const cJSON *lt = obj_get(ck->config, "layer_types");
    *pattern = 6; /* Gemma3TextConfig's default */
    if (cJSON_IsArray(lt)) {
        if (cJSON_GetArraySize(lt) != (int)p->n_layer)
            return qk_fail(err, "%s/config.json: layer_types lists %d layers, expected %u", ck->dir,
                           cJSON_GetArraySize(lt), p->n_layer);
        int64_t first_full = -1, i = 0;
        for (const cJSON *e = lt->child; e && first_full < 0; e = e->next, i++)
            if (cJSON_IsString(e) && !strcmp(e->valuestring, "full_attention")) first_full = i;
        *pattern = first_full < 0 ? (int64_t)p->n_layer + 1 : first_full + 1;
        i = 0;
        for (const cJSON *e = lt->child; e; e = e->next, i++) {
            const char *want = (i + 1) % *pattern ? "sliding_attention" : "full_attention";
            if (!cJSON_IsString(e) || strcmp(e->valuestring, want))
                return qk_fail(err, "%s/config.json: layer_types[%lld] is not '%s': llama.cpp's gemma3 needs layer i "
                                    "global exactly when (i + 1) %% %lld == 0", ck->dir, (long long)i, want,
                               (long long)*pattern);
        }
        return QK_OK;
    }
    int64_t v;
    if (obj_get(ck->config, "sliding_window_pattern")) {
        if (!qk_hf_cfg_int(ck->config, "sliding_window_pattern", &v) || v < 1 || v > UINT32_MAX)
            return qk_fail(err, "%s/config.json: sliding_window_pattern is not a positive integer", ck->dir);
        *pattern = v;
    }
    return QK_OK;
}

static int add_gemma3(const qk_hf_checkpoint *ck, const qk_conv_plan *p, kv_list *l, uint32_t file_type, qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    const cJSON *c = ck->config;
    int64_t v, pattern;
    double d;
    bool present;
    /* TextModel.set_gguf_parameters */
    kv_u32(l, "block_count", p->n_layer);
    if (cfg_u32(ck, "max_position_embeddings", &v, &present, err)) return QK_FAIL;
    if (present) kv_u32(l, "context_length", v);
    if (cfg_u32(ck, "hidden_size", &v, &present, err)) return QK_FAIL;
    if (present) kv_u32(l, "embedding_length", v);
    if (cfg_u32(ck, "intermediate_size", &v, &present, err)) return QK_FAIL;
    if (present) kv_u32(l, "feed_forward_length", v);
    kv_u32(l, "attention.head_count", p->n_head);
    if (cfg_u32(ck, "num_key_value_heads", &v, &present, err)) return QK_FAIL;
    if (present) kv_u32(l, "attention.head_count_kv", v);
    if (rv.type && !strcmp(rv.type, "linear") && qk_hf_cfg_num(rv.full, "factor", &d)) {
        kv_str(l, "rope.scaling.type", "linear");
        kv_f32(l, "rope.scaling.factor", d);
    }
    if (rv.has_theta) kv_f32(l, "rope.freq_base", rv.theta);
    if (rv.has_theta_swa) kv_f32(l, "rope.freq_base_swa", rv.theta_swa);
    if (qk_hf_cfg_num(c, "rms_norm_eps", &d)) kv_f32(l, "attention.layer_norm_rms_epsilon", d);
    if (cfg_u32(ck, "head_dim", &v, &present, err)) return QK_FAIL;
    if (present) kv_u32(l, "attention.key_length", v), kv_u32(l, "attention.value_length", v);
    kv_u32(l, "general.file_type", file_type);
    /* Gemma3Model: the defaults of values the config may leave out */
    if (!qk_hf_cfg_int(c, "max_position_embeddings", &v)) v = 131072;
    kv_u32(l, "context_length", v);
    kv_u32(l, "attention.head_count", p->n_head);
    kv_f32(l, "attention.layer_norm_rms_epsilon", qk_hf_cfg_num(c, "rms_norm_eps", &d) ? d : 1e-6);
    if (!qk_hf_cfg_int(c, "head_dim", &v)) v = 256;
    kv_u32(l, "attention.key_length", v);
    kv_u32(l, "attention.value_length", v);
    kv_f32(l, "rope.freq_base", rv.has_theta ? rv.theta : 1000000.0);
    const cJSON *cap = obj_get(c, "attn_logit_softcapping");
    if (cap && !cJSON_IsNull(cap))
        return qk_fail(err, "%s/config.json: attn_logit_softcapping is set, which Gemma3 does not have (expected null)",
                       ck->dir);
    if (qk_hf_cfg_num(c, "final_logit_softcapping", &d) && d != 0) kv_f32(l, "final_logit_softcapping", d);
    if (gemma3_pattern(ck, p, &pattern, err)) return QK_FAIL;
    if (pattern != 1) {
        if (cfg_need_u32(ck, "sliding_window", &v, err)) return QK_FAIL;
        kv_u32(l, "attention.sliding_window", v);
        /* not written by the converter, whose output llama.cpp reads as pattern 6: only a config with another
         * pattern needs the key to run as Hugging Face computes it */
        if (pattern != 6) kv_u32(l, "attention.sliding_window_pattern", pattern);
    }
    kv_u32(l, "attention.head_count_kv", p->n_head_kv);
    return QK_OK;
}

/* M-RoPE: rope_scaling.<mrope_key> (e.g. mrope_section [16, 24, 24]) padded
 * with zeros to 4 entries, as an i32 array (TextModel.set_gguf_parameters);
 * the sections must cover the rotary half-dimensions llama.cpp rotates. */
static int add_mrope_sections(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    const cJSON *a = obj_get(rv.full, p->desc->mrope_key);
    int32_t sec[4] = {0, 0, 0, 0};
    int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
    if (n < 1 || n > 4)
        return qk_fail(err, "%s/config.json: rope_scaling.%s is missing or not a list of 1 to 4 sizes (%s needs it)",
                       ck->dir, p->desc->mrope_key, p->desc->hf);
    int64_t total = 0, i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 65536 || e->valuedouble != (int)e->valuedouble)
            return qk_fail(err, "%s/config.json: rope_scaling.%s[%lld] is not a size", ck->dir, p->desc->mrope_key,
                           (long long)i);
        sec[i] = (int32_t)e->valuedouble;
        total += sec[i];
    }
    int64_t head_dim = 0, n_embd = 0;
    qk_hf_cfg_int(ck->config, "hidden_size", &n_embd);
    if (!qk_hf_cfg_int(ck->config, "head_dim", &head_dim) || head_dim <= 0) head_dim = n_embd / p->n_head;
    if (total != head_dim / 2)
        return qk_fail(err, "%s/config.json: rope_scaling.%s sums to %lld, expected head_dim / 2 = %lld", ck->dir,
                       p->desc->mrope_key, (long long)total, (long long)(head_dim / 2));
    return qk_arch_kv_arr(w, p, "rope.dimension_sections", QK_GGUF_I32, sec, 4, err);
}

/* QK_KVR_LAYER_F32: one value per layer, read from its one-element tensor, as the converter's .item() */
static int layer_scalars(const qk_hf_checkpoint *ck, const qk_conv_plan *p, const qk_kv_rule *r, qk_gguf_writer *w,
                         qk_err *err) {
    float *v = malloc((size_t)(p->n_layer ? p->n_layer : 1) * sizeof *v);
    if (!v) return qk_fail(err, "out of memory");
    const char *lp = p->desc->layer_prefix ? p->desc->layer_prefix : "model.layers.";
    int rc = QK_OK;
    for (uint32_t i = 0; rc == QK_OK && i < p->n_layer; i++) {
        char nm[256];
        snprintf(nm, sizeof nm, "%s%u.%s", lp, i, r->key);
        const qk_hf_tensor *t = qk_hf_find(ck, nm);
        if (!t || t->t->n_elements != 1)
            rc = qk_fail(err, "%s: tensor '%s' is %s (%s needs one value per layer for %s)", ck->dir, nm,
                         t ? "not a single value" : "missing", p->desc->hf, r->gguf);
        else
            rc = qk_st_read_f32(ck->files[t->file], t->t, 0, 1, &v[i], err);
    }
    if (rc == QK_OK) rc = qk_gguf_writer_add_arr(w, r->gguf, QK_GGUF_F32, v, p->n_layer, err);
    free(v);
    return rc;
}

/* LlamaModel, Qwen2/3, Gemma 1/2: the KVs quantkit has written since the start. */
static int add_llama_like(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                          qk_err *err) {
    const cJSON *c = ck->config;
    int64_t v;
    double d;
    const qk_text_sizes s = {.n_ctx = qk_hf_cfg_int_or(c, "max_position_embeddings", QK_KV_ABSENT),
                             .n_embd = qk_hf_cfg_int_or(c, "hidden_size", QK_KV_ABSENT),
                             .n_ff = qk_hf_cfg_int_or(c, "intermediate_size", QK_KV_ABSENT)};
    int rc = qk_arch_text_size_kvs(w, p, &s, err);
    /* TextModel's rope_theta: rope_parameters' (Ministral 3 has no top-level one; a config class default for the
     * top-level key does not override it), else the top level's */
    qk_rope_view rv_theta;
    qk_rope_view_init(c, &rv_theta);
    if (rv_theta.has_theta) rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)rv_theta.theta, err);
    if (qk_hf_cfg_num(c, "rms_norm_eps", &d))
        rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)d, err);
    if (p->n_expert) {
        int64_t used = 0;
        qk_hf_cfg_int(c, p->desc && p->desc->n_used_key ? p->desc->n_used_key : "num_experts_per_tok", &used);
        rc |= qk_arch_kv_u32(w, p, "expert_count", p->n_expert, err);
        rc |= qk_arch_kv_u32(w, p, "expert_used_count", (uint32_t)used, err);
    }
    if (!strcmp(p->arch, "gemma2")) {
        if (qk_hf_cfg_num(c, "attn_logit_softcapping", &d)) rc |= qk_arch_kv_f32(w, p, "attn_logit_softcapping", (float)d, err);
        if (qk_hf_cfg_num(c, "final_logit_softcapping", &d)) rc |= qk_arch_kv_f32(w, p, "final_logit_softcapping", (float)d, err);
        if (qk_hf_cfg_int(c, "sliding_window", &v)) rc |= qk_arch_kv_u32(w, p, "attention.sliding_window", (uint32_t)v, err);
    }
    int64_t head_dim = 0;
    const bool mla = p->desc && (p->desc->flags & QK_A_MLA); /* its head sizes: extra_kvs */
    if (!mla && qk_hf_cfg_int(c, "head_dim", &head_dim) && head_dim > 0) {
        rc |= qk_arch_kv_u32(w, p, "attention.key_length", (uint32_t)head_dim, err);
        rc |= qk_arch_kv_u32(w, p, "attention.value_length", (uint32_t)head_dim, err);
    }
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    if (p->vocab_size) rc |= qk_arch_kv_u32(w, p, "vocab_size", (uint32_t)p->vocab_size, err);
    int64_t n_embd = 0;
    qk_hf_cfg_int(c, "hidden_size", &n_embd);
    int64_t rope_dims = head_dim > 0 ? head_dim : n_embd / p->n_head;
    if (p->desc && (p->desc->flags & (QK_A_PARTIAL_ROPE | QK_A_PARTIAL_ROPE_HD))) {
        /* int(partial_rotary_factor * n_embd) // n_head, or (GLM-4) int(head_dim * partial_rotary_factor) */
        const bool hd = p->desc->flags & QK_A_PARTIAL_ROPE_HD;
        qk_rope_view rv;
        qk_rope_view_init(c, &rv);
        const double whole = hd ? (double)rope_dims : (double)n_embd, d2 = rv.partial_rotary_factor * whole;
        rope_dims = d2 >= 0 && d2 <= whole ? (int64_t)d2 / (hd ? 1 : p->n_head) : 0;
        if (rope_dims < 2 || rope_dims % 2)
            return qk_fail(err, "%s/config.json: partial_rotary_factor %g gives %lld rotary dimensions per head", ck->dir,
                           rv.partial_rotary_factor, (long long)rope_dims);
    }
    if (!mla) rc |= qk_arch_kv_u32(w, p, "rope.dimension_count", (uint32_t)rope_dims, err);
    if (rc == QK_OK && p->desc && p->desc->mrope_key) rc = add_mrope_sections(ck, p, w, err);
    if (rc == QK_OK && p->desc && (p->desc->flags & QK_A_ROPE_YARN)) rc = qk_arch_yarn_kvs(ck, p, w, err);
    if (rc == QK_OK && p->desc && p->desc->extra_kvs) rc = p->desc->extra_kvs(ck, p, w, err);
    if (rc == QK_OK && p->desc && p->desc->kvs) rc = qk_arch_kv_rules(ck, p, p->desc->kvs, w, err);
    return rc ? QK_FAIL : QK_OK;
}

int qk_arch_kv_rules(const qk_hf_checkpoint *ck, const qk_conv_plan *p, const qk_kv_rule *rules, qk_gguf_writer *w,
                     qk_err *err) {
    const cJSON *c = ck->config;
    int64_t v;
    double d;
    int rc = QK_OK;
    for (const qk_kv_rule *r = rules; rc == QK_OK && r->key; r++) {
        if (r->type == QK_KVR_SWA_PATTERN) {
            const cJSON *lt = obj_get(c, "layer_types");
            bool pat[1024];
            if (p->n_layer > 1024) return qk_fail(err, "%s/config.json: more than 1024 layers", ck->dir);
            for (uint32_t i = 0; i < p->n_layer; i++) {
                const cJSON *e = cJSON_GetArrayItem(lt, (int)i);
                pat[i] = cJSON_IsArray(lt) ? cJSON_IsString(e) && !strcmp(e->valuestring, "sliding_attention")
                                           : (i + 1) % 4 != 0;
            }
            rc = qk_arch_kv_arr(w, p, r->gguf, QK_GGUF_BOOL, pat, p->n_layer, err);
            continue;
        }
        if (r->type == QK_KVR_LAYER_F32) {
            rc = layer_scalars(ck, p, r, w, err);
            continue;
        }
        if (r->type == QK_KVR_COUNT) {
            char path[96];
            snprintf(path, sizeof path, "%s", r->key);
            char *dot = strchr(path, '.');
            if (dot) *dot = 0;
            const cJSON *o = obj_get(c, path), *a = dot ? obj_get(o, dot + 1) : o;
            rc = qk_arch_kv_u32(w, p, r->gguf, cJSON_IsArray(a) ? (uint32_t)cJSON_GetArraySize(a) : 0, err);
            continue;
        }
        if (r->type == QK_KVR_PER_KV_HEAD) {
            if (!qk_hf_cfg_int(c, r->key, &v) || v <= 0 || v / p->n_head_kv > UINT32_MAX)
                return qk_fail(err, "%s/config.json: '%s' is missing or not a positive integer", ck->dir, r->key);
            rc = qk_arch_kv_u32(w, p, r->gguf, (uint32_t)(v / p->n_head_kv), err);
            continue;
        }
        if (r->type == QK_KVR_BOOL_TRUE) {
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, r->key);
            rc = qk_arch_kv_bool(w, p, r->gguf, cJSON_IsBool(b) ? cJSON_IsTrue(b) : true, err);
            continue;
        }
        if (!qk_hf_cfg_num(c, r->key, &d) || d == 0) continue;
        if (r->type == QK_KVR_U32 && !(d > 0 && d <= UINT32_MAX && d == floor(d)))
            return qk_fail(err, "%s/config.json: '%s' is not an integer in 1..4294967295", ck->dir, r->key);
        rc = r->type == QK_KVR_U32 ? qk_arch_kv_u32(w, p, r->gguf, (uint32_t)d, err)
                       : qk_arch_kv_f32(w, p, r->gguf, (float)d, err);
    }
    return rc ? QK_FAIL : QK_OK;
}

int qk_arch_add_hparams(const qk_hf_checkpoint *ck0, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                        qk_err *err) {
    qk_hf_checkpoint view = *ck0; /* the text model's config */
    if (p->config) view.config = (cJSON *)p->config;
    const qk_hf_checkpoint *ck = &view;
    if (!p->desc || p->desc->kv == QK_KV_LLAMA) return add_llama_like(ck, p, w, file_type, err);
    if (p->desc->kv == QK_KV_OWN) return p->desc->write_kvs(ck, p, w, file_type, err);
    kv_list l;
    memset(&l, 0, sizeof l);
    l.arch = p->arch;
    int rc = p->desc->kv == QK_KV_PHI3 ? add_phi3(ck, p, &l, file_type, err) : add_gemma3(ck, p, &l, file_type, err);
    return rc ? QK_FAIL : kv_write(&l, w, err);
}
