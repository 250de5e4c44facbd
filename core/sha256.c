#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
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

int qk_sha256_file(const char *path, unsigned char out[32], uint64_t *size, qk_progress *progress, qk_err *err) {
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
        qk_progress_add(progress, (uint64_t)r);
    }
    if (rc == QK_OK) qk_sha256_final(s, out);
    if (rc == QK_OK && size) *size = total;
    qk_sha256_free(s);
    free(buf);
    close(fd);
    return rc;
}

struct qk_sha256_bg {
    pthread_t th;
    char **paths;
    size_t n;
    unsigned char (*d)[32];
    atomic_int stop;
    int rc;
    qk_err err;
};

static void *bg_main(void *arg) {
    qk_sha256_bg *bg = arg;
    enum { CH = 4 << 20 };
    unsigned char *buf = malloc(CH);
    qk_sha256 *s = qk_sha256_new();
    bg->rc = buf && s ? QK_OK : qk_fail(&bg->err, "out of memory");
    for (size_t i = 0; bg->rc == QK_OK && i < bg->n && !atomic_load(&bg->stop); i++) {
        int fd = open(bg->paths[i], O_RDONLY);
        if (fd < 0) {
            bg->rc = qk_fail(&bg->err, "%s: cannot open: %s", bg->paths[i], strerror(errno));
            break;
        }
        for (uint64_t off = 0; !atomic_load(&bg->stop);) {
            ssize_t r = pread(fd, buf, CH, (off_t)off);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) bg->rc = qk_fail(&bg->err, "%s: read error at offset %llu: %s", bg->paths[i],
                                        (unsigned long long)off, strerror(errno));
            if (r <= 0) break;
            qk_sha256_update(s, buf, (size_t)r);
            off += (uint64_t)r;
        }
        close(fd);
        qk_sha256_final(s, bg->d[i]);
    }
    qk_sha256_free(s);
    free(buf);
    return NULL;
}

int qk_sha256_bg_start(const char *const *paths, size_t n, qk_sha256_bg **out, qk_err *err) {
    qk_sha256_bg *bg = calloc(1, sizeof *bg);
    if (!bg) return qk_fail(err, "out of memory");
    bg->n = n;
    bg->paths = calloc(n ? n : 1, sizeof *bg->paths);
    bg->d = calloc(n ? n : 1, 32);
    bool ok = bg->paths && bg->d;
    for (size_t i = 0; ok && i < n; i++) ok = (bg->paths[i] = strdup(paths[i])) != NULL;
    atomic_init(&bg->stop, 0);
    if (ok && pthread_create(&bg->th, NULL, bg_main, bg) == 0) {
        *out = bg;
        return QK_OK;
    }
    for (size_t i = 0; bg->paths && i < n; i++) free(bg->paths[i]);
    free(bg->paths), free(bg->d), free(bg);
    return qk_fail(err, ok ? "cannot start the hashing thread" : "out of memory");
}

int qk_sha256_bg_finish(qk_sha256_bg *bg, unsigned char (*digests)[32], qk_err *err) {
    if (!bg) return QK_OK;
    if (!digests) atomic_store(&bg->stop, 1);
    pthread_join(bg->th, NULL);
    int rc = bg->rc;
    if (rc && err) *err = bg->err;
    if (rc == QK_OK && digests) memcpy(digests, bg->d, bg->n * 32);
    for (size_t i = 0; i < bg->n; i++) free(bg->paths[i]);
    free(bg->paths), free(bg->d), free(bg);
    return rc;
}
