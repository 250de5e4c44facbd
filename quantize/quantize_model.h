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
    size_t max_buffer_bytes;        /* llama-quantize --max-buffer-size: float32 bytes of rows a chunk of a
                                     * tensor holds at once (at least one row per thread); 0 = 32 MiB.
                                     * Memory only: the output is the same for any value */
    bool keep_split;                /* llama-quantize --keep-split: one output shard per input
                                     * shard (see qk_quantize_model) */
    const int32_t *prune_layers;    /* llama-quantize --prune-layers: layer ids (>= 0) to drop, NULL/0 = none;
                                     * see qk_quantize_model */
    size_t n_prune_layers;
    const char *command_line;       /* recorded as quantkit.command */
    qk_progress *progress;
    bool ignore_integrity;          /* write even when the input's embedded hashes do not match
                                     * (by default they are checked as the input streams and a
                                     * mismatch fails before any output is put in place) */
} qk_quantize_opts;

typedef struct qk_quantize_tensor_report {
    char name[64];
    int64_t ne[4];
    int in_type, out_type;
    uint64_t bytes;
    uint32_t shard; /* output file it is in (always 0 without keep_split) */
    bool fallback;  /* rows not a multiple of wanted_type's block: out_type is llama.cpp's fallback */
    int wanted_type;
} qk_quantize_tensor_report;

typedef struct qk_quantize_shard_report {
    char *path;         /* output file (malloc'd) */
    size_t n_tensors;
    uint64_t file_size; /* exact size of this file */
} qk_quantize_shard_report;

typedef struct qk_quantize_report {
    size_t n_tensors;
    qk_quantize_tensor_report *tensors; /* in output order */
    size_t n_shards;                    /* output files: 1, or the input's shards with keep_split */
    qk_quantize_shard_report *shards;
    uint64_t file_size;                 /* exact output size (all files) */
    uint64_t n_elements;
    uint64_t tensor_bytes;
    uint64_t in_tensor_bytes;
    int n_fallback;
    double seconds;
    /* where the seconds went (0 for a dry run's last two): reading the input's
     * header and planning, up to the first output byte; streaming the tensors
     * (parallel); committing (the input's integrity check, fsync, rename),
     * which is serial whatever the thread count */
    double seconds_plan, seconds_tensors, seconds_commit;
} qk_quantize_report;

void qk_quantize_report_free(qk_quantize_report *r);

/* Without keep_split, out_path is the one output file (a split input is
 * merged, as llama-quantize does). With keep_split, out_path is a prefix, as
 * llama_model_quantize's fname_out: input shard k (of N) gives the output
 * "<out_path>-0000k-of-0000N.gguf" (also for N = 1, as llama.cpp names it),
 * holding the same tensors, visited in (shard, offset) order, which the type
 * mix sees too. The first shard carries every KV; when N > 1 every shard
 * carries split.no (u16), split.count (u16) and split.tensors.count (i32), in
 * that order, after the others (the first also gets the quantkit.* keys;
 * all get their integrity keys). Shards after the first have no
 * general.alignment and are padded to 32, as llama.cpp writes them. An input
 * shard other than the first without tensors is refused (llama.cpp crashes on
 * it). Every shard goes to a temporary file; they are renamed into place only
 * after all were written, and on any failure no output file is left. */
/* --prune-layers (as llama_model_quantize's prune_layers, in the order
 * given; llama-quantize's parser sorts them, see qk_prune_layers_parse):
 * visiting tensors in weight_name_comparer order, the first "blk.N." in a
 * name (anywhere in it) has N looked up: a listed layer drops every tensor
 * of it; N below the first listed keeps its number; any other N takes the
 * next free number. The type mix sees the new names (its layer counts stay
 * the input's block_count, as llama.cpp's do), the imatrix is looked up
 * under the original names, and <arch>.block_count is set (u32, last KV)
 * to the number after the last layer kept. */
int qk_quantize_model(const char *in_path, const char *out_path, const qk_quantize_opts *o,
                      qk_quantize_report *rep, qk_err *err);

/* llama-quantize's parse_layer_prune: comma-separated ids, each read like
 * std::stoi (leading blanks and a sign, trailing text ignored); one that is
 * not a number or negative fails naming it. Sorted, duplicates removed.
 * *out is malloc'd (caller frees). */
int qk_prune_layers_parse(const char *s, int32_t **out, size_t *n_out, qk_err *err);

#endif
