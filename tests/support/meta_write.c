/* meta_write.c - see meta_write.h. */
#include "meta_write.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_edit.h"
#include "qk_test.h"
#include "st_write.h"
#include "torch_write.h"

/* Meta's name of a Hugging Face Llama tensor, and the heads to un-permute
 * its rows by (0: none); NULL name if it has none. */
static const char *meta_name(const char *hf, char *out, size_t cap, int n_head, int n_head_kv, int *heads) {
    static const char *const map[][3] = {
        {"input_layernorm.weight", "attention_norm.weight", ""},
        {"self_attn.q_proj.weight", "attention.wq.weight", "q"},
        {"self_attn.k_proj.weight", "attention.wk.weight", "k"},
        {"self_attn.v_proj.weight", "attention.wv.weight", ""},
        {"self_attn.o_proj.weight", "attention.wo.weight", ""},
        {"post_attention_layernorm.weight", "ffn_norm.weight", ""},
        {"mlp.gate_proj.weight", "feed_forward.w1.weight", ""},
        {"mlp.down_proj.weight", "feed_forward.w2.weight", ""},
        {"mlp.up_proj.weight", "feed_forward.w3.weight", ""},
    };
    *heads = 0;
    if (!strcmp(hf, "model.embed_tokens.weight")) return snprintf(out, cap, "tok_embeddings.weight"), out;
    if (!strcmp(hf, "model.norm.weight")) return snprintf(out, cap, "norm.weight"), out;
    if (!strcmp(hf, "lm_head.weight")) return snprintf(out, cap, "output.weight"), out;
    int layer, used = 0;
    if (sscanf(hf, "model.layers.%d.%n", &layer, &used) != 1 || !used) return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(hf + used, map[i][0])) {
            *heads = map[i][2][0] == 'q' ? n_head : map[i][2][0] == 'k' ? n_head_kv : 0;
            snprintf(out, cap, "layers.%d.%s", layer, map[i][1]);
            return out;
        }
    return NULL;
}

/* HF row h*hd + j*hd/2 + i holds Meta's row h*hd + 2i + j (rotate-half vs adjacent pairs). */
static void unpermute(float *w, int64_t rows, int64_t cols, int heads) {
    const int64_t hd = rows / heads;
    float *src = malloc((size_t)(rows * cols) * sizeof *src);
    memcpy(src, w, (size_t)(rows * cols) * sizeof *src);
    for (int h = 0; h < heads; h++)
        for (int64_t i = 0; i < hd / 2; i++)
            for (int j = 0; j < 2; j++)
                memcpy(w + (h * hd + 2 * i + j) * cols, src + (h * hd + j * hd / 2 + i) * cols, (size_t)cols * sizeof *w);
    free(src);
}

/* an integer of src's config.json, 0 if absent */
static int cfg_int(const cJSON *c, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

int meta_write_twin(const char *src, const char *dst, bool pth, const char *extra) {
    char p[1200];
    snprintf(p, sizeof p, "%s/config.json", src);
    cJSON *cfg = json_file_read(p);
    const int dim = cfg_int(cfg, "hidden_size"), n_layers = cfg_int(cfg, "num_hidden_layers");
    const int n_head = cfg_int(cfg, "num_attention_heads"), n_head_kv = cfg_int(cfg, "num_key_value_heads");
    cJSON_Delete(cfg);
    if (!dim || !n_layers || !n_head || !n_head_kv || dim % n_head || (dim / n_head) % 2) {
        fprintf(stderr, "meta_write: %s has no Llama config.json\n", p);
        return -1;
    }
    if (hf_copy_sidecars(src, dst, NULL)) return -1;
    snprintf(p, sizeof p, "%s/config.json", dst);
    unlink(p);
    st_item *items;
    size_t n;
    if (st_items_of_checkpoint(src, &items, &n)) return -1;
    st_item *m = calloc(n + 1, sizeof *m);
    size_t nm = 0;
    for (size_t i = 0; i < n; i++) {
        int heads;
        char name[160];
        if (!meta_name(items[i].name, name, sizeof name, n_head, n_head_kv, &heads)) {
            fprintf(stderr, "no Meta name for %s\n", items[i].name);
            return -1;
        }
        m[nm] = items[i];
        snprintf(m[nm].name, sizeof m[nm].name, "%s", name);
        if (heads) unpermute(m[nm].data, m[nm].shape[0], m[nm].shape[1], heads);
        nm++;
    }
    /* the reference code's cache: head_dim / 2 values */
    const int n_freqs = dim / n_head / 2;
    float *freqs = calloc((size_t)n_freqs, sizeof *freqs);
    for (int i = 0; i < n_freqs; i++) freqs[i] = 1.0f / (float)(i + 1);
    st_item fr = {.dtype = "F32", .nd = 1, .shape = {n_freqs}, .data = freqs, .nbytes = (size_t)n_freqs * sizeof *freqs};
    snprintf(fr.name, sizeof fr.name, "rope.freqs");
    m[nm++] = fr;
    int rc = 0;
    if (pth) {
        tw_tensor *tt = calloc(nm, sizeof *tt);
        tw_storage *ss = calloc(nm, sizeof *ss);
        char (*keys)[16] = calloc(nm, sizeof *keys);
        for (size_t i = 0; i < nm; i++) {
            snprintf(keys[i], sizeof keys[i], "%zu", i);
            tt[i] = (tw_tensor){.name = m[i].name, .key = keys[i], .cls = "FloatStorage",
                                .storage_numel = m[i].nbytes / 4, .nd = m[i].nd};
            int64_t st = 1;
            for (int k = m[i].nd - 1; k >= 0; k--) tt[i].shape[k] = m[i].shape[k], tt[i].stride[k] = st, st *= m[i].shape[k];
            ss[i] = (tw_storage){keys[i], m[i].data, m[i].nbytes, i % 2 == 1};
        }
        snprintf(p, sizeof p, "%s/consolidated.00.pth", dst);
        rc = tw_write_bin(p, "consolidated", tt, nm, ss, nm, false);
        free(tt), free(ss), free(keys);
    } else {
        snprintf(p, sizeof p, "%s/consolidated.safetensors", dst);
        rc = st_write_file(p, m, nm);
    }
    for (size_t i = 0; i < n; i++) free(items[i].data);
    free(items), free(m), free(freqs);
    /* the model's config.json as Meta writes it: rms_norm_eps 1e-5 (ModelArgs' default) */
    char params[800];
    snprintf(params, sizeof params,
             "{\"dim\": %d, \"n_layers\": %d, \"n_heads\": %d, \"n_kv_heads\": %d, \"multiple_of\": 256, "
             "\"norm_eps\": 1e-05%s%s%s}",
             dim, n_layers, n_head, n_head_kv, strstr(extra, "\"vocab_size\"") ? "" : ", \"vocab_size\": -1",
             extra[0] ? ", " : "", extra);
    snprintf(p, sizeof p, "%s/params.json", dst);
    return rc ? rc : qk_test_write_file(p, params, strlen(params));
}

