/* imatrix_ref.c - the importance matrix both quantizers of a comparison get
 * (contract in imatrix_ref.h). */
#include "imatrix_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_set.h"
#include "imatrix_file.h"
#include "qk_test.h"

int imatrix_ref_write(const char *model, const char *path, uint64_t seed, imatrix_ref *out) {
    memset(out, 0, sizeof *out);
    qk_gguf_set s;
    qk_err err;
    if (qk_gguf_set_open(model, &s, &err)) {
        fprintf(stderr, "imatrix_ref_write: %s\n", err.msg);
        return -1;
    }
    FILE *fp = fopen(path, "wb");
    int32_t n = 0;
    for (uint64_t i = 0; i < s.n_tensors; i++) n += qk_gguf_set_tensor(&s, i)->n_dims >= 2;
    out->data = calloc((size_t)n + 1, sizeof *out->data);
    if (!fp || !out->data) {
        if (fp) fclose(fp);
        qk_gguf_set_close(&s);
        fprintf(stderr, "imatrix_ref_write: cannot write %s\n", path);
        return -1;
    }
    bool ok = fwrite(&n, 4, 1, fp) == 1;
    int k = 0;
    qk_rng r = {seed};
    for (uint64_t i = 0; i < s.n_tensors; i++) {
        const qk_gguf_tensor *t = qk_gguf_set_tensor(&s, i);
        if (t->n_dims < 2) continue;
        int32_t len = (int32_t)strlen(t->name), ncall = 1, nval = (int32_t)(t->ne[0] * t->ne[2]);
        float *v = malloc((size_t)nval * 4);
        char *name = strdup(t->name);
        if (!v || !name) {
            free(v), free(name);
            ok = false;
            break;
        }
        for (int32_t j = 0; j < nval; j++) v[j] = 0.01f + qk_rng_uniform(&r) * 2.0f;
        ok = ok && fwrite(&len, 4, 1, fp) == 1 && fwrite(t->name, 1, (size_t)len, fp) == (size_t)len &&
             fwrite(&ncall, 4, 1, fp) == 1 && fwrite(&nval, 4, 1, fp) == 1 &&
             fwrite(v, 4, (size_t)nval, fp) == (size_t)nval;
        out->data[k++] = (struct ref_llama_model_imatrix_data){name, v, (size_t)nval};
    }
    ok = fclose(fp) == 0 && ok;
    qk_gguf_set_close(&s);
    if (!ok) {
        fprintf(stderr, "imatrix_ref_write: cannot write %s\n", path);
        return -1;
    }
    if (qk_imatrix_load(path, &out->im, &err)) {
        fprintf(stderr, "imatrix_ref_write: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void imatrix_ref_free(imatrix_ref *t) {
    for (size_t k = 0; t->data && t->data[k].name; k++) free((void *)t->data[k].name), free((void *)t->data[k].data);
    free(t->data);
    qk_imatrix_free(&t->im);
    memset(t, 0, sizeof *t);
}

int imatrix_ref_kv_overrides(const imatrix_ref *t, const char *path, struct ref_llama_model_kv_override *kvo, int k) {
    qk_imatrix_kv ikv;
    qk_imatrix_kv_get(&t->im, path, &ikv);
    kvo[k].tag = REF_KV_OVERRIDE_STR;
    snprintf(kvo[k].key, 128, "quantize.imatrix.file");
    snprintf(kvo[k++].val_str, 128, "%s", ikv.file);
    if (ikv.has_dataset) {
        kvo[k].tag = REF_KV_OVERRIDE_STR;
        snprintf(kvo[k].key, 128, "quantize.imatrix.dataset");
        snprintf(kvo[k++].val_str, 128, "%s", ikv.dataset);
    }
    kvo[k].tag = REF_KV_OVERRIDE_INT;
    snprintf(kvo[k].key, 128, "quantize.imatrix.entries_count");
    kvo[k++].val_i64 = ikv.entries_count;
    if (ikv.has_chunks_count) {
        kvo[k].tag = REF_KV_OVERRIDE_INT;
        snprintf(kvo[k].key, 128, "quantize.imatrix.chunks_count");
        kvo[k++].val_i64 = ikv.chunks_count;
    }
    return k;
}
