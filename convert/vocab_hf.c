/* vocab_hf.c - qk_vocab_load_hf: the importer choice of convert_hf_to_gguf.py's LlamaModel.set_vocab
 * (sentencepiece -> llama-hf -> gpt2), the tokenizer_config overrides of the sentencepiece path, and
 * SpecialVocab. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"
#include "sentencepiece_model.h"
#include "special_tokens.h"
#include "tokenizer_json.h"
#include "vocab.h"

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* added_tokens.json {text: id} -> USER_DEFINED, score -1000 (ids >= n ignored) */
static int apply_added_tokens_json(const char *dir, qk_vocab *v, qk_err *err) {
    cJSON *j;
    if (qk_json_load(dir, "added_tokens.json", &j, err)) return QK_FAIL;
    if (!j) return QK_OK;
    int rc = QK_OK;
    if (!cJSON_IsObject(j)) {
        rc = qk_fail(err, "%s/added_tokens.json: not a JSON object of text -> id", dir);
    } else {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) {
            double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
            if (!(d >= 0)) { /* not a number, negative (or NaN) */
                rc = qk_fail(err, "%s/added_tokens.json: \"%.60s\" has no integer id >= 0", dir, e->string);
                break;
            }
            /* ids past the vocabulary are skipped, however large (convert does; 1e49 is a valid JSON id) */
            if (d >= (double)v->n_tokens) continue;
            if (floor(d) != d) {
                rc = qk_fail(err, "%s/added_tokens.json: \"%.60s\" has no integer id >= 0", dir, e->string);
                break;
            }
            size_t id = (size_t)d; /* < n_tokens: in range */
            if ((rc = qk_vocab_set_token(v, id, e->string, strlen(e->string), err))) break;
            v->scores[id] = -1000.0f;
            v->token_type[id] = QK_TOKEN_USER_DEFINED;
        }
    }
    cJSON_Delete(j);
    return rc;
}

/* int(key) for a decimal key (Python int() also takes signs, spaces and '_'; real files use digits) */
static int parse_id_key(const char *s, uint64_t *out) {
    if (!*s) return -1;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || x > (UINT64_MAX - 9) / 10) return -1;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return 0;
}

/* tokenizer_config.json added_tokens_decoder {"id": {"content", "special"}}: CONTROL if special or looks
 * special, else USER_DEFINED with U+2581 -> ' '; score -1000 (ids >= n ignored) */
static int apply_added_tokens_decoder(const char *dir, const cJSON *tcfg, qk_vocab *v, qk_err *err) {
    const cJSON *atd = get(tcfg, "added_tokens_decoder");
    if (!atd) return QK_OK;
    if (!cJSON_IsObject(atd)) return qk_fail(err, "%s/tokenizer_config.json: added_tokens_decoder is not an object", dir);
    const cJSON *e;
    cJSON_ArrayForEach(e, atd) {
        uint64_t id;
        const cJSON *c = get(e, "content");
        if (parse_id_key(e->string, &id))
            return qk_fail(err, "%s/tokenizer_config.json: added_tokens_decoder key \"%.60s\" is not a token id", dir,
                           e->string);
        if (!cJSON_IsString(c))
            return qk_fail(err, "%s/tokenizer_config.json: added_tokens_decoder[\"%s\"] has no string \"content\"",
                           dir, e->string);
        if (id >= v->n_tokens) continue;
        const cJSON *sp = get(e, "special");
        int special = sp && !cJSON_IsNull(sp) && !cJSON_IsFalse(sp) &&
                      !(cJSON_IsNumber(sp) && sp->valuedouble == 0) && !(cJSON_IsString(sp) && !sp->valuestring[0]);
        const char *text = c->valuestring;
        char *owned = NULL;
        if (special || qk_token_looks_special(text)) {
            v->token_type[id] = QK_TOKEN_CONTROL;
        } else {
            owned = qk_replace_spm_space(text);
            if (!owned) return qk_fail(err, "out of memory");
            text = owned;
            v->token_type[id] = QK_TOKEN_USER_DEFINED;
        }
        v->scores[id] = -1000.0f;
        int rc = qk_vocab_set_token(v, (size_t)id, text, strlen(text), err);
        free(owned);
        if (rc) return qk_fail_prefix(err, "%s/tokenizer_config.json", dir);
    }
    return QK_OK;
}

/* transformers' all_special_tokens for the llama-hf path: the named special tokens and
 * additional_special_tokens of tokenizer_config.json and special_tokens_map.json; LlamaTokenizer(Fast)
 * defaults <unk>, <s>, </s> where neither file names one. */
typedef struct {
    const char *items[64];
    size_t n;
} textlist;

static void tl_add(textlist *l, const cJSON *val) {
    const char *s = NULL;
    if (cJSON_IsString(val)) s = val->valuestring;
    else if (cJSON_IsString(get(val, "content"))) s = get(val, "content")->valuestring;
    if (!s) return;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i], s)) return;
    if (l->n < sizeof l->items / sizeof l->items[0]) l->items[l->n++] = s;
}

static void special_texts(const cJSON *tcfg, const cJSON *stmap, textlist *l) {
    static const char *const roles[] = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                                        "cls_token", "mask_token"};
    const char *cls = cJSON_IsString(get(tcfg, "tokenizer_class")) ? get(tcfg, "tokenizer_class")->valuestring : NULL;
    int llama_defaults = !cls || !strncmp(cls, "LlamaTokenizer", 14);
    static const char *const defaults[] = {"<s>", "</s>", "<unk>"};
    for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
        const cJSON *a = get(stmap, roles[r]), *b = get(tcfg, roles[r]);
        const cJSON *val = a ? a : b; /* special_tokens_map.json overrides the config's init values */
        if (val && !cJSON_IsNull(val)) {
            tl_add(l, val);
        } else if (!val && llama_defaults && r < 3) {
            cJSON tmp;
            memset(&tmp, 0, sizeof tmp);
            tmp.type = cJSON_String;
            tmp.valuestring = (char *)defaults[r];
            tl_add(l, &tmp);
        }
    }
    const cJSON *e;
    const cJSON *add = get(stmap, "additional_special_tokens");
    if (!add) add = get(tcfg, "additional_special_tokens");
    const cJSON *add_list = cJSON_IsArray(add) ? add : NULL;
    cJSON_ArrayForEach(e, add_list) tl_add(l, e);
}

/* transformers 5's all_special_tokens (tokenization_utils_base.py), which Gemma 4 needs: the named roles as above;
 * the model-specific named tokens - every other tokenizer_config.json key ending in "_token" whose value is a string
 * (or an AddedToken object), and the values of "model_specific_special_tokens" (or of a dict-valued
 * "extra_special_tokens"); then "extra_special_tokens" as a list (or, without it, "additional_special_tokens"). */
static void special_texts_v5(const cJSON *tcfg, const cJSON *stmap, textlist *l) {
    static const char *const roles[] = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                                        "cls_token", "mask_token"};
    for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
        const cJSON *a = get(stmap, roles[r]), *b = get(tcfg, roles[r]);
        const cJSON *val = a ? a : b;
        if (val && !cJSON_IsNull(val)) tl_add(l, val);
    }
    const cJSON *e;
    if (cJSON_IsObject(tcfg)) cJSON_ArrayForEach(e, tcfg) {
        size_t n = strlen(e->string);
        bool role = false;
        for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) role |= !strcmp(e->string, roles[r]);
        if (!role && n > 6 && !strcmp(e->string + n - 6, "_token") && (cJSON_IsString(e) || cJSON_IsObject(e)))
            tl_add(l, e);
    }
    const cJSON *named = get(tcfg, "model_specific_special_tokens"), *extra = get(tcfg, "extra_special_tokens");
    if (cJSON_IsObject(named)) cJSON_ArrayForEach(e, named) tl_add(l, e);
    if (cJSON_IsObject(extra)) cJSON_ArrayForEach(e, extra) tl_add(l, e);
    const cJSON *list = cJSON_IsArray(extra) ? extra : NULL;
    if (!extra) {
        list = get(stmap, "additional_special_tokens");
        if (!list) list = get(tcfg, "additional_special_tokens");
        if (!cJSON_IsArray(list)) list = NULL;
    }
    cJSON_ArrayForEach(e, list) tl_add(l, e);
}

static int load_merges_txt(const char *dir, qk_vocab *v, qk_err *err) {
    char path[4096];
    if (qk_path_join(path, sizeof path, dir, "merges.txt", err)) return QK_FAIL;
    if (!qk_file_exists(path)) return QK_OK;
    char *text;
    size_t len;
    if (qk_read_text_file(path, QK_JSON_MAX_BYTES, &text, &len, err)) return QK_FAIL;
    /* gguf-py: a first line starting with '#' is a header; other lines are split on whitespace and
     * kept only when they have exactly two parts */
    char *p = text, *end = text + len;
    int first = 1;
    int rc = QK_OK;
    while (p < end && rc == QK_OK) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        *le = '\0';
        char *line = p;
        p = le + 1;
        while (*line == ' ' || *line == '\t' || *line == '\r') line++;
        if (first) {
            first = 0;
            if (*line == '#') continue;
        }
        char *parts[3];
        int np = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r\v\f", &save); t && np < 3; t = strtok_r(NULL, " \t\r\v\f", &save))
            parts[np++] = t;
        if (np != 2) continue;
        size_t la = strlen(parts[0]), lb = strlen(parts[1]);
        char *m = malloc(la + lb + 2);
        if (!m) { rc = qk_fail(err, "out of memory"); break; }
        memcpy(m, parts[0], la);
        m[la] = ' ';
        memcpy(m + la + 1, parts[1], lb + 1);
        rc = qk_vocab_add_merge(v, m, la + lb + 1, err);
        free(m);
    }
    free(text);
    return rc;
}

/* Whether tokenizer.json's normalizer prepends "\u2581" (a Prepend, alone or in a Sequence): the SentencePiece
 * model's add_dummy_prefix, as tokenizer.json states it */
static bool tokjson_prepends(const cJSON *tok) {
    const cJSON *n = get(tok, "normalizer");
    const cJSON *seq = get(n, "normalizers"), *e;
    const char *t = cJSON_GetStringValue(get(n, "type"));
    if (t && !strcmp(t, "Prepend")) return true;
    if (!cJSON_IsArray(seq)) return false;
    cJSON_ArrayForEach(e, seq) {
        const char *et = cJSON_GetStringValue(get(e, "type"));
        if (et && !strcmp(et, "Prepend")) return true;
    }
    return false;
}

int qk_vocab_load_hf(const char *dir, const char *pre_override, uint64_t vocab_size_from_config, qk_vocab *out,
                     qk_err *err) {
    return qk_vocab_load_hf_for(dir, NULL, pre_override, vocab_size_from_config, out, err);
}

int qk_vocab_load_hf_for(const char *dir, const char *family_pre, const char *pre_override,
                         uint64_t vocab_size_from_config, qk_vocab *out, qk_err *err) {
    qk_vocab_init(out);
    cJSON *tcfg = NULL, *tok = NULL, *stmap = NULL;
    qk_spm_model spm;
    memset(&spm, 0, sizeof spm);
    int rc = QK_FAIL;
    char path[4096], tokjson_name[4096];
    int64_t n_vocab_check = -1;

    if (qk_json_load(dir, "tokenizer_config.json", &tcfg, err)) goto out;
    if (tcfg && !cJSON_IsObject(tcfg)) {
        qk_fail(err, "%s/tokenizer_config.json: not a JSON object", dir);
        goto out;
    }
    const cJSON *aps = get(tcfg, "add_prefix_space");
    if (cJSON_IsBool(aps)) out->add_space_prefix = cJSON_IsTrue(aps) ? QK_TRI_TRUE : QK_TRI_FALSE;
    const cJSON *tclass = get(tcfg, "tokenizer_class");
    if (cJSON_IsString(tclass) && !strcmp(tclass->valuestring, "HybridDNATokenizer")) {
        qk_fail(err, "%s: tokenizer_class HybridDNATokenizer is not supported", dir);
        goto out;
    }
    if (qk_path_join(tokjson_name, sizeof tokjson_name, dir, "tokenizer.json", err)) goto out;
    if (qk_path_join(path, sizeof path, dir, "tekken.json", err)) goto out;
    if (qk_file_exists(path) && !qk_file_exists(tokjson_name)) {
        qk_fail(err, "%s: only a Mistral tekken.json tokenizer (no tokenizer.json): not supported", dir);
        goto out;
    }
    if (qk_json_load(dir, "tokenizer.json", &tok, err)) goto out;
    if (tok && !cJSON_IsObject(tok)) {
        qk_fail(err, "%s: not a JSON object", tokjson_name);
        goto out;
    }
    if (qk_path_join(path, sizeof path, dir, "tokenizer.model", err)) goto out;
    int is_llama = 1;
    if (qk_file_exists(path)) {
        if (qk_spm_load(path, &spm, err)) goto out;
        if (qk_spm_to_vocab(&spm, vocab_size_from_config, out, err)) goto out;
        out->dummy_prefix = spm.add_dummy_prefix ? QK_TRI_TRUE : QK_TRI_FALSE;
        if (apply_added_tokens_json(dir, out, err)) goto out;
        if (apply_added_tokens_decoder(dir, tcfg, out, err)) goto out;
        n_vocab_check = (int64_t)out->n_tokens;
    } else if (tok) {
        qk_tokjson_kind kind;
        if (qk_tokjson_kind_of(tok, tokjson_name, &kind, err)) goto out;
        if (kind == QK_TOKJSON_LLAMA_HF) {
            textlist tl = {{0}, 0};
            if (qk_json_load(dir, "special_tokens_map.json", &stmap, err)) goto out;
            special_texts(tcfg, stmap, &tl);
            if (qk_tokjson_llama_hf_vocab(tok, tokjson_name, tl.items, tl.n, out, err)) goto out;
            out->dummy_prefix = tokjson_prepends(tok) ? QK_TRI_TRUE : QK_TRI_FALSE;
            n_vocab_check = (int64_t)out->n_tokens;
        } else {
            is_llama = 0;
            if (qk_tokjson_bpe_vocab(tok, tokjson_name, vocab_size_from_config, pre_override, family_pre, out, err))
                goto out;
            if (out->n_merges == 0 && load_merges_txt(dir, out, err)) goto out;
            if (out->n_merges == 0) {
                qk_fail(err, "%s: a BPE tokenizer without merges (model.merges is empty and there is no merges.txt)",
                        tokjson_name);
                goto out;
            }
        }
    } else {
        if (qk_path_join(path, sizeof path, dir, "tiktoken.model", err)) goto out;
        if (qk_file_exists(path))
            qk_fail(err, "%s: no tokenizer.model or tokenizer.json, only a tiktoken.model (read through the model's own "
                         "tokenizer code): quantkit reads Kimi K2's (tokenization_kimi) for DeepSeek-V3-architecture "
                         "models, as llama.cpp's converter does, and no other", dir);
        else
            qk_fail(err, "%s: no tokenizer.model or tokenizer.json", dir);
        goto out;
    }
    if (is_llama && pre_override && strcmp(pre_override, "default") != 0) {
        qk_fail(err, "%s: --pre-tokenizer '%s' applies to byte-level BPE tokenizers only; this one is sentencepiece "
                     "style (model llama, pre default)", dir, pre_override);
        goto out;
    }
    if (qk_special_vocab_load(dir, tok, tcfg, n_vocab_check, out, err)) goto out;
    /* LlamaModel.set_vocab's model-specific fixes */
    if (vocab_size_from_config == 32016 && out->special[QK_SPECIAL_EOT] < 0) out->special[QK_SPECIAL_EOT] = 32010;
    if (vocab_size_from_config == 49152) out->add_bos = QK_TRI_FALSE;
    rc = QK_OK;
out:
    if (rc) qk_vocab_free(out);
    qk_spm_free(&spm);
    cJSON_Delete(tcfg);
    cJSON_Delete(tok);
    cJSON_Delete(stmap);
    return rc;
}

/* one added token the Phi3 / InternLM2 way; ids beyond the vocabulary are left out; *im_end: the id of
 * "<|im_end|>" when this is it */
static int verbatim_set(qk_vocab *v, uint64_t id, const cJSON *e, const char *where, int64_t *im_end, qk_err *err) {
    const cJSON *c = get(e, "content"), *sp = get(e, "special");
    if (!cJSON_IsString(c)) return qk_fail(err, "%s: token %llu has no string \"content\"", where, (unsigned long long)id);
    if (!strcmp(c->valuestring, "<|im_end|>")) *im_end = (int64_t)id;
    if (id >= v->n_tokens) return QK_OK;
    if (qk_vocab_set_token(v, (size_t)id, c->valuestring, strlen(c->valuestring), err))
        return qk_fail_prefix(err, "%s", where);
    v->scores[id] = -1000.0f;
    v->token_type[id] = cJSON_IsTrue(sp) ? QK_TOKEN_CONTROL : QK_TOKEN_USER_DEFINED;
    return QK_OK;
}

/* tokenizer_config.json's added_tokens_decoder, then tokenizer.json's added_tokens, each set verbatim at its
 * id (score -1000, CONTROL if "special", else USER_DEFINED), as Phi3MiniModel and InternLM2Model do;
 * *im_end: the last id whose text is "<|im_end|>" (-1: none) */
static int apply_added_verbatim(const char *dir, const cJSON *tcfg, qk_vocab *v, int64_t *im_end, qk_err *err) {
    char where[4200];
    cJSON *tok = NULL;
    int rc = QK_OK;
    *im_end = -1;
    const cJSON *atd = get(tcfg, "added_tokens_decoder"), *e;
    snprintf(where, sizeof where, "%s/tokenizer_config.json added_tokens_decoder", dir);
    if (atd && !cJSON_IsObject(atd)) rc = qk_fail(err, "%s: not an object", where);
    if (rc == QK_OK && atd) cJSON_ArrayForEach(e, atd) {
        uint64_t id;
        if (parse_id_key(e->string, &id)) {
            rc = qk_fail(err, "%s: key \"%.60s\" is not a token id", where, e->string);
            break;
        }
        if ((rc = verbatim_set(v, id, e, where, im_end, err))) break;
    }
    if (rc == QK_OK) rc = qk_json_load(dir, "tokenizer.json", &tok, err);
    const cJSON *added = get(tok, "added_tokens");
    snprintf(where, sizeof where, "%s/tokenizer.json added_tokens", dir);
    if (rc == QK_OK && added && !cJSON_IsArray(added)) rc = qk_fail(err, "%s: not a list", where);
    if (rc == QK_OK && added) cJSON_ArrayForEach(e, added) {
        const cJSON *id = get(e, "id");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble != (double)(uint64_t)id->valuedouble) {
            rc = qk_fail(err, "%s: an entry has no integer id >= 0", where);
            break;
        }
        if ((rc = verbatim_set(v, (uint64_t)id->valuedouble, e, where, im_end, err))) break;
    }
    cJSON_Delete(tok);
    return rc;
}

int qk_vocab_apply_phi3(const char *dir, qk_vocab *v, qk_err *err) {
    char path[4096];
    if (qk_path_join(path, sizeof path, dir, "tokenizer.model", err)) return QK_FAIL;
    if (!qk_file_exists(path) || !v->scores) return QK_OK;
    cJSON *tcfg = NULL;
    int rc = qk_json_load(dir, "tokenizer_config.json", &tcfg, err);
    const cJSON *cls = get(tcfg, "tokenizer_class");
    int64_t im_end;
    if (rc == QK_OK && !(cJSON_IsString(cls) && !strcmp(cls->valuestring, "GPT2Tokenizer"))) {
        v->add_space_prefix = QK_TRI_UNSET;
        rc = apply_added_verbatim(dir, tcfg, v, &im_end, err);
    }
    cJSON_Delete(tcfg);
    return rc;
}

/* InternLM2Model.set_vocab after the SentencePiece pieces (a llama-style vocabulary; a byte-level BPE one is
 * left as it is): "[UNUSED..." pieces unused, the added tokens verbatim, and for a chat model (one with
 * "<|im_end|>") that token as EOS. The NUL piece it writes as U+1F409 is vocab.c's nul_token. */
static int apply_internlm2(const char *dir, qk_vocab *v, qk_err *err) {
    if (!v->scores) return QK_OK;
    v->add_space_prefix = v->dummy_prefix; /* the model's add_dummy_prefix (false for InternLM 2) */
    for (size_t i = 0; i < v->n_tokens; i++)
        if (!strncmp(v->tokens[i], "[UNUSED", 7)) v->token_type[i] = QK_TOKEN_UNUSED;
    cJSON *tcfg = NULL;
    int64_t im_end = -1;
    int rc = qk_json_load(dir, "tokenizer_config.json", &tcfg, err);
    if (rc == QK_OK) rc = apply_added_verbatim(dir, tcfg, v, &im_end, err);
    if (rc == QK_OK && im_end >= 0) v->special[QK_SPECIAL_EOS] = im_end; /* "so that the conversation can end" */
    cJSON_Delete(tcfg);
    return rc;
}

/* Gemma4Model.set_vocab (conversion/gemma.py): gguf-py's LlamaHfVocab over tokenizer.json, then the
 * "gemma4" tokenizer model, SpecialVocab with merges, add_space_prefix false, add_bos true. */
int qk_vocab_load_gemma4(const char *dir, const char *pre_override, qk_vocab *out, qk_err *err) {
    /* the tokens Gemma4Model makes USER_DEFINED "so that the chat parser can read them" */
    static const char *const visible[] = {"<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>",
                                          "<|tool_response>", "<tool_response|>", "<|\"|>"};
    qk_vocab_init(out);
    cJSON *tcfg = NULL, *tok = NULL, *stmap = NULL;
    int rc = QK_FAIL;
    char tokjson_name[4096];
    if (pre_override) {
        qk_fail(err, "%s: --pre-tokenizer '%s' does not apply to Gemma 4: llama.cpp's 'gemma4' tokenizer model sets its "
                     "own pre-tokenizer", dir, pre_override);
        goto out;
    }
    if (qk_path_join(tokjson_name, sizeof tokjson_name, dir, "tokenizer.json", err)) goto out;
    if (qk_json_load(dir, "tokenizer_config.json", &tcfg, err)) goto out;
    if (tcfg && !cJSON_IsObject(tcfg)) {
        qk_fail(err, "%s/tokenizer_config.json: not a JSON object", dir);
        goto out;
    }
    if (qk_json_load(dir, "tokenizer.json", &tok, err)) goto out;
    if (!tok) {
        qk_fail(err, "%s: no tokenizer.json: Gemma 4's vocabulary is read from it (gguf-py LlamaHfVocab; a "
                     "tokenizer.model alone is not used)", dir);
        goto out;
    }
    if (!cJSON_IsObject(tok)) {
        qk_fail(err, "%s: not a JSON object", tokjson_name);
        goto out;
    }
    qk_tokjson_kind kind;
    if (qk_tokjson_kind_of(tok, tokjson_name, &kind, err)) goto out;
    if (kind != QK_TOKJSON_LLAMA_HF) {
        const cJSON *model = get(tok, "model"), *dec = get(get(tok, "decoder"), "type");
        qk_fail(err, "%s: not a SentencePiece-style BPE tokenizer (model.byte_fallback %s, decoder type %s; expected "
                     "byte_fallback true and a Sequence decoder): Gemma 4's converter reads tokenizer.json with gguf-py's "
                     "LlamaHfVocab, which refuses it, and llama.cpp's 'gemma4' tokenizer model could not run it",
                tokjson_name, cJSON_IsTrue(get(model, "byte_fallback")) ? "true" : "false/absent",
                cJSON_IsString(dec) ? dec->valuestring : "absent");
        goto out;
    }
    textlist tl = {{0}, 0};
    if (qk_json_load(dir, "special_tokens_map.json", &stmap, err)) goto out;
    special_texts_v5(tcfg, stmap, &tl); /* Gemma 4 needs transformers 5 */
    if (qk_tokjson_llama_hf_vocab(tok, tokjson_name, tl.items, tl.n, out, err)) goto out;
    if (qk_vocab_set_model(out, "gemma4", NULL, err)) goto out; /* no tokenizer.ggml.pre: llama.cpp sets "gemma4" */
    for (size_t i = 0; i < out->n_tokens; i++) {
        out->scores[i] = -1000.0f; /* LlamaHfVocab's placeholder; llama.cpp's gemma4 (BPE) merges by rank */
        for (size_t k = 0; k < sizeof visible / sizeof visible[0]; k++)
            if (!strcmp(out->tokens[i], visible[k])) out->token_type[i] = QK_TOKEN_USER_DEFINED;
    }
    /* SpecialVocab(load_merges=True): tokenizer.json's merges, else merges.txt */
    if (qk_tokjson_merges(tok, tokjson_name, out, err)) goto out;
    if (out->n_merges == 0 && load_merges_txt(dir, out, err)) goto out;
    if (out->n_merges == 0) {
        qk_fail(err, "%s: model.merges is empty and there is no merges.txt: llama.cpp's 'gemma4' tokenizer model needs "
                     "tokenizer.ggml.merges", tokjson_name);
        goto out;
    }
    /* SpecialVocab without n_vocab: ids are not range-checked */
    if (qk_special_vocab_load(dir, tok, tcfg, -1, out, err)) goto out;
    out->add_space_prefix = QK_TRI_FALSE;
    out->add_bos = QK_TRI_TRUE;
    rc = QK_OK;
out:
    if (rc) qk_vocab_free(out);
    cJSON_Delete(tcfg);
    cJSON_Delete(tok);
    cJSON_Delete(stmap);
    return rc;
}

/* GLM's special tokens by their text, as _set_vocab_glm / Glm4Model.set_vocab take them from the added vocabulary
 * (the converter stops on a missing one; so does this, naming it) */
static int glm_specials(const char *dir, qk_vocab *v, const char *const (*roles)[2], size_t n, qk_err *err) {
    for (size_t r = 0; r < n; r++) {
        int64_t id = -1;
        for (size_t i = 0; i < v->n_tokens && id < 0; i++)
            if (v->token_type[i] != QK_TOKEN_NORMAL && !strcmp(v->tokens[i], roles[r][1])) id = (int64_t)i;
        if (id < 0)
            return qk_fail(err, "%s: the tokenizer has no added token \"%s\", which llama.cpp's converter takes as the "
                                "%s token of this GLM model", dir, roles[r][1], roles[r][0]);
        for (int k = 0; k < QK_SPECIAL_COUNT; k++)
            if (!strcmp(qk_special_name(k), roles[r][0])) v->special[k] = id;
    }
    return QK_OK;
}

int qk_vocab_apply_arch(const char *arch, const char *dir, qk_vocab *v, qk_err *err) {
    /* Glm4Model.set_vocab (GLM-4 0414) and _set_vocab_glm (GLM-4.5, Glm4MoeModel) */
    static const char *const glm4[][2] = {
        {"eos", "<|endoftext|>"}, {"eot", "<|user|>"}, {"unk", "<|endoftext|>"}, {"bos", "<|endoftext|>"}};
    static const char *const glm4moe[][2] = {
        {"bos", "[gMASK]"}, {"eot", "<|user|>"}, {"unk", "<|endoftext|>"}, {"eom", "<|observation|>"}};
    const bool bpe = v->model && !strcmp(v->model, "gpt2");
    if (!strcmp(arch, "glm4") && bpe && glm_specials(dir, v, glm4, sizeof glm4 / sizeof glm4[0], err)) return QK_FAIL;
    if (!strcmp(arch, "glm4moe") && bpe && glm_specials(dir, v, glm4moe, sizeof glm4moe / sizeof glm4moe[0], err))
        return QK_FAIL;
    if (!strcmp(arch, "gemma") && qk_special_vocab_gemma(dir, v, err)) return QK_FAIL; /* CodeGemma's ids */
    if (!strncmp(arch, "gemma", 5)) v->add_space_prefix = QK_TRI_FALSE; /* as convert does */
    if (!strcmp(arch, "gemma") || !strcmp(arch, "gemma2") || !strcmp(arch, "gemma3")) {
        char path[4096];
        if (qk_path_join(path, sizeof path, dir, "tokenizer.model", err)) return QK_FAIL;
        if (qk_file_exists(path) || !v->scores) return QK_OK; /* typed by the SentencePiece path already */
        cJSON *tcfg = NULL;
        int rc = qk_json_load(dir, "tokenizer_config.json", &tcfg, err);
        if (rc == QK_OK) rc = apply_added_tokens_json(dir, v, err);
        if (rc == QK_OK && tcfg) rc = apply_added_tokens_decoder(dir, tcfg, v, err);
        cJSON_Delete(tcfg);
        return rc;
    }
    if (!strcmp(arch, "phi3") || !strcmp(arch, "phimoe")) return qk_vocab_apply_phi3(dir, v, err);
    if (!strcmp(arch, "internlm2")) return apply_internlm2(dir, v, err);
    if (!strcmp(arch, "nemotron_h")) v->add_bos = QK_TRI_TRUE; /* NemotronHModel.set_vocab, dense models */
    if (v->nul_token >= 0)
        return qk_fail(err, "%s: token %lld is a single NUL byte: llama.cpp's converter writes it as it is for the %s "
                            "architecture, which quantkit's GGUF token list cannot hold (only InternLM 2's converter "
                            "replaces it, with U+1F409)", dir, (long long)v->nul_token, arch);
    return QK_OK;
}
