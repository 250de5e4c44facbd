/* Meta's original layout (formats/meta_params.h, convert/arch_meta.c):
 * params.json and consolidated weights with Meta's names, Q/K rows in the
 * adjacent-pair rope order. Made here from the generated tiny Llama as
 * transformers' convert_llama_weights_to_hf.py relates the two (HF's q/k =
 * the rotate-half permutation of Meta's), written as consolidated.00.pth
 * (torch's zip format, tests/support/torch_write.c) and as Mistral's
 * consolidated.safetensors: each converts to exactly the GGUF of its Hugging
 * Face twin, KVs included. Derived values are said (vocabulary from the
 * embedding, feed-forward from w1, the release's context length); model-
 * parallel shards, MoE and vision params, a tiktoken tokenizer.model and a
 * tekken.json-only tokenizer are refused by name. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert_run.h"
#include "gguf_compare.h"
#include "hf_checkpoint.h"
#include "qk_test.h"
#include "st_write.h"
#include "tiny_hf.h"
#include "torch_write.h"

enum { N_HEAD = 4, N_HEAD_KV = 2 };

/* Meta's name of a Hugging Face Llama tensor, and the heads to un-permute
 * its rows by (0: none); NULL name if it has none. */
static const char *meta_name(const char *hf, char *out, size_t cap, int *heads) {
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
            *heads = map[i][2][0] == 'q' ? N_HEAD : map[i][2][0] == 'k' ? N_HEAD_KV : 0;
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

/* The Meta twin of the F32 HF folder src in dst: params.json (extra: more
 * JSON members, without braces), the tokenizer files, and the weights as
 * consolidated.00.pth (pth) or consolidated.safetensors, plus the
 * reference code's rope.freqs buffer. */
static int write_meta(const char *src, const char *dst, bool pth, const char *extra) {
    if (hf_copy_sidecars(src, dst, NULL)) return -1;
    char p[1200];
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
        if (!meta_name(items[i].name, name, sizeof name, &heads)) {
            fprintf(stderr, "no Meta name for %s\n", items[i].name);
            return -1;
        }
        m[nm] = items[i];
        snprintf(m[nm].name, sizeof m[nm].name, "%s", name);
        if (heads) unpermute(m[nm].data, m[nm].shape[0], m[nm].shape[1], heads);
        nm++;
    }
    static float freqs[32]; /* head_dim / 2 of 64 */
    for (int i = 0; i < 32; i++) freqs[i] = 1.0f / (float)(i + 1);
    st_item fr = {.dtype = "F32", .nd = 1, .shape = {32}, .data = freqs, .nbytes = sizeof freqs};
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
    free(items), free(m);
    /* the tiny model's config.json, as Meta writes it: rms_norm_eps 1e-5, rope_theta 10000 (ModelArgs' defaults) */
    char params[600];
    snprintf(params, sizeof params,
             "{\"dim\": 256, \"n_layers\": 2, \"n_heads\": %d, \"n_kv_heads\": %d, \"multiple_of\": 256, "
             "\"norm_eps\": 1e-05, \"vocab_size\": -1%s%s}",
             N_HEAD, N_HEAD_KV, extra[0] ? ", " : "", extra);
    snprintf(p, sizeof p, "%s/params.json", dst);
    return rc ? rc : qk_test_write_file(p, params, strlen(params));
}

static char g_hf[1024];

/* <tmp>/<twin>/TinyLlama: the same base name everywhere, as general.name comes from it */
static void model_dir(char *out, size_t cap, const char *twin) {
    char d[1100];
    snprintf(d, sizeof d, "%s/%s", qk_test_tmpdir(), twin);
    mkdir(d, 0755);
    snprintf(out, cap, "%s/TinyLlama", d);
}

static void check_twin(bool pth) {
    char meta[1200], a[1300], b[1300];
    model_dir(meta, sizeof meta, pth ? "meta-pth" : "meta-st");
    CHECK(write_meta(g_hf, meta, pth, "\"max_seq_len\": 256") == 0);
    qk_hf_checkpoint ck;
    qk_err err;
    CHECK(qk_hf_open(meta, &ck, &err) == QK_OK);
    if (!qk_test_checks_failed) {
        CHECK(ck.meta_layout);
        CHECK_CONTAINS(ck.weights, pth ? "consolidated.00.pth" : "consolidated.safetensors");
        CHECK_CONTAINS(ck.weights, "vocab_size");            /* -1: read off tok_embeddings */
        CHECK_CONTAINS(ck.weights, "intermediate_size 512 from feed_forward.w1");
        qk_hf_close(&ck);
    }
    for (int t = 0; t < 2; t++) {
        const char *type = t ? "q8_0" : "f32";
        snprintf(a, sizeof a, "%s-%s.gguf", meta, type);
        snprintf(b, sizeof b, "%s-hf-%s.gguf", meta, type);
        CHECK(convert_run(meta, a, type, 2, &err) == QK_OK);
        CHECK(convert_run(g_hf, b, type, 2, &err) == QK_OK);
        if (qk_test_checks_failed) return;
        /* the tensors come in the source's name order, Meta's names sort otherwise */
        CHECK_MSG(gguf_same_any_order(a, b, pth ? "pth" : "safetensors"), "%s: Meta layout != HF twin", type);
        unlink(a), unlink(b);
    }
}

static void test_consolidated_pth(void) { check_twin(true); }
static void test_consolidated_safetensors(void) { check_twin(false); }

/* Without max_seq_len the context length is the release's, and said. */
static void test_context_length_said(void) {
    char meta[1200];
    model_dir(meta, sizeof meta, "meta-ctx");
    CHECK(write_meta(g_hf, meta, false, "\"rope_theta\": 500000.0, \"use_scaled_rope\": true") == 0);
    qk_hf_checkpoint ck;
    qk_err err;
    CHECK(qk_hf_open(meta, &ck, &err) == QK_OK);
    if (qk_test_checks_failed) return;
    CHECK_CONTAINS(ck.weights, "context 131072 (Llama 3.1+'s; params.json has none)");
    int64_t ctx = 0;
    CHECK(qk_hf_cfg_int(ck.config, "max_position_embeddings", &ctx) && ctx == 131072);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ck.config, "rope_scaling");
    CHECK(rs && !strcmp(qk_hf_cfg_str(rs, "rope_type"), "llama3"));
    qk_hf_close(&ck);
}

/* The folder's tokenizer.json replaced by file `name` holding text. */
static void replace_tokenizer(const char *dir, const char *name, const char *text) {
    char p[1300];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    CHECK(qk_test_write_file(p, text, strlen(text)) == 0);
}

static void test_refusals(void) {
    char meta[1200], p[1300];
    model_dir(meta, sizeof meta, "meta-refuse");
    CHECK(write_meta(g_hf, meta, true, "\"moe\": {\"num_experts\": 8, \"num_experts_per_tok\": 2}") == 0);
    convert_expect_refusal(meta, "has \"moe\", a mixture of experts");
    CHECK(write_meta(g_hf, meta, true, "\"vision_encoder\": {}") == 0);
    convert_expect_refusal(meta, "vision encoder");
    snprintf(p, sizeof p, "%s/params.json", meta);
    const char *no_dim = "{\"n_layers\": 2, \"n_heads\": 4}";
    CHECK(qk_test_write_file(p, no_dim, strlen(no_dim)) == 0);
    convert_expect_refusal(meta, "params.json: no dim");
    const char *bad = "{\"dim\": -256, \"n_layers\": 2, \"n_heads\": 4}";
    CHECK(qk_test_write_file(p, bad, strlen(bad)) == 0);
    convert_expect_refusal(meta, "params.json: dim is not a positive integer");
    /* Mistral's consolidated.safetensors with only tekken.json (Nemo and later): named */
    model_dir(meta, sizeof meta, "meta-tekken");
    CHECK(write_meta(g_hf, meta, false, "") == 0);
    replace_tokenizer(meta, "tekken.json", "{}");
    convert_expect_refusal(meta, "only a Mistral tekken.json tokenizer (no tokenizer.json): not supported");
    model_dir(meta, sizeof meta, "meta-refuse");
    CHECK(write_meta(g_hf, meta, true, "") == 0);
    /* Llama 3's original/ tokenizer.model is tiktoken's rank file: named, not misparsed */
    replace_tokenizer(meta, "tokenizer.model", "IQ== 0\nIg== 1\nIw== 2\n");
    convert_expect_refusal(meta, "tiktoken BPE rank file");
    snprintf(p, sizeof p, "%s/consolidated.01.pth", meta);
    CHECK(qk_test_write_file(p, "x", 1) == 0);
    convert_expect_refusal(meta, "model-parallel shards");
}

int main(void) {
    tiny_hf_tmp(g_hf, sizeof g_hf, "hf-twin");
    /* the twin's folder has the same base name as the Meta ones */
    char twin[1200];
    model_dir(twin, sizeof twin, "hf");
    if (rename(g_hf, twin) != 0) return 1;
    snprintf(g_hf, sizeof g_hf, "%s", twin);
    RUN(test_consolidated_pth);
    RUN(test_consolidated_safetensors);
    RUN(test_context_length_said);
    RUN(test_refusals);
    return qk_test_summary();
}
