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
    bool allow_nonfinite;      /* write NaN/Inf source weights as they are (else: an error naming them) */
    bool report_tensors;       /* fill rep->tensors (free with qk_convert_report_free) */
    const char *command_line;
    qk_progress *progress;
} qk_convert_opts;

typedef struct qk_convert_tensor_report {
    const char *name;          /* points into the report's own storage */
    int64_t ne[4];
    int out_type;
    int wanted_type;           /* the mix's choice before the shape fallback (= out_type without one) */
    bool fallback;             /* rows not a multiple of wanted_type's block: llama.cpp's fallback type */
    uint64_t bytes;
} qk_convert_tensor_report;

typedef struct qk_convert_report {
    char type_name[32];
    char default_name[256];    /* <Name>-<Size>-<Type>.gguf */
    uint64_t file_size;
    uint64_t n_params;
    size_t n_tensors;
    double seconds;
    const char *hf_arch, *gguf_arch;  /* static strings of the registry */
    const char *caveat;               /* the registry's note of where llama.cpp computes other than HF; NULL */
    char weights[320];         /* the weight files read, and why (safetensors preferred over pytorch_model.bin) */
    char tokenizer[512];       /* how the vocabulary was made when it is not the folder's tokenizer.json /
                                * SentencePiece model as they are (Meta's Llama 3 rank file); "" otherwise */
    /* multimodal checkpoints: the vision/audio/projector tensors left out
     * (llama.cpp runs them from a separate mmproj file) */
    qk_left_out left_out[8];
    int n_left_out;
    int n_fallback;            /* tensors given a fallback type (always counted) */
    /* with opts.report_tensors: every tensor in output order (else NULL) */
    qk_convert_tensor_report *tensors;
    size_t n_tensor_reports;
    char *names;               /* storage of the tensors' names */
} qk_convert_report;

/* Frees rep->tensors; safe on a report that has none. */
void qk_convert_report_free(qk_convert_report *rep);

/* out_path may be NULL: the default name is used, in the current folder. */
int qk_convert_model(const char *dir, const char *out_path, const qk_convert_opts *o, qk_convert_report *rep,
                     qk_err *err);

#endif
