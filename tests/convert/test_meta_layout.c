/* Meta's original layout (formats/meta_params.h, convert/arch_meta.c):
 * params.json and consolidated weights with Meta's names, Q/K rows in the
 * adjacent-pair rope order. Made here from the generated tiny Llama as
 * transformers' convert_llama_weights_to_hf.py relates the two (HF's q/k =
 * the rotate-half permutation of Meta's), written as consolidated.00.pth
 * (torch's zip format, tests/support/torch_write.c) and as Mistral's
 * consolidated.safetensors: each converts to exactly the GGUF of its Hugging
 * Face twin, KVs included. Derived values are said (vocabulary from the
 * embedding, feed-forward from w1, the release's context length); model-
 * parallel shards, MoE and vision params, a tiktoken tokenizer.model whose
 * size does not make the vocabulary and a tekken.json-only tokenizer are
 * refused by name (Llama 3's real rank file: test_llama3_original). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert_run.h"
#include "gguf_compare.h"
#include "hf_checkpoint.h"
#include "meta_write.h"
#include "qk_test.h"
#include "st_write.h"
#include "tiny_hf.h"
#include "torch_write.h"

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
    CHECK(meta_write_twin(g_hf, meta, pth, "\"max_seq_len\": 256") == 0);
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
    CHECK(meta_write_twin(g_hf, meta, false, "\"rope_theta\": 500000.0, \"use_scaled_rope\": true") == 0);
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
    CHECK(meta_write_twin(g_hf, meta, true, "\"moe\": {\"num_experts\": 8, \"num_experts_per_tok\": 2}") == 0);
    convert_expect_refusal(meta, "has \"moe\", a mixture of experts");
    CHECK(meta_write_twin(g_hf, meta, true, "\"vision_encoder\": {}") == 0);
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
    CHECK(meta_write_twin(g_hf, meta, false, "") == 0);
    replace_tokenizer(meta, "tekken.json", "{}");
    convert_expect_refusal(meta, "only a Mistral tekken.json tokenizer (no tokenizer.json): not supported");
    model_dir(meta, sizeof meta, "meta-refuse");
    CHECK(meta_write_twin(g_hf, meta, true, "") == 0);
    /* a tiktoken rank file (Llama 3's original tokenizer.model) is read with Meta's 256 special tokens
     * (test_llama3_original); one whose size does not make the vocabulary is refused naming both */
    replace_tokenizer(meta, "tokenizer.model", "IQ== 0\nIg== 1\nIw== 2\n");
    convert_expect_refusal(meta, "/tokenizer.model: 3 tokens + Llama 3's 256 special tokens = 259, but the vocabulary "
                                 "of tok_embeddings.weight is ");
    /* outside Meta's layout (no params.json) a tiktoken tokenizer.model has no known special tokens: named */
    char hf[1024];
    tiny_hf_tmp(hf, sizeof hf, "hf-tiktoken");
    snprintf(p, sizeof p, "%s/tokenizer.model", hf);
    CHECK(qk_test_write_file(p, "IQ== 0\nIg== 1\n", 14) == 0);
    convert_expect_refusal(hf, "tokenizer.model: this is a tiktoken BPE rank file");
    convert_expect_refusal(hf, "quantkit reads one only in Meta's original Llama 3 layout");
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
