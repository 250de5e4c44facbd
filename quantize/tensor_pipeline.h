/* tensor_pipeline.h - the one streaming engine that turns a source tensor
 * into output bytes of a chosen type. `convert` (safetensors rows) and
 * `quantize` (GGUF rows) both feed it; only the source callbacks differ.
 *
 * A tensor is processed in chunks of whole rows: each chunk's rows are read
 * as float32 and quantized on N threads (each work item owns a fixed range of
 * rows, so output bytes never depend on the thread count), then the chunk's
 * output goes to the sink in order, from a write-behind thread while the next
 * chunk is computed (core/write_behind.h). Memory is bounded by two chunks of
 * output plus one float32 buffer per thread, whatever the tensor's size.
 */
#ifndef QK_TENSOR_PIPELINE_H
#define QK_TENSOR_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "file_advice.h"
#include "parallel.h"
#include "progress.h"
#include "qk_error.h"

/* ggml's quantize_<type> contract: nrows rows of n_per_row floats -> dst,
 * returning the bytes written; imatrix NULL or n_per_row column weights. */
typedef size_t (*qk_quantize_rows_fn)(const float *src, void *dst, int64_t nrows,
                                      int64_t n_per_row, const float *imatrix);

/* Reads rows [row0, row0 + nrows) of the source as float32 (row length
 * ne[0]); must be safe to call from several threads at once. */
typedef int (*qk_read_rows_fn)(void *src_ctx, int64_t row0, int64_t nrows, float *dst, qk_err *err);

/* Reads raw source bytes [off, off + n) (for a plain copy). Thread-safe. */
typedef int (*qk_read_raw_fn)(void *src_ctx, uint64_t off, size_t n, void *dst, qk_err *err);

/* Optional advice on rows [row0, row0 + nrows) of the source: WILLNEED for
 * the chunk after the one being computed, DONE for a chunk once computed
 * (file_advice.h). Never changes what is read. */
typedef void (*qk_hint_rows_fn)(void *src_ctx, int64_t row0, int64_t nrows, qk_advice advice);

/* Receives output bytes in order. */
typedef int (*qk_sink_fn)(void *sink_ctx, const void *data, size_t n, qk_err *err);
/* The sink of convert and quantize: sink_ctx is a qk_gguf_writer (gguf_writer.h). */
int qk_sink_gguf_writer(void *sink_ctx, const void *data, size_t n, qk_err *err);

typedef struct qk_tensor_job {
    const char *name;        /* for errors and progress */
    int64_t ne[4];           /* ne[0] = row length; rows = ne[1]*ne[2]*ne[3] */
    uint32_t out_type;       /* ggml type id of the output */
    qk_quantize_rows_fn quantize; /* for quantized out_type; F32/F16/BF16 are built in */
    const float *imatrix;    /* NULL, or ne[0] * ne[2] weights (one slice per expert) */
    /* source: either rows as float32 ... */
    qk_read_rows_fn read_rows;
    qk_hint_rows_fn hint;    /* NULL: no advice */
    /* ... or, when read_raw is set, a byte copy of out_bytes bytes */
    qk_read_raw_fn read_raw;
    void *src_ctx;
} qk_tensor_job;

/* The two output buffers, kept across the jobs of a run: allocated per
 * tensor, glibc returned them to the kernel on every free once the pair
 * passed its trim threshold, and every chunk's first write page-faulted
 * (a Q8_0 run of the 1.09 GB bench model took 1.6 s instead of 0.8 s). */
typedef struct qk_pipeline_scratch {
    unsigned char *out[2];
    size_t cap;
} qk_pipeline_scratch;
void qk_pipeline_scratch_free(qk_pipeline_scratch *s);

typedef struct qk_pipeline_opts {
    int n_threads;           /* <= 0: all cores; ignored when pool is set */
    qk_pool *pool;           /* threads reused across jobs (parallel.h); NULL: the job starts its own */
    qk_pipeline_scratch *scratch; /* buffers reused across jobs (zeroed at first); NULL: the job's own */
    size_t chunk_bytes;      /* target float32 bytes per chunk; 0 = 32 MiB */
    qk_progress *progress;   /* NULL = none; advanced by output bytes */
} qk_pipeline_opts;

/* Output size of a job in bytes (0 and an error if ne[0] does not divide into
 * blocks of out_type, or the size overflows). */
int qk_tensor_job_out_bytes(const qk_tensor_job *job, uint64_t *out, qk_err *err);

/* Runs the job, sending exactly qk_tensor_job_out_bytes() bytes to sink. */
int qk_tensor_job_run(const qk_tensor_job *job, const qk_pipeline_opts *opts,
                      qk_sink_fn sink, void *sink_ctx, qk_err *err);

#endif
