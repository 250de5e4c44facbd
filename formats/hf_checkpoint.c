#include "hf_checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "torch_file.h"

#include "json_file.h"
#include "meta_params.h"

#define MAX_JSON_FILE ((size_t)64 << 20)

/* The whole-file read is json_file.c's (bounded, regular files only); absent
 * means no such path (ENOENT), as before. */
int qk_hf_read_json(const char *dir, const char *name, cJSON **out, qk_err *err) {
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return QK_OK;
    if (qk_json_parse_file(path, MAX_JSON_FILE, out, err)) return QK_FAIL;
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return qk_fail(err, "%s: expected a JSON object ({...}) at the top level", path);
    }
    return QK_OK;
}

bool qk_hf_cfg_int(const cJSON *cfg, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble || fabs(v->valuedouble) > 9e15) return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

int64_t qk_hf_cfg_int_or(const cJSON *cfg, const char *key, int64_t def) {
    int64_t v;
    return qk_hf_cfg_int(cfg, key, &v) ? v : def;
}

bool qk_hf_cfg_num(const cJSON *cfg, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (!cJSON_IsNumber(v)) return false;
    *out = v->valuedouble;
    return true;
}

const char *qk_hf_cfg_str(const cJSON *cfg, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void qk_hf_close(qk_hf_checkpoint *ck) {
    for (size_t i = 0; ck->files && i < ck->n_files; i++) qk_st_close(ck->files[i]);
    free(ck->files);
    free(ck->tensors);
    cJSON_Delete(ck->config);
    free(ck->dir);
    memset(ck, 0, sizeof *ck);
}

static bool exists_in(const char *dir, const char *name) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* The folder's one *.pth file (name left empty when there is none). */
static int find_one_pth(const char *dir, char *out, size_t cap, qk_err *err) {
    out[0] = 0;
    DIR *d = opendir(dir);
    if (!d) return QK_OK;
    struct dirent *e;
    int rc = QK_OK;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || l >= cap || strcmp(e->d_name + l - 4, ".pth")) continue;
        if (out[0]) {
            rc = qk_fail(err, "%s: no safetensors or pytorch_model.bin, and several .pth files (%s, %s); expected one",
                         dir, out, e->d_name);
            break;
        }
        memcpy(out, e->d_name, l + 1);
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_tensor(const void *a, const void *b) {
    const qk_hf_tensor *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return strcmp(x->t->name, y->t->name);
}

static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp((*(const qk_hf_tensor *const *)a)->t->name, (*(const qk_hf_tensor *const *)b)->t->name);
}

int qk_hf_open(const char *dir, qk_hf_checkpoint *ck, qk_err *err) {
    memset(ck, 0, sizeof *ck);
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) return qk_fail(err, "%s: not a folder", dir);
    size_t dl = strlen(dir) + 1;
    ck->dir = malloc(dl);
    if (!ck->dir) return qk_fail(err, "%s: out of memory", dir);
    memcpy(ck->dir, dir, dl);
    cJSON *params = NULL; /* Meta's original layout (meta_params.h) */
    if (qk_hf_read_json(dir, "config.json", &ck->config, err)) goto fail;
    if (!ck->config && qk_hf_read_json(dir, "params.json", &params, err)) goto fail;
    if (!ck->config && !params) {
        qk_fail(err, "%s: no config.json (is this a Hugging Face model folder?)", dir);
        goto fail;
    }
    ck->meta_layout = params != NULL;
    /* which weights: safetensors when present (safe and mmap-able), else PyTorch's
     * pytorch_model.bin (sharded by its index), else a single *.pth */
    const char *idx_name = NULL, *single = NULL;
    char *one[1];
    char pth[256] = "";
    if (params && exists_in(dir, "consolidated.01.pth")) {
        qk_fail(err, "%s: consolidated.00.pth, consolidated.01.pth, ... are model-parallel shards of one checkpoint "
                     "(each holds a slice of every matrix); quantkit converts a single consolidated file: convert "
                     "the Hugging Face release of this model", dir);
        goto fail_params;
    }
    if (params && exists_in(dir, "consolidated.safetensors")) single = "consolidated.safetensors";
    else if (params) {
        if (find_one_pth(dir, pth, sizeof pth, err)) goto fail_params;
        single = pth[0] ? pth : "consolidated.00.pth";
    } else if (exists_in(dir, "model.safetensors.index.json")) idx_name = "model.safetensors.index.json";
    else if (exists_in(dir, "model.safetensors")) single = "model.safetensors";
    else if (exists_in(dir, "pytorch_model.bin.index.json")) idx_name = "pytorch_model.bin.index.json";
    else if (exists_in(dir, "pytorch_model.bin")) single = "pytorch_model.bin";
    else if (find_one_pth(dir, pth, sizeof pth, err)) goto fail_params;
    else if (pth[0]) single = pth;
    else single = "model.safetensors"; /* missing: the message below */
    ck->torch = !idx_name ? !strcmp(single, "pytorch_model.bin") || pth[0] || !strcmp(single, "consolidated.00.pth")
                          : !strcmp(idx_name, "pytorch_model.bin.index.json");
    snprintf(ck->weights, sizeof ck->weights, "%s%s", idx_name ? idx_name : single,
             ck->torch ? " (PyTorch pickle read without executing it)"
                       : (exists_in(dir, "pytorch_model.bin") || exists_in(dir, "pytorch_model.bin.index.json"))
                             ? " (preferred over pytorch_model.bin, also present)" : "");
    cJSON *index = NULL;
    if (idx_name && qk_hf_read_json(dir, idx_name, &index, err)) goto fail_params;
    char **names = NULL;
    size_t n_names = 0;
    const cJSON *wmap = NULL;
    if (index) {
        wmap = cJSON_GetObjectItemCaseSensitive(index, "weight_map");
        if (!cJSON_IsObject(wmap)) {
            cJSON_Delete(index);
            qk_fail(err, "%s/%s: no weight_map object", dir, idx_name);
            goto fail_params;
        }
        size_t cap = 0;
        for (const cJSON *e = wmap->child; e; e = e->next) cap++;
        names = calloc(cap ? cap : 1, sizeof *names);
        for (const cJSON *e = wmap->child; e && names; e = e->next) {
            if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !strcmp(e->valuestring, "..")) {
                qk_fail(err, "%s/%s: tensor '%s' maps to an invalid file name", dir, idx_name, e->string);
                free(names), cJSON_Delete(index);
                goto fail_params;
            }
            bool seen = false;
            for (size_t i = 0; i < n_names && !seen; i++) seen = !strcmp(names[i], e->valuestring);
            if (!seen) names[n_names++] = e->valuestring;
        }
        qsort(names, n_names, sizeof *names, cmp_str);
    } else {
        one[0] = (char *)single;
        names = one;
        n_names = 1;
    }
    ck->files = calloc(n_names ? n_names : 1, sizeof *ck->files);
    for (size_t i = 0; ck->files && i < n_names; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (stat(p, &st)) {
            qk_fail(err, "%s: missing %s%s", dir, names[i],
                    index ? " (listed in the index)" : " (and no model.safetensors.index.json)");
            goto fail_index;
        }
        if ((ck->torch ? qk_torch_open(p, &ck->files[i], err) : qk_st_open(p, &ck->files[i], err))) goto fail_index;
        ck->n_files++;
        ck->total_bytes += ck->files[i]->file_size;
        ck->n_tensors += ck->files[i]->n_tensors;
    }
    ck->tensors = calloc(ck->n_tensors ? ck->n_tensors : 1, sizeof *ck->tensors);
    if (!ck->tensors || !ck->files) {
        qk_fail(err, "%s: out of memory", dir);
        goto fail_index;
    }
    size_t k = 0;
    for (size_t i = 0; i < ck->n_files; i++)
        for (size_t j = 0; j < ck->files[i]->n_tensors; j++) ck->tensors[k++] = (qk_hf_tensor){(uint32_t)i, &ck->files[i]->tensors[j]};
    qsort(ck->tensors, ck->n_tensors, sizeof *ck->tensors, cmp_tensor);
    /* every tensor in exactly one shard, and where the index says */
    {
        const qk_hf_tensor **by = malloc((ck->n_tensors ? ck->n_tensors : 1) * sizeof *by);
        if (!by) { qk_fail(err, "%s: out of memory", dir); goto fail_index; }
        for (size_t i = 0; i < ck->n_tensors; i++) by[i] = &ck->tensors[i];
        qsort(by, ck->n_tensors, sizeof *by, cmp_tensor_name);
        for (size_t i = 1; i < ck->n_tensors; i++)
            if (!strcmp(by[i - 1]->t->name, by[i]->t->name)) {
                qk_fail(err, "%s: tensor '%s' is in two shards (%s and %s)", dir, by[i]->t->name,
                        ck->files[by[i - 1]->file]->path, ck->files[by[i]->file]->path);
                free(by);
                goto fail_index;
            }
        free(by);
    }
    if (index) {
        size_t n_map = 0;
        for (const cJSON *e = wmap->child; e; e = e->next, n_map++) {
            const qk_hf_tensor *t = qk_hf_find(ck, e->string);
            if (!t) {
                qk_fail(err, "%s: tensor '%s' is listed in the index (in %s) but not in any shard", dir, e->string,
                        e->valuestring);
                goto fail_index;
            }
            const char *fn = strrchr(ck->files[t->file]->path, '/') + 1;
            if (strcmp(fn, e->valuestring)) {
                qk_fail(err, "%s: tensor '%s' is in %s but the index says %s", dir, e->string, fn, e->valuestring);
                goto fail_index;
            }
        }
        if (n_map != ck->n_tensors) {
            for (size_t i = 0; i < ck->n_tensors; i++)
                if (!cJSON_GetObjectItemCaseSensitive(wmap, ck->tensors[i].t->name)) {
                    qk_fail(err, "%s: tensor '%s' in %s is not listed in %s", dir,
                            ck->tensors[i].t->name, ck->files[ck->tensors[i].file]->path, idx_name);
                    goto fail_index;
                }
        }
        free(names);
        cJSON_Delete(index);
    }
    if (params) {
        char why[256];
        if (qk_meta_params_config(params, ck, &ck->config, why, sizeof why, err)) goto fail_params;
        size_t l = strlen(ck->weights);
        snprintf(ck->weights + l, sizeof ck->weights - l, " with params.json (Meta's original layout%s%s)",
                 why[0] ? "; " : "", why);
        cJSON_Delete(params);
    }
    return QK_OK;
fail_index:
    if (index) free(names), cJSON_Delete(index);
fail_params:
    cJSON_Delete(params);
fail:
    qk_hf_close(ck);
    return QK_FAIL;
}

const qk_hf_tensor *qk_hf_find(const qk_hf_checkpoint *ck, const char *name) {
    /* tensors are sorted by (file, name): binary search for each file's run */
    for (size_t f = 0; f < ck->n_files; f++) {
        if (!qk_st_find(ck->files[f], name)) continue;
        size_t lo = 0, hi = ck->n_tensors;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const qk_hf_tensor *t = &ck->tensors[mid];
            int c = t->file != f ? (t->file < f ? -1 : 1) : strcmp(t->t->name, name);
            if (!c) return t;
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
    }
    return NULL;
}

bool qk_hf_blob_sha256(const char *path, char hex[65]) {
    char t[4096];
    ssize_t n = readlink(path, t, sizeof t - 1);
    if (n <= 0) return false;
    t[n] = 0;
    const char *b = strrchr(t, '/');
    b = b ? b + 1 : t;
    if (strlen(b) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'f'))) return false;
    memcpy(hex, b, 65);
    return true;
}
