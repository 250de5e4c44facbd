/* gguf_reader.c - parsing GGUF metadata from hostile files.
 *
 * The parser reads through a cursor over either a memory buffer or a file
 * descriptor (pread through a 1 MiB window), so a huge model costs only its
 * header bytes in memory. `limit` is the total file size: every length is
 * checked against the bytes that remain before it is used or allocated.
 */
#include "gguf.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ggml_types.h"

typedef struct {
    const unsigned char *mem; /* memory source, or NULL */
    size_t mem_len;
    int fd;                   /* file source */
    unsigned char *win;       /* window buffer for fd */
    uint64_t win_cap;         /* its size: WIN_SIZE, or the file size when smaller */
    uint64_t win_off, win_len;
    uint64_t limit;           /* file size */
    uint64_t pos;
    const char *name;
    qk_err *err;
} cursor;

#define WIN_SIZE (1u << 20)

static uint64_t remaining(const cursor *c) { return c->limit - c->pos; }

static int cur_read(cursor *c, void *dst, uint64_t n, const char *what) {
    if (n > remaining(c))
        return qk_fail(c->err, "%s: truncated while reading %s at offset %llu: need %llu bytes, %llu remain",
                       c->name, what, (unsigned long long)c->pos, (unsigned long long)n,
                       (unsigned long long)remaining(c));
    unsigned char *d = dst;
    while (n) {
        if (c->mem) {
            if (c->pos + n > c->mem_len)
                return qk_fail(c->err, "%s: header larger than the buffer given (%zu bytes)", c->name, c->mem_len);
            memcpy(d, c->mem + c->pos, n);
            c->pos += n;
            return QK_OK;
        }
        if (c->pos < c->win_off || c->pos >= c->win_off + c->win_len) {
            uint64_t want = remaining(c) < c->win_cap ? remaining(c) : c->win_cap;
            uint64_t got = 0;
            while (got < want) {
                ssize_t r = pread(c->fd, c->win + got, want - got, (off_t)(c->pos + got));
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) return qk_fail(c->err, "%s: read error at offset %llu: %s", c->name,
                                          (unsigned long long)(c->pos + got), strerror(errno));
                if (r == 0) return qk_fail(c->err, "%s: the file shrank while being read (at offset %llu)",
                                           c->name, (unsigned long long)(c->pos + got));
                got += (uint64_t)r;
            }
            c->win_off = c->pos;
            c->win_len = got;
        }
        uint64_t avail = c->win_off + c->win_len - c->pos;
        uint64_t take = n < avail ? n : avail;
        memcpy(d, c->win + (c->pos - c->win_off), take);
        d += take, n -= take, c->pos += take;
    }
    return QK_OK;
}

static int rd_u32(cursor *c, uint32_t *v, const char *what) {
    unsigned char b[4];
    if (cur_read(c, b, 4, what)) return QK_FAIL;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return QK_OK;
}

static int rd_u64(cursor *c, uint64_t *v, const char *what) {
    unsigned char b[8];
    if (cur_read(c, b, 8, what)) return QK_FAIL;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | b[i];
    *v = x;
    return QK_OK;
}

/* A string whose length is bounded by `cap` and by the remaining bytes. */
static int rd_str(cursor *c, qk_gguf_str *s, uint64_t cap, const char *what) {
    uint64_t len;
    if (rd_u64(c, &len, what)) return QK_FAIL;
    if (len > cap)
        return qk_fail(c->err, "%s: %s has length %llu, more than the limit %llu", c->name, what,
                       (unsigned long long)len, (unsigned long long)cap);
    if (len > remaining(c))
        return qk_fail(c->err, "%s: %s has length %llu but only %llu bytes remain in the file", c->name,
                       what, (unsigned long long)len, (unsigned long long)remaining(c));
    s->s = malloc(len + 1);
    if (!s->s) return qk_fail(c->err, "%s: out of memory for %s (%llu bytes)", c->name, what, (unsigned long long)len);
    if (cur_read(c, s->s, len, what)) {
        free(s->s);
        s->s = NULL;
        return QK_FAIL;
    }
    s->s[len] = '\0';
    s->len = len;
    return QK_OK;
}

size_t qk_gguf_type_size(uint32_t t) {
    switch (t) {
    case QK_GGUF_U8: case QK_GGUF_I8: case QK_GGUF_BOOL: return 1;
    case QK_GGUF_U16: case QK_GGUF_I16: return 2;
    case QK_GGUF_U32: case QK_GGUF_I32: case QK_GGUF_F32: return 4;
    case QK_GGUF_U64: case QK_GGUF_I64: case QK_GGUF_F64: return 8;
    default: return 0;
    }
}

const char *qk_gguf_type_name(uint32_t t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                  "str", "array", "u64", "i64", "f64"};
    return t < QK_GGUF_TYPE_COUNT ? names[t] : "invalid";
}

static void free_kv(qk_gguf_kv *kv) {
    if (kv->type == QK_GGUF_STRING || (kv->type == QK_GGUF_ARRAY && kv->arr_type == QK_GGUF_STRING)) {
        qk_gguf_str *s = kv->data;
        for (uint64_t i = 0; s && i < kv->n; i++) free(s[i].s);
    }
    free(kv->data);
    free(kv->key);
}

void qk_gguf_meta_free(qk_gguf_meta *m) {
    for (uint64_t i = 0; m->kv && i < m->n_kv; i++) free_kv(&m->kv[i]);
    free(m->kv);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

/* Reads n values of type t (not ARRAY) into a fresh buffer. */
static int rd_values(cursor *c, uint32_t t, uint64_t n, void **out, const char *key) {
    *out = NULL;
    if (t == QK_GGUF_STRING) {
        /* each string takes at least its 8-byte length */
        if (n > remaining(c) / 8)
            return qk_fail(c->err, "%s: key '%s': array of %llu strings cannot fit in the %llu remaining bytes",
                           c->name, key, (unsigned long long)n, (unsigned long long)remaining(c));
        qk_gguf_str *s = calloc(n ? n : 1, sizeof *s);
        if (!s) return qk_fail(c->err, "%s: key '%s': out of memory", c->name, key);
        for (uint64_t i = 0; i < n; i++) {
            char what[160];
            snprintf(what, sizeof what, "key '%s' string element %llu", key, (unsigned long long)i);
            if (rd_str(c, &s[i], QK_GGUF_MAX_STRING, what)) {
                for (uint64_t j = 0; j < i; j++) free(s[j].s);
                free(s);
                return QK_FAIL;
            }
        }
        *out = s;
        return QK_OK;
    }
    size_t es = qk_gguf_type_size(t);
    if (n > remaining(c) / es)
        return qk_fail(c->err, "%s: key '%s': %llu values of type %s need more than the %llu remaining bytes",
                       c->name, key, (unsigned long long)n, qk_gguf_type_name(t), (unsigned long long)remaining(c));
    unsigned char *buf = malloc(n > 0 ? n * es : 1);
    if (!buf) return qk_fail(c->err, "%s: key '%s': out of memory", c->name, key);
    if (cur_read(c, buf, n * es, key)) {
        free(buf);
        return QK_FAIL;
    }
    if (t == QK_GGUF_BOOL) {
        for (uint64_t i = 0; i < n; i++)
            if (buf[i] > 1) {
                unsigned v = buf[i];
                free(buf);
                return qk_fail(c->err, "%s: key '%s': bool value %u, expected 0 or 1", c->name, key, v);
            }
    }
    *out = buf;
    return QK_OK;
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *kv_key(const qk_gguf_meta *m, uint64_t i) { return m->kv[i].key; }
static const char *tensor_name(const qk_gguf_meta *m, uint64_t i) { return m->tensors[i].name; }

/* Fails naming a name two of the n items share (item i is named name_of(m, i));
 * O(n log n). (Out of memory is an error too, never a skipped check.) */
static int check_unique(const cursor *c, const qk_gguf_meta *m, uint64_t n,
                        const char *(*name_of)(const qk_gguf_meta *, uint64_t), const char *what) {
    if (n < 2) return QK_OK;
    const char **s = malloc(n * sizeof *s);
    if (!s) return qk_fail(c->err, "%s: out of memory", c->name);
    for (uint64_t i = 0; i < n; i++) s[i] = name_of(m, i);
    qsort(s, n, sizeof *s, cmp_str_ptr);
    int rc = QK_OK;
    for (uint64_t i = 1; i < n && rc == QK_OK; i++)
        if (!strcmp(s[i - 1], s[i])) rc = qk_fail(c->err, "%s: %s '%s' appears more than once", c->name, what, s[i]);
    free(s);
    return rc;
}

static int parse(cursor *c, qk_gguf_meta *m) {
    memset(m, 0, sizeof *m);
    unsigned char magic[4];
    if (cur_read(c, magic, 4, "the magic")) return QK_FAIL;
    if (memcmp(magic, "GGUF", 4) != 0)
        return qk_fail(c->err, "%s: not a GGUF file (magic %02x %02x %02x %02x, expected \"GGUF\")", c->name,
                       magic[0], magic[1], magic[2], magic[3]);
    uint32_t version;
    if (rd_u32(c, &version, "the version")) return QK_FAIL;
    if ((version & 0xFFFFu) == 0 && version != 0)
        return qk_fail(c->err, "%s: big-endian GGUF (version field 0x%08x); only little-endian files are supported",
                       c->name, version);
    if (version == 1) return qk_fail(c->err, "%s: GGUF version 1 is obsolete; expected version 2 or 3", c->name);
    if (version < 2 || version > 3)
        return qk_fail(c->err, "%s: unsupported GGUF version %u, expected 2 or 3", c->name, version);
    m->version = version;
    uint64_t n_tensors, n_kv;
    if (rd_u64(c, &n_tensors, "the tensor count") || rd_u64(c, &n_kv, "the key-value count")) return QK_FAIL;
    /* a KV takes at least 8 (key len) + 1 (key) + 4 (type) + 1 (value) bytes,
     * a tensor info at least 8 + 1 + 4 + 4 + 8 */
    if (n_kv > remaining(c) / 14)
        return qk_fail(c->err, "%s: key-value count %llu cannot fit in the %llu remaining bytes", c->name,
                       (unsigned long long)n_kv, (unsigned long long)remaining(c));
    if (n_tensors > remaining(c) / 25)
        return qk_fail(c->err, "%s: tensor count %llu cannot fit in the %llu remaining bytes", c->name,
                       (unsigned long long)n_tensors, (unsigned long long)remaining(c));
    m->kv = calloc(n_kv ? n_kv : 1, sizeof *m->kv);
    m->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *m->tensors);
    if (!m->kv || !m->tensors) return qk_fail(c->err, "%s: out of memory", c->name);
    m->alignment = QK_GGUF_DEFAULT_ALIGNMENT;

    for (uint64_t i = 0; i < n_kv; i++) {
        qk_gguf_kv *kv = &m->kv[i];
        qk_gguf_str key;
        char what[64];
        snprintf(what, sizeof what, "the key of key-value %llu", (unsigned long long)i);
        if (rd_str(c, &key, 65535, what)) return QK_FAIL;
        kv->key = key.s;
        m->n_kv = i + 1; /* owned from here on */
        if (key.len == 0) return qk_fail(c->err, "%s: key-value %llu has an empty key", c->name, (unsigned long long)i);
        if (strlen(key.s) != key.len)
            return qk_fail(c->err, "%s: key-value %llu: key contains a NUL byte", c->name, (unsigned long long)i);
        uint32_t t;
        if (rd_u32(c, &t, "a value type")) return QK_FAIL;
        if (t >= QK_GGUF_TYPE_COUNT)
            return qk_fail(c->err, "%s: key '%s': invalid value type %u (expected 0..12)", c->name, kv->key, t);
        kv->type = t;
        if (t == QK_GGUF_ARRAY) {
            uint32_t at;
            uint64_t n;
            if (rd_u32(c, &at, "an array element type")) return QK_FAIL;
            if (at == QK_GGUF_ARRAY)
                return qk_fail(c->err, "%s: key '%s': nested arrays are not supported", c->name, kv->key);
            if (at >= QK_GGUF_TYPE_COUNT)
                return qk_fail(c->err, "%s: key '%s': invalid array element type %u", c->name, kv->key, at);
            if (rd_u64(c, &n, "an array length")) return QK_FAIL;
            kv->arr_type = at;
            kv->value_off = c->pos;
            if (rd_values(c, at, n, &kv->data, kv->key)) return QK_FAIL;
            kv->n = n;
        } else {
            kv->value_off = c->pos;
            if (rd_values(c, t, 1, &kv->data, kv->key)) return QK_FAIL;
            kv->n = 1;
        }
        if (!strcmp(kv->key, "general.alignment")) {
            if (t != QK_GGUF_U32)
                return qk_fail(c->err, "%s: general.alignment has type %s, expected u32", c->name, qk_gguf_type_name(t));
            uint32_t a;
            memcpy(&a, kv->data, 4); /* host is little-endian (checked at build) */
            if (a == 0 || (a & (a - 1)) || a > QK_GGUF_MAX_ALIGNMENT)
                return qk_fail(c->err, "%s: general.alignment is %u, expected a power of two from 1 to %u", c->name,
                               a, QK_GGUF_MAX_ALIGNMENT);
            m->alignment = a;
        }
    }
    if (check_unique(c, m, n_kv, kv_key, "key")) return QK_FAIL;

    const uint64_t A = m->alignment;
    uint64_t expect_off = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        qk_gguf_tensor *t = &m->tensors[i];
        qk_gguf_str name;
        char what[64];
        snprintf(what, sizeof what, "the name of tensor %llu", (unsigned long long)i);
        if (rd_str(c, &name, QK_GGUF_MAX_STRING, what)) return QK_FAIL;
        if (name.len == 0 || name.len > QK_GGUF_MAX_NAME || strlen(name.s) != name.len) {
            int r = qk_fail(c->err, "%s: tensor %llu: name of %llu bytes, expected 1..%d bytes without NUL", c->name,
                            (unsigned long long)i, (unsigned long long)name.len, QK_GGUF_MAX_NAME);
            free(name.s);
            return r;
        }
        memcpy(t->name, name.s, name.len + 1);
        free(name.s);
        m->n_tensors = i + 1;
        if (rd_u32(c, &t->n_dims, "n_dims")) return QK_FAIL;
        if (t->n_dims > QK_GGUF_MAX_DIMS)
            return qk_fail(c->err, "%s: tensor '%s': %u dimensions, at most %d are supported", c->name, t->name,
                           t->n_dims, QK_GGUF_MAX_DIMS);
        uint64_t nelem = 1;
        for (uint32_t d = 0; d < QK_GGUF_MAX_DIMS; d++) {
            uint64_t v = 1;
            if (d < t->n_dims && rd_u64(c, &v, "a dimension")) return QK_FAIL;
            if (v > (uint64_t)INT64_MAX)
                return qk_fail(c->err, "%s: tensor '%s': dimension %u is negative (%lld)", c->name, t->name, d,
                               (long long)(int64_t)v);
            t->ne[d] = (int64_t)v;
            if (v && nelem > (uint64_t)INT64_MAX / v)
                return qk_fail(c->err, "%s: tensor '%s': element count overflows 64 bits", c->name, t->name);
            nelem *= v;
        }
        if (rd_u32(c, &t->type, "a tensor type")) return QK_FAIL;
        const qk_type_info *ti = qk_type_get(t->type);
        if (!ti)
            return qk_fail(c->err, "%s: tensor '%s': unknown or removed ggml type %u", c->name, t->name, t->type);
        if (t->ne[0] % ti->blck_size)
            return qk_fail(c->err, "%s: tensor '%s': row length %lld is not a multiple of %s's block size %u", c->name,
                           t->name, (long long)t->ne[0], ti->name, ti->blck_size);
        uint64_t row;
        if (!qk_row_size(t->type, t->ne[0], &row))
            return qk_fail(c->err, "%s: tensor '%s': row of %lld %s values overflows 64 bits", c->name, t->name,
                           (long long)t->ne[0], ti->name);
        uint64_t rows = t->ne[0] ? nelem / (uint64_t)t->ne[0] : 0;
        if (rows && row > UINT64_MAX / rows)
            return qk_fail(c->err, "%s: tensor '%s': byte size overflows 64 bits", c->name, t->name);
        t->nbytes = row * rows;
        if (rd_u64(c, &t->offset, "a tensor offset")) return QK_FAIL;
        if (t->offset != expect_off)
            return qk_fail(c->err, "%s: tensor '%s': data offset %llu, expected %llu (tensors must be packed in order, "
                           "each padded to %llu bytes)", c->name, t->name, (unsigned long long)t->offset,
                           (unsigned long long)expect_off, (unsigned long long)A);
        if (t->nbytes > UINT64_MAX - expect_off - A)
            return qk_fail(c->err, "%s: tensor '%s': data size overflows", c->name, t->name);
        expect_off += (t->nbytes + A - 1) / A * A;
    }
    if (check_unique(c, m, n_tensors, tensor_name, "tensor")) return QK_FAIL;
    m->meta_end = c->pos;
    /* ggml aligns the data section only when there are tensors */
    m->data_offset = n_tensors ? (c->pos + A - 1) / A * A : c->pos;
    m->data_size = expect_off;
    if (n_tensors > 0) {
        /* The last tensor's padding may be missing (writers differ): what
         * must be there is every tensor's own bytes. */
        const qk_gguf_tensor *last = &m->tensors[n_tensors - 1];
        uint64_t need = last->offset + last->nbytes;
        if (m->data_offset > c->limit || need > c->limit - m->data_offset)
            return qk_fail(c->err, "%s: truncated: the tensor data needs the file to be %llu bytes, have %llu",
                           c->name, (unsigned long long)(m->data_offset + need), (unsigned long long)c->limit);
    }
    return QK_OK;
}

int qk_gguf_parse_buffer(const void *buf, size_t len, uint64_t file_size, const char *name, qk_gguf_meta *out,
                         qk_err *err) {
    cursor c = {.mem = buf, .mem_len = len, .fd = -1, .limit = file_size, .name = name, .err = err};
    if (parse(&c, out) != QK_OK) {
        qk_gguf_meta_free(out);
        return QK_FAIL;
    }
    return QK_OK;
}

int qk_gguf_open(const char *path, qk_gguf_file **out, qk_err *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qk_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return qk_fail(err, "%s: not a regular file", path);
    }
    qk_gguf_file *f = calloc(1, sizeof *f);
    /* the window never needs to be larger than the file (a small file costs no 1 MiB buffer) */
    const uint64_t win_cap = (uint64_t)st.st_size < WIN_SIZE ? ((uint64_t)st.st_size ? (uint64_t)st.st_size : 1) : WIN_SIZE;
    unsigned char *win = malloc((size_t)win_cap);
    size_t pl = strlen(path) + 1;
    char *p = malloc(pl);
    if (!f || !win || !p) {
        free(f), free(win), free(p), close(fd);
        return qk_fail(err, "%s: out of memory", path);
    }
    memcpy(p, path, pl);
    cursor c = {.fd = fd, .win = win, .win_cap = win_cap, .limit = (uint64_t)st.st_size, .name = path, .err = err};
    int rc = parse(&c, &f->meta);
    free(win);
    if (rc != QK_OK) {
        qk_gguf_meta_free(&f->meta);
        free(f), free(p), close(fd);
        return QK_FAIL;
    }
    f->fd = fd;
    f->path = p;
    f->file_size = (uint64_t)st.st_size;
    *out = f;
    return QK_OK;
}

void qk_gguf_close(qk_gguf_file *f) {
    if (!f) return;
    qk_gguf_meta_free(&f->meta);
    close(f->fd);
    free(f->path);
    free(f);
}

int qk_gguf_pread(const qk_gguf_file *f, uint64_t off, void *dst, size_t n, qk_err *err) {
    unsigned char *d = dst;
    while (n) {
        ssize_t r = pread(f->fd, d, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return qk_fail(err, "%s: read error at offset %llu: %s", f->path, (unsigned long long)off, strerror(errno));
        if (r == 0)
            return qk_fail(err, "%s: the file ended at offset %llu (it shrank while being read?)", f->path,
                           (unsigned long long)off);
        d += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return QK_OK;
}

void qk_gguf_advise(const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t off, uint64_t n, qk_advice advice) {
    if (off >= t->nbytes) return;
    if (n > t->nbytes - off) n = t->nbytes - off;
    qk_advise_range(f->fd, f->meta.data_offset + t->offset + off, n, advice);
}

int qk_gguf_read_tensor(const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t off, void *dst, size_t n,
                        qk_err *err) {
    if (off > t->nbytes || n > t->nbytes - off)
        return qk_fail(err, "%s: tensor '%s': read of %zu bytes at %llu is outside its %llu bytes", f->path, t->name,
                       n, (unsigned long long)off, (unsigned long long)t->nbytes);
    if (qk_gguf_pread(f, f->meta.data_offset + t->offset + off, dst, n, err)) return QK_FAIL;
    if (f->on_read) f->on_read(f->on_read_ctx, (uint64_t)(t - f->meta.tensors), off, dst, n);
    return QK_OK;
}

/* ---- lookups ---- */

const qk_gguf_kv *qk_gguf_find(const qk_gguf_meta *m, const char *key) {
    for (uint64_t i = 0; i < m->n_kv; i++)
        if (!strcmp(m->kv[i].key, key)) return &m->kv[i];
    return NULL;
}

int64_t qk_gguf_find_tensor(const qk_gguf_meta *m, const char *name) {
    for (uint64_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return (int64_t)i;
    return -1;
}

static bool value_int(uint32_t t, const void *p, int64_t *out) {
    switch (t) {
    case QK_GGUF_U8: *out = *(const uint8_t *)p; return true;
    case QK_GGUF_I8: *out = *(const int8_t *)p; return true;
    case QK_GGUF_BOOL: *out = *(const uint8_t *)p != 0; return true;
    case QK_GGUF_U16: { uint16_t v; memcpy(&v, p, 2); *out = v; return true; }
    case QK_GGUF_I16: { int16_t v; memcpy(&v, p, 2); *out = v; return true; }
    case QK_GGUF_U32: { uint32_t v; memcpy(&v, p, 4); *out = v; return true; }
    case QK_GGUF_I32: { int32_t v; memcpy(&v, p, 4); *out = v; return true; }
    case QK_GGUF_U64: { uint64_t v; memcpy(&v, p, 8); if (v > INT64_MAX) return false; *out = (int64_t)v; return true; }
    case QK_GGUF_I64: { int64_t v; memcpy(&v, p, 8); *out = v; return true; }
    default: return false;
    }
}

static bool value_float(uint32_t t, const void *p, double *out) {
    if (t == QK_GGUF_F32) { float v; memcpy(&v, p, 4); *out = v; return true; }
    if (t == QK_GGUF_F64) { double v; memcpy(&v, p, 8); *out = v; return true; }
    int64_t i;
    if (value_int(t, p, &i)) { *out = (double)i; return true; }
    return false;
}

bool qk_gguf_get_int(const qk_gguf_meta *m, const char *key, int64_t *out) {
    const qk_gguf_kv *kv = qk_gguf_find(m, key);
    return kv && kv->type != QK_GGUF_ARRAY && value_int(kv->type, kv->data, out);
}

bool qk_gguf_get_float(const qk_gguf_meta *m, const char *key, double *out) {
    const qk_gguf_kv *kv = qk_gguf_find(m, key);
    return kv && kv->type != QK_GGUF_ARRAY && value_float(kv->type, kv->data, out);
}

const char *qk_gguf_get_str(const qk_gguf_meta *m, const char *key) {
    const qk_gguf_kv *kv = qk_gguf_find(m, key);
    return kv && kv->type == QK_GGUF_STRING ? ((const qk_gguf_str *)kv->data)->s : NULL;
}

bool qk_gguf_arr_int(const qk_gguf_kv *kv, uint64_t i, int64_t *out) {
    if (kv->type != QK_GGUF_ARRAY || i >= kv->n) return false;
    size_t es = qk_gguf_type_size(kv->arr_type);
    return es && value_int(kv->arr_type, (const unsigned char *)kv->data + i * es, out);
}

bool qk_gguf_arr_float(const qk_gguf_kv *kv, uint64_t i, double *out) {
    if (kv->type != QK_GGUF_ARRAY || i >= kv->n) return false;
    size_t es = qk_gguf_type_size(kv->arr_type);
    return es && value_float(kv->arr_type, (const unsigned char *)kv->data + i * es, out);
}
