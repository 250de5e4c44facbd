/* tokenizer.json importers on handcrafted folders: byte-level BPE tokens/types/merges, pre-tokenizer
 * detection and its override, SpecialVocab's inference rules, and malformed JSON. */
#include <string.h>

#include "qk_test.h"
#include "special_tokens.h"
#include "tokenizer_json.h"
#include "vocab.h"
#include "vocab_ref.h"

#define LLAMA3_PRE                                                                                              \
    "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "             \
    "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| "                    \
    "?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": "      \
    "\"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": " \
    "true, \"use_regex\": false}]}"

static char json_buf[1 << 16];

/* A byte-level BPE tokenizer.json: ids 0..5 in vocab, 6 is a hole, 7 and 8 added. */
static const char *bpe_json(const char *pre, const char *merges, int ignore_merges) {
    snprintf(json_buf, sizeof json_buf,
             "{\"version\": \"1.0\", \"added_tokens\": ["
             "{\"id\": 7, \"content\": \"<|begin|>\", \"special\": true, \"normalized\": false},"
             "{\"id\": 8, \"content\": \"\\u2581user\\u2581word\", \"special\": false, \"normalized\": false},"
             "{\"id\": 9, \"content\": \"<|eot|>\", \"special\": false}],"
             " \"normalizer\": null, \"pre_tokenizer\": %s,"
             " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": "
             "\"<|begin|>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]},"
             " \"decoder\": {\"type\": \"ByteLevel\"},"
             " \"model\": {\"type\": \"BPE\", \"ignore_merges\": %s, \"byte_fallback\": false,"
             " \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"\\u0120\": 3, \"\\u0120a\": 4, \"c d\": 5},"
             " \"merges\": %s}}",
             pre, ignore_merges ? "true" : "false", merges);
    return json_buf;
}

static void test_bytelevel_bpe(void) {
    const char *d = vocab_test_dir("bpe");
    vocab_test_put(d, "tokenizer.json", bpe_json(LLAMA3_PRE, "[[\"a\", \"b\"], [\"\\u0120\", \"a\"], [\"c \", \"d\"]]", 1));
    vocab_test_put(d, "tokenizer_config.json", "{\"bos_token\": \"<|begin|>\", \"eos_token\": {\"content\": \"<|eot|>\"},"
                                               " \"chat_template\": \"{{ x }}\"}");
    qk_vocab v;
    if (!vocab_test_load(d, 12, &v)) return;
    qk_err err = {{0}};
    int rc;
    CHECK_STR(v.model, "gpt2");
    CHECK_STR(v.pre, "llama-bpe");
    CHECK(v.scores == NULL);
    CHECK_EQ_INT(v.n_tokens, 12);
    CHECK_STR(v.tokens[0], "a");
    CHECK_STR(v.tokens[3], "\xc4\xa0");
    CHECK_STR(v.tokens[6], "[PAD6]");
    CHECK_EQ_INT(v.token_type[6], QK_TOKEN_UNUSED);
    CHECK_STR(v.tokens[11], "[PAD11]");
    CHECK_EQ_INT(v.token_type[0], QK_TOKEN_NORMAL);
    CHECK_EQ_INT(v.token_type[7], QK_TOKEN_CONTROL);
    CHECK_STR(v.tokens[8], " user word"); /* user-defined: U+2581 -> ' ' */
    CHECK_EQ_INT(v.token_type[8], QK_TOKEN_USER_DEFINED);
    CHECK_EQ_INT(v.token_type[9], QK_TOKEN_CONTROL); /* not special, but <|...|> looks special */
    CHECK_EQ_INT(v.n_merges, 3);
    if (v.n_merges == 3) {
        CHECK_STR(v.merges[0], "a b");
        CHECK_STR(v.merges[1], "\xc4\xa0 a");
        CHECK_STR(v.merges[2], "c\xc4\xa0 d"); /* a space inside a part is written as U+0120 */
    }
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 7);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 9);
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE); /* TemplateProcessing starts with the bos text */
    CHECK_EQ_INT(v.add_eos, QK_TRI_UNSET);
    CHECK_STR(v.chat_template, "{{ x }}");
    qk_vocab_free(&v);

    /* without config vocab_size: len(tokenizer.vocab) = 9 strings, but id 9 exists -> error */
    rc = qk_vocab_load_hf(d, NULL, 0, &v, &err);
    CHECK(rc == QK_FAIL);
    CHECK_CONTAINS(err.msg, "token id 9");

    /* the string form of merges, the same regex without ignore_merges -> smaug-bpe */
    vocab_test_put(d, "tokenizer.json", bpe_json(LLAMA3_PRE, "[\"a b\", \"\\u0120 a\"]", 0));
    rc = qk_vocab_load_hf(d, NULL, 10, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (!rc) {
        CHECK_STR(v.pre, "smaug-bpe");
        CHECK_EQ_INT(v.n_merges, 2);
        qk_vocab_free(&v);
    }
    /* override */
    rc = qk_vocab_load_hf(d, "dbrx", 10, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (!rc) {
        CHECK_STR(v.pre, "dbrx");
        qk_vocab_free(&v);
    }
    CHECK(qk_vocab_load_hf(d, "no-such-pre", 10, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "no-such-pre");
    /* empty merges and no merges.txt: an error; merges.txt is then used */
    vocab_test_put(d, "tokenizer.json", bpe_json(LLAMA3_PRE, "[]", 1));
    CHECK(qk_vocab_load_hf(d, NULL, 10, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "merges");
    vocab_test_put(d, "merges.txt", "#version: 0.2\na b\nbad line here\n\xc4\xa0 a\n\n");
    rc = qk_vocab_load_hf(d, NULL, 10, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (!rc) {
        CHECK_EQ_INT(v.n_merges, 2);
        if (v.n_merges == 2) CHECK_STR(v.merges[1], "\xc4\xa0 a");
        qk_vocab_free(&v);
    }
}

static void expect_pre(const char *pre_json, int ignore_merges, const char *want, const char *err_part) {
    const char *d = vocab_test_dir("pre");
    vocab_test_put(d, "tokenizer.json", bpe_json(pre_json, "[\"a b\"]", ignore_merges));
    qk_vocab v;
    qk_err err = {{0}};
    int rc = qk_vocab_load_hf(d, NULL, 10, &v, &err);
    if (want) {
        CHECK_MSG(rc == QK_OK, "%s", err.msg);
        if (!rc) CHECK_STR(v.pre, want);
    } else {
        CHECK_MSG(rc == QK_FAIL, "pre %s accepted", rc ? "" : v.pre);
        CHECK_CONTAINS(err.msg, "--pre-tokenizer NAME");
        CHECK_CONTAINS(err.msg, err_part);
    }
    if (!rc) qk_vocab_free(&v);
}

static void test_pre_detection(void) {
    expect_pre("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}", 0,
               "gpt-2", NULL);
    expect_pre("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
               "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| "
               "?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": "
               "\"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
               "\"trim_offsets\": false, \"use_regex\": false}]}", 0, "qwen2", NULL);
    /* GPT-2 style but with add_prefix_space: llama.cpp has no such pre-tokenizer */
    expect_pre("{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"use_regex\": true}", 0, NULL,
               "add_prefix_space=1");
    /* ByteLevel defaults (add_prefix_space true) when the flags are missing */
    expect_pre("{\"type\": \"ByteLevel\"}", 0, NULL, "unknown pre_tokenizer");
    expect_pre("null", 0, NULL, "[none]");
    expect_pre("{\"type\": \"Metaspace\", \"replacement\": \"\\u2581\"}", 0, NULL, "Metaspace");
    /* digits + GPT-2: starcoder and smollm cannot be told apart */
    expect_pre("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": true},"
               " {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}]}",
               0, NULL, "starcoder, smollm");
    /* a Split with another regex */
    expect_pre("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"x+\"},"
               " \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false,"
               " \"use_regex\": false}]}", 0, NULL, "Regex x+");
}

static void test_special_vocab_rules(void) {
    const char *d = vocab_test_dir("sv");
    /* TemplateProcessing that ends with a token other than the config's eos: eos becomes that token,
     * the old eos becomes eot; the pair template A </s> B decides add_sep */
    snprintf(json_buf, sizeof json_buf,
             "{\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\", \"special\": true},"
             " {\"id\": 1, \"content\": \"</s>\", \"special\": true}, {\"id\": 2, \"content\": \"<end>\", \"special\": true},"
             " {\"id\": 3, \"content\": \"<s>\", \"special\": true}],"
             " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true},"
             " \"post_processor\": {\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\"},"
             " {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\"}},"
             " {\"Sequence\": {\"id\": \"A\"}}, {\"SpecialToken\": {\"id\": \"<end>\"}}],"
             " \"pair\": [{\"SpecialToken\": {\"id\": \"<s>\"}}, {\"Sequence\": {\"id\": \"A\"}},"
             " {\"SpecialToken\": {\"id\": \"</s>\"}}, {\"Sequence\": {\"id\": \"B\"}}, {\"SpecialToken\": {\"id\": \"<end>\"}}]}]},"
             " \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Lowercase\"}]},"
             " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 4, \"b\": 5}, \"merges\": [\"a b\"]}}");
    vocab_test_put(d, "tokenizer.json", json_buf);
    vocab_test_put(d, "tokenizer_config.json", "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_eos_token\": false}");
    vocab_test_put(d, "config.json", "{\"bos_token_id\": 5, \"pad_token_id\": 4, \"eot_token_id\": 5,"
                                     " \"text_config\": {\"unk_token_id\": 5}}");
    vocab_test_put(d, "chat_template.jinja", "J");
    qk_vocab v;
    qk_err err = {{0}};
    /* 5 distinct strings but ids up to 5: without config vocab_size this is convert's assertion */
    CHECK(qk_vocab_load_hf(d, NULL, 0, &v, &err) == QK_FAIL);
    int rc = qk_vocab_load_hf(d, NULL, 6, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (rc) return;
    CHECK_EQ_INT(v.n_tokens, 6);
    CHECK_STR(v.tokens[0], "[PAD0]"); /* "<s>" maps to its later id 3, as in tokenizer.vocab */
    CHECK_STR(v.tokens[3], "<s>");
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 0);  /* the first added token with that text, not 3 */
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 2);  /* <end> */
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], 1);  /* the replaced </s> */
    CHECK_EQ_INT(v.special[QK_SPECIAL_PAD], 4);  /* config.json */
    CHECK_EQ_INT(v.special[QK_SPECIAL_UNK], 5);  /* config.json text_config */
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE);
    CHECK_EQ_INT(v.add_eos, QK_TRI_FALSE);        /* tokenizer_config overrides the template */
    /* A </s> B: </s> is no longer the eos (<end> is) and single has a trailing token -> add_sep false */
    CHECK_EQ_INT(v.add_sep, QK_TRI_FALSE);
    CHECK_EQ_INT(v.normalizer_lowercase, QK_TRI_TRUE);
    CHECK_STR(v.chat_template, "J");
    qk_vocab_free(&v);
    /* an explicit null chat_template in tokenizer_config hides chat_template.jinja */
    vocab_test_put(d, "tokenizer_config.json", "{\"bos_token\": \"<s>\", \"chat_template\": null}");
    rc = qk_vocab_load_hf(d, NULL, 6, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (!rc) {
        CHECK(v.chat_template == NULL);
        qk_vocab_free(&v);
    }
}

/* Llama-2 style templates: single "<s> A", pair "<s> A </s> B" -> add_bos, add_sep (</s> is the eos and
 * single has no trailing token); no tokenizer_config: bos/eos come from the template only as texts */
static void test_add_sep_rule(void) {
    const char *d = vocab_test_dir("sep");
    vocab_test_put(d, "tokenizer.json",
                   "{\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\", \"special\": true},"
                   " {\"id\": 1, \"content\": \"</s>\", \"special\": true}],"
                   " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
                   " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\"}},"
                   " {\"Sequence\": {\"id\": \"A\"}}], \"pair\": [{\"SpecialToken\": {\"id\": \"<s>\"}},"
                   " {\"Sequence\": {\"id\": \"A\"}}, {\"SpecialToken\": {\"id\": \"</s>\"}}, {\"Sequence\": {\"id\": \"B\"}}]},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2}, \"merges\": [\"a a\"]}}");
    vocab_test_put(d, "tokenizer_config.json", "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}");
    qk_vocab v;
    qk_err err = {{0}};
    /* ByteLevel without use_regex: the default (true) applies, add_prefix_space=false given */
    int rc = qk_vocab_load_hf(d, NULL, 0, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (rc) return;
    CHECK_STR(v.pre, "gpt-2");
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE);
    CHECK_EQ_INT(v.add_eos, QK_TRI_UNSET);
    CHECK_EQ_INT(v.add_sep, QK_TRI_TRUE);
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 0);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 1);
    CHECK_EQ_INT(v.special[QK_SPECIAL_SEP], 1); /* add_sep without a sep text: SpecialVocab uses the eos text */
    qk_vocab_free(&v);
}

/* Random mutations of a valid tokenizer.json: errors or success, never a crash (ASan build). */
static void test_mutations(void) {
    const char *d = vocab_test_dir("mut");
    const char *base = bpe_json(LLAMA3_PRE, "[[\"a\", \"b\"], [\"c \", \"d\"]]", 1);
    static char orig[1 << 16];
    snprintf(orig, sizeof orig, "%s", base);
    size_t n = strlen(orig);
    qk_rng rng = {0xfeedbeef};
    static const char alphabet[] = "{}[]\",:0123456789-.e truefalsnul\\u";
    for (int it = 0; it < 300; it++) {
        static char buf[1 << 16];
        memcpy(buf, orig, n + 1);
        int edits = 1 + (int)(qk_rng_next(&rng) % 3);
        for (int e = 0; e < edits; e++) buf[qk_rng_next(&rng) % n] = alphabet[qk_rng_next(&rng) % (sizeof alphabet - 1)];
        vocab_test_put(d, "tokenizer.json", buf);
        qk_vocab v;
        qk_err err = {{0}};
        if (qk_vocab_load_hf(d, NULL, 12, &v, &err) == QK_OK) qk_vocab_free(&v);
        else CHECK(err.msg[0] != 0);
    }
}

static void test_malformed_json(void) {
    const char *d = vocab_test_dir("bad");
    qk_vocab v;
    qk_err err;
    static const struct { const char *json; const char *want; } cases[] = {
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"0\"}, \"merges\": []}}", "model.vocab[\"a\"]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1.5}, \"merges\": []}}", "not a token id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}", "not a token id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": [1, 2], \"merges\": []}}", "model.vocab is not an object"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [1]}}", "neither a string"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\", 3]}}", "merges[1]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\", \"b\"], [\"a\"]]}}", "merges[1]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": {\"a\": 1}}}", "not a list"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a a\"]}, \"added_tokens\": {}}",
         "added_tokens is not an array"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a a\"]}, \"added_tokens\": [{\"id\": 1}]}",
         "added_tokens[0]"},
        {"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}", "WordPiece"},
        {"{\"model\": 3}", "no \"model\""},
        {"[1, 2, 3]", "not a JSON object"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}", "not valid JSON"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [\"a a\"]}}", "empty"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2147483647}, \"merges\": [\"a a\"]}}", "not a token id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 5000000000}, \"merges\": [\"a a\"]}}", "not a token id"},
    };
    const char *pre = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* put a valid pre_tokenizer in so the error is the one under test */
        char buf[1024];
        const char *j = cases[i].json;
        if (j[0] == '{' && strncmp(j, "{\"model\": 3", 11) != 0) snprintf(buf, sizeof buf, "{\"pre_tokenizer\": %s, %s", pre, j + 1);
        else snprintf(buf, sizeof buf, "%s", j);
        vocab_test_put(d, "tokenizer.json", buf);
        err.msg[0] = 0;
        int rc = qk_vocab_load_hf(d, NULL, 0, &v, &err);
        CHECK_MSG(rc == QK_FAIL, "case %zu accepted", i);
        if (rc == QK_OK) qk_vocab_free(&v);
        CHECK_MSG(strstr(err.msg, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
    }
    /* a hostile config vocab_size and a huge id in the llama-hf shape are refused before allocating */
    vocab_test_put(d, "tokenizer.json", "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a a\"]}}");
    CHECK(qk_vocab_load_hf(d, NULL, 2000000000u, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "vocab size 2000000000");
    vocab_test_put(d, "tokenizer.json",
                   "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {\"<unk>\": 0, \"a\": 2000000000},"
                   " \"merges\": []}, \"decoder\": {\"type\": \"Sequence\", \"decoders\": []}}");
    CHECK(qk_vocab_load_hf(d, NULL, 0, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "2000000000");
    /* llama-hf shape with a hole in the base vocab */
    vocab_test_put(d, "tokenizer.json",
                   "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {\"<unk>\": 0, \"a\": 2},"
                   " \"merges\": []}, \"decoder\": {\"type\": \"Sequence\", \"decoders\": []}}");
    CHECK(qk_vocab_load_hf(d, NULL, 0, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "missing");
    /* an empty folder */
    d = vocab_test_dir("empty");
    CHECK(qk_vocab_load_hf(d, NULL, 0, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "no tokenizer.model or tokenizer.json");
}

/* GemmaModel.set_vocab's second SpecialVocab (prefix, suffix, middle, fsep, eot) and CodeGemma's fixed
 * ids: only eot is written (107 unless the files name one; not range-checked), add_bos/eos/sep are
 * re-inferred from the post_processor alone, a TemplateProcessing-demoted eos becomes eom. */
static void test_codegemma_fixed_ids(void) {
    const char *d = vocab_test_dir("gemma");
    static const char *const tok_fmt =
        "{\"added_tokens\": [{\"id\": 0, \"content\": \"<pad>\", \"special\": true},"
        " {\"id\": 1, \"content\": \"<eos>\", \"special\": true}, {\"id\": 2, \"content\": \"<bos>\", \"special\": true},"
        " {\"id\": 3, \"content\": \"<end_of_turn>\", \"special\": true}],"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
        " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<bos>\"}},"
        " {\"Sequence\": {\"id\": \"A\"}}%s]},"
        " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 4, \"b\": 5}, \"merges\": [\"a b\"]}}";
    snprintf(json_buf, sizeof json_buf, tok_fmt, "");
    vocab_test_put(d, "tokenizer.json", json_buf);
    vocab_test_put(d, "tokenizer_config.json",
                   "{\"bos_token\": \"<bos>\", \"eos_token\": \"<eos>\", \"add_bos_token\": false, \"add_eos_token\": true}");
    qk_vocab v;
    if (!vocab_test_load(d, 6, &v)) return;
    qk_err err = {{0}};
    int rc;
    CHECK_EQ_INT(v.add_bos, QK_TRI_FALSE); /* the first pass: tokenizer_config overrides the template */
    CHECK_EQ_INT(v.add_eos, QK_TRI_TRUE);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], -1);
    rc = qk_special_vocab_gemma(d, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], 107); /* fixed, although the vocab has 6 tokens */
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOM], -1);
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE);  /* the second pass's template inference overwrites */
    CHECK_EQ_INT(v.add_eos, QK_TRI_TRUE);  /* the template says nothing about eos: kept */
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 2);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 1);
    qk_vocab_free(&v);

    /* the files' eot wins over 107: tokenizer_config eot_token among added_tokens, then config.json */
    vocab_test_put(d, "tokenizer_config.json",
                   "{\"bos_token\": \"<bos>\", \"eos_token\": \"<eos>\", \"eot_token\": \"<end_of_turn>\"}");
    vocab_test_put(d, "config.json", "{\"eot_token_id\": 5}");
    if (!vocab_test_load(d, 6, &v)) return;
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], -1); /* eot is no type of the first pass */
    CHECK(qk_special_vocab_gemma(d, &v, &err) == QK_OK);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], 3);
    qk_vocab_free(&v);
    vocab_test_put(d, "tokenizer_config.json", "{\"bos_token\": \"<bos>\", \"eos_token\": \"<eos>\"}");
    if (!vocab_test_load(d, 6, &v)) return;
    CHECK(qk_special_vocab_gemma(d, &v, &err) == QK_OK);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], 5);
    qk_vocab_free(&v);

    /* a template ending in <end_of_turn> (not the eos): the first pass demotes <eos> to eot, the
     * second (where eot is already a type) to eom, and its eot (107) overwrites the first's */
    snprintf(json_buf, sizeof json_buf, tok_fmt, ", {\"SpecialToken\": {\"id\": \"<end_of_turn>\"}}");
    vocab_test_put(d, "tokenizer.json", json_buf);
    vocab_test_put(d, "config.json", "{}");
    if (!vocab_test_load(d, 6, &v)) return;
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 3);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], 1);
    CHECK(qk_special_vocab_gemma(d, &v, &err) == QK_OK);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 3);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOT], 107);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOM], 1);
    CHECK_EQ_INT(v.add_eos, QK_TRI_TRUE);
    qk_vocab_free(&v);

    /* a negative id of a type that is never written still fails, as SpecialVocab raises */
    vocab_test_put(d, "config.json", "{\"fsep_token_id\": -1}");
    if (!vocab_test_load(d, 6, &v)) return;
    CHECK(qk_special_vocab_gemma(d, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "fsep");
    qk_vocab_free(&v);
}

int main(void) {
    RUN(test_bytelevel_bpe);
    RUN(test_pre_detection);
    RUN(test_special_vocab_rules);
    RUN(test_add_sep_rule);
    RUN(test_codegemma_fixed_ids);
    RUN(test_mutations);
    RUN(test_malformed_json);
    return qk_test_summary();
}
