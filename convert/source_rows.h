/* source_rows.h - a model source's tensors as float32 rows, named and shaped
 * as in the GGUF `convert` writes. The one row reader behind `convert` (which
 * feeds the tensor pipeline from it) and `verify --against` (which compares a
 * GGUF with it).
 *
 * A source is a Hugging Face folder, read through the architecture's plan
 * (arch.h: renamed tensors, rotate-half rows permuted back, experts stacked,
 * norm offsets added, generated tensors), or a GGUF file, dequantized.
 * Readers are thread-safe (pread only).
 */
#ifndef QK_SOURCE_ROWS_H
#define QK_SOURCE_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "hf_checkpoint.h"
#include "qk_error.h"
#include "tensor_pipeline.h"

/* One planned tensor of a checkpoint; qk_hf_rows_read is a qk_read_rows_fn
 * taking a qk_hf_rows *: rows [row0, row0 + nrows) of t as float32. */
typedef struct qk_hf_rows {
    const qk_hf_checkpoint *ck;
    const qk_conv_tensor *t;
    bool check_finite; /* fail on a NaN or an infinity, naming the tensor and the element */
    bool drop_behind;  /* QK_ADVISE_DONE drops consumed source bytes from the cache (input larger than memory) */
} qk_hf_rows;

int qk_hf_rows_read(void *rows, int64_t row0, int64_t nrows, float *dst, qk_err *err);
/* A qk_hint_rows_fn for qk_hf_rows: the source bytes of rows [row0, row0 +
 * nrows) where they are contiguous per source tensor (plain, permuted within
 * a span, stacked experts, fused parts); for layouts read across the whole
 * source (transposed, GPTQ, a family's 3-D source) the whole source tensor,
 * announced with the first rows and released with the last. */
void qk_hf_rows_hint(void *rows, int64_t row0, int64_t nrows, qk_advice advice);
/* A qk_read_raw_fn for a tensor whose source is MXFP4 blocks (t->x3d == QK_X3_MXFP4) written as MXFP4: the
 * ggml blocks repacked from the source bytes. */
int qk_hf_rows_read_mxfp4(void *rows, uint64_t off, size_t n, void *dst, qk_err *err);

/* A tensor of a source: its GGUF name and shape, and its rows (read_rows with
 * ctx, valid while the source is open). */
typedef struct qk_source_tensor {
    const char *name;
    int64_t ne[4];             /* ne[0] = row length */
    qk_read_rows_fn read_rows;
    void *ctx;
} qk_source_tensor;

typedef struct qk_model_source qk_model_source;

/* path: a folder (Hugging Face checkpoint, planned as convert plans it) or a
 * GGUF file. */
int qk_model_source_open(const char *path, qk_model_source **out, qk_err *err);
/* NULL when the source has no tensor of that name. */
const qk_source_tensor *qk_model_source_find(const qk_model_source *s, const char *name);
void qk_model_source_close(qk_model_source *s);

#endif
