/* hf_tokenize_ref.c - see hf_tokenize_ref.h. */
#include "hf_tokenize_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qk_test.h"

/* all of the pipe's output, NUL-terminated; NULL when out of memory */
static char *read_all(FILE *p) {
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb, cap *= 2;
        }
    }
    if (buf) buf[n] = '\0';
    return buf;
}

cJSON *hf_tokenize_ref(const char *dir, const char *strings) {
    const char *src = getenv("QK_SOURCE_DIR"), *base = getenv("QK_TOKENIZERS_DIR");
    if (!src) src = ".";
    CHECK_MSG(base != NULL, "QK_TOKENIZERS_DIR is not set");
    if (!base) return NULL;
    /* the paths go into a shell command between single quotes */
    const char *args[] = {src, base, dir, strings};
    for (size_t i = 0; i < 4; i++)
        if (strchr(args[i], '\'')) {
            CHECK_MSG(0, "path with a quote: %s", args[i]);
            return NULL;
        }
    char cmd[4096];
    int w = snprintf(cmd, sizeof cmd, "node '%s/tests/tools/hf_tokenize.mjs' '%s/hf-tokenizers-js/package' '%s' '%s'",
                     src, base, dir, strings);
    CHECK_MSG(w >= 0 && (size_t)w < sizeof cmd, "command too long for %s", dir);
    if (w < 0 || (size_t)w >= sizeof cmd) return NULL;
    FILE *p = popen(cmd, "r");
    CHECK_MSG(p != NULL, "cannot run: %s", cmd);
    if (!p) return NULL;
    char *buf = read_all(p);
    int status = pclose(p);
    CHECK_MSG(status == 0, "'%s' failed (status %d; node and scripts/fetch-tokenizers.sh are needed)", cmd, status);
    if (!buf || status != 0) {
        free(buf);
        return NULL;
    }
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    CHECK_MSG(cJSON_IsArray(j) && cJSON_GetArraySize(j) > 0, "%s: no JSON array of results", cmd);
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

int hf_tokenize_ids(const cJSON *arr, int32_t *ids, int max) {
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (n == max || !cJSON_IsNumber(e)) return -1;
        ids[n++] = (int32_t)e->valueint;
    }
    return n;
}

static void print_text(const char *s) {
    fputc('"', stderr);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') fputs("\\n", stderr);
        else if (*p == '\t') fputs("\\t", stderr);
        else if (*p == '\r') fputs("\\r", stderr);
        else if (*p == '\\') fputs("\\\\", stderr);
        else if (*p < 0x20) fprintf(stderr, "\\x%02x", *p);
        else fputc(*p, stderr);
    }
    fputc('"', stderr);
}

static void print_ids(const char *label, const int32_t *ids, int n) {
    fprintf(stderr, "    %-10s [", label);
    for (int i = 0; i < n; i++) fprintf(stderr, "%s%d", i ? ", " : "", (int)ids[i]);
    fputs("]\n", stderr);
}

void hf_tokenize_print_mismatch(const char *name, int line, int with_special, const char *text, const int32_t *want,
                                int nw, const int32_t *got, int ng) {
    fprintf(stderr, "  MISMATCH %s, tokenize_strings.txt line %d, %s special tokens: ", name, line,
            with_special ? "with" : "without");
    print_text(text);
    fputc('\n', stderr);
    print_ids("HF:", want, nw);
    print_ids("llama.cpp:", got, ng);
}
