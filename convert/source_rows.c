#include "source_rows.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gguf.h"
#include "tensor_rows.h"

/* Whether x[0..n) holds a NaN or an infinity (exponent bits all ones). A
 * branch-free OR over the bits, which the compiler turns into vector code:
 * the per-element isfinite() test with its early exit was 16% of a BF16 ->
 * Q8_0 conversion's CPU (perf, one thread). */
static bool any_nonfinite(const float *x, int64_t n) {
    uint32_t any = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, x + i, sizeof b);
        any |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
    }
    return any != 0;
}

/* A NaN or infinity in a checkpoint is damage (a failed training step, a bad
 * conversion): quantized, it becomes a garbage value that verify cannot see.
 * Refused, naming the GGUF tensor and the element (row and column in the
 * GGUF's layout). */
static int check_finite(const qk_conv_tensor *t, int64_t row0, int64_t nrows, const float *dst, qk_err *err) {
    const int64_t ne0 = t->ne[0], n = nrows * ne0;
    if (!any_nonfinite(dst, n)) return QK_OK;
    for (int64_t i = 0; i < n; i++) { /* the first one, for the message */
        if (isfinite(dst[i])) continue;
        const int64_t el = row0 * ne0 + i;
        return qk_fail(err,
                       "tensor '%s': element %lld (row %lld, column %lld) is %s in the source weights; "
                       "the checkpoint is damaged (--allow-nonfinite converts it anyway)",
                       t->name, (long long)el, (long long)(el / ne0), (long long)(el % ne0),
                       isnan(dst[i]) ? "NaN" : dst[i] > 0 ? "+Inf" : "-Inf");
    }
    return QK_OK;
}

/* FP8: values of source row s times their block's scale_inv (see arch.h). */
static int apply_scale(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, const qk_hf_tensor *sc, int64_t s, float *row,
                       qk_err *err) {
    const qk_st_file *f = ck->files[sc->file];
    const int64_t ne0 = t->ne[0];
    if (t->scale_block[0] == 0) { /* one scale for the tensor */
        float v;
        if (qk_st_read_f32(f, sc->t, 0, 1, &v, err)) return QK_FAIL;
        for (int64_t i = 0; i < ne0; i++) row[i] = row[i] * v;
        return QK_OK;
    }
    const int64_t bc = (ne0 + t->scale_block[1] - 1) / t->scale_block[1];
    float buf[256];
    for (int64_t c0 = 0; c0 < bc; c0 += 256) {
        const int64_t k = bc - c0 < 256 ? bc - c0 : 256;
        if (qk_st_read_f32(f, sc->t, (uint64_t)((s / t->scale_block[0]) * bc + c0), (uint64_t)k, buf, err)) return QK_FAIL;
        for (int64_t j = 0; j < k; j++) {
            const int64_t a = (c0 + j) * t->scale_block[1], b = a + t->scale_block[1] < ne0 ? a + t->scale_block[1] : ne0;
            for (int64_t i = a; i < b; i++) row[i] = row[i] * buf[j];
        }
    }
    return QK_OK;
}

/* Advice on source elements [elem0, elem0 + n) of a checkpoint tensor. */
static void advise_elems(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, uint64_t elem0, uint64_t n,
                         qk_advice advice) {
    const size_t es = qk_st_dtype_size(src->t->dtype);
    qk_st_advise(ck->files[src->file], src->t, elem0 * es, n * es, advice);
}

void qk_hf_rows_hint(void *rows, int64_t row0, int64_t nrows, qk_advice advice) {
    const qk_hf_rows *c = rows;
    const qk_conv_tensor *t = c->t;
    const int64_t ne0 = t->ne[0];
    if (t->generated || nrows <= 0) return;
    if (advice == QK_ADVISE_DONE && !c->drop_behind) return;
    if (t->experts || (t->fused_rows && !t->transposed && !t->x3d)) { /* expert by expert */
        for (int64_t r = 0; r < nrows;) {
            const int64_t row = row0 + r, e = row / t->ne[1], local = row % t->ne[1];
            const int64_t k = t->ne[1] - local < nrows - r ? t->ne[1] - local : nrows - r;
            if (t->experts)
                advise_elems(c->ck, t->experts[e], (uint64_t)(local * ne0), (uint64_t)(k * ne0), advice);
            else
                advise_elems(c->ck, t->src,
                             ((uint64_t)e * (uint64_t)t->fused_rows + (uint64_t)(t->fused_row0 + local)) * (uint64_t)ne0,
                             (uint64_t)(k * ne0), advice);
            r += k;
        }
        return;
    }
    if (!t->src) return;
    const int64_t rows_total = t->ne[1] * t->ne[2] * t->ne[3];
    if (t->x3d || t->gptq || t->transposed || t->fused_rows || t->n_dims == 1) {
        /* read across the whole source: announced with the first rows, released with the last */
        const bool first = row0 == 0, last = row0 + nrows >= rows_total;
        if ((advice == QK_ADVISE_WILLNEED && first) || (advice == QK_ADVISE_DONE && last))
            advise_elems(c->ck, t->src, 0, t->src->t->n_elements, advice);
        return;
    }
    int64_t lo = row0, hi = row0 + nrows - 1;
    if (t->permute_heads || t->row_map) { /* the span of the source rows */
        lo = INT64_MAX, hi = -1;
        for (int64_t r = row0; r < row0 + nrows; r++) {
            const int64_t s = qk_arch_source_row(t, r);
            lo = s < lo ? s : lo, hi = s > hi ? s : hi;
        }
    }
    advise_elems(c->ck, t->src, (uint64_t)(lo * ne0), (uint64_t)((hi - lo + 1) * ne0), advice);
}

int qk_hf_rows_read(void *rows, int64_t row0, int64_t nrows, float *dst, qk_err *err) {
    const qk_hf_rows *c = rows;
    const qk_conv_tensor *t = c->t;
    const int64_t ne0 = t->ne[0];
    if (t->generated) {
        memcpy(dst, t->generated + row0 * ne0, (size_t)(nrows * ne0) * sizeof(float));
        return QK_OK;
    }
    if (t->x3d) { /* a family's 3-D expert source (arch_gptoss.c) */
        if (qk_arch_x3d_rows(c->ck, t, row0, nrows, dst, err)) return QK_FAIL;
        return c->check_finite ? check_finite(t, row0, nrows, dst, err) : QK_OK;
    }
    if (t->experts) { /* stacked experts: rows of expert e follow expert e-1's */
        /* each run of rows inside one expert is one read (not one per row: a
         * 64-expert model took twice the dense time in small preads) */
        for (int64_t r = 0; r < nrows;) {
            const int64_t row = row0 + r, e = row / t->ne[1], local = row % t->ne[1];
            const int64_t run = t->ne[1] - local < nrows - r ? t->ne[1] - local : nrows - r;
            const qk_hf_tensor *src = t->experts[e];
            if (qk_st_read_f32(c->ck->files[src->file], src->t, (uint64_t)(local * ne0), (uint64_t)(run * ne0),
                               dst + r * ne0, err))
                return QK_FAIL;
            for (int64_t k = 0; t->expert_scales && t->expert_scales[e] && k < run; k++)
                if (apply_scale(c->ck, t, t->expert_scales[e], local + k, dst + (r + k) * ne0, err)) return QK_FAIL;
            r += run;
        }
        return c->check_finite ? check_finite(t, row0, nrows, dst, err) : QK_OK;
    }
    const qk_st_file *f = c->ck->files[t->src->file];
    if (t->fused_rows) { /* a part of every expert's matrix in one 3-D source; expert by expert */
        for (int64_t r = 0; r < nrows;) {
            const int64_t row = row0 + r, e = row / t->ne[1], local = row % t->ne[1];
            const int64_t k = nrows - r < t->ne[1] - local ? nrows - r : t->ne[1] - local; /* rows of expert e */
            const uint64_t base = (uint64_t)e * (uint64_t)t->fused_rows * (uint64_t)ne0;
            if (!t->transposed) {
                if (qk_st_read_f32(f, t->src->t, base + (uint64_t)((t->fused_row0 + local) * ne0), (uint64_t)(k * ne0),
                                   dst + r * ne0, err))
                    return QK_FAIL;
            } else { /* expert e is [ne0][fused_rows]: output row j is column fused_row0 + j */
                float buf[256];
                for (int64_t i = 0; i < ne0; i++)
                    for (int64_t j0 = 0; j0 < k; j0 += 256) {
                        const int64_t m = k - j0 < 256 ? k - j0 : 256;
                        if (qk_st_read_f32(f, t->src->t,
                                           base + (uint64_t)(i * t->fused_rows + t->fused_row0 + local + j0),
                                           (uint64_t)m, buf, err))
                            return QK_FAIL;
                        for (int64_t j = 0; j < m; j++) dst[(r + j0 + j) * ne0 + i] = buf[j];
                    }
            }
            r += k;
        }
    } else if (t->gptq) { /* output rows by their source rows, all in one call: gptq.c reads qweight's columns in
                    * chunks as wide as its memory bound allows (fewer, larger reads) */
        int64_t *src = malloc((size_t)(nrows ? nrows : 1) * sizeof *src);
        if (!src) return qk_fail(err, "out of memory");
        for (int64_t r = 0; r < nrows; r++) src[r] = qk_arch_source_row(t, row0 + r);
        const int rc = qk_gptq_read_rows(c->ck, t->gptq, src, nrows, dst, err);
        free(src);
        if (rc) return QK_FAIL;
    } else if (t->transposed) { /* output row r is source column r: one strided pass per source row, in pieces */
        float buf[256];
        for (int64_t i = 0; i < ne0; i++)
            for (int64_t r0 = 0; r0 < nrows; r0 += 256) {
                const int64_t k = nrows - r0 < 256 ? nrows - r0 : 256;
                if (qk_st_read_f32(f, t->src->t, (uint64_t)(i * t->ne[1] + row0 + r0), (uint64_t)k, buf, err))
                    return QK_FAIL;
                for (int64_t r = 0; r < k; r++) dst[(r0 + r) * ne0 + i] = buf[r];
            }
    } else if (!t->permute_heads && !t->row_map) {
        if (qk_st_read_f32(f, t->src->t, (uint64_t)(row0 * ne0), (uint64_t)(nrows * ne0), dst, err)) return QK_FAIL;
        for (int64_t r = 0; t->scale && r < nrows; r++)
            if (apply_scale(c->ck, t, t->scale, row0 + r, dst + r * ne0, err)) return QK_FAIL;
    } else {
        /* rows gathered by their source rows; a 1-D tensor's elements are its "rows" */
        const bool vec = t->n_dims == 1;
        const int64_t unit = vec ? 1 : ne0, n = vec ? ne0 : nrows, first = vec ? 0 : row0;
        /* A request's source rows lie close together (Q/K rows are permuted
         * within a head): their span is read at once when it is at most about
         * twice the request, else row by row (one small pread per row made the
         * permuted projections the slowest tensors to convert). */
        int64_t lo = INT64_MAX, hi = -1;
        for (int64_t r = 0; r < n; r++) {
            const int64_t s = qk_arch_source_row(t, first + r);
            lo = s < lo ? s : lo, hi = s > hi ? s : hi;
        }
        const int64_t span = hi - lo + 1;
        float *buf = n > 1 && span <= 2 * n + 8 ? malloc((size_t)(span * unit) * sizeof(float)) : NULL;
        if (buf && qk_st_read_f32(f, t->src->t, (uint64_t)(lo * unit), (uint64_t)(span * unit), buf, err)) {
            free(buf);
            return QK_FAIL;
        }
        for (int64_t r = 0; r < n; r++) {
            const int64_t s = qk_arch_source_row(t, first + r);
            if (buf) memcpy(dst + r * unit, buf + (s - lo) * unit, (size_t)unit * sizeof(float));
            else if (qk_st_read_f32(f, t->src->t, (uint64_t)(s * unit), (uint64_t)unit, dst + r * unit, err))
                return QK_FAIL;
            if (t->scale && apply_scale(c->ck, t, t->scale, s, dst + r * unit, err)) {
                free(buf);
                return QK_FAIL;
            }
        }
        free(buf);
    }
    for (int k = 0; k < 2; k++)
        if (t->mul[k] != 0.0f)
            for (int64_t i = 0; i < nrows * ne0; i++) dst[i] *= t->mul[k];
    for (int64_t r = 0; t->n_seg && r < nrows; r++) { /* tensor[a:b, :] *= m, segment by segment */
        int k = 0;
        while (k < t->n_seg && row0 + r >= t->seg_end[k]) k++;
        for (int64_t i = 0; k < t->n_seg && i < ne0; i++) dst[r * ne0 + i] *= t->seg_mul[k];
    }
    if (t->add != 0.0f)
        for (int64_t i = 0; i < nrows * ne0; i++) dst[i] += t->add;
    if (t->neg_exp) /* -torch.exp(data_torch) of the float32 source */
        for (int64_t i = 0; i < nrows * ne0; i++) dst[i] = -expf(dst[i]);
    return c->check_finite ? check_finite(t, row0, nrows, dst, err) : QK_OK;
}

int qk_hf_rows_read_mxfp4(void *rows, uint64_t off, size_t n, void *dst, qk_err *err) {
    const qk_hf_rows *c = rows;
    return qk_arch_x3d_mxfp4_raw(c->ck, c->t, off, n, dst, err);
}

struct qk_model_source {
    bool hf;
    qk_hf_checkpoint ck;
    qk_conv_plan plan;
    qk_gguf_file *g;
    size_t n;
    qk_source_tensor *tensors;
    qk_hf_rows *hf_rows;     /* HF: one per plan tensor */
    qk_gguf_rows *gguf_rows; /* GGUF: one per tensor */
};

int qk_model_source_open(const char *path, qk_model_source **out, qk_err *err) {
    *out = NULL;
    qk_model_source *s = calloc(1, sizeof *s);
    if (!s) return qk_fail(err, "out of memory");
    struct stat st;
    s->hf = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    int rc;
    if (s->hf) {
        rc = qk_hf_open(path, &s->ck, err);
        if (rc == QK_OK) {
            rc = qk_arch_plan(&s->ck, &s->plan, err);
            if (rc != QK_OK) qk_arch_plan_free(&s->plan), qk_hf_close(&s->ck);
        }
        if (rc != QK_OK) {
            free(s);
            return rc;
        }
        s->n = s->plan.n_tensors;
        s->hf_rows = calloc(s->n ? s->n : 1, sizeof *s->hf_rows);
    } else {
        if (qk_gguf_open(path, &s->g, err)) {
            free(s);
            return QK_FAIL;
        }
        s->n = (size_t)s->g->meta.n_tensors;
        s->gguf_rows = calloc(s->n ? s->n : 1, sizeof *s->gguf_rows);
    }
    s->tensors = calloc(s->n ? s->n : 1, sizeof *s->tensors);
    if (!s->tensors || (!s->hf_rows && !s->gguf_rows)) {
        qk_model_source_close(s);
        return qk_fail(err, "out of memory");
    }
    for (size_t i = 0; i < s->n; i++) {
        qk_source_tensor *t = &s->tensors[i];
        if (s->hf) {
            const qk_conv_tensor *ct = &s->plan.tensors[i];
            s->hf_rows[i] = (qk_hf_rows){.ck = &s->ck, .t = ct};
            *t = (qk_source_tensor){.name = ct->name, .read_rows = qk_hf_rows_read, .ctx = &s->hf_rows[i]};
            memcpy(t->ne, ct->ne, sizeof t->ne);
        } else {
            const qk_gguf_tensor *gt = &s->g->meta.tensors[i];
            s->gguf_rows[i] = qk_gguf_rows_of(s->g, gt);
            *t = (qk_source_tensor){.name = gt->name, .read_rows = qk_gguf_rows_read, .ctx = &s->gguf_rows[i]};
            memcpy(t->ne, gt->ne, sizeof t->ne);
        }
    }
    *out = s;
    return QK_OK;
}

const qk_source_tensor *qk_model_source_find(const qk_model_source *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->tensors[i].name, name)) return &s->tensors[i];
    return NULL;
}

void qk_model_source_close(qk_model_source *s) {
    if (!s) return;
    free(s->tensors), free(s->hf_rows), free(s->gguf_rows);
    if (s->hf) {
        qk_arch_plan_free(&s->plan);
        qk_hf_close(&s->ck);
    }
    qk_gguf_close(s->g);
    free(s);
}
