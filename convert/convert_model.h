/* convert_model.h - a Hugging Face folder to a GGUF llama.cpp runs, in one
 * pass, to any type.
 *
 * Float types (f32, f16, bf16, auto) follow convert_hf_to_gguf.py: 1-D
 * tensors, norms and biases stay F32, everything else takes the type, in the
 * converter's tensor order. Quantized types (q8_0, q4_k_m, ...) apply
 * llama-quantize's type mix to that float model, with the same kernels and
 * tensor order as `quantkit quantize`, but straight from the checkpoint's
 * values: no intermediate file, and for F32 checkpoints no double rounding
 * through F16. For BF16/F16 checkpoints the result equals converting with
 * --type auto and then quantizing. Everything is checked (config, shards,
 * tokenizer, types) before the output is created.
 */
#ifndef QK_CONVERT_MODEL_H
#define QK_CONVERT_MODEL_H

#include <stdbool.h>

#include "arch.h"
#include "imatrix.h"
#include "progress.h"
#include "type_mix.h"

typedef struct qk_convert_opts {
    const char *type;          /* "auto", "f32", "f16", "bf16" or a llama-quantize type name */
    const char *pre_tokenizer; /* override of the BPE pre-tokenizer detection, or NULL */
    const qk_mix_override *overrides;
    size_t n_overrides;
    int output_tensor_type;    /* QK_MIX_TYPE_UNSET or ggml type */
    const qk_imatrix *imatrix;
    int n_threads;
    bool dry_run;
    const char *command_line;
    qk_progress *progress;
} qk_convert_opts;

typedef struct qk_convert_report {
    char type_name[32];
    char default_name[256];    /* <Name>-<Size>-<Type>.gguf */
    uint64_t file_size;
    uint64_t n_params;
    size_t n_tensors;
    double seconds;
    const char *hf_arch, *gguf_arch;  /* static strings of the registry */
    /* multimodal checkpoints: the vision/audio/projector tensors left out
     * (llama.cpp runs them from a separate mmproj file) */
    qk_left_out left_out[8];
    int n_left_out;
} qk_convert_report;

/* out_path may be NULL: the default name is used, in the current folder. */
int qk_convert_model(const char *dir, const char *out_path, const qk_convert_opts *o, qk_convert_report *rep,
                     qk_err *err);

#endif
