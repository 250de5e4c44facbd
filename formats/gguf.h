/* gguf.h - GGUF metadata in memory, and the safe reader.
 *
 * File layout (little-endian; see docs/ and llama.cpp's gguf.h):
 *   "GGUF" | u32 version (2 or 3) | i64 n_tensors | i64 n_kv
 *   n_kv     x { string key | i32 value type | value }
 *   n_tensors x { string name | u32 n_dims | i64 ne[n_dims] | i32 ggml type | u64 offset }
 *   zero padding to `alignment` | tensor data, each tensor padded to `alignment`
 * string = u64 length + bytes (no NUL); array = i32 element type + u64 count + elements.
 *
 * The reader treats every file as hostile: every count, length and offset is
 * bounded by the bytes that remain and overflow-checked before use; nothing
 * is allocated from an untrusted number before that bound. It performs the
 * checks of llama.cpp's stricter reader (offsets == running padded sum), so a
 * file we accept, ggml accepts. Failures name the file, the object (key or
 * tensor) and the bad value.
 */
#ifndef QK_GGUF_H
#define QK_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_advice.h"
#include "qk_error.h"

enum qk_gguf_vtype {
    QK_GGUF_U8 = 0, QK_GGUF_I8 = 1, QK_GGUF_U16 = 2, QK_GGUF_I16 = 3,
    QK_GGUF_U32 = 4, QK_GGUF_I32 = 5, QK_GGUF_F32 = 6, QK_GGUF_BOOL = 7,
    QK_GGUF_STRING = 8, QK_GGUF_ARRAY = 9, QK_GGUF_U64 = 10, QK_GGUF_I64 = 11,
    QK_GGUF_F64 = 12, QK_GGUF_TYPE_COUNT = 13
};

#define QK_GGUF_DEFAULT_ALIGNMENT 32u
#define QK_GGUF_MAX_ALIGNMENT (1u << 20)
#define QK_GGUF_MAX_NAME 63          /* ggml: name length < GGML_MAX_NAME (64) */
#define QK_GGUF_MAX_STRING (1ull << 30)
#define QK_GGUF_MAX_DIMS 4

typedef struct qk_gguf_str {
    uint64_t len;
    char *s; /* NUL-terminated copy (the GGUF bytes may contain NUL; len is authoritative) */
} qk_gguf_str;

typedef struct qk_gguf_kv {
    char *key;
    uint32_t type;     /* enum qk_gguf_vtype */
    uint32_t arr_type; /* element type when type == ARRAY */
    uint64_t n;        /* element count; 1 for scalars */
    void *data;        /* fixed-size: n * size LE bytes; strings: qk_gguf_str[n] */
    uint64_t value_off; /* file offset of the value bytes (reader only) */
} qk_gguf_kv;

typedef struct qk_gguf_tensor {
    char name[QK_GGUF_MAX_NAME + 1];
    uint32_t n_dims;
    int64_t ne[QK_GGUF_MAX_DIMS]; /* 1 beyond n_dims */
    uint32_t type;                /* ggml type id */
    uint64_t offset;              /* relative to the data section */
    uint64_t nbytes;
} qk_gguf_tensor;

typedef struct qk_gguf_meta {
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv;
    qk_gguf_kv *kv;
    uint64_t n_tensors;
    qk_gguf_tensor *tensors;
    uint64_t meta_end;    /* end of the tensor infos */
    uint64_t data_offset; /* start of the data section (aligned) */
    uint64_t data_size;   /* bytes the tensors occupy, padding included */
} qk_gguf_meta;

/* Size in bytes of one fixed-size value type; 0 for STRING/ARRAY/invalid. */
size_t qk_gguf_type_size(uint32_t type);
const char *qk_gguf_type_name(uint32_t type);

/* ---- lookups on parsed metadata ---- */
const qk_gguf_kv *qk_gguf_find(const qk_gguf_meta *m, const char *key);
int64_t qk_gguf_find_tensor(const qk_gguf_meta *m, const char *name);
/* Integer value of a scalar KV of any integer type (or bool); false if absent,
 * not an integer, or (for u64) above INT64_MAX. */
bool qk_gguf_get_int(const qk_gguf_meta *m, const char *key, int64_t *out);
bool qk_gguf_get_float(const qk_gguf_meta *m, const char *key, double *out);
/* String value; NULL if absent or not a string. */
const char *qk_gguf_get_str(const qk_gguf_meta *m, const char *key);
/* Scalar element i of a fixed-size array as int / double. */
bool qk_gguf_arr_int(const qk_gguf_kv *kv, uint64_t i, int64_t *out);
bool qk_gguf_arr_float(const qk_gguf_kv *kv, uint64_t i, double *out);

void qk_gguf_meta_free(qk_gguf_meta *m);

/* ---- the reader ---- */
typedef struct qk_gguf_file {
    char *path;
    int fd;
    uint64_t file_size;
    qk_gguf_meta meta;
    /* Called after every successful qk_gguf_read_tensor with the bytes read
     * (the integrity guard hashes them as they stream; see integrity.h). */
    void (*on_read)(void *ctx, uint64_t tensor, uint64_t off, const void *data, size_t n);
    void *on_read_ctx;
} qk_gguf_file;

/* Opens read-only and parses and validates all metadata (reads only the
 * header bytes). Truncated data sections are refused here with "expected N
 * bytes, have M". */
int qk_gguf_open(const char *path, qk_gguf_file **out, qk_err *err);
void qk_gguf_close(qk_gguf_file *f);

/* Reads n bytes at offset off inside tensor t's data (pread; thread-safe). */
int qk_gguf_read_tensor(const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t off, void *dst,
                        size_t n, qk_err *err);
/* Advice on bytes [off, off + n) of tensor t's data (clipped to it):
 * file_advice.h. Thread-safe; never fails. */
void qk_gguf_advise(const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t off, uint64_t n, qk_advice advice);
/* Reads n bytes at absolute file offset (pread; thread-safe). */
int qk_gguf_pread(const qk_gguf_file *f, uint64_t off, void *dst, size_t n, qk_err *err);

/* Parses metadata from a memory buffer that holds (at least the start of) a
 * file of total size file_size (pass len for a whole file). `name` is used in
 * messages. Used by fuzzers and by the reader. */
int qk_gguf_parse_buffer(const void *buf, size_t len, uint64_t file_size, const char *name,
                         qk_gguf_meta *out, qk_err *err);

#endif
