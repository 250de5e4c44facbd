/* quant_kv.h - which metadata keys a llama-quantize output carries, in what order,
 * and --override-kv parsing.
 *
 * llama_model_quantize builds the output KV list like this (every gguf_set_*
 * removes an existing key and appends it at the end):
 *   1. all input KVs, in input order (split.* included at first);
 *   2. set general.quantization_version = u32 2;
 *   3. set general.file_type = u32 llama_ftype;
 *   4. remove split.no, split.count, split.tensors.count;
 *   5. set every override, in order: the user's --override-kv first, then the
 *      quantize.imatrix.* keys (file, dataset, entries_count, chunks_count;
 *      see imatrix.h) — llama-quantize appends those after the user's;
 *      an INT override is written as u32(|v|), FLOAT as f32, BOOL, STR;
 *   6. --prune-layers only: set <arch>.block_count (u32, the layers kept).
 * The overrides also reach the model loader, so hparams used by the type mix
 * must be read after applying them.
 */
#ifndef QK_QUANT_KV_H
#define QK_QUANT_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

typedef enum {
    QK_KV_SRC_INPUT = 0,      /* copy input key number `index` */
    QK_KV_SRC_QUANT_VERSION,  /* general.quantization_version = u32 2 */
    QK_KV_SRC_FILE_TYPE,      /* general.file_type = u32 ftype */
    QK_KV_SRC_OVERRIDE        /* override number `index` */
} qk_kv_source;

typedef struct qk_kv_slot {
    const char *key; /* points into the caller's strings */
    qk_kv_source src;
    size_t index;
} qk_kv_slot;

/* Computes the output key order. *out (malloc'd, *n_out entries) must be freed
 * by the caller. Keys must be non-NULL. */
int qk_quant_kv_order(const char *const *input_keys, size_t n_input, const char *const *override_keys,
                      size_t n_overrides, qk_kv_slot **out, size_t *n_out, qk_err *err);

typedef enum { QK_KVO_INT = 0, QK_KVO_FLOAT, QK_KVO_BOOL, QK_KVO_STR } qk_kvo_tag;

typedef struct qk_kv_override {
    qk_kvo_tag tag;
    char key[128];
    int64_t val_i64;   /* INT (atol) */
    double val_f64;    /* FLOAT (atof) */
    bool val_bool;     /* BOOL ("true"/"false") */
    char val_str[128]; /* STR, at most 127 bytes */
} qk_kv_override;

/* Parses "KEY=TYPE:VALUE" like llama.cpp's string_parse_kv_override: key
 * shorter than 128 bytes; TYPE int|float|bool|str; int/float values use
 * atol/atof (lenient: "int:abc" is 0); bool must be exactly true or false;
 * str at most 127 bytes. */
int qk_kv_override_parse(const char *arg, qk_kv_override *out, qk_err *err);

/* The value an INT override is written with: u32(|v|) (llama.cpp #14182). */
uint32_t qk_kv_override_u32(int64_t v);

#endif
