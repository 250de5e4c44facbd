#include "torch_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pickle.h"
#include "zip.h"

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n) {
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k, n -= k;
    }
    return crc;
}

typedef struct crc_track {
    uint64_t pos;      /* bytes of the entry checked in order so far */
    uint32_t crc;
    bool done;
} crc_track;

struct qk_torch_file {
    qk_zip *z;
    qk_pt_tensor *pt;               /* per tensor of the qk_st_file (same order) */
    const qk_zip_entry **entry;     /* its storage's entry */
    crc_track *crc;                 /* per zip entry (index into z->entries) */
    pthread_mutex_t mu;
    size_t cached;                  /* tensor index + 1 of the materialized tensor, 0 none */
    uint8_t *cache;
};

void qk_torch_free(struct qk_torch_file *tf) {
    if (!tf) return;
    free(tf->pt), free(tf->entry), free(tf->crc), free(tf->cache);
    qk_zip_close(tf->z);
    pthread_mutex_destroy(&tf->mu);
    free(tf);
}

bool qk_torch_sniff(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    uint8_t b[4] = {0};
    ssize_t r = pread(fd, b, 4, 0);
    close(fd);
    return r == 4 && ((b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) || (b[0] == 0x80 && b[1] >= 2 && b[1] <= 5));
}

/* Why a file that is not a zip archive cannot be read, when we can tell. */
static int not_zip(const char *path, qk_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t b[512] = {0};
    ssize_t r = fd >= 0 ? pread(fd, b, sizeof b, 0) : -1;
    if (fd >= 0) close(fd);
    if (r >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        return qk_fail(err, "%s: a legacy torch.save file (the pickle format torch < 1.6 wrote, or "
                            "_use_new_zipfile_serialization=False); not supported: re-save it with torch >= 1.6 or as "
                            "safetensors", path);
    if (r >= 262 && !memcmp(b + 257, "ustar", 5))
        return qk_fail(err, "%s: a tar-format torch.save file (torch < 0.4 wrote it); not supported: re-save it with "
                            "torch >= 1.6 or as safetensors", path);
    return QK_FAIL; /* keep the zip reader's message */
}

static int cmp_idx_name(const void *a, const void *b, void *ctx) {
    const qk_pt_tensor *t = ctx;
    return strcmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

/* qsort_r is not C11; a small merge sort over indices keeps this portable. */
static void sort_idx(size_t *ix, size_t *tmp, size_t n, const qk_pt_tensor *t) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_idx(ix, tmp, h, t), sort_idx(ix + h, tmp, n - h, t);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_idx_name(&ix[j], &ix[i], (void *)t) < 0 ? ix[j++] : ix[i++];
    while (i < h) tmp[k++] = ix[i++];
    while (j < n) tmp[k++] = ix[j++];
    memcpy(ix, tmp, n * sizeof *ix);
}

int qk_torch_open(const char *path, qk_st_file **out, qk_err *err) {
    *out = NULL;
    qk_zip *z;
    if (qk_zip_open(path, &z, err)) {
        qk_err e2 = {{0}};
        if (not_zip(path, &e2)) {
            if (strstr(e2.msg, "torch")) *err = e2;
        }
        return QK_FAIL;
    }
    struct qk_torch_file *tf = calloc(1, sizeof *tf);
    qk_st_file *f = calloc(1, sizeof *f);
    if (!tf || !f) {
        free(tf), free(f), qk_zip_close(z);
        return qk_fail(err, "%s: out of memory", path);
    }
    pthread_mutex_init(&tf->mu, NULL);
    tf->z = z;
    f->torch = tf;
    f->fd = -1;
    f->file_size = z->file_size;
    f->path = malloc(strlen(path) + 1);
    if (!f->path) goto oom;
    strcpy(f->path, path);
    /* <prefix>/data.pkl: exactly one */
    const qk_zip_entry *pkl = NULL;
    for (size_t i = 0; i < z->n_entries; i++) {
        const char *nm = z->entries[i].name, *sl = strchr(nm, '/');
        if (sl && !strcmp(sl, "/data.pkl")) {
            if (pkl) {
                qk_fail(err, "%s: two pickles ('%s' and '%s'); expected one <prefix>/data.pkl", path, pkl->name, nm);
                goto fail;
            }
            pkl = &z->entries[i];
        }
    }
    if (!pkl) {
        qk_fail(err, "%s: a zip archive without <prefix>/data.pkl; not a torch.save checkpoint", path);
        goto fail;
    }
    size_t plen = (size_t)(strchr(pkl->name, '/') - pkl->name);
    char *name = malloc(plen + 80);
    if (!name) goto oom;
    snprintf(name, plen + 80, "%.*s/byteorder", (int)plen, pkl->name);
    const qk_zip_entry *bo = qk_zip_find(z, name);
    if (bo) {
        uint8_t *b;
        size_t bl;
        if (qk_zip_read_all(z, bo, 16, &b, &bl, err)) { free(name); goto fail; }
        bool little = bl == 6 && !memcmp(b, "little", 6);
        free(b);
        if (!little) {
            qk_fail(err, "%s: %s does not say 'little'; big-endian checkpoints are not supported", path, name);
            free(name);
            goto fail;
        }
    }
    uint8_t *pk;
    size_t pklen;
    if (qk_zip_read_all(z, pkl, QK_TORCH_MAX_PICKLE, &pk, &pklen, err)) { free(name); goto fail; }
    char label[4400];
    snprintf(label, sizeof label, "%s (%s)", path, pkl->name);
    qk_pt_state st;
    int rc = qk_pickle_state_dict(label, pk, pklen, &st, err);
    free(pk);
    if (rc) { free(name); goto fail; }
    size_t n = st.n;
    size_t *ix = malloc(n * sizeof *ix), *tmp = malloc(n * sizeof *tmp);
    tf->pt = calloc(n, sizeof *tf->pt);
    tf->entry = calloc(n, sizeof *tf->entry);
    tf->crc = calloc(z->n_entries ? z->n_entries : 1, sizeof *tf->crc);
    f->tensors = calloc(n, sizeof *f->tensors);
    if (!ix || !tmp || !tf->pt || !tf->entry || !tf->crc || !f->tensors) {
        free(ix), free(tmp), free(name), qk_pt_state_free(&st);
        goto oom;
    }
    for (size_t i = 0; i < n; i++) ix[i] = i;
    sort_idx(ix, tmp, n, st.tensors);
    free(tmp);
    uint64_t cum = 0;
    for (size_t k = 0; k < n; k++) {
        qk_pt_tensor *p = &st.tensors[ix[k]];
        const size_t es = qk_st_dtype_size(p->dtype);
        snprintf(name, plen + 80, "%.*s/data/%s", (int)plen, pkl->name, p->storage_key);
        const qk_zip_entry *e = qk_zip_find(z, name);
        if (!e) {
            rc = qk_fail(err, "%s: tensor '%s': its storage '%s' is missing (no entry %s)", path, p->name, p->storage_key,
                         name);
            break;
        }
        if (e->size / es != p->storage_numel || e->size % es) {
            rc = qk_fail(err, "%s: tensor '%s': storage entry %s is %llu bytes; expected %llu %s elements = %llu bytes",
                         path, p->name, name, (unsigned long long)e->size, (unsigned long long)p->storage_numel,
                         qk_st_dtype_name(p->dtype), (unsigned long long)(p->storage_numel * es));
            break;
        }
        tf->pt[k] = *p;
        tf->entry[k] = e;
        qk_st_tensor *t = &f->tensors[k];
        t->name = p->name;
        p->name = NULL; /* moved */
        tf->pt[k].name = t->name;
        tf->pt[k].storage_key = NULL;
        t->dtype = p->dtype;
        t->n_dims = p->n_dims;
        memcpy(t->shape, p->shape, sizeof t->shape);
        t->n_elements = p->n_elements;
        t->begin = cum;
        t->end = cum + p->n_elements * es; /* <= storage bytes <= file size: no overflow */
        cum = t->end;
        f->n_tensors = k + 1;
    }
    free(ix), free(name);
    qk_pt_state_free(&st);
    if (rc) goto fail;
    *out = f;
    return QK_OK;
oom:
    qk_fail(err, "%s: out of memory", path);
fail:
    qk_st_close(f);
    return QK_FAIL;
}

/* In-order CRC check of a stored entry (caller holds the lock). */
static int track_crc(const qk_st_file *f, struct qk_torch_file *tf, const qk_zip_entry *e, uint64_t at,
                     const uint8_t *d, size_t n, qk_err *err) {
    crc_track *c = &tf->crc[e - tf->z->entries];
    if (c->done || at != c->pos || !n) return QK_OK;
    if (c->pos == 0) c->crc = (uint32_t)crc32(0, Z_NULL, 0);
    c->crc = crc_update(c->crc, d, n);
    c->pos += n;
    if (c->pos == e->size) {
        c->done = true;
        if (c->crc != e->crc32)
            return qk_fail(err, "%s: entry '%s': CRC-32 0x%08x of its %llu bytes does not match the recorded 0x%08x "
                                "(corrupted)", f->path, e->name, c->crc, (unsigned long long)e->size, e->crc32);
    }
    return QK_OK;
}

/* The tensor as contiguous rows in tf->cache (caller holds the lock). */
static int materialize(const qk_st_file *f, struct qk_torch_file *tf, size_t idx, qk_err *err) {
    const qk_pt_tensor *p = &tf->pt[idx];
    const qk_zip_entry *e = tf->entry[idx];
    const size_t es = qk_st_dtype_size(p->dtype);
    const uint64_t bytes = p->n_elements * es, win = p->span * es;
    if (bytes > QK_TORCH_MAX_MATERIALIZE || win > QK_TORCH_MAX_MATERIALIZE)
        return qk_fail(err, "%s: tensor '%s': a %s of %llu bytes (spanning %llu bytes of its storage) is larger than "
                            "the %llu bytes quantkit materializes; re-save it contiguous and uncompressed",
                       f->path, p->name, qk_pt_tensor_contiguous(p) ? "compressed tensor" : "strided view",
                       (unsigned long long)bytes, (unsigned long long)win,
                       (unsigned long long)QK_TORCH_MAX_MATERIALIZE);
    free(tf->cache);
    tf->cache = NULL, tf->cached = 0;
    uint8_t *w = malloc(win ? (size_t)win : 1);
    uint8_t *out = qk_pt_tensor_contiguous(p) ? w : malloc(bytes ? (size_t)bytes : 1);
    if (!w || !out) {
        free(w);
        if (out != w) free(out);
        return qk_fail(err, "%s: tensor '%s': out of memory for %llu bytes", f->path, p->name, (unsigned long long)win);
    }
    qk_zip_stream s;
    int rc = qk_zip_stream_open(tf->z, e, &s, err);
    if (rc == QK_OK) rc = qk_zip_stream_skip(&s, p->offset * es, err);
    if (rc == QK_OK) rc = qk_zip_stream_read(&s, w, (size_t)win, err);
    if (rc == QK_OK) rc = qk_zip_stream_skip(&s, e->size - s.out_pos, err); /* to the end: the CRC */
    qk_zip_stream_close(&s);
    if (rc == QK_OK && out != w) { /* gather the view in C order */
        int64_t ix[QK_ST_MAX_DIMS] = {0};
        uint64_t src = 0;
        for (uint64_t k = 0; k < p->n_elements; k++) {
            memcpy(out + k * es, w + src * es, es);
            for (int d = p->n_dims - 1; d >= 0; d--) {
                src += (uint64_t)p->stride[d];
                if (++ix[d] < p->shape[d]) break;
                src -= (uint64_t)p->stride[d] * (uint64_t)p->shape[d];
                ix[d] = 0;
            }
        }
    }
    if (out != w) free(w);
    if (rc) {
        free(out);
        return QK_FAIL;
    }
    tf->cache = out;
    tf->cached = idx + 1;
    return QK_OK;
}

int qk_torch_read_raw(const qk_st_file *f, const qk_st_tensor *t, uint64_t off, size_t n, void *dst, qk_err *err) {
    struct qk_torch_file *tf = f->torch;
    size_t idx = (size_t)(t - f->tensors);
    const qk_pt_tensor *p = &tf->pt[idx];
    const qk_zip_entry *e = tf->entry[idx];
    const size_t es = qk_st_dtype_size(p->dtype);
    if (n == 0) return QK_OK;
    if (e->method == QK_ZIP_STORED && qk_pt_tensor_contiguous(p)) {
        uint64_t at = p->offset * es + off;
        if (qk_zip_pread_stored(tf->z, e, at, n, dst, err)) return QK_FAIL;
        pthread_mutex_lock(&tf->mu);
        int rc = track_crc(f, tf, e, at, dst, n, err);
        pthread_mutex_unlock(&tf->mu);
        return rc;
    }
    pthread_mutex_lock(&tf->mu);
    int rc = tf->cached == idx + 1 ? QK_OK : materialize(f, tf, idx, err);
    if (rc == QK_OK) memcpy(dst, tf->cache + off, n);
    pthread_mutex_unlock(&tf->mu);
    return rc;
}
