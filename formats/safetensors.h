/* safetensors.h - reading .safetensors files safely and without loading them.
 *
 * Layout: u64 LE header length N | N bytes of JSON | data. The JSON maps each
 * tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
 * relative to the data start) plus an optional "__metadata__" string map.
 *
 * Everything the format promises is checked before use: N <= 100 MB and
 * inside the file, valid JSON of the right shape, known dtypes, offsets
 * inside the data, begin <= end, byte size == elements x dtype size
 * (overflow-checked), no two tensors overlapping, metadata values strings.
 * Only the header is read at open; tensor data is read on demand with pread,
 * so a 100 GB checkpoint costs no more memory than a small one.
 */
#ifndef QK_SAFETENSORS_H
#define QK_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_advice.h"
#include "qk_error.h"

typedef enum qk_st_dtype {
    QK_ST_F64, QK_ST_F32, QK_ST_F16, QK_ST_BF16, QK_ST_I64, QK_ST_I32, QK_ST_I16,
    QK_ST_I8, QK_ST_U8, QK_ST_BOOL, QK_ST_F8_E4M3, QK_ST_F8_E5M2, QK_ST_DTYPE_COUNT
} qk_st_dtype;

#define QK_ST_MAX_DIMS 8
#define QK_ST_MAX_HEADER (100u * 1000u * 1000u)

typedef struct qk_st_tensor {
    char *name;
    qk_st_dtype dtype;
    int n_dims;
    int64_t shape[QK_ST_MAX_DIMS]; /* PyTorch order: shape[n_dims-1] is the row length */
    uint64_t n_elements;
    uint64_t begin, end;           /* byte range relative to the data start */
} qk_st_tensor;

typedef struct qk_st_file {
    char *path;
    int fd;
    uint64_t file_size;
    uint64_t data_start;
    size_t n_tensors;
    qk_st_tensor *tensors; /* sorted by name */
    size_t n_meta;
    char **meta_keys, **meta_values;
    struct qk_torch_file *torch; /* a PyTorch checkpoint read through formats/torch_file.h (fd -1), else NULL */
} qk_st_file;

const char *qk_st_dtype_name(qk_st_dtype d);
size_t qk_st_dtype_size(qk_st_dtype d);
bool qk_st_dtype_is_float(qk_st_dtype d);

int qk_st_open(const char *path, qk_st_file **out, qk_err *err);
void qk_st_close(qk_st_file *f);

/* Parses a header (the JSON bytes) for a data section of data_size bytes into
 * f's tensor and metadata lists (f->path names the file in messages). */
int qk_st_parse_header(const char *json, size_t len, uint64_t data_size, qk_st_file *f, qk_err *err);

const qk_st_tensor *qk_st_find(const qk_st_file *f, const char *name);

/* Raw bytes [off, off + n) of a tensor. Thread-safe. As float32:
 * qk_st_read_f32 (quantize/tensor_rows.h). */
int qk_st_read_raw(const qk_st_file *f, const qk_st_tensor *t, uint64_t off, size_t n, void *dst, qk_err *err);
/* Advice on a tensor's bytes [off, off + n) (clipped to it; file_advice.h).
 * Thread-safe; never fails; nothing for a PyTorch checkpoint. */
void qk_st_advise(const qk_st_file *f, const qk_st_tensor *t, uint64_t off, uint64_t n, qk_advice advice);

#endif
