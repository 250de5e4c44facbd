#include "naming.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void qk_size_label(char *buf, size_t n, uint64_t p) {
    const char *u = "";
    double v = (double)p;
    if (p >= 1000000000000ull) v /= 1e12, u = "T";
    else if (p >= 1000000000ull) v /= 1e9, u = "B";
    else if (p >= 1000000ull) v /= 1e6, u = "M";
    else if (p >= 1000ull) v /= 1e3, u = "K";
    if (v >= 10 || *u == 0) snprintf(buf, n, "%.0f%s", v, u);
    else snprintf(buf, n, "%.1f%s", v, u);
}

/* a size-label token: [<n>x]<digits>[.<digits>]<K|M|B|T>, any case */
static bool is_size_token(const char *s, size_t len) {
    size_t i = 0;
    if (len < 2 || !strchr("kmbtKMBT", s[len - 1])) return false;
    /* "8x7B": an expert count first */
    const char *x = memchr(s, 'x', len);
    if (x) {
        size_t k = (size_t)(x - s);
        if (k == 0) return false;
        for (size_t j = 0; j < k; j++)
            if (!isdigit((unsigned char)s[j])) return false;
        i = k + 1;
    }
    size_t digits = 0;
    for (; i < len - 1 && isdigit((unsigned char)s[i]); i++) digits++;
    if (!digits) return false;
    if (i < len - 1 && s[i] == '.') {
        i++;
        size_t frac = 0;
        for (; i < len - 1 && isdigit((unsigned char)s[i]); i++) frac++;
        if (!frac) return false;
    }
    return i == len - 1;
}

bool qk_name_size_label(const char *name, char *buf, size_t n) {
    const char *p = name;
    while (*p) {
        while (*p == '-' || *p == '_' || *p == ' ') p++;
        const char *start = p;
        while (*p && *p != '-' && *p != '_' && *p != ' ') p++;
        if (p > start && is_size_token(start, (size_t)(p - start))) {
            snprintf(buf, n, "%.*s", (int)(p - start), start);
            return true;
        }
    }
    return false;
}

static bool all_hex(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return true;
}

/* names that say nothing about the model */
static bool generic(const char *b) {
    size_t l = strlen(b);
    if (!l || !strcmp(b, ".") || !strcmp(b, "..") || !strcmp(b, "/")) return true;
    if (!strcasecmp(b, "hf") || !strncasecmp(b, "hf-", 3) || !strncasecmp(b, "hf_", 3)) return true;
    static const char *words[] = {"model", "models", "snapshots", "checkpoint", "checkpoints", "main",
                                  "weights", "safetensors", "tmp", "out", "output", "input", "src"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(b, words[i])) return true;
    return l >= 32 && all_hex(b, l); /* a snapshot hash */
}

/* blanks become '-', path separators and leading dots are dropped */
static void clean(char *buf, size_t n, const char *s) {
    size_t k = 0;
    while (*s == '.') s++;
    for (; *s && k + 1 < n; s++) buf[k++] = (*s == ' ' || *s == '/' || *s == '\\') ? '-' : *s;
    buf[k] = 0;
}

void qk_model_name(char *buf, size_t n, const char *dir, const char *name_or_path) {
    if (name_or_path && *name_or_path) {
        char t[1024];
        snprintf(t, sizeof t, "%s", name_or_path);
        size_t l = strlen(t);
        while (l > 1 && t[l - 1] == '/') t[--l] = 0;
        const char *b = strrchr(t, '/');
        b = b ? b + 1 : t;
        if (!generic(b)) {
            clean(buf, n, b);
            if (buf[0]) return;
        }
    }
    char path[PATH_MAX];
    if (!realpath(dir, path)) snprintf(path, sizeof path, "%s", dir);
    for (;;) {
        size_t l = strlen(path);
        while (l > 1 && path[l - 1] == '/') path[--l] = 0;
        char *slash = strrchr(path, '/');
        const char *b = slash ? slash + 1 : path;
        if (!strncmp(b, "models--", 8)) { /* the Hugging Face cache: models--Org--Name */
            const char *last = strstr(b + 8, "--");
            clean(buf, n, last ? last + 2 : b + 8);
            if (buf[0]) return;
        }
        if (!generic(b)) {
            clean(buf, n, b);
            if (buf[0]) return;
        }
        if (!slash || slash == path) break;
        *slash = 0;
    }
    snprintf(buf, n, "model");
}

/* A word of the name ends with the computed label, glued to letters:
 * "stories260K" for 260K, "TinyLlama110M" for 110M (llama2.c's and many
 * small models' names). Only the computed label counts here: "gpt4" or
 * "Phi3" end with digits that are no size. */
static bool word_ends_with_label(const char *name, const char *label) {
    const size_t ll = strlen(label);
    const char *p = name;
    while (ll && *p) {
        while (*p == '-' || *p == '_' || *p == ' ') p++;
        const char *start = p;
        while (*p && *p != '-' && *p != '_' && *p != ' ') p++;
        const size_t wl = (size_t)(p - start);
        if (wl > ll && !strncasecmp(p - ll, label, ll) && isalpha((unsigned char)p[-(ptrdiff_t)ll - 1])) return true;
    }
    return false;
}

void qk_gguf_name(char *buf, size_t n, const char *name, const char *size_label, const char *type, char *label_out,
                  size_t n_label) {
    char own[64];
    if (word_ends_with_label(name, size_label)) {
        snprintf(buf, n, "%s-%s.gguf", name, type);
        if (label_out) snprintf(label_out, n_label, "%s", size_label);
    } else if (qk_name_size_label(name, own, sizeof own)) {
        snprintf(buf, n, "%s-%s.gguf", name, type);
        if (label_out) snprintf(label_out, n_label, "%s", own);
    } else {
        snprintf(buf, n, "%s-%s-%s.gguf", name, size_label, type);
        if (label_out) snprintf(label_out, n_label, "%s", size_label);
    }
}

void qk_split_prefix_of(char *buf, size_t n, const char *out) {
    snprintf(buf, n, "%s", out);
    size_t l = strlen(buf);
    if (l > 5 && !strcasecmp(buf + l - 5, ".gguf")) buf[l -= 5] = 0;
    /* "-00001-of-00003" is 15 characters */
    if (l > 15) {
        const char *t = buf + l - 15;
        bool ok = t[0] == '-' && !strncmp(t + 6, "-of-", 4);
        for (int i = 1; ok && i < 6; i++) ok = isdigit((unsigned char)t[i]);
        for (int i = 10; ok && i < 15; i++) ok = isdigit((unsigned char)t[i]);
        if (ok) buf[l - 15] = 0;
    }
}
