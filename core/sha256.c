#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parallel.h"

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

/* The one read-and-hash loop: path read from its start in pieces of `piece`
 * bytes into buf and hashed with s (reset for reuse on return, whatever
 * happens); out and *size (NULL is fine) are written only on success. Stops
 * early, without an error, once *stop is set (NULL: never). */
static int hash_path(const char *path, qk_sha256 *s, unsigned char *buf, size_t piece, atomic_int *stop,
                     qk_progress *progress, unsigned char out[32], uint64_t *size, qk_err *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return qk_fail(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = QK_OK;
    uint64_t off = 0;
    while (!(stop && atomic_load(stop))) {
        ssize_t r = read(fd, buf, piece); /* not pread: a pipe (verify --sha256 HEX /dev/stdin) works too */
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            rc = qk_fail(err, "%s: read error at offset %llu: %s", path, (unsigned long long)off, strerror(errno));
        if (r <= 0) break;
        qk_sha256_update(s, buf, (size_t)r);
        off += (uint64_t)r;
        qk_progress_add(progress, (uint64_t)r);
    }
    close(fd);
    unsigned char d[32];
    qk_sha256_final(s, d);
    if (rc == QK_OK) memcpy(out, d, 32);
    if (rc == QK_OK && size) *size = off;
    return rc;
}

int qk_sha256_file(const char *path, unsigned char out[32], uint64_t *size, qk_progress *progress, qk_err *err) {
    enum { CH = 4 << 20 };
    unsigned char *buf = malloc(CH);
    qk_sha256 *s = qk_sha256_new();
    const int rc =
        buf && s ? hash_path(path, s, buf, CH, NULL, progress, out, size, err) : qk_fail(err, "out of memory");
    qk_sha256_free(s);
    free(buf);
    return rc;
}

/* The background hasher: up to n_threads threads, each taking the next file
 * (largest first, so one big shard does not start last and become the tail)
 * from a shared counter and hashing it alone (hash_path, as qk_sha256_file). One
 * stream per file is what SHA-256 allows; across files it scales until the
 * largest file's time. Results and errors are kept per file, so what the
 * caller sees does not depend on the thread count or on which thread ran
 * which file. */
enum { BG_PIECE = 256 << 10 }; /* per thread (at most one per file): 256 KiB to 4 MiB measured alike, 1.23-1.26 GB/s */

struct qk_sha256_bg {
    pthread_t *th;
    int n_th;
    char **paths;
    size_t n;
    size_t *order; /* files by size, largest first */
    unsigned char (*d)[32];
    int *rc;      /* per file */
    qk_err *errs; /* per file */
    atomic_size_t next;
    atomic_int stop;
};

static void *bg_main(void *arg) {
    qk_sha256_bg *bg = arg;
    unsigned char *buf = malloc(BG_PIECE);
    qk_sha256 *s = qk_sha256_new();
    for (size_t k; !atomic_load(&bg->stop) && (k = atomic_fetch_add(&bg->next, 1)) < bg->n;) {
        const size_t i = bg->order[k];
        bg->rc[i] = buf && s ? hash_path(bg->paths[i], s, buf, BG_PIECE, &bg->stop, NULL, bg->d[i], NULL, &bg->errs[i])
                             : qk_fail(&bg->errs[i], "out of memory");
        if (bg->rc[i]) atomic_store(&bg->stop, 1); /* the caller fails anyway: stop reading */
    }
    qk_sha256_free(s);
    free(buf);
    return NULL;
}

static void bg_free(qk_sha256_bg *bg) {
    for (size_t i = 0; bg->paths && i < bg->n; i++) free(bg->paths[i]);
    free(bg->paths), free(bg->order), free(bg->d), free(bg->rc), free(bg->errs), free(bg->th), free(bg);
}

int qk_sha256_bg_start(const char *const *paths, size_t n, int n_threads, qk_sha256_bg **out, qk_err *err) {
    qk_sha256_bg *bg = calloc(1, sizeof *bg);
    if (!bg) return qk_fail(err, "out of memory");
    const size_t m = n ? n : 1;
    bg->n = n;
    bg->paths = calloc(m, sizeof *bg->paths);
    bg->order = calloc(m, sizeof *bg->order);
    bg->d = calloc(m, 32);
    bg->rc = calloc(m, sizeof *bg->rc);
    bg->errs = calloc(m, sizeof *bg->errs);
    uint64_t *size = calloc(m, sizeof *size);
    bool ok = bg->paths && bg->order && bg->d && bg->rc && bg->errs && size;
    for (size_t i = 0; ok && i < n; i++) {
        ok = (bg->paths[i] = strdup(paths[i])) != NULL;
        struct stat st; /* unreadable: size 0 here, its error comes from the open */
        size[i] = ok && stat(paths[i], &st) == 0 ? (uint64_t)st.st_size : 0;
        /* insertion by size, largest first (ties keep the given order) */
        size_t j = i;
        for (; ok && j > 0 && size[bg->order[j - 1]] < size[i]; j--) bg->order[j] = bg->order[j - 1];
        if (ok) bg->order[j] = i;
    }
    free(size);
    if (n_threads <= 0) n_threads = qk_cpu_count();
    bg->n_th = n == 0 ? 0 : (size_t)n_threads < n ? n_threads : (int)n;
    bg->th = calloc(bg->n_th ? (size_t)bg->n_th : 1, sizeof *bg->th);
    ok = ok && bg->th;
    atomic_init(&bg->next, 0);
    atomic_init(&bg->stop, 0);
    int started = 0;
    while (ok && started < bg->n_th && pthread_create(&bg->th[started], NULL, bg_main, bg) == 0) started++;
    if (ok && (started > 0 || n == 0)) { /* fewer threads than asked still hash every file */
        bg->n_th = started;
        *out = bg;
        return QK_OK;
    }
    bg_free(bg);
    return qk_fail(err, ok ? "cannot start the hashing threads" : "out of memory");
}

int qk_sha256_bg_finish(qk_sha256_bg *bg, unsigned char (*digests)[32], qk_err *err) {
    if (!bg) return QK_OK;
    if (!digests) atomic_store(&bg->stop, 1);
    for (int t = 0; t < bg->n_th; t++) pthread_join(bg->th[t], NULL);
    int rc = QK_OK;
    /* the lowest-numbered file that failed (of those reached before the stop) */
    for (size_t i = 0; i < bg->n && rc == QK_OK; i++)
        if (bg->rc[i]) {
            rc = bg->rc[i];
            if (err) *err = bg->errs[i];
        }
    if (rc == QK_OK && digests) memcpy(digests, bg->d, bg->n * 32);
    bg_free(bg);
    return rc;
}
