#include "tensor_pipeline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "float_formats.h"
#include "gguf_writer.h"
#include "parallel.h"
#include "ggml_types.h"
#include "write_behind.h"

/* Rows per work item: at least 16384 elements (as llama.cpp's chunks), so
 * per-item overhead stays small; items never straddle an expert slice. */
#define MIN_ITEM_ELEMS 16384

int qk_tensor_job_out_bytes(const qk_tensor_job *job, uint64_t *out, qk_err *err) {
    uint64_t row;
    if (!qk_row_size(job->out_type, job->ne[0], &row)) {
        const qk_type_info *ti = qk_type_get(job->out_type);
        return qk_fail(err, "tensor '%s': row length %lld is not a multiple of %s's block size %u",
                       job->name, (long long)job->ne[0], ti ? ti->name : "?", ti ? ti->blck_size : 0);
    }
    uint64_t total = row;
    for (int d = 1; d < 4; d++) {
        if (job->ne[d] < 0) return qk_fail(err, "tensor '%s': negative dimension", job->name);
        if (job->ne[d] && total > UINT64_MAX / (uint64_t)job->ne[d])
            return qk_fail(err, "tensor '%s': size overflows", job->name);
        total *= (uint64_t)job->ne[d];
    }
    *out = total;
    return QK_OK;
}

typedef struct {
    const qk_tensor_job *job;
    int64_t row0;          /* first row of the current chunk */
    int64_t rows_per_item;
    int64_t chunk_rows;
    uint64_t row_bytes;
    unsigned char *out;    /* chunk output */
    float **fbuf;          /* per-thread float rows */
} chunk_ctx;

static int convert_rows(const qk_tensor_job *job, const float *src, void *dst, int64_t nrows,
                        const float *imatrix, qk_err *err) {
    const int64_t n = job->ne[0];
    if (job->quantize) {
        job->quantize(src, dst, nrows, n, imatrix);
        return QK_OK;
    }
    switch (job->out_type) { /* float outputs work without a kernel too */
    case QK_TYPE_F32: memcpy(dst, src, (size_t)(nrows * n) * sizeof(float)); return QK_OK;
    case QK_TYPE_F16: qk_fp32_to_fp16_row(src, dst, nrows * n); return QK_OK;
    case QK_TYPE_BF16: qk_fp32_to_bf16_row(src, dst, nrows * n); return QK_OK;
    default: return qk_fail(err, "tensor '%s': no quantizer for type %u", job->name, job->out_type);
    }
}

static int run_item(void *vctx, int64_t item, int tid, qk_err *err) {
    chunk_ctx *c = vctx;
    const qk_tensor_job *job = c->job;
    int64_t first = item * c->rows_per_item;
    int64_t nrows = c->chunk_rows - first;
    if (nrows > c->rows_per_item) nrows = c->rows_per_item;
    int64_t row = c->row0 + first;
    float *f = c->fbuf[tid];
    if (job->read_rows(job->src_ctx, row, nrows, f, err) != QK_OK) return QK_FAIL;
    const float *imatrix = NULL;
    if (job->imatrix) {
        /* rows of expert e are [e*ne1, (e+1)*ne1); items never straddle them */
        int64_t ne1 = job->ne[1] ? job->ne[1] : 1;
        int64_t expert = (row / ne1) % (job->ne[2] ? job->ne[2] : 1);
        imatrix = job->imatrix + expert * job->ne[0];
    }
    return convert_rows(job, f, c->out + (uint64_t)first * c->row_bytes, nrows, imatrix, err);
}

void qk_pipeline_scratch_free(qk_pipeline_scratch *s) {
    free(s->out[0]), free(s->out[1]);
    memset(s, 0, sizeof *s);
}

/* both buffers at least n bytes */
static bool scratch_reserve(qk_pipeline_scratch *s, size_t n) {
    if (s->cap >= n && s->out[0] && s->out[1]) return true;
    qk_pipeline_scratch_free(s);
    s->out[0] = malloc(n ? n : 1), s->out[1] = malloc(n ? n : 1);
    if (!s->out[0] || !s->out[1]) {
        qk_pipeline_scratch_free(s);
        return false;
    }
    s->cap = n;
    return true;
}

int qk_tensor_job_run(const qk_tensor_job *job, const qk_pipeline_opts *opts, qk_sink_fn sink,
                      void *sink_ctx, qk_err *err) {
    uint64_t total;
    if (qk_tensor_job_out_bytes(job, &total, err) != QK_OK) return QK_FAIL;
    const size_t chunk_target = opts && opts->chunk_bytes ? opts->chunk_bytes : (32u << 20);
    int n_threads = opts && opts->pool ? qk_pool_threads(opts->pool)
                    : opts && opts->n_threads > 0 ? opts->n_threads : qk_cpu_count();
    qk_progress *prog = opts ? opts->progress : NULL;

    qk_write_behind *wb;
    if (qk_wb_start(&wb, sink, sink_ctx, err) != QK_OK) return QK_FAIL;
    int rc = QK_OK;
    /* Two buffers of a chunk each: one is written (by the write-behind
     * thread) while the next is read or computed. (Half-size chunks, to keep
     * the buffered bytes of one chunk, measured 0.75 s instead of 0.60 s for
     * a Q4_0 run of the 1.09 GB bench model on 2 threads: every chunk ends
     * in a barrier.) */

    qk_pipeline_scratch own_scratch = {0};
    qk_pipeline_scratch *sc = opts && opts->scratch ? opts->scratch : &own_scratch;
    if (job->read_raw) { /* plain copy: read the next chunk while the last one is written */
        if (!scratch_reserve(sc, chunk_target)) rc = qk_fail(err, "tensor '%s': out of memory", job->name);
        unsigned char *buf[2] = {sc->out[0], sc->out[1]};
        for (uint64_t off = 0, k = 0; rc == QK_OK && off < total; k++) {
            size_t n = total - off < chunk_target ? (size_t)(total - off) : chunk_target;
            rc = job->read_raw(job->src_ctx, off, n, buf[k & 1], err);
            if (rc == QK_OK) rc = qk_wb_put(wb, buf[k & 1], n, err);
            if (rc == QK_OK) qk_progress_add(prog, n);
            off += n;
        }
        /* the writer's error comes first: a later read failed only because the copy stopped */
        qk_err werr;
        if (qk_wb_finish(wb, &werr) != QK_OK && rc == QK_OK) *err = werr, rc = QK_FAIL;
        qk_pipeline_scratch_free(&own_scratch);
        return rc;
    }

    const int64_t ne0 = job->ne[0];
    const int64_t rows = job->ne[1] * job->ne[2] * job->ne[3];
    if (ne0 == 0 || rows == 0) return qk_wb_finish(wb, err);
    uint64_t row_bytes;
    qk_row_size(job->out_type, ne0, &row_bytes);

    int64_t rows_per_item = (MIN_ITEM_ELEMS + ne0 - 1) / ne0;
    if (job->imatrix && job->ne[1] > 0) {
        /* shrink to a divisor of ne[1] so no item crosses an expert boundary */
        if (rows_per_item > job->ne[1]) rows_per_item = job->ne[1];
        while (job->ne[1] % rows_per_item) rows_per_item--;
    }
    int64_t items_per_chunk = (int64_t)(chunk_target / ((uint64_t)ne0 * 4 * (uint64_t)rows_per_item));
    if (items_per_chunk < n_threads) items_per_chunk = n_threads;
    int64_t chunk_rows_max = items_per_chunk * rows_per_item;
    if (chunk_rows_max > rows) chunk_rows_max = rows;

    /* one set of threads for every chunk of the job (or of the whole run, opts->pool) */
    qk_pool *own = opts && opts->pool ? NULL : qk_pool_new(n_threads);
    qk_pool *pool = opts && opts->pool ? opts->pool : own;
    if (!pool) {
        qk_wb_finish(wb, NULL);
        return qk_fail(err, "tensor '%s': out of memory", job->name);
    }
    n_threads = qk_pool_threads(pool);
    chunk_ctx c = {.job = job, .rows_per_item = rows_per_item, .row_bytes = row_bytes};
    const bool have_out = scratch_reserve(sc, (size_t)(row_bytes * (uint64_t)chunk_rows_max));
    unsigned char *out[2] = {sc->out[0], sc->out[1]};
    c.fbuf = calloc((size_t)n_threads, sizeof(float *));
    if (!have_out || !c.fbuf) rc = qk_fail(err, "tensor '%s': out of memory", job->name);
    for (int t = 0; rc == QK_OK && t < n_threads; t++) {
        c.fbuf[t] = malloc((size_t)(rows_per_item * ne0) * sizeof(float));
        if (!c.fbuf[t]) rc = qk_fail(err, "tensor '%s': out of memory", job->name);
    }
    for (int64_t r = 0, k = 0; rc == QK_OK && r < rows; r += chunk_rows_max, k++) {
        c.row0 = r;
        c.out = out[k & 1]; /* the other one may still be being written */
        c.chunk_rows = rows - r < chunk_rows_max ? rows - r : chunk_rows_max;
        int64_t items = (c.chunk_rows + rows_per_item - 1) / rows_per_item;
        if (job->hint) { /* the disk reads the next chunk while this one is computed */
            if (r == 0) job->hint(job->src_ctx, 0, c.chunk_rows, QK_ADVISE_WILLNEED);
            const int64_t next = r + c.chunk_rows;
            if (next < rows)
                job->hint(job->src_ctx, next, rows - next < chunk_rows_max ? rows - next : chunk_rows_max,
                          QK_ADVISE_WILLNEED);
        }
        rc = qk_pool_for(pool, items, run_item, &c, err);
        if (rc == QK_OK && job->hint) job->hint(job->src_ctx, r, c.chunk_rows, QK_ADVISE_DONE);
        if (rc == QK_OK) {
            size_t n = (size_t)(row_bytes * (uint64_t)c.chunk_rows);
            rc = qk_wb_put(wb, c.out, n, err);
            qk_progress_add(prog, n);
        }
    }
    qk_err werr;
    if (qk_wb_finish(wb, &werr) != QK_OK && rc == QK_OK) *err = werr, rc = QK_FAIL;
    if (c.fbuf)
        for (int t = 0; t < n_threads; t++) free(c.fbuf[t]);
    free(c.fbuf);
    qk_pipeline_scratch_free(&own_scratch);
    qk_pool_free(own);
    return rc;
}

int qk_sink_gguf_writer(void *sink_ctx, const void *data, size_t n, qk_err *err) {
    return qk_gguf_writer_write(sink_ctx, data, n, err);
}
