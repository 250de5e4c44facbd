/* hf_forward_family.c - see hf_forward_family.h. */
#include "hf_forward_family.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const hf_family *hf_family_for(const char *mt) {
    static const hf_family *const all[] = {&hf_family_gemma4, &hf_family_lfm2, &hf_family_qwen35,
                                           &hf_family_granitehybrid, &hf_family_nemotronh, &hf_family_falconh1,
                                           &hf_family_mamba, &hf_family_hunyuan,
                                           &hf_family_jamba};
    for (size_t f = 0; f < sizeof all / sizeof all[0]; f++)
        for (int i = 0; i < 4 && all[f]->model_types[i]; i++)
            if (!strcmp(mt, all[f]->model_types[i])) return all[f];
    return NULL;
}

float *hf_family_take(hf_tensor_get get, void *ctx, int64_t d0, int64_t d1, int64_t d2, char *err, size_t errlen,
                      const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int64_t shape[8] = {0};
    int nd = 0;
    const float *p = get(ctx, name, shape, &nd);
    if (!p) {
        hf_set_err(err, errlen, "tensor %s is missing", name);
        return NULL;
    }
    const int64_t d[3] = {d0, d1, d2};
    const int want = d2 ? 3 : d1 ? 2 : 1;
    int ok = nd == want;
    size_t n = 1;
    for (int i = 0; ok && i < want; i++) ok = shape[i] == d[i], n *= (size_t)d[i];
    if (!ok) {
        hf_set_err(err, errlen, "tensor %s: wrong shape", name);
        return NULL;
    }
    float *o = malloc(n * sizeof *o);
    if (o) memcpy(o, p, n * sizeof *o);
    else hf_set_err(err, errlen, "out of memory");
    return o;
}

double hf_cfg_num(const cJSON *c, const char *k, double def) {
    const cJSON *v = c ? cJSON_GetObjectItemCaseSensitive(c, k) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int hf_cfg_int(const cJSON *c, const char *k, int def) {
    const cJSON *v = c ? cJSON_GetObjectItemCaseSensitive(c, k) : NULL;
    return cJSON_IsNumber(v) ? (int)v->valuedouble : def;
}

void hf_matvec_f32(const float *w, const float *x, float *y, int out, int in) {
    for (int o = 0; o < out; o++) {
        double s = 0;
        const float *r = w + (size_t)o * in;
        for (int i = 0; i < in; i++) s += (double)r[i] * x[i];
        y[o] = (float)s;
    }
}

void hf_family_topk(const double *lg, int E, int k, int *idx, double *margin) {
    int chosen[256] = {0};
    for (int t = 0; t < k; t++) { /* the largest not yet chosen (the lower index on a tie) */
        int best = -1;
        for (int e = 0; e < E; e++)
            if (!chosen[e] && (best < 0 || lg[e] > lg[best])) best = e;
        chosen[best] = 1, idx[t] = best;
    }
    for (int e = 0; e < E; e++)
        if (!chosen[e] && lg[idx[k - 1]] - lg[e] < *margin) *margin = lg[idx[k - 1]] - lg[e];
}

int hf_family_take_expert_rows(hf_tensor_get get, void *ctx, int E, const hf_take_row *rows, size_t n,
                               const char *pfx, char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++)
        if (!(*rows[i].dst = hf_family_take_experts(get, ctx, E, (int)rows[i].d0, (int)rows[i].d1, pfx, rows[i].name,
                                                    err, errlen)))
            return -1;
    return 0;
}

void hf_rmsnorm_f(float *out, const float *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float r = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

void *hf_family_loaded(void *m, int ok, void (*free_fn)(void *)) {
    if (ok) return m;
    free_fn(m);
    return NULL;
}

void hf_family_free_layers(void *layers, int n_layer, size_t layer_size, void (*free_layer)(void *l)) {
    for (int i = 0; layers && i < n_layer; i++) free_layer((char *)layers + (size_t)i * layer_size);
    free(layers);
}

void hf_free_each(void *const *ps, size_t n) {
    for (size_t k = 0; k < n; k++) free(ps[k]);
}

void *hf_trunk_new(size_t size, const cJSON *cfg) {
    hf_trunk *t = calloc(1, size);
    if (!t) return NULL;
    t->vocab = hf_cfg_int(cfg, "vocab_size", 0), t->H = hf_cfg_int(cfg, "hidden_size", 0);
    t->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0);
    return t;
}

void *hf_trunk_take(hf_trunk *t, size_t layer_size, void (*free_layer)(void *l), const char *embed, const char *norm,
                    int head_required, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    int64_t shape[8];
    int nd;
    if (!(t->embed = hf_family_take(get, ctx, t->vocab, t->H, 0, err, errlen, "%s", embed)) ||
        !(t->final_norm = hf_family_take(get, ctx, t->H, 0, 0, err, errlen, "%s", norm)))
        return NULL;
    if ((head_required || get(ctx, "lm_head.weight", shape, &nd)) &&
        !(t->lm_head = hf_family_take(get, ctx, t->vocab, t->H, 0, err, errlen, "lm_head.weight")))
        return NULL;
    t->layer_size = layer_size, t->free_layer = free_layer;
    if (!(t->layers = calloc((size_t)t->n_layer, layer_size))) hf_set_err(err, errlen, "out of memory");
    return t->layers;
}

void hf_trunk_free(void *m) {
    hf_trunk *t = m;
    if (!t) return;
    hf_family_free_layers(t->layers, t->n_layer, t->layer_size, t->free_layer);
    HF_FREE_ALL(t->embed, t->lm_head, t->final_norm, t);
}

int hf_trunk_vocab(const void *m) { return ((const hf_trunk *)m)->vocab; }

int hf_family_take_rows(hf_tensor_get get, void *ctx, const hf_take_row *rows, size_t n, const char *pfx, char *err,
                        size_t errlen) {
    for (size_t i = 0; i < n; i++)
        if (rows[i].d0 && !(*rows[i].dst = hf_family_take(get, ctx, rows[i].d0, rows[i].d1, rows[i].d2, err, errlen,
                                                         "%s%s", pfx, rows[i].name)))
            return -1;
    return 0;
}

float *hf_family_take_experts(hf_tensor_get get, void *ctx, int E, int d0, int d1, const char *pfx, const char *name,
                              char *err, size_t errlen) {
    float *all = malloc((size_t)E * d0 * d1 * sizeof *all);
    if (!all) {
        hf_set_err(err, errlen, "out of memory");
        return NULL;
    }
    for (int e = 0; e < E; e++) { /* one expert at a time into its slice */
        float *w = hf_family_take(get, ctx, d0, d1, 0, err, errlen, "%s.experts.%d.%s", pfx, e, name);
        if (!w) {
            free(all);
            return NULL;
        }
        memcpy(all + (size_t)e * d0 * d1, w, (size_t)d0 * d1 * sizeof *w);
        free(w);
    }
    return all;
}
