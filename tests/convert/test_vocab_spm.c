/* sentencepiece tokenizer.model reading (handcrafted protobufs, hostile inputs) and the
 * Llama-family sentencepiece vocab against what llama.cpp's converter wrote. */
#include <string.h>

#include "fixture_copy.h"
#include "qk_test.h"
#include "sentencepiece_model.h"
#include "vocab.h"
#include "vocab_ref.h"

/* ---- a tiny protobuf writer for building test models ---- */
typedef struct { uint8_t b[1 << 16]; size_t n; } pb;

static void pb_varint(pb *p, uint64_t v) {
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        p->b[p->n++] = c | (v ? 0x80 : 0);
    } while (v);
}
static void pb_key(pb *p, unsigned field, unsigned wt) { pb_varint(p, (uint64_t)field << 3 | wt); }
static void pb_bytes(pb *p, unsigned field, const void *d, size_t n) {
    pb_key(p, field, 2);
    pb_varint(p, n);
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void pb_int(pb *p, unsigned field, int64_t v) { pb_key(p, field, 0); pb_varint(p, (uint64_t)v); }
static void pb_float(pb *p, unsigned field, float f) {
    pb_key(p, field, 5);
    memcpy(p->b + p->n, &f, 4); /* little-endian host */
    p->n += 4;
}
static void pb_piece(pb *p, const char *text, float score, int type) {
    pb sub = {.n = 0};
    pb_bytes(&sub, 1, text, strlen(text));
    pb_float(&sub, 2, score);
    if (type != 1) pb_int(&sub, 3, type);
    pb_bytes(p, 1, sub.b, sub.n);
}

static void build_model(pb *p) {
    p->n = 0;
    pb_piece(p, "<unk>", 0.0f, 2);
    pb_piece(p, "<s>", 0.0f, 3);
    pb_piece(p, "</s>", 0.0f, 3);
    pb_piece(p, "<0x0A>", 0.0f, 6);
    pb_piece(p, "\xe2\x96\x81the", -1.5f, 1);
    pb_piece(p, "<user>", 0.0f, 4);
    pb_piece(p, "<unused0>", 0.0f, 5);
    pb t = {.n = 0};
    pb_int(&t, 3, 2);        /* BPE */
    pb_int(&t, 4, 7);
    pb_int(&t, 35, 1);       /* byte_fallback */
    pb_int(&t, 43, -1);      /* pad_id -1: a 10-byte varint */
    pb_int(&t, 41, 1);
    pb_bytes(&t, 45, "<unk>", 5); /* unk_piece: an unknown-to-us field, skipped */
    pb_bytes(p, 2, t.b, t.n);
    pb nm = {.n = 0};
    pb_bytes(&nm, 1, "identity", 8);
    pb_int(&nm, 3, 0);       /* add_dummy_prefix false */
    pb_bytes(p, 3, nm.b, nm.n);
    pb_key(p, 99, 1);        /* an unknown fixed64 field at the top level */
    memset(p->b + p->n, 0xab, 8);
    p->n += 8;
}

static void test_parse_handcrafted(void) {
    static pb p;
    build_model(&p);
    qk_spm_model m;
    qk_err err = {{0}};
    CHECK(qk_spm_parse(p.b, p.n, "mem", &m, &err) == QK_OK);
    CHECK_EQ_INT(m.n_pieces, 7);
    CHECK_EQ_INT(m.model_type, QK_SPM_BPE);
    CHECK_EQ_INT(m.vocab_size, 7);
    CHECK_EQ_INT(m.byte_fallback, 1);
    CHECK_EQ_INT(m.pad_id, -1);
    CHECK_EQ_INT(m.bos_id, 1);
    CHECK_EQ_INT(m.unk_id, 0);
    CHECK_EQ_INT(m.eos_id, 2);
    CHECK_EQ_INT(m.add_dummy_prefix, 0);
    CHECK_EQ_INT(m.remove_extra_whitespaces, 1);
    CHECK_STR(m.normalizer_name, "identity");
    if (m.n_pieces == 7) {
        CHECK_STR(m.pieces[4].text, "\xe2\x96\x81the");
        CHECK(m.pieces[4].score == -1.5f);
        CHECK_EQ_INT(m.pieces[5].type, QK_SPM_USER_DEFINED);
    }
    /* to vocab: padded to 9, USER_DEFINED pieces read as NORMAL (SentencePieceProcessor has no IsUserDefined
     * check in convert), the rest kept */
    qk_vocab v;
    qk_vocab_init(&v);
    CHECK(qk_spm_to_vocab(&m, 9, &v, &err) == QK_OK);
    CHECK_EQ_INT(v.n_tokens, 9);
    CHECK_STR(v.model, "llama");
    CHECK_STR(v.pre, "default");
    static const int want[9] = {2, 3, 3, 6, 1, 1, 5, 5, 5};
    for (int i = 0; i < 9 && v.n_tokens == 9; i++) CHECK_EQ_INT(v.token_type[i], want[i]);
    if (v.n_tokens == 9) {
        CHECK_STR(v.tokens[8], "[PAD8]");
        CHECK(v.scores[8] == -10000.0f);
        CHECK(v.scores[4] == -1.5f);
    }
    qk_vocab_free(&v);
    /* an absurd vocab_size (from config.json) is refused */
    CHECK(qk_spm_to_vocab(&m, (uint64_t)1 << 40, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "vocab_size");
    qk_vocab_free(&v);
    /* smaller vocab_size drops the pieces past it */
    qk_vocab_init(&v);
    CHECK(qk_spm_to_vocab(&m, 3, &v, &err) == QK_OK);
    CHECK_EQ_INT(v.n_tokens, 3);
    qk_vocab_free(&v);
    qk_spm_free(&m);
}

static void test_hostile_inputs(void) {
    static pb p;
    build_model(&p);
    qk_spm_model m;
    qk_err err;
    /* every truncation: either a clean error or (at a field boundary) a valid shorter model */
    int failed = 0;
    for (size_t n = 0; n < p.n; n++) {
        err.msg[0] = 0;
        if (qk_spm_parse(p.b, n, "trunc", &m, &err) == QK_OK) {
            qk_spm_free(&m);
        } else {
            failed++;
            CHECK(strstr(err.msg, "trunc") != NULL);
        }
    }
    CHECK(failed > (int)p.n / 2);
    /* a lying length on the first piece */
    static pb q;
    q.n = 0;
    pb_key(&q, 1, 2);
    pb_varint(&q, 1000000);
    memcpy(q.b + q.n, "abc", 3);
    q.n += 3;
    CHECK(qk_spm_parse(q.b, q.n, "lie", &m, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "length 1000000 runs past");
    /* a length near 2^64 */
    q.n = 0;
    pb_key(&q, 1, 2);
    pb_varint(&q, UINT64_MAX - 2);
    CHECK(qk_spm_parse(q.b, q.n, "huge", &m, &err) == QK_FAIL);
    /* an 11-byte varint */
    q.n = 0;
    pb_key(&q, 2, 0);
    for (int i = 0; i < 10; i++) q.b[q.n++] = 0xff;
    q.b[q.n++] = 0x01;
    CHECK(qk_spm_parse(q.b, q.n, "varint", &m, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "varint");
    /* group wire types are rejected */
    q.n = 0;
    pb_key(&q, 7, 3);
    CHECK(qk_spm_parse(q.b, q.n, "group", &m, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "wire type 3");
    /* pieces with the wrong wire type */
    q.n = 0;
    pb_int(&q, 1, 5);
    CHECK(qk_spm_parse(q.b, q.n, "wt", &m, &err) == QK_FAIL);
    /* invalid UTF-8 and NUL in a piece, an out-of-range type */
    q.n = 0;
    pb_piece(&q, "\xc0\xaf", 0, 1);
    CHECK(qk_spm_parse(q.b, q.n, "utf8", &m, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "UTF-8");
    q.n = 0;
    pb_piece(&q, "ok", 0, 9);
    CHECK(qk_spm_parse(q.b, q.n, "type", &m, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "type 9");
    /* nothing at all */
    CHECK(qk_spm_parse(q.b, 0, "empty", &m, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "no pieces");
    /* random bytes never crash */
    qk_rng rng = {0x1234567};
    for (int it = 0; it < 2000; it++) {
        size_t n = qk_rng_next(&rng) % 200;
        for (size_t i = 0; i < n; i++) q.b[i] = (uint8_t)qk_rng_next(&rng);
        if (qk_spm_parse(q.b, n, "rand", &m, &err) == QK_OK) qk_spm_free(&m);
    }
    /* random single-byte corruptions of a valid model */
    for (int it = 0; it < 2000; it++) {
        build_model(&p);
        p.b[qk_rng_next(&rng) % p.n] ^= (uint8_t)(1u << (qk_rng_next(&rng) % 8));
        if (qk_spm_parse(p.b, p.n, "flip", &m, &err) == QK_OK) qk_spm_free(&m);
    }
}

/* qk_vocab_load_hf(d, no override, n_vocab) where it must succeed: QK_OK with v
 * loaded, else a failed check with the loader's message and QK_FAIL. */
static int load_ok(const char *d, int n_vocab, qk_vocab *v) {
    qk_err err = {{0}};
    const int rc = qk_vocab_load_hf(d, NULL, n_vocab, v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    return rc;
}

/* A Hugging Face-like folder with tokenizer.model and the json files: overrides and special ids. */
static void test_hf_folder_overrides(void) {
    static pb p;
    build_model(&p);
    const char *d = vocab_test_dir("spm-over");
    char path[2048];
    snprintf(path, sizeof path, "%s/tokenizer.model", d);
    CHECK(qk_test_write_file(path, p.b, p.n) == 0);
    vocab_test_put(d, "added_tokens.json", "{\"<extra>\": 7, \"<far>\": 100}");
    vocab_test_put(d, "tokenizer_config.json",
                   "{\"add_bos_token\": true, \"add_eos_token\": false, \"add_prefix_space\": false,"
                   " \"added_tokens_decoder\": {\"5\": {\"content\": \"<user>\", \"special\": false},"
                   " \"6\": {\"content\": \"\\u2581x\\u2581y\", \"special\": false},"
                   " \"8\": {\"content\": \"<|im_end|>\", \"special\": false}},"
                   " \"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"</s>\","
                   " \"chat_template\": [{\"name\": \"default\", \"template\": \"D\"},"
                   " {\"name\": \"tool use\", \"template\": \"T\"}]}");
    vocab_test_put(d, "config.json", "{\"bos_token_id\": 5, \"eos_token_id\": 2, \"pad_token_id\": 3,"
                                     " \"unk_token_id\": 99}");
    qk_vocab v;
    if (load_ok(d, 9, &v)) return;
    CHECK_EQ_INT(v.n_tokens, 9);
    CHECK_STR(v.tokens[7], "<extra>");
    CHECK_EQ_INT(v.token_type[7], QK_TOKEN_USER_DEFINED);
    CHECK(v.scores[7] == -1000.0f);
    CHECK_EQ_INT(v.token_type[5], QK_TOKEN_USER_DEFINED);
    CHECK_STR(v.tokens[6], " x y");
    CHECK_EQ_INT(v.token_type[6], QK_TOKEN_USER_DEFINED);
    CHECK_STR(v.tokens[8], "<|im_end|>"); /* looks special -> CONTROL */
    CHECK_EQ_INT(v.token_type[8], QK_TOKEN_CONTROL);
    /* no tokenizer.json: config texts cannot be matched, config.json ids are used (99 >= n_vocab: dropped) */
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 5);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 2);
    CHECK_EQ_INT(v.special[QK_SPECIAL_PAD], 3);
    CHECK_EQ_INT(v.special[QK_SPECIAL_UNK], -1);
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE);
    CHECK_EQ_INT(v.add_eos, QK_TRI_FALSE);
    CHECK_EQ_INT(v.add_space_prefix, QK_TRI_FALSE);
    CHECK_STR(v.chat_template, "D");
    CHECK_EQ_INT(v.n_named_templates, 1);
    if (v.n_named_templates == 1) {
        CHECK_STR(v.named_templates[0].name, "tool_use");
        CHECK_STR(v.named_templates[0].text, "T");
    }
    qk_vocab_free(&v);
    qk_err err = {{0}};
    /* a sentencepiece folder refuses a BPE pre-tokenizer override */
    CHECK(qk_vocab_load_hf(d, "llama-bpe", 9, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "--pre-tokenizer");
    /* bad json types -> clear errors */
    vocab_test_put(d, "added_tokens.json", "{\"<extra>\": \"7\"}");
    CHECK(qk_vocab_load_hf(d, NULL, 9, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "added_tokens.json");
    /* ids past the vocabulary are skipped however large (1e49 used to be cast to int64: undefined) */
    vocab_test_put(d, "added_tokens.json",
                   "{\"<huge>\": 11111111111111111111111111111111111111111111111118, \"<inf>\": 1e999,"
                   " \"<half>\": 100.5, \"<extra>\": 7}");
    if (load_ok(d, 9, &v) == QK_OK) {
        CHECK_STR(v.tokens[7], "<extra>");
        qk_vocab_free(&v);
    }
    /* each file written in turn; a row with `says` must fail naming it, one without restores the file */
    static const struct { const char *file, *text, *says; } k_bad[] = {
        {"added_tokens.json", "{\"<half>\": 7.5}", "<half>"},
        {"added_tokens.json", "{\"<neg>\": -1}", "<neg>"},
        {"added_tokens.json", "[1, 2", "not valid JSON"},
        {"added_tokens.json", "{}", NULL},
        {"tokenizer_config.json", "{\"added_tokens_decoder\": {\"x1\": {\"content\": \"a\"}}}", "x1"},
        {"tokenizer_config.json", "{\"added_tokens_decoder\": {\"1\": {\"content\": 5}}}", "content"},
        {"tokenizer_config.json", "{}", NULL},
        {"config.json", "{\"eos_token_id\": -3}", "-3"},
    };
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        vocab_test_put(d, k_bad[i].file, k_bad[i].text);
        if (!k_bad[i].says) continue;
        CHECK_MSG(qk_vocab_load_hf(d, NULL, 9, &v, &err) == QK_FAIL, "%s: %s", k_bad[i].file, k_bad[i].text);
        CHECK_CONTAINS(err.msg, k_bad[i].says);
    }
    /* a truncated tokenizer.model in a folder */
    vocab_test_put(d, "config.json", "{}");
    CHECK(qk_test_write_file(path, p.b, 11) == 0);
    CHECK(qk_vocab_load_hf(d, NULL, 0, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "tokenizer.model");
}

/* ---- real files (part "fixtures", Skipped without them) ---- */

static void test_llama2_spm_matches_llamacpp(void) {
    char model[1024];
    if (!fixture_copy(model, sizeof model, "tokenizers/llama2-spm/tokenizer.model")) return;
    const char *gg = qk_test_fixture("gguf-by-others/llama.cpp-vocab/ggml-vocab-llama-spm.gguf");
    CHECK(gg != NULL);
    if (!gg) return;
    char ggp[1024];
    snprintf(ggp, sizeof ggp, "%s", gg);
    /* the converter ran on the HF Llama 2 folder: tokenizer.model, config.json (bos 1, eos 2), and
     * tokenizer.json / tokenizer_config.json naming <unk> <s> </s> (only their added_tokens matter here) */
    const char *d = vocab_test_dir("llama2");
    vocab_test_link(d, "tokenizer.model", model);
    vocab_test_put(d, "config.json", "{\"vocab_size\": 32000, \"bos_token_id\": 1, \"eos_token_id\": 2}");
    vocab_test_put(d, "tokenizer.json", "{\"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true},"
                   " {\"id\": 1, \"content\": \"<s>\", \"special\": true}, {\"id\": 2, \"content\": \"</s>\", \"special\": true}]}");
    vocab_test_put(d, "tokenizer_config.json", "{\"add_bos_token\": true, \"add_eos_token\": false, \"bos_token\": \"<s>\","
                   " \"eos_token\": \"</s>\", \"unk_token\": \"<unk>\"}");
    qk_vocab v;
    if (load_ok(d, 32000, &v)) return;
    CHECK_EQ_INT(vocab_check_against_gguf(&v, ggp), 0);
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 1);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 2);
    qk_vocab_free(&v);
    qk_spm_model m;
    qk_err err = {{0}};
    CHECK(qk_spm_load(model, &m, &err) == QK_OK);
    CHECK_EQ_INT(m.model_type, QK_SPM_BPE);
    CHECK_EQ_INT(m.byte_fallback, 1);
    CHECK_EQ_INT(m.n_pieces, 32000);
    CHECK_EQ_INT(m.add_dummy_prefix, 1);
    CHECK_EQ_INT(m.pad_id, -1);
    qk_spm_free(&m);
}

static void test_sentencepiece_unigram_models(void) {
    const char *fx = qk_test_fixture("tokenizers/sentencepiece-tests/test_model.model");
    if (!fx) return;
    qk_spm_model m;
    qk_err err = {{0}};
    CHECK_MSG(qk_spm_load(fx, &m, &err) == QK_OK, "%s", err.msg);
    CHECK_EQ_INT(m.model_type, QK_SPM_UNIGRAM);
    CHECK_EQ_INT(m.n_pieces, 1000);
    CHECK_STR(m.normalizer_name, "nfkc");
    if (m.n_pieces == 1000) CHECK_EQ_INT(m.pieces[m.unk_id].type, QK_SPM_UNKNOWN);
    qk_spm_free(&m);
    fx = qk_test_fixture("tokenizers/sentencepiece-tests/test_ja_model.model");
    CHECK(fx != NULL);
    if (fx) {
        CHECK_MSG(qk_spm_load(fx, &m, &err) == QK_OK, "%s", err.msg);
        CHECK(m.n_pieces > 0);
        qk_spm_free(&m);
    }
}

static void test_stories260k(void) {
    char hf[1024];
    if (!fixture_copy(hf, sizeof hf, "stories260K/hf")) return;
    qk_vocab v, h;
    if (load_ok(hf, 512, &v)) return;
    CHECK_STR(v.model, "llama");
    CHECK_EQ_INT(v.n_tokens, 512);
    CHECK_EQ_INT(v.special[QK_SPECIAL_BOS], 1);
    CHECK_EQ_INT(v.special[QK_SPECIAL_EOS], 2);
    CHECK_EQ_INT(v.special[QK_SPECIAL_UNK], 0);
    CHECK_EQ_INT(v.add_bos, QK_TRI_TRUE);
    CHECK_EQ_INT(v.add_eos, QK_TRI_FALSE);
    /* tokenizer_config's added_tokens_decoder marks <unk> special: convert makes it CONTROL */
    CHECK_EQ_INT(v.token_type[0], QK_TOKEN_CONTROL);
    CHECK_EQ_INT(v.token_type[1], QK_TOKEN_CONTROL);
    CHECK_EQ_INT(v.token_type[3], QK_TOKEN_BYTE);
    CHECK(v.scores[300] != -1000.0f);
    /* the same folder without tokenizer.model goes through tokenizer.json (LlamaHfVocab) */
    const char *d = vocab_test_dir("stories-json");
    static const char *const files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "config.json"};
    for (int i = 0; i < 4; i++) {
        char t[2048];
        snprintf(t, sizeof t, "%s/%s", hf, files[i]);
        vocab_test_link(d, files[i], t);
    }
    if (load_ok(d, 512, &h)) {
        qk_vocab_free(&v);
        return;
    }
    CHECK_STR(h.model, "llama");
    CHECK_STR(h.pre, "default");
    CHECK_EQ_INT(h.n_tokens, v.n_tokens);
    int n_pairs = 0;
    for (size_t i = 0; i < h.n_tokens && h.n_tokens == v.n_tokens; i++) {
        CHECK_MSG(!strcmp(h.tokens[i], v.tokens[i]), "token %zu '%s' vs '%s'", i, h.tokens[i], v.tokens[i]);
        /* scores from the merge ranks, not LlamaHfVocab's -1000.0: two merged tokens rank as their
         * sentencepiece scores do (tokenizers made the merges in score order) */
        CHECK(h.scores[i] != -1000.0f);
        if (i + 1 < h.n_tokens && h.scores[i] > h.scores[0] && h.scores[i + 1] > h.scores[0] && ++n_pairs)
            CHECK_MSG((h.scores[i] > h.scores[i + 1]) == (v.scores[i] > v.scores[i + 1]),
                      "tokens %zu, %zu: merge scores %g, %g vs sentencepiece %g, %g", i, i + 1, h.scores[i],
                      h.scores[i + 1], v.scores[i], v.scores[i + 1]);
        /* LlamaHfVocab: byte tokens BYTE, the named specials CONTROL (also <unk>), the rest NORMAL */
        int want = v.token_type[i] == QK_TOKEN_BYTE ? QK_TOKEN_BYTE : i <= 2 ? QK_TOKEN_CONTROL : QK_TOKEN_NORMAL;
        CHECK_EQ_INT(h.token_type[i], want);
    }
    CHECK_MSG(n_pairs >= 100, "only %d neighbouring merged tokens compared", n_pairs);
    CHECK_EQ_INT(h.special[QK_SPECIAL_BOS], 1);
    CHECK_EQ_INT(h.add_bos, QK_TRI_TRUE);
    qk_vocab_free(&h);
    qk_vocab_free(&v);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_parse_handcrafted);
    RUN(test_hostile_inputs);
    RUN(test_hf_folder_overrides);
    RUN_PART("fixtures", test_llama2_spm_matches_llamacpp);
    RUN_PART("fixtures", test_sentencepiece_unigram_models);
    RUN_PART("fixtures", test_stories260k);
    return qk_test_summary();
}
