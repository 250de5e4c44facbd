/* hf_safetensors_min.c - see hf_safetensors_min.h. */
#include "hf_safetensors_min.h"

#include "hf_forward.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_DIMS 8

struct hf_st_min {
    unsigned char *file;
    size_t file_len;
    const unsigned char *data; /* start of the data section */
    size_t data_len;
    cJSON *header;
    int count;
    float *scratch;
};

static size_t dtype_size(const char *dt) {
    if (!strcmp(dt, "F32")) return 4;
    if (!strcmp(dt, "F16") || !strcmp(dt, "BF16")) return 2;
    if (!strcmp(dt, "U8")) return 1; /* widened to the byte's value (gpt-oss's MXFP4 blocks and scales) */
    return 0; /* other dtypes: present in the header but not readable here */
}

/* Checks one header entry; 0 if usable. Entries of unsupported dtypes are
 * checked for bounds too (with their byte size unknown, only offsets). */
static int check_entry(const hf_st_min *st, const cJSON *e, char *err, size_t errlen, const char *path) {
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2) {
        hf_set_err(err, errlen, "%s: tensor '%s': needs dtype, shape and data_offsets [begin, end]", path, e->string);
        return -1;
    }
    int nd = cJSON_GetArraySize(sh);
    if (nd > ST_MAX_DIMS) {
        hf_set_err(err, errlen, "%s: tensor '%s': %d dims, at most %d supported", path, e->string, nd, ST_MAX_DIMS);
        return -1;
    }
    double b = cJSON_GetArrayItem(off, 0)->valuedouble, en = cJSON_GetArrayItem(off, 1)->valuedouble;
    if (!cJSON_IsNumber(cJSON_GetArrayItem(off, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(off, 1)) || b < 0 ||
        en < b || en > (double)st->data_len || b != (double)(size_t)b || en != (double)(size_t)en) {
        hf_set_err(err, errlen, "%s: tensor '%s': data_offsets [%.0f, %.0f] outside the data section (%zu bytes)", path,
               e->string, b, en, st->data_len);
        return -1;
    }
    size_t es = dtype_size(dt->valuestring);
    if (!es) return 0;
    size_t n = 1;
    for (int i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetArrayItem(sh, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > (double)st->data_len ||
            d->valuedouble != (double)(size_t)d->valuedouble) {
            hf_set_err(err, errlen, "%s: tensor '%s': bad dimension %d", path, e->string, i);
            return -1;
        }
        size_t di = (size_t)d->valuedouble;
        if (di && n > st->data_len / di) {
            hf_set_err(err, errlen, "%s: tensor '%s': shape larger than the file", path, e->string);
            return -1;
        }
        n *= di;
    }
    if ((size_t)en - (size_t)b != n * es) {
        hf_set_err(err, errlen, "%s: tensor '%s': %zu bytes of data for %zu %s elements", path, e->string,
               (size_t)en - (size_t)b, n, dt->valuestring);
        return -1;
    }
    return 0;
}

hf_st_min *hf_st_min_open(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { hf_set_err(err, errlen, "%s: cannot open", path); return NULL; }
    hf_st_min *st = calloc(1, sizeof *st);
    if (!st) { fclose(f); hf_set_err(err, errlen, "out of memory"); return NULL; }
    if (fseek(f, 0, SEEK_END) != 0) goto io;
    long sz = ftell(f);
    if (sz < 8 || fseek(f, 0, SEEK_SET) != 0) goto io;
    st->file_len = (size_t)sz;
    st->file = malloc(st->file_len);
    if (!st->file) { fclose(f); hf_st_min_close(st); hf_set_err(err, errlen, "out of memory"); return NULL; }
    if (fread(st->file, 1, st->file_len, f) != st->file_len) goto io;
    fclose(f);
    f = NULL;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | st->file[i];
    if (hl > st->file_len - 8) {
        hf_set_err(err, errlen, "%s: header length %llu exceeds the file size %zu", path, (unsigned long long)hl, st->file_len);
        hf_st_min_close(st);
        return NULL;
    }
    st->header = cJSON_ParseWithLength((const char *)st->file + 8, (size_t)hl);
    if (!st->header || !cJSON_IsObject(st->header)) {
        hf_set_err(err, errlen, "%s: header is not a JSON object", path);
        hf_st_min_close(st);
        return NULL;
    }
    st->data = st->file + 8 + hl;
    st->data_len = st->file_len - 8 - (size_t)hl;
    const cJSON *e;
    cJSON_ArrayForEach(e, st->header) {
        if (!strcmp(e->string, "__metadata__")) continue;
        if (!cJSON_IsObject(e) || check_entry(st, e, err, errlen, path)) {
            if (!cJSON_IsObject(e)) hf_set_err(err, errlen, "%s: tensor '%s' is not an object", path, e->string);
            hf_st_min_close(st);
            return NULL;
        }
        st->count++;
    }
    return st;
io:
    if (f) fclose(f);
    hf_set_err(err, errlen, "%s: cannot read (not a safetensors file?)", path);
    hf_st_min_close(st);
    return NULL;
}

void hf_st_min_close(hf_st_min *st) {
    if (!st) return;
    cJSON_Delete(st->header);
    free(st->file);
    free(st->scratch);
    free(st);
}

int hf_st_min_count(const hf_st_min *st) { return st->count; }

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 0) {
        if (!man) bits = sign;
        else { /* subnormal: renormalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 1024));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 1023) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 112) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

const float *hf_st_min_get(void *ctx, const char *name, int64_t *shape, int *n_dims) {
    hf_st_min *st = ctx;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(st->header, name);
    if (!e || !strcmp(name, "__metadata__")) return NULL;
    const char *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype")->valuestring;
    size_t es = dtype_size(dt);
    if (!es) return NULL;
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    int nd = cJSON_GetArraySize(sh);
    size_t n = 1;
    for (int i = 0; i < nd; i++) {
        shape[i] = (int64_t)cJSON_GetArrayItem(sh, i)->valuedouble;
        n *= (size_t)shape[i];
    }
    *n_dims = nd;
    size_t begin = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
    float *out = realloc(st->scratch, (n ? n : 1) * sizeof(float));
    if (!out) return NULL;
    st->scratch = out;
    const unsigned char *p = st->data + begin;
    for (size_t i = 0; i < n; i++) {
        if (es == 4) {
            memcpy(&out[i], p + 4 * i, 4); /* little-endian host assumed */
        } else if (es == 1) {
            out[i] = p[i];
        } else {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            if (!strcmp(dt, "BF16")) {
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&out[i], &bits, 4);
            } else {
                out[i] = half_to_float(h);
            }
        }
    }
    return out;
}

hf_model *hf_st_min_load_model(const char *dir, char *err, size_t errlen) {
    char path[1200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    hf_st_min *st = hf_st_min_open(path, err, errlen);
    if (!st) return NULL;
    snprintf(path, sizeof path, "%s/config.json", dir);
    hf_model *m = hf_forward_load(path, hf_st_min_get, st, err, errlen);
    hf_st_min_close(st);
    return m;
}
