/* tiktoken_write.c - see tiktoken_write.h. */
#include "tiktoken_write.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_edit.h"
#include "qk_test.h"

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
static long token_bytes(const char *s, unsigned char *out, size_t cap) {
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp;
        if (*p < 0x80) cp = *p++;
        else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) cp = (unsigned)(*p & 0x1F) << 6 | (p[1] & 0x3F), p += 2;
        else return -1;
        const int b = unicode_byte(cp);
        if (b < 0 || k >= cap) return -1;
        out[k++] = (unsigned char)b;
    }
    return (long)k;
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

char *tiktoken_text_of_tokjson(const cJSON *tj, size_t drop, size_t stride, size_t *len) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tj, "model"), "vocab");
    const size_t total = (size_t)cJSON_GetArraySize(vocab);
    if (!cJSON_IsObject(vocab) || total <= drop) {
        fprintf(stderr, "tiktoken_write: no model.vocab of more than %zu tokens\n", drop);
        return NULL;
    }
    const size_t n = total - drop;
    const char **text = calloc(n, sizeof *text);
    char *file = malloc(n * 200);
    for (const cJSON *e = vocab->child; e; e = e->next)
        if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < (double)n) text[(size_t)e->valuedouble] = e->string;
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        const size_t id = (k * stride) % n;
        unsigned char bytes[512];
        const long nb = text[id] ? token_bytes(text[id], bytes, sizeof bytes) : -1;
        if (nb <= 0) {
            fprintf(stderr, "tiktoken_write: token %zu is %s\n", id, text[id] ? "not GPT-2 byte text" : "missing");
            free(text), free(file);
            return NULL;
        }
        used += b64(bytes, (size_t)nb, file + used);
        used += (size_t)snprintf(file + used, 32, " %zu\n", id);
    }
    free(text);
    *len = used;
    return file;
}

int tiktoken_write_of_tokjson(const char *src, const char *dst, size_t drop) {
    cJSON *tj = json_file_read(src);
    if (!tj) {
        fprintf(stderr, "tiktoken_write: cannot read %s\n", src);
        return -1;
    }
    size_t len;
    char *text = tiktoken_text_of_tokjson(tj, drop, 1, &len);
    cJSON_Delete(tj);
    const int rc = text ? qk_test_write_file(dst, text, len) : -1;
    free(text);
    return rc;
}
