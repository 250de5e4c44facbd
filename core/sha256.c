#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct qk_sha256 {
    EVP_MD_CTX *ctx;
};

qk_sha256 *qk_sha256_new(void) {
    qk_sha256 *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ctx = EVP_MD_CTX_new();
    if (!s->ctx || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s->ctx);
        free(s);
        return NULL;
    }
    return s;
}

void qk_sha256_update(qk_sha256 *s, const void *data, size_t n) {
    if (n) EVP_DigestUpdate(s->ctx, data, n);
}

void qk_sha256_final(qk_sha256 *s, unsigned char out[32]) {
    unsigned int len = 32;
    EVP_DigestFinal_ex(s->ctx, out, &len);
    EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL);
}

void qk_sha256_free(qk_sha256 *s) {
    if (!s) return;
    EVP_MD_CTX_free(s->ctx);
    free(s);
}

void qk_sha256_hex(const unsigned char d[32], char out[65]) {
    static const char x[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) out[2 * i] = x[d[i] >> 4], out[2 * i + 1] = x[d[i] & 15];
    out[64] = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool qk_sha256_parse(const char *hex, unsigned char out[32]) {
    for (int i = 0; i < 32; i++) {
        int a = hexval(hex[2 * i]), b = a < 0 ? -1 : hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0) return false;
        out[i] = (unsigned char)(a << 4 | b);
    }
    return hex[64] == 0;
}

int qk_sha256_file(const char *path, unsigned char out[32], uint64_t *size, qk_err *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return qk_fail(err, "%s: cannot open: %s", path, strerror(errno));
    enum { CH = 4 << 20 };
    unsigned char *buf = malloc(CH);
    qk_sha256 *s = qk_sha256_new();
    int rc = buf && s ? QK_OK : qk_fail(err, "out of memory");
    uint64_t total = 0;
    while (rc == QK_OK) {
        ssize_t r = read(fd, buf, CH);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = qk_fail(err, "%s: read error at offset %llu: %s", path, (unsigned long long)total, strerror(errno));
        if (r <= 0) break;
        qk_sha256_update(s, buf, (size_t)r);
        total += (uint64_t)r;
    }
    if (rc == QK_OK) qk_sha256_final(s, out);
    if (rc == QK_OK && size) *size = total;
    qk_sha256_free(s);
    free(buf);
    close(fd);
    return rc;
}
