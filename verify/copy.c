#include "copy.h"
#include "str_util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fs_type.h"
#include "gguf.h"
#include "gguf_set.h"
#include "integrity.h"
#include "manifest.h"
#include "naming.h"
#include "same_file.h"
#include "sha256.h"
#include "split.h"

enum { CHUNK = 4 << 20 };

typedef struct {
    char *src;          /* the source file */
    char *dest;         /* plain: DEST/name; split: DEST/prefix (shards <prefix>-0000k-of-0000N.gguf) */
    bool split;         /* written as a split set (FAT) */
    bool extra;         /* a license / README */
    bool present;       /* plain: dest exists with the source's size; split: every shard exists */
    bool have_expect;   /* the source's SHA-256 is listed in a manifest */
    unsigned char expect[32];
    char *expect_from;  /* that manifest */
    uint64_t size;
    uint32_t n_shards;  /* split */
    uint64_t max_bytes; /* split: tensor bytes per shard */
} job;

struct qk_copy_plan {
    char *dest_dir;
    bool fat;
    char fs_type[64];
    uint64_t max_file;
    job *jobs;
    size_t n_jobs;
    char **warnings;
    size_t n_warnings;
};

/* ---- small helpers ---- */

static void dir_of(const char *p, char *out, size_t n) {
    const char *s = strrchr(p, '/');
    if (!s) snprintf(out, n, ".");
    else if (s == p) snprintf(out, n, "/");
    else snprintf(out, n, "%.*s", (int)(s - p), p);
}

static char *join(const char *dir, const char *name) {
    size_t l = strlen(dir) + strlen(name) + 2;
    char *r = malloc(l);
    if (r) snprintf(r, l, "%s/%s", dir, name);
    return r;
}

static int push_str(char ***arr, size_t *n, const char *fmt, ...) QK_PRINTF(3, 4);
static int push_str(char ***arr, size_t *n, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) return QK_FAIL;
    *arr = na;
    if (!(na[*n] = strdup(buf))) return QK_FAIL;
    (*n)++;
    return QK_OK;
}

/* Reads up to n bytes at off (short only at the end of the file); -1 on error. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Opens path for reading what the device holds: its cached pages are dropped
 * first (they were just fsync'd, so they are clean and DONTNEED frees them). */
static int open_uncached(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    return fd;
}

static void shard_path(char *buf, size_t n, const job *j, uint32_t k) { qk_split_path(buf, n, j->dest, k, j->n_shards); }

/* ---- planning ---- */

static job *add_job(qk_copy_plan *p, qk_err *err) {
    job *nj = realloc(p->jobs, (p->n_jobs + 1) * sizeof *nj);
    if (!nj) {
        qk_fail(err, "out of memory");
        return NULL;
    }
    p->jobs = nj;
    memset(&nj[p->n_jobs], 0, sizeof *nj);
    return &nj[p->n_jobs++];
}

/* The name a job gives the destination (its first shard for a split). */
static const char *job_dest_name(const job *j) { return qk_path_base(j->dest); }

static bool is_gguf_file(const char *path) {
    int fd = open(path, O_RDONLY);
    char m[4] = {0};
    bool r = fd >= 0 && pread(fd, m, 4, 0) == 4 && !memcmp(m, "GGUF", 4);
    if (fd >= 0) close(fd);
    return r;
}

/* The SHA-256 a manifest lists for `name`, if it does. */
static bool manifest_sha(const char *manifest, const char *name, unsigned char out[32]) {
    char **names, **hex;
    size_t n;
    qk_err e;
    if (qk_manifest_sha256_list(manifest, &names, &hex, &n, &e)) return false;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        if (!strcmp(qk_path_base(names[i]), name)) found = qk_sha256_parse(hex[i], out);
    qk_manifest_sha256_free(names, hex, n);
    return found;
}

/* Adds a source file (a model, or a file a manifest lists) as a plain job. */
static int add_source(qk_copy_plan *p, const char *src, const char *manifest, qk_err *err) {
    for (size_t i = 0; i < p->n_jobs; i++)
        if (!strcmp(p->jobs[i].src, src) || qk_same_file(p->jobs[i].src, src)) return QK_OK; /* given twice */
    struct stat st;
    if (stat(src, &st) != 0) return qk_fail(err, "%s: cannot copy it: %s", src, strerror(errno));
    if (!S_ISREG(st.st_mode)) return qk_fail(err, "%s: not a regular file (give the model files, or a manifest)", src);
    job *j = add_job(p, err);
    if (!j) return QK_FAIL;
    j->src = strdup(src);
    j->dest = join(p->dest_dir, qk_path_base(src));
    j->size = (uint64_t)st.st_size;
    if (!j->src || !j->dest) return qk_fail(err, "out of memory");
    char beside[4096];
    if (!manifest) { /* a SHA256SUMS beside the source vouches for it */
        char d[4096];
        dir_of(src, d, sizeof d);
        snprintf(beside, sizeof beside, "%s/SHA256SUMS", d);
        if (qk_manifest_is_manifest(beside)) manifest = beside;
    }
    if (manifest && manifest_sha(manifest, qk_path_base(src), j->expect)) {
        j->have_expect = true;
        if (!(j->expect_from = strdup(manifest))) return qk_fail(err, "out of memory");
    }
    return QK_OK;
}

static bool is_extra_name(const char *name) {
    static const char *const pre[] = {"license", "licence", "readme", "use_policy", "notice", "copying"};
    if (name[0] == '.') return false;
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (!strncasecmp(name, pre[i], strlen(pre[i]))) return true;
    return false;
}

static bool is_license_name(const char *name) {
    return !strncasecmp(name, "license", 7) || !strncasecmp(name, "licence", 7) || !strncasecmp(name, "copying", 7);
}

/* Adds the licenses and READMEs in folder dir as extra jobs; *license is set
 * when one of them is a license. */
static int add_extras_from(qk_copy_plan *p, const char *dir, bool *license, qk_err *err) {
    DIR *d = opendir(dir);
    if (!d) return QK_OK;
    struct dirent *e;
    int rc = QK_OK;
    char **names = NULL;
    size_t n = 0;
    while (rc == QK_OK && (e = readdir(d)))
        if (is_extra_name(e->d_name) && push_str(&names, &n, "%s", e->d_name)) rc = qk_fail(err, "out of memory");
    closedir(d);
    /* readdir order is the file system's: sort, so runs and reports are stable */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            char *t = names[k];
            names[k] = names[k - 1], names[k - 1] = t;
        }
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        char *path = join(dir, names[i]);
        struct stat st;
        if (!path) rc = qk_fail(err, "out of memory");
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64 << 20)) {
            if (is_license_name(names[i])) *license = true;
            const job *same = NULL;
            for (size_t k = 0; k < p->n_jobs && !same; k++)
                if (!strcasecmp(job_dest_name(&p->jobs[k]), names[i])) same = &p->jobs[k];
            if (!same) {
                size_t before = p->n_jobs;
                rc = add_source(p, path, NULL, err);
                if (rc == QK_OK && p->n_jobs > before) p->jobs[p->n_jobs - 1].extra = true;
            } else if (!qk_same_file(same->src, path)) {
                unsigned char a[32], b[32];
                qk_err e2;
                if (qk_sha256_file(same->src, a, NULL, NULL, &e2) || qk_sha256_file(path, b, NULL, NULL, &e2) || memcmp(a, b, 32))
                    if (push_str(&p->warnings, &p->n_warnings, "%s: not copied: %s, a different file of that name, "
                                 "goes to the destination", path, same->src))
                        rc = qk_fail(err, "out of memory");
            }
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

/* A Meta Llama model, whose license (Llama 2/3/4 Community License) asks that
 * a copy of it goes with the weights: "llama" followed by a version digit
 * 2-9 ("Llama-3.2-1B", "llama2", "Meta-Llama-3-8B", "llama3.1" licenses). */
static bool looks_llama(const char *s) {
    if (!s) return false;
    for (const char *q = s; (q = strcasestr(q, "llama")); q += 5) {
        const char *d = q + 5;
        if (*d == '-' || *d == '_' || *d == ' ' || *d == '.') d++;
        if (*d >= '2' && *d <= '9') return true;
    }
    return strcasestr(s, "meta-llama") != NULL;
}

/* The folders a GGUF's quantkit.command read: a Hugging Face folder convert
 * converted, or the folder of a GGUF quantize read (their licenses apply). */
static int provenance_dirs(const qk_gguf_meta *m, const char *gguf_path, char ***dirs, size_t *n) {
    const char *cmd = qk_gguf_get_str(m, "quantkit.command");
    if (!cmd) return QK_OK;
    char *copy = strdup(cmd), *save = NULL;
    if (!copy) return QK_FAIL;
    char here[4096];
    dir_of(gguf_path, here, sizeof here);
    char *real = realpath(here, NULL);
    if (real) snprintf(here, sizeof here, "%s", real);
    free(real);
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (t[0] == '-') continue;
        /* as written: absolute, or relative to where it ran, which is not
         * recorded: try here, beside the GGUF and its parent folders */
        char cand[5][4600];
        int nc = 0;
        snprintf(cand[nc++], sizeof cand[0], "%s", t);
        char up[4096];
        snprintf(up, sizeof up, "%s", here);
        while (t[0] != '/' && nc < 5) {
            snprintf(cand[nc++], sizeof cand[0], "%s/%s", up, t);
            char *sl = strrchr(up, '/');
            if (!sl || sl == up) break;
            *sl = 0;
        }
        for (int k = 0; k < nc; k++) {
            struct stat st;
            char cfg[4700];
            snprintf(cfg, sizeof cfg, "%s/config.json", cand[k]);
            if (stat(cand[k], &st) == 0 && S_ISDIR(st.st_mode) && access(cfg, R_OK) == 0) {
                if (push_str(dirs, n, "%s", cand[k])) return free(copy), QK_FAIL;
                break;
            }
            size_t l = strlen(cand[k]);
            if (l > 5 && !strcmp(cand[k] + l - 5, ".gguf") && stat(cand[k], &st) == 0 && S_ISREG(st.st_mode)) {
                char d[4600];
                dir_of(cand[k], d, sizeof d);
                if (push_str(dirs, n, "%s", d)) return free(copy), QK_FAIL;
                break;
            }
        }
    }
    free(copy);
    return QK_OK;
}

/* Extras for the model of job j (a GGUF: single file or first shard), and the
 * license warning. */
static int plan_extras(qk_copy_plan *p, size_t ji, qk_err *err) {
    char *src = strdup(p->jobs[ji].src);
    if (!src) return qk_fail(err, "out of memory");
    char **dirs = NULL;
    size_t nd = 0;
    char d[4096];
    dir_of(src, d, sizeof d);
    int rc = push_str(&dirs, &nd, "%s", d) ? qk_fail(err, "out of memory") : QK_OK;
    qk_gguf_file *g = NULL;
    qk_err ge;
    bool llama = looks_llama(qk_path_base(src));
    if (rc == QK_OK && is_gguf_file(src) && qk_gguf_open(src, &g, &ge) == QK_OK) {
        static const char *const keys[] = {"general.license", "general.license.name", "general.name",
                                           "general.basename", "general.base_model.0.name"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) llama |= looks_llama(qk_gguf_get_str(&g->meta, keys[k]));
        if (provenance_dirs(&g->meta, src, &dirs, &nd)) rc = qk_fail(err, "out of memory");
        qk_gguf_close(g);
    }
    bool license = false;
    for (size_t i = 0; rc == QK_OK && i < nd; i++) {
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++) dup = qk_same_file(dirs[k], dirs[i]);
        if (!dup) rc = add_extras_from(p, dirs[i], &license, err);
    }
    if (rc == QK_OK && llama && !license &&
        push_str(&p->warnings, &p->n_warnings,
                 "%s: looks like a Meta Llama model, whose license asks that a copy of it goes with the weights, "
                 "but no LICENSE file was found beside it or its source folder: put the license on the destination "
                 "by hand", src))
        rc = qk_fail(err, "out of memory");
    for (size_t i = 0; i < nd; i++) free(dirs[i]);
    free(dirs);
    free(src);
    return rc;
}

/* The largest file the destination holds: FAT's 4 GiB - 1, or what the
 * test hook QK_TEST_FAT_LIMIT says, minus one. */
static uint64_t fat_max_file(void) {
    const char *t = getenv("QK_TEST_FAT_LIMIT");
    char *end;
    unsigned long long v = t && *t ? strtoull(t, &end, 10) : 0;
    return t && *t && !*end && v > 1 ? (uint64_t)v - 1 : QK_FAT32_MAX_FILE;
}

/* A GGUF larger than the destination holds becomes a split set below it. */
static int plan_split(qk_copy_plan *p, job *j, qk_err *err) {
    char prefix[4096];
    uint32_t shard, count;
    if (qk_split_prefix(j->src, prefix, sizeof prefix, &shard, &count) && count > 1)
        return qk_fail(err, "%s: %llu bytes, more than the %s destination holds in one file (%llu): this shard "
                            "of a split set would have to be split again; `quantkit merge` the set first",
                       j->src, (unsigned long long)j->size, p->fs_type, (unsigned long long)p->max_file);
    if (!is_gguf_file(j->src))
        return qk_fail(err, "%s: %llu bytes, more than the FAT destination holds in one file (%llu), and not a GGUF "
                            "that could be split", j->src, (unsigned long long)j->size, (unsigned long long)p->max_file);
    qk_gguf_file *g;
    if (qk_gguf_open(j->src, &g, err)) return QK_FAIL;
    const qk_gguf_meta *m = &g->meta;
    /* room for the header of shard 1 (all metadata, the split keys, copy's
     * command, and integrity keys if the source had none) */
    const uint64_t head = m->data_offset + 4096 + 8 * m->n_tensors + m->alignment;
    uint64_t biggest = 0;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        uint64_t b = (m->tensors[i].nbytes + m->alignment - 1) / m->alignment * m->alignment;
        if (b > biggest) biggest = b;
    }
    qk_gguf_close(g);
    if (head >= p->max_file || biggest > p->max_file - head)
        return qk_fail(err, "%s: a tensor of %llu bytes and the metadata do not fit in one file of the FAT "
                            "destination (%llu bytes at most)", j->src, (unsigned long long)biggest,
                       (unsigned long long)p->max_file);
    j->split = true;
    j->max_bytes = p->max_file - head;
    if (j->max_bytes > QK_FAT32_SPLIT_BYTES) j->max_bytes = QK_FAT32_SPLIT_BYTES;
    /* DEST/model.gguf -> shards DEST/model-0000k-of-0000N.gguf */
    char pre[4096];
    qk_split_prefix_of(pre, sizeof pre, j->dest);
    free(j->dest);
    if (!(j->dest = strdup(pre))) return qk_fail(err, "out of memory");
    qk_split_opts so = {.max_bytes = j->max_bytes, .dry_run = 1};
    if (qk_split_model(j->src, j->dest, &so, &j->n_shards, err)) return QK_FAIL;
    j->present = true;
    for (uint32_t k = 1; k <= j->n_shards; k++) {
        char sp[4200];
        shard_path(sp, sizeof sp, j, k);
        j->present &= access(sp, F_OK) == 0;
    }
    return QK_OK;
}

void qk_copy_plan_free(qk_copy_plan *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_jobs; i++) free(p->jobs[i].src), free(p->jobs[i].dest), free(p->jobs[i].expect_from);
    free(p->jobs);
    for (size_t i = 0; i < p->n_warnings; i++) free(p->warnings[i]);
    free(p->warnings);
    free(p->dest_dir);
    free(p);
}

int qk_copy_plan_make(const char *const *models, size_t n, const char *dest_dir, qk_copy_plan **out,
                      uint64_t *progress_total, qk_err *err) {
    struct stat st;
    if (stat(dest_dir, &st) != 0) return qk_fail(err, "%s: the destination folder: %s", dest_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return qk_fail(err, "%s: the destination must be a folder", dest_dir);
    qk_copy_plan *p = calloc(1, sizeof *p);
    if (!p || !(p->dest_dir = strdup(dest_dir))) {
        free(p);
        return qk_fail(err, "out of memory");
    }
    size_t dl = strlen(p->dest_dir);
    while (dl > 1 && p->dest_dir[dl - 1] == '/') p->dest_dir[--dl] = 0;
    char source[256];
    if (!qk_fs_mount_of(dest_dir, p->fs_type, sizeof p->fs_type, source, sizeof source)) p->fs_type[0] = 0;
    p->fat = qk_fs_is_fat(dest_dir);
    p->max_file = p->fat ? fat_max_file() : UINT64_MAX;
    int rc = QK_OK;
    /* 1. the sources: files, split sets (any shard names the set), manifests */
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        if (!is_gguf_file(models[i]) && qk_manifest_is_manifest(models[i])) {
            char **names, **hex;
            size_t nn;
            char d[4096];
            dir_of(models[i], d, sizeof d);
            if (qk_manifest_sha256_list(models[i], &names, &hex, &nn, err)) {
                rc = QK_FAIL;
                break;
            }
            if (!nn) rc = qk_fail(err, "%s: lists no SHA-256 (a gguf-hash manifest?): give the files instead", models[i]);
            for (size_t k = 0; rc == QK_OK && k < nn; k++) {
                char *path = names[k][0] == '/' ? strdup(names[k]) : join(d, names[k]);
                rc = path ? add_source(p, path, models[i], err) : qk_fail(err, "out of memory");
                free(path);
            }
            qk_manifest_sha256_free(names, hex, nn);
            continue;
        }
        char **set;
        size_t ns;
        if (qk_manifest_expand(&models[i], 1, &set, &ns, err)) {
            rc = QK_FAIL;
            break;
        }
        for (size_t k = 0; rc == QK_OK && k < ns; k++) rc = add_source(p, set[k], NULL, err);
        qk_manifest_expand_free(set, ns);
    }
    if (rc == QK_OK && !p->n_jobs) rc = qk_fail(err, "nothing to copy");
    /* 2. what each becomes on the destination */
    const size_t n_models = p->n_jobs;
    for (size_t i = 0; rc == QK_OK && i < n_models; i++) {
        job *j = &p->jobs[i];
        const char *s = j->src;
        rc = qk_check_output(j->dest, &s, 1, "destination file", err);
        if (rc == QK_OK && j->size > p->max_file) rc = plan_split(p, j, err);
        else if (rc == QK_OK) {
            struct stat ds;
            j->present = stat(j->dest, &ds) == 0 && S_ISREG(ds.st_mode) && (uint64_t)ds.st_size == j->size;
        }
    }
    /* 3. licenses and READMEs of each model (a split set's, by its first shard) */
    for (size_t i = 0; rc == QK_OK && i < n_models; i++) {
        char prefix[4096];
        uint32_t shard, count;
        bool later_shard = qk_split_prefix(p->jobs[i].src, prefix, sizeof prefix, &shard, &count) && shard > 1;
        if (!later_shard) rc = plan_extras(p, i, err);
    }
    for (size_t i = n_models; rc == QK_OK && i < p->n_jobs; i++) {
        job *j = &p->jobs[i];
        struct stat ds;
        j->present = stat(j->dest, &ds) == 0 && S_ISREG(ds.st_mode) && (uint64_t)ds.st_size == j->size;
        if (j->size > p->max_file) rc = qk_fail(err, "%s: too large for the FAT destination", j->src);
    }
    /* two sources, one destination name */
    for (size_t i = 0; rc == QK_OK && i < p->n_jobs; i++)
        for (size_t k = i + 1; rc == QK_OK && k < p->n_jobs; k++)
            if (!strcasecmp(job_dest_name(&p->jobs[i]), job_dest_name(&p->jobs[k])))
                rc = qk_fail(err, "%s and %s: both would be %s on the destination", p->jobs[i].src, p->jobs[k].src,
                             job_dest_name(&p->jobs[i]));
    /* 4. the destination's manifest must be one (or absent) */
    char *mp = rc == QK_OK ? join(p->dest_dir, "SHA256SUMS") : NULL;
    if (rc == QK_OK && !mp) rc = qk_fail(err, "out of memory");
    if (rc == QK_OK) {
        const char **srcs = calloc(p->n_jobs, sizeof *srcs);
        for (size_t i = 0; srcs && i < p->n_jobs; i++) srcs[i] = p->jobs[i].src;
        rc = srcs ? qk_manifest_check_target(mp, srcs, p->n_jobs, err) : qk_fail(err, "out of memory");
        free(srcs);
    }
    /* 5. room for what is not there yet (a temporary next to a file it replaces) */
    uint64_t need = 1 << 20, total = 0;
    for (size_t i = 0; rc == QK_OK && i < p->n_jobs; i++) {
        const job *j = &p->jobs[i];
        if (!j->present) need += j->size + (j->split ? (uint64_t)j->n_shards * (64 << 10) : 0);
        /* written + read back; a split also hashes the source first; a
         * present file is read back once more before it may be skipped */
        total += j->size * (j->split ? 3 : 2) + (j->present ? j->size : 0);
    }
    if (rc == QK_OK) rc = qk_afile_check_space(mp, need, err);
    free(mp);
    if (rc) {
        qk_copy_plan_free(p);
        return QK_FAIL;
    }
    *out = p;
    if (progress_total) *progress_total = total;
    return QK_OK;
}

/* ---- running ---- */

typedef struct {
    qk_copy_report *rep;
    qk_progress *progress;
} run_ctx;

static qk_copy_file *add_file(qk_copy_report *rep, const job *j, const char *dest) {
    qk_copy_file *nf = realloc(rep->files, (rep->n + 1) * sizeof *nf);
    if (!nf) return NULL;
    rep->files = nf;
    qk_copy_file *f = &nf[rep->n];
    memset(f, 0, sizeof *f);
    f->source = strdup(j->src);
    f->dest = strdup(dest);
    f->extra = j->extra;
    if (!f->source || !f->dest) {
        free(f->source), free(f->dest);
        return NULL;
    }
    rep->n++;
    return f;
}

static void set_failed(qk_copy_report *rep, qk_copy_file *f, const char *fmt, ...) QK_PRINTF(3, 4);
static void set_failed(qk_copy_report *rep, qk_copy_file *f, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    f->status = QK_COPY_FAILED;
    f->sha256[0] = 0;
    free(f->problem);
    f->problem = strdup(buf);
    rep->n_failed++;
}

/* Reads dest back from the device and the source beside it: equal byte for
 * byte? dsha/ssha get both SHA-256s. QK_OK when equal; otherwise QK_FAIL with
 * where they differ in err. */
static int read_back(run_ctx *c, const char *src, const char *dest, unsigned char dsha[32], unsigned char ssha[32],
                     qk_err *err) {
    int dfd = open_uncached(dest), sfd = open(src, O_RDONLY);
    unsigned char *a = malloc(CHUNK), *b = malloc(CHUNK);
    qk_sha256 *hd = qk_sha256_new(), *hs = qk_sha256_new();
    int rc = QK_OK;
    if (dfd < 0) rc = qk_fail(err, "%s: cannot open it to read it back: %s", dest, strerror(errno));
    else if (sfd < 0) rc = qk_fail(err, "%s: cannot open: %s", src, strerror(errno));
    else if (!a || !b || !hd || !hs) rc = qk_fail(err, "out of memory");
    uint64_t off = 0;
    bool differ = false;
    uint64_t first = 0;
    while (rc == QK_OK) {
        ssize_t nd = pread_full(dfd, b, CHUNK, off), ns = pread_full(sfd, a, CHUNK, off);
        if (nd < 0) rc = qk_fail(err, "%s: read error at byte %llu while reading it back: %s", dest,
                                 (unsigned long long)off, strerror(errno));
        else if (ns < 0) rc = qk_fail(err, "%s: read error at byte %llu: %s", src, (unsigned long long)off, strerror(errno));
        if (rc) break;
        qk_sha256_update(hd, b, (size_t)nd);
        qk_sha256_update(hs, a, (size_t)ns);
        size_t m = (size_t)(nd < ns ? nd : ns);
        if (!differ && (memcmp(a, b, m) || nd != ns)) {
            size_t k = 0;
            while (k < m && a[k] == b[k]) k++;
            differ = true, first = off + k;
        }
        c->rep->bytes_read_back += (uint64_t)nd;
        qk_progress_add(c->progress, (uint64_t)nd);
        off += (uint64_t)(nd > ns ? nd : ns);
        if (nd < CHUNK && ns < CHUNK) break;
    }
    if (rc == QK_OK) {
        qk_sha256_final(hd, dsha);
        qk_sha256_final(hs, ssha);
        if (differ) {
            char h1[65], h2[65];
            qk_sha256_hex(dsha, h1), qk_sha256_hex(ssha, h2);
            rc = qk_fail(err, "%s: read back from the device, it is not what was written: byte %llu differs from "
                              "%s (SHA-256 %s, the source's %s); a failing or fake-capacity stick?", dest,
                         (unsigned long long)first, src, h1, h2);
        }
    }
    if (dfd >= 0) close(dfd);
    if (sfd >= 0) close(sfd);
    free(a), free(b);
    qk_sha256_free(hd), qk_sha256_free(hs);
    return rc;
}

/* Streams src into dest (temporary, fsync, rename), hashing the source. */
static int write_plain(run_ctx *c, const job *j, unsigned char sha[32], qk_err *err) {
    int sfd = open(j->src, O_RDONLY);
    if (sfd < 0) return qk_fail(err, "%s: cannot open: %s", j->src, strerror(errno));
    unsigned char *buf = malloc(CHUNK);
    qk_sha256 *h = qk_sha256_new();
    qk_afile *out = NULL;
    int rc = buf && h ? QK_OK : qk_fail(err, "out of memory");
    if (rc == QK_OK) rc = qk_afile_open(&out, j->dest, err);
    uint64_t off = 0;
    while (rc == QK_OK) {
        ssize_t r = pread_full(sfd, buf, CHUNK, off);
        if (r < 0) rc = qk_fail(err, "%s: read error at byte %llu: %s", j->src, (unsigned long long)off, strerror(errno));
        if (r <= 0) break;
        qk_sha256_update(h, buf, (size_t)r);
        rc = qk_afile_write(out, buf, (size_t)r, err);
        off += (uint64_t)r;
        c->rep->bytes_written += (uint64_t)r;
        qk_progress_add(c->progress, (uint64_t)r);
    }
    if (rc == QK_OK && off != j->size)
        rc = qk_fail(err, "%s: changed size while it was copied (%llu bytes, was %llu)", j->src, (unsigned long long)off,
                     (unsigned long long)j->size);
    if (rc == QK_OK) qk_sha256_final(h, sha);
    if (rc == QK_OK && j->have_expect && memcmp(sha, j->expect, 32)) {
        char h1[65], h2[65];
        qk_sha256_hex(sha, h1), qk_sha256_hex(j->expect, h2);
        rc = qk_fail(err, "%s: the source itself is damaged: its SHA-256 is %s, %s says %s; not copied", j->src, h1,
                     j->expect_from, h2);
    }
    if (rc == QK_OK) rc = qk_afile_commit(out, err);
    else qk_afile_abort(out);
    close(sfd);
    free(buf);
    qk_sha256_free(h);
    return rc;
}

static void run_plain(run_ctx *c, const job *j) {
    qk_copy_file *f = add_file(c->rep, j, j->dest);
    if (!f) return;
    f->bytes = j->size;
    unsigned char dsha[32], ssha[32], wsha[32];
    qk_err err;
    if (j->present && read_back(c, j->src, j->dest, dsha, ssha, &err) == QK_OK &&
        (!j->have_expect || !memcmp(ssha, j->expect, 32))) {
        f->status = QK_COPY_SKIPPED;
        qk_sha256_hex(dsha, f->sha256);
        qk_progress_add(c->progress, 2 * j->size); /* the copy it did not need */
        return;
    }
    if (write_plain(c, j, wsha, &err)) {
        set_failed(c->rep, f, "%s", err.msg);
        return;
    }
    /* read_back's QK_OK means equal bytes; the source must also be what was written */
    int rb = read_back(c, j->src, j->dest, dsha, ssha, &err);
    if (rb == QK_OK && !memcmp(ssha, wsha, 32)) {
        f->status = QK_COPY_COPIED;
        qk_sha256_hex(dsha, f->sha256);
        return;
    }
    if (rb == QK_OK)
        qk_fail(&err, "%s: changed while it was copied (SHA-256 differs between the copy and the read-back)", j->src);
    unlink(j->dest); /* known bad: never left under its name */
    set_failed(c->rep, f, "%s", err.msg);
}

/* Reads a shard back from the device: its SHA-256, then its embedded hashes
 * (computed from the source while it was written) must all match. */
static int read_back_shard(run_ctx *c, const char *path, uint64_t max_file, unsigned char sha[32], qk_err *err) {
    int fd = open_uncached(path);
    if (fd < 0) return qk_fail(err, "%s: cannot open it to read it back: %s", path, strerror(errno));
    unsigned char *buf = malloc(CHUNK);
    qk_sha256 *h = qk_sha256_new();
    int rc = buf && h ? QK_OK : qk_fail(err, "out of memory");
    uint64_t off = 0;
    while (rc == QK_OK) {
        ssize_t r = pread_full(fd, buf, CHUNK, off);
        if (r < 0) rc = qk_fail(err, "%s: read error at byte %llu while reading it back: %s", path,
                                (unsigned long long)off, strerror(errno));
        if (r <= 0) break;
        qk_sha256_update(h, buf, (size_t)r);
        off += (uint64_t)r;
        c->rep->bytes_read_back += (uint64_t)r;
        qk_progress_add(c->progress, (uint64_t)r);
    }
    if (rc == QK_OK) qk_sha256_final(h, sha);
    close(fd);
    free(buf);
    qk_sha256_free(h);
    if (rc == QK_OK && off > max_file)
        rc = qk_fail(err, "%s: %llu bytes, more than the destination holds in one file (%llu)", path,
                     (unsigned long long)off, (unsigned long long)max_file);
    qk_gguf_file *g = NULL;
    if (rc == QK_OK && qk_gguf_open(path, &g, err)) rc = qk_fail_prefix(err, "read back from the device");
    if (rc == QK_OK && off != g->meta.data_offset + g->meta.data_size)
        rc = qk_fail(err, "%s: read back %llu bytes, its header says %llu", path, (unsigned long long)off,
                     (unsigned long long)(g->meta.data_offset + g->meta.data_size));
    qk_integrity_report ir = {0};
    if (rc == QK_OK) rc = qk_integrity_check(g, 1, NULL, &ir, err);
    if (rc == QK_OK && (!ir.present || ir.partial_keys))
        rc = qk_fail(err, "%s: read back without its integrity hashes", path);
    else if (rc == QK_OK && !ir.header_ok)
        rc = qk_fail(err, "%s: read back from the device, its metadata differs from what was written (failing or "
                          "fake-capacity stick?)", path);
    else if (rc == QK_OK && (ir.n_bad_tensors || ir.n_bad_padding))
        rc = qk_fail(err, "%s: read back from the device, tensor '%s' differs from what was written (failing or "
                          "fake-capacity stick?)", path,
                     g->meta.tensors[ir.n_bad_tensors ? ir.bad_tensors[0] : ir.bad_padding[0]].name);
    qk_integrity_report_free(&ir);
    qk_gguf_close(g);
    return rc;
}

/* quantkit.split.command of the shards copy writes: it names the source by
 * its SHA-256, so a re-run knows shards it may skip. */
static void split_command(char *buf, size_t n, const job *j, const unsigned char sha[32], uint64_t max_file) {
    char hx[65];
    qk_sha256_hex(sha, hx);
    snprintf(buf, n, "copy %s (sha256 %s) split for a FAT file system: files of at most %llu bytes", qk_path_base(j->src),
             hx, (unsigned long long)max_file);
}

static bool shards_made_by(const job *j, const char *cmd) {
    char sp[4200];
    shard_path(sp, sizeof sp, j, 1);
    qk_gguf_file *g;
    qk_err e;
    if (qk_gguf_open(sp, &g, &e)) return false;
    const char *c = qk_gguf_get_str(&g->meta, "quantkit.split.command");
    bool r = c && !strcmp(c, cmd);
    qk_gguf_close(g);
    return r;
}

/* Every shard of a set fails with it: the one at `bad` with msg, the others
 * as removed with it (none stays: a set is usable only whole). */
static void fail_set(run_ctx *c, size_t first, uint32_t n, uint32_t bad, const char *msg) {
    for (uint32_t k = 0; k < n; k++) {
        qk_copy_file *s = &c->rep->files[first + k];
        if (k == bad) set_failed(c->rep, s, "%s", msg);
        else set_failed(c->rep, s, "%s: not kept: its split set failed (%s)", s->dest, qk_path_base(c->rep->files[first + bad].dest));
        unlink(s->dest);
    }
}

static void run_split(run_ctx *c, const qk_copy_plan *p, const job *j) {
    size_t first = c->rep->n;
    for (uint32_t k = 1; k <= j->n_shards; k++) {
        char sp[4200];
        shard_path(sp, sizeof sp, j, k);
        if (!add_file(c->rep, j, sp)) return;
    }
    unsigned char sha[32];
    uint64_t size;
    qk_err err;
    if (qk_sha256_file(j->src, sha, &size, NULL, &err)) {
        fail_set(c, first, j->n_shards, 0, err.msg);
        return;
    }
    qk_progress_add(c->progress, j->size);
    if (j->have_expect && memcmp(sha, j->expect, 32)) {
        char h1[65], h2[65];
        qk_sha256_hex(sha, h1), qk_sha256_hex(j->expect, h2);
        qk_fail(&err, "%s: the source itself is damaged: its SHA-256 is %s, %s says %s; not copied", j->src, h1,
                j->expect_from, h2);
        for (uint32_t k = 0; k < j->n_shards; k++) set_failed(c->rep, &c->rep->files[first + k], "%s", err.msg);
        return;
    }
    char cmd[512];
    split_command(cmd, sizeof cmd, j, sha, p->max_file);
    /* attempt 0: shards already there from the same source (a re-run); 1: write them */
    for (int attempt = j->present && shards_made_by(j, cmd) ? 0 : 1; attempt < 2; attempt++) {
        if (attempt == 1) {
            qk_split_opts so = {.max_bytes = j->max_bytes, .command_line = cmd};
            uint32_t n_out = 0;
            if (qk_split_model(j->src, j->dest, &so, &n_out, &err) == QK_OK && n_out != j->n_shards)
                qk_fail(&err, "%s: split into %u shards, %u planned", j->src, n_out, j->n_shards);
            if (n_out != j->n_shards) {
                fail_set(c, first, j->n_shards, 0, err.msg);
                return;
            }
            c->rep->bytes_written += j->size;
            qk_progress_add(c->progress, j->size);
        }
        uint32_t k = 0;
        for (; k < j->n_shards; k++) {
            qk_copy_file *s = &c->rep->files[first + k];
            unsigned char ssha[32];
            struct stat st;
            if (read_back_shard(c, s->dest, p->max_file, ssha, &err)) break;
            s->status = attempt ? QK_COPY_SPLIT : QK_COPY_SKIPPED;
            s->bytes = stat(s->dest, &st) == 0 ? (uint64_t)st.st_size : 0;
            qk_sha256_hex(ssha, s->sha256);
        }
        if (k == j->n_shards) {
            if (attempt == 0) qk_progress_add(c->progress, 2 * j->size); /* the copy it did not need */
            return;
        }
        if (attempt == 1) fail_set(c, first, j->n_shards, k, err.msg);
    }
}

/* DEST/SHA256SUMS: earlier entries for other files still there, then this run's. */
static int write_manifest(const qk_copy_plan *p, qk_copy_report *rep, qk_err *err) {
    char *mp = join(p->dest_dir, "SHA256SUMS");
    char *text = NULL;
    size_t len = 0;
    FILE *mem = mp ? open_memstream(&text, &len) : NULL;
    if (!mem) {
        free(mp);
        return qk_fail(err, "out of memory");
    }
    char **names = NULL, **hex = NULL;
    size_t n = 0;
    qk_err e;
    if (access(mp, F_OK) == 0 && qk_manifest_sha256_list(mp, &names, &hex, &n, &e) == QK_OK) {
        for (size_t i = 0; i < n; i++) {
            bool ours = false;
            for (size_t k = 0; k < rep->n && !ours; k++) ours = !strcmp(qk_path_base(rep->files[k].dest), names[i]);
            char *path = names[i][0] == '/' ? NULL : join(p->dest_dir, names[i]);
            if (!ours && path && access(path, F_OK) == 0) fprintf(mem, "%s  %s\n", hex[i], names[i]);
            free(path);
        }
        qk_manifest_sha256_free(names, hex, n);
    }
    for (size_t k = 0; k < rep->n; k++)
        if (rep->files[k].status != QK_COPY_FAILED)
            fprintf(mem, "%s  %s\n", rep->files[k].sha256, qk_path_base(rep->files[k].dest));
    fclose(mem);
    int rc = QK_OK;
    if (len) {
        qk_afile *out;
        rc = qk_afile_open(&out, mp, err);
        if (rc == QK_OK) rc = qk_afile_write(out, text, len, err);
        if (rc == QK_OK) rc = qk_afile_commit(out, err);
        else qk_afile_abort(out);
    }
    if (rc == QK_OK && len) rep->manifest = mp;
    else free(mp);
    free(text);
    return rc;
}

int qk_copy_run(qk_copy_plan *p, const qk_copy_opts *o, qk_copy_report *rep, qk_err *err) {
    memset(rep, 0, sizeof *rep);
    rep->fat = p->fat;
    snprintf(rep->fs_type, sizeof rep->fs_type, "%s", p->fs_type);
    rep->max_file = p->max_file;
    for (size_t i = 0; i < p->n_warnings; i++)
        if (push_str(&rep->warnings, &rep->n_warnings, "%s", p->warnings[i])) return qk_fail(err, "out of memory");
    run_ctx c = {rep, o ? o->progress : NULL};
    for (size_t i = 0; i < p->n_jobs; i++) {
        const job *j = &p->jobs[i];
        qk_progress_item(c.progress, qk_path_base(j->src));
        if (j->split) run_split(&c, p, j);
        else run_plain(&c, j);
    }
    return write_manifest(p, rep, err);
}

void qk_copy_report_free(qk_copy_report *rep) {
    for (size_t i = 0; i < rep->n; i++) free(rep->files[i].source), free(rep->files[i].dest), free(rep->files[i].problem);
    free(rep->files);
    for (size_t i = 0; i < rep->n_warnings; i++) free(rep->warnings[i]);
    free(rep->warnings);
    free(rep->manifest);
    memset(rep, 0, sizeof *rep);
}
