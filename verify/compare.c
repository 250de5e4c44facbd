#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arch.h"
#include "gguf.h"
#include "hf_checkpoint.h"
#include "kernels.h"
#include "ggml_types.h"

void qk_compare_report_free(qk_compare_report *rep) {
    free(rep->tensors);
    memset(rep, 0, sizeof *rep);
}

typedef struct { double se, ss, dot, aa, bb, maxabs; uint64_t n; } acc;

static void accumulate(acc *a, const float *x, const float *ref, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double d = (double)x[i] - ref[i];
        a->se += d * d;
        a->ss += (double)ref[i] * ref[i];
        a->dot += (double)x[i] * ref[i];
        a->aa += (double)x[i] * x[i];
        a->bb += (double)ref[i] * ref[i];
        if (fabs(d) > a->maxabs) a->maxabs = fabs(d);
    }
    a->n += (uint64_t)n;
}

static void finish(const acc *a, qk_tensor_diff *t) {
    t->n = a->n;
    t->rmse = a->n ? sqrt(a->se / (double)a->n) : 0;
    t->max_abs = a->maxabs;
    t->snr_db = a->se > 0 ? 10 * log10(a->ss / a->se) : INFINITY;
    t->cosine = a->aa > 0 && a->bb > 0 ? a->dot / sqrt(a->aa * a->bb) : (a->aa == a->bb ? 1 : 0);
}

/* The source side: a GGUF tensor or an HF tensor (with convert's mapping). */
typedef struct {
    const qk_gguf_file *g;
    const qk_gguf_tensor *gt;
    const qk_hf_checkpoint *ck;
    const qk_conv_tensor *ct;
} source_t;

static int read_source_row(const source_t *s, int64_t row, int64_t ne0, float *dst, unsigned char *raw, qk_err *err) {
    if (s->gt) {
        uint64_t rb;
        qk_row_size(s->gt->type, ne0, &rb);
        if (qk_gguf_read_tensor(s->g, s->gt, (uint64_t)row * rb, raw, rb, err)) return QK_FAIL;
        const qk_kernel *k = qk_kernel_active((qk_type)s->gt->type);
        if (!k || !k->dequantize) return qk_fail(err, "cannot read source type %s", qk_type_get(s->gt->type)->name);
        k->dequantize(raw, dst, ne0);
        return QK_OK;
    }
    if (s->ct->generated) {
        memcpy(dst, s->ct->generated + row * ne0, (size_t)ne0 * sizeof(float));
        return QK_OK;
    }
    if (s->ct->experts) {
        const qk_hf_tensor *src = s->ct->experts[row / s->ct->ne[1]];
        return qk_st_read_f32(s->ck->files[src->file], src->t, (uint64_t)((row % s->ct->ne[1]) * ne0), (uint64_t)ne0,
                              dst, err);
    }
    int64_t r = s->ct->permute_heads ? qk_arch_permuted_row(row, s->ct->ne[1], s->ct->permute_heads) : row;
    if (qk_st_read_f32(s->ck->files[s->ct->src->file], s->ct->src->t, (uint64_t)(r * ne0), (uint64_t)ne0, dst, err))
        return QK_FAIL;
    if (s->ct->add != 0.0f)
        for (int64_t i = 0; i < ne0; i++) dst[i] += s->ct->add;
    return QK_OK;
}

int qk_compare(const char *file, const char *source, qk_compare_report *rep, qk_err *err) {
    memset(rep, 0, sizeof *rep);
    qk_gguf_file *f = NULL, *g = NULL;
    qk_hf_checkpoint ck = {0};
    qk_conv_plan plan = {0};
    if (qk_gguf_open(file, &f, err)) return QK_FAIL;
    struct stat st;
    int rc = QK_OK;
    bool hf = stat(source, &st) == 0 && S_ISDIR(st.st_mode);
    if (hf) {
        rc = qk_hf_open(source, &ck, err);
        if (rc == QK_OK) rc = qk_arch_plan(&ck, &plan, err);
    } else {
        rc = qk_gguf_open(source, &g, err);
    }
    rep->tensors = calloc(f->meta.n_tensors ? f->meta.n_tensors : 1, sizeof *rep->tensors);
    if (rc == QK_OK && !rep->tensors) rc = qk_fail(err, "out of memory");
    acc total = {0};
    double worst = 2;
    for (uint64_t i = 0; rc == QK_OK && i < f->meta.n_tensors; i++) {
        const qk_gguf_tensor *t = &f->meta.tensors[i];
        source_t s = {g, NULL, &ck, NULL};
        if (hf) {
            for (size_t k = 0; k < plan.n_tensors; k++)
                if (!strcmp(plan.tensors[k].name, t->name)) s.ct = &plan.tensors[k];
            if (!s.ct) continue;
        } else {
            int64_t j = qk_gguf_find_tensor(&g->meta, t->name);
            if (j < 0) continue;
            s.gt = &g->meta.tensors[j];
        }
        const int64_t ne0 = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
        const int64_t sne0 = s.gt ? s.gt->ne[0] : s.ct->ne[0];
        const int64_t srows = s.gt ? s.gt->ne[1] * s.gt->ne[2] * s.gt->ne[3] : s.ct->ne[1] * s.ct->ne[2] * s.ct->ne[3];
        if (sne0 != ne0 || srows != rows) {
            rc = qk_fail(err, "tensor '%s': shape differs from the source's", t->name);
            break;
        }
        const qk_kernel *k = qk_kernel_active((qk_type)t->type);
        if (!k || !k->dequantize) continue;
        uint64_t rb;
        qk_row_size(t->type, ne0, &rb);
        float *x = malloc((size_t)ne0 * sizeof(float)), *y = malloc((size_t)ne0 * sizeof(float));
        unsigned char *raw = malloc(rb > (uint64_t)ne0 * 8 ? rb : (uint64_t)ne0 * 8);
        acc a = {0};
        for (int64_t r = 0; rc == QK_OK && r < rows; r++) {
            rc = qk_gguf_read_tensor(f, t, (uint64_t)r * rb, raw, rb, err);
            if (rc == QK_OK) k->dequantize(raw, x, ne0);
            if (rc == QK_OK) rc = read_source_row(&s, r, ne0, y, raw, err);
            if (rc == QK_OK) accumulate(&a, x, y, ne0);
        }
        free(x), free(y), free(raw);
        qk_tensor_diff *d = &rep->tensors[rep->n++];
        snprintf(d->name, sizeof d->name, "%s", t->name);
        d->type = t->type;
        finish(&a, d);
        total.se += a.se, total.ss += a.ss, total.dot += a.dot, total.aa += a.aa, total.bb += a.bb, total.n += a.n;
        if (a.maxabs > total.maxabs) total.maxabs = a.maxabs;
        if (d->cosine < worst) worst = d->cosine, snprintf(rep->worst, sizeof rep->worst, "%s", d->name);
    }
    if (rc == QK_OK && rep->n == 0) rc = qk_fail(err, "%s and %s have no tensor in common", file, source);
    if (rc == QK_OK) {
        qk_tensor_diff all;
        finish(&total, &all);
        rep->rmse = all.rmse, rep->snr_db = all.snr_db, rep->cosine = all.cosine, rep->worst_cosine = worst;
    }
    qk_arch_plan_free(&plan);
    if (hf) qk_hf_close(&ck);
    qk_gguf_close(g);
    qk_gguf_close(f);
    return rc;
}
