#include "weight_dict.h"

float *wd_put(wdict *d, const char *name, int64_t d0, int64_t d1) {
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 64;
        wt_t *t = realloc(d->t, (size_t)cap * sizeof *t);
        if (!t) return NULL;
        d->t = t, d->cap = cap;
    }
    wt_t *t = &d->t[d->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->shape[0] = d0;
    t->shape[1] = d1 < 0 ? 0 : d1;
    t->nd = d1 < 0 ? 1 : 2;
    t->data = calloc((size_t)d0 * (size_t)(d1 < 0 ? 1 : d1), sizeof(float));
    return t->data;
}

float *wd_rand(wdict *d, qk_rng *r, const char *name, int64_t d0, int64_t d1, float mean, float sd) {
    float *p = wd_put(d, name, d0, d1);
    size_t n = (size_t)d0 * (size_t)(d1 < 0 ? 1 : d1);
    for (size_t i = 0; p && i < n; i++) p[i] = mean + sd * qk_rng_gauss(r);
    return p;
}

size_t wd_numel(const wt_t *t) { return (size_t)t->shape[0] * (size_t)(t->nd == 2 ? t->shape[1] : 1); }

wt_t *wd_find(wdict *d, const char *name) {
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->t[i].name, name)) return &d->t[i];
    return NULL;
}

const float *wd_get(void *ctx, const char *name, int64_t *shape, int *nd) {
    wt_t *t = wd_find(ctx, name);
    if (!t) return NULL;
    shape[0] = t->shape[0];
    shape[1] = t->shape[1];
    *nd = t->nd;
    return t->data;
}

void wd_free(wdict *d) {
    for (int i = 0; i < d->n; i++) free(d->t[i].data);
    free(d->t);
    memset(d, 0, sizeof *d);
}

void wd_copy(wdict *dst, const wdict *src) {
    for (int i = 0; i < src->n; i++) {
        const wt_t *s = &src->t[i];
        float *p = wd_put(dst, s->name, s->shape[0], s->nd == 2 ? s->shape[1] : -1);
        if (p) memcpy(p, s->data, wd_numel(s) * sizeof(float));
    }
}

void wd_scale(wdict *d, const char *name, float c) {
    wt_t *t = wd_find(d, name);
    for (size_t i = 0; t && i < wd_numel(t); i++) t->data[i] *= c;
}

void wd_rename(wdict *d, const char *from, const char *to) {
    wt_t *t = wd_find(d, from);
    if (t) snprintf(t->name, sizeof t->name, "%s", to);
}

void wd_remove(wdict *d, const char *name) {
    wt_t *t = wd_find(d, name);
    if (!t) return;
    free(t->data);
    *t = d->t[--d->n];
}
