#include "imatrix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_types.h"

void qk_imatrix_free(qk_imatrix *im) {
    if (!im) return;
    for (size_t i = 0; i < im->n_entries; i++) {
        free(im->entries[i].name);
        free(im->entries[i].values);
    }
    free(im->entries);
    for (size_t i = 0; i < im->n_datasets; i++) free(im->datasets[i]);
    free(im->datasets);
    memset(im, 0, sizeof *im);
}

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* Binary search; *pos = insertion point when absent. */
static qk_imatrix_entry *find_pos(const qk_imatrix *im, const char *name, size_t *pos) {
    size_t lo = 0, hi = im->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(im->entries[mid].name, name);
        if (c == 0) { if (pos) *pos = mid; return &im->entries[mid]; }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (pos) *pos = lo;
    return NULL;
}

const qk_imatrix_entry *qk_imatrix_find(const qk_imatrix *im, const char *name) { return find_pos(im, name, NULL); }

/* std::map operator[] then assignment: inserts or replaces; takes ownership
 * of values (freed on failure). */
static int put(qk_imatrix *im, const char *name, float *values, size_t n, size_t *cap, qk_err *err) {
    size_t pos;
    qk_imatrix_entry *e = find_pos(im, name, &pos);
    if (e) {
        free(e->values);
        e->values = values;
        e->n = n;
        return QK_OK;
    }
    if (im->n_entries == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        qk_imatrix_entry *p = realloc(im->entries, nc * sizeof *p);
        if (!p) { free(values); return qk_fail(err, "out of memory for imatrix entries"); }
        im->entries = p;
        *cap = nc;
    }
    char *nm = dup_n(name, strlen(name));
    if (!nm) { free(values); return qk_fail(err, "out of memory for imatrix entries"); }
    memmove(&im->entries[pos + 1], &im->entries[pos], (im->n_entries - pos) * sizeof *im->entries);
    im->entries[pos].name = nm;
    im->entries[pos].values = values;
    im->entries[pos].n = n;
    im->n_entries++;
    return QK_OK;
}

static int32_t rd_i32(const unsigned char *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

int qk_imatrix_parse_dat(const void *buf, size_t len, const char *fname, qk_imatrix *out, qk_err *err) {
    const unsigned char *b = buf;
    size_t off = 0, cap = 0;
    const char *fn = fname ? fname : "imatrix";
    memset(out, 0, sizeof *out);
    if (!b && len) return qk_fail(err, "%s: no data", fn);
    if (len < 4) return qk_fail(err, "%s: file is %zu bytes, too short for the entry count", fn, len);
    int32_t n_entries = rd_i32(b);
    off = 4;
    if (n_entries < 1) return qk_fail(err, "%s: entry count %d, expected at least 1", fn, n_entries);
    for (int32_t i = 0; i < n_entries; i++) {
        if (len - off < 4) goto trunc;
        int32_t nl = rd_i32(b + off);
        off += 4;
        if (nl < 0) { qk_imatrix_free(out); return qk_fail(err, "%s: entry %d: name length %d is negative", fn, i + 1, nl); }
        if ((size_t)nl > len - off) {
            qk_imatrix_free(out);
            return qk_fail(err, "%s: entry %d: name length %d runs past the end of the file (%zu bytes left)", fn, i + 1, nl, len - off);
        }
        /* std::string(data()) stops at the first NUL. */
        size_t name_len = strnlen((const char *)b + off, (size_t)nl);
        char *name = dup_n((const char *)b + off, name_len);
        if (!name) { qk_imatrix_free(out); return qk_fail(err, "%s: out of memory", fn); }
        off += (size_t)nl;
        if (len - off < 8) { free(name); goto trunc; }
        int32_t ncall = rd_i32(b + off);
        int32_t nval = rd_i32(b + off + 4);
        off += 8;
        if (nval < 1) {
            qk_imatrix_free(out);
            int rc = qk_fail(err, "%s: entry %d ('%s'): value count %d, expected at least 1", fn, i + 1, name, nval);
            free(name);
            return rc;
        }
        if ((size_t)nval > (len - off) / 4) {
            qk_imatrix_free(out);
            int rc = qk_fail(err, "%s: entry %d ('%s'): %d values run past the end of the file (%zu bytes left)", fn, i + 1,
                             name, nval, len - off);
            free(name);
            return rc;
        }
        float *v = malloc((size_t)nval * sizeof *v);
        if (!v) { free(name); qk_imatrix_free(out); return qk_fail(err, "%s: out of memory", fn); }
        memcpy(v, b + off, (size_t)nval * 4);
        off += (size_t)nval * 4;
        /* llama-quantize: values / ncall when ncall > 0 (int64 -> float). */
        if (ncall > 0)
            for (int32_t k = 0; k < nval; k++) v[k] = v[k] / (float)ncall;
        int rc = put(out, name, v, (size_t)nval, &cap, err);
        free(name);
        if (rc != QK_OK) { qk_imatrix_free(out); return rc; }
    }
    /* Optional trailer; a short read keeps what was read, like istream::read
     * into a zero-initialized int. */
    if (off < len) {
        unsigned char tmp[4] = {0, 0, 0, 0};
        size_t k = len - off < 4 ? len - off : 4;
        memcpy(tmp, b + off, k);
        out->chunk_count = rd_i32(tmp);
        off += k;
        if (k == 4 && len - off >= 4) {
            int32_t dl = rd_i32(b + off);
            off += 4;
            if (dl > 0 && (size_t)dl <= len - off) {
                size_t sl = strnlen((const char *)b + off, (size_t)dl);
                out->datasets = malloc(sizeof *out->datasets);
                char *d = dup_n((const char *)b + off, sl);
                if (!out->datasets || !d) { free(d); qk_imatrix_free(out); return qk_fail(err, "%s: out of memory", fn); }
                out->datasets[0] = d;
                out->n_datasets = 1;
            }
        }
    }
    out->chunk_size = 0;
    out->is_legacy = true;
    return QK_OK;
trunc:
    qk_imatrix_free(out);
    return qk_fail(err, "%s: truncated at byte %zu (file is %zu bytes)", fn, off, len);
}

static bool strip_suffix(const char *name, const char *suf, size_t *base_len) {
    size_t l = strlen(name), s = strlen(suf);
    if (l < s || strcmp(name + l - s, suf) != 0) return false;
    *base_len = l - s;
    return true;
}

typedef struct { char *base; const qk_imatrix_gguf_tensor *sums, *counts; } pair_t;

static int cmp_pair(const void *a, const void *b) { return strcmp(((const pair_t *)a)->base, ((const pair_t *)b)->base); }

/* std::lround(float) as glibc on x86-64 gives it: half away from zero, and
 * LONG_MIN for NaN and values out of range. */
static int64_t lround_like(float x) {
    if (!(fabsf(x) < 9.2233720368547758e18f)) return INT64_MIN;
    return (int64_t)lroundf(x);
}

int qk_imatrix_from_gguf(const qk_imatrix_gguf_tensor *t, size_t n, const qk_imatrix_gguf_meta *meta, const char *fname,
                         qk_imatrix *im, qk_err *err) {
    const char *fn = fname ? fname : "imatrix";
    memset(im, 0, sizeof *im);
    if (n < 1) return qk_fail(err, "%s: no tensors, expected <name>.in_sum2 and <name>.counts pairs", fn);
    if (!meta->has_datasets || !meta->has_chunk_count || !meta->has_chunk_size)
        return qk_fail(err, "%s: missing imatrix metadata (imatrix.datasets, imatrix.chunk_count and imatrix.chunk_size are required)", fn);
    if (!meta->chunk_count_is_u32) return qk_fail(err, "%s: imatrix.chunk_count is not a u32", fn);
    if (!meta->chunk_size_is_u32) return qk_fail(err, "%s: imatrix.chunk_size is not a u32", fn);
    im->chunk_count = (int32_t)meta->chunk_count;
    im->chunk_size = (int32_t)meta->chunk_size;

    pair_t *pairs = calloc(n, sizeof *pairs);
    size_t np = 0, cap = 0;
    int rc = QK_FAIL;
    if (!pairs) return qk_fail(err, "%s: out of memory", fn);
    for (size_t i = 0; i < n; i++) {
        const char *nm = t[i].name;
        size_t bl;
        bool is_sum;
        if (!nm || !nm[0]) continue;
        if (strip_suffix(nm, ".in_sum2", &bl)) is_sum = true;
        else if (strip_suffix(nm, ".counts", &bl)) is_sum = false;
        else continue;
        size_t j;
        for (j = 0; j < np; j++)
            if (strlen(pairs[j].base) == bl && strncmp(pairs[j].base, nm, bl) == 0) break;
        if (j == np) {
            pairs[np].base = dup_n(nm, bl);
            if (!pairs[np].base) { qk_fail(err, "%s: out of memory", fn); goto done; }
            np++;
        }
        if (is_sum) pairs[j].sums = &t[i];
        else pairs[j].counts = &t[i];
    }
    qsort(pairs, np, sizeof *pairs, cmp_pair);
    for (size_t j = 0; j < np; j++) {
        const qk_imatrix_gguf_tensor *s = pairs[j].sums, *c = pairs[j].counts;
        if (!s || !c) { qk_fail(err, "%s: '%s' has %s but no %s", fn, pairs[j].base, s ? ".in_sum2" : ".counts", s ? ".counts" : ".in_sum2"); goto done; }
        if (s->type != QK_TYPE_F32 || c->type != QK_TYPE_F32) { qk_fail(err, "%s: '%s': sums and counts must be F32", fn, pairs[j].base); goto done; }
        if (s->n_elements < 1 || c->n_elements < 1 || !s->data || !c->data) {
            qk_fail(err, "%s: '%s': empty sums or counts", fn, pairs[j].base);
            goto done;
        }
        if ((uint64_t)s->n_elements > SIZE_MAX / sizeof(float)) { qk_fail(err, "%s: '%s': too many values", fn, pairs[j].base); goto done; }
        size_t nv = (size_t)s->n_elements, nc = (size_t)c->n_elements;
        float *v = calloc(nv, sizeof *v);
        if (!v) { qk_fail(err, "%s: out of memory for '%s'", fn, pairs[j].base); goto done; }
        size_t ne0 = nv / nc;
        const unsigned char *sd = s->data, *cd = c->data;
        for (size_t k = 0; k < nc; k++) {
            float cf;
            memcpy(&cf, cd + k * 4, 4);
            const float count = (float)lround_like(cf);
            for (size_t i = 0; i < ne0; i++) {
                if (count > 0.0f) {
                    float x;
                    memcpy(&x, sd + (k * ne0 + i) * 4, 4);
                    v[k * ne0 + i] = x / count;
                } else {
                    v[k * ne0 + i] = 1.0f;
                }
            }
        }
        if (put(im, pairs[j].base, v, nv, &cap, err) != QK_OK) goto done;
    }
    if (meta->datasets && meta->n_datasets) {
        im->datasets = calloc(meta->n_datasets, sizeof *im->datasets);
        if (!im->datasets) { qk_fail(err, "%s: out of memory", fn); goto done; }
        for (size_t i = 0; i < meta->n_datasets; i++) {
            const char *d = meta->datasets[i] ? meta->datasets[i] : "";
            im->datasets[i] = dup_n(d, strlen(d));
            if (!im->datasets[i]) { qk_fail(err, "%s: out of memory", fn); goto done; }
            im->n_datasets = i + 1;
        }
    }
    im->is_legacy = false;
    rc = QK_OK;
done:
    for (size_t j = 0; j < np; j++) free(pairs[j].base);
    free(pairs);
    if (rc != QK_OK) qk_imatrix_free(im);
    return rc;
}

int qk_imatrix_filter(qk_imatrix *im, const char *const *include, size_t n_include, const char *const *exclude,
                      size_t n_exclude, qk_err *err) {
    if (n_include && n_exclude) return qk_fail(err, "--include-weights and --exclude-weights cannot be used together");
    if (!n_include && !n_exclude) return QK_OK;
    size_t w = 0;
    for (size_t i = 0; i < im->n_entries; i++) {
        bool hit = false;
        const char *const *pats = n_include ? include : exclude;
        size_t np = n_include ? n_include : n_exclude;
        for (size_t k = 0; k < np && !hit; k++) hit = strstr(im->entries[i].name, pats[k]) != NULL;
        bool keep = n_include ? hit : !hit;
        if (keep) {
            im->entries[w++] = im->entries[i];
        } else {
            free(im->entries[i].name);
            free(im->entries[i].values);
        }
    }
    im->n_entries = w;
    return QK_OK;
}

int qk_imatrix_check_finite(const qk_imatrix *im, qk_err *err) {
    for (size_t i = 0; i < im->n_entries; i++)
        for (size_t k = 0; k < im->entries[i].n; k++)
            if (!isfinite(im->entries[i].values[k]))
                return qk_fail(err, "imatrix entry '%s': value %zu is %f, the imatrix must be finite", im->entries[i].name, k,
                               (double)im->entries[i].values[k]);
    return QK_OK;
}

int qk_imatrix_for_tensor(const qk_imatrix *im, const char *name, int64_t ne0, int64_t ne2, bool requires, const float **out,
                          qk_err *err) {
    *out = NULL;
    const qk_imatrix_entry *e = im ? qk_imatrix_find(im, name) : NULL;
    if (e) {
        if (ne0 > 0 && ne2 > 0 && (uint64_t)ne0 <= UINT64_MAX / (uint64_t)ne2 && e->n == (uint64_t)ne0 * (uint64_t)ne2) {
            *out = e->values;
        } else if (strcmp(name, "token_embd.weight") != 0 && strcmp(name, "per_layer_token_embd.weight") != 0) {
            return qk_fail(err, "tensor '%s': imatrix has %zu values, expected %lld (ne0*ne2)", name, e->n,
                           (long long)(ne0 * ne2));
        }
    }
    if (!*out && requires)
        return qk_fail(err, "tensor '%s': missing importance matrix data for a very low-bit quantization", name);
    return QK_OK;
}

void qk_imatrix_kv_get(const qk_imatrix *im, const char *path, qk_imatrix_kv *kv) {
    memset(kv, 0, sizeof *kv);
    if (!im || im->n_entries == 0) return;
    kv->present = true;
    if (path) {
        size_t l = strnlen(path, 127);
        memcpy(kv->file, path, l);
    }
    if (im->n_datasets) {
        kv->has_dataset = true;
        size_t l = strnlen(im->datasets[0], 127);
        memcpy(kv->dataset, im->datasets[0], l);
    }
    kv->entries_count = (uint32_t)im->n_entries;
    if (im->chunk_count > 0) {
        kv->has_chunks_count = true;
        kv->chunks_count = (uint32_t)im->chunk_count;
    }
}
