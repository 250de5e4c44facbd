#include "gguf_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrity.h"

void qk_split_path(char *buf, size_t n, const char *prefix, uint32_t shard, uint32_t count) {
    snprintf(buf, n, "%s-%05u-of-%05u.gguf", prefix, shard, count);
}

bool qk_split_prefix(const char *path, char *prefix, size_t n, uint32_t *shard, uint32_t *count) {
    size_t len = strlen(path);
    const size_t tail = strlen("-00001-of-00001.gguf");
    if (len < tail) return false;
    const char *t = path + len - tail;
    unsigned a, b;
    char end[8];
    if (sscanf(t, "-%5u-of-%5u%7s", &a, &b, end) != 3 || strcmp(end, ".gguf") != 0) return false;
    if (len - tail + 1 > n) return false;
    memcpy(prefix, path, len - tail);
    prefix[len - tail] = '\0';
    *shard = a, *count = b;
    return true;
}

void qk_gguf_set_close(qk_gguf_set *s) {
    for (uint32_t i = 0; s->guards && i < s->n_files; i++) qk_integrity_guard_free(s->guards[i]);
    free(s->guards);
    for (uint32_t i = 0; s->files && i < s->n_files; i++) qk_gguf_close(s->files[i]);
    free(s->files);
    free(s->tensors);
    memset(s, 0, sizeof *s);
}

static bool split_u(const qk_gguf_meta *m, const char *key, int64_t *v) { return qk_gguf_get_int(m, key, v); }

int qk_gguf_set_open(const char *path, qk_gguf_set *out, qk_err *err) {
    memset(out, 0, sizeof *out);
    qk_gguf_file *first;
    if (qk_gguf_open(path, &first, err)) return QK_FAIL;
    int64_t count = 1, no = 0, total = -1;
    if (split_u(&first->meta, "split.count", &count) && count > 1) {
        split_u(&first->meta, "split.no", &no);
        if (no != 0) {
            qk_gguf_close(first);
            return qk_fail(err, "%s: this is shard %lld of a split model; open the first shard (split.no 0)", path,
                           (long long)no + 1);
        }
        if (!split_u(&first->meta, "split.tensors.count", &total) || total < 0) {
            qk_gguf_close(first);
            return qk_fail(err, "%s: split model without a valid split.tensors.count", path);
        }
        if (count > 99999) {
            qk_gguf_close(first);
            return qk_fail(err, "%s: split.count %lld is out of range", path, (long long)count);
        }
    } else {
        count = 1;
    }
    out->files = calloc((size_t)count, sizeof *out->files);
    if (!out->files) {
        qk_gguf_close(first);
        return qk_fail(err, "%s: out of memory", path);
    }
    out->files[0] = first;
    out->n_files = 1;
    if (count > 1) {
        char prefix[4096];
        uint32_t s, c;
        if (!qk_split_prefix(path, prefix, sizeof prefix, &s, &c) || s != 1 || c != (uint32_t)count) {
            qk_gguf_set_close(out);
            return qk_fail(err, "%s: split.count is %lld but the name is not <prefix>-00001-of-%05lld.gguf", path,
                           (long long)count, (long long)count);
        }
        for (uint32_t i = 1; i < (uint32_t)count; i++) {
            char p[4200];
            qk_split_path(p, sizeof p, prefix, i + 1, (uint32_t)count);
            qk_gguf_file *f;
            if (qk_gguf_open(p, &f, err)) {
                qk_gguf_set_close(out);
                return qk_fail_prefix(err, "shard %u of %lld", i + 1, (long long)count);
            }
            out->files[out->n_files++] = f;
            int64_t sno = -1, scount = -1;
            split_u(&f->meta, "split.no", &sno);
            split_u(&f->meta, "split.count", &scount);
            if (sno != i || scount != count) {
                qk_gguf_set_close(out);
                return qk_fail(err, "%s: split.no %lld / split.count %lld, expected %u / %lld", p, (long long)sno,
                               (long long)scount, i, (long long)count);
            }
        }
    }
    uint64_t n = 0;
    for (uint32_t i = 0; i < out->n_files; i++) n += out->files[i]->meta.n_tensors;
    if (count > 1 && n != (uint64_t)total) {
        qk_gguf_set_close(out);
        return qk_fail(err, "%s: the shards hold %llu tensors, split.tensors.count says %lld", path,
                       (unsigned long long)n, (long long)total);
    }
    out->tensors = calloc(n ? n : 1, sizeof *out->tensors);
    if (!out->tensors) {
        qk_gguf_set_close(out);
        return qk_fail(err, "%s: out of memory", path);
    }
    uint64_t k = 0;
    for (uint32_t i = 0; i < out->n_files; i++)
        for (uint64_t j = 0; j < out->files[i]->meta.n_tensors; j++) out->tensors[k++] = (qk_gguf_ref){i, j};
    out->n_tensors = n;
    if (out->n_files > 1) {
        /* no tensor in two shards */
        for (uint64_t a = 0; a < n; a++)
            for (uint32_t f = out->tensors[a].shard + 1; f < out->n_files; f++)
                if (qk_gguf_find_tensor(&out->files[f]->meta, qk_gguf_set_tensor(out, a)->name) >= 0) {
                    const char *nm = qk_gguf_set_tensor(out, a)->name;
                    qk_err e2;
                    qk_fail(&e2, "%s: tensor '%s' is in more than one shard", path, nm);
                    qk_gguf_set_close(out);
                    *err = e2;
                    return QK_FAIL;
                }
    }
    return QK_OK;
}

int qk_gguf_set_guard(qk_gguf_set *s, bool *present, qk_err *err) {
    if (present) *present = true;
    if (!s->guards && !(s->guards = calloc(s->n_files ? s->n_files : 1, sizeof *s->guards)))
        return qk_fail(err, "out of memory");
    for (uint32_t i = 0; i < s->n_files; i++) {
        if (s->guards[i]) continue;
        bool p;
        if (qk_integrity_guard_attach(s->files[i], &s->guards[i], &p, err)) return QK_FAIL;
        if (present && !p) *present = false;
    }
    return QK_OK;
}

int qk_gguf_set_guard_check(qk_gguf_set *s, uint64_t t0, uint64_t t1, qk_err *err) {
    if (!s->guards) return QK_OK;
    if (t1 > s->n_tensors) t1 = s->n_tensors;
    for (uint64_t i = t0; i < t1; i++) {
        const qk_gguf_ref *r = &s->tensors[i];
        if (qk_integrity_guard_check(s->guards[r->shard], r->tensor, r->tensor + 1, err)) return QK_FAIL;
    }
    /* metadata of files without tensors in the range, e.g. an empty shard */
    for (uint32_t k = 0; t1 == s->n_tensors && k < s->n_files; k++)
        if (qk_integrity_guard_check(s->guards[k], 0, 0, err)) return QK_FAIL;
    return QK_OK;
}
