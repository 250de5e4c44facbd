/* gguf_compare.c - see gguf_compare.h. */
#include "gguf_compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_types.h"
#include "gguf.h"

static int g_fail_report;

/* The same tensors (name, type, shape, size) with the same bytes, in the
 * same order or (by_name) in any; prints the first difference of the list,
 * data differences at most 8 times per process. */
static bool same_tensor_list(qk_gguf_file *a, qk_gguf_file *b, const char *what, bool by_name) {
    qk_err err;
    if (a->meta.n_tensors != b->meta.n_tensors) {
        fprintf(stderr, "%s: %zu vs %zu tensors\n", what, (size_t)a->meta.n_tensors, (size_t)b->meta.n_tensors);
        return false;
    }
    bool ok = true;
    for (uint64_t i = 0; i < a->meta.n_tensors; i++) {
        const qk_gguf_tensor *ta = &a->meta.tensors[i], *tb = &b->meta.tensors[i];
        for (uint64_t k = 0; by_name && k < b->meta.n_tensors; k++)
            if (!strcmp(b->meta.tensors[k].name, ta->name)) tb = &b->meta.tensors[k];
        if (strcmp(ta->name, tb->name) || ta->type != tb->type || ta->n_dims != tb->n_dims ||
            memcmp(ta->ne, tb->ne, sizeof ta->ne) || ta->nbytes != tb->nbytes) {
            fprintf(stderr, "%s: tensor %zu: %s %s vs %s %s\n", what, (size_t)i, ta->name,
                    qk_type_get(ta->type)->name, tb->name, qk_type_get(tb->type)->name);
            return false;
        }
        unsigned char *da = malloc(ta->nbytes ? ta->nbytes : 1), *db = malloc(tb->nbytes ? tb->nbytes : 1);
        if (qk_gguf_read_tensor(a, ta, 0, da, ta->nbytes, &err) || qk_gguf_read_tensor(b, tb, 0, db, tb->nbytes, &err) ||
            memcmp(da, db, ta->nbytes)) {
            if (g_fail_report++ < 8) fprintf(stderr, "%s: data of %s (%s) differs\n", what, ta->name, qk_type_get(ta->type)->name);
            ok = false;
        }
        free(da), free(db);
    }
    return ok;
}

/* Opens both files, or neither (printing why). */
static bool open_pair(const char *a_path, const char *b_path, qk_gguf_file **a, qk_gguf_file **b, const char *what) {
    qk_err err;
    if (qk_gguf_open(a_path, a, &err)) { fprintf(stderr, "%s: %s\n", what, err.msg); return false; }
    if (qk_gguf_open(b_path, b, &err)) { fprintf(stderr, "%s: %s\n", what, err.msg); qk_gguf_close(*a); return false; }
    return true;
}

bool gguf_same_tensors(const char *a_path, const char *b_path, const char *what) {
    qk_gguf_file *a, *b;
    if (!open_pair(a_path, b_path, &a, &b, what)) return false;
    const bool ok = same_tensor_list(a, b, what, false);
    qk_gguf_close(a), qk_gguf_close(b);
    return ok;
}

static bool same_but_quantkit(const char *ours, const char *theirs, const char *what, bool by_name) {
    qk_gguf_file *a, *b;
    if (!open_pair(ours, theirs, &a, &b, what)) return false;
    bool ok = true;
    uint64_t j = 0;
    for (uint64_t i = 0; i < a->meta.n_kv && ok; i++) {
        const qk_gguf_kv *ka = &a->meta.kv[i];
        if (!strncmp(ka->key, "quantkit.", 9)) continue;
        /* llama.cpp copies an input's quantkit.* keys through: not compared either */
        while (j < b->meta.n_kv && !strncmp(b->meta.kv[j].key, "quantkit.", 9)) j++;
        if (j >= b->meta.n_kv) { ok = false; fprintf(stderr, "%s: extra key %s\n", what, ka->key); break; }
        const qk_gguf_kv *kb = &b->meta.kv[j++];
        if (strcmp(ka->key, kb->key) || ka->type != kb->type || ka->n != kb->n) {
            ok = false;
            fprintf(stderr, "%s: key %zu: ours %s, llama.cpp %s\n", what, (size_t)i, ka->key, kb->key);
        } else if (ka->type == QK_GGUF_STRING) {
            ok = !strcmp(((qk_gguf_str *)ka->data)->s, ((qk_gguf_str *)kb->data)->s);
        } else if (ka->type != QK_GGUF_ARRAY || ka->arr_type != QK_GGUF_STRING) {
            size_t es = qk_gguf_type_size(ka->type == QK_GGUF_ARRAY ? ka->arr_type : ka->type);
            ok = !memcmp(ka->data, kb->data, es * ka->n);
        }
        if (!ok) fprintf(stderr, "%s: value of %s differs\n", what, ka->key);
    }
    while (j < b->meta.n_kv && !strncmp(b->meta.kv[j].key, "quantkit.", 9)) j++;
    if (ok && j != b->meta.n_kv) { ok = false; fprintf(stderr, "%s: llama.cpp has more keys\n", what); }
    ok = ok && same_tensor_list(a, b, what, by_name);
    qk_gguf_close(a), qk_gguf_close(b);
    return ok;
}

bool gguf_same_but_quantkit(const char *ours, const char *theirs, const char *what) {
    return same_but_quantkit(ours, theirs, what, false);
}

bool gguf_same_any_order(const char *a, const char *b, const char *what) { return same_but_quantkit(a, b, what, true); }


static bool skipped(const char *key, const char *prefix, const char *const *skip) {
    if (strncmp(key, prefix, strlen(prefix))) return true;
    for (size_t i = 0; skip && skip[i]; i++)
        if (!strcmp(key, skip[i])) return true;
    return false;
}

/* the next compared KV of m from *i on, or NULL */
static const qk_gguf_kv *next_kv(const qk_gguf_meta *m, uint64_t *i, const char *prefix, const char *const *skip) {
    while (*i < m->n_kv && skipped(m->kv[*i].key, prefix, skip)) (*i)++;
    return *i < m->n_kv ? &m->kv[(*i)++] : NULL;
}

static bool same_value(const qk_gguf_kv *x, const qk_gguf_kv *y) {
    if (x->type != y->type || x->arr_type != y->arr_type || x->n != y->n) return false;
    const bool strings = x->type == QK_GGUF_STRING || (x->type == QK_GGUF_ARRAY && x->arr_type == QK_GGUF_STRING);
    if (!strings) {
        const size_t es = qk_gguf_type_size(x->type == QK_GGUF_ARRAY ? x->arr_type : x->type);
        return !memcmp(x->data, y->data, es * x->n);
    }
    const qk_gguf_str *sx = x->data, *sy = y->data;
    for (uint64_t k = 0; k < x->n; k++)
        if (sx[k].len != sy[k].len || memcmp(sx[k].s, sy[k].s, sx[k].len)) return false;
    return true;
}

bool gguf_same_kvs(const char *a_path, const char *b_path, const char *prefix, const char *const *skip,
                   const char *what) {
    qk_gguf_file *a, *b;
    if (!open_pair(a_path, b_path, &a, &b, what)) return false;
    bool ok = true;
    uint64_t i = 0, j = 0;
    for (;;) {
        const qk_gguf_kv *x = next_kv(&a->meta, &i, prefix, skip), *y = next_kv(&b->meta, &j, prefix, skip);
        if (!x && !y) break;
        if (!x || !y || strcmp(x->key, y->key)) {
            fprintf(stderr, "%s: key %s vs %s\n", what, x ? x->key : "(none)", y ? y->key : "(none)");
            ok = false;
            break;
        }
        if (!same_value(x, y)) {
            fprintf(stderr, "%s: value of %s differs\n", what, x->key);
            ok = false;
            break;
        }
    }
    qk_gguf_close(a), qk_gguf_close(b);
    return ok;
}
