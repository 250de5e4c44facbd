/* tokenizer_json.c - tokens, types, merges and pre-tokenizer of a tokenizer.json, the way
 * convert_hf_to_gguf.py + gguf-py produce them for llama.cpp. */
#include "tokenizer_json.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentencepiece_model.h"

/* ---------- a string -> id map that remembers insertion order (Python dict semantics) ---------- */

typedef struct {
    const char **keys;   /* insertion order */
    int64_t *ids;
    size_t n, cap;
    size_t *slots;       /* index+1 into keys, 0 = empty; power-of-two size */
    size_t nslots;
} strmap;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void strmap_free(strmap *m) {
    free(m->keys);
    free(m->ids);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int strmap_init(strmap *m, size_t expect) {
    memset(m, 0, sizeof *m);
    size_t ns = 64;
    while (ns < expect * 2 + 16) ns *= 2;
    m->cap = expect + 16;
    m->keys = malloc(m->cap * sizeof *m->keys);
    m->ids = malloc(m->cap * sizeof *m->ids);
    m->slots = calloc(ns, sizeof *m->slots);
    m->nslots = ns;
    return m->keys && m->ids && m->slots ? 0 : -1;
}

static size_t *strmap_slot(const strmap *m, const char *k) {
    size_t i = (size_t)hash_str(k) & (m->nslots - 1);
    while (m->slots[i] && strcmp(m->keys[m->slots[i] - 1], k) != 0) i = (i + 1) & (m->nslots - 1);
    return &m->slots[i];
}

static int64_t strmap_get(const strmap *m, const char *k) {
    size_t *s = strmap_slot(m, k);
    return *s ? m->ids[*s - 1] : -1;
}

/* Sets k -> id (an existing key keeps its position, as in a Python dict). */
static int strmap_put(strmap *m, const char *k, int64_t id) {
    size_t *s = strmap_slot(m, k);
    if (*s) {
        m->ids[*s - 1] = id;
        return 0;
    }
    if (m->n == m->cap || (m->n + 1) * 2 > m->nslots) return -1; /* sized up front */
    m->keys[m->n] = k;
    m->ids[m->n] = id;
    *s = ++m->n;
    return 0;
}

/* ---------- helpers ---------- */

/* Makes *buf (of *cap bytes) hold at least need bytes; false when out of
 * memory (*buf is then unchanged). */
static bool grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t nc = need * 2;
    char *nb = realloc(*buf, nc);
    if (!nb) return false;
    *buf = nb;
    *cap = nc;
    return true;
}

static const cJSON *obj_get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *obj_str(const cJSON *o, const char *k) {
    const cJSON *v = obj_get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* JSON bool with default (missing or null -> dflt; other types -> -1). */
static int obj_bool(const cJSON *o, const char *k, int dflt) {
    const cJSON *v = obj_get(o, k);
    if (!v || cJSON_IsNull(v)) return dflt;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return -1;
}

/* A token id: an integral JSON number in [0, INT32_MAX). */
static int json_id(const cJSON *v, int64_t *id) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < (double)INT32_MAX) || floor(d) != d) return -1;
    *id = (int64_t)d;
    return 0;
}

int qk_tokjson_kind_of(const cJSON *tok, const char *name, qk_tokjson_kind *kind, qk_err *err) {
    const cJSON *model = obj_get(tok, "model");
    if (!cJSON_IsObject(model)) return qk_fail(err, "%s: no \"model\" object", name);
    const char *type = obj_str(model, "type");
    if (!type) {
        /* tokenizers omits "type" only for BPE in old files; gguf-py reads model['type'] and would fail */
        return qk_fail(err, "%s: model has no \"type\" string", name);
    }
    if (strcmp(type, "BPE") != 0)
        return qk_fail(err, "%s: model type '%s' is not supported (expected BPE; tokenizer.model is "
                            "needed for sentencepiece unigram models)", name, type);
    int ignore_merges = obj_bool(model, "ignore_merges", 0);
    int byte_fallback = obj_bool(model, "byte_fallback", 0);
    const char *dec = obj_str(obj_get(tok, "decoder"), "type");
    int is_llama3 = ignore_merges == 1 && byte_fallback != 1;
    if (!is_llama3 && byte_fallback == 1 && dec && !strcmp(dec, "Sequence"))
        *kind = QK_TOKJSON_LLAMA_HF;
    else
        *kind = QK_TOKJSON_BPE;
    return QK_OK;
}

/* The token -> id map of tokenizer.vocab: model.vocab, then added_tokens (added ones override). */
static int build_vocab_map(const cJSON *tok, const char *name, strmap *m, int64_t *max_id, size_t *n_model,
                           qk_err *err) {
    const cJSON *vocab = obj_get(obj_get(tok, "model"), "vocab");
    const cJSON *added = obj_get(tok, "added_tokens");
    if (!cJSON_IsObject(vocab)) return qk_fail(err, "%s: model.vocab is not an object", name);
    if (added && !cJSON_IsArray(added) && !cJSON_IsNull(added))
        return qk_fail(err, "%s: added_tokens is not an array", name);
    size_t nv = (size_t)cJSON_GetArraySize(vocab), na = added ? (size_t)cJSON_GetArraySize(added) : 0;
    if (strmap_init(m, nv + na)) return qk_fail(err, "%s: out of memory", name);
    *max_id = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        int64_t id;
        if (json_id(e, &id))
            return qk_fail(err, "%s: model.vocab[\"%.60s\"] is not a token id (expected an integer 0..%d)", name,
                           e->string, INT32_MAX - 1);
        if (strmap_put(m, e->string, id)) return qk_fail(err, "%s: out of memory", name);
        if (id > *max_id) *max_id = id;
    }
    *n_model = m->n;
    size_t i = 0;
    if (added) cJSON_ArrayForEach(e, added) {
        int64_t id;
        const char *content = obj_str(e, "content");
        if (!content || json_id(obj_get(e, "id"), &id))
            return qk_fail(err, "%s: added_tokens[%zu] lacks a string \"content\" or an integer \"id\"", name, i);
        if (strmap_put(m, content, id)) return qk_fail(err, "%s: out of memory", name);
        if (id > *max_id) *max_id = id;
        i++;
    }
    if (*max_id < 0) return qk_fail(err, "%s: model.vocab is empty", name);
    return QK_OK;
}

static const cJSON *find_added_by_id(const cJSON *tok, int64_t id) {
    const cJSON *e;
    const cJSON *added = obj_get(tok, "added_tokens");
    if (!cJSON_IsArray(added)) return NULL;
    const cJSON *found = NULL;
    cJSON_ArrayForEach(e, added) {
        int64_t x;
        if (!json_id(obj_get(e, "id"), &x) && x == id) found = e; /* last wins, as a dict keyed by id */
    }
    return found;
}

int qk_tokjson_bpe_vocab(const cJSON *tok, const char *name, uint64_t vocab_size, const char *pre_override,
                         const char *family_pre, qk_vocab *v, qk_err *err) {
    const char *pre = NULL;
    if (pre_override) {
        if (!qk_pre_known(pre_override))
            return qk_fail(err, "--pre-tokenizer '%s' is not a pre-tokenizer llama.cpp knows", pre_override);
        pre = pre_override;
    } else if (qk_pre_detect(tok, name, family_pre, &pre, err)) {
        return QK_FAIL;
    }
    strmap m = {0};
    int64_t max_id;
    size_t n_model;
    const char **rev = NULL;
    int rc = QK_FAIL;
    if (build_vocab_map(tok, name, &m, &max_id, &n_model, err)) goto out;
    uint64_t n = vocab_size ? vocab_size : m.n; /* hparams.get("vocab_size", len(tokenizer.vocab)) */
    if (n > QK_VOCAB_MAX_TOKENS) {
        qk_fail(err, "%s: vocab size %llu is larger than %zu", name, (unsigned long long)n, QK_VOCAB_MAX_TOKENS);
        goto out;
    }
    if ((uint64_t)max_id >= n) {
        qk_fail(err, "%s: token id %lld is not below the vocab size %llu%s", name, (long long)max_id,
                (unsigned long long)n, vocab_size ? " (config.json vocab_size)" : " (ids have holes)");
        goto out;
    }
    if (qk_vocab_set_model(v, "gpt2", pre, err)) goto out;
    if (qk_vocab_alloc_tokens(v, (size_t)n, 0, 0.0f, QK_TOKEN_UNUSED, err)) goto out;
    rev = calloc((size_t)n, sizeof *rev);
    if (!rev) {
        qk_fail(err, "%s: out of memory", name);
        goto out;
    }
    for (size_t i = 0; i < m.n; i++) rev[m.ids[i]] = m.keys[i];
    /* get_added_vocab(): content -> id of added_tokens */
    strmap added;
    const cJSON *added_arr = obj_get(tok, "added_tokens");
    size_t na = cJSON_IsArray(added_arr) ? (size_t)cJSON_GetArraySize(added_arr) : 0;
    if (strmap_init(&added, na)) {
        qk_fail(err, "%s: out of memory", name);
        goto out;
    }
    const cJSON *e;
    if (na) cJSON_ArrayForEach(e, added_arr) {
        int64_t id;
        const char *content = obj_str(e, "content");
        if (content && !json_id(obj_get(e, "id"), &id) && strmap_put(&added, content, id)) {
            qk_fail(err, "%s: out of memory", name);
            strmap_free(&added);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = rev[i];
        if (!t) continue; /* [PAD{i}], UNUSED */
        char *owned = NULL;
        int32_t type = QK_TOKEN_NORMAL;
        if (strmap_get(&added, t) >= 0) {
            const cJSON *dec = find_added_by_id(tok, (int64_t)i);
            int special = dec && obj_bool(dec, "special", 0) == 1;
            if (special || qk_token_looks_special(t)) {
                type = QK_TOKEN_CONTROL;
            } else {
                type = QK_TOKEN_USER_DEFINED;
                owned = qk_replace_spm_space(t);
                if (!owned) {
                    qk_fail(err, "%s: out of memory", name);
                    strmap_free(&added);
                    goto out;
                }
                t = owned;
            }
        }
        /* cJSON ends a key at its first NUL, so "\u0000" reads as "" (no tokenizer has an empty token): passed on
         * as the one NUL byte it is (vocab.c's nul_token) */
        int r = qk_vocab_set_token(v, i, t, t[0] ? strlen(t) : 1, err);
        free(owned);
        if (r) {
            strmap_free(&added);
            qk_fail_prefix(err, "%s", name);
            goto out;
        }
        v->token_type[i] = type;
    }
    strmap_free(&added);
    if (qk_tokjson_merges(tok, name, v, err)) goto out;
    rc = QK_OK;
out:
    free(rev);
    strmap_free(&m);
    return rc;
}

static int is_byte_token(const char *s) {
    static const char hex[] = "0123456789abcdefABCDEF";
    return strlen(s) == 6 && !memcmp(s, "<0x", 3) && s[3] && strchr(hex, s[3]) && s[4] && strchr(hex, s[4]) &&
           s[5] == '>';
}

/* Scores for llama.cpp's sentencepiece tokenizer from the BPE merge ranks (a deliberate difference
 * from gguf-py's LlamaHfVocab, whose -1000.0 placeholder for every token makes llama.cpp merge
 * leftmost-first instead of in the merges' order: " Hello" became "\u2581\u2581" "Hello" where
 * Hugging Face gives "\u2581" "\u2581Hello"). llama.cpp repeatedly merges the adjacent pair whose
 * concatenation is the token with the highest score (leftmost on ties), Hugging Face's BPE the pair
 * of lowest merge rank; so a token produced by merge number r scores -r (its first merge), and every
 * token no merge produces scores below all of them. Without merges the placeholder stays. */
static int merge_rank_scores(const cJSON *tok, const char *name, const strmap *m, qk_vocab *v, qk_err *err) {
    const cJSON *merges = obj_get(obj_get(tok, "model"), "merges");
    int n_merges = cJSON_IsArray(merges) ? cJSON_GetArraySize(merges) : 0;
    if (n_merges <= 0) return QK_OK;
    if (n_merges >= (1 << 24)) return qk_fail(err, "%s: %d merges: ranks past 2^24 do not fit f32 scores", name, n_merges);
    float lowest = -(float)n_merges;
    for (size_t i = 0; i < v->n_tokens; i++) v->scores[i] = lowest;
    char *buf = NULL;
    size_t cap = 0;
    int rank = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, merges) {
        const char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        if (cJSON_IsString(e)) { /* "left right": the parts hold no ' ' */
            const char *sp = strchr(e->valuestring, ' ');
            if (sp) {
                a = e->valuestring;
                la = (size_t)(sp - a);
                b = sp + 1;
                lb = strlen(b);
            }
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            a = cJSON_GetArrayItem(e, 0)->valuestring;
            b = cJSON_GetArrayItem(e, 1)->valuestring;
            la = strlen(a);
            lb = strlen(b);
        }
        if (!a) {
            free(buf);
            return qk_fail(err, "%s: model.merges[%d] is neither \"left right\" nor a [left, right] pair", name, rank);
        }
        if (!grow(&buf, &cap, la + lb + 1)) {
            free(buf);
            return qk_fail(err, "%s: out of memory", name);
        }
        memcpy(buf, a, la);
        memcpy(buf + la, b, lb);
        buf[la + lb] = '\0';
        int64_t id = strmap_get(m, buf);
        if (id >= 0 && (size_t)id < v->n_tokens && v->scores[id] == lowest) v->scores[id] = -(float)rank;
        rank++;
    }
    free(buf);
    return QK_OK;
}

int qk_tokjson_llama_hf_vocab(const cJSON *tok, const char *name, const char *const *special_texts,
                              size_t n_special, qk_vocab *v, qk_err *err) {
    strmap m = {0};
    int64_t max_id;
    size_t n_base;
    const char **rev = NULL;
    int64_t *special_ids = NULL;
    int rc = QK_FAIL;
    if (build_vocab_map(tok, name, &m, &max_id, &n_base, err)) goto out;
    if ((uint64_t)max_id >= QK_VOCAB_MAX_TOKENS) {
        qk_fail(err, "%s: token id %lld is not below %zu", name, (long long)max_id, QK_VOCAB_MAX_TOKENS);
        goto out;
    }
    /* n_base (tokenizer.vocab_size) is the number of model.vocab strings, without added tokens */
    size_t n_rev = (size_t)max_id + 1 > n_base ? (size_t)max_id + 1 : n_base;
    rev = calloc(n_rev, sizeof *rev);
    special_ids = malloc((n_special + 1) * sizeof *special_ids);
    if (!rev || !special_ids) {
        qk_fail(err, "%s: out of memory", name);
        goto out;
    }
    for (size_t i = 0; i < m.n; i++) rev[m.ids[i]] = m.keys[i];
    /* all_special_ids: the ids of the special token texts that exist in the vocab */
    size_t ns = 0;
    for (size_t i = 0; i < n_special; i++) {
        int64_t id = strmap_get(&m, special_texts[i]);
        if (id >= 0) special_ids[ns++] = id;
    }
    /* added tokens past the base vocab, by id; they must continue the ids without a gap
     * (LlamaHfVocab appends them in id order, so a gap would shift ids) */
    size_t n_added = 0;
    for (int64_t id = (int64_t)n_base; id <= max_id; id++) {
        if (!rev[id]) {
            qk_fail(err, "%s: token id %lld is missing (tokens past the base vocab of %zu must be contiguous added "
                         "tokens)", name, (long long)id, n_base);
            goto out;
        }
        n_added++;
    }
    size_t n = n_base + n_added;
    if (qk_vocab_set_model(v, "llama", "default", err)) goto out;
    if (qk_vocab_alloc_tokens(v, n, 1, -1000.0f, QK_TOKEN_NORMAL, err)) goto out;
    for (size_t i = 0; i < n; i++) {
        if (!rev[i]) {
            qk_fail(err, "%s: token id %zu is missing from model.vocab (base vocab of %zu ids)", name, i, n_base);
            goto out;
        }
        if (qk_vocab_set_token(v, i, rev[i], rev[i][0] ? strlen(rev[i]) : 1, err)) goto out; /* "" = "\u0000", above */
        int is_special = 0;
        for (size_t k = 0; k < ns; k++) is_special |= special_ids[k] == (int64_t)i;
        int32_t type;
        if (i < n_base)
            type = is_byte_token(rev[i]) ? QK_TOKEN_BYTE : is_special ? QK_TOKEN_CONTROL : QK_TOKEN_NORMAL;
        else {
            /* added: a text among the special tokens -> CONTROL (its own id is special), else USER_DEFINED */
            int text_special = 0;
            for (size_t k = 0; k < n_special; k++) text_special |= !strcmp(special_texts[k], rev[i]);
            type = text_special ? QK_TOKEN_CONTROL : QK_TOKEN_USER_DEFINED;
        }
        v->token_type[i] = type;
    }
    if (merge_rank_scores(tok, name, &m, v, err)) goto out;
    rc = QK_OK;
out:
    free(rev);
    free(special_ids);
    strmap_free(&m);
    return rc;
}

/* ---------- merges ---------- */

int qk_tokjson_merges(const cJSON *tok, const char *name, qk_vocab *v, qk_err *err) {
    const cJSON *merges = obj_get(obj_get(tok, "model"), "merges");
    if (!merges || cJSON_IsNull(merges)) return QK_OK;
    if (!cJSON_IsArray(merges)) return qk_fail(err, "%s: model.merges is not a list", name);
    const cJSON *first = cJSON_GetArrayItem(merges, 0);
    if (!first) return QK_OK;
    int pair_form = cJSON_IsArray(first);
    if (!pair_form && !cJSON_IsString(first))
        return qk_fail(err, "%s: model.merges[0] is neither a string nor a [left, right] pair", name);
    size_t i = 0;
    const cJSON *e;
    char *buf = NULL;
    size_t bcap = 0;
    cJSON_ArrayForEach(e, merges) {
        if (!pair_form) {
            if (!cJSON_IsString(e)) {
                free(buf);
                return qk_fail(err, "%s: model.merges[%zu] is not a string (the list is in string form)", name, i);
            }
            if (qk_vocab_add_merge(v, e->valuestring, strlen(e->valuestring), err)) {
                free(buf);
                return qk_fail_prefix(err, "%s", name);
            }
        } else {
            const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(a) || !cJSON_IsString(b)) {
                free(buf);
                return qk_fail(err, "%s: model.merges[%zu] is not a [left, right] pair of strings", name, i);
            }
            /* ' ' inside a part becomes U+0120 (2 bytes), so the joined string can still be split on ' ' */
            size_t la = strlen(a->valuestring), lb = strlen(b->valuestring), need = 2 * (la + lb) + 2;
            if (!grow(&buf, &bcap, need)) {
                free(buf);
                return qk_fail(err, "%s: out of memory", name);
            }
            size_t o = 0;
            for (const char *p = a->valuestring; *p; p++) {
                if (*p == ' ') { buf[o++] = (char)0xc4; buf[o++] = (char)0xa0; } else buf[o++] = *p;
            }
            buf[o++] = ' ';
            for (const char *p = b->valuestring; *p; p++) {
                if (*p == ' ') { buf[o++] = (char)0xc4; buf[o++] = (char)0xa0; } else buf[o++] = *p;
            }
            if (qk_vocab_add_merge(v, buf, o, err)) {
                free(buf);
                return qk_fail_prefix(err, "%s", name);
            }
        }
        i++;
    }
    free(buf);
    return QK_OK;
}

/* ---------- pre-tokenizer detection ---------- */

/* The Split regexes exactly as the models' tokenizer.json files hold them (llama.cpp's
 * llama-vocab.cpp quotes them as the "original regex from tokenizer.json"). */
#define RX_LLAMA3 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN2 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* DeepSeek V3 / R1: three Splits (numbers, CJK runs, then the word regex; the JSON holds real CR/LF characters) */
#define RX_DSV3_CJK "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
#define RX_DSV3_WORDS "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
/* Mistral's tekken (Mistral NeMo, Small 3, Pixtral as tokenizer.json) */
#define RX_TEKKEN "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* GPT-4o's regex (Llama 4 and others): cased letter runs with optional contractions, numbers of 1-3 digits */
#define RX_GPT4O "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* ByteDance Seed-Coder / Seed-OSS: Qwen2's with single digits and CR/LF kept out of the punctuation run (the JSON
 * holds real CR/LF characters) */
#define RX_SEED "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\r\n]+|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN35 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Signatures (see pre_signature): pre-tokenizer steps joined by " + ". ignore_merges: model.ignore_merges
 * must be 1 / 0, or -1 for either. Entries sharing a signature and ignore_merges are indistinguishable
 * from the configuration; detection then fails and asks for --pre-tokenizer. */
static const struct {
    const char *name;
    const char *sig;
    int ignore_merges;
    /* 1: a name llama.cpp's converter gives one family's own tokenizer, chosen only for that family (qk_pre_detect's
     * family_pre), where the same configuration otherwise means the other entries */
    int family_only;
} pre_table[] = {
    /* Llama 3: llama.cpp's llama-bpe also sets ignore_merges, which tokenizer.json states */
    {"llama-bpe", "Split(Regex " RX_LLAMA3 ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", 1, 0},
    /* same regex without ignore_merges: llama.cpp's dbrx and smaug-bpe behave identically (same regex,
     * no flags); named as convert names Llama-3-derived models without ignore_merges */
    {"smaug-bpe", "Split(Regex " RX_LLAMA3 ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", 0, 0},
    /* Qwen2 / Qwen2.5 / Qwen3 */
    {"qwen2", "Split(Regex " RX_QWEN2 ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 0},
    {"qwen35", "Split(Regex " RX_QWEN35 ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 0},
    /* DeepSeek V3 / R1 (llama.cpp's hunyuan-dense and joyai-llm have the same regexes and flags) */
    {"deepseek-v3", "Split(Regex \\p{N}{1,3}, Isolated, invert=0) + Split(Regex " RX_DSV3_CJK ", Isolated, invert=0) + "
                    "Split(Regex " RX_DSV3_WORDS ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 0},
    /* Mistral's tekken: llama.cpp also sets ignore_merges and add_bos for it */
    {"tekken", "Split(Regex " RX_TEKKEN ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", 1, 0},
    /* the GPT-4o regex: llama.cpp's llama4, gpt-4o, kanana2 and talkie are one pre-tokenizer (same regex, same
     * flags); named as convert names Llama 4's */
    {"llama4", "Split(Regex " RX_GPT4O ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 0},
    /* GPT-2's ByteLevel regex alone (gpt-2, and mpt/olmo/phi-2 which llama.cpp treats the same) */
    {"gpt-2", "ByteLevel(add_prefix_space=0, use_regex=1)", -1, 0},
    /* single digits, then GPT-2's regex: llama.cpp's starcoder, refact (Granite 3), command-r, exaone (EXAONE 3)
     * and smollm use the same regex, command-r and smollm with clean_spaces off, which the configuration cannot
     * tell: the family's own name (qk_pre_detect's family_pre) settles it */
    {"starcoder", "Digits(individual_digits=1) + ByteLevel(add_prefix_space=0, use_regex=1)", -1, 0},
    {"smollm", "Digits(individual_digits=1) + ByteLevel(add_prefix_space=0, use_regex=1)", -1, 0},
    {"refact", "Digits(individual_digits=1) + ByteLevel(add_prefix_space=0, use_regex=1)", -1, 1},
    {"command-r", "Digits(individual_digits=1) + ByteLevel(add_prefix_space=0, use_regex=1)", -1, 1},
    {"exaone", "Digits(individual_digits=1) + ByteLevel(add_prefix_space=0, use_regex=1)", -1, 1},
    /* StableLM 2: Qwen2's regex, which llama.cpp's stablelm2 runs with clean_spaces on */
    {"stablelm2", "Split(Regex " RX_QWEN2 ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 1},
    /* Seed-Coder's regex (llama.cpp's seed-coder, clean_spaces off) */
    {"seed-coder", "Split(Regex " RX_SEED ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 0},
    /* GLM-4 / GLM-4.5: Llama 3's regex, which llama.cpp's glm4 runs without a BOS */
    {"glm4", "Split(Regex " RX_LLAMA3 ", Isolated, invert=0) + ByteLevel(add_prefix_space=0, use_regex=0)", -1, 1},
};

static const char *const known_pre[] = {
    "default", "minicpm5", "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
    "lfm2", "jina-v5-nano", "deepseek-llm", "deepseek-coder", "deepseek-v3", "youtu", "falcon", "mpt",
    "starcoder", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
    "mellum", "modern-bert", "jais-2", "gemma4", "granite-embed-multi-311m", "sarvam-moe", "jina-v1-en",
    "jina-v2-code", "roberta-bpe", "whitespace", "refact", "command-r", "qwen2", "deepseek-r1-qwen", "kormo",
    "f2llmv2", "qwen35", "stablelm2", "olmo", "dbrx", "smaug-bpe", "poro-chat", "glm4", "chatglm-bpe", "viking",
    "jais", "tekken", "smollm", "codeshell", "bloom", "gpt3-finnish", "exaone", "exaone4", "exaone-moe",
    "chameleon", "minerva-7b", "megrez", "gpt-4o", "llama4", "kanana2", "talkie", "granite-embed-multi-97m",
    "tiny_aya", "cohere2moe", "superbpe", "trillion", "granite-docling", "bailingmoe", "bailingmoe2",
    "llada-moe", "seed-coder", "hunyuan", "hunyuan-dense", "joyai-llm", "kimi-k2", "grok-2", "afmoe", "laguna",
    "minimax-m2", "solar-open", "mellum2",
};

int qk_pre_known(const char *name) {
    for (size_t i = 0; i < sizeof known_pre / sizeof known_pre[0]; i++)
        if (!strcmp(name, known_pre[i])) return 1;
    return 0;
}

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s) {
    size_t l = strlen(s);
    if (b->oom) return;
    if (!grow(&b->s, &b->cap, b->n + l + 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->s + b->n, s, l + 1);
    b->n += l;
}

static void sig_step(sbuf *b, const cJSON *p, int depth) {
    const char *type = obj_str(p, "type");
    char tmp[96];
    if (type && !strcmp(type, "Sequence") && depth < 8) {
        const cJSON *list = obj_get(p, "pretokenizers"), *e;
        int first = 1;
        cJSON_ArrayForEach(e, list) {
            if (!first) sb_add(b, " + ");
            first = 0;
            sig_step(b, e, depth + 1);
        }
        return;
    }
    if (type && !strcmp(type, "Split")) {
        const cJSON *pat = obj_get(p, "pattern");
        const char *rx = obj_str(pat, "Regex"), *str = obj_str(pat, "String");
        const char *beh = obj_str(p, "behavior");
        sb_add(b, "Split(");
        sb_add(b, rx ? "Regex " : str ? "String " : "?");
        sb_add(b, rx ? rx : str ? str : "");
        sb_add(b, ", ");
        sb_add(b, beh ? beh : "?");
        snprintf(tmp, sizeof tmp, ", invert=%d)", obj_bool(p, "invert", 0));
        sb_add(b, tmp);
        return;
    }
    if (type && !strcmp(type, "ByteLevel")) {
        /* tokenizers' defaults: add_prefix_space true, use_regex true; trim_offsets only moves offsets */
        snprintf(tmp, sizeof tmp, "ByteLevel(add_prefix_space=%d, use_regex=%d)", obj_bool(p, "add_prefix_space", 1),
                 obj_bool(p, "use_regex", 1));
        sb_add(b, tmp);
        return;
    }
    if (type && !strcmp(type, "Digits")) {
        snprintf(tmp, sizeof tmp, "Digits(individual_digits=%d)", obj_bool(p, "individual_digits", 0));
        sb_add(b, tmp);
        return;
    }
    /* anything else: its whole JSON, so it never matches the table by accident */
    char *js = cJSON_PrintUnformatted(p);
    sb_add(b, js ? js : "?");
    free(js);
}

static int pre_signature(const cJSON *tok, sbuf *b) {
    const cJSON *p = obj_get(tok, "pre_tokenizer");
    sb_add(b, ""); /* allocates, so an empty Sequence still gives a string */
    if (!p || cJSON_IsNull(p))
        sb_add(b, "none");
    else
        sig_step(b, p, 0);
    return b->oom ? -1 : 0;
}

int qk_pre_detect(const cJSON *tok, const char *name, const char *family_pre, const char **pre, qk_err *err) {
    sbuf b = {0};
    if (pre_signature(tok, &b)) {
        free(b.s);
        return qk_fail(err, "%s: out of memory", name);
    }
    int ignore_merges = obj_bool(obj_get(tok, "model"), "ignore_merges", 0) == 1;
    const char *hit[8];
    size_t nhit = 0;
    for (size_t i = 0; i < sizeof pre_table / sizeof pre_table[0]; i++) {
        if (strcmp(pre_table[i].sig, b.s) != 0) continue;
        if (pre_table[i].ignore_merges >= 0 && pre_table[i].ignore_merges != ignore_merges) continue;
        if (family_pre && !strcmp(pre_table[i].name, family_pre)) { /* the family's own tokenizer */
            *pre = pre_table[i].name;
            free(b.s);
            return QK_OK;
        }
        if (!pre_table[i].family_only && nhit < 8) hit[nhit++] = pre_table[i].name;
    }
    if (nhit == 1) {
        *pre = hit[0];
        free(b.s);
        return QK_OK;
    }
    if (nhit > 1) {
        char names[256] = "";
        for (size_t i = 0; i < nhit; i++) {
            if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, hit[i], sizeof names - strlen(names) - 1);
        }
        qk_fail(err, "%s: the pre_tokenizer configuration fits several llama.cpp pre-tokenizers (%s) that differ in "
                     "ways the file does not state; pass --pre-tokenizer NAME with the one llama.cpp uses for this "
                     "model", name, names);
    } else {
        qk_fail(err, "%s: unknown pre_tokenizer configuration [%.400s%s] (ignore_merges=%d); pass --pre-tokenizer "
                     "NAME with the llama.cpp pre-tokenizer of this model (e.g. llama-bpe, qwen2, gpt-2)",
                name, b.s, strlen(b.s) > 400 ? "..." : "", ignore_merges);
    }
    free(b.s);
    return QK_FAIL;
}
