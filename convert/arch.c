/* arch.c - the tensor plan of a Hugging Face checkpoint, driven by the
 * architecture registry (arch_priv.h; one description per family in
 * arch_<family>.c, listed by arch_registry.c).
 *
 * Names: "model.embed_tokens.weight" -> token_embd.weight, "model.norm.weight"
 * -> output_norm.weight, "lm_head.weight" -> output.weight (absent when tied;
 * dropped for Gemma 1/2), "model.layers.N.<x>" -> "blk.N.<y>" by the family's
 * own rules, then the shared map of names (tensor_map.c), whose rows every
 * family reads are transformers' Llama layout:
 *   input_layernorm -> attn_norm, self_attn.{q,k,v,o}_proj -> attn_{q,k,v,output}
 *   (weights and biases), self_attn.{q,k}_norm -> attn_{q,k}_norm,
 *   post_attention_layernorm -> ffn_norm (Gemma 2/3: post_attention_norm),
 *   pre_feedforward_layernorm -> ffn_norm, post_feedforward_layernorm ->
 *   post_ffw_norm, mlp.{gate,up,down}_proj -> ffn_{gate,up,down}.
 * Transforms: Q/K rows un-permuted (n_head for q, n_head_kv for k) for
 * families whose llama.cpp graph rotates adjacent pairs; +1 on Gemma norms;
 * token_embd cut to the vocabulary (Gemma 3); experts stacked into 3-D.
 * Multimodal releases: "language_model." is dropped from names (as
 * convert_hf_to_gguf.py's filter_tensors does) and vision/audio/projector
 * tensors are left out and counted in plan->left_out.
 */
#include "arch.h"
#include "str_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_priv.h"
#include "json_file.h"
#include "ggml_types.h"
#include "sentencepiece_model.h"

const qk_arch_desc *qk_arch_find(const char *hf, const char *text_model_type) {
    for (size_t i = 0; hf && i < qk_arch_registry_size(); i++) {
        const qk_arch_desc *d = qk_arch_registry_at(i);
        if (!strcmp(d->hf, hf) &&
            (!d->text_model_type || (text_model_type && !strcmp(d->text_model_type, text_model_type))))
            return d;
    }
    return NULL;
}

/* The text model's model_type: text_config's (a multimodal release), else the top level's; NULL if none. */
static const char *text_model_type(const cJSON *config) {
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(config, "text_config");
    const char *mt = cJSON_IsObject(tc) ? qk_hf_cfg_str(tc, "model_type") : NULL;
    return mt ? mt : qk_hf_cfg_str(config, "model_type");
}

/* "a, b" of the text model types the registry has for class hf (buf empty: none) */
static const char *class_model_types(const char *hf, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < qk_arch_registry_size(); i++) {
        const qk_arch_desc *d = qk_arch_registry_at(i);
        if (strcmp(d->hf, hf) || !d->text_model_type) continue;
        int w = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", d->text_model_type);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    return buf;
}

size_t qk_arch_count(void) { return qk_arch_registry_size(); }

bool qk_arch_info_at(size_t i, qk_arch_info *out) {
    const qk_arch_desc *d = qk_arch_registry_at(i);
    if (!d) return false;
    *out = (qk_arch_info){d->hf, d->text_model_type, d->gguf, d->family, (d->flags & QK_A_MULTIMODAL) != 0,
                           d->experts != NULL || d->fused_experts != NULL, d->caveat};
    return true;
}

const char *qk_arch_family_pre(const char *gguf_arch) {
    for (size_t i = 0; gguf_arch && i < qk_arch_registry_size(); i++) {
        const qk_arch_desc *d = qk_arch_registry_at(i);
        if (d->pre && !strcmp(d->gguf, gguf_arch)) return d->pre;
    }
    return NULL;
}

const char *qk_arch_supported_list(void) {
    /* built from the registry on first use; the registry is constant, so a
     * concurrent first call writes the same bytes */
    static char buf[4096];
    if (!buf[0]) {
        char tmp[sizeof buf];
        size_t o = 0;
        for (size_t i = 0; i < qk_arch_registry_size(); i++) {
            /* a class described once per text model type is named once */
            if (i && !strcmp(qk_arch_registry_at(i)->hf, qk_arch_registry_at(i - 1)->hf)) continue;
            int w = snprintf(tmp + o, sizeof tmp - o, "%s%s", i ? ", " : "", qk_arch_registry_at(i)->hf);
            if (w < 0 || (size_t)w >= sizeof tmp - o) break;
            o += (size_t)w;
        }
        memcpy(buf, tmp, o + 1);
    }
    return buf;
}

void qk_arch_plan_free(qk_conv_plan *p) {
    /* up to the capacity: a failed plan leaves its last, uncounted entry half built */
    for (size_t i = 0; p->tensors && i < p->cap_tensors; i++) {
        free(p->tensors[i].generated), free(p->tensors[i].experts), free(p->tensors[i].gptq);
        free(p->tensors[i].expert_scales);
    }
    free(p->tensors);
    cJSON_Delete(p->owned_config);
    memset(p, 0, sizeof *p);
}

static int need_int(const cJSON *cfg, const char *key, int64_t *out, qk_err *err) {
    if (!qk_hf_cfg_int(cfg, key, out) || *out <= 0)
        return qk_fail(err, "config.json: '%s' is missing or not a positive integer", key);
    return QK_OK;
}

/* The text model's config (see qk_conv_plan.config): text_config's keys
 * over the top level ({**hparams, **text_config}, as TextModel does), then
 * the config class's defaults for absent keys. */
static int text_config(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, qk_conv_plan *p, qk_err *err) {
    p->config = ck->config;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(ck->config, "text_config");
    const bool nested = (ad->flags & QK_A_MULTIMODAL) && cJSON_IsObject(tc);
    if (!nested && !ad->defaults && !ad->aliases && !ad->ff_per_hidden) return QK_OK;
    cJSON *m = cJSON_Duplicate(ck->config, 1);
    if (!m) return qk_fail(err, "out of memory");
    p->config = p->owned_config = m;
    for (const cJSON *it = nested ? tc->child : NULL; it; it = it->next) {
        cJSON *dup = cJSON_Duplicate(it, 1);
        if (!dup) return qk_fail(err, "out of memory");
        if (cJSON_HasObjectItem(m, it->string)) cJSON_ReplaceItemInObjectCaseSensitive(m, it->string, dup);
        else cJSON_AddItemToObject(m, it->string, dup);
    }
    for (const qk_cfg_alias *a = ad->aliases; a && a->key; a++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, a->from);
        if (!v || cJSON_IsNull(v)) continue;
        cJSON *dup = cJSON_Duplicate(v, 1);
        if (!dup) return qk_fail(err, "out of memory");
        if (cJSON_HasObjectItem(m, a->key)) cJSON_ReplaceItemInObjectCaseSensitive(m, a->key, dup);
        else cJSON_AddItemToObject(m, a->key, dup);
    }
    for (const qk_cfg_default *d = ad->defaults; d && d->key; d++) {
        if (cJSON_HasObjectItem(m, d->key)) continue;
        cJSON *v = cJSON_Parse(d->json);
        if (!v) return qk_fail(err, "out of memory");
        cJSON_AddItemToObject(m, d->key, v);
    }
    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(m, "intermediate_size");
    int64_t hidden;
    if (ad->ff_per_hidden && (!ff || cJSON_IsNull(ff)) && qk_hf_cfg_int(m, "hidden_size", &hidden) && hidden > 0 &&
        hidden < (int64_t)1 << 40) {
        cJSON_DeleteItemFromObjectCaseSensitive(m, "intermediate_size");
        if (!cJSON_AddNumberToObject(m, "intermediate_size", (double)(ad->ff_per_hidden * hidden)))
            return qk_fail(err, "out of memory");
    }
    return QK_OK;
}

/* convert_hf_to_gguf.py's TextModel.filter_tensors: tensors of the vision
 * or audio side of a multimodal checkpoint. Returns the end of the name
 * component that marks it (the prefix to report), or 0. */
static size_t multimodal_prefix(const char *n) {
    static const char *const marks[] = {"visual.", "vision.", "audio.", "vision_", "audio_", "projector.",
                                        "patch_embed", "image_newline"};
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        const char *at = strstr(n, marks[k]);
        if (!at) continue;
        const char *dot = strchr(at, '.');
        return dot ? (size_t)(dot - n) + 1 : strlen(n);
    }
    return 0;
}

static void note_left_out(qk_conv_plan *p, const qk_hf_tensor *src, size_t plen) {
    int g = 0;
    while (g < p->n_left_out && (strlen(p->left_out[g].prefix) != plen || strncmp(p->left_out[g].prefix, src->t->name, plen)))
        g++;
    if (g == p->n_left_out) {
        if (g == (int)(sizeof p->left_out / sizeof p->left_out[0])) g--; /* the last group collects the rest */
        else {
            snprintf(p->left_out[g].prefix, sizeof p->left_out[g].prefix, "%.*s", (int)plen, src->t->name);
            p->n_left_out++;
        }
    }
    p->left_out[g].n_tensors++;
    p->left_out[g].n_bytes += src->t->end - src->t->begin;
}

/* name with every "language_model." removed (filter_tensors' rename) */
static const char *strip_language_model(const char *n, char *buf, size_t cap) {
    if (!strstr(n, "language_model.")) return n;
    size_t o = 0;
    for (const char *s = n; *s && o + 1 < cap;) {
        if (!strncmp(s, "language_model.", 15)) s += 15;
        else buf[o++] = *s++;
    }
    buf[o] = 0;
    return buf;
}

/* one of the family's skip_prefixes, followed by a digit */
static bool skipped_name(const qk_arch_desc *ad, const char *n) {
    for (const char *const *s = ad->skip_prefixes; s && *s; s++) {
        const size_t l = strlen(*s);
        if (!strncmp(n, *s, l) && n[l] >= '0' && n[l] <= '9') return true;
    }
    return false;
}

/* "<prefix>E<suffix>" with E a decimal expert index: E, or -1 */
static int match_expert(const char *rest, const qk_expert_rule *r) {
    size_t pl = strlen(r->prefix);
    if (strncmp(rest, r->prefix, pl)) return -1;
    const char *d = rest + pl;
    int e = 0, nd = 0;
    while (*d >= '0' && *d <= '9' && nd < 6) e = e * 10 + (*d++ - '0'), nd++;
    if (!nd || strcmp(d, r->suffix)) return -1;
    return e;
}

/* a layer's state-space mixer tensor (qk_ssm_mixer): 1 planned, 0 not the mixer's, QK_FAIL */
static int ssm_tensor(const qk_hf_checkpoint *ck, const qk_ssm_mixer *m, const qk_hf_tensor *src, int layer,
                      const char *rest, qk_conv_plan *p, qk_err *err) {
    const size_t n = strlen(m->prefix);
    if (strncmp(rest, m->prefix, n)) return 0;
    if (m->dims2) {
        qk_mamba2_dims d;
        return m->dims2(ck, &d, err) ? QK_FAIL : qk_mamba2_tensor(ck, src, layer, rest + n, &d, p, err);
    }
    qk_mamba1_dims d;
    return m->dims1(ck, &d, err) ? QK_FAIL : qk_mamba1_tensor(ck, src, layer, rest + n, &d, m->norms, p, err);
}

/* Gemma3Model.modify_tensors keeps the first n_vocab_real rows of the
 * embedding: the sentencepiece vocabulary's length (config vocab_size, else
 * the model's piece count), else tokenizer.json's vocab + added_tokens. */
static int gemma3_vocab_rows(const qk_hf_checkpoint *ck, int64_t *rows, qk_err *err) {
    char path[4096];
    if (qk_path_join(path, sizeof path, ck->dir, "tokenizer.model", err)) return QK_FAIL;
    if (qk_file_exists(path)) {
        if (qk_hf_cfg_int(ck->config, "vocab_size", rows) && *rows > 0) return QK_OK;
        qk_spm_model m;
        memset(&m, 0, sizeof m);
        if (qk_spm_load(path, &m, err)) return QK_FAIL;
        *rows = (int64_t)m.n_pieces;
        qk_spm_free(&m);
        return QK_OK;
    }
    cJSON *tj = NULL;
    if (qk_json_load(ck->dir, "tokenizer.json", &tj, err)) return QK_FAIL;
    if (!tj) return qk_fail(err, "%s: no tokenizer.model or tokenizer.json (Gemma3 cuts token_embd to the vocabulary)", ck->dir);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tj, "model");
    const cJSON *vocab = cJSON_IsObject(model) ? cJSON_GetObjectItemCaseSensitive(model, "vocab") : NULL;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tj, "added_tokens");
    int rc = QK_OK;
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(added))
        rc = qk_fail(err, "%s/tokenizer.json: expected a model.vocab object and an added_tokens list", ck->dir);
    else
        *rows = (int64_t)cJSON_GetArraySize(vocab) + cJSON_GetArraySize(added);
    cJSON_Delete(tj);
    return rc;
}

/* the index of the planned tensor named name, p->n_tensors when there is none */
static size_t plan_index(const qk_conv_plan *p, const char *name) {
    size_t i = 0;
    while (i < p->n_tensors && strcmp(p->tensors[i].name, name)) i++;
    return i;
}

const qk_conv_tensor *qk_plan_tensor(const qk_conv_plan *p, const char *name) {
    const size_t i = plan_index(p, name);
    return i < p->n_tensors ? &p->tensors[i] : NULL;
}

const qk_conv_tensor *qk_plan_layer_tensor(const qk_conv_plan *p, uint32_t layer, const char *what) {
    char nm[sizeof p->tensors[0].name]; /* cut as the planner cuts the names it writes */
    snprintf(nm, sizeof nm, "blk.%u.%s", layer, what);
    return qk_plan_tensor(p, nm);
}

/* the first of names[0..n) whose presence in layer `layer` is `present` */
static const char *layer_first(const qk_conv_plan *p, uint32_t layer, const char *const *names, size_t n, bool present) {
    for (size_t i = 0; i < n && names[i]; i++)
        if ((qk_plan_layer_tensor(p, layer, names[i]) != NULL) == present) return names[i];
    return NULL;
}
const char *qk_plan_layer_missing(const qk_conv_plan *p, uint32_t layer, const char *const *names, size_t n) {
    return layer_first(p, layer, names, n, false);
}
const char *qk_plan_layer_extra(const qk_conv_plan *p, uint32_t layer, const char *const *names, size_t n) {
    return layer_first(p, layer, names, n, true);
}

int qk_plan_layer_need(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t layer, const char *kind,
                       const char *const *names, qk_err *err) {
    const char *miss = qk_plan_layer_missing(p, layer, names, SIZE_MAX);
    return miss ? qk_fail(err, "%s: %s layer %u lacks the tensor for blk.%u.%s", ck->dir, kind, layer, layer, miss)
                : QK_OK;
}

int qk_float_check(const qk_hf_checkpoint *ck, const qk_st_tensor *s, qk_err *err) {
    if (qk_st_dtype_is_float(s->dtype)) return QK_OK;
    return qk_fail(err, "%s: tensor '%s' has dtype %s, expected a float type", ck->dir, s->name,
                   qk_st_dtype_name(s->dtype));
}

int qk_arch_layer_kind(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t i, const char *a, const char *b,
                       bool *is_a, qk_err *err) {
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(ck->config, "layer_types");
    if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != (int)p->n_layer)
        return qk_fail(err, "%s/config.json: 'layer_types' should list %u layers ('%s' or '%s')", ck->dir, p->n_layer,
                       a, b);
    const cJSON *e = cJSON_GetArrayItem(lt, (int)i);
    if (!cJSON_IsString(e) || (strcmp(e->valuestring, a) && strcmp(e->valuestring, b)))
        return qk_fail(err, "%s/config.json: layer_types[%u] is %s, expected '%s' or '%s'", ck->dir, i,
                       cJSON_IsString(e) ? e->valuestring : "not a string", a, b);
    *is_a = !strcmp(e->valuestring, a);
    return QK_OK;
}

/* Every tensor llama.cpp's graph of the architecture needs, per layer. */
static int check_required(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, const qk_conv_plan *p, qk_err *err) {
    const char *on = ad->output_norm ? ad->output_norm : "output_norm.weight";
    if (!qk_plan_tensor(p, on)) {
        qk_name_rule g;
        return qk_fail(err, "%s: tensor '%s' is missing", ck->dir, qk_arch_global_name(ad, true, on, &g) ? g.hf : on);
    }
    int64_t lead = 0; /* leading dense layers: no experts there */
    if (ad->n_dense_lead_key && (!qk_hf_cfg_int(ck->config, ad->n_dense_lead_key, &lead) || lead < 0)) lead = 0;
    int64_t step = 1; /* sparse layers every step-th (the family's check says what else a layer must have) */
    if (ad->moe_step_key && (!qk_hf_cfg_int(ck->config, ad->moe_step_key, &step) || step < 1)) step = 1;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const char *miss = ad->required ? qk_plan_layer_missing(p, l, ad->required, SIZE_MAX) : NULL;
        if (miss)
            return qk_fail(err, "%s: layer %u lacks the tensor for blk.%u.%s (%s needs it)", ck->dir, l, l, miss, ad->hf);
        /* QK_A_EXPERT_LAYERS_OWN: a layer without any of them is the family's check's to judge */
        const bool own = (ad->flags & QK_A_EXPERT_LAYERS_OWN) && ad->experts && ad->experts->prefix &&
                         !qk_plan_layer_tensor(p, l, ad->experts->gguf);
        for (const qk_expert_rule *x = ad->experts; !own && p->n_expert && (int64_t)l >= lead && x && x->prefix; x++) {
            const qk_conv_tensor *st = qk_plan_layer_tensor(p, l, x->gguf);
            if (!st) return qk_fail(err, "%s: layer %u has no experts for blk.%u.%s", ck->dir, l, l, x->gguf);
            for (int e = 0; e < st->n_experts; e++)
                if (!st->experts[e]) return qk_fail(err, "%s: layer %u lacks expert %d of %s", ck->dir, l, e, st->name);
        }
        for (const qk_fused_expert_rule *x = ad->fused_experts;
             p->n_expert && (int64_t)l >= lead && (l + 1) % step == 0 && x && x->hf; x++) {
            if (x->single) continue; /* a shared expert: the family's required list says whether it must be there */
            if (!qk_plan_layer_tensor(p, l, x->gguf))
                return qk_fail(err, "%s: layer %u lacks the tensor '%s%u.%s' (%s needs it for blk.%u.%s)", ck->dir, l,
                               ad->layer_prefix ? ad->layer_prefix : "model.layers.", l, x->hf, ad->hf, l, x->gguf);
        }
    }
    return QK_OK;
}

/* quantization_config: none, "fp8" or "gptq" (dequantized as
 * convert_hf_to_gguf.py does); every other method is refused by name. */
static int quant_config(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, bool *fp8, int64_t block[2],
                        qk_gptq_config *gptq, qk_err *err) {
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(ck->config, "quantization_config");
    if (!q || cJSON_IsNull(q)) return QK_OK;
    const char *m = qk_hf_cfg_str(q, "quant_method");
    if (!cJSON_IsObject(q) || !m)
        return qk_fail(err, "%s/config.json: quantization_config has no quant_method string", ck->dir);
    if (!strcmp(m, "gptq")) return qk_gptq_read_config(ck->dir, q, gptq, err);
    if (!strcmp(m, "mxfp4") && (ad->flags & QK_A_MXFP4)) return QK_OK; /* the family reads its blocks */
    if (!strcmp(m, "fp8")) {
        *fp8 = true;
        const cJSON *bs = cJSON_GetObjectItemCaseSensitive(q, "weight_block_size");
        if (bs && !cJSON_IsNull(bs)) {
            if (!cJSON_IsArray(bs) || cJSON_GetArraySize(bs) != 2)
                return qk_fail(err, "%s/config.json: quantization_config.weight_block_size is not [rows, columns]", ck->dir);
            for (int i = 0; i < 2; i++) {
                const cJSON *v = cJSON_GetArrayItem(bs, i);
                if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e6 || v->valuedouble != (double)(int64_t)v->valuedouble)
                    return qk_fail(err, "%s/config.json: quantization_config.weight_block_size[%d] is not a positive "
                                        "integer", ck->dir, i);
                block[i] = (int64_t)v->valuedouble;
            }
        }
        return QK_OK;
    }
    if (!strcmp(m, "awq"))
        return qk_fail(err, "%s/config.json: quantization_config.quant_method 'awq' (AWQ 4-bit weights: qweight/qzeros/"
                            "scales) is not supported (llama.cpp's converter does not dequantize AWQ either); convert "
                            "the original float checkpoint", ck->dir);
    return qk_fail(err, "%s/config.json: quantization_config.quant_method '%s' is not supported (fp8 and gptq "
                        "checkpoints are dequantized); convert the original float checkpoint", ck->dir, m);
}

int64_t qk_arch_source_row(const qk_conv_tensor *t, int64_t r) {
    const int64_t units = t->n_dims == 1 ? t->ne[0] : t->ne[1];
    if (t->permute_heads) r = qk_arch_permuted_row(r, units, t->permute_heads);
    if (!t->row_map) return r;
    const int64_t hd = t->map_hd, rep = t->map_rep, head = r / hd, d = r % hd;
    if (t->row_map == QK_ROWS_PER_HEAD_QKV) { /* output part (q, k, v) x head -> source head x part */
        const int64_t n_head = units / (3 * hd), part = head / n_head;
        return ((head % n_head) * 3 + part) * hd + d;
    }
    /* grouped: q head h sits in kv group h / rep at slot h % rep; k and v in slots rep and rep + 1 */
    const int64_t g = t->row_map == QK_ROWS_GROUPED_Q ? head / rep : head;
    const int64_t slot = t->row_map == QK_ROWS_GROUPED_Q ? head % rep : t->row_map == QK_ROWS_GROUPED_K ? rep : rep + 1;
    return (g * (rep + 2) + slot) * hd + d;
}

/* A fused or transposed source (QK_X_*) laid out for llama.cpp: t is the
 * planned tensor (its name, source and shape set). GROUPED fills t, t + 1,
 * t + 2 with attn_q, attn_k, attn_v. */
static int fused_layout(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, const qk_conv_plan *p, qk_conv_tensor *t,
                        int xform, int64_t head_dim, int permute, qk_err *err) {
    const char *n = t->src->t->name;
    const int64_t units = t->n_dims == 1 ? t->ne[0] : t->ne[1];
    if (t->scale || t->gptq)
        return qk_fail(err, "%s: %s tensor '%s' in a fused or transposed layout is not supported", ck->dir,
                       t->scale ? "FP8" : "GPTQ", n);
    if (xform == QK_X_TRANSPOSE) {
        if (t->n_dims != 2) return qk_fail(err, "%s: tensor '%s' is not 2-D (a Conv1D weight)", ck->dir, n);
        const int64_t a = t->ne[0];
        t->ne[0] = t->ne[1], t->ne[1] = a, t->transposed = true;
        return QK_OK;
    }
    const int64_t rep = p->n_head / p->n_head_kv, want = (int64_t)(p->n_head + 2 * p->n_head_kv) * head_dim;
    if (units != want)
        return qk_fail(err, "%s: fused q/k/v tensor '%s' has %lld rows, expected (%u heads + 2 x %u kv heads) x %lld",
                       ck->dir, n, (long long)units, p->n_head, p->n_head_kv, (long long)head_dim);
    t->map_hd = head_dim, t->map_rep = rep;
    if (xform == QK_X_QKV_PER_HEAD) {
        if (rep != 1) return qk_fail(err, "%s: '%s': a per-head fused q/k/v needs as many kv heads as heads", ck->dir, n);
        t->row_map = QK_ROWS_PER_HEAD_QKV;
        return QK_OK;
    }
    const bool bias = t->n_dims == 1;
    const int64_t rows[3] = {(int64_t)p->n_head * head_dim, (int64_t)p->n_head_kv * head_dim,
                             (int64_t)p->n_head_kv * head_dim};
    static const char *const part[3] = {"attn_q", "attn_k", "attn_v"};
    const int maps[3] = {QK_ROWS_GROUPED_Q, QK_ROWS_GROUPED_K, QK_ROWS_GROUPED_V};
    const int perm[3] = {permute ? (int)p->n_head : 0, permute ? (int)p->n_head_kv : 0, 0};
    int layer = 0;
    sscanf(t->name, "blk.%d.", &layer);
    for (int k = 2; k >= 0; k--) { /* t itself last: it is the template */
        qk_conv_tensor *o = t + k;
        if (k) *o = *t;
        snprintf(o->name, sizeof o->name, "blk.%d.%s.%s", layer, part[k], bias ? "bias" : "weight");
        o->row_map = maps[k], o->permute_heads = perm[k];
        if (bias) o->ne[0] = rows[k];
        else o->ne[1] = rows[k];
        if (perm[k] && (rows[k] % perm[k] || (rows[k] / perm[k]) % 2))
            return qk_fail(err, "%s: tensor '%s' has %lld rows, not a multiple of 2 x %d heads", ck->dir, n,
                           (long long)rows[k], perm[k]);
    }
    (void)ad;
    return QK_OK;
}

static const qk_hf_tensor *scale_of(const qk_hf_checkpoint *ck, const qk_hf_tensor *w) {
    char nm[300];
    if (snprintf(nm, sizeof nm, "%s_scale_inv", w->t->name) >= (int)sizeof nm) return NULL;
    return qk_hf_find(ck, nm);
}

/* The scale tensor fits its weight: with a block size, ceil(rows / b0) x
 * ceil(columns / b1) blocks; without, one value or one per row. */
static int check_scale(const qk_hf_checkpoint *ck, const qk_hf_tensor *w, const qk_hf_tensor *s, const int64_t blk[2],
                       int64_t out[2], qk_err *err) {
    const qk_st_tensor *t = w->t, *st = s->t;
    if (!qk_st_dtype_is_float(st->dtype))
        return qk_fail(err, "%s: scale '%s' has dtype %s, expected a float type", ck->dir, st->name,
                       qk_st_dtype_name(st->dtype));
    const int64_t rows = t->n_dims == 2 ? t->shape[0] : 1, cols = t->shape[t->n_dims - 1];
    if (blk[0] && t->n_dims == 2) {
        const int64_t br = (rows + blk[0] - 1) / blk[0], bc = (cols + blk[1] - 1) / blk[1];
        if (st->n_dims != 2 || st->shape[0] != br || st->shape[1] != bc)
            return qk_fail(err, "%s: scale '%s' should be %lld x %lld blocks of %lld x %lld for its %lld x %lld weight",
                           ck->dir, st->name, (long long)br, (long long)bc, (long long)blk[0], (long long)blk[1],
                           (long long)rows, (long long)cols);
        out[0] = blk[0], out[1] = blk[1];
        return QK_OK;
    }
    if (st->n_elements == 1) return out[0] = out[1] = 0, QK_OK;
    if (st->n_elements == (uint64_t)rows && t->n_dims == 2) return out[0] = 1, out[1] = cols, QK_OK;
    return qk_fail(err, "%s: scale '%s' of %llu values fits neither one per tensor nor one per row of '%s'", ck->dir,
                   st->name, (unsigned long long)st->n_elements, t->name);
}

/* The fused expert rules (qk_fused_expert_rule) naming `rest`: one planned
 * tensor each, appended to p; *n_made says how many. */
static int fused_experts(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, qk_conv_plan *p, const qk_hf_tensor *src,
                         const char *rest, int layer, bool quantized, int *n_made, qk_err *err) {
    *n_made = 0;
    const qk_st_tensor *st = src->t;
    for (const qk_fused_expert_rule *x = ad->fused_experts; x && x->hf; x++) {
        if (strcmp(rest, x->hf)) continue;
        if (quantized)
            return qk_fail(err, "%s: quantized fused expert tensor '%s': not supported (convert the float checkpoint)",
                           ck->dir, st->name);
        if (qk_float_check(ck, st, err)) return QK_FAIL;
        if (x->single ? st->n_dims != 2 : st->n_dims != 3 || st->shape[0] != (int64_t)p->n_expert) {
            if (x->single)
                return qk_fail(err, "%s: fused tensor '%s' should be 2-D, has %d dimensions", ck->dir, st->name,
                               st->n_dims);
            return qk_fail(err, "%s: fused expert tensor '%s' should be 3-D [%u experts, ., .], has %d dimensions%s",
                           ck->dir, st->name, p->n_expert, st->n_dims,
                           st->n_dims == 3 ? " and another expert count" : "");
        }
        const int o = x->single ? 0 : 1; /* the first matrix dimension */
        const int64_t outs = x->transposed ? st->shape[o + 1] : st->shape[o], ins = x->transposed ? st->shape[o] : st->shape[o + 1];
        if (outs <= 0 || ins <= 0 || outs % x->n_parts)
            return qk_fail(err, "%s: fused expert tensor '%s': %lld outputs per expert do not split in %d parts", ck->dir,
                           st->name, (long long)outs, x->n_parts);
        qk_conv_tensor *t = &p->tensors[p->n_tensors];
        snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, x->gguf);
        if (qk_plan_tensor(p, t->name))
            return qk_fail(err, "%s: tensor '%s' maps to %s, which another tensor already gave", ck->dir, st->name,
                           t->name);
        t->src = src;
        t->n_dims = x->single ? 2 : 3;
        t->ne[0] = ins, t->ne[1] = outs / x->n_parts, t->ne[2] = x->single ? 1 : p->n_expert, t->ne[3] = 1;
        t->fused_rows = outs, t->fused_row0 = x->part * t->ne[1], t->transposed = x->transposed;
        p->n_params += (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2];
        p->n_tensors++;
        (*n_made)++;
    }
    return QK_OK;
}

int qk_arch_plan(const qk_hf_checkpoint *ck0, qk_conv_plan *p, qk_err *err) {
    memset(p, 0, sizeof *p);
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(ck0->config, "architectures");
    const char *hf = cJSON_IsArray(archs) && cJSON_IsString(archs->child) ? archs->child->valuestring : NULL;
    if (!hf)
        return qk_fail(err, "%s/config.json: no 'architectures' list; supported: %s", ck0->dir, qk_arch_supported_list());
    const char *mt = text_model_type(ck0->config);
    const qk_arch_desc *ad = ck0->meta_layout ? &qk_arch_meta_llama : qk_arch_find(hf, mt);
    const char *why = qk_arch_refusal(hf, mt);
    if (!ad && why) return qk_fail(err, "%s: architecture '%s': %s", ck0->dir, hf, why);
    char types[256];
    if (!ad && *class_model_types(hf, types, sizeof types))
        return qk_fail(err, "%s: architecture '%s' with a text model of model_type '%s' is not supported yet; its "
                            "supported text model types: %s", ck0->dir, hf, mt ? mt : "(none)", types);
    if (!ad)
        return qk_fail(err, "%s: architecture '%s' is not supported yet; supported: %s", ck0->dir, hf,
                       qk_arch_supported_list());
    p->hf_arch = hf;
    p->arch = ad->gguf;
    p->desc = ad;
    p->family = ad->family;
    p->caveat = ad->caveat;
    p->family_pre = ad->pre;
    if (text_config(ck0, ad, p, err)) return QK_FAIL;
    if (ad->arch_of) p->arch = ad->arch_of(p->config);
    /* the checkpoint as its language model sees it: the text config */
    qk_hf_checkpoint view = *ck0;
    view.config = (cJSON *)p->config;
    const qk_hf_checkpoint *ck = &view;
    const char *layer_prefix = ad->layer_prefix ? ad->layer_prefix : "model.layers.";
    int64_t n_layer, n_embd, n_head = 0, n_ff, n_head_kv = 0, vocab = 0, head_dim = 0;
    if (need_int(ck->config, "num_hidden_layers", &n_layer, err) || need_int(ck->config, "hidden_size", &n_embd, err) ||
        (!(ad->flags & QK_A_NO_ATTENTION) && need_int(ck->config, "num_attention_heads", &n_head, err)) ||
        (ad->kv != QK_KV_OWN && need_int(ck->config, "intermediate_size", &n_ff, err))) /* own writers check theirs */
        return qk_fail_prefix(err, "%s", ck->dir);
    int64_t n_extra = 0;
    if (ad->extra_layers_key && qk_hf_cfg_int(ck->config, ad->extra_layers_key, &n_extra) && n_extra > 0 && n_extra < 64)
        n_layer += n_extra;
    if (!qk_hf_cfg_int(ck->config, "num_key_value_heads", &n_head_kv) || n_head_kv <= 0) n_head_kv = n_head;
    if (ad->flags & QK_A_MLA) n_head_kv = 1; /* DeepseekV2Model: MLA written as MQA of the compressed kv */
    qk_hf_cfg_int(ck->config, "vocab_size", &vocab);
    if (ad->flags & QK_A_NO_ATTENTION) {
        n_head_kv = 0; /* no heads, no head size: the family's check sizes its layers */
    } else {
        if (!qk_hf_cfg_int(ck->config, "head_dim", &head_dim) || head_dim <= 0)
            head_dim = ad->head_dim_default ? ad->head_dim_default : n_embd / n_head;
        if (n_layer > 100000 || n_head > 100000 || n_head_kv > n_head || n_head % n_head_kv || head_dim % 2 ||
            head_dim > 65536)
            return qk_fail(err, "%s/config.json: inconsistent head counts (heads %lld, kv heads %lld, head_dim %lld)",
                           ck->dir, (long long)n_head, (long long)n_head_kv, (long long)head_dim);
    }
    if (n_layer > 100000) return qk_fail(err, "%s/config.json: %lld layers is out of range", ck->dir, (long long)n_layer);
    p->n_layer = (uint32_t)n_layer, p->n_head = (uint32_t)n_head, p->n_head_kv = (uint32_t)n_head_kv;
    p->vocab_size = (uint64_t)(vocab > 0 ? vocab : 0);
    if (ad->experts || ad->fused_experts) {
        int64_t n_expert = 0, n_used = 0;
        /* Granite 4.0-H micro: num_local_experts 0; dense Nemotron-H: no n_routed_experts */
        const bool dense = (ad->flags & QK_A_EXPERTS_OPTIONAL) &&
                           (!qk_hf_cfg_int(ck->config, ad->n_expert_key, &n_expert) || n_expert == 0);
        if (!dense && (need_int(ck->config, ad->n_expert_key, &n_expert, err) ||
                       (ad->n_used_key && need_int(ck->config, ad->n_used_key, &n_used, err))))
            return qk_fail_prefix(err, "%s", ck->dir);
        if (n_expert > 256 || n_used > n_expert)
            return qk_fail(err, "%s/config.json: %lld experts with %lld used is out of range", ck->dir,
                           (long long)n_expert, (long long)n_used);
        p->n_expert = (uint32_t)n_expert;
    }

    bool fp8 = false;
    int64_t fp8_block[2] = {0, 0};
    qk_gptq_config gptq = {0};
    if (quant_config(ck0, ad, &fp8, fp8_block, &gptq, err)) return QK_FAIL;

    /* room for the generated tensors and for fused sources split in three (QK_X_QKV_GROUPED) */
    p->tensors = calloc(3 * ck->n_tensors + 2, sizeof *p->tensors);
    if (!p->tensors) return qk_fail(err, "out of memory");
    p->cap_tensors = 3 * ck->n_tensors + 2;
    /* generated tensors first (rope_freqs, rope_factors_long/short) */
    if (qk_arch_generated(ck, ad, head_dim, p, err)) return QK_FAIL;
    bool have_embd = false;
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const qk_hf_tensor *src = &ck->tensors[i];
        char nbuf[256];
        const char *n = src->t->name;
        if (strstr(n, "rotary_emb.inv_freq")) continue; /* recomputed by llama.cpp */
        if (fp8 && (qk_str_ends_with(n, "_scale_inv") || qk_str_ends_with(n, ".activation_scale") ||
                    qk_str_ends_with(n, "_activation_scale")))
            continue; /* folded into their weights (below); activation scales are unused */
        if (gptq.bits && qk_gptq_is_part(ck, n)) continue; /* read through their layer's qweight (below) */
        char gbuf[256];
        const bool is_gptq = gptq.bits && qk_str_ends_with(n, ".qweight");
        if (is_gptq) { /* the layer's weight, dequantized: mapped by its float name */
            snprintf(gbuf, sizeof gbuf, "%.*s.weight", (int)(strlen(n) - strlen(".qweight")), n);
            n = gbuf;
        }
        if (ad->flags & QK_A_MULTIMODAL) {
            size_t plen = multimodal_prefix(n);
            if (plen) {
                note_left_out(p, src, plen);
                continue;
            }
        }
        n = strip_language_model(n, nbuf, sizeof nbuf);
        if (skipped_name(ad, n)) continue;
        if (ad->strip_prefix && !strncmp(n, ad->strip_prefix, strlen(ad->strip_prefix))) n += strlen(ad->strip_prefix);
        int xform = 0;
        bool squeeze = false;
        qk_conv_tensor *t = &p->tensors[p->n_tensors];
        int permute = 0;
        int layer = -1, consumed = 0;
        bool embd = false;
        qk_name_rule gr;
        const qk_name_rule *g = qk_arch_global_name(ad, false, n, &gr) ? &gr : NULL;
        const size_t lpl = strlen(layer_prefix);
        if (g && !strcmp(g->gguf, "output.weight") && (ad->flags & QK_A_DROP_LM_HEAD)) {
            continue; /* llama.cpp's Gemma reuses token_embd; the converter drops lm_head */
        } else if (g && !*g->gguf) {
            continue; /* a buffer the converter skips (Meta's rope.freqs) */
        } else if (g) {
            snprintf(t->name, sizeof t->name, "%s", g->gguf);
            if (!strcmp(g->gguf, "token_embd.weight")) have_embd = embd = true;
        } else if (!strncmp(n, layer_prefix, lpl) && sscanf(n + lpl, "%d.%n", &layer, &consumed) == 1 && consumed > 0 &&
                   layer >= 0 && layer < n_layer) {
            consumed += (int)lpl;
            const char *rest = n + consumed;
            int own = ad->layer_tensor ? ad->layer_tensor(ck, src, layer, rest, p, err) : 0;
            if (!own && ad->ssm) own = ssm_tensor(ck, ad->ssm, src, layer, rest, p, err);
            if (own < 0) return QK_FAIL;
            if (own) continue; /* the family's own layout (gpt-oss's 3-D experts) */
            const qk_expert_rule *x = ad->experts;
            int e = -1;
            while (p->n_expert && x && x->prefix && (e = match_expert(rest, x)) < 0) x++;
            if (e >= 0) {
                if (e >= (int)p->n_expert)
                    return qk_fail(err, "%s: expert tensor '%s' names expert %d of %u", ck->dir, n, e, p->n_expert);
                char nm[64];
                snprintf(nm, sizeof nm, "blk.%d.%s", layer, x->gguf);
                const size_t q = plan_index(p, nm);
                qk_conv_tensor *st = q < p->n_tensors ? &p->tensors[q] : NULL;
                if (src->t->n_dims != 2)
                    return qk_fail(err, "%s: expert tensor '%s' is not 2-D", ck->dir, n);
                if (!st) {
                    st = t;
                    snprintf(st->name, sizeof st->name, "%s", nm);
                    st->experts = calloc(p->n_expert, sizeof *st->experts);
                    if (!st->experts) return qk_fail(err, "out of memory");
                    st->n_experts = (int)p->n_expert;
                    st->n_dims = 3;
                    st->ne[0] = src->t->shape[1], st->ne[1] = src->t->shape[0], st->ne[2] = p->n_expert, st->ne[3] = 1;
                    p->n_tensors++;
                } else if (!st->experts) { /* a fused 3-D source gave it already */
                    return qk_fail(err, "%s: tensor '%s' maps to %s, which another tensor already gave", ck->dir, n,
                                   nm);
                } else if (st->ne[0] != src->t->shape[1] || st->ne[1] != src->t->shape[0]) {
                    return qk_fail(err, "%s: expert tensor '%s' has another shape than expert 0's", ck->dir, n);
                }
                if (st->experts[e]) return qk_fail(err, "%s: expert tensor '%s' appears twice", ck->dir, n);
                if (is_gptq)
                    return qk_fail(err, "%s: GPTQ expert tensor '%s': not supported yet (dense GPTQ layers are)",
                                   ck->dir, src->t->name);
                const qk_hf_tensor *sc = fp8 ? scale_of(ck, src) : NULL;
                if (sc) { /* each expert has its own scale; one block shape for them all */
                    int64_t blk[2];
                    if (check_scale(ck, src, sc, fp8_block, blk, err)) return QK_FAIL;
                    if (st->expert_scales && memcmp(st->scale_block, blk, sizeof blk))
                        return qk_fail(err, "%s: FP8 expert tensor '%s' has a scale of another layout than its "
                                            "sibling experts'", ck->dir, n);
                    if (!st->expert_scales && !(st->expert_scales = calloc(p->n_expert, sizeof *st->expert_scales)))
                        return qk_fail(err, "out of memory");
                    st->expert_scales[e] = sc;
                    memcpy(st->scale_block, blk, sizeof blk);
                }
                st->experts[e] = src;
                p->n_params += src->t->n_elements;
                continue;
            }
            int nf = 0;
            if (p->n_expert && fused_experts(ck, ad, p, src, rest, layer, (fp8 && scale_of(ck, src)) || is_gptq, &nf, err)) return QK_FAIL;
            if (nf) continue;
            qk_name_rule lr;
            const qk_name_rule *r = qk_arch_layer_name(ad, rest, &lr) ? &lr : NULL;
            if (!r || !r->gguf)
                return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, n, hf);
            if (!*r->gguf) continue; /* a buffer the converter skips */
            xform = r->permute & QK_X_MASK;
            squeeze = (r->permute & QK_X_SQUEEZE) != 0;
            snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, r->gguf);
            if (qk_plan_tensor(p, t->name))
                return qk_fail(err, "%s: tensor '%s' maps to %s, which another tensor already gave", ck->dir, n, t->name);
            if (ad->flags & QK_A_PERMUTE_QK)
                permute = (r->permute & ~(QK_X_MASK | QK_X_SQUEEZE)) == QK_PERM_Q   ? (int)n_head
                          : (r->permute & ~(QK_X_MASK | QK_X_SQUEEZE)) == QK_PERM_K ? (int)n_head_kv
                                                                    : 0;
        } else if ((ad->flags & QK_A_MTP_LEFT_OUT) && !strncmp(n, layer_prefix, lpl) &&
                   sscanf(n + lpl, "%d.%n", &layer, &consumed) == 1 && consumed > 0 && layer >= n_layer) {
            note_left_out(p, src, lpl + (size_t)consumed); /* an MTP layer: the converter skips it */
            continue;
        } else if ((ad->flags & QK_A_MTP_LEFT_OUT) && !strncmp(n, "mtp.", 4)) {
            note_left_out(p, src, 4); /* Qwen 3.5's multi-token-prediction block */
            continue;
        } else {
            return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, n, hf);
        }
        if (is_gptq) {
            if (!(t->gptq = malloc(sizeof *t->gptq))) return qk_fail(err, "out of memory");
            if (qk_gptq_bind(ck, src, gptq, t->gptq, err)) return QK_FAIL;
        } else if (squeeze && (src->t->n_dims != 3 || src->t->shape[1] != 1))
            return qk_fail(err, "%s: tensor '%s' should be 3-D [channels, 1, kernel] (a depthwise Conv1d weight)",
                           ck->dir, n);
        else if (!squeeze && (src->t->n_dims < 1 || src->t->n_dims > 2))
            return qk_fail(err, "%s: tensor '%s' has %d dimensions, expected 1 or 2", ck->dir, n, src->t->n_dims);
        if (!is_gptq && qk_float_check(ck, src->t, err)) return QK_FAIL;
        t->src = src;
        if (fp8 && (t->scale = scale_of(ck, src)) && check_scale(ck, src, t->scale, fp8_block, t->scale_block, err))
            return QK_FAIL;
        t->n_dims = (uint32_t)src->t->n_dims;
        t->ne[0] = t->gptq ? t->gptq->cols : src->t->shape[src->t->n_dims - 1];
        t->ne[1] = t->gptq ? t->gptq->rows : src->t->n_dims >= 2 ? src->t->shape[0] : 1;
        t->ne[2] = t->ne[3] = 1;
        if (squeeze) t->n_dims = 2; /* data_torch.squeeze(1): the same values, row-major */
        t->keep_f32 = t->n_dims == 1 || strstr(t->name, "_norm.weight") || !strstr(t->name, ".weight") ||
                      strstr(t->name, "ffn_gate_inp") || strstr(t->name, "shortconv.conv.") ||
                      strstr(t->name, "ssm_conv1d.");
        size_t nl = strlen(n);
        if ((ad->flags & QK_A_NORM_PLUS1) && nl >= 11 && !strcmp(n + nl - 11, "norm.weight")) t->add = 1.0f;
        if (xform && fused_layout(ck, ad, p, t, xform, head_dim, permute, err)) return QK_FAIL;
        if (permute && !xform) {
            if (t->ne[1] % permute || (t->ne[1] / permute) % 2)
                return qk_fail(err, "%s: tensor '%s' has %lld rows, not a multiple of 2 x %d heads", ck->dir, n,
                               (long long)t->ne[1], permute);
            t->permute_heads = permute;
        }
        uint64_t n_el = (uint64_t)t->ne[0] * (uint64_t)t->ne[1];
        if (embd && (ad->flags & QK_A_VOCAB_ROWS) && t->n_dims == 2) {
            int64_t rows;
            if (gemma3_vocab_rows(ck, &rows, err)) return QK_FAIL;
            if (rows > 0 && rows < t->ne[1]) { /* data_torch[:n_vocab_real]: the first rows */
                t->ne[1] = rows;
                n_el = (uint64_t)rows * (uint64_t)t->ne[0];
            }
        }
        p->n_params += n_el;
        p->n_tensors += xform == QK_X_QKV_GROUPED ? 3 : 1;
    }
    /* GptOssModel writes the repacked MXFP4 experts from generate_extra_tensors, before every other tensor (in
     * their source order): same here, a stable partition */
    bool mx = false;
    for (size_t i = 0; i < p->n_tensors && !mx; i++) mx = p->tensors[i].x3d == QK_X3_MXFP4;
    if (mx) {
        qk_conv_tensor *tmp = malloc(p->n_tensors * sizeof *tmp);
        if (!tmp) return qk_fail(err, "out of memory");
        size_t k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < p->n_tensors; i++)
                if ((p->tensors[i].x3d == QK_X3_MXFP4) == (pass == 0)) tmp[k++] = p->tensors[i];
        memcpy(p->tensors, tmp, p->n_tensors * sizeof *tmp);
        free(tmp);
    }
    /* convert_hf_to_gguf.py's dequant_model adds the dequantized GPTQ
     * weights after every other tensor (in their qweight order): same here,
     * a stable partition */
    if (gptq.bits) {
        qk_conv_tensor *tmp = malloc((p->n_tensors ? p->n_tensors : 1) * sizeof *tmp);
        if (!tmp) return qk_fail(err, "out of memory");
        size_t k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < p->n_tensors; i++)
                if ((p->tensors[i].gptq != NULL) == (pass == 1)) tmp[k++] = p->tensors[i];
        memcpy(p->tensors, tmp, p->n_tensors * sizeof *tmp);
        free(tmp);
    }
    if (!have_embd) {
        qk_name_rule g;
        return qk_fail(err, "%s: tensor '%s' is missing", ck->dir,
                       qk_arch_global_name(ad, true, "token_embd.weight", &g) ? g.hf : "token_embd");
    }
    for (const qk_kv_rule *k = ad->kvs; k && k->key; k++) {
        double v;
        if (k->required && (!qk_hf_cfg_num(ck->config, k->key, &v) || v == 0))
            return qk_fail(err, "%s/config.json: '%s' is missing or 0 (%s needs it for %s.%s)", ck->dir, k->key, hf,
                           ad->gguf, k->gguf);
    }
    if (ad->check && ad->check(ck, p, err)) return QK_FAIL;
    if (check_required(ck, ad, p, err)) return QK_FAIL;
    return ad->finish ? ad->finish(ck, p, err) : QK_OK;
}
