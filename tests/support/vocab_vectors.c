#include "vocab_vectors.h"

#include <stdlib.h>
#include <string.h>

#include "qk_test.h"

static void push(vocab_vectors *v, const char *s, size_t len) {
    v->text = realloc(v->text, (v->n + 1) * sizeof *v->text);
    v->text_len = realloc(v->text_len, (v->n + 1) * sizeof *v->text_len);
    v->text[v->n] = malloc(len + 1);
    memcpy(v->text[v->n], s, len);
    v->text[v->n][len] = '\0';
    v->text_len[v->n] = len;
    v->n++;
}

int vocab_vectors_load(const char *inp_path, const char *out_path, vocab_vectors *v) {
    memset(v, 0, sizeof *v);
    size_t ilen, olen;
    char *inp = (char *)qk_test_read_file(inp_path, &ilen);
    char *out = (char *)qk_test_read_file(out_path, &olen);
    if (!inp || !out) {
        free(inp);
        free(out);
        return -1;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    size_t pos = 0;
    while (pos < ilen) {
        char *next = memmem(inp + pos, ilen - pos, sep, sizeof sep - 1);
        if (!next) {
            push(v, inp + pos, ilen - pos);
            break;
        }
        push(v, inp + pos, (size_t)(next - (inp + pos)));
        pos = (size_t)(next - inp) + sizeof sep - 1;
    }
    v->ids = calloc(v->n ? v->n : 1, sizeof *v->ids);
    v->n_ids = calloc(v->n ? v->n : 1, sizeof *v->n_ids);
    size_t line = 0;
    char *p = out, *end = out + olen;
    while (p < end && line < v->n) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        int cap = 16, n = 0;
        int32_t *ids = malloc((size_t)cap * sizeof *ids);
        char *q = p;
        while (q < nl) {
            while (q < nl && *q == ' ') q++;
            if (q >= nl) break;
            char *e;
            long id = strtol(q, &e, 10);
            if (e == q) break;
            if (n == cap) ids = realloc(ids, (size_t)(cap *= 2) * sizeof *ids);
            ids[n++] = (int32_t)id;
            q = e;
        }
        v->ids[line] = ids;
        v->n_ids[line] = n;
        line++;
        p = nl + 1;
    }
    free(inp);
    free(out);
    return line == v->n ? 0 : -1;
}

void vocab_vectors_free(vocab_vectors *v) {
    for (size_t i = 0; i < v->n; i++) {
        free(v->text[i]);
        if (v->ids) free(v->ids[i]);
    }
    free(v->text);
    free(v->text_len);
    free(v->ids);
    free(v->n_ids);
    memset(v, 0, sizeof *v);
}
