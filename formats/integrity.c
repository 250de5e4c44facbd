#include "integrity.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "parallel.h"

struct qk_integrity_writer {
    qk_gguf_writer *w;
    uint64_t n;
    XXH3_state_t **states;
    uint64_t *hashes;
};

static void hook(void *ctx, uint64_t tensor, const void *data, size_t n) {
    qk_integrity_writer *iw = ctx;
    if (tensor < iw->n) XXH3_64bits_update(iw->states[tensor], data, n);
}

void qk_integrity_free(qk_integrity_writer *iw) {
    if (!iw) return;
    for (uint64_t i = 0; iw->states && i < iw->n; i++) XXH3_freeState(iw->states[i]);
    free(iw->states);
    free(iw->hashes);
    free(iw);
}

qk_integrity_writer *qk_integrity_attach(qk_gguf_writer *w, qk_err *err) {
    const qk_gguf_meta *m = qk_gguf_writer_meta(w);
    qk_integrity_writer *iw = calloc(1, sizeof *iw);
    if (!iw) {
        qk_fail(err, "out of memory");
        return NULL;
    }
    iw->w = w;
    iw->n = m->n_tensors;
    iw->states = calloc(iw->n ? iw->n : 1, sizeof *iw->states);
    iw->hashes = calloc(iw->n ? iw->n : 1, sizeof *iw->hashes);
    if (!iw->states || !iw->hashes) goto oom;
    for (uint64_t i = 0; i < iw->n; i++) {
        if (!(iw->states[i] = XXH3_createState())) goto oom;
        XXH3_64bits_reset(iw->states[i]);
    }
    uint64_t zero = 0;
    if (qk_gguf_writer_add_str(w, QK_INTEGRITY_ALGO_KEY, "xxh3-64", err) ||
        qk_gguf_writer_add_arr(w, QK_INTEGRITY_TENSORS_KEY, QK_GGUF_U64, iw->hashes, iw->n, err) ||
        qk_gguf_writer_add_u64(w, QK_INTEGRITY_HEADER_KEY, zero, err)) {
        qk_integrity_free(iw);
        return NULL;
    }
    qk_gguf_writer_set_hook(w, hook, iw);
    return iw;
oom:
    qk_integrity_free(iw);
    qk_fail(err, "out of memory");
    return NULL;
}

/* XXH3-64 of header bytes with the two hash values read as zero. */
static uint64_t header_hash(const unsigned char *hdr, uint64_t len, uint64_t tensors_off, uint64_t tensors_len,
                            uint64_t header_off) {
    XXH3_state_t *s = XXH3_createState();
    if (!s) return 0;
    XXH3_64bits_reset(s);
    static const unsigned char zeros[4096];
    /* the two zeroed ranges, in file order */
    uint64_t r0 = tensors_off, l0 = tensors_len, r1 = header_off, l1 = 8;
    if (r1 < r0) {
        uint64_t t = r0; r0 = r1; r1 = t;
        t = l0; l0 = l1; l1 = t;
    }
    uint64_t pos = 0;
    const uint64_t starts[2] = {r0, r1}, lens[2] = {l0, l1};
    for (int k = 0; k < 2; k++) {
        XXH3_64bits_update(s, hdr + pos, starts[k] - pos);
        for (uint64_t z = lens[k]; z;) {
            size_t c = z < sizeof zeros ? (size_t)z : sizeof zeros;
            XXH3_64bits_update(s, zeros, c);
            z -= c;
        }
        pos = starts[k] + lens[k];
    }
    XXH3_64bits_update(s, hdr + pos, len - pos);
    uint64_t h = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    return h;
}

int qk_integrity_finalize(qk_integrity_writer *iw, qk_err *err) {
    for (uint64_t i = 0; i < iw->n; i++) iw->hashes[i] = XXH3_64bits_digest(iw->states[i]);
    if (qk_gguf_writer_patch(iw->w, QK_INTEGRITY_TENSORS_KEY, iw->hashes, iw->n * 8, err)) return QK_FAIL;
    const qk_gguf_meta *m = qk_gguf_writer_meta(iw->w);
    const qk_gguf_kv *tk = qk_gguf_find(m, QK_INTEGRITY_TENSORS_KEY);
    const qk_gguf_kv *hk = qk_gguf_find(m, QK_INTEGRITY_HEADER_KEY);
    uint64_t len;
    const unsigned char *hdr = qk_gguf_writer_header(iw->w, &len);
    uint64_t h = header_hash(hdr, len, tk->value_off, tk->n * 8, hk->value_off);
    return qk_gguf_writer_patch(iw->w, QK_INTEGRITY_HEADER_KEY, &h, 8, err);
}

/* ---- checking ---- */

typedef struct {
    const qk_gguf_file *f;
    uint64_t *hashes;
    unsigned char *pad_bad;
    qk_progress *progress;
} check_ctx;

/* Whether the bytes before the data section match the embedded header hash
 * (which also covers the padding between the infos and the data). */
static int header_matches(const qk_gguf_file *f, const qk_gguf_kv *tk, const qk_gguf_kv *hk, bool *ok, qk_err *err) {
    const uint64_t len = f->meta.data_offset;
    unsigned char *hdr = malloc(len ? len : 1);
    if (!hdr) return qk_fail(err, "%s: out of memory", f->path);
    if (qk_gguf_pread(f, 0, hdr, len, err)) {
        free(hdr);
        return QK_FAIL;
    }
    uint64_t want;
    memcpy(&want, hdr + hk->value_off, 8);
    *ok = header_hash(hdr, len, tk->value_off, tk->n * 8, hk->value_off) == want;
    free(hdr);
    return QK_OK;
}

static uint64_t padded_size(const qk_gguf_file *f, uint64_t i) {
    const qk_gguf_meta *m = &f->meta;
    uint64_t A = m->alignment;
    uint64_t p = (m->tensors[i].nbytes + A - 1) / A * A;
    /* the last tensor's padding may be cut off by other writers */
    uint64_t avail = f->file_size - m->data_offset - m->tensors[i].offset;
    return p < avail ? p : avail;
}

int qk_integrity_hash_tensor(const qk_gguf_file *f, uint64_t i, bool padded, uint64_t *out, qk_err *err) {
    const qk_gguf_tensor *t = &f->meta.tensors[i];
    uint64_t total = padded ? padded_size(f, i) : t->nbytes;
    enum { CH = 1 << 20 };
    unsigned char *buf = malloc(CH);
    XXH3_state_t *s = XXH3_createState();
    int rc = QK_OK;
    if (!buf || !s) rc = qk_fail(err, "out of memory");
    if (s) XXH3_64bits_reset(s);
    for (uint64_t off = 0; rc == QK_OK && off < total;) {
        size_t n = total - off < CH ? (size_t)(total - off) : CH;
        rc = qk_gguf_pread(f, f->meta.data_offset + t->offset + off, buf, n, err);
        if (rc == QK_OK) XXH3_64bits_update(s, buf, n);
        off += n;
    }
    if (rc == QK_OK) *out = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    free(buf);
    return rc;
}

static int check_item(void *vctx, int64_t i, int tid, qk_err *err) {
    (void)tid;
    check_ctx *c = vctx;
    const qk_gguf_tensor *t = &c->f->meta.tensors[i];
    qk_progress_item(c->progress, t->name);
    if (qk_integrity_hash_tensor(c->f, (uint64_t)i, true, &c->hashes[i], err)) return QK_FAIL;
    qk_progress_add(c->progress, t->nbytes);
    /* padding bytes must be zero */
    uint64_t end = padded_size(c->f, (uint64_t)i);
    if (end > t->nbytes) {
        unsigned char pad[1 << 12];
        size_t n = (size_t)(end - t->nbytes);
        if (n > sizeof pad) n = sizeof pad; /* alignment <= 1 MiB; check the first 4 KiB at most */
        if (qk_gguf_pread(c->f, c->f->meta.data_offset + t->offset + t->nbytes, pad, n, err)) return QK_FAIL;
        for (size_t k = 0; k < n; k++)
            if (pad[k]) c->pad_bad[i] = 1;
    }
    return QK_OK;
}

void qk_integrity_report_free(qk_integrity_report *rep) {
    free(rep->bad_tensors);
    free(rep->bad_padding);
    memset(rep, 0, sizeof *rep);
}

int qk_integrity_check(const qk_gguf_file *f, int n_threads, qk_progress *progress, qk_integrity_report *rep,
                       qk_err *err) {
    memset(rep, 0, sizeof *rep);
    const qk_gguf_meta *m = &f->meta;
    const uint64_t n = m->n_tensors;
    const qk_gguf_kv *ak = qk_gguf_find(m, QK_INTEGRITY_ALGO_KEY);
    const qk_gguf_kv *tk = qk_gguf_find(m, QK_INTEGRITY_TENSORS_KEY);
    const qk_gguf_kv *hk = qk_gguf_find(m, QK_INTEGRITY_HEADER_KEY);
    bool any = false;
    for (uint64_t i = 0; i < m->n_kv; i++)
        if (!strncmp(m->kv[i].key, "quantkit.", 9)) any = true;
    bool valid = ak && tk && hk && ak->type == QK_GGUF_STRING && !strcmp(((qk_gguf_str *)ak->data)->s, "xxh3-64") &&
                 tk->type == QK_GGUF_ARRAY && tk->arr_type == QK_GGUF_U64 && tk->n == n && hk->type == QK_GGUF_U64;
    rep->present = valid;
    rep->partial_keys = any && !valid;

    check_ctx c = {f, calloc(n ? n : 1, 8), calloc(n ? n : 1, 1), progress};
    rep->bad_tensors = calloc(n ? n : 1, sizeof *rep->bad_tensors);
    rep->bad_padding = calloc(n ? n : 1, sizeof *rep->bad_padding);
    if (!c.hashes || !c.pad_bad || !rep->bad_tensors || !rep->bad_padding) {
        free(c.hashes), free(c.pad_bad);
        return qk_fail(err, "%s: out of memory", f->path);
    }
    if (qk_parallel_for((int64_t)n, n_threads, check_item, &c, err)) {
        free(c.hashes), free(c.pad_bad);
        return QK_FAIL;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (c.pad_bad[i]) rep->bad_padding[rep->n_bad_padding++] = i;
        if (valid) {
            uint64_t want;
            memcpy(&want, (const unsigned char *)tk->data + i * 8, 8);
            if (want != c.hashes[i]) rep->bad_tensors[rep->n_bad_tensors++] = i;
        }
    }
    free(c.hashes), free(c.pad_bad);
    if (valid) {
        /* padding between the infos and the data must be zero too: it is
         * covered by the header hash, which reads every byte before data */
        if (header_matches(f, tk, hk, &rep->header_ok, err)) return QK_FAIL;
    }
    return QK_OK;
}

/* ---- the streaming guard ---- */

typedef struct {
    uint64_t next;     /* bytes hashed in order so far */
    bool broken;       /* a read skipped ahead: hash from the file at the end */
    XXH3_state_t *st;
} guard_tensor;

struct qk_integrity_guard {
    qk_gguf_file *f;
    bool present;
    pthread_mutex_t mu;
    guard_tensor *t;
    bool header_checked;
};

static void guard_feed(void *ctx, uint64_t i, uint64_t off, const void *data, size_t n) {
    qk_integrity_guard *g = ctx;
    if (i >= g->f->meta.n_tensors) return;
    pthread_mutex_lock(&g->mu);
    guard_tensor *gt = &g->t[i];
    if (!gt->broken) {
        if (off == gt->next) {
            XXH3_64bits_update(gt->st, data, n);
            gt->next += n;
        } else if (off > gt->next) {
            gt->broken = true;
        } else if (off + n > gt->next) { /* overlaps what was hashed: take the new tail */
            XXH3_64bits_update(gt->st, (const unsigned char *)data + (gt->next - off), (size_t)(off + n - gt->next));
            gt->next = off + n;
        }
    }
    pthread_mutex_unlock(&g->mu);
}

void qk_integrity_guard_free(qk_integrity_guard *g) {
    if (!g) return;
    if (g->f->on_read_ctx == g) g->f->on_read = NULL, g->f->on_read_ctx = NULL;
    for (uint64_t i = 0; g->t && i < g->f->meta.n_tensors; i++) XXH3_freeState(g->t[i].st);
    free(g->t);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static bool integrity_valid(const qk_gguf_meta *m) {
    const qk_gguf_kv *ak = qk_gguf_find(m, QK_INTEGRITY_ALGO_KEY);
    const qk_gguf_kv *tk = qk_gguf_find(m, QK_INTEGRITY_TENSORS_KEY);
    const qk_gguf_kv *hk = qk_gguf_find(m, QK_INTEGRITY_HEADER_KEY);
    return ak && tk && hk && ak->type == QK_GGUF_STRING && !strcmp(((qk_gguf_str *)ak->data)->s, "xxh3-64") &&
           tk->type == QK_GGUF_ARRAY && tk->arr_type == QK_GGUF_U64 && tk->n == m->n_tensors && hk->type == QK_GGUF_U64;
}

int qk_integrity_guard_attach(qk_gguf_file *f, qk_integrity_guard **out, bool *present, qk_err *err) {
    *out = NULL;
    qk_integrity_guard *g = calloc(1, sizeof *g);
    if (!g) return qk_fail(err, "out of memory");
    g->f = f;
    pthread_mutex_init(&g->mu, NULL);
    g->present = integrity_valid(&f->meta);
    if (present) *present = g->present;
    if (g->present) {
        uint64_t n = f->meta.n_tensors;
        g->t = calloc(n ? n : 1, sizeof *g->t);
        if (!g->t) {
            qk_integrity_guard_free(g);
            return qk_fail(err, "out of memory");
        }
        for (uint64_t i = 0; i < n; i++) {
            if (!(g->t[i].st = XXH3_createState())) {
                qk_integrity_guard_free(g);
                return qk_fail(err, "out of memory");
            }
            XXH3_64bits_reset(g->t[i].st);
        }
        f->on_read = guard_feed;
        f->on_read_ctx = g;
    }
    *out = g;
    return QK_OK;
}

int qk_integrity_guard_check(qk_integrity_guard *g, uint64_t t0, uint64_t t1, qk_err *err) {
    if (!g || !g->present) return QK_OK;
    const qk_gguf_file *f = g->f;
    const qk_gguf_meta *m = &f->meta;
    const qk_gguf_kv *tk = qk_gguf_find(m, QK_INTEGRITY_TENSORS_KEY);
    const qk_gguf_kv *hk = qk_gguf_find(m, QK_INTEGRITY_HEADER_KEY);
    if (!g->header_checked) {
        bool ok;
        if (header_matches(f, tk, hk, &ok, err)) return QK_FAIL;
        if (!ok)
            return qk_fail(err, "%s: the metadata does not match its embedded hash (damaged file); nothing was "
                                "written (--ignore-integrity uses it anyway)", f->path);
        g->header_checked = true;
    }
    if (t1 > m->n_tensors) t1 = m->n_tensors;
    for (uint64_t i = t0; i < t1; i++) {
        guard_tensor *gt = &g->t[i];
        const qk_gguf_tensor *t = &m->tensors[i];
        uint64_t got;
        pthread_mutex_lock(&g->mu);
        bool streamed = !gt->broken && gt->next == t->nbytes;
        pthread_mutex_unlock(&g->mu);
        if (streamed) {
            /* the bytes used were hashed; the padding after them completes the hash */
            uint64_t end = padded_size(f, i);
            unsigned char pad[4096];
            for (uint64_t off = t->nbytes; off < end;) {
                size_t n = end - off < sizeof pad ? (size_t)(end - off) : sizeof pad;
                if (qk_gguf_pread(f, m->data_offset + t->offset + off, pad, n, err)) return QK_FAIL;
                XXH3_64bits_update(gt->st, pad, n);
                off += n;
            }
            got = XXH3_64bits_digest(gt->st);
            XXH3_64bits_reset(gt->st);
            gt->next = 0;
        } else if (qk_integrity_hash_tensor(f, i, true, &got, err)) {
            return QK_FAIL;
        }
        uint64_t want;
        memcpy(&want, (const unsigned char *)tk->data + i * 8, 8);
        if (got != want)
            return qk_fail(err, "%s: tensor '%s' (bytes %llu..%llu) does not match its embedded hash (damaged file); "
                                "nothing was written (--ignore-integrity uses it anyway)", f->path, t->name,
                           (unsigned long long)(m->data_offset + t->offset),
                           (unsigned long long)(m->data_offset + t->offset + t->nbytes));
    }
    return QK_OK;
}
