/* imatrix.h - importance matrices as llama-quantize loads and uses them.
 *
 * Two sources, one result (qk_imatrix): per weight name, the vector quantize
 * passes to ggml_quantize_chunk (ne[0]*n_expert floats):
 *  - legacy .dat (parsed here from bytes, untrusted):
 *      i32 n_entries (>= 1)
 *      per entry: i32 len (>= 0), char name[len] (cut at the first NUL),
 *                 i32 ncall, i32 nval (>= 1), f32 values[nval]
 *      optional trailer: i32 chunk_count, i32 len, char dataset[len]
 *    values are divided by ncall when ncall > 0 (kept as they are otherwise);
 *    a later entry with the same name replaces the earlier one;
 *  - GGUF imatrix (the GGUF reader belongs to the caller, who passes every
 *    tensor and the three metadata keys): tensors "<name>.in_sum2" and
 *    "<name>.counts" (F32) are paired; each count is rounded with lround;
 *    vector[j*ne0+i] = in_sum2[j*ne0+i] / count[j] (ne0 = n_sums / n_counts),
 *    or 1.0 where count[j] <= 0. The file needs imatrix.datasets,
 *    imatrix.chunk_count and imatrix.chunk_size, as llama-quantize requires.
 * Entries are kept sorted by name (strcmp).
 *
 * llama-quantize treats any file that gguf_init_from_file rejects as legacy;
 * the caller should use the GGUF path only for files starting with "GGUF".
 */
#ifndef QK_IMATRIX_H
#define QK_IMATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

typedef struct qk_imatrix_entry {
    char *name;
    float *values;
    size_t n;
} qk_imatrix_entry;

typedef struct qk_imatrix {
    qk_imatrix_entry *entries; /* sorted by name */
    size_t n_entries;
    char **datasets;
    size_t n_datasets;
    int32_t chunk_count; /* legacy trailer or imatrix.chunk_count */
    int32_t chunk_size;
    bool is_legacy;
} qk_imatrix;

void qk_imatrix_free(qk_imatrix *im);

/* Parses a legacy .dat image of `len` bytes; `fname` only names it in errors. */
int qk_imatrix_parse_dat(const void *buf, size_t len, const char *fname, qk_imatrix *out, qk_err *err);

/* One tensor of a GGUF imatrix file. `data` holds n_elements floats when
 * type is F32 (may be unaligned); other tensors may pass data = NULL. */
typedef struct qk_imatrix_gguf_tensor {
    const char *name;
    int type; /* ggml type id */
    const void *data;
    int64_t n_elements;
} qk_imatrix_gguf_tensor;

typedef struct qk_imatrix_gguf_meta {
    bool has_datasets;     /* key imatrix.datasets present (any type) */
    const char *const *datasets; /* its strings when it is a string array, else NULL */
    size_t n_datasets;
    bool has_chunk_count;  /* key present; chunk_count_is_u32 = it is a u32 */
    bool chunk_count_is_u32;
    uint32_t chunk_count;
    bool has_chunk_size;
    bool chunk_size_is_u32;
    uint32_t chunk_size;
} qk_imatrix_gguf_meta;

int qk_imatrix_from_gguf(const qk_imatrix_gguf_tensor *tensors, size_t n_tensors, const qk_imatrix_gguf_meta *meta,
                         const char *fname, qk_imatrix *im, qk_err *err);

/* --include-weights / --exclude-weights: keep only entries whose name contains
 * one of `include`, or drop those containing one of `exclude` (substring
 * tests). Both non-empty is an error, as in llama-quantize. */
int qk_imatrix_filter(qk_imatrix *im, const char *const *include, size_t n_include, const char *const *exclude,
                      size_t n_exclude, qk_err *err);

/* llama_model_quantize refuses an imatrix containing inf or NaN. */
int qk_imatrix_check_finite(const qk_imatrix *im, qk_err *err);

/* The entry for a tensor name, or NULL. */
const qk_imatrix_entry *qk_imatrix_find(const qk_imatrix *im, const char *name);

/* What quantize passes for a tensor being converted: *out = the vector when
 * the entry exists and has ne0*ne2 values; NULL when it is missing, or has the
 * wrong length for token_embd/per_layer_token_embd. Fails on a wrong length
 * for any other tensor, and when `requires` (the plan's requires_imatrix) is
 * set but no vector was found. */
int qk_imatrix_for_tensor(const qk_imatrix *im, const char *tensor_name, int64_t ne0, int64_t ne2, bool requires,
                          const float **out, qk_err *err);

/* The quantize.imatrix.* keys llama-quantize writes when the (filtered)
 * imatrix is non-empty; with an empty one nothing is written and quantization
 * runs without an imatrix. Strings are cut to 127 bytes as llama-quantize does. */
typedef struct qk_imatrix_kv {
    bool present;           /* false: the imatrix is empty, write none of these */
    char file[128];         /* quantize.imatrix.file (str) */
    bool has_dataset;
    char dataset[128];      /* quantize.imatrix.dataset (str): the first dataset */
    uint32_t entries_count; /* quantize.imatrix.entries_count (u32) */
    bool has_chunks_count;  /* only when chunk_count > 0 */
    uint32_t chunks_count;  /* quantize.imatrix.chunks_count (u32) */
} qk_imatrix_kv;

void qk_imatrix_kv_get(const qk_imatrix *im, const char *imatrix_path, qk_imatrix_kv *kv);

#endif
