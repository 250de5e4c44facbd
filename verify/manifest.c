#include "manifest.h"
#include "str_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "gguf.h"
#include "gguf_set.h"
#include "integrity.h"
#include "parallel.h"
#include "same_file.h"
#include "sha256.h"

typedef struct {
    uint64_t size;
    XXH128_hash_t whole;
    uint64_t n;
    uint64_t *xxh3;   /* per tensor, unpadded */
    uint64_t *xxh64;  /* per tensor */
    uint64_t model64; /* all tensor data */
    char (*names)[64];
    bool is_gguf;
    unsigned char sha256[32];
} file_hashes;

static void free_hashes(file_hashes *h) {
    free(h->xxh3), free(h->xxh64), free(h->names);
}

/* The whole-file read is reported to progress (NULL: none); the per-tensor
 * pass over a GGUF is not (its bytes were counted once). */
static int hash_file(const char *path, file_hashes *h, bool want_sha, bool want_gguf, qk_progress *progress,
                     qk_err *err) {
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
    qk_sha256 *sh = want_sha ? qk_sha256_new() : NULL;
    if (!buf || !s || (want_sha && !sh)) {
        fclose(f), free(buf), XXH3_freeState(s), qk_sha256_free(sh);
        return qk_fail(err, "out of memory");
    }
    XXH3_128bits_reset(s);
    size_t r;
    while ((r = fread(buf, 1, cap, f)) > 0) {
        XXH3_128bits_update(s, buf, r);
        if (sh) qk_sha256_update(sh, buf, r);
        h->size += r;
        qk_progress_add(progress, r);
    }
    if (sh) qk_sha256_final(sh, h->sha256);
    qk_sha256_free(sh);
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
    if (want_gguf && qk_gguf_open(path, &g, &gerr) == QK_OK) {
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


/* ---- reading manifests ---- */

typedef struct {
    char algo[16];
    char hash[80];
    char *name;   /* the file part */
    char *tensor; /* after "file:", or NULL */
} mline;

typedef struct {
    mline *l;
    size_t n;
    size_t bad; /* lines that are neither entries nor comments */
} mlist;

static void mlist_free(mlist *m) {
    for (size_t i = 0; i < m->n; i++) free(m->l[i].name);
    free(m->l);
    memset(m, 0, sizeof *m);
}

static bool is_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* One line: sha256sum's "HEX  NAME" / "HEX *NAME", or "ALGO HEX NAME". */
static int parse_line(char *line, mlist *m) {
    size_t ll = strlen(line);
    while (ll && (line[ll - 1] == '\n' || line[ll - 1] == '\r')) line[--ll] = 0;
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p || *p == '#') return QK_OK;
    mline e = {0};
    const char *name;
    if (ll >= 67 && is_hex(line, 64) && line[64] == ' ' && (line[65] == ' ' || line[65] == '*') && line[66]) {
        snprintf(e.algo, sizeof e.algo, "sha256");
        memcpy(e.hash, line, 64);
        name = line + 66;
    } else {
        char algo[32], hash[80], nm[3900];
        if (sscanf(line, "%31s %79s %3899s", algo, hash, nm) != 3 || strlen(algo) >= sizeof e.algo) {
            m->bad++;
            return QK_OK;
        }
        snprintf(e.algo, sizeof e.algo, "%s", algo);
        snprintf(e.hash, sizeof e.hash, "%s", hash);
        if (!(e.name = strdup(nm))) return QK_FAIL;
        name = NULL;
    }
    if (name && !(e.name = strdup(name))) return QK_FAIL;
    /* tensor entries: "file:tensor" for the algorithms that have them */
    if (strcmp(e.algo, "sha256") && strcmp(e.algo, "size") && strcmp(e.algo, "xxh3-128")) {
        char *c = strchr(e.name, ':');
        if (c) *c = 0, e.tensor = c + 1;
    }
    mline *nl = realloc(m->l, (m->n + 1) * sizeof *nl);
    if (!nl) {
        free(e.name);
        return QK_FAIL;
    }
    m->l = nl;
    m->l[m->n++] = e;
    return QK_OK;
}

static int read_manifest(const char *path, mlist *m, qk_err *err) {
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f) return qk_fail(err, "%s: cannot open manifest: %s", path, strerror(errno));
    char line[4096];
    int rc = QK_OK;
    while (rc == QK_OK && fgets(line, sizeof line, f)) {
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
            /* longer than any real entry: skip the whole line, so that its tail is not read as one */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            m->bad++;
            continue;
        }
        if (memchr(line, 0, ll + 1) != line + ll) m->bad++; /* a NUL inside: binary */
        else if (parse_line(line, m)) rc = qk_fail(err, "out of memory");
    }
    if (ferror(f) && rc == QK_OK) rc = qk_fail(err, "%s: read error", path);
    fclose(f);
    if (rc) mlist_free(m);
    return rc;
}

/* Checks the file at `path` against the entries named `name`. */
static int check_entries(const mlist *m, const char *name, const char *path, qk_verify_report *rep, int *unknown,
                         qk_progress *progress, qk_err *err) {
    bool want_sha = false, want_gguf = false;
    int entries = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->l[i].name, name)) continue;
        entries++;
        if (!strcmp(m->l[i].algo, "sha256")) want_sha = true;
        if (m->l[i].tensor || !strcmp(m->l[i].algo, "xxh64")) want_gguf = true;
    }
    if (!entries) {
        qk_verify_problem(rep, "%s: the manifest has no entry for '%s'", path, name);
        return QK_OK;
    }
    file_hashes h;
    if (hash_file(path, &h, want_sha, want_gguf, progress, err)) {
        qk_verify_problem(rep, "%s", err->msg);
        return QK_OK;
    }
    char hx[80];
    for (size_t k = 0; k < m->n; k++) {
        const mline *e = &m->l[k];
        if (strcmp(e->name, name)) continue;
        const char *algo = e->algo, *hash = e->hash, *tensor = e->tensor;
        if (!strcmp(algo, "size") && !tensor) {
            uint64_t want;
            if (!parse_dec_u64(hash, &want) || want != h.size)
                qk_verify_problem(rep, "%s: size is %llu bytes, the manifest says %s (truncated or extended copy?)",
                                  path, (unsigned long long)h.size, hash);
        } else if (!strcmp(algo, "sha256") && !tensor) {
            qk_sha256_hex(h.sha256, hx);
            if (strcasecmp(hx, hash)) qk_verify_problem(rep, "%s: SHA-256 is %s, the manifest says %s", path, hx, hash);
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
            (*unknown)++;
        }
    }
    free_hashes(&h);
    return QK_OK;
}

int qk_manifest_check_file(const char *manifest_path, const char *path, int n_threads, qk_verify_report *rep,
                           qk_err *err) {
    (void)n_threads;
    mlist m;
    if (read_manifest(manifest_path, &m, err)) return QK_FAIL;
    int unknown = 0;
    bool any = false;
    const char *b = qk_path_base(path);
    for (size_t i = 0; i < m.n && !any; i++) any = !strcmp(qk_path_base(m.l[i].name), b);
    /* an entry may name the file with a folder ("sub/x.gguf"): match it by base name */
    const char *name = b;
    for (size_t i = 0; i < m.n; i++)
        if (!strcmp(qk_path_base(m.l[i].name), b)) {
            name = m.l[i].name;
            break;
        }
    if (!any) qk_verify_problem(rep, "%s: the manifest %s has no entry for '%s'", path, manifest_path, b);
    else check_entries(&m, name, path, rep, &unknown, NULL, err);
    if (unknown)
        qk_verify_note(rep, "%s: %d manifest entr%s with algorithms quantkit does not compute (sha1/uuid) not checked",
                       path, unknown, unknown == 1 ? "y" : "ies");
    mlist_free(&m);
    return QK_OK;
}

/* ---- writing ---- */

static int write_entries(FILE *out, const char *path, qk_progress *progress, qk_err *err);

int qk_manifest_write_file(FILE *out, const char *path, int n_threads, qk_err *err) {
    (void)n_threads;
    return write_entries(out, path, NULL, err);
}

static int write_entries(FILE *out, const char *path, qk_progress *progress, qk_err *err) {
    file_hashes h;
    if (hash_file(path, &h, false, true, progress, err)) return QK_FAIL;
    const char *b = qk_path_base(path);
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

void qk_manifest_expand_free(char **list, size_t n) {
    for (size_t i = 0; list && i < n; i++) free(list[i]);
    free(list);
}

static int push(char ***list, size_t *n, const char *p) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], p) || qk_same_file((*list)[i], p)) return QK_OK;
    char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) return QK_FAIL;
    *list = nl;
    if (!(nl[*n] = strdup(p))) return QK_FAIL;
    (*n)++;
    return QK_OK;
}

int qk_manifest_expand(const char *const *files, size_t n, char ***out, size_t *n_out, qk_err *err) {
    char **list = NULL;
    size_t cnt = 0;
    int rc = QK_OK;
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        char prefix[4096], path[4200];
        uint32_t shard, count;
        if (qk_split_prefix(files[i], prefix, sizeof prefix, &shard, &count) && count > 1) {
            for (uint32_t k = 1; rc == QK_OK && k <= count; k++) {
                qk_split_path(path, sizeof path, prefix, k, count);
                if (push(&list, &cnt, path)) rc = qk_fail(err, "out of memory");
            }
        } else if (push(&list, &cnt, files[i])) {
            rc = qk_fail(err, "out of memory");
        }
    }
    for (size_t i = 0; rc == QK_OK && i < cnt; i++)
        for (size_t j = i + 1; rc == QK_OK && j < cnt; j++)
            if (!strcmp(qk_path_base(list[i]), qk_path_base(list[j])))
                rc = qk_fail(err, "%s and %s: two files with the same name cannot be in one manifest (it names "
                                  "files by base name)", list[i], list[j]);
    if (rc) {
        qk_manifest_expand_free(list, cnt);
        return QK_FAIL;
    }
    *out = list, *n_out = cnt;
    return QK_OK;
}

int qk_manifest_check_target(const char *mp, const char *const *files, size_t n, qk_err *err) {
    for (size_t i = 0; i < n; i++)
        if (qk_same_file(mp, files[i]) || !strcmp(mp, files[i]))
            return qk_fail(err, "%s: the manifest would replace %s, one of the files it lists (a forgotten manifest "
                                "name before a file list?)", mp, files[i]);
    struct stat st;
    if (stat(mp, &st) != 0) return QK_OK;
    if (!S_ISREG(st.st_mode)) return qk_fail(err, "%s: exists and is not a regular file", mp);
    if (st.st_size == 0) return QK_OK;
    FILE *f = fopen(mp, "rb");
    if (!f) return qk_fail(err, "%s: cannot read it to see whether it is a manifest: %s", mp, strerror(errno));
    unsigned char head[9] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got >= 4 && !memcmp(head, "GGUF", 4)) return qk_fail(err, "%s: is a GGUF model, not a manifest; not replaced", mp);
    if (got == 9 && head[8] == '{') {
        uint64_t hl = 0;
        for (int k = 7; k >= 0; k--) hl = hl << 8 | head[k];
        if (hl > 1 && hl < (uint64_t)st.st_size)
            return qk_fail(err, "%s: is a safetensors file, not a manifest; not replaced", mp);
    }
    mlist m;
    qk_err e2;
    if (st.st_size > (64 << 20) || read_manifest(mp, &m, &e2))
        return qk_fail(err, "%s: exists and is not a manifest; not replaced (remove it or choose another name)", mp);
    bool ok = m.bad == 0 && m.n > 0;
    mlist_free(&m);
    if (!ok) return qk_fail(err, "%s: exists and is not a manifest; not replaced (remove it or choose another name)", mp);
    return QK_OK;
}

void qk_manifest_sha256_free(char **names, char **hex, size_t n) {
    for (size_t i = 0; i < n; i++) free(names ? names[i] : NULL), free(hex ? hex[i] : NULL);
    free(names), free(hex);
}

int qk_manifest_sha256_list(const char *mp, char ***names_out, char ***hex_out, size_t *n_out, qk_err *err) {
    mlist m;
    if (read_manifest(mp, &m, err)) return QK_FAIL;
    char **names = calloc(m.n ? m.n : 1, sizeof *names), **hex = calloc(m.n ? m.n : 1, sizeof *hex);
    size_t n = 0;
    int rc = names && hex ? QK_OK : qk_fail(err, "out of memory");
    for (size_t i = 0; rc == QK_OK && i < m.n; i++) {
        const mline *e = &m.l[i];
        if (strcmp(e->algo, "sha256") || e->tensor || strlen(e->hash) != 64 || !is_hex(e->hash, 64)) continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++) seen = !strcmp(names[k], e->name);
        if (seen) continue;
        names[n] = strdup(e->name);
        hex[n] = strdup(e->hash);
        if (!names[n] || !hex[n]) rc = qk_fail(err, "out of memory");
        n++;
        for (char *c = hex[n - 1]; c && *c; c++)
            if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a');
    }
    mlist_free(&m);
    if (rc) {
        qk_manifest_sha256_free(names, hex, n);
        return QK_FAIL;
    }
    *names_out = names, *hex_out = hex, *n_out = n;
    return QK_OK;
}

bool qk_manifest_is_manifest(const char *path) {
    struct stat st;
    qk_err e;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
           qk_manifest_check_target(path, NULL, 0, &e) == QK_OK;
}

typedef struct {
    const char *const *files;
    qk_manifest_format fmt;
    char **text;
    size_t *len;
    qk_progress *progress;
} build_ctx;

static int build_item(void *vctx, int64_t i, int tid, qk_err *err) {
    (void)tid;
    build_ctx *c = vctx;
    FILE *mem = open_memstream(&c->text[i], &c->len[i]);
    if (!mem) return qk_fail(err, "out of memory");
    int rc;
    if (c->fmt == QK_MANIFEST_GGUF_HASH) {
        rc = write_entries(mem, c->files[i], c->progress, err);
    } else {
        unsigned char d[32];
        char hx[65];
        rc = qk_sha256_file(c->files[i], d, NULL, c->progress, err);
        if (rc == QK_OK) {
            qk_sha256_hex(d, hx);
            fprintf(mem, "%s  %s\n", hx, qk_path_base(c->files[i]));
        }
    }
    fclose(mem);
    return rc;
}

/* The size of `path`, 0 if it cannot be read (the bytes a hashing pass reads). */
static uint64_t file_size(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

int qk_manifest_build(const char *const *files, size_t n, qk_manifest_format fmt, int n_threads, qk_progress *progress,
                      char **text, size_t *len, qk_err *err) {
    build_ctx c = {files, fmt, calloc(n ? n : 1, sizeof(char *)), calloc(n ? n : 1, sizeof(size_t)), progress};
    int rc = c.text && c.len ? QK_OK : qk_fail(err, "out of memory");
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += file_size(files[i]);
    qk_progress_total(progress, bytes);
    if (rc == QK_OK) rc = qk_parallel_for((int64_t)n, n_threads, build_item, &c, err);
    char *all = NULL;
    size_t total = 0;
    FILE *mem = rc == QK_OK ? open_memstream(&all, &total) : NULL;
    if (rc == QK_OK && !mem) rc = qk_fail(err, "out of memory");
    if (mem) {
        if (fmt == QK_MANIFEST_GGUF_HASH)
            fprintf(mem, "# quantkit manifest: size, xxh3-128 of each file, xxh3-64 and xxh64 (llama-gguf-hash) of "
                         "each tensor\n");
        for (size_t i = 0; i < n; i++) fwrite(c.text[i], 1, c.len[i], mem);
        fclose(mem);
    }
    for (size_t i = 0; c.text && i < n; i++) free(c.text[i]);
    free(c.text), free(c.len);
    if (rc) {
        free(all);
        return QK_FAIL;
    }
    *text = all, *len = total;
    return QK_OK;
}

/* ---- checking a whole manifest ---- */

typedef struct {
    const mlist *m;
    qk_manifest_entry *e;
    int *unknown;
    qk_progress *progress;
} check_ctx;

static int check_item(void *vctx, int64_t i, int tid, qk_err *err) {
    (void)tid;
    (void)err;
    check_ctx *c = vctx;
    qk_manifest_entry *e = &c->e[i];
    if (e->status != QK_ENTRY_OK) return QK_OK; /* MISSING / UNLISTED decided already */
    qk_verify_report rep = {0};
    qk_err e2;
    check_entries(c->m, e->name, e->path, &rep, &c->unknown[i], c->progress, &e2);
    if (rep.n_problems) {
        e->status = QK_ENTRY_FAILED;
        e->n_problems = rep.n_problems;
        e->where = strdup(rep.problems[0]);
    }
    qk_verify_report_free(&rep);
    return QK_OK;
}

void qk_manifest_result_free(qk_manifest_result *res) {
    for (size_t i = 0; i < res->n; i++) free(res->e[i].name), free(res->e[i].path), free(res->e[i].where);
    free(res->e);
    memset(res, 0, sizeof *res);
}

int qk_manifest_check(const char *mp, const char *const *files, size_t n_files, int n_threads, qk_progress *progress,
                      qk_manifest_result *res, qk_err *err) {
    memset(res, 0, sizeof *res);
    mlist m;
    if (read_manifest(mp, &m, err)) return QK_FAIL;
    if (!m.n) {
        mlist_free(&m);
        return qk_fail(err, "%s: no manifest entries in it (expected \"HEX  NAME\" lines as sha256sum writes, or "
                            "\"ALGO HEX NAME\")", mp);
    }
    /* the listed names, once each, in manifest order */
    res->e = calloc(m.n + n_files, sizeof *res->e);
    bool *used = calloc(n_files ? n_files : 1, 1);
    int *unknown = calloc(m.n + n_files, sizeof *unknown);
    int rc = res->e && used && unknown ? QK_OK : qk_fail(err, "out of memory");
    char dir[4096];
    const char *sl = strrchr(mp, '/');
    if (sl) snprintf(dir, sizeof dir, "%.*s", (int)(sl - mp), mp);
    else snprintf(dir, sizeof dir, ".");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    for (size_t i = 0; rc == QK_OK && i < m.n; i++) {
        bool seen = false;
        for (size_t k = 0; k < res->n && !seen; k++) seen = !strcmp(res->e[k].name, m.l[i].name);
        if (seen) continue;
        qk_manifest_entry *e = &res->e[res->n++];
        e->name = strdup(m.l[i].name);
        const char *found = NULL;
        if (n_files) {
            for (size_t f = 0; f < n_files && !found; f++)
                if (!strcmp(qk_path_base(files[f]), qk_path_base(m.l[i].name))) found = files[f], used[f] = true;
            e->path = strdup(found ? found : m.l[i].name);
        } else {
            size_t pl = strlen(dir) + strlen(m.l[i].name) + 2;
            e->path = malloc(pl);
            if (e->path) {
                if (m.l[i].name[0] == '/') snprintf(e->path, pl, "%s", m.l[i].name);
                else snprintf(e->path, pl, "%s/%s", dir, m.l[i].name);
            }
        }
        if (!e->name || !e->path) {
            rc = qk_fail(err, "out of memory");
            break;
        }
        struct stat st;
        e->status = (n_files && !found) || stat(e->path, &st) != 0 ? QK_ENTRY_MISSING : QK_ENTRY_OK;
    }
    size_t n_listed = res->n;
    for (size_t f = 0; rc == QK_OK && f < n_files; f++) {
        if (used[f]) continue;
        bool dup = false; /* the same base name given twice: the first one was checked */
        for (size_t k = 0; k < n_listed && !dup; k++) dup = !strcmp(qk_path_base(res->e[k].name), qk_path_base(files[f]));
        qk_manifest_entry *e = &res->e[res->n++];
        e->name = strdup(files[f]);
        e->path = strdup(files[f]);
        e->status = QK_ENTRY_UNLISTED;
        if (dup && e->name) e->where = strdup("the same name was given twice; checked once");
    }
    check_ctx c = {&m, res->e, unknown, progress};
    uint64_t total = 0;
    for (size_t i = 0; rc == QK_OK && i < n_listed; i++)
        if (res->e[i].status == QK_ENTRY_OK) total += file_size(res->e[i].path);
    qk_progress_total(progress, total);
    if (rc == QK_OK) rc = qk_parallel_for((int64_t)n_listed, n_threads, check_item, &c, err);
    for (size_t i = 0; i < res->n; i++) {
        res->n_unknown += unknown ? unknown[i] : 0;
        switch (res->e[i].status) {
        case QK_ENTRY_OK: res->n_ok++; break;
        case QK_ENTRY_FAILED: res->n_failed++; break;
        case QK_ENTRY_MISSING: res->n_missing++; break;
        case QK_ENTRY_UNLISTED: res->n_unlisted++; break;
        }
    }
    free(used), free(unknown);
    mlist_free(&m);
    if (rc) qk_manifest_result_free(res);
    return rc;
}
