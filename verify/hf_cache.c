#include "hf_cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf_checkpoint.h"
#include "parallel.h"
#include "sha256.h"

typedef struct {
    char *rel;      /* the file's name in the snapshot ("model-00001-of-00002.safetensors") */
    char *path;     /* where it is read */
    char hex[65];   /* the SHA-256 it must have */
} lfs_file;

typedef struct {
    lfs_file *f;
    size_t n;
    int unknown;    /* files with nothing to check against */
    const char *local; /* --local-dir: the folder holding .cache/huggingface/download */
} walk_state;

static bool is_hex_n(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return s[n] == 0 || s[n] == '\n' || s[n] == '\r';
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add(walk_state *w, const char *rel, const char *path, const char *hex, qk_err *err) {
    lfs_file *nf = realloc(w->f, (w->n + 1) * sizeof *nf);
    if (!nf) return qk_fail(err, "out of memory");
    w->f = nf;
    lfs_file *f = &nf[w->n];
    f->rel = strdup(rel), f->path = strdup(path);
    memcpy(f->hex, hex, 64), f->hex[64] = 0;
    if (!f->rel || !f->path) return free(f->rel), free(f->path), qk_fail(err, "out of memory");
    w->n++;
    return QK_OK;
}

/* The etag `huggingface-cli download --local-dir` recorded for rel (line 2
 * of .cache/huggingface/download/<rel>.metadata), if it is a SHA-256. */
static bool local_etag(const char *local, const char *rel, char hex[65]) {
    char mp[PATH_MAX];
    snprintf(mp, sizeof mp, "%s/.cache/huggingface/download/%s.metadata", local, rel);
    FILE *f = fopen(mp, "r");
    if (!f) return false;
    char l1[256], l2[256];
    bool r = fgets(l1, sizeof l1, f) && fgets(l2, sizeof l2, f) && is_hex_n(l2, 64);
    fclose(f);
    if (r) memcpy(hex, l2, 64), hex[64] = 0;
    return r;
}

static int walk(walk_state *w, const char *root, const char *rel, int depth, qk_err *err) {
    char dp[PATH_MAX];
    snprintf(dp, sizeof dp, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dp);
    if (!d) return qk_fail(err, "%s: cannot read the folder: %s", dp, strerror(errno));
    int rc = QK_OK;
    struct dirent *e;
    while (rc == QK_OK && (e = readdir(d))) {
        const char *nm = e->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        if (!rel[0] && (!strcmp(nm, ".cache") || !strcmp(nm, ".git"))) continue;
        char r2[PATH_MAX], p2[PATH_MAX];
        snprintf(r2, sizeof r2, "%s%s%s", rel, rel[0] ? "/" : "", nm);
        snprintf(p2, sizeof p2, "%s/%s", root, r2);
        struct stat st;
        if (lstat(p2, &st) != 0) continue;
        char hex[65];
        if (S_ISLNK(st.st_mode) && !w->local) {
            /* a snapshot's file: a link to ../../blobs/<hash> */
            if (qk_hf_blob_sha256(p2, hex)) rc = add(w, r2, p2, hex, err);
            else if (!is_dir(p2)) w->unknown++; /* a git file (SHA-1 name) */
        } else if (S_ISDIR(st.st_mode)) {
            if (depth < 16) rc = walk(w, root, r2, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            if (w->local && local_etag(w->local, r2, hex)) rc = add(w, r2, p2, hex, err);
            else w->unknown++;
        }
    }
    closedir(d);
    return rc;
}

/* dir/snapshots/<refs/main, or the only one> when dir is a repo folder. */
static bool repo_snapshot(const char *dir, char *out, size_t n) {
    char sp[PATH_MAX], ref[PATH_MAX];
    snprintf(sp, sizeof sp, "%s/snapshots", dir);
    if (!is_dir(sp)) return false;
    snprintf(ref, sizeof ref, "%s/refs/main", dir);
    FILE *f = fopen(ref, "r");
    char rev[256] = "";
    if (f) {
        if (!fgets(rev, sizeof rev, f)) rev[0] = 0;
        fclose(f);
        rev[strcspn(rev, "\r\n")] = 0;
    }
    if (rev[0] && !strchr(rev, '/')) {
        snprintf(out, n, "%s/%s", sp, rev);
        return is_dir(out);
    }
    DIR *d = opendir(sp);
    if (!d) return false;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') count++, snprintf(out, n, "%s/%s", sp, e->d_name);
    closedir(d);
    return count == 1;
}

/* A snapshot: its folder is <repo>/snapshots/<rev> beside <repo>/blobs. */
static bool is_snapshot(const char *dir) {
    char real[PATH_MAX], blobs[PATH_MAX + 16];
    if (!realpath(dir, real)) return false;
    char *s = strrchr(real, '/');
    if (!s || s == real) return false;
    *s = 0;
    const char *parent = strrchr(real, '/');
    if (!parent || strcmp(parent + 1, "snapshots")) return false;
    snprintf(blobs, sizeof blobs, "%s/../blobs", real);
    return is_dir(blobs);
}

static bool is_local_dir(const char *dir) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/.cache/huggingface/download", dir);
    return is_dir(p);
}

bool qk_hf_is_download(const char *dir) {
    char snap[PATH_MAX];
    return is_dir(dir) && (is_snapshot(dir) || repo_snapshot(dir, snap, sizeof snap) || is_local_dir(dir));
}

typedef struct {
    const lfs_file *f;
    qk_manifest_entry *e;
    qk_progress *progress;
} check_ctx;

static int check_one(void *vctx, int64_t i, int tid, qk_err *err) {
    (void)tid, (void)err;
    check_ctx *c = vctx;
    const lfs_file *f = &c->f[i];
    qk_manifest_entry *e = &c->e[i];
    struct stat st;
    if (stat(f->path, &st) != 0) {
        e->status = QK_ENTRY_MISSING;
        return QK_OK;
    }
    unsigned char d[32];
    char hx[65], buf[300];
    qk_err e2;
    if (qk_sha256_file(f->path, d, NULL, c->progress, &e2)) {
        e->status = QK_ENTRY_FAILED;
        e->where = strdup(e2.msg);
    } else {
        qk_sha256_hex(d, hx);
        if (strcmp(hx, f->hex)) {
            snprintf(buf, sizeof buf, "SHA-256 is %s, the download says %s", hx, f->hex);
            e->status = QK_ENTRY_FAILED;
            e->where = strdup(buf);
        }
    }
    if (e->status == QK_ENTRY_FAILED) e->n_problems = 1;
    return QK_OK;
}

static int by_rel(const void *a, const void *b) { return strcmp(((const lfs_file *)a)->rel, ((const lfs_file *)b)->rel); }

int qk_hf_check(const char *dir, int n_threads, qk_progress *progress, qk_manifest_result *res, qk_err *err) {
    memset(res, 0, sizeof *res);
    char root[PATH_MAX];
    walk_state w = {0};
    if (is_local_dir(dir)) {
        snprintf(root, sizeof root, "%s", dir);
        w.local = dir;
    } else if (is_snapshot(dir)) {
        snprintf(root, sizeof root, "%s", dir);
    } else if (!repo_snapshot(dir, root, sizeof root)) {
        return qk_fail(err, "%s: not a Hugging Face download (a cache's models--ORG--NAME or snapshots/REV folder, or "
                            "a --local-dir folder with .cache/huggingface/download): nothing to check its files against",
                       dir);
    }
    int rc = walk(&w, root, "", 0, err);
    if (rc == QK_OK && !w.n)
        rc = qk_fail(err, "%s: no file with a SHA-256 to check against (no LFS file in this download)", root);
    if (rc == QK_OK) qsort(w.f, w.n, sizeof *w.f, by_rel);
    res->e = rc == QK_OK ? calloc(w.n, sizeof *res->e) : NULL;
    if (rc == QK_OK && !res->e) rc = qk_fail(err, "out of memory");
    for (size_t i = 0; rc == QK_OK && i < w.n; i++) {
        res->e[i].name = strdup(w.f[i].rel);
        res->e[i].path = strdup(w.f[i].path);
        res->n++;
        if (!res->e[i].name || !res->e[i].path) rc = qk_fail(err, "out of memory");
    }
    check_ctx c = {w.f, res->e, progress};
    uint64_t total = 0;
    for (size_t i = 0; rc == QK_OK && i < w.n; i++) {
        struct stat st;
        if (stat(w.f[i].path, &st) == 0 && st.st_size > 0) total += (uint64_t)st.st_size;
    }
    qk_progress_total(progress, total);
    if (rc == QK_OK) rc = qk_parallel_for((int64_t)w.n, n_threads, check_one, &c, err);
    for (size_t i = 0; i < res->n; i++) {
        switch (res->e[i].status) {
        case QK_ENTRY_OK: res->n_ok++; break;
        case QK_ENTRY_FAILED: res->n_failed++; break;
        case QK_ENTRY_MISSING: res->n_missing++; break;
        default: break;
        }
    }
    res->n_unknown = w.unknown;
    for (size_t i = 0; i < w.n; i++) free(w.f[i].rel), free(w.f[i].path);
    free(w.f);
    if (rc) qk_manifest_result_free(res);
    return rc;
}
