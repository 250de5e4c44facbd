#include "gguf_writer.h"

#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "ggml_types.h"

struct qk_gguf_writer {
    qk_gguf_meta meta;
    uint64_t cap_kv, cap_tensors;
    qk_gguf_data_hook hook;
    void *hook_ctx;
    /* after begin */
    qk_afile *out;
    unsigned char *header;
    uint64_t header_len; /* including padding to the data section */
    uint64_t cur_tensor, cur_done; /* streaming position */
    bool finished;
};

qk_gguf_writer *qk_gguf_writer_new(void) {
    qk_gguf_writer *w = calloc(1, sizeof *w);
    if (w) w->meta.alignment = QK_GGUF_DEFAULT_ALIGNMENT, w->meta.version = 3;
    return w;
}

void qk_gguf_writer_free(qk_gguf_writer *w) {
    if (!w) return;
    if (w->out) qk_afile_abort(w->out);
    qk_gguf_meta_free(&w->meta);
    free(w->header);
    free(w);
}

void qk_gguf_writer_set_alignment(qk_gguf_writer *w, uint32_t a) { w->meta.alignment = a; }
void qk_gguf_writer_set_hook(qk_gguf_writer *w, qk_gguf_data_hook hook, void *ctx) {
    w->hook = hook, w->hook_ctx = ctx;
}
const qk_gguf_meta *qk_gguf_writer_meta(const qk_gguf_writer *w) { return &w->meta; }

static char *dupn(const char *s, uint64_t n) {
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = '\0';
    return d;
}

static int check_open(qk_gguf_writer *w, qk_err *err) {
    if (w->out || w->finished) return qk_fail(err, "gguf writer: declarations must come before begin()");
    return QK_OK;
}

static qk_gguf_kv *new_kv(qk_gguf_writer *w, const char *key, qk_err *err) {
    if (check_open(w, err)) return NULL;
    if (!key || !*key) {
        qk_fail(err, "gguf writer: empty key");
        return NULL;
    }
    if (qk_gguf_find(&w->meta, key)) {
        qk_fail(err, "gguf writer: key '%s' declared twice", key);
        return NULL;
    }
    if (w->meta.n_kv == w->cap_kv) {
        uint64_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        qk_gguf_kv *kv = realloc(w->meta.kv, cap * sizeof *kv);
        if (!kv) {
            qk_fail(err, "gguf writer: out of memory");
            return NULL;
        }
        w->meta.kv = kv, w->cap_kv = cap;
    }
    qk_gguf_kv *kv = &w->meta.kv[w->meta.n_kv];
    memset(kv, 0, sizeof *kv);
    kv->key = dupn(key, strlen(key));
    if (!kv->key) {
        qk_fail(err, "gguf writer: out of memory");
        return NULL;
    }
    return kv;
}

static int copy_values(qk_gguf_kv *kv, uint32_t t, const void *data, const uint64_t *lens, uint64_t n, qk_err *err) {
    if (t == QK_GGUF_STRING) {
        qk_gguf_str *s = calloc(n ? n : 1, sizeof *s);
        if (!s) return qk_fail(err, "gguf writer: out of memory");
        kv->data = s;
        for (uint64_t i = 0; i < n; i++) {
            const char *src = ((const char *const *)data)[i];
            uint64_t len = lens ? lens[i] : strlen(src);
            s[i].s = dupn(src, len);
            s[i].len = len;
            if (!s[i].s) return qk_fail(err, "gguf writer: out of memory");
        }
        return QK_OK;
    }
    size_t es = qk_gguf_type_size(t);
    if (!es) return qk_fail(err, "gguf writer: key '%s': invalid value type %u", kv->key, t);
    if (n > UINT64_MAX / es) return qk_fail(err, "gguf writer: key '%s': array too large", kv->key);
    kv->data = malloc(n ? n * es : 1);
    if (!kv->data) return qk_fail(err, "gguf writer: out of memory");
    if (n) memcpy(kv->data, data, n * es);
    return QK_OK;
}

/* Commits a kv built by new_kv (or frees it on failure). */
static int finish_kv(qk_gguf_writer *w, qk_gguf_kv *kv, int rc) {
    if (rc == QK_OK) {
        w->meta.n_kv++;
    } else {
        uint64_t saved = w->meta.n_kv;
        /* free_kv expects a consistent entry; free manually */
        if (kv->data && (kv->type == QK_GGUF_STRING || kv->arr_type == QK_GGUF_STRING)) {
            qk_gguf_str *s = kv->data;
            for (uint64_t i = 0; i < kv->n; i++) free(s[i].s);
        }
        free(kv->data);
        free(kv->key);
        w->meta.n_kv = saved;
    }
    return rc;
}

int qk_gguf_writer_add_scalar(qk_gguf_writer *w, const char *key, uint32_t type, const void *value, qk_err *err) {
    if (type == QK_GGUF_ARRAY || type >= QK_GGUF_TYPE_COUNT)
        return qk_fail(err, "gguf writer: key '%s': %s is not a scalar type", key, qk_gguf_type_name(type));
    qk_gguf_kv *kv = new_kv(w, key, err);
    if (!kv) return QK_FAIL;
    kv->type = type, kv->n = 1;
    const void *src = type == QK_GGUF_STRING ? (const void *)&value : value;
    return finish_kv(w, kv, copy_values(kv, type, src, NULL, 1, err));
}

int qk_gguf_writer_add_u32(qk_gguf_writer *w, const char *key, uint32_t v, qk_err *err) {
    return qk_gguf_writer_add_scalar(w, key, QK_GGUF_U32, &v, err);
}
int qk_gguf_writer_add_i32(qk_gguf_writer *w, const char *key, int32_t v, qk_err *err) {
    return qk_gguf_writer_add_scalar(w, key, QK_GGUF_I32, &v, err);
}
int qk_gguf_writer_add_u64(qk_gguf_writer *w, const char *key, uint64_t v, qk_err *err) {
    return qk_gguf_writer_add_scalar(w, key, QK_GGUF_U64, &v, err);
}
int qk_gguf_writer_add_f32(qk_gguf_writer *w, const char *key, float v, qk_err *err) {
    return qk_gguf_writer_add_scalar(w, key, QK_GGUF_F32, &v, err);
}
int qk_gguf_writer_add_bool(qk_gguf_writer *w, const char *key, bool v, qk_err *err) {
    uint8_t b = v;
    return qk_gguf_writer_add_scalar(w, key, QK_GGUF_BOOL, &b, err);
}
int qk_gguf_writer_add_str(qk_gguf_writer *w, const char *key, const char *v, qk_err *err) {
    return qk_gguf_writer_add_scalar(w, key, QK_GGUF_STRING, v, err);
}

int qk_gguf_writer_add_provenance(qk_gguf_writer *w, const char *command_line, qk_err *err) {
    int rc = qk_gguf_writer_add_str(w, "quantkit.version", QK_VERSION, err);
    if (rc == QK_OK && command_line) rc = qk_gguf_writer_add_str(w, "quantkit.command", command_line, err);
    return rc;
}

int qk_gguf_writer_add_arr(qk_gguf_writer *w, const char *key, uint32_t type, const void *data, uint64_t n,
                           qk_err *err) {
    if (type == QK_GGUF_ARRAY || type == QK_GGUF_STRING || type >= QK_GGUF_TYPE_COUNT)
        return qk_fail(err, "gguf writer: key '%s': arrays of %s are not fixed-size", key, qk_gguf_type_name(type));
    qk_gguf_kv *kv = new_kv(w, key, err);
    if (!kv) return QK_FAIL;
    kv->type = QK_GGUF_ARRAY, kv->arr_type = type, kv->n = n;
    return finish_kv(w, kv, copy_values(kv, type, data, NULL, n, err));
}

int qk_gguf_writer_add_arr_strn(qk_gguf_writer *w, const char *key, const char *const *v, const uint64_t *len,
                                uint64_t n, qk_err *err) {
    qk_gguf_kv *kv = new_kv(w, key, err);
    if (!kv) return QK_FAIL;
    kv->type = QK_GGUF_ARRAY, kv->arr_type = QK_GGUF_STRING, kv->n = n;
    return finish_kv(w, kv, copy_values(kv, QK_GGUF_STRING, v, len, n, err));
}

int qk_gguf_writer_add_arr_str(qk_gguf_writer *w, const char *key, const char *const *v, uint64_t n, qk_err *err) {
    return qk_gguf_writer_add_arr_strn(w, key, v, NULL, n, err);
}

int qk_gguf_writer_add_kv(qk_gguf_writer *w, const qk_gguf_kv *src, qk_err *err) {
    if (src->type == QK_GGUF_ARRAY) {
        if (src->arr_type == QK_GGUF_STRING) {
            const qk_gguf_str *s = src->data;
            const char **p = malloc((src->n ? src->n : 1) * sizeof *p);
            uint64_t *l = malloc((src->n ? src->n : 1) * sizeof *l);
            int rc = QK_FAIL;
            if (p && l) {
                for (uint64_t i = 0; i < src->n; i++) p[i] = s[i].s, l[i] = s[i].len;
                rc = qk_gguf_writer_add_arr_strn(w, src->key, p, l, src->n, err);
            } else {
                qk_fail(err, "gguf writer: out of memory");
            }
            free(p), free(l);
            return rc;
        }
        return qk_gguf_writer_add_arr(w, src->key, src->arr_type, src->data, src->n, err);
    }
    if (src->type == QK_GGUF_STRING) {
        const qk_gguf_str *s = src->data;
        uint64_t len = s->len;
        const char *p = s->s;
        qk_gguf_kv *kv = new_kv(w, src->key, err);
        if (!kv) return QK_FAIL;
        kv->type = QK_GGUF_STRING, kv->n = 1;
        return finish_kv(w, kv, copy_values(kv, QK_GGUF_STRING, &p, &len, 1, err));
    }
    return qk_gguf_writer_add_scalar(w, src->key, src->type, src->data, err);
}

bool qk_gguf_writer_remove_kv(qk_gguf_writer *w, const char *key) {
    if (w->out) return false;
    for (uint64_t i = 0; i < w->meta.n_kv; i++) {
        if (strcmp(w->meta.kv[i].key, key)) continue;
        qk_gguf_kv *kv = &w->meta.kv[i];
        if (kv->type == QK_GGUF_STRING || (kv->type == QK_GGUF_ARRAY && kv->arr_type == QK_GGUF_STRING)) {
            qk_gguf_str *s = kv->data;
            for (uint64_t j = 0; j < kv->n; j++) free(s[j].s);
        }
        free(kv->data), free(kv->key);
        memmove(kv, kv + 1, (w->meta.n_kv - i - 1) * sizeof *kv);
        w->meta.n_kv--;
        return true;
    }
    return false;
}

int qk_gguf_writer_set_scalar(qk_gguf_writer *w, const char *key, uint32_t type, const void *value, qk_err *err) {
    /* what add_scalar refuses is refused before the old value goes */
    if (type == QK_GGUF_ARRAY || type >= QK_GGUF_TYPE_COUNT || w->out || w->finished || !key || !*key)
        return qk_gguf_writer_add_scalar(w, key ? key : "", type, value, err);
    uint64_t at = 0;
    while (at < w->meta.n_kv && strcmp(w->meta.kv[at].key, key)) at++;
    if (at < w->meta.n_kv) qk_gguf_writer_remove_kv(w, key);
    if (qk_gguf_writer_add_scalar(w, key, type, value, err)) return QK_FAIL;
    const uint64_t last = w->meta.n_kv - 1;
    if (at < last) { /* back to where it was */
        const qk_gguf_kv kv = w->meta.kv[last];
        memmove(&w->meta.kv[at + 1], &w->meta.kv[at], (size_t)(last - at) * sizeof kv);
        w->meta.kv[at] = kv;
    }
    return QK_OK;
}

int qk_gguf_writer_add_tensor(qk_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                              const int64_t *ne, qk_err *err) {
    if (check_open(w, err)) return QK_FAIL;
    size_t nl = strlen(name);
    if (nl == 0 || nl > QK_GGUF_MAX_NAME)
        return qk_fail(err, "tensor '%s': name must be 1..%d bytes", name, QK_GGUF_MAX_NAME);
    if (n_dims < 1 || n_dims > QK_GGUF_MAX_DIMS)
        return qk_fail(err, "tensor '%s': %u dimensions, expected 1..4", name, n_dims);
    if (qk_gguf_find_tensor(&w->meta, name) >= 0) return qk_fail(err, "tensor '%s' declared twice", name);
    const qk_type_info *ti = qk_type_get(type);
    if (!ti) return qk_fail(err, "tensor '%s': invalid type %u", name, type);
    qk_gguf_tensor t = {0};
    memcpy(t.name, name, nl + 1);
    t.n_dims = n_dims;
    t.type = type;
    uint64_t rows = 1;
    for (uint32_t d = 0; d < QK_GGUF_MAX_DIMS; d++) {
        t.ne[d] = d < n_dims ? ne[d] : 1;
        if (t.ne[d] < 0) return qk_fail(err, "tensor '%s': negative dimension", name);
        if (d > 0) {
            if (t.ne[d] && rows > UINT64_MAX / (uint64_t)t.ne[d]) return qk_fail(err, "tensor '%s': too large", name);
            rows *= (uint64_t)t.ne[d];
        }
    }
    uint64_t row;
    if (!qk_row_size(type, t.ne[0], &row))
        return qk_fail(err, "tensor '%s': row length %lld is not a multiple of %s's block size %u", name,
                       (long long)t.ne[0], ti->name, ti->blck_size);
    if (rows && row > UINT64_MAX / rows / 2) return qk_fail(err, "tensor '%s': too large", name);
    t.nbytes = row * rows;
    const uint64_t A = w->meta.alignment;
    t.offset = w->meta.data_size;
    if (w->meta.n_tensors == w->cap_tensors) {
        uint64_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
        qk_gguf_tensor *nt = realloc(w->meta.tensors, cap * sizeof *nt);
        if (!nt) return qk_fail(err, "gguf writer: out of memory");
        w->meta.tensors = nt, w->cap_tensors = cap;
    }
    w->meta.tensors[w->meta.n_tensors++] = t;
    w->meta.data_size += (t.nbytes + A - 1) / A * A;
    return QK_OK;
}

/* ---- serialization ---- */

typedef struct {
    unsigned char *p;
    uint64_t len, cap;
    bool oom;
} buf_t;

static void put(buf_t *b, const void *d, uint64_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        uint64_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p, b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put_u32(buf_t *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(buf_t *b, uint64_t v) {
    unsigned char x[8];
    for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
    put(b, x, 8);
}

static void put_str(buf_t *b, const char *s, uint64_t len) {
    put_u64(b, len);
    put(b, s, len);
}

static void serialize(qk_gguf_writer *w, buf_t *b) {
    qk_gguf_meta *m = &w->meta;
    put(b, "GGUF", 4);
    put_u32(b, m->version);
    put_u64(b, m->n_tensors);
    put_u64(b, m->n_kv);
    for (uint64_t i = 0; i < m->n_kv; i++) {
        qk_gguf_kv *kv = &m->kv[i];
        put_str(b, kv->key, strlen(kv->key));
        put_u32(b, kv->type);
        uint32_t et = kv->type;
        if (kv->type == QK_GGUF_ARRAY) {
            put_u32(b, kv->arr_type);
            put_u64(b, kv->n);
            et = kv->arr_type;
        }
        kv->value_off = b->len;
        if (et == QK_GGUF_STRING) {
            const qk_gguf_str *s = kv->data;
            for (uint64_t j = 0; j < kv->n; j++) put_str(b, s[j].s, s[j].len);
        } else {
            put(b, kv->data, kv->n * qk_gguf_type_size(et));
        }
    }
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const qk_gguf_tensor *t = &m->tensors[i];
        put_str(b, t->name, strlen(t->name));
        put_u32(b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(b, (uint64_t)t->ne[d]);
        put_u32(b, t->type);
        put_u64(b, t->offset);
    }
    m->meta_end = b->len;
    /* No tensors, no data section: like gguf-py (and ggml's reader), do not
     * pad, so vocab-only files round-trip byte for byte. */
    const uint64_t A = m->n_tensors ? m->alignment : 1;
    static const unsigned char zeros[64] = {0};
    while (b->len % A) put(b, zeros, (A - b->len % A) < sizeof zeros ? A - b->len % A : sizeof zeros);
    m->data_offset = b->len;
}

uint64_t qk_gguf_writer_header_size(const qk_gguf_writer *w) {
    /* compute without allocating: mirror serialize()'s arithmetic */
    const qk_gguf_meta *m = &w->meta;
    uint64_t n = 4 + 4 + 8 + 8;
    for (uint64_t i = 0; i < m->n_kv; i++) {
        const qk_gguf_kv *kv = &m->kv[i];
        n += 8 + strlen(kv->key) + 4;
        uint32_t et = kv->type;
        if (et == QK_GGUF_ARRAY) n += 4 + 8, et = kv->arr_type;
        if (et == QK_GGUF_STRING) {
            const qk_gguf_str *s = kv->data;
            for (uint64_t j = 0; j < kv->n; j++) n += 8 + s[j].len;
        } else {
            n += kv->n * qk_gguf_type_size(et);
        }
    }
    for (uint64_t i = 0; i < m->n_tensors; i++)
        n += 8 + strlen(m->tensors[i].name) + 4 + 8 * (uint64_t)m->tensors[i].n_dims + 4 + 8;
    const uint64_t A = m->n_tensors ? m->alignment : 1;
    return (n + A - 1) / A * A;
}

uint64_t qk_gguf_writer_file_size(const qk_gguf_writer *w) {
    return qk_gguf_writer_header_size(w) + w->meta.data_size;
}

int qk_gguf_writer_begin(qk_gguf_writer *w, const char *path, qk_err *err) {
    if (check_open(w, err)) return QK_FAIL;
    const uint32_t A = w->meta.alignment;
    if (A == 0 || (A & (A - 1)) || A > QK_GGUF_MAX_ALIGNMENT)
        return qk_fail(err, "%s: alignment %u is not a power of two up to %u", path, A, QK_GGUF_MAX_ALIGNMENT);
    /* offsets follow the final alignment, whenever it was set */
    w->meta.data_size = 0;
    for (uint64_t i = 0; i < w->meta.n_tensors; i++) {
        w->meta.tensors[i].offset = w->meta.data_size;
        w->meta.data_size += (w->meta.tensors[i].nbytes + A - 1) / A * A;
    }
    buf_t b = {0};
    serialize(w, &b);
    if (b.oom) {
        free(b.p);
        return qk_fail(err, "%s: out of memory for the header", path);
    }
    if (qk_afile_open(&w->out, path, err) != QK_OK) {
        free(b.p);
        return QK_FAIL;
    }
    w->header = b.p;
    w->header_len = b.len;
    if (qk_afile_write(w->out, b.p, b.len, err) != QK_OK) {
        qk_afile_abort(w->out);
        w->out = NULL;
        return QK_FAIL;
    }
    w->cur_tensor = 0, w->cur_done = 0;
    return QK_OK;
}

const unsigned char *qk_gguf_writer_header(const qk_gguf_writer *w, uint64_t *len) {
    if (len) *len = w->header_len;
    return w->header;
}

uint64_t qk_gguf_writer_current_tensor(const qk_gguf_writer *w) {
    uint64_t t = w->cur_tensor;
    /* skip zero-size tensors */
    while (t < w->meta.n_tensors && w->meta.tensors[t].nbytes == 0) t++;
    return t;
}

static int emit(qk_gguf_writer *w, uint64_t tensor, const void *d, size_t n, qk_err *err) {
    if (w->hook) w->hook(w->hook_ctx, tensor, d, n);
    return qk_afile_write(w->out, d, n, err);
}

/* Pads tensor cur_tensor once complete, and advances past empty tensors. */
static int advance(qk_gguf_writer *w, qk_err *err) {
    static const unsigned char zeros[256] = {0};
    const uint64_t A = w->meta.alignment;
    while (w->cur_tensor < w->meta.n_tensors && w->cur_done == w->meta.tensors[w->cur_tensor].nbytes) {
        uint64_t pad = (A - w->cur_done % A) % A;
        while (pad) {
            size_t k = pad < sizeof zeros ? (size_t)pad : sizeof zeros;
            if (emit(w, w->cur_tensor, zeros, k, err) != QK_OK) return QK_FAIL;
            pad -= k;
        }
        w->cur_tensor++;
        w->cur_done = 0;
        /* the last tensor's data is out, only header patches follow; a split output keeps every shard open until
         * all are written, so none should keep its early-flush thread until then */
        if (w->cur_tensor == w->meta.n_tensors && qk_afile_appends_done(w->out, err) != QK_OK) return QK_FAIL;
    }
    return QK_OK;
}

int qk_gguf_writer_write(qk_gguf_writer *w, const void *data, size_t n, qk_err *err) {
    if (!w->out) return qk_fail(err, "gguf writer: write before begin()");
    const unsigned char *p = data;
    if (advance(w, err)) return QK_FAIL;
    while (n) {
        if (w->cur_tensor >= w->meta.n_tensors)
            return qk_fail(err, "%s: more tensor data written than declared", qk_afile_final_path(w->out));
        const qk_gguf_tensor *t = &w->meta.tensors[w->cur_tensor];
        uint64_t room = t->nbytes - w->cur_done;
        size_t k = n < room ? n : (size_t)room;
        if (emit(w, w->cur_tensor, p, k, err) != QK_OK) return QK_FAIL;
        w->cur_done += k, p += k, n -= k;
        if (advance(w, err)) return QK_FAIL;
    }
    return QK_OK;
}

int qk_gguf_writer_patch(qk_gguf_writer *w, const char *key, const void *value, size_t n, qk_err *err) {
    if (!w->out) return qk_fail(err, "gguf writer: patch before begin()");
    for (uint64_t i = 0; i < w->meta.n_kv; i++) {
        qk_gguf_kv *kv = &w->meta.kv[i];
        if (strcmp(kv->key, key)) continue;
        uint32_t et = kv->type == QK_GGUF_ARRAY ? kv->arr_type : kv->type;
        size_t es = qk_gguf_type_size(et);
        if (!es || n != kv->n * es)
            return qk_fail(err, "gguf writer: key '%s' is not a fixed-size value of %zu bytes", key, n);
        memcpy(kv->data, value, n);
        memcpy(w->header + kv->value_off, value, n);
        return qk_afile_pwrite(w->out, value, n, kv->value_off, err);
    }
    return qk_fail(err, "gguf writer: cannot patch undeclared key '%s'", key);
}

int qk_gguf_writer_patch_strs(qk_gguf_writer *w, const char *key, const char *const *v, uint64_t n, qk_err *err) {
    if (!w->out) return qk_fail(err, "gguf writer: patch before begin()");
    for (uint64_t i = 0; i < w->meta.n_kv; i++) {
        qk_gguf_kv *kv = &w->meta.kv[i];
        if (strcmp(kv->key, key)) continue;
        if (kv->type != QK_GGUF_ARRAY || kv->arr_type != QK_GGUF_STRING || kv->n != n)
            return qk_fail(err, "gguf writer: key '%s' is not an array of %llu strings", key, (unsigned long long)n);
        qk_gguf_str *s = kv->data;
        uint64_t off = kv->value_off;
        for (uint64_t j = 0; j < n; j++) {
            if (strlen(v[j]) != s[j].len)
                return qk_fail(err, "gguf writer: key '%s': string %llu is not %llu bytes long as declared", key,
                               (unsigned long long)j, (unsigned long long)s[j].len);
            memcpy(s[j].s, v[j], s[j].len);
            memcpy(w->header + off + 8, v[j], s[j].len);
            if (qk_afile_pwrite(w->out, v[j], s[j].len, off + 8, err)) return QK_FAIL;
            off += 8 + s[j].len;
        }
        return QK_OK;
    }
    return qk_fail(err, "gguf writer: cannot patch undeclared key '%s'", key);
}

int qk_gguf_writer_finish(qk_gguf_writer *w, qk_err *err) {
    if (!w->out) return qk_fail(err, "gguf writer: finish before begin()");
    if (advance(w, err)) return QK_FAIL;
    if (w->cur_tensor < w->meta.n_tensors)
        return qk_fail(err, "%s: tensor '%s' is incomplete (%llu of %llu bytes written)", qk_afile_final_path(w->out),
                       w->meta.tensors[w->cur_tensor].name, (unsigned long long)w->cur_done,
                       (unsigned long long)w->meta.tensors[w->cur_tensor].nbytes);
    qk_afile *out = w->out;
    w->out = NULL;
    if (qk_afile_commit(out, err) != QK_OK) return QK_FAIL;
    w->finished = true;
    return QK_OK;
}
