/* quantize_model.h - GGUF to GGUF quantization, as llama-quantize does it.
 *
 * Reads a model (a plain GGUF or a split set), decides every tensor's output
 * type with the type mix, and writes one GGUF whose KVs, tensor order and
 * tensor bytes equal llama_model_quantize's output for the same options,
 * except for the quantkit.* keys (provenance and integrity) that quantkit
 * adds at the end. Streaming: memory stays bounded by the pipeline's chunks
 * whatever the model size; output is identical for any thread count.
 */
#ifndef QK_QUANTIZE_MODEL_H
#define QK_QUANTIZE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "imatrix.h"
#include "progress.h"
#include "quant_kv.h"
#include "type_mix.h"

typedef struct qk_quantize_opts {
    qk_mix_options mix;             /* ftype, pure, overrides ... (has_imatrix is set from imatrix) */
    const qk_imatrix *imatrix;      /* NULL or loaded (already filtered) */
    const char *imatrix_path;       /* for quantize.imatrix.file */
    const qk_kv_override *kv_overrides;
    size_t n_kv_overrides;
    int n_threads;                  /* <= 0: all cores */
    bool dry_run;                   /* plan and size only */
    const char *command_line;       /* recorded as quantkit.command */
    qk_progress *progress;
} qk_quantize_opts;

typedef struct qk_quantize_tensor_report {
    char name[64];
    int64_t ne[4];
    int in_type, out_type;
    uint64_t bytes;
} qk_quantize_tensor_report;

typedef struct qk_quantize_report {
    size_t n_tensors;
    qk_quantize_tensor_report *tensors; /* in output order */
    uint64_t file_size;                 /* exact output size */
    uint64_t n_elements;
    uint64_t tensor_bytes;
    uint64_t in_tensor_bytes;
    int n_fallback;
    double seconds;
} qk_quantize_report;

void qk_quantize_report_free(qk_quantize_report *r);

int qk_quantize_model(const char *in_path, const char *out_path, const qk_quantize_opts *o,
                      qk_quantize_report *rep, qk_err *err);

#endif
