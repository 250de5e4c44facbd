/* tensor_rows.h - a stored tensor's values as float32, whatever type it is
 * stored in. The readers in formats/ hand out raw bytes and their dtype or
 * ggml type; this is where those bytes become floats:
 *  - safetensors tensors of any float dtype: F32 as is, F64 cast, F16, BF16,
 *    F8_E4M3 and F8_E5M2 widened exactly (F16 signaling NaNs quieted, as
 *    ggml's to_float does);
 *  - GGUF tensors of any ggml type with a dequantizer (kernels.h).
 * Every function reads with pread only, so it is safe from several threads.
 */
#ifndef QK_TENSOR_ROWS_H
#define QK_TENSOR_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "kernels.h"
#include "qk_error.h"
#include "safetensors.h"

/* Elements [elem0, elem0 + n) of a float safetensors tensor as float32 into
 * dst (n floats); an error naming the tensor for a non-float dtype or a range
 * outside it. */
int qk_st_read_f32(const qk_st_file *f, const qk_st_tensor *t, uint64_t elem0, uint64_t n, float *dst, qk_err *err);

/* The rows of one GGUF tensor (row length ne[0]); a source for the tensor
 * pipeline (tensor_pipeline.h): qk_gguf_rows_read is a qk_read_rows_fn and
 * qk_gguf_rows_read_raw a qk_read_raw_fn, both taking a qk_gguf_rows *. */
typedef struct qk_gguf_rows {
    const qk_gguf_file *f;
    const qk_gguf_tensor *t;
    const qk_kernel *kernel;   /* the active dequantizer of t's type; NULL if none */
    uint64_t row_bytes;
    bool drop_behind;          /* QK_ADVISE_DONE drops consumed rows from the cache (input larger than memory) */
} qk_gguf_rows;

qk_gguf_rows qk_gguf_rows_of(const qk_gguf_file *f, const qk_gguf_tensor *t);
/* Rows [row0, row0 + nrows) dequantized into dst; an error naming the tensor
 * if its type has no dequantizer. */
int qk_gguf_rows_read(void *rows, int64_t row0, int64_t nrows, float *dst, qk_err *err);
/* A qk_hint_rows_fn: WILLNEED always, DONE only with drop_behind. */
void qk_gguf_rows_hint(void *rows, int64_t row0, int64_t nrows, qk_advice advice);
/* The tensor's bytes [off, off + n). */
int qk_gguf_rows_read_raw(void *rows, uint64_t off, size_t n, void *dst, qk_err *err);

#endif
