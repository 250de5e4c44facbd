#include "split.h"

#include "naming.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "atomic_file.h"
#include "gguf_set.h"
#include "gguf_writer.h"
#include "integrity.h"
#include "same_file.h"

#define MSDOS_MAGIC 0x4d44

int qk_dest_is_fat(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    struct statfs sf;
    return statfs(dir, &sf) == 0 && sf.f_type == MSDOS_MAGIC;
}

static int is_split_key(const char *k) { return !strncmp(k, "split.", 6); }
/* keys a split or merge recomputes instead of copying */
static int is_own_key(const char *k) {
    return is_split_key(k) || !strncmp(k, "quantkit.integrity.", 19) || !strncmp(k, "quantkit.split.", 15);
}

/* Streams tensor i of the set into the writer. */
static int copy_tensor(qk_gguf_set *s, uint64_t i, qk_gguf_writer *w, unsigned char *buf, size_t cap,
                       qk_progress *progress, qk_err *err) {
    const qk_gguf_tensor *t = qk_gguf_set_tensor(s, i);
    qk_progress_item(progress, t->name);
    for (uint64_t off = 0; off < t->nbytes;) {
        size_t n = t->nbytes - off < cap ? (size_t)(t->nbytes - off) : cap;
        if (qk_gguf_read_tensor(qk_gguf_set_file(s, i), t, off, buf, n, err) || qk_gguf_writer_write(w, buf, n, err))
            return QK_FAIL;
        off += n;
        qk_progress_add(progress, n);
    }
    return QK_OK;
}

/* Writes one output file holding tensors [t0, t1) of the set. */
static int write_part(qk_gguf_set *s, const char *path, uint64_t t0, uint64_t t1, int with_meta, int split_no,
                      int split_count, const char *command_line, bool check, qk_progress *progress, qk_err *err) {
    const qk_gguf_meta *m = qk_gguf_set_meta(s);
    qk_gguf_writer *w = qk_gguf_writer_new();
    qk_integrity_writer *iw = NULL;
    int rc = w ? QK_OK : qk_fail(err, "out of memory");
    /* shards after the first carry no general.alignment (as gguf-split's), so
     * readers take the default: their data must be padded to it, not to the
     * input's alignment */
    if (rc == QK_OK) qk_gguf_writer_set_alignment(w, with_meta ? m->alignment : QK_GGUF_DEFAULT_ALIGNMENT);
    /* every KV in its place, the provenance of the model included (merge must
     * be the inverse of split) */
    for (uint64_t i = 0; rc == QK_OK && with_meta && i < m->n_kv; i++)
        if (!is_own_key(m->kv[i].key)) rc = qk_gguf_writer_add_kv(w, &m->kv[i], err);
    if (rc == QK_OK && split_count > 1) {
        uint16_t no = (uint16_t)split_no, cnt = (uint16_t)split_count;
        int32_t total = (int32_t)s->n_tensors;
        rc = qk_gguf_writer_add_scalar(w, "split.no", QK_GGUF_U16, &no, err);
        if (rc == QK_OK) rc = qk_gguf_writer_add_i32(w, "split.tensors.count", total, err);
        if (rc == QK_OK) rc = qk_gguf_writer_add_scalar(w, "split.count", QK_GGUF_U16, &cnt, err);
    }
    if (with_meta && rc == QK_OK) {
        if (split_count > 1) {
            rc = qk_gguf_writer_add_str(w, "quantkit.split.version", QK_VERSION, err);
            if (rc == QK_OK && command_line) rc = qk_gguf_writer_add_str(w, "quantkit.split.command", command_line, err);
        } else if (!qk_gguf_find(m, "quantkit.version")) {
            rc = qk_gguf_writer_add_str(w, "quantkit.version", QK_VERSION, err);
            if (rc == QK_OK && command_line) rc = qk_gguf_writer_add_str(w, "quantkit.command", command_line, err);
        }
    }
    for (uint64_t i = t0; rc == QK_OK && i < t1; i++) {
        const qk_gguf_tensor *t = qk_gguf_set_tensor(s, i);
        rc = qk_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, err);
    }
    if (rc == QK_OK && !(iw = qk_integrity_attach(w, err))) rc = QK_FAIL;
    if (rc == QK_OK && qk_dest_is_fat(path) && qk_gguf_writer_file_size(w) > QK_FAT32_MAX_FILE)
        rc = qk_fail(err, "%s: the destination is FAT32 and this file would be %llu bytes (limit 4 GiB - 1); "
                          "use a smaller --max-size", path, (unsigned long long)qk_gguf_writer_file_size(w));
    if (rc == QK_OK) rc = qk_gguf_writer_begin(w, path, err);
    enum { CAP = 8 << 20 };
    size_t cap = 1; /* the copy buffer: 8 MiB, or the largest tensor when smaller */
    for (uint64_t i = t0; i < t1 && cap < CAP; i++) {
        uint64_t nb = qk_gguf_set_tensor(s, i)->nbytes;
        if (nb > cap) cap = nb < CAP ? (size_t)nb : CAP;
    }
    unsigned char *buf = rc == QK_OK ? malloc(cap) : NULL;
    if (rc == QK_OK && !buf) rc = qk_fail(err, "out of memory");
    for (uint64_t i = t0; rc == QK_OK && i < t1; i++) rc = copy_tensor(s, i, w, buf, cap, progress, err);
    free(buf);
    /* what was copied must be what the input's hashes say, before it is put in place */
    if (rc == QK_OK && check) rc = qk_gguf_set_guard_check(s, t0, t1 == s->n_tensors ? UINT64_MAX : t1, err);
    if (rc == QK_OK) rc = qk_integrity_finalize(iw, err);
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, err);
    qk_integrity_free(iw);
    qk_gguf_writer_free(w);
    return rc;
}

/* Refuses an output path that is one of the set's files. */
static int check_not_input(const qk_gguf_set *s, const char *out, qk_err *err) {
    const char *in[64];
    for (uint32_t k = 0; k < s->n_files; k += 64) {
        size_t n = 0;
        for (uint32_t j = k; j < s->n_files && n < 64; j++) in[n++] = s->files[j]->path;
        if (qk_check_output(out, in, n, "output", err)) return QK_FAIL;
    }
    return QK_OK;
}

static int open_guarded(const char *path, qk_gguf_set *s, bool ignore_integrity, qk_err *err) {
    if (qk_gguf_set_open(path, s, err)) return QK_FAIL;
    if (!ignore_integrity && qk_gguf_set_guard(s, NULL, err)) {
        qk_gguf_set_close(s);
        return QK_FAIL;
    }
    return QK_OK;
}

int qk_split_model(const char *in_path, const char *out_prefix, const qk_split_opts *o, uint32_t *n_out, qk_err *err) {
    /* "out.gguf" names the set out-00001-of-0000N.gguf, as quantize --keep-split does */
    char prefix[4096];
    qk_split_prefix_of(prefix, sizeof prefix, out_prefix);
    qk_gguf_set s;
    if (open_guarded(in_path, &s, o->ignore_integrity, err)) return QK_FAIL;
    const uint64_t A = qk_gguf_set_meta(&s)->alignment;
    /* plan: greedy, by padded tensor bytes (as gguf-split), or tensor count */
    uint64_t *starts = calloc(s.n_tensors + 2, sizeof *starts);
    uint32_t n = 0;
    int rc = starts ? QK_OK : qk_fail(err, "out of memory");
    uint64_t cur_bytes = 0, cur_n = 0;
    if (rc == QK_OK) starts[n++] = 0;
    for (uint64_t i = 0; rc == QK_OK && i < s.n_tensors; i++) {
        uint64_t b = (qk_gguf_set_tensor(&s, i)->nbytes + A - 1) / A * A;
        bool full = cur_n > 0 && ((o->max_bytes && cur_bytes + b > o->max_bytes) ||
                                  (o->max_tensors && cur_n >= o->max_tensors));
        if (full) {
            starts[n++] = i;
            cur_bytes = 0, cur_n = 0;
        }
        cur_bytes += b, cur_n++;
    }
    if (rc == QK_OK && n > 99999) rc = qk_fail(err, "%s: %u shards is more than gguf-split allows (99999)", in_path, n);
    starts[n] = s.n_tensors;
    if (rc == QK_OK && o->dry_run) *n_out = n;
    for (uint32_t k = 0; rc == QK_OK && k < n; k++) {
        char path[4200];
        qk_split_path(path, sizeof path, prefix, k + 1, n);
        rc = check_not_input(&s, path, err);
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < s.n_tensors; i++) total += qk_gguf_set_tensor(&s, i)->nbytes;
    if (rc == QK_OK && !o->dry_run) qk_progress_total(o->progress, total);
    /* shards already in place are removed on a signal too (atomic_file's
     * registry) until the whole set is written */
    int *done = rc == QK_OK && !o->dry_run ? malloc(n * sizeof *done) : NULL;
    if (rc == QK_OK && !o->dry_run && !done) rc = qk_fail(err, "out of memory");
    uint32_t n_done = 0;
    for (uint32_t k = 0; rc == QK_OK && !o->dry_run && k < n; k++) {
        char path[4200];
        qk_split_path(path, sizeof path, prefix, k + 1, n);
        rc = write_part(&s, path, starts[k], starts[k + 1], k == 0, (int)k, (int)n, o->command_line,
                        !o->ignore_integrity, o->progress, err);
        if (rc == QK_OK) done[n_done++] = qk_afile_partial_add(path);
        if (rc) {
            for (uint32_t j = 0; j < k; j++) { /* nothing half-done stays behind */
                qk_split_path(path, sizeof path, prefix, j + 1, n);
                unlink(path);
            }
        }
    }
    for (uint32_t j = 0; j < n_done; j++) qk_afile_partial_done(done[j]);
    free(done);
    if (rc == QK_OK) *n_out = n;
    free(starts);
    qk_gguf_set_close(&s);
    return rc;
}

int qk_merge_model(const char *first, const char *out_path, const char *command_line, qk_err *err) {
    return qk_merge_model_ex(first, out_path, command_line, false, err);
}

int qk_merge_model_ex(const char *first, const char *out_path, const char *command_line, bool ignore_integrity,
                      qk_err *err) {
    qk_merge_opts o = {.command_line = command_line, .ignore_integrity = ignore_integrity};
    return qk_merge_model_opts(first, out_path, &o, err);
}

int qk_merge_model_opts(const char *first, const char *out_path, const qk_merge_opts *o, qk_err *err) {
    qk_gguf_set s;
    if (open_guarded(first, &s, o->ignore_integrity, err)) return QK_FAIL;
    int rc = check_not_input(&s, out_path, err);
    uint64_t total = 0;
    for (uint64_t i = 0; i < s.n_tensors; i++) total += qk_gguf_set_tensor(&s, i)->nbytes;
    qk_progress_total(o->progress, total);
    if (rc == QK_OK)
        rc = write_part(&s, out_path, 0, s.n_tensors, 1, 0, 1, o->command_line, !o->ignore_integrity, o->progress, err);
    qk_gguf_set_close(&s);
    return rc;
}

void qk_split_staging_path(char *buf, size_t n, const char *out) {
    const char *b = strrchr(out, '/');
    b = b ? b + 1 : out;
    if (qk_dest_is_fat(out)) {
        const char *tmp = getenv("TMPDIR");
        snprintf(buf, n, "%s/.%s.unsplit.%ld", tmp && *tmp ? tmp : "/tmp", b, (long)getpid());
    } else {
        snprintf(buf, n, "%.*s.%s.unsplit", (int)(b - out), out, b);
    }
}

int qk_split_finish(const char *staging, const char *out, uint64_t max_bytes, const char *command_line, uint32_t *n_out,
                    qk_err *err) {
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s", out);
    size_t l = strlen(prefix);
    if (l > 5 && !strcmp(prefix + l - 5, ".gguf")) prefix[l - 5] = 0;
    qk_split_opts o = {.max_bytes = max_bytes, .command_line = command_line};
    int h = qk_afile_partial_add(staging); /* a signal while splitting removes it too */
    int rc = qk_split_model(staging, prefix, &o, n_out, err);
    unlink(staging);
    qk_afile_partial_done(h);
    return rc;
}
