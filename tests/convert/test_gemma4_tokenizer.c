/* Gemma 4's tokenizer: llama.cpp's "gemma4" tokenizer model, as the pinned convert_hf_to_gguf.py's
 * Gemma4Model.set_vocab writes it, for the Gemma-4-style tokenizer.json of the tiny Gemma 4 checkpoint
 * (tests/support/tiny_hf_gemma4tok.c: Gemma's layout - Replace normalizer, no pre-tokenizer, BPE with byte
 * fallback, Sequence decoder, the special / turn / tool / image / audio tokens as added tokens).
 *
 *  1. kvs: the converted GGUF's tokenizer KVs are what the converter writes, computed here from the
 *     tokenizer.json by the converter's own rules (gguf-py LlamaHfVocab + Gemma4Model.set_vocab +
 *     SpecialVocab), independently of quantkit's importer: tokens by id, every score -1000, <0xXX> BYTE,
 *     transformers' special tokens CONTROL, the seven chat-parser tokens USER_DEFINED, the rest NORMAL,
 *     merges "left right" in file order, model "gemma4" and no pre, special ids, add_bos true,
 *     add_eos false, add_space_prefix false, the chat template.
 *  2. parity: llama.cpp loads the converted GGUF and tokenizes tests/data/tokenize_strings.txt into the
 *     ids Hugging Face's tokenizers (npm @huggingface/tokenizers, tests/tools/hf_tokenize.mjs) gives for
 *     that tokenizer.json, with and without special tokens (every string, no known difference).
 *  3. generate: the tiny Gemma 4 model with that tokenizer, converted to F32, generates greedily in
 *     llama.cpp from a prompt llama.cpp tokenized, the same tokens as the independent forward pass. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_run.h"
#include "hf_forward.h"
#include "hf_tokenize_ref.h"
#include "hf_safetensors_min.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "qk_test.h"
#include "tokenize_strings.h"
#include "tiny_hf.h"
#include "vocab.h"
#include "vocab_ref.h"

/* Writes the tiny Gemma 4 checkpoint (Gemma4ForConditionalGeneration) and converts it to F32 once. */
static const char *g_dir, *g_gguf;
static bool prepare(void) {
    static char dir[700], out[800];
    static int state; /* 0 not yet, 1 ok, -1 failed */
    if (state) return state > 0;
    state = -1;
    snprintf(dir, sizeof dir, "%s/g4tok/hf", qk_test_tmpdir());
    snprintf(out, sizeof out, "%s/g4tok-f32.gguf", qk_test_tmpdir());
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "gemma4", s.n_layer = 6, s.n_embd = 128, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 256, s.tied = true;
    CHECK(tiny_hf_write(dir, &s) == 0);
    qk_err err;
    int rc = convert_run(dir, out, "f32", 2, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (rc != QK_OK) return false;
    g_dir = dir, g_gguf = out, state = 1;
    return true;
}

static cJSON *load_json(const char *dir, const char *file) {
    char p[900];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    size_t n;
    unsigned char *b = qk_test_read_file(p, &n);
    CHECK_MSG(b != NULL, "cannot read %s", p);
    if (!b) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)b, n);
    free(b);
    CHECK_MSG(j != NULL, "%s: not JSON", p);
    return j;
}

static bool is_byte_text(const char *s) {
    static const char hex[] = "0123456789abcdefABCDEF";
    return strlen(s) == 6 && !strncmp(s, "<0x", 3) && strchr(hex, s[3]) && strchr(hex, s[4]) && s[5] == '>';
}

static void test_kvs(void) {
    llama_ref_init_backend();
    if (!prepare()) return;
    cJSON *tok = load_json(g_dir, "tokenizer.json"), *tc = load_json(g_dir, "tokenizer_config.json");
    if (!tok || !tc) goto out;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const int n = cJSON_GetArraySize(vocab);
    CHECK(n > 300 && cJSON_GetArraySize(merges) > 50);
    /* transformers 5's all_special_tokens (LlamaHfVocab's special_ids): every tokenizer_config.json key ending in
     * "_token" with a string value (the roles and the model-specific ones such as sot_token), then the
     * extra_special_tokens list */
    const char *special[64];
    int ns = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tc) {
        size_t l = strlen(e->string);
        if (l > 6 && !strcmp(e->string + l - 6, "_token") && cJSON_IsString(e) && ns < 64) special[ns++] = e->valuestring;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(tc, "extra_special_tokens")) if (ns < 64) special[ns++] =
        e->valuestring;
    CHECK_EQ_INT(ns, 5 + 15 + 2);
    static const char *const visible[] = {"<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>",
                                          "<|tool_response>", "<tool_response|>", "<|\"|>"};
    qk_vocab want;
    qk_vocab_init(&want);
    qk_err err;
    CHECK(qk_vocab_set_model(&want, "gemma4", NULL, &err) == QK_OK);
    CHECK(qk_vocab_alloc_tokens(&want, (size_t)n, 1, -1000.0f, QK_TOKEN_NORMAL, &err) == QK_OK);
    int seen = 0;
    cJSON_ArrayForEach(e, vocab) {
        int id = e->valueint;
        CHECK(id >= 0 && id < n);
        if (id < 0 || id >= n) continue;
        seen++;
        CHECK(qk_vocab_set_token(&want, (size_t)id, e->string, strlen(e->string), &err) == QK_OK);
        int32_t type = QK_TOKEN_NORMAL;
        if (is_byte_text(e->string)) type = QK_TOKEN_BYTE;
        else
            for (int k = 0; k < ns; k++)
                if (!strcmp(special[k], e->string)) type = QK_TOKEN_CONTROL;
        for (size_t k = 0; k < sizeof visible / sizeof visible[0]; k++)
            if (!strcmp(visible[k], e->string)) type = QK_TOKEN_USER_DEFINED;
        want.token_type[id] = type;
    }
    CHECK_EQ_INT(seen, n);
    cJSON_ArrayForEach(e, merges) {
        char m[256];
        snprintf(m, sizeof m, "%s %s", cJSON_GetArrayItem(e, 0)->valuestring, cJSON_GetArrayItem(e, 1)->valuestring);
        CHECK(qk_vocab_add_merge(&want, m, strlen(m), &err) == QK_OK);
    }
    /* SpecialVocab: tokenizer_config's role texts among added_tokens */
    static const struct { int role; const char *text; } ids[] = {
        {QK_SPECIAL_BOS, "<bos>"}, {QK_SPECIAL_EOS, "<eos>"}, {QK_SPECIAL_UNK, "<unk>"}, {QK_SPECIAL_PAD, "<pad>"},
        {QK_SPECIAL_MASK, "<mask>"}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        want.special[ids[i].role] = cJSON_GetObjectItemCaseSensitive(vocab, ids[i].text)->valueint;
    /* add_bos / add_eos: tokenizer_config.json (and Gemma4Model's add_bos True); add_sep: SpecialVocab reads the
     * post_processor's pair template <bos> A <bos> B, whose middle token is neither sep nor eos -> False */
    want.add_bos = QK_TRI_TRUE, want.add_eos = QK_TRI_FALSE, want.add_sep = QK_TRI_FALSE;
    CHECK_EQ_INT(vocab_check_against_gguf(&want, g_gguf), 0);
    qk_vocab_free(&want);

    /* what vocab_check_against_gguf does not require to be there */
    const llama_ref *r = llama_ref_require();
    struct ref_gguf_init_params ip = {true, NULL};
    struct gguf_context *g = r ? r->gguf_init_from_file(g_gguf, ip) : NULL;
    CHECK(g != NULL);
    if (!g) goto out;
    CHECK_MSG(r->gguf_find_key(g, "tokenizer.ggml.pre") < 0, "tokenizer.ggml.pre is written; Gemma4Model writes none");
    static const char *const must[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                       "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                                       "tokenizer.ggml.scores", "tokenizer.ggml.merges"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) CHECK_MSG(r->gguf_find_key(g, must[i]) >= 0, "%s missing", must[i]);
    static const struct { const char *key; int val; } flags[] = {
        {"tokenizer.ggml.add_bos_token", 1}, {"tokenizer.ggml.add_eos_token", 0}, {"tokenizer.ggml.add_sep_token", 0},
        {"tokenizer.ggml.add_space_prefix", 0}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        int64_t k = r->gguf_find_key(g, flags[i].key);
        CHECK_MSG(k >= 0, "%s missing", flags[i].key);
        if (k >= 0) CHECK_EQ_INT(*(const unsigned char *)r->gguf_get_val_data(g, k) != 0, flags[i].val);
    }
    int64_t k = r->gguf_find_key(g, "tokenizer.chat_template");
    CHECK(k >= 0);
    if (k >= 0) CHECK_STR(r->gguf_get_val_str(g, k), cJSON_GetObjectItemCaseSensitive(tc, "chat_template")->valuestring);
    r->gguf_free(g);
out:
    cJSON_Delete(tok);
    cJSON_Delete(tc);
}

/* ---------- 2: Hugging Face's ids vs llama.cpp's ---------- */

/* No llama.cpp-side difference is listed: on these strings llama.cpp reproduces every id. (test_tokenize_parity.c's
 * known differences for the real Gemma tokenizer come from its ordinary vocabulary tokens "</s>" and
 * "<end_of_turn>", which llama.cpp makes control tokens by their text; here the turn tokens are added special
 * tokens, and the ordinary "</s>" is made NORMAL again by llama.cpp's gemma4 workaround, since the vocabulary has
 * "<|tool_response>": "<s>Hello</s>" tokenizes as in Hugging Face.) */

static void test_parity(void) {
    llama_ref_init_backend();
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base != NULL, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh, which "
                            "provides Hugging Face's JavaScript tokenizers)");
    if (!base) return;
    if (!prepare()) return;
    llama_run_model *m = llama_run_load(g_gguf, true);
    CHECK_MSG(m != NULL, "%s: %s", g_gguf, llama_run_error());
    if (!m) return;
    cJSON *ref = tokenize_strings_ref(g_dir);
    enum { MAXIDS = 4096 };
    static int32_t want[MAXIDS], got[MAXIDS];
    int strings_n = 0, compared = 0, same = 0, differ = 0, bytes_used = 0;
    const int32_t byte0 = 24 + 8; /* <0x00>: after the 24 special tokens and 8 newline runs */
    const cJSON *r;
    cJSON_ArrayForEach(r, ref) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(r, "text"), *line = cJSON_GetObjectItemCaseSensitive(r, "line");
        CHECK(cJSON_IsString(text) && cJSON_IsNumber(line));
        if (!cJSON_IsString(text) || !cJSON_IsNumber(line)) break;
        strings_n++;
        for (int with_special = 0; with_special <= 1; with_special++) {
            int nw = hf_tokenize_ids(cJSON_GetObjectItemCaseSensitive(r, with_special ? "ids_special" : "ids"), want, MAXIDS);
            int ng = llama_run_tokenize(m, text->valuestring, strlen(text->valuestring), with_special, true, got, MAXIDS);
            CHECK_MSG(nw >= 0 && ng >= 0, "line %d: %s", line->valueint, llama_run_error());
            if (nw < 0 || ng < 0) continue;
            compared++;
            for (int i = 0; i < nw; i++) bytes_used += want[i] >= byte0 && want[i] < byte0 + 256;
            const int eq = nw == ng && !memcmp(want, got, (size_t)ng * sizeof *got);
            if (eq) {
                same++;
                continue;
            }
            differ++;
            hf_tokenize_print_mismatch("gemma4", line->valueint, with_special, text->valuestring, want, nw, got, ng);
        }
    }
    fprintf(stderr, "gemma4 tokenizer: %d strings, %d comparisons: %d same, %d differ; %d byte-fallback ids in Hugging "
            "Face's output\n", strings_n, compared, same, differ, bytes_used);
    CHECK_MSG(strings_n >= 100, "only %d strings compared", strings_n);
    CHECK_MSG(differ == 0, "%d tokenizations differ from Hugging Face's (listed above)", differ);
    CHECK_MSG(bytes_used > 0, "no string exercised byte fallback");
    cJSON_Delete(ref);
    llama_run_free(m);
}

/* ---------- 3: the converted model generates in llama.cpp ---------- */

static int argmax(const float *x, int n, float *margin) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    float second = -1e30f;
    for (int i = 0; i < n; i++)
        if (i != b && x[i] > second) second = x[i];
    *margin = x[b] - second;
    return b;
}

static void test_generate(void) {
    llama_ref_init_backend();
    if (!prepare()) return;
    llama_run_model *m = llama_run_load(g_gguf, false);
    CHECK_MSG(m != NULL, "%s: %s", g_gguf, llama_run_error());
    if (!m) return;
    static const char prompt_text[] = "<|turn>user\nHello world, how are you?<turn|>\n<|turn>model\n";
    int32_t prompt[64], got[64];
    int np = llama_run_tokenize(m, prompt_text, strlen(prompt_text), true, true, prompt, 48);
    CHECK_MSG(np > 8, "prompt: %d ids (%s)", np, llama_run_error());
    if (np <= 8) {
        llama_run_free(m);
        return;
    }
    CHECK_EQ_INT(prompt[0], llama_run_bos(m));
    CHECK_EQ_INT(prompt[1], 7); /* <|turn> whole (a special token) */
    const int ngen = 12;
    CHECK(llama_run_greedy(m, prompt, np, ngen, got));
    char e[256];
    hf_model *ref = hf_st_min_load_model(g_dir, e, sizeof e);
    CHECK_MSG(ref != NULL, "%s", e);
    if (ref) {
        const int nv = hf_forward_vocab(ref);
        float *logits = malloc((size_t)nv * sizeof *logits);
        hf_forward_reset(ref);
        int ok = 1, match = 0, close = 0;
        for (int i = 0; i < np && ok; i++) ok = hf_forward_next(ref, prompt[i], logits) == 0;
        for (int i = 0; i < ngen && ok; i++) {
            float margin;
            int t = argmax(logits, nv, &margin);
            if (t == got[i]) match++;
            else if (margin < 1e-3f) close++; /* a near tie: either is the model's answer */
            else break;
            ok = hf_forward_next(ref, got[i], logits) == 0;
        }
        CHECK_MSG(ok, "forward pass: %s", hf_forward_error(ref));
        fprintf(stderr, "gemma4 generate: prompt of %d ids, %d of %d greedy tokens equal the reference forward pass's "
                "argmax (%d near ties)\n", np, match, ngen, close);
        CHECK_EQ_INT(match + close, ngen);
        free(logits);
        hf_forward_free(ref);
    }
    llama_run_free(m);
}

/* what the importer refuses, by name: --pre-tokenizer (the converter has none; llama.cpp fixes the pre), a folder
 * without tokenizer.json (LlamaHfVocab reads only that) */
static void test_refusals(void) {
    if (!prepare()) return;
    qk_vocab v;
    qk_err err;
    CHECK(qk_vocab_load_gemma4(g_dir, "llama-bpe", &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "--pre-tokenizer 'llama-bpe' does not apply to Gemma 4");
    char dir[800], p[900];
    qk_test_mkdir(dir, sizeof dir, "g4tok-notok");
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    CHECK(qk_test_write_file(p, "{}", 2) == 0);
    CHECK(qk_vocab_load_gemma4(dir, NULL, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "no tokenizer.json");
    CHECK_CONTAINS(err.msg, dir);
    /* and it loads as written */
    CHECK_MSG(qk_vocab_load_gemma4(g_dir, NULL, &v, &err) == QK_OK, "%s", err.msg);
    CHECK_STR(v.model, "gemma4");
    CHECK(v.pre == NULL);
    qk_vocab_free(&v);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_kvs);
    RUN(test_parity);
    RUN(test_generate);
    RUN(test_refusals);
    return qk_test_summary();
}
