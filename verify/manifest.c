#include "manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "gguf.h"
#include "integrity.h"

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

typedef struct {
    uint64_t size;
    XXH128_hash_t whole;
    uint64_t n;
    uint64_t *xxh3;   /* per tensor, unpadded */
    uint64_t *xxh64;  /* per tensor */
    uint64_t model64; /* all tensor data */
    char (*names)[64];
    bool is_gguf;
} file_hashes;

static void free_hashes(file_hashes *h) {
    free(h->xxh3), free(h->xxh64), free(h->names);
}

static int hash_file(const char *path, file_hashes *h, qk_err *err) {
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "rb");
    if (!f) return qk_fail(err, "%s: cannot open: %s", path, strerror(errno));
    enum { CH = 4 << 20 };
    /* no 4 MiB buffer for a small file (tensor data lies inside the file, so it fits too) */
    struct stat st;
    size_t cap = fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size < CH
                     ? ((size_t)st.st_size ? (size_t)st.st_size : 1) : (size_t)CH;
    unsigned char *buf = malloc(cap);
    XXH3_state_t *s = XXH3_createState();
    if (!buf || !s) {
        fclose(f), free(buf), XXH3_freeState(s);
        return qk_fail(err, "out of memory");
    }
    XXH3_128bits_reset(s);
    size_t r;
    while ((r = fread(buf, 1, cap, f)) > 0) {
        XXH3_128bits_update(s, buf, r);
        h->size += r;
    }
    int ioerr = ferror(f);
    fclose(f);
    h->whole = XXH3_128bits_digest(s);
    XXH3_freeState(s);
    if (ioerr) {
        free(buf);
        return qk_fail(err, "%s: read error", path);
    }
    qk_gguf_file *g;
    qk_err gerr;
    if (qk_gguf_open(path, &g, &gerr) == QK_OK) {
        h->is_gguf = true;
        h->n = g->meta.n_tensors;
        h->xxh3 = calloc(h->n ? h->n : 1, 8);
        h->xxh64 = calloc(h->n ? h->n : 1, 8);
        h->names = calloc(h->n ? h->n : 1, 64);
        XXH64_state_t *model = XXH64_createState();
        int rc = h->xxh3 && h->xxh64 && h->names && model ? QK_OK : qk_fail(err, "out of memory");
        if (model) XXH64_reset(model, 0);
        for (uint64_t i = 0; rc == QK_OK && i < h->n; i++) {
            const qk_gguf_tensor *t = &g->meta.tensors[i];
            memcpy(h->names[i], t->name, 64);
            XXH3_state_t *s3 = XXH3_createState();
            XXH64_state_t *s64 = XXH64_createState();
            if (!s3 || !s64) {
                XXH3_freeState(s3), XXH64_freeState(s64);
                rc = qk_fail(err, "out of memory");
                break;
            }
            XXH3_64bits_reset(s3);
            XXH64_reset(s64, 0);
            for (uint64_t off = 0; rc == QK_OK && off < t->nbytes;) {
                size_t n = t->nbytes - off < cap ? (size_t)(t->nbytes - off) : cap;
                rc = qk_gguf_read_tensor(g, t, off, buf, n, err);
                if (rc == QK_OK) {
                    XXH3_64bits_update(s3, buf, n);
                    XXH64_update(s64, buf, n);
                    XXH64_update(model, buf, n);
                }
                off += n;
            }
            h->xxh3[i] = XXH3_64bits_digest(s3);
            h->xxh64[i] = XXH64_digest(s64);
            XXH3_freeState(s3);
            XXH64_freeState(s64);
        }
        if (model) h->model64 = XXH64_digest(model);
        XXH64_freeState(model);
        qk_gguf_close(g);
        if (rc) {
            free(buf);
            free_hashes(h);
            return QK_FAIL;
        }
    }
    free(buf);
    return QK_OK;
}

/* A size field: decimal digits only, no overflow (strtoull would take "12abc" or "-1"). */
static bool parse_dec_u64(const char *s, uint64_t *out) {
    uint64_t x = 0;
    if (!*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10) return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

static void hex128(char *out, XXH128_hash_t h) {
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

int qk_manifest_write_file(FILE *out, const char *path, int n_threads, qk_err *err) {
    (void)n_threads;
    file_hashes h;
    if (hash_file(path, &h, err)) return QK_FAIL;
    const char *b = base_name(path);
    char hx[40];
    hex128(hx, h.whole);
    fprintf(out, "size      %llu  %s\n", (unsigned long long)h.size, b);
    fprintf(out, "xxh3-128  %s  %s\n", hx, b);
    for (uint64_t i = 0; i < h.n; i++) fprintf(out, "xxh3-64   %016llx  %s:%s\n", (unsigned long long)h.xxh3[i], b, h.names[i]);
    for (uint64_t i = 0; i < h.n; i++) fprintf(out, "xxh64     %016llx  %s:%s\n", (unsigned long long)h.xxh64[i], b, h.names[i]);
    if (h.is_gguf) fprintf(out, "xxh64     %016llx  %s\n", (unsigned long long)h.model64, b);
    free_hashes(&h);
    return ferror(out) ? qk_fail(err, "cannot write the manifest") : QK_OK;
}

int qk_manifest_check_file(const char *manifest_path, const char *path, int n_threads, qk_verify_report *rep,
                           qk_err *err) {
    (void)n_threads;
    FILE *m = fopen(manifest_path, "r");
    if (!m) return qk_fail(err, "%s: cannot open manifest: %s", manifest_path, strerror(errno));
    file_hashes h;
    if (hash_file(path, &h, err)) {
        fclose(m);
        qk_verify_problem(rep, "%s", err->msg);
        return QK_OK;
    }
    const char *b = base_name(path);
    size_t bl = strlen(b);
    char line[4096];
    int entries = 0, unknown = 0;
    char hx[40];
    while (fgets(line, sizeof line, m)) {
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
            /* longer than any real entry: skip the whole line, so that its tail is not read as one */
            int c;
            while ((c = fgetc(m)) != EOF && c != '\n') {
            }
            continue;
        }
        char algo[32], hash[80], name[3900];
        if (sscanf(line, "%31s %79s %3899s", algo, hash, name) != 3) continue;
        if (strncmp(name, b, bl) || (name[bl] != 0 && name[bl] != ':')) continue;
        const char *tensor = name[bl] == ':' ? name + bl + 1 : NULL;
        entries++;
        if (!strcmp(algo, "size") && !tensor) {
            uint64_t want;
            if (!parse_dec_u64(hash, &want) || want != h.size)
                qk_verify_problem(rep, "%s: size is %llu bytes, the manifest says %s (truncated or extended copy?)",
                                  path, (unsigned long long)h.size, hash);
        } else if (!strcmp(algo, "xxh3-128") && !tensor) {
            hex128(hx, h.whole);
            if (strcasecmp(hx, hash)) qk_verify_problem(rep, "%s: whole-file xxh3-128 differs from the manifest", path);
        } else if ((!strcmp(algo, "xxh3-64") || !strcmp(algo, "xxh64")) && tensor) {
            bool found = false;
            for (uint64_t i = 0; i < h.n && !found; i++) {
                if (strcmp(h.names[i], tensor)) continue;
                found = true;
                snprintf(hx, sizeof hx, "%016llx", (unsigned long long)(algo[3] == '3' ? h.xxh3[i] : h.xxh64[i]));
                if (strcasecmp(hx, hash))
                    qk_verify_problem(rep, "%s: tensor '%s' differs from the manifest (%s)", path, tensor, algo);
            }
            if (!found) qk_verify_problem(rep, "%s: tensor '%s' is in the manifest but not in the file", path, tensor);
        } else if (!strcmp(algo, "xxh64") && !tensor) {
            snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h.model64);
            if (!h.is_gguf || strcasecmp(hx, hash))
                qk_verify_problem(rep, "%s: the model hash (xxh64 of all tensor data) differs from the manifest", path);
        } else {
            unknown++;
        }
    }
    fclose(m);
    if (!entries) qk_verify_problem(rep, "%s: the manifest %s has no entry for '%s'", path, manifest_path, b);
    if (unknown)
        qk_verify_note(rep, "%s: %d manifest entr%s with algorithms quantkit does not compute (sha1/sha256/uuid) not checked",
                       path, unknown, unknown == 1 ? "y" : "ies");
    free_hashes(&h);
    return QK_OK;
}
