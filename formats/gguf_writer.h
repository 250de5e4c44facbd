/* gguf_writer.h - writing GGUF files in one streaming pass.
 *
 * Declare everything first (KVs in the order they are to appear, then tensor
 * infos: name, type, shape), then qk_gguf_writer_begin() computes every
 * offset and writes the header; tensor data is then streamed with
 * qk_gguf_writer_write() in declaration order, in chunks of any size (the
 * writer zero-pads each tensor to the alignment when its last byte arrives).
 * Fixed-size KV values (scalars and arrays of fixed-size elements) can be
 * rewritten after the data with qk_gguf_writer_patch() - integrity hashes use
 * this - since their size was fixed up front, no offset moves.
 *
 * Output goes through core/atomic_file: a temporary file in the destination
 * folder, fsync'd and renamed only by qk_gguf_writer_finish(); any failure or
 * qk_gguf_writer_free() before finish removes it.
 */
#ifndef QK_GGUF_WRITER_H
#define QK_GGUF_WRITER_H

#include "gguf.h"

typedef struct qk_gguf_writer qk_gguf_writer;

/* Called for every data byte range written (padding included), in order,
 * with the index of the tensor it belongs to. */
typedef void (*qk_gguf_data_hook)(void *ctx, uint64_t tensor, const void *data, size_t n);

qk_gguf_writer *qk_gguf_writer_new(void);
void qk_gguf_writer_free(qk_gguf_writer *w);

/* Alignment of the data section (power of two); default 32. Writes no KV:
 * add general.alignment yourself if it is not 32. */
void qk_gguf_writer_set_alignment(qk_gguf_writer *w, uint32_t alignment);
void qk_gguf_writer_set_hook(qk_gguf_writer *w, qk_gguf_data_hook hook, void *ctx);

/* KVs. Keys must be unique (a duplicate is an error). Values are copied. */
int qk_gguf_writer_add_kv(qk_gguf_writer *w, const qk_gguf_kv *kv, qk_err *err);
int qk_gguf_writer_add_scalar(qk_gguf_writer *w, const char *key, uint32_t type, const void *value, qk_err *err);
int qk_gguf_writer_add_u32(qk_gguf_writer *w, const char *key, uint32_t v, qk_err *err);
int qk_gguf_writer_add_i32(qk_gguf_writer *w, const char *key, int32_t v, qk_err *err);
int qk_gguf_writer_add_u64(qk_gguf_writer *w, const char *key, uint64_t v, qk_err *err);
int qk_gguf_writer_add_f32(qk_gguf_writer *w, const char *key, float v, qk_err *err);
int qk_gguf_writer_add_bool(qk_gguf_writer *w, const char *key, bool v, qk_err *err);
int qk_gguf_writer_add_str(qk_gguf_writer *w, const char *key, const char *v, qk_err *err);
/* Array of n fixed-size elements of `type` (raw LE bytes). */
int qk_gguf_writer_add_arr(qk_gguf_writer *w, const char *key, uint32_t type, const void *data, uint64_t n,
                           qk_err *err);
int qk_gguf_writer_add_arr_str(qk_gguf_writer *w, const char *key, const char *const *v, uint64_t n, qk_err *err);
/* Same with explicit lengths (strings may contain any bytes). */
int qk_gguf_writer_add_arr_strn(qk_gguf_writer *w, const char *key, const char *const *v, const uint64_t *len,
                                uint64_t n, qk_err *err);
/* The provenance convert and quantize outputs carry (docs/design.md): quantkit.version (this build's), then
 * quantkit.command when command_line is not NULL. */
int qk_gguf_writer_add_provenance(qk_gguf_writer *w, const char *command_line, qk_err *err);
/* A scalar KV set as gguf-py's GGUFWriter sets one: a key already declared takes the new type and value in its
 * place (its first position), any other is added at the end. */
int qk_gguf_writer_set_scalar(qk_gguf_writer *w, const char *key, uint32_t type, const void *value, qk_err *err);
/* Removes a declared KV (before begin). Returns false if absent. */
bool qk_gguf_writer_remove_kv(qk_gguf_writer *w, const char *key);
const qk_gguf_meta *qk_gguf_writer_meta(const qk_gguf_writer *w);

/* Tensor infos; n_dims as given (1..4). */
int qk_gguf_writer_add_tensor(qk_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                              const int64_t *ne, qk_err *err);

/* Exact sizes (valid any time after declaration): header incl. padding, and
 * the whole file. */
uint64_t qk_gguf_writer_header_size(const qk_gguf_writer *w);
uint64_t qk_gguf_writer_file_size(const qk_gguf_writer *w);

/* Opens the output (atomically) and writes the header. */
int qk_gguf_writer_begin(qk_gguf_writer *w, const char *path, qk_err *err);
/* The serialized header bytes (valid after begin; patches are reflected). */
const unsigned char *qk_gguf_writer_header(const qk_gguf_writer *w, uint64_t *len);
/* Streams tensor data in declaration order. */
int qk_gguf_writer_write(qk_gguf_writer *w, const void *data, size_t n, qk_err *err);
/* Index of the tensor the next written byte belongs to (n_tensors when all done). */
uint64_t qk_gguf_writer_current_tensor(const qk_gguf_writer *w);
/* Rewrites the value of a fixed-size KV (same type and size as declared). */
int qk_gguf_writer_patch(qk_gguf_writer *w, const char *key, const void *value, size_t n, qk_err *err);
/* The same for a string array: v[0..n) must have the lengths declared (a
 * value known only after the data, e.g. a hex digest, declared as a
 * placeholder of its length). */
int qk_gguf_writer_patch_strs(qk_gguf_writer *w, const char *key, const char *const *v, uint64_t n, qk_err *err);
/* Checks all data was written, fsyncs and renames into place. */
int qk_gguf_writer_finish(qk_gguf_writer *w, qk_err *err);

#endif
