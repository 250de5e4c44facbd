#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_file.h"
#include "torch_file.h"

static const struct {
    const char *name;
    size_t size;
    bool is_float;
} k_dtypes[QK_ST_DTYPE_COUNT] = {
    [QK_ST_F64] = {"F64", 8, true},    [QK_ST_F32] = {"F32", 4, true},  [QK_ST_F16] = {"F16", 2, true},
    [QK_ST_BF16] = {"BF16", 2, true},  [QK_ST_I64] = {"I64", 8, false}, [QK_ST_I32] = {"I32", 4, false},
    [QK_ST_I16] = {"I16", 2, false},   [QK_ST_I8] = {"I8", 1, false},   [QK_ST_U8] = {"U8", 1, false},
    [QK_ST_BOOL] = {"BOOL", 1, false}, [QK_ST_F8_E4M3] = {"F8_E4M3", 1, true},
    [QK_ST_F8_E5M2] = {"F8_E5M2", 1, true},
};

const char *qk_st_dtype_name(qk_st_dtype d) { return d < QK_ST_DTYPE_COUNT ? k_dtypes[d].name : "?"; }
size_t qk_st_dtype_size(qk_st_dtype d) { return d < QK_ST_DTYPE_COUNT ? k_dtypes[d].size : 0; }
bool qk_st_dtype_is_float(qk_st_dtype d) { return d < QK_ST_DTYPE_COUNT && k_dtypes[d].is_float; }

static void free_lists(qk_st_file *f) {
    for (size_t i = 0; f->tensors && i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) free(f->meta_keys[i]), free(f->meta_values[i]);
    free(f->meta_keys), free(f->meta_values);
    f->tensors = NULL, f->n_tensors = 0, f->meta_keys = f->meta_values = NULL, f->n_meta = 0;
}

void qk_st_close(qk_st_file *f) {
    if (!f) return;
    free_lists(f);
    qk_torch_free(f->torch);
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(f);
}

/* A JSON number that is a non-negative integer exactly representable. */
static bool json_u64(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || floor(d) != d) return false;
    *out = (uint64_t)d;
    return true;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const qk_st_tensor *)a)->name, ((const qk_st_tensor *)b)->name);
}

static int cmp_begin(const void *a, const void *b) {
    const qk_st_tensor *x = *(const qk_st_tensor *const *)a, *y = *(const qk_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

int qk_st_parse_header(const char *json, size_t len, uint64_t data_size, qk_st_file *f, qk_err *err) {
    const char *path = f->path ? f->path : "(buffer)";
    size_t bad;
    if (!qk_utf8_valid(json, len, &bad))
        return qk_fail(err, "%s: the header is not UTF-8 (invalid byte at header offset %zu); safetensors headers are "
                            "UTF-8 JSON", path, bad);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return qk_fail(err, "%s: the header is not valid JSON (near byte %zu)", path,
                              cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - json) : 0);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return qk_fail(err, "%s: the header is not a JSON object", path);
    }
    size_t n = 0;
    for (cJSON *e = root->child; e; e = e->next) n++;
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    if (!f->tensors) {
        cJSON_Delete(root);
        return qk_fail(err, "%s: out of memory", path);
    }
    int rc = QK_OK;
    for (cJSON *e = root->child; e && rc == QK_OK; e = e->next) {
        if (!e->string) { rc = qk_fail(err, "%s: header entry without a name", path); break; }
        if (!strcmp(e->string, "__metadata__")) {
            if (!cJSON_IsObject(e)) { rc = qk_fail(err, "%s: __metadata__ is not an object", path); break; }
            if (f->meta_keys) { rc = qk_fail(err, "%s: __metadata__ appears twice in the header", path); break; }
            size_t m = 0;
            for (cJSON *k = e->child; k; k = k->next) m++;
            f->meta_keys = calloc(m ? m : 1, sizeof(char *));
            f->meta_values = calloc(m ? m : 1, sizeof(char *));
            if (!f->meta_keys || !f->meta_values) { rc = qk_fail(err, "%s: out of memory", path); break; }
            for (cJSON *k = e->child; k; k = k->next) {
                if (!cJSON_IsString(k)) {
                    rc = qk_fail(err, "%s: __metadata__ value of '%s' is not a string", path, k->string);
                    break;
                }
                f->meta_keys[f->n_meta] = strdup(k->string);
                f->meta_values[f->n_meta++] = strdup(k->valuestring);
            }
            continue;
        }
        qk_st_tensor *t = &f->tensors[f->n_tensors];
        t->name = strdup(e->string);
        if (!t->name) { rc = qk_fail(err, "%s: out of memory", path); break; }
        f->n_tensors++;
        if (!cJSON_IsObject(e)) { rc = qk_fail(err, "%s: tensor '%s': entry is not an object", path, t->name); break; }
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt)) { rc = qk_fail(err, "%s: tensor '%s': dtype missing or not a string", path, t->name); break; }
        int d = -1;
        for (int k = 0; k < QK_ST_DTYPE_COUNT; k++)
            if (!strcmp(dt->valuestring, k_dtypes[k].name)) d = k;
        if (d < 0) { rc = qk_fail(err, "%s: tensor '%s': unsupported dtype '%s'", path, t->name, dt->valuestring); break; }
        t->dtype = (qk_st_dtype)d;
        if (!cJSON_IsArray(sh)) { rc = qk_fail(err, "%s: tensor '%s': shape missing or not an array", path, t->name); break; }
        int nd = cJSON_GetArraySize(sh);
        if (nd > QK_ST_MAX_DIMS) { rc = qk_fail(err, "%s: tensor '%s': %d dimensions, at most %d supported", path, t->name, nd, QK_ST_MAX_DIMS); break; }
        t->n_dims = nd;
        uint64_t nel = 1;
        int k = 0;
        for (const cJSON *v = sh->child; v; v = v->next, k++) {
            uint64_t x;
            if (!json_u64(v, &x) || x > (uint64_t)INT64_MAX) {
                rc = qk_fail(err, "%s: tensor '%s': shape[%d] is not a non-negative integer", path, t->name, k);
                break;
            }
            t->shape[k] = (int64_t)x;
            if (x && nel > UINT64_MAX / x) { rc = qk_fail(err, "%s: tensor '%s': element count overflows", path, t->name); break; }
            nel *= x;
        }
        if (rc) break;
        t->n_elements = nel;
        if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_u64(of->child, &t->begin) ||
            !json_u64(of->child->next, &t->end)) {
            rc = qk_fail(err, "%s: tensor '%s': data_offsets must be [begin, end] non-negative integers", path, t->name);
            break;
        }
        if (t->begin > t->end) {
            rc = qk_fail(err, "%s: tensor '%s': data_offsets begin %llu > end %llu", path, t->name,
                         (unsigned long long)t->begin, (unsigned long long)t->end);
            break;
        }
        if (t->end > data_size) {
            rc = qk_fail(err, "%s: tensor '%s': data ends at %llu, past the %llu bytes of data (truncated file?)", path,
                         t->name, (unsigned long long)t->end, (unsigned long long)data_size);
            break;
        }
        size_t es = k_dtypes[d].size;
        if (nel > UINT64_MAX / es || nel * es != t->end - t->begin) {
            rc = qk_fail(err, "%s: tensor '%s': %llu bytes for %llu elements of %s, expected %llu", path, t->name,
                         (unsigned long long)(t->end - t->begin), (unsigned long long)nel, k_dtypes[d].name,
                         nel > UINT64_MAX / es ? 0ull : (unsigned long long)(nel * es));
            break;
        }
    }
    cJSON_Delete(root);
    if (rc == QK_OK && f->n_tensors > 1) {
        qsort(f->tensors, f->n_tensors, sizeof *f->tensors, cmp_name);
        for (size_t i = 1; i < f->n_tensors; i++)
            if (!strcmp(f->tensors[i - 1].name, f->tensors[i].name))
                rc = qk_fail(err, "%s: tensor '%s' appears twice", path, f->tensors[i].name);
        const qk_st_tensor **by = malloc(f->n_tensors * sizeof *by);
        if (!by && rc == QK_OK) rc = qk_fail(err, "%s: out of memory", path);
        if (rc == QK_OK) {
            for (size_t i = 0; i < f->n_tensors; i++) by[i] = &f->tensors[i];
            qsort(by, f->n_tensors, sizeof *by, cmp_begin);
            for (size_t i = 1; i < f->n_tensors && rc == QK_OK; i++)
                if (by[i]->begin < by[i - 1]->end && by[i]->begin != by[i]->end && by[i - 1]->begin != by[i - 1]->end)
                    rc = qk_fail(err, "%s: tensors '%s' and '%s' overlap", path, by[i - 1]->name, by[i]->name);
        }
        free(by);
    }
    if (rc) free_lists(f);
    return rc;
}

int qk_st_open(const char *path, qk_st_file **out, qk_err *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qk_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return qk_fail(err, "%s: not a regular file", path);
    }
    qk_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f), close(fd);
        return qk_fail(err, "%s: out of memory", path);
    }
    f->fd = fd;
    f->file_size = (uint64_t)st.st_size;
    unsigned char lenb[8];
    uint64_t hl = 0;
    if (f->file_size < 8 || pread(fd, lenb, 8, 0) != 8) {
        qk_st_close(f);
        return qk_fail(err, "%s: too short to be a safetensors file (%llu bytes)", path, (unsigned long long)st.st_size);
    }
    for (int i = 7; i >= 0; i--) hl = hl << 8 | lenb[i];
    if (hl > QK_ST_MAX_HEADER || hl > f->file_size - 8) {
        qk_st_close(f);
        return qk_fail(err, "%s: header length %llu is larger than %s (file size %llu)", path, (unsigned long long)hl,
                       hl > QK_ST_MAX_HEADER ? "the 100 MB limit" : "the file", (unsigned long long)st.st_size);
    }
    char *json = malloc(hl ? hl : 1);
    if (!json) {
        qk_st_close(f);
        return qk_fail(err, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < hl) {
        ssize_t r = pread(fd, json + got, hl - got, (off_t)(8 + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    int rc = got == hl ? qk_st_parse_header(json, hl, f->file_size - 8 - hl, f, err)
                       : qk_fail(err, "%s: read error in the header", path);
    free(json);
    if (rc) {
        qk_st_close(f);
        return QK_FAIL;
    }
    f->data_start = 8 + hl;
    *out = f;
    return QK_OK;
}

static int cmp_name_tensor(const void *name, const void *t) { return strcmp(name, ((const qk_st_tensor *)t)->name); }

const qk_st_tensor *qk_st_find(const qk_st_file *f, const char *name) {
    return f->n_tensors ? bsearch(name, f->tensors, f->n_tensors, sizeof *f->tensors, cmp_name_tensor) : NULL;
}

void qk_st_advise(const qk_st_file *f, const qk_st_tensor *t, uint64_t off, uint64_t n, qk_advice advice) {
    const uint64_t size = t->end - t->begin;
    if (f->torch || off >= size) return;
    if (n > size - off) n = size - off;
    qk_advise_range(f->fd, f->data_start + t->begin + off, n, advice);
}

int qk_st_read_raw(const qk_st_file *f, const qk_st_tensor *t, uint64_t off, size_t n, void *dst, qk_err *err) {
    uint64_t size = t->end - t->begin;
    if (off > size || n > size - off)
        return qk_fail(err, "%s: tensor '%s': read of %zu bytes at %llu is outside its %llu bytes", f->path, t->name, n,
                       (unsigned long long)off, (unsigned long long)size);
    if (f->torch) return qk_torch_read_raw(f, t, off, n, dst, err);
    unsigned char *d = dst;
    uint64_t pos = f->data_start + t->begin + off;
    while (n) {
        ssize_t r = pread(f->fd, d, n, (off_t)pos);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return qk_fail(err, "%s: read error in tensor '%s': %s", f->path, t->name, strerror(errno));
        if (r == 0) return qk_fail(err, "%s: tensor '%s': the file ended early (it shrank while being read?)", f->path, t->name);
        d += r, n -= (size_t)r, pos += (uint64_t)r;
    }
    return QK_OK;
}

