#include "meta_params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A positive integer key of params.json: 1 present, 0 absent, QK_FAIL bad. */
static int param_int(const cJSON *params, const char *dir, const char *key, int64_t *out, qk_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!qk_hf_cfg_int(params, key, out) || *out <= 0 || *out > (int64_t)1 << 40) {
        qk_fail(err, "%s/params.json: %s is not a positive integer", dir, key);
        return QK_FAIL;
    }
    return 1;
}

static int param_num(const cJSON *params, const char *dir, const char *key, double *out, qk_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!qk_hf_cfg_num(params, key, out) || !isfinite(*out) || *out <= 0) {
        qk_fail(err, "%s/params.json: %s is not a positive number", dir, key);
        return QK_FAIL;
    }
    return 1;
}

/* Rows (the outer dimension) of a 2-D tensor of the checkpoint; 0 if absent. */
static int64_t rows_of(const qk_hf_checkpoint *ck, const char *name) {
    const qk_hf_tensor *t = qk_hf_find(ck, name);
    return t && t->t->n_dims == 2 ? t->t->shape[0] : 0;
}

int qk_meta_params_config(const cJSON *params, const qk_hf_checkpoint *ck, cJSON **config, char *why, size_t why_cap,
                          qk_err *err) {
    const char *dir = ck->dir;
    *config = NULL;
    why[0] = 0;
    static const char *const refused[][2] = {
        {"moe", "a mixture of experts (Mixtral's original layout)"},
        {"vision_encoder", "a vision encoder (Pixtral's original layout)"},
        {"lora", "LoRA adapters"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(params, refused[i][0]))
            return qk_fail(err, "%s/params.json: has \"%s\", %s, which quantkit does not convert from the original "
                                "layout; convert the Hugging Face release of this model",
                           dir, refused[i][0], refused[i][1]);
    int64_t dim, n_layers, n_heads, n_kv, head_dim = 0, vocab = 0, ff = 0, ctx = 0;
    double eps = 1e-5, theta = 10000.0;
    int r;
    const char *need[] = {"dim", "n_layers", "n_heads"};
    int64_t *dst[] = {&dim, &n_layers, &n_heads};
    for (int i = 0; i < 3; i++) {
        if ((r = param_int(params, dir, need[i], dst[i], err)) < 0) return QK_FAIL;
        if (!r) return qk_fail(err, "%s/params.json: no %s (expected Meta's params.json: dim, n_layers, n_heads)", dir,
                               need[i]);
    }
    if ((r = param_int(params, dir, "n_kv_heads", &n_kv, err)) < 0) return QK_FAIL;
    if (!r) n_kv = n_heads;
    if (param_int(params, dir, "head_dim", &head_dim, err) < 0) return QK_FAIL;
    if (param_num(params, dir, "norm_eps", &eps, err) < 0 || param_num(params, dir, "rope_theta", &theta, err) < 0)
        return QK_FAIL;
    char derived[256] = "";
    /* vocab_size -1 (Llama 1/2): the embedding's rows */
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(params, "vocab_size");
    if (cJSON_IsNumber(vs) && vs->valuedouble > 0) {
        if (param_int(params, dir, "vocab_size", &vocab, err) < 0) return QK_FAIL;
    } else {
        vocab = rows_of(ck, "tok_embeddings.weight");
        if (!vocab) return qk_fail(err, "%s: no 2-D tok_embeddings.weight (Meta's layout) to read the vocabulary size off", dir);
        snprintf(derived + strlen(derived), sizeof derived - strlen(derived), "vocab_size %lld from tok_embeddings; ",
                 (long long)vocab);
    }
    /* hidden_dim (Mistral) or the rows of w1, which multiple_of and ffn_dim_multiplier produced */
    if ((r = param_int(params, dir, "hidden_dim", &ff, err)) < 0) return QK_FAIL;
    if (!r) {
        ff = rows_of(ck, "layers.0.feed_forward.w1.weight");
        if (!ff) return qk_fail(err, "%s: no 2-D layers.0.feed_forward.w1.weight (Meta's layout) to read the "
                                     "feed-forward size off", dir);
        snprintf(derived + strlen(derived), sizeof derived - strlen(derived),
                 "intermediate_size %lld from feed_forward.w1; ", (long long)ff);
    }
    /* params.json has no context length: the release's, as convert_llama_weights_to_hf.py sets it per version */
    const bool scaled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "use_scaled_rope"));
    if ((r = param_int(params, dir, "max_seq_len", &ctx, err)) < 0) return QK_FAIL;
    if (!r && (r = param_int(params, dir, "max_position_embeddings", &ctx, err)) < 0) return QK_FAIL;
    if (!r) {
        const char *rel;
        if (scaled) ctx = 131072, rel = "Llama 3.1+'s";
        else if (theta == 500000.0) ctx = 8192, rel = "Llama 3's";
        else if (theta == 1000000.0) ctx = 32768, rel = "Mistral's";
        else if (eps == 1e-6) ctx = 2048, rel = "Llama 1's";
        else ctx = 4096, rel = "Llama 2's";
        snprintf(derived + strlen(derived), sizeof derived - strlen(derived), "context %lld (%s; params.json has none); ",
                 (long long)ctx, rel);
    }
    cJSON *c = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(c, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("LlamaForCausalLM"));
    cJSON_AddStringToObject(c, "model_type", "llama");
    cJSON_AddNumberToObject(c, "hidden_size", (double)dim);
    cJSON_AddNumberToObject(c, "num_hidden_layers", (double)n_layers);
    cJSON_AddNumberToObject(c, "num_attention_heads", (double)n_heads);
    cJSON_AddNumberToObject(c, "num_key_value_heads", (double)n_kv);
    if (head_dim) cJSON_AddNumberToObject(c, "head_dim", (double)head_dim);
    cJSON_AddNumberToObject(c, "intermediate_size", (double)ff);
    cJSON_AddNumberToObject(c, "vocab_size", (double)vocab);
    cJSON_AddNumberToObject(c, "rms_norm_eps", eps);
    cJSON_AddNumberToObject(c, "rope_theta", theta);
    cJSON_AddNumberToObject(c, "max_position_embeddings", (double)ctx);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", !qk_hf_find(ck, "output.weight"));
    if (scaled) { /* llama-models' apply_scaling: factor 8 (or rope_scaling_factor), low 1, high 4, from 8192 */
        double factor = 8.0, high = 4.0;
        if (param_num(params, dir, "rope_scaling_factor", &factor, err) < 0 ||
            param_num(params, dir, "rope_high_freq_factor", &high, err) < 0) {
            cJSON_Delete(c);
            return QK_FAIL;
        }
        cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
        cJSON_AddNumberToObject(rs, "factor", factor);
        cJSON_AddNumberToObject(rs, "low_freq_factor", 1.0);
        cJSON_AddNumberToObject(rs, "high_freq_factor", high);
        cJSON_AddNumberToObject(rs, "original_max_position_embeddings", 8192);
    }
    const qk_hf_tensor *emb = qk_hf_find(ck, "tok_embeddings.weight");
    if (emb) cJSON_AddStringToObject(c, "torch_dtype", emb->t->dtype == QK_ST_BF16 ? "bfloat16"
                                                       : emb->t->dtype == QK_ST_F16 ? "float16" : "float32");
    size_t n = strlen(derived);
    if (n >= 2) derived[n - 2] = 0; /* the last "; " */
    snprintf(why, why_cap, "%s", derived);
    *config = c;
    return QK_OK;
}
