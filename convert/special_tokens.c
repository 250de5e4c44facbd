/* special_tokens.c - gguf-py SpecialVocab, step by step (see special_tokens.h). Python truthiness
 * and equality are mirrored by `pyval` so that dict-valued tokens compare like Python's would. */
#include "special_tokens.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"

typedef struct {
    enum { PV_NONE, PV_STR, PV_OTHER } kind;
    const char *s;      /* PV_STR */
    const cJSON *j;     /* the JSON value (PV_STR / PV_OTHER), NULL when set from a string */
} pyval;

static pyval pv_of(const cJSON *j) {
    pyval p = {PV_NONE, NULL, NULL};
    if (!j || cJSON_IsNull(j)) return p;
    p.j = j;
    if (cJSON_IsString(j)) {
        p.kind = PV_STR;
        p.s = j->valuestring;
    } else {
        p.kind = PV_OTHER;
    }
    return p;
}

static pyval pv_str(const char *s) {
    pyval p = {PV_STR, s, NULL};
    return p;
}

static int pv_truthy(pyval p) {
    if (p.kind == PV_NONE) return 0;
    if (p.kind == PV_STR) return p.s[0] != '\0';
    const cJSON *j = p.j;
    if (cJSON_IsBool(j)) return cJSON_IsTrue(j);
    if (cJSON_IsNumber(j)) return j->valuedouble != 0;
    if (cJSON_IsArray(j) || cJSON_IsObject(j)) return j->child != NULL;
    return 1;
}

/* Python `s == p` for a string s */
static int pv_eq(const char *s, pyval p) { return s && p.kind == PV_STR && !strcmp(s, p.s); }

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* x.get('SpecialToken', {}).get('id') as a string (NULL if absent or not a string) */
static const char *special_token_id(const cJSON *item) {
    const cJSON *id = get(get(item, "SpecialToken"), "id");
    return cJSON_IsString(id) && id->valuestring[0] ? id->valuestring : NULL;
}
static const char *sequence_id(const cJSON *item) {
    const cJSON *id = get(get(item, "Sequence"), "id");
    return cJSON_IsString(id) ? id->valuestring : NULL;
}

typedef struct {
    pyval tc[QK_SPECIAL_COUNT]; /* tokenizer_config['{role}_token'], with SpecialVocab's writes */
    int cfg_truthy;             /* tokenizer_config is a non-empty dict */
    int has_eot, has_eom;       /* roles appended to special_token_types */
    qk_tri add[QK_SPECIAL_COUNT];
} sv_state;

static void parse_normalizer(const cJSON *n, qk_vocab *v, int depth) {
    const cJSON *t = get(n, "type");
    if (!cJSON_IsString(t) || depth > 16) return;
    const char *type = t->valuestring;
    if (!strcmp(type, "Lowercase")) {
        v->normalizer_lowercase = QK_TRI_TRUE;
    } else if (!strcmp(type, "StripAccents")) {
        v->normalizer_strip_accents = QK_TRI_TRUE;
    } else if (!strcmp(type, "BertNormalizer")) {
        const cJSON *l = get(n, "lowercase"), *s = get(n, "strip_accents");
        if (cJSON_IsBool(l)) v->normalizer_lowercase = cJSON_IsTrue(l) ? QK_TRI_TRUE : QK_TRI_FALSE;
        if (cJSON_IsBool(s)) v->normalizer_strip_accents = cJSON_IsTrue(s) ? QK_TRI_TRUE : QK_TRI_FALSE;
    } else if (!strcmp(type, "Sequence")) {
        const cJSON *e;
        cJSON_ArrayForEach(e, get(n, "normalizers")) parse_normalizer(e, v, depth + 1);
    }
}

static void template_processing(const cJSON *proc, sv_state *st) {
    pyval *bos = &st->tc[QK_SPECIAL_BOS], *cls = &st->tc[QK_SPECIAL_CLS];
    pyval *eos = &st->tc[QK_SPECIAL_EOS], *sep = &st->tc[QK_SPECIAL_SEP];
    /* without a tokenizer_config SpecialVocab tracks bos/eos in locals only; mirror that with copies */
    const cJSON *single = get(proc, "single"), *pair = get(proc, "pair");
    int n_single = cJSON_IsArray(single) ? cJSON_GetArraySize(single) : 0;
    int n_pair = cJSON_IsArray(pair) ? cJSON_GetArraySize(pair) : 0;
    const char *first = NULL, *last = NULL;
    if (n_single > 1) {
        if ((first = special_token_id(cJSON_GetArrayItem(single, 0)))) {
            if (!st->cfg_truthy) {
                *bos = pv_str(first);
            } else if (!pv_eq(first, *bos) && !pv_eq(first, *cls)) {
                if (!pv_truthy(*bos)) *bos = pv_str(first);
                if (!pv_truthy(*cls)) *cls = pv_str(first);
            }
            st->add[QK_SPECIAL_BOS] = pv_eq(first, *bos) || pv_eq(first, *cls) ? QK_TRI_TRUE : QK_TRI_FALSE;
        }
        if ((last = special_token_id(cJSON_GetArrayItem(single, n_single - 1)))) {
            if (!st->cfg_truthy) {
                *eos = pv_str(last);
            } else if (!pv_eq(last, *eos)) {
                if (!st->has_eot) {
                    st->has_eot = 1;
                    st->tc[QK_SPECIAL_EOT] = *eos;
                } else if (!st->has_eom) {
                    st->has_eom = 1;
                    st->tc[QK_SPECIAL_EOM] = *eos;
                }
                *eos = pv_str(last);
            }
            st->add[QK_SPECIAL_EOS] = pv_eq(last, *eos) ? QK_TRI_TRUE : QK_TRI_FALSE;
        }
    }
    if (n_pair) {
        int start = first && cJSON_GetArrayItem(pair, 0) && special_token_id(cJSON_GetArrayItem(pair, 0)) &&
                            !strcmp(special_token_id(cJSON_GetArrayItem(pair, 0)), first) ? 1 : 0;
        const char *pl = special_token_id(cJSON_GetArrayItem(pair, n_pair - 1));
        int stop = last && pl && !strcmp(pl, last) ? n_pair - 1 : n_pair; /* exclusive */
        if (stop > start) {
            const char *a = sequence_id(cJSON_GetArrayItem(pair, start));
            const char *b = sequence_id(cJSON_GetArrayItem(pair, stop - 1));
            /* tmpl_pair[1:-1] */
            int mid0 = start + 1, mid1 = stop - 1;
            if (a && b && !strcmp(a, "A") && !strcmp(b, "B") && mid1 > mid0) {
                int add_sep = 0;
                const char *e1 = special_token_id(cJSON_GetArrayItem(pair, mid0));
                if (e1 && (pv_eq(e1, *sep) || pv_eq(e1, *eos)) && !last) add_sep = 1;
                if (mid1 - mid0 == 2) {
                    const char *e2 = special_token_id(cJSON_GetArrayItem(pair, mid0 + 1));
                    if (e2 && (pv_eq(e2, *sep) || pv_eq(e2, *eos))) add_sep = 1;
                }
                st->add[QK_SPECIAL_SEP] = add_sep ? QK_TRI_TRUE : QK_TRI_FALSE;
                if (add_sep && !pv_truthy(*sep) && st->cfg_truthy) *sep = *eos;
            }
        }
    }
}

static void post_processor(const cJSON *pp, sv_state *st) {
    const cJSON *procs = get(pp, "processors");
    const cJSON *one[1] = {pp};
    int n = cJSON_IsArray(procs) ? cJSON_GetArraySize(procs) : 1;
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_IsArray(procs) ? cJSON_GetArrayItem(procs, i) : one[0];
        const cJSON *t = get(p, "type");
        if (!cJSON_IsString(t)) continue;
        if (!strcmp(t->valuestring, "RobertaProcessing")) {
            st->add[QK_SPECIAL_BOS] = st->add[QK_SPECIAL_EOS] = st->add[QK_SPECIAL_SEP] = QK_TRI_TRUE;
            if (!pv_truthy(st->tc[QK_SPECIAL_CLS]) && st->cfg_truthy) {
                const cJSON *c = get(p, "cls");
                st->tc[QK_SPECIAL_CLS] = cJSON_IsArray(c) ? pv_of(cJSON_GetArrayItem(c, 0)) : st->tc[QK_SPECIAL_BOS];
            }
            if (!pv_truthy(st->tc[QK_SPECIAL_SEP]) && st->cfg_truthy) {
                const cJSON *s = get(p, "sep");
                st->tc[QK_SPECIAL_SEP] = cJSON_IsArray(s) ? pv_of(cJSON_GetArrayItem(s, 0)) : st->tc[QK_SPECIAL_EOS];
            }
        } else if (!strcmp(t->valuestring, "TemplateProcessing")) {
            template_processing(p, st);
        }
    }
}

static int set_special(qk_vocab *v, int role, int64_t id, int64_t n_vocab, const char *src, qk_err *err) {
    if (id < 0) return qk_fail(err, "%s: invalid value for special token type %s: %lld", src, qk_special_name(role),
                               (long long)id);
    if (n_vocab >= 0 && id >= n_vocab) return QK_OK; /* out of range: SpecialVocab skips it */
    if (v->special[role] < 0) v->special[role] = id;
    return QK_OK;
}

/* A Python int from JSON: an integral number. Returns 0 if j is one. */
static int json_int(const cJSON *j, int64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (d != d || d < -9.0e15 || d > 9.0e15 || (double)(int64_t)d != d) return -1;
    *out = (int64_t)d;
    return 0;
}

static int dup_into(char **dst, const char *s, qk_err *err) {
    free(*dst);
    *dst = strdup(s);
    return *dst ? QK_OK : qk_fail(err, "out of memory");
}

static int add_named(qk_vocab *v, const char *raw_name, const char *text, qk_err *err) {
    /* gguf-py: non-alphanumeric characters become '_'; "default" is the main template */
    char *name = strdup(raw_name);
    if (!name) return qk_fail(err, "out of memory");
    for (char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) *p = '_';
    }
    if (!name[0]) { free(name); return QK_OK; }
    if (!strcmp(name, "default")) {
        free(name);
        return dup_into(&v->chat_template, text, err);
    }
    for (size_t i = 0; i < v->n_named_templates; i++) {
        if (!strcmp(v->named_templates[i].name, name)) { /* later one wins, the name listed once */
            free(name);
            return dup_into(&v->named_templates[i].text, text, err);
        }
    }
    qk_named_template *nt = realloc(v->named_templates, (v->n_named_templates + 1) * sizeof *nt);
    if (!nt) { free(name); return qk_fail(err, "out of memory"); }
    v->named_templates = nt;
    nt[v->n_named_templates].name = name;
    nt[v->n_named_templates].text = strdup(text);
    if (!nt[v->n_named_templates].text) { free(name); return qk_fail(err, "out of memory"); }
    v->n_named_templates++;
    return QK_OK;
}

static int cmp_named(const void *a, const void *b) {
    return strcmp(((const qk_named_template *)a)->name, ((const qk_named_template *)b)->name);
}

/* chat_template value: a string, or a list of {name, template} */
static int set_chat_template(qk_vocab *v, const cJSON *ct, const char *src, qk_err *err) {
    if (cJSON_IsString(ct)) return dup_into(&v->chat_template, ct->valuestring, err);
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, ct) {
        const cJSON *name = get(e, "name"), *tpl = get(e, "template");
        if (!cJSON_IsObject(e) || (name && !cJSON_IsString(name)) || (tpl && !cJSON_IsString(tpl) && !cJSON_IsNull(tpl)))
            return qk_fail(err, "%s: chat_template[%zu] is not a {\"name\": string, \"template\": string} object", src, i);
        if (name && cJSON_IsString(tpl) && add_named(v, name->valuestring, tpl->valuestring, err)) return QK_FAIL;
        i++;
    }
    if (v->n_named_templates > 1) qsort(v->named_templates, v->n_named_templates, sizeof *v->named_templates, cmp_named);
    return QK_OK;
}

static int read_text(const char *path, char **out, qk_err *err) {
    size_t len;
    if (qk_read_text_file(path, (size_t)64 << 20, out, &len, err)) return QK_FAIL;
    if (memchr(*out, 0, len)) {
        free(*out);
        *out = NULL;
        return qk_fail(err, "%s: contains a NUL byte", path);
    }
    return QK_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* chat_template.jinja (+ additional_chat_templates/NAME.jinja -> a named list), else chat_template.json. */
static int load_alt_template(const char *dir, qk_vocab *v, qk_err *err) {
    char path[4096];
    if (qk_path_join(path, sizeof path, dir, "chat_template.jinja", err)) return QK_FAIL;
    if (qk_file_exists(path)) {
        char *text;
        if (read_text(path, &text, err)) return QK_FAIL;
        free(v->chat_template);
        v->chat_template = text;
        char adir[4096];
        if (qk_path_join(adir, sizeof adir, dir, "additional_chat_templates", err)) return QK_FAIL;
        DIR *d = opendir(adir);
        if (!d) return QK_OK;
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        int rc = QK_OK;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l <= 6 || strcmp(de->d_name + l - 6, ".jinja")) continue;
            char **nn = realloc(names, (n + 1) * sizeof *nn);
            if (!nn || !(nn[n] = strdup(de->d_name))) { if (nn) names = nn; rc = qk_fail(err, "out of memory"); break; }
            names = nn;
            n++;
        }
        closedir(d);
        if (n > 1) qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n && rc == QK_OK; i++) {
            char tp[4096];
            if (qk_path_join(tp, sizeof tp, adir, names[i], err)) { rc = QK_FAIL; break; }
            char *t;
            if (read_text(tp, &t, err)) { rc = QK_FAIL; break; }
            names[i][strlen(names[i]) - 6] = '\0'; /* the stem */
            rc = add_named(v, names[i], t, err);
            free(t);
        }
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        return rc;
    }
    cJSON *ctj;
    if (qk_json_load(dir, "chat_template.json", &ctj, err)) return QK_FAIL;
    if (ctj) {
        const cJSON *ct = get(ctj, "chat_template");
        int rc = QK_OK;
        if (cJSON_IsString(ct) || cJSON_IsArray(ct)) rc = set_chat_template(v, ct, "chat_template.json", err);
        cJSON_Delete(ctj);
        return rc;
    }
    return QK_OK;
}

/* Is role r among the pass's special_token_types? The default pass: bos..mask, plus eot/eom once the
 * TemplateProcessing appended them. The Gemma pass: prefix, suffix, middle, fsep (no roles here: gguf-py
 * cannot write them, see qk_special_vocab_gemma) and eot, plus eom once appended. */
static int in_types(const sv_state *st, int gemma, int r) {
    if (r == QK_SPECIAL_EOT) return st->has_eot;
    if (r == QK_SPECIAL_EOM) return st->has_eom;
    return !gemma;
}

/* One SpecialVocab(dir) run; gemma: the second one of GemmaModel.set_vocab (no chat template). */
static int special_pass(const char *dir, const cJSON *tok, const cJSON *tcfg, int64_t n_vocab, int gemma,
                        qk_vocab *v, qk_err *err) {
    sv_state st;
    memset(&st, 0, sizeof st);
    st.has_eot = gemma; /* 'eot' is one of the Gemma pass's types from the start */
    for (int r = 0; r < QK_SPECIAL_COUNT; r++) st.add[r] = QK_TRI_UNSET;
    if (tcfg && !cJSON_IsObject(tcfg)) return qk_fail(err, "%s/tokenizer_config.json: not a JSON object", dir);
    if (tok && !cJSON_IsObject(tok)) return qk_fail(err, "%s/tokenizer.json: not a JSON object", dir);
    st.cfg_truthy = tcfg && tcfg->child;
    for (int r = 0; r < QK_SPECIAL_COUNT; r++) {
        char key[32];
        snprintf(key, sizeof key, "%s_token", qk_special_name(r));
        st.tc[r] = pv_of(get(tcfg, key));
    }
    const cJSON *added = NULL;
    if (tok) {
        const cJSON *norm = get(tok, "normalizer");
        if (norm && !cJSON_IsNull(norm)) parse_normalizer(norm, v, 0);
        added = get(tok, "added_tokens");
        if (tok->child) { /* `if tokenizer:` */
            pyval *bos = &st.tc[QK_SPECIAL_BOS], *cls = &st.tc[QK_SPECIAL_CLS];
            pyval *eos = &st.tc[QK_SPECIAL_EOS], *sep = &st.tc[QK_SPECIAL_SEP];
            if (!pv_truthy(*bos) && pv_truthy(*cls) && st.cfg_truthy) *bos = *cls;
            if (!pv_truthy(*eos) && pv_truthy(*sep) && st.cfg_truthy) *eos = *sep;
            const cJSON *pp = get(tok, "post_processor");
            if (pp && pv_truthy(pv_of(pp))) post_processor(pp, &st);
        }
    }
    for (int r = 0; r < QK_SPECIAL_COUNT; r++)
        if (st.add[r] != QK_TRI_UNSET && (r == QK_SPECIAL_BOS || r == QK_SPECIAL_EOS || r == QK_SPECIAL_SEP)) {
            if (r == QK_SPECIAL_BOS) v->add_bos = st.add[r];
            if (r == QK_SPECIAL_EOS) v->add_eos = st.add[r];
            if (r == QK_SPECIAL_SEP) v->add_sep = st.add[r];
        }
    if (st.cfg_truthy) {
        /* chat template: tokenizer_config's key (even null) wins over the alternative files */
        const cJSON *ct = get(tcfg, "chat_template");
        if (gemma) {
            /* GemmaModel sets special_vocab.chat_template = None: the first pass's stays */
        } else if (!ct) {
            if (load_alt_template(dir, v, err)) return QK_FAIL;
        } else if (cJSON_IsString(ct) || cJSON_IsArray(ct)) {
            if (set_chat_template(v, ct, "tokenizer_config.json", err)) return QK_FAIL;
        }
        for (int r = 0; r < QK_SPECIAL_COUNT; r++) {
            if (!in_types(&st, gemma, r)) continue;
            char key[32];
            snprintf(key, sizeof key, "add_%s_token", qk_special_name(r));
            const cJSON *a = get(tcfg, key);
            if (cJSON_IsBool(a)) {
                qk_tri t = cJSON_IsTrue(a) ? QK_TRI_TRUE : QK_TRI_FALSE;
                if (r == QK_SPECIAL_BOS) v->add_bos = t;
                if (r == QK_SPECIAL_EOS) v->add_eos = t;
                if (r == QK_SPECIAL_SEP) v->add_sep = t;
            }
            pyval e = st.tc[r];
            const char *content = NULL;
            if (e.kind == PV_STR) content = e.s;
            else if (e.kind == PV_OTHER && cJSON_IsObject(e.j) && cJSON_IsString(get(e.j, "content")))
                content = get(e.j, "content")->valuestring;
            if (!content) continue;
            const cJSON *at;
            const cJSON *added_list = cJSON_IsArray(added) ? added : NULL;
            cJSON_ArrayForEach(at, added_list) {
                const cJSON *c = get(at, "content");
                if (cJSON_IsString(c) && !strcmp(c->valuestring, content)) {
                    int64_t id;
                    if (!json_int(get(at, "id"), &id) &&
                        set_special(v, r, id, n_vocab, "tokenizer.json added_tokens", err))
                        return QK_FAIL;
                    break; /* the first match only */
                }
            }
        }
    }
    /* config.json *_token_id */
    cJSON *cfg;
    if (qk_json_load(dir, "config.json", &cfg, err)) return QK_FAIL;
    if (cfg) {
        const cJSON *text_config = get(cfg, "text_config");
        for (int r = 0; r < QK_SPECIAL_COUNT; r++) {
            if (!in_types(&st, gemma, r)) continue;
            char key[32];
            snprintf(key, sizeof key, "%s_token_id", qk_special_name(r));
            const cJSON *id = get(cfg, key);
            if ((!id || cJSON_IsNull(id)) && text_config) id = get(text_config, key);
            int64_t x;
            if (!json_int(id, &x) && set_special(v, r, x, n_vocab, "config.json", err)) {
                cJSON_Delete(cfg);
                return QK_FAIL;
            }
        }
        /* the Gemma pass's other types: never written, but a negative id still fails convert */
        static const char *const fim[] = {"prefix", "suffix", "middle", "fsep"};
        for (size_t i = 0; gemma && i < sizeof fim / sizeof fim[0]; i++) {
            char key[32];
            snprintf(key, sizeof key, "%s_token_id", fim[i]);
            const cJSON *id = get(cfg, key);
            if ((!id || cJSON_IsNull(id)) && text_config) id = get(text_config, key);
            int64_t x;
            if (!json_int(id, &x) && x < 0) {
                cJSON_Delete(cfg);
                return qk_fail(err, "config.json: invalid value for special token type %s: %lld", fim[i], (long long)x);
            }
        }
        cJSON_Delete(cfg);
    }
    return QK_OK;
}

int qk_special_vocab_load(const char *dir, const cJSON *tok, const cJSON *tcfg, int64_t n_vocab, qk_vocab *v,
                          qk_err *err) {
    return special_pass(dir, tok, tcfg, n_vocab, 0, v, err);
}

int qk_special_vocab_gemma(const char *dir, qk_vocab *v, qk_err *err) {
    cJSON *tok = NULL, *tcfg = NULL;
    qk_vocab t;
    qk_vocab_init(&t);
    int rc = QK_FAIL;
    if (qk_json_load(dir, "tokenizer.json", &tok, err) || qk_json_load(dir, "tokenizer_config.json", &tcfg, err))
        goto out;
    /* SpecialVocab(dir_model, load_merges=False, special_token_types=[prefix, suffix, middle, fsep, eot]),
     * n_vocab None: no range check */
    if (special_pass(dir, tok, tcfg, -1, 1, &t, err)) goto out;
    /* _set_special_token("eot", 107) keeps an eot the files gave (the first id wins); prefix 67,
     * suffix 69, middle 68 and fsep 70 are set too, but add_to_gguf finds no GGUFWriter method
     * add_{prefix,suffix,middle,fsep}_token_id in the pinned gguf-py and skips them */
    if (t.special[QK_SPECIAL_EOT] < 0) t.special[QK_SPECIAL_EOT] = QK_GEMMA_EOT_ID;
    /* add_to_gguf again: these keys overwrite the first pass's */
    v->special[QK_SPECIAL_EOT] = t.special[QK_SPECIAL_EOT];
    if (t.special[QK_SPECIAL_EOM] >= 0) v->special[QK_SPECIAL_EOM] = t.special[QK_SPECIAL_EOM];
    if (t.add_bos != QK_TRI_UNSET) v->add_bos = t.add_bos;
    if (t.add_eos != QK_TRI_UNSET) v->add_eos = t.add_eos;
    if (t.add_sep != QK_TRI_UNSET) v->add_sep = t.add_sep;
    if (t.normalizer_lowercase != QK_TRI_UNSET) v->normalizer_lowercase = t.normalizer_lowercase;
    if (t.normalizer_strip_accents != QK_TRI_UNSET) v->normalizer_strip_accents = t.normalizer_strip_accents;
    rc = QK_OK;
out:
    qk_vocab_free(&t);
    cJSON_Delete(tok);
    cJSON_Delete(tcfg);
    return rc;
}
