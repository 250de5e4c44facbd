/* json_file.c - whole-file reads with a size bound, and cJSON parsing with clear errors. */
#include "json_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int qk_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int qk_path_join(char *buf, size_t cap, const char *dir, const char *name, qk_err *err) {
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) return qk_fail(err, "%s/%s: path too long", dir, name);
    return QK_OK;
}

int qk_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len, qk_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return qk_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return qk_fail(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return qk_fail(err, "%s: %lld bytes, larger than the %zu-byte limit", path, (long long)st.st_size,
                       max_bytes);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return qk_fail(err, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    fclose(f);
    if (got != n) {
        free(buf);
        return qk_fail(err, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return QK_OK;
}

int qk_json_parse_file(const char *path, size_t max_bytes, cJSON **out, qk_err *err) {
    *out = NULL;
    char *text;
    size_t len;
    if (qk_read_text_file(path, max_bytes, &text, &len, err)) return QK_FAIL;
    size_t bad;
    if (!qk_utf8_valid(text, len, &bad)) {
        free(text);
        return qk_fail(err, "%s: not UTF-8 (invalid byte at offset %zu); JSON must be UTF-8", path, bad);
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        free(text);
        return qk_fail(err, "%s: not valid JSON (near byte %zu)", path, off);
    }
    free(text);
    *out = j;
    return QK_OK;
}

int qk_json_load(const char *dir, const char *name, cJSON **out, qk_err *err) {
    char path[4096];
    *out = NULL;
    if (qk_path_join(path, sizeof path, dir, name, err)) return QK_FAIL;
    if (!qk_file_exists(path)) return QK_OK;
    return qk_json_parse_file(path, QK_JSON_MAX_BYTES, out, err);
}

bool qk_utf8_valid(const char *str, size_t n, size_t *bad_at) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min, cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000, cp = c & 0x07;
        else goto bad;
        if (i + len > n) goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += len;
    }
    return true;
bad:
    if (bad_at) *bad_at = i;
    return false;
}
