#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "source_rows.h"
#include "tensor_rows.h"

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

int qk_compare(const char *file, const char *source, qk_progress *progress, qk_compare_report *rep, qk_err *err) {
    memset(rep, 0, sizeof *rep);
    qk_gguf_file *f = NULL;
    qk_model_source *src = NULL;
    if (qk_gguf_open(file, &f, err)) return QK_FAIL;
    int rc = qk_model_source_open(source, &src, err);
    rep->tensors = calloc(f->meta.n_tensors ? f->meta.n_tensors : 1, sizeof *rep->tensors);
    if (rc == QK_OK && !rep->tensors) rc = qk_fail(err, "out of memory");
    acc total = {0};
    double worst = 2;
    uint64_t all_bytes = 0;
    for (uint64_t i = 0; rc == QK_OK && i < f->meta.n_tensors; i++) all_bytes += f->meta.tensors[i].nbytes;
    qk_progress_total(progress, all_bytes);
    for (uint64_t i = 0; rc == QK_OK && i < f->meta.n_tensors; i++) {
        const qk_gguf_tensor *t = &f->meta.tensors[i];
        const qk_source_tensor *s = qk_model_source_find(src, t->name);
        if (!s) {
            qk_progress_add(progress, t->nbytes);
            continue;
        }
        const int64_t ne0 = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
        if (s->ne[0] != ne0 || s->ne[1] * s->ne[2] * s->ne[3] != rows) {
            rc = qk_fail(err, "tensor '%s': shape differs from the source's", t->name);
            break;
        }
        qk_gguf_rows in = qk_gguf_rows_of(f, t);
        if (!in.kernel || !in.kernel->dequantize) { /* a type quantkit cannot read: not compared */
            qk_progress_add(progress, t->nbytes);
            continue;
        }
        qk_progress_item(progress, t->name);
        /* a chunk of whole rows, about 1 MiB of floats per side */
        const int64_t chunk = ne0 <= 0 || ne0 >= (1 << 18) ? 1 : (1 << 18) / ne0;
        const size_t bytes = (size_t)(chunk * ne0 + 1) * sizeof(float);
        float *x = malloc(bytes), *y = malloc(bytes);
        if (!x || !y) rc = qk_fail(err, "out of memory");
        acc a = {0};
        for (int64_t r = 0; rc == QK_OK && r < rows; r += chunk) {
            const int64_t nr = rows - r < chunk ? rows - r : chunk;
            rc = qk_gguf_rows_read(&in, r, nr, x, err);
            if (rc == QK_OK) rc = s->read_rows(s->ctx, r, nr, y, err);
            if (rc == QK_OK) accumulate(&a, x, y, nr * ne0);
            /* this chunk's share of the tensor's bytes, so the parts add up to nbytes exactly */
            qk_progress_add(progress, t->nbytes * (uint64_t)(r + nr) / (uint64_t)rows - t->nbytes * (uint64_t)r / (uint64_t)rows);
        }
        free(x), free(y);
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
    qk_model_source_close(src);
    qk_gguf_close(f);
    return rc;
}
