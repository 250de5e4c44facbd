#include "st_write.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf_checkpoint.h"
#include "qk_test.h"

int st_write_file(const char *path, const st_item *it, size_t n) {
    cJSON *h = cJSON_CreateObject();
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_AddObjectToObject(h, it[i].name);
        cJSON_AddStringToObject(o, "dtype", it[i].dtype);
        cJSON *sh = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < it[i].nd; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)it[i].shape[d]));
        cJSON *of = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + it[i].nbytes)));
        off += it[i].nbytes;
    }
    char *js = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hl = strlen(js), pad = (8 - hl % 8) % 8;
    FILE *f = fopen(path, "wb");
    if (!f) return free(js), -1;
    uint64_t L = hl + pad;
    uint8_t lb[8];
    for (int i = 0; i < 8; i++) lb[i] = (uint8_t)(L >> (8 * i));
    fwrite(lb, 1, 8, f), fwrite(js, 1, hl, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    for (size_t i = 0; i < n; i++) fwrite(it[i].data, 1, it[i].nbytes, f);
    free(js);
    return fclose(f);
}

int hf_copy_sidecars(const char *src, const char *dst, const char *quant_json) {
    mkdir(dst, 0755);
    DIR *d = opendir(src);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || (l > 12 && !strcmp(e->d_name + l - 12, ".safetensors"))) continue;
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", src, e->d_name), snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
        size_t n;
        unsigned char *buf = qk_test_read_file(a, &n);
        if (!buf) {
            rc = -1;
            break;
        }
        if (quant_json && !strcmp(e->d_name, "config.json")) {
            cJSON *c = cJSON_ParseWithLength((char *)buf, n);
            cJSON_AddItemToObject(c, "quantization_config", cJSON_Parse(quant_json));
            char *s = cJSON_Print(c);
            rc = qk_test_write_file(b, s, strlen(s));
            free(s), cJSON_Delete(c);
        } else
            rc = qk_test_write_file(b, buf, n);
        free(buf);
    }
    closedir(d);
    return rc;
}

int st_write_pair(const char *dir_a, st_item *a, size_t na, const char *dir_b, st_item *b, size_t nb) {
    char p[1200];
    snprintf(p, sizeof p, "%s/model.safetensors", dir_a);
    int rc = st_write_file(p, a, na);
    snprintf(p, sizeof p, "%s/model.safetensors", dir_b);
    rc |= st_write_file(p, b, nb);
    for (size_t i = 0; i < na; i++) free(a[i].data);
    for (size_t i = 0; i < nb; i++) free(b[i].data);
    free(a), free(b);
    return rc;
}

int st_items_of_checkpoint(const char *src, st_item **items, size_t *n) {
    qk_hf_checkpoint ck;
    qk_err err;
    if (qk_hf_open(src, &ck, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    st_item *b = calloc(ck.n_tensors ? ck.n_tensors : 1, sizeof *b);
    int rc = b ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < ck.n_tensors; i++) {
        const qk_st_tensor *t = ck.tensors[i].t;
        const size_t ne = (size_t)t->n_elements;
        b[i] = (st_item){.dtype = "F32", .nd = t->n_dims, .data = malloc(ne * 4), .nbytes = ne * 4};
        snprintf(b[i].name, sizeof b[i].name, "%s", t->name);
        for (int d = 0; d < t->n_dims && d < 2; d++) b[i].shape[d] = t->shape[d];
        if (t->dtype != QK_ST_F32 || t->n_dims > 2 || !b[i].data ||
            qk_st_read_raw(ck.files[ck.tensors[i].file], t, 0, ne * 4, b[i].data, &err))
            rc = -1, fprintf(stderr, "%s: cannot read %s as F32\n", src, t->name);
    }
    *items = b, *n = ck.n_tensors;
    qk_hf_close(&ck);
    return rc;
}

st_item st_item_dup(const st_item *x) {
    st_item y = *x;
    y.data = malloc(x->nbytes);
    if (y.data) memcpy(y.data, x->data, x->nbytes);
    return y;
}

int st_item_is_linear(const st_item *t) {
    return t->nd == 2 && strstr(t->name, "layers.") && strstr(t->name, "_proj.weight");
}

int st_pair_begin(const char *src, const char *dir_a, const char *dir_b, const char *quant_json, st_item **items,
                  size_t *n) {
    if (hf_copy_sidecars(src, dir_a, quant_json) || hf_copy_sidecars(src, dir_b, NULL)) return -1;
    return st_items_of_checkpoint(src, items, n);
}
