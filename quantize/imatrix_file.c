#include "imatrix_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gguf.h"
#include "ggml_types.h"

#define MAX_DAT_BYTES (4ull << 30)

static int load_gguf(const char *path, qk_imatrix *out, qk_err *err) {
    qk_gguf_file *f;
    if (qk_gguf_open(path, &f, err)) return QK_FAIL;
    const qk_gguf_meta *m = &f->meta;
    qk_imatrix_gguf_tensor *ts = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *ts);
    void **bufs = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *bufs);
    int rc = ts && bufs ? QK_OK : qk_fail(err, "%s: out of memory", path);
    for (uint64_t i = 0; rc == QK_OK && i < m->n_tensors; i++) {
        const qk_gguf_tensor *t = &m->tensors[i];
        /* data sizes are bounded by the file size (checked by the reader) */
        bufs[i] = malloc(t->nbytes ? t->nbytes : 1);
        if (!bufs[i]) {
            rc = qk_fail(err, "%s: out of memory", path);
            break;
        }
        rc = qk_gguf_read_tensor(f, t, 0, bufs[i], t->nbytes, err);
        ts[i].name = t->name;
        ts[i].type = (int)t->type;
        ts[i].data = bufs[i];
        ts[i].n_elements = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    }
    qk_imatrix_gguf_meta meta = {0};
    const char **ds = NULL;
    const qk_gguf_kv *kv = qk_gguf_find(m, "imatrix.datasets");
    if (kv) {
        meta.has_datasets = true;
        if (kv->type == QK_GGUF_ARRAY && kv->arr_type == QK_GGUF_STRING) {
            ds = calloc(kv->n ? kv->n : 1, sizeof *ds);
            if (!ds && rc == QK_OK) rc = qk_fail(err, "%s: out of memory", path);
            for (uint64_t i = 0; ds && i < kv->n; i++) ds[i] = ((qk_gguf_str *)kv->data)[i].s;
            meta.datasets = ds;
            meta.n_datasets = (size_t)kv->n;
        }
    }
    if ((kv = qk_gguf_find(m, "imatrix.chunk_count"))) {
        meta.has_chunk_count = true;
        meta.chunk_count_is_u32 = kv->type == QK_GGUF_U32;
        if (meta.chunk_count_is_u32) memcpy(&meta.chunk_count, kv->data, 4);
    }
    if ((kv = qk_gguf_find(m, "imatrix.chunk_size"))) {
        meta.has_chunk_size = true;
        meta.chunk_size_is_u32 = kv->type == QK_GGUF_U32;
        if (meta.chunk_size_is_u32) memcpy(&meta.chunk_size, kv->data, 4);
    }
    if (rc == QK_OK) rc = qk_imatrix_from_gguf(ts, (size_t)m->n_tensors, &meta, path, out, err);
    for (uint64_t i = 0; bufs && i < m->n_tensors; i++) free(bufs[i]);
    free(bufs), free(ts), free(ds);
    qk_gguf_close(f);
    return rc;
}

int qk_imatrix_load(const char *path, qk_imatrix *out, qk_err *err) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) return qk_fail(err, "%s: cannot open imatrix file: %s", path, strerror(errno));
    unsigned char magic[4] = {0};
    size_t got = fread(magic, 1, 4, fp);
    if (got == 4 && !memcmp(magic, "GGUF", 4)) {
        fclose(fp);
        return load_gguf(path, out, err);
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || (uint64_t)st.st_size > MAX_DAT_BYTES) {
        fclose(fp);
        return qk_fail(err, "%s: imatrix file larger than %llu bytes", path, (unsigned long long)MAX_DAT_BYTES);
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(fp);
        return qk_fail(err, "%s: out of memory", path);
    }
    rewind(fp);
    size_t r = fread(buf, 1, len, fp);
    fclose(fp);
    if (r != len) {
        free(buf);
        return qk_fail(err, "%s: read error", path);
    }
    int rc = qk_imatrix_parse_dat(buf, len, path, out, err);
    free(buf);
    return rc;
}
