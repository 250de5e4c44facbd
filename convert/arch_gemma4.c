/* arch_gemma4.c - Gemma 4 (Gemma4ForConditionalGeneration: the text model
 * of the multimodal release, google/gemma-4-31B and -E2B / -E4B layouts;
 * Gemma4ForCausalLM)
 * -> "gemma4", as Gemma4Model (convert_hf_to_gguf.py, on Gemma3Model) maps
 * it and llama.cpp's gemma4 graph runs it:
 *   - sliding and global layers as layer_types lists them
 *     (attention.sliding_window_pattern, a bool per layer); the global
 *     layers have their own head size (global_head_dim -> key_length /
 *     value_length; the sliding head_dim -> key_length_swa /
 *     value_length_swa) and their own kv head count
 *     (num_global_key_value_heads -> head_count_kv as a per-layer array);
 *     with attention_k_eq_v the global layers have no v_proj (V is K before
 *     its norm);
 *   - RMS norms with plain weights (no +1, unlike Gemma 3): input, q/k per
 *     head, post-attention, pre/post feed-forward; V normed without weight;
 *     attention scale 1; GELU-tanh MLP; layer_scalar ->
 *     layer_output_scale.weight; final logit soft-capping;
 *   - rope: NeoX; the sliding layers' "default" rope over their head
 *     (rope.freq_base_swa, rope.dimension_count_swa), the global layers'
 *     "proportional" rope: the first partial_rotary_factor of the frequency
 *     pairs of the global head rotated with exponents over the whole head,
 *     the rest not at all -> rope.dimension_count = global_head_dim and a
 *     generated rope_freqs.weight (1 for the rotated pairs, 1e30 for the
 *     others), which llama.cpp applies on the global layers only;
 *   - token_embd cut to the tokenizer's vocabulary (Gemma3Model); the
 *     vision / audio towers and their embedders left out;
 *   - E2B / E4B: per-layer embeddings (embed_tokens_per_layer ->
 *     per_layer_token_embd, per_layer_model_projection ->
 *     per_layer_model_proj, per_layer_projection_norm ->
 *     per_layer_proj_norm; per layer per_layer_input_gate -> inp_gate,
 *     per_layer_projection -> proj, post_per_layer_input_norm -> post_norm;
 *     embedding_length_per_layer_input), KV sharing (the last
 *     num_kv_shared_layers layers have no K / V: attention.shared_kv_layers;
 *     llama.cpp reads them from the last non-shared layer, global, and the
 *     one before, sliding, which must be so), double-wide MLPs on those
 *     layers (feed_forward_length per layer).
 * Tokenizer: llama.cpp's "gemma4" tokenizer model from tokenizer.json, as Gemma4Model.set_vocab writes it
 * (qk_vocab_load_gemma4 in vocab_hf.c); a tokenizer.json LlamaHfVocab refuses (not BPE with byte fallback and a
 * Sequence decoder) or without merges is refused by name.
 * Refused (each names the key): the MoE block (enable_moe_block: 26B-A4B),
 * per_layer_config, a sliding-layer partial rope, a global rope other than
 * "proportional", attention biases, num_global_key_value_heads without
 * attention_k_eq_v. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_priv.h"
#include "json_file.h"
#include "vocab.h"

/* every layer; attn_k / attn_k_norm (not on KV-shared layers), attn_v (per layer kind) and the per-layer
 * embedding tensors are checked in gemma4_check */
static const char *const k_req_gemma4[] = {"attn_norm.weight", "attn_q.weight", "attn_output.weight",
                                           "attn_q_norm.weight", "post_attention_norm.weight",
                                           "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                           "post_ffw_norm.weight", NULL};

static const cJSON *get(const cJSON *o, const char *k) { return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL; }

/* Gemma4TextConfig's defaults (transformers), which AutoConfig gives the converter for keys a config leaves out;
 * layer_types and rope_parameters defaults are g4_read's */
static const qk_cfg_default k_gemma4_defaults[] = {
    {"vocab_size", "262144"}, {"hidden_size", "2304"}, {"intermediate_size", "9216"},
    {"num_hidden_layers", "30"}, {"num_attention_heads", "8"}, {"num_key_value_heads", "4"},
    {"head_dim", "256"}, {"max_position_embeddings", "131072"}, {"rms_norm_eps", "1e-6"},
    {"sliding_window", "512"}, {"final_logit_softcapping", "null"}, {"hidden_size_per_layer_input", "256"},
    {"global_head_dim", "512"}, {"attention_k_eq_v", "false"}, {"num_kv_shared_layers", "0"},
    {"enable_moe_block", "false"}, {"use_double_wide_mlp", "false"}, {"attention_bias", "false"},
    {"hidden_activation", "\"gelu_pytorch_tanh\""}, {NULL, NULL},
};

/* what the checks, the KVs and rope_freqs all read */
typedef struct {
    int64_t hd_swa, hd_full, kv_swa, kv_full, window;
    bool has_kv_full, k_eq_v;
    double theta_full, theta_swa, prf_full, prf_swa;
    bool has_theta_full, has_theta_swa;
    bool swa[1024]; /* per layer: sliding */
    int64_t n_shared, ple, n_ff; /* num_kv_shared_layers, hidden_size_per_layer_input, intermediate_size */
    bool double_wide;            /* use_double_wide_mlp: 2 x n_ff on the KV-shared layers */
} g4_cfg;

static int g4_rope(const qk_hf_checkpoint *ck, const cJSON *rp, g4_cfg *g, qk_err *err);

static int g4_read(const qk_hf_checkpoint *ck, const qk_conv_plan *p, g4_cfg *g, qk_err *err) {
    const cJSON *c = ck->config;
    memset(g, 0, sizeof *g);
    if (p->n_layer > 1024) return qk_fail(err, "%s/config.json: more than 1024 layers", ck->dir);
    /* Gemma4TextConfig: layer_types defaults to five sliding layers then a global one; the last layer is made
     * global whatever the list says */
    const cJSON *lt = get(c, "layer_types");
    if (lt && !cJSON_IsNull(lt) && (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != (int)p->n_layer))
        return qk_fail(err, "%s/config.json: 'layer_types' should list %u layers ('sliding_attention' or "
                            "'full_attention')", ck->dir, p->n_layer);
    for (uint32_t i = 0; i < p->n_layer; i++) {
        if (!cJSON_IsArray(lt)) {
            g->swa[i] = (i + 1) % 6 != 0;
        } else if (qk_arch_layer_kind(ck, p, i, "sliding_attention", "full_attention", &g->swa[i], err)) {
            return QK_FAIL;
        }
    }
    if (p->n_layer) g->swa[p->n_layer - 1] = false;
    static const char *const refused[][2] = {
        {"enable_moe_block", "the MoE block (Gemma 4 26B-A4B)"},
        {"attention_bias", "attention biases"},
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        const cJSON *v = get(c, refused[k][0]);
        if (v && !cJSON_IsNull(v) && !cJSON_IsFalse(v) && !(cJSON_IsNumber(v) && v->valuedouble == 0))
            return qk_fail(err, "%s/config.json: '%s' is set: %s not supported yet for Gemma 4 (the 31B and E2B / E4B "
                                "layouts are)", ck->dir, refused[k][0], refused[k][1]);
    }
    /* per-layer embeddings, KV sharing, double-wide MLPs (E2B / E4B) */
    const cJSON *v = get(c, "hidden_size_per_layer_input");
    if (v && !cJSON_IsNull(v) && (!qk_hf_cfg_int(c, "hidden_size_per_layer_input", &g->ple) || g->ple < 0 || g->ple > 65536))
        return qk_fail(err, "%s/config.json: 'hidden_size_per_layer_input' is not an integer in 0..65536", ck->dir);
    v = get(c, "num_kv_shared_layers");
    if (v && !cJSON_IsNull(v) &&
        (!qk_hf_cfg_int(c, "num_kv_shared_layers", &g->n_shared) || g->n_shared < 0 || g->n_shared >= p->n_layer))
        return qk_fail(err, "%s/config.json: 'num_kv_shared_layers' is not an integer in 0..%u", ck->dir,
                       p->n_layer - 1);
    g->double_wide = cJSON_IsTrue(get(c, "use_double_wide_mlp"));
    if (g->n_shared > 0) {
        /* Hugging Face: a KV-shared layer reads the last earlier non-shared layer of its kind; llama.cpp: the last
         * non-shared layer (global) or the one before it (sliding) - the same only in that layout */
        const int64_t first = (int64_t)p->n_layer - g->n_shared;
        if (first < 2 || g->swa[first - 1] || !g->swa[first - 2])
            return qk_fail(err, "%s/config.json: with num_kv_shared_layers %lld, layer %lld must be global and layer %lld "
                                "sliding (llama.cpp's gemma4 takes the shared KV from those two)", ck->dir,
                           (long long)g->n_shared, (long long)first - 1, (long long)first - 2);
    }
    if (!qk_hf_cfg_int(c, "intermediate_size", &g->n_ff) || g->n_ff <= 0)
        return qk_fail(err, "%s/config.json: 'intermediate_size' is missing or not a positive integer", ck->dir);
    if (get(c, "per_layer_config"))
        return qk_fail(err, "%s/config.json: 'per_layer_config' is not supported yet for Gemma 4 (global_head_dim and "
                            "num_global_key_value_heads are)", ck->dir);
    if (!qk_hf_cfg_int(c, "head_dim", &g->hd_swa) || g->hd_swa <= 0 || g->hd_swa % 2 || g->hd_swa > 4096)
        return qk_fail(err, "%s/config.json: 'head_dim' is missing or not an even integer in 2..4096", ck->dir);
    if (!qk_hf_cfg_int(c, "global_head_dim", &g->hd_full) || g->hd_full <= 0 || g->hd_full % 2 || g->hd_full > 4096)
        return qk_fail(err, "%s/config.json: 'global_head_dim' is missing or not an even integer in 2..4096", ck->dir);
    g->kv_swa = p->n_head_kv;
    g->has_kv_full = qk_hf_cfg_int(c, "num_global_key_value_heads", &g->kv_full) && get(c, "num_global_key_value_heads") &&
                     !cJSON_IsNull(get(c, "num_global_key_value_heads"));
    if (g->has_kv_full && (g->kv_full <= 0 || p->n_head % g->kv_full))
        return qk_fail(err, "%s/config.json: num_global_key_value_heads %lld does not divide %u heads", ck->dir,
                       (long long)g->kv_full, p->n_head);
    if (!g->has_kv_full) g->kv_full = g->kv_swa;
    const cJSON *kv = get(c, "attention_k_eq_v");
    g->k_eq_v = cJSON_IsTrue(kv);
    /* Hugging Face gives the global layers num_global_key_value_heads only with attention_k_eq_v, while
     * Gemma4Model writes it whenever it is set: a config where the two disagree is refused */
    if (g->has_kv_full && !g->k_eq_v && g->kv_full != g->kv_swa)
        return qk_fail(err, "%s/config.json: num_global_key_value_heads (%lld) differs from num_key_value_heads (%lld) "
                            "but attention_k_eq_v is false: Hugging Face then runs the global layers with %lld kv heads "
                            "and the reference converter writes %lld; refused as ambiguous", ck->dir,
                       (long long)g->kv_full, (long long)g->kv_swa, (long long)g->kv_swa, (long long)g->kv_full);
    if (!qk_hf_cfg_int(c, "sliding_window", &g->window) || g->window <= 0 || g->window > UINT32_MAX)
        return qk_fail(err, "%s/config.json: 'sliding_window' is missing or not a positive integer", ck->dir);
    /* rope_parameters defaults to Gemma4TextConfig's */
    const cJSON *rp = get(c, "rope_parameters");
    cJSON *dflt = NULL;
    if (!rp || cJSON_IsNull(rp)) {
        rp = dflt = cJSON_Parse("{\"sliding_attention\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0}, "
                                "\"full_attention\": {\"rope_type\": \"proportional\", \"partial_rotary_factor\": 0.25, "
                                "\"rope_theta\": 1000000.0}}");
        if (!dflt) return qk_fail(err, "out of memory");
    }
    int rc = g4_rope(ck, rp, g, err);
    cJSON_Delete(dflt);
    if (rc) return QK_FAIL;
    if (get(c, "attn_logit_softcapping") && !cJSON_IsNull(get(c, "attn_logit_softcapping")))
        return qk_fail(err, "%s/config.json: attn_logit_softcapping is set, which Gemma 4 does not have (expected null)",
                       ck->dir);
    return QK_OK;
}

static int g4_rope(const qk_hf_checkpoint *ck, const cJSON *rp, g4_cfg *g, qk_err *err) {
    const cJSON *full = get(rp, "full_attention"), *swa = get(rp, "sliding_attention");
    if (!cJSON_IsObject(full) || !cJSON_IsObject(swa))
        return qk_fail(err, "%s/config.json: rope_parameters needs 'full_attention' and 'sliding_attention' objects",
                       ck->dir);
    const char *tf = qk_hf_cfg_str(full, "rope_type"), *ts = qk_hf_cfg_str(swa, "rope_type");
    if (!tf || strcmp(tf, "proportional"))
        return qk_fail(err, "%s/config.json: rope_parameters.full_attention.rope_type is '%s', expected 'proportional' "
                            "(as Gemma4Model asserts)", ck->dir, tf ? tf : "absent");
    if (ts && strcmp(ts, "default"))
        return qk_fail(err, "%s/config.json: rope_parameters.sliding_attention.rope_type '%s' is not supported (default "
                            "is)", ck->dir, ts);
    double f;
    if ((qk_hf_cfg_num(full, "factor", &f) && f != 1.0) || (qk_hf_cfg_num(swa, "factor", &f) && f != 1.0))
        return qk_fail(err, "%s/config.json: a rope_parameters factor other than 1 is not supported for Gemma 4", ck->dir);
    g->has_theta_full = qk_hf_cfg_num(full, "rope_theta", &g->theta_full);
    g->has_theta_swa = qk_hf_cfg_num(swa, "rope_theta", &g->theta_swa);
    if (!g->has_theta_full || !g->has_theta_swa || g->theta_full <= 0 || g->theta_swa <= 0)
        return qk_fail(err, "%s/config.json: rope_parameters.full_attention / sliding_attention need a positive "
                            "rope_theta", ck->dir);
    if (!qk_hf_cfg_num(full, "partial_rotary_factor", &g->prf_full) || !(g->prf_full > 0 && g->prf_full <= 1))
        return qk_fail(err, "%s/config.json: rope_parameters.full_attention.partial_rotary_factor is missing or not in "
                            "(0, 1]", ck->dir);
    g->prf_swa = 1.0;
    if (qk_hf_cfg_num(swa, "partial_rotary_factor", &g->prf_swa) && g->prf_swa != 1.0)
        return qk_fail(err, "%s/config.json: rope_parameters.sliding_attention.partial_rotary_factor %g is not "
                            "supported (Hugging Face's default rope rotates the whole sliding head)", ck->dir, g->prf_swa);
    return QK_OK;
}

/* Gemma4Model.set_vocab writes llama.cpp's "gemma4" tokenizer model from tokenizer.json (qk_vocab_load_gemma4,
 * which convert uses): read here too, so that a tokenizer the converter cannot write (not SentencePiece-style BPE,
 * no merges) is refused by name in the plan (--dry-run, info) before any tensor is read. */
static int gemma4_tokenizer(const qk_hf_checkpoint *ck, qk_err *err) {
    qk_vocab v;
    if (qk_vocab_load_gemma4(ck->dir, NULL, &v, err)) return QK_FAIL;
    qk_vocab_free(&v);
    return QK_OK;
}

static int gemma4_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    g4_cfg g;
    if (g4_read(ck, p, &g, err) || gemma4_tokenizer(ck, err)) return QK_FAIL;
    int64_t n_embd = 0;
    qk_hf_cfg_int(ck->config, "hidden_size", &n_embd);
    static const char *const ple_globals[] = {"per_layer_token_embd.weight", "per_layer_model_proj.weight",
                                              "per_layer_proj_norm.weight"};
    for (size_t k = 0; k < 3; k++)
        if (!qk_plan_tensor(p, ple_globals[k]) != !g.ple)
            return qk_fail(err, "%s: hidden_size_per_layer_input is %lld but the checkpoint %s %s", ck->dir,
                           (long long)g.ple, g.ple ? "lacks" : "has", ple_globals[k]);
    const int64_t first_shared = (int64_t)p->n_layer - g.n_shared;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const bool swa = g.swa[l], shared = g.n_shared > 0 && (int64_t)l >= first_shared;
        const bool no_v = (!swa && g.k_eq_v) || shared;
        static const char *const per_layer[] = {"inp_gate.weight", "proj.weight", "post_norm.weight"};
        for (size_t k = 0; k < 3; k++)
            if (!qk_plan_layer_tensor(p, l, per_layer[k]) != !g.ple)
                return qk_fail(err, "%s: hidden_size_per_layer_input is %lld but layer %u %s the tensor for blk.%u.%s",
                               ck->dir, (long long)g.ple, l, g.ple ? "lacks" : "has", l, per_layer[k]);
        for (size_t k = 0; !shared && k < 2; k++) {
            const char *what = k ? "attn_k_norm.weight" : "attn_k.weight";
            if (!qk_plan_layer_tensor(p, l, what))
                return qk_fail(err, "%s: layer %u lacks the tensor for blk.%u.%s", ck->dir, l, l, what);
        }
        const qk_conv_tensor *gt = qk_plan_layer_tensor(p, l, "ffn_gate.weight");
        const int64_t ff = g.double_wide && shared ? 2 * g.n_ff : g.n_ff;
        if (gt && gt->ne[1] != ff)
            return qk_fail(err, "%s: layer %u's mlp.gate_proj has %lld rows, expected %lld (intermediate_size%s)", ck->dir,
                           l, (long long)gt->ne[1], (long long)ff, ff != g.n_ff ? " x 2: a double-wide KV-shared layer" : "");
        const int64_t hd = swa ? g.hd_swa : g.hd_full, kvh = swa ? g.kv_swa : g.kv_full;
        const qk_conv_tensor *v = qk_plan_layer_tensor(p, l, "attn_v.weight");
        if (!shared && !v != no_v)
            return qk_fail(err, "%s: %s layer %u %s a v_proj, but attention_k_eq_v is %s", ck->dir,
                           swa ? "sliding" : "global", l, v ? "has" : "lacks", g.k_eq_v ? "true" : "false");
        static const struct { const char *t; int rows; } shp[] = {
            {"attn_q.weight", 0}, {"attn_k.weight", 1}, {"attn_v.weight", 1}, {"attn_q_norm.weight", 2},
            {"attn_k_norm.weight", 2},
        };
        for (size_t k = 0; k < sizeof shp / sizeof shp[0]; k++) {
            const qk_conv_tensor *t = qk_plan_layer_tensor(p, l, shp[k].t);
            if (!t) continue;
            const int64_t want = shp[k].rows == 0 ? (int64_t)p->n_head * hd : shp[k].rows == 1 ? kvh * hd : hd;
            const int64_t got = t->n_dims == 1 ? t->ne[0] : t->ne[1];
            if (got != want || (t->n_dims == 2 && t->ne[0] != n_embd))
                return qk_fail(err, "%s: %s layer %u: %s has %lld rows, expected %lld (head size %lld, %lld kv heads)",
                               ck->dir, swa ? "sliding" : "global", l, t->name, (long long)got, (long long)want,
                               (long long)hd, (long long)kvh);
        }
    }
    return QK_OK;
}

/* Gemma4Model.generate_extra_tensors: the global layers' proportional rope as frequency factors */
static int gemma4_generate(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    g4_cfg g;
    if (g4_read(ck, p, &g, err)) return QK_FAIL;
    const int64_t half = g.hd_full / 2, n_rot = (int64_t)((double)g.hd_full * g.prf_full / 2);
    float *f = malloc((size_t)half * sizeof *f);
    if (!f) return qk_fail(err, "out of memory");
    for (int64_t i = 0; i < half; i++) f[i] = i < n_rot ? 1.0f : 1e30f;
    qk_conv_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "rope_freqs.weight");
    t->n_dims = 1, t->ne[0] = half, t->ne[1] = t->ne[2] = t->ne[3] = 1;
    t->keep_f32 = true;
    t->generated = f;
    return QK_OK;
}

/* TextModel.set_gguf_parameters, Gemma3Model's, then Gemma4Model's (a later value of a key replaces the earlier) */
static int gemma4_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                      qk_err *err) {
    g4_cfg g;
    if (g4_read(ck, p, &g, err)) return QK_FAIL;
    const cJSON *c = ck->config;
    int64_t v;
    double d;
    bool pat[1024];
    int32_t kvs[1024];
    for (uint32_t i = 0; i < p->n_layer; i++) {
        pat[i] = g.swa[i];
        kvs[i] = (int32_t)(pat[i] ? g.kv_swa : g.kv_full);
    }
    int rc = QK_OK;
    rc |= qk_arch_kv_u32(w, p, "block_count", p->n_layer, err);
    if (!qk_hf_cfg_int(c, "max_position_embeddings", &v)) v = 131072;
    rc |= qk_arch_kv_u32(w, p, "context_length", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "hidden_size", &v)) rc |= qk_arch_kv_u32(w, p, "embedding_length", (uint32_t)v, err);
    if (g.double_wide) { /* Gemma4Model: per layer, twice as wide from the first KV-shared layer on */
        int32_t ff[1024];
        for (uint32_t i = 0; i < p->n_layer; i++)
            ff[i] = (int32_t)((int64_t)i < (int64_t)p->n_layer - g.n_shared ? g.n_ff : 2 * g.n_ff);
        rc |= qk_arch_kv_arr(w, p, "feed_forward_length", QK_GGUF_I32, ff, p->n_layer, err);
    } else {
        rc |= qk_arch_kv_u32(w, p, "feed_forward_length", (uint32_t)g.n_ff, err);
    }
    rc |= qk_arch_kv_u32(w, p, "attention.head_count", p->n_head, err);
    if (g.has_kv_full) rc |= qk_arch_kv_arr(w, p, "attention.head_count_kv", QK_GGUF_I32, kvs, p->n_layer, err);
    else rc |= qk_arch_kv_u32(w, p, "attention.head_count_kv", (uint32_t)g.kv_swa, err);
    rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)g.theta_full, err);
    rc |= qk_arch_kv_f32(w, p, "rope.freq_base_swa", (float)g.theta_swa, err);
    rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon",
                         (float)(qk_hf_cfg_num(c, "rms_norm_eps", &d) ? d : 1e-6), err);
    rc |= qk_arch_kv_u32(w, p, "attention.key_length", (uint32_t)g.hd_full, err);
    rc |= qk_arch_kv_u32(w, p, "attention.value_length", (uint32_t)g.hd_full, err);
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    if (qk_hf_cfg_num(c, "final_logit_softcapping", &d) && d != 0)
        rc |= qk_arch_kv_f32(w, p, "final_logit_softcapping", (float)d, err);
    rc |= qk_arch_kv_u32(w, p, "attention.sliding_window", (uint32_t)g.window, err);
    rc |= qk_arch_kv_u32(w, p, "attention.shared_kv_layers", (uint32_t)g.n_shared, err);
    rc |= qk_arch_kv_u32(w, p, "embedding_length_per_layer_input", (uint32_t)g.ple, err);
    rc |= qk_arch_kv_arr(w, p, "attention.sliding_window_pattern", QK_GGUF_BOOL, pat, p->n_layer, err);
    rc |= qk_arch_kv_u32(w, p, "attention.key_length_swa", (uint32_t)g.hd_swa, err);
    rc |= qk_arch_kv_u32(w, p, "attention.value_length_swa", (uint32_t)g.hd_swa, err);
    rc |= qk_arch_kv_u32(w, p, "rope.dimension_count", (uint32_t)g.hd_full, err);
    rc |= qk_arch_kv_u32(w, p, "rope.dimension_count_swa", (uint32_t)((double)g.hd_swa * g.prf_swa), err);
    return rc ? QK_FAIL : QK_OK;
}

const qk_arch_desc qk_arch_family_gemma4[] = {
    {.hf = "Gemma4ForConditionalGeneration", .gguf = "gemma4", .family = "Gemma 4 (31B, E2B / E4B; text model)",
     .flags = QK_A_VOCAB_ROWS | QK_A_MULTIMODAL, .kv = QK_KV_OWN, .names = QK_N_LLAMA | QK_N_POST_NORMS | QK_N_GEMMA4,
     .required = k_req_gemma4, .defaults = k_gemma4_defaults, .check = gemma4_check, .write_kvs = gemma4_kvs, .generate = gemma4_generate},
    {.hf = "Gemma4ForCausalLM", .gguf = "gemma4", .family = "Gemma 4 (31B, E2B / E4B; text)", .flags = QK_A_VOCAB_ROWS,
     .kv = QK_KV_OWN, .names = QK_N_LLAMA | QK_N_POST_NORMS | QK_N_GEMMA4, .required = k_req_gemma4,
     .defaults = k_gemma4_defaults,
     .check = gemma4_check,
     .write_kvs = gemma4_kvs, .generate = gemma4_generate},
    {.hf = NULL},
};
