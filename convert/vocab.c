/* vocab.c - the neutral vocabulary struct: allocation, freeing and the small
 * text rules convert_hf_to_gguf applies to every importer's tokens. */
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A token longer than this is not a real vocabulary entry (llama.cpp tokens are
 * short); the bound keeps a hostile file from making us copy huge strings. */
#define QK_TOKEN_MAX_BYTES (1u << 20)

void qk_vocab_init(qk_vocab *v) {
    memset(v, 0, sizeof *v);
    for (int i = 0; i < QK_SPECIAL_COUNT; i++) v->special[i] = -1;
    v->add_bos = v->add_eos = v->add_sep = v->add_space_prefix = v->dummy_prefix = QK_TRI_UNSET;
    v->normalizer_lowercase = v->normalizer_strip_accents = QK_TRI_UNSET;
    v->nul_token = -1;
}

void qk_vocab_free(qk_vocab *v) {
    if (!v) return;
    if (v->tokens)
        for (size_t i = 0; i < v->n_tokens; i++) free(v->tokens[i]);
    free(v->tokens);
    free(v->token_len);
    free(v->scores);
    free(v->token_type);
    for (size_t i = 0; i < v->n_merges; i++) free(v->merges[i]);
    free(v->merges);
    free(v->model);
    free(v->pre);
    free(v->chat_template);
    for (size_t i = 0; i < v->n_named_templates; i++) {
        free(v->named_templates[i].name);
        free(v->named_templates[i].text);
    }
    free(v->named_templates);
    qk_vocab_init(v);
}

static const char *const special_names[QK_SPECIAL_COUNT] = {
    "bos", "eos", "unk", "sep", "pad", "cls", "mask", "eot", "eom",
};
static const char *const special_keys[QK_SPECIAL_COUNT] = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.padding_token_id", NULL,
    "tokenizer.ggml.mask_token_id",    "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.eom_token_id",
};

const char *qk_special_key(int role) {
    return role >= 0 && role < QK_SPECIAL_COUNT ? special_keys[role] : NULL;
}
const char *qk_special_name(int role) {
    return role >= 0 && role < QK_SPECIAL_COUNT ? special_names[role] : NULL;
}

int qk_vocab_alloc_tokens(qk_vocab *v, size_t n, int with_scores, float fill_score, int32_t fill_type,
                          qk_err *err) {
    if (v->tokens) return qk_fail(err, "vocab: tokens already allocated");
    if (n == 0 || n > QK_VOCAB_MAX_TOKENS)
        return qk_fail(err, "vocab: vocab size %zu, expected 1..%zu", n, QK_VOCAB_MAX_TOKENS);
    v->tokens = calloc(n, sizeof *v->tokens);
    v->token_len = calloc(n, sizeof *v->token_len);
    v->token_type = calloc(n, sizeof *v->token_type);
    if (with_scores) v->scores = calloc(n, sizeof *v->scores);
    if (!v->tokens || !v->token_len || !v->token_type || (with_scores && !v->scores))
        return qk_fail(err, "vocab: out of memory for %zu tokens", n);
    v->n_tokens = n;
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "[PAD%zu]", i);
        if (qk_vocab_set_token(v, i, buf, (size_t)len, err)) return QK_FAIL;
        v->token_type[i] = fill_type;
        if (with_scores) v->scores[i] = fill_score;
    }
    return QK_OK;
}

static char *dup_checked(const char *s, size_t len, const char *what, qk_err *err) {
    if (len > QK_TOKEN_MAX_BYTES)
        return qk_fail(err, "vocab: %s of %zu bytes, expected at most %u", what, len, QK_TOKEN_MAX_BYTES),
               NULL;
    if (memchr(s, '\0', len)) {
        qk_fail(err, "vocab: %s contains a NUL byte (GGUF strings here cannot)", what);
        return NULL;
    }
    char *p = malloc(len + 1);
    if (!p) {
        qk_fail(err, "vocab: out of memory for a %s", what);
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int qk_vocab_set_token(qk_vocab *v, size_t i, const char *s, size_t len, qk_err *err) {
    if (i >= v->n_tokens) return qk_fail(err, "vocab: token id %zu out of range (n_tokens %zu)", i, v->n_tokens);
    if (len == 1 && s[0] == '\0') { /* InternLM2Model's stand-in for its NUL piece, which C strings cannot hold */
        s = "\xF0\x9F\x90\x89", len = 4;
        v->nul_token = (int64_t)i;
    }
    char *p = dup_checked(s, len, "token", err);
    if (!p) return qk_fail_prefix(err, "token %zu", i);
    free(v->tokens[i]);
    v->tokens[i] = p;
    v->token_len[i] = (uint32_t)len;
    return QK_OK;
}

int qk_vocab_add_merge(qk_vocab *v, const char *s, size_t len, qk_err *err) {
    if (v->n_merges % 1024 == 0) {
        if (v->n_merges > SIZE_MAX / sizeof *v->merges - 1024) return qk_fail(err, "vocab: too many merges");
        char **m = realloc(v->merges, (v->n_merges + 1024) * sizeof *m);
        if (!m) return qk_fail(err, "vocab: out of memory for merges");
        v->merges = m;
    }
    char *p = dup_checked(s, len, "merge", err);
    if (!p) return qk_fail_prefix(err, "merge %zu", v->n_merges);
    v->merges[v->n_merges++] = p;
    return QK_OK;
}

int qk_vocab_set_model(qk_vocab *v, const char *model, const char *pre, qk_err *err) {
    free(v->model);
    free(v->pre);
    v->model = strdup(model);
    v->pre = pre ? strdup(pre) : NULL;
    if (!v->model || (pre && !v->pre)) return qk_fail(err, "vocab: out of memory");
    return QK_OK;
}

int qk_token_looks_special(const char *s) {
    size_t n = strlen(s);
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]"))
        return 1;
    /* Python's startswith/endswith may overlap ("<|>" matches "<|" and "|>"). */
    if (n >= 2 && !memcmp(s, "<|", 2) && !memcmp(s + n - 2, "|>", 2)) return 1;
    /* U+FF5C FULLWIDTH VERTICAL LINE (deepseek): "<\xef\xbd\x9c" ... "\xef\xbd\x9c>" */
    if (n >= 4 && !memcmp(s, "<\xef\xbd\x9c", 4) && !memcmp(s + n - 4, "\xef\xbd\x9c>", 4)) return 1;
    if (n >= 7 && !memcmp(s, "<unused", 7) && s[n - 1] == '>') return 1;
    return 0;
}

char *qk_replace_spm_space(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && !memcmp(s + i, "\xe2\x96\x81", 3)) {
            *q++ = ' ';
            i += 3;
        } else {
            *q++ = s[i++];
        }
    }
    *q = '\0';
    return o;
}
