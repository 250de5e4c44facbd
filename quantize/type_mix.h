/* type_mix.h - llama-quantize's per-tensor type selection ("type mix").
 *
 * Given the facts llama_model_quantize reads from a model (architecture,
 * hparams, tensor names/shapes/types) and the user's options, computes for every
 * tensor exactly what the pinned llama.cpp does (src/llama-quant.cpp):
 * whether it may be quantized (tensor_allows_quantization), its output type
 * (llama_tensor_get_type: output/token-embedding types, --tensor-type
 * overrides, the mixture rules of llama_tensor_get_type_impl, the shape
 * fallback of tensor_type_fallback), whether it needs an importance matrix,
 * and the order tensors are written in (weight_name_comparer: layer parsed
 * with sscanf("blk.%d."), -1 for other names, then strcmp; with keep_split:
 * input shard, then data offset in it).
 *
 * Everything that makes llama_model_quantize fail before writing data is an
 * error here too (qk_err, never an abort): an IQ target without an imatrix,
 * requantizing without allow_requantize, a type without fallback, a tensor
 * whose layer cannot be parsed in a MoE model, an invalid regex.
 * One deliberate difference: llama.cpp applies --output-tensor-type and
 * --token-embedding-type without the shape fallback, so e.g. q6_K on a
 * 96-column token_embd makes it write past its buffers (heap corruption, seen
 * in the test); here that is an error naming the tensor and block size.
 * Name quirk kept: C++ `rfind("weight") == size()-6` is true for every
 * 5-character name, so a 2-D tensor named e.g. "abcde" is quantized.
 *
 * --tensor-type patterns: llama.cpp uses std::regex (ECMAScript) with
 * regex_search; here they are POSIX extended regexes (regcomp REG_EXTENDED |
 * REG_NOSUB, searched with regexec, which is unanchored like regex_search).
 * To keep common ECMAScript patterns working, \d \D \s \S \w \W (and \d \s \w
 * inside [...]) are rewritten to bracket expressions before compiling.
 * Rejected with an error instead of silently matching differently: lookaround
 * and other (?...) groups, lazy quantifiers (*? +? ?? }?), \b \B, and other
 * backslash escapes inside [...] except \\ and escaped punctuation such as
 * \. (POSIX treats a backslash in brackets as a literal). Remaining difference:
 * POSIX brackets need ']' first to contain it literally ([]a]), ECMAScript
 * writes [\]a] (rejected here). First matching pattern wins, as in llama.cpp.
 * Patterns given on llama-quantize's command line are lowercased first (see
 * qk_mix_parse_tensor_type); qk_mix_plan_compute does not lowercase.
 */
#ifndef QK_TYPE_MIX_H
#define QK_TYPE_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

#define QK_MIX_TYPE_UNSET (-1)

typedef struct qk_mix_tensor {
    const char *name;
    int64_t ne[4]; /* ggml order: ne[0] = row length; unused dims = 1 */
    int type;      /* input ggml type id */
    uint32_t shard;  /* input shard index (split sets; 0 for a single file) */
    uint64_t offset; /* data offset within that shard (orders tensors with keep_split) */
} qk_mix_tensor;

/* The model facts, as llama_model_loader reads them from the input GGUF
 * (after --override-kv overrides, which the loader applies too). */
typedef struct qk_mix_model {
    const char *arch;       /* general.architecture */
    uint32_t n_layer;       /* <arch>.block_count (n_layer_all) */
    uint32_t n_layer_nextn; /* <arch>.nextn_predict_layers, 0 if absent */
    uint32_t n_head;        /* <arch>.attention.head_count (layer 0 if an array) */
    uint32_t n_head_kv;     /* <arch>.attention.head_count_kv (layer 0), = n_head if absent */
    uint32_t n_expert;      /* <arch>.expert_count, 0 if absent */
    const qk_mix_tensor *tensors; /* in input (file) order */
    size_t n_tensors;
} qk_mix_model;

typedef struct qk_mix_override {
    const char *pattern; /* regex, see header comment */
    int type;            /* ggml type id */
} qk_mix_override;

typedef struct qk_mix_options {
    int ftype;                 /* llama_ftype id (see ftypes.h) */
    bool pure;                 /* --pure */
    bool leave_output_tensor;  /* --leave-output-tensor */
    bool allow_requantize;     /* --allow-requantize */
    int output_tensor_type;    /* --output-tensor-type, QK_MIX_TYPE_UNSET if not given */
    int token_embedding_type;  /* --token-embedding-type, QK_MIX_TYPE_UNSET if not given */
    const qk_mix_override *overrides; /* --tensor-type, in command-line order */
    size_t n_overrides;
    bool has_imatrix; /* an imatrix with at least one entry (after include/exclude) is used */
    bool keep_split;  /* --keep-split: tensors are visited (and written) ordered by
                       * (shard, offset) as llama_model_quantize sorts them with
                       * keep_split, instead of weight_name_comparer order; the
                       * mixture counters (i_attention_wv, i_ffn_down...) see that
                       * order, so the chosen types may differ */
} qk_mix_options;

/* Initializes options to llama_model_quantize_default_params() equivalents
 * (ftype Q8_0, no overrides). */
void qk_mix_options_init(qk_mix_options *o);

typedef struct qk_mix_entry {
    int type;                 /* output type */
    bool allows_quantization; /* tensor_allows_quantization */
    bool convert;             /* type != input type: the data is converted/quantized, else copied */
    bool requires_imatrix;    /* tensor_requires_imatrix for the chosen type */
    bool fallback;            /* the shape fallback changed the type */
    int wanted_type;          /* the type the mix chose before the fallback (= type without one) */
} qk_mix_entry;

typedef struct qk_mix_plan {
    size_t n;
    qk_mix_entry *entries; /* indexed like model->tensors */
    size_t *order;         /* order[k] = input index of the k-th tensor visited and written */
    int n_fallback;        /* number of tensors that needed the shape fallback */
} qk_mix_plan;

/* Whether llama-quantize needs an importance matrix for this file type: its
 * bulk type (llama_ftype_get_default_type) or another type its mix gives
 * layer tensors (qk_ftype_info.uses: IQ3_XS's IQ3_XXS) requires one for
 * ordinary weights (tensor_requires_imatrix), on a model whose rows fit the
 * type's blocks. For `quantkit types` and --help. */
bool qk_mix_ftype_requires_imatrix(int ftype);

/* Computes the plan. On failure *out is left empty (safe to free). */
int qk_mix_plan_compute(const qk_mix_model *m, const qk_mix_options *o, qk_mix_plan *out, qk_err *err);
void qk_mix_plan_free(qk_mix_plan *p);

/* Fails if a converted tensor's target type is one quantkit cannot produce
 * (no kernel), naming the tensor and type. */
int qk_mix_check_supported(const qk_mix_model *m, const qk_mix_plan *p, qk_err *err);

/* The pieces, exposed for the CLI and tests. */

/* Layer of a tensor name as weight_name_comparer and the MoE layer lookup see
 * it: sscanf(name, "blk.%d.") (strtol semantics after "blk."), -1 if none.
 * *ok (if non-NULL) tells whether a number was found. */
int qk_mix_layer_of(const char *name, bool *ok);

/* weight_name_comparer as a qsort-style three-way compare. */
int qk_mix_name_compare(const char *a, const char *b);

/* tensor_allows_quantization (only_copy = false). n_dims as ggml_n_dims. */
bool qk_mix_allows_quantization(const char *name, const int64_t ne[4], bool leave_output_tensor);

/* LLM_TYPE_70B as the pinned loader decides it (llama: 80 layers with GQA and
 * n_expert != 8; qwen2, deci, olmo: 80 layers; jais2: 68 layers). */
bool qk_mix_is_70b(const qk_mix_model *m);

/* Parses one llama-quantize --tensor-type argument "pattern=type": the pattern
 * is lowercased (as llama-quantize does), the type is any ggml type name,
 * case-insensitive. *pattern_out is malloc'd (caller frees). */
int qk_mix_parse_tensor_type(const char *arg, char **pattern_out, int *type_out, qk_err *err);

/* llama-quantize --tensor-type-file: every whitespace-separated word of the
 * file is one "pattern=type" parsed as qk_mix_parse_tensor_type. Fills
 * patterns[i] (malloc'd, caller frees, also on failure: *n_out tells how
 * many) and types[i], at most cap entries; fails on an unreadable file, a
 * bad entry (naming the file and entry) or more than cap entries. */
int qk_mix_read_tensor_type_file(const char *path, char **patterns, int *types, size_t cap, size_t *n_out, qk_err *err);

/* Rewrites an ECMAScript-style pattern into POSIX ERE (see header comment).
 * *out is malloc'd. Fails on constructs that would match differently. */
int qk_mix_regex_translate(const char *pattern, char **out, qk_err *err);

#endif
