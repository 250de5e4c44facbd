/* arch.h - how a Hugging Face architecture becomes a llama.cpp GGUF:
 * the GGUF architecture name, its hyper-parameter keys, and every output
 * tensor with its source and transformation.
 *
 * A plan is computed before any output is written; an unsupported
 * architecture, a missing config value, an unexpected or missing tensor is a
 * clear error then. Tensors are listed in convert_hf_to_gguf.py's order:
 * generated tensors first (rope_freqs), then the checkpoint's, sorted by
 * (shard, name).
 */
#ifndef QK_ARCH_H
#define QK_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf_writer.h"
#include "gptq.h"
#include "hf_checkpoint.h"

typedef struct qk_conv_tensor {
    char name[64];               /* GGUF name */
    uint32_t n_dims;
    int64_t ne[4];               /* GGUF order: ne[0] = row length */
    const qk_hf_tensor *src;     /* NULL for generated and stacked tensors */
    const qk_hf_tensor **experts; /* MoE: n_experts sources stacked along the outer dimension (owned array) */
    int n_experts;
    int permute_heads;           /* > 0: undo HF's rotate-half row order for this many heads */
    float add;                   /* added to every value (Gemma stores norm weights as w - 1) */
    bool neg_exp;                /* every value v written as -exp(v) (Mamba's A_log -> A), after add */
    /* multipliers the converter folds into the weights (Falcon-H1's muP), before add: every value times mul[0], then
     * times mul[1] (0: none), each a float32 product as torch's; then the rows of segment k (from seg_end[k - 1], or
     * 0, up to seg_end[k]) times seg_mul[k], k < n_seg */
    float mul[2];
    int n_seg;
    int64_t seg_end[5];
    float seg_mul[5];
    float *generated;            /* data of a generated tensor (owned) */
    bool keep_f32;               /* 1-D tensors, norms, biases: always F32 */
    /* rows gathered from a fused source (elements, for a 1-D one): QK_ROWS_*, with the head size and the q
     * heads per kv head of the layout; see qk_arch_source_row */
    int row_map;
    int64_t map_hd, map_rep;
    bool transposed;             /* the source is stored [ne0, ne1] (GPT-2's Conv1D): output row r is its column r */
    /* > 0: src is a 3-D [E, ., .] tensor of every expert (qk_fused_expert_rule): each expert's matrix has
     * fused_rows rows (columns when transposed), this tensor's ne[1] of them from fused_row0 on */
    int64_t fused_rows, fused_row0;
    /* FP8 checkpoints (quantization_config.quant_method "fp8"): the source
     * rows times their <weight>_scale_inv, as convert_hf_to_gguf.py's
     * dequant_simple: weight.float() * scale.float(), one float32 multiply per
     * value, the scale of the value's block (scale_block rows x columns; 0 x 0:
     * one scale per tensor or per row), indexed by the source row (before any
     * head permutation), partial edge blocks included. */
    const qk_hf_tensor *scale;
    const qk_hf_tensor **expert_scales; /* stacked FP8 experts: expert e's scale or NULL (owned array) */
    int64_t scale_block[2];
    /* GPTQ checkpoints: src is the layer's qweight, dequantized through
     * gptq.h (NULL otherwise; owned). */
    qk_gptq *gptq;
    /* gpt-oss (arch_gptoss.c): a part of a 3-D expert source (src), QK_X3_*; x3d_part 0/1 picks the even/odd
     * gate/up rows of a fused gate_up source, x3d_stride is 2 for those, else 1; x3d_scales: MXFP4 scales */
    int x3d, x3d_part, x3d_stride;
    const qk_hf_tensor *x3d_scales;
} qk_conv_tensor;

enum {
    QK_X3_NONE = 0,
    QK_X3_COLS,  /* float [E, A, B]: output row (e, r) = column r * stride + part of slice e (x @ W layout) */
    QK_X3_BIAS,  /* float [E, B]: output row e = elements r * stride + part */
    QK_X3_MXFP4, /* U8 blocks [E, R, nb, 16] + scales [E, R, nb]: output row (e, r) = source row r * stride + part */
    QK_X3_MLA_KB, /* kv_b_proj [H * (nope + v), rank] -> attn_k_b [nope, rank, H]: row (h, c) = column c of head h's
                   * first nope rows (x3d_part = nope, x3d_stride = v) */
    QK_X3_MLA_VB, /* -> attn_v_b [rank, v, H]: row (h, j) = source row h * (nope + v) + nope + j */
    QK_X3_QWEN35, /* Qwen 3.5's DeltaNet tensors: value heads reordered, A_log -> -exp (arch_qwen35.c) */
};
/* Rows of a QK_X3_* tensor as float32 (arch_gptoss.c; MXFP4 dequantized exactly). */
int qk_arch_x3d_rows(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, int64_t row0, int64_t nrows, float *dst,
                     qk_err *err);
/* A QK_X3_MXFP4 tensor written as ggml MXFP4 straight from the source bytes (no float round trip): bytes
 * [off, off + n) of the output (17-byte blocks: E8M0 scale, 16 bytes of nibbles, value j low / j + 16 high). */
int qk_arch_x3d_mxfp4_raw(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, uint64_t off, size_t n, void *dst,
                          qk_err *err);

typedef struct qk_arch_desc qk_arch_desc; /* arch_priv.h */

/* Tensors of a multimodal checkpoint that are not part of the language
 * model (vision tower, projector, audio), by name prefix: llama.cpp runs
 * them from a separate projector (mmproj) file, which convert does not
 * write. */
typedef struct qk_left_out {
    char prefix[64];             /* e.g. "vision_tower.", "model.visual." */
    uint32_t n_tensors;
    uint64_t n_bytes;            /* of the source data */
} qk_left_out;

typedef struct qk_conv_plan {
    const char *arch;            /* GGUF architecture, e.g. "llama" */
    const qk_arch_desc *desc;
    const char *hf_arch;         /* architectures[0] */
    const char *family;          /* the registry's human name of it */
    const char *caveat;          /* where llama.cpp computes other than the HF model (registry text); NULL: none */
    const char *family_pre;      /* the pre-tokenizer name of the family's own tokenizer (registry); NULL: none */
    size_t n_tensors;
    qk_conv_tensor *tensors;
    size_t cap_tensors;          /* entries allocated (zeroed beyond n_tensors) */
    /* facts for naming, the type mix and the vocabulary */
    uint32_t n_layer, n_head, n_head_kv, n_expert;
    uint64_t vocab_size;         /* config.json vocab_size (0 if absent) */
    uint64_t n_params;
    /* Phi3 long-rope: rope.scaling.attn_factor, which the converter writes
     * while generating the factor tensors, i.e. right after
     * general.architecture (0 = none) */
    float rope_attn_factor;
    /* The text model's config: for a multimodal release, text_config merged
     * over the top level plus the config class's defaults (owned); else the
     * checkpoint's config.json (not owned). */
    const cJSON *config;
    cJSON *owned_config;
    qk_left_out left_out[8];     /* multimodal: groups of tensors left out */
    int n_left_out;
} qk_conv_plan;

/* The pre-tokenizer name llama.cpp's converter gives the own tokenizer of the first registry family writing GGUF
 * architecture gguf_arch that names one (qk_arch_desc.pre), or NULL. */
const char *qk_arch_family_pre(const char *gguf_arch);

/* Supported architectures, for messages: "LlamaForCausalLM, ...". */
const char *qk_arch_supported_list(void);

/* The registry, for listings (convert --help, info, README). */
typedef struct qk_arch_info {
    const char *hf_arch;         /* config.json architectures[0] */
    const char *text_model_type; /* the text model's model_type the entry is for (README: "`hf`, text `type`"); NULL: any */
    const char *gguf_arch;       /* general.architecture written */
    const char *family;          /* human name, e.g. "Gemma 3 (4B/12B/27B, text model)" */
    bool text_of_multimodal;     /* only the language model is converted */
    bool moe;                    /* experts stacked into 3-D tensors */
    const char *caveat;          /* where llama.cpp computes other than the HF model; NULL: none */
} qk_arch_info;
size_t qk_arch_count(void);
/* false when i >= qk_arch_count() */
bool qk_arch_info_at(size_t i, qk_arch_info *out);
/* The description of an HF architecture name whose text model has model_type text_model_type (text_config's, else
 * the top level's; may be NULL): the first of the class naming that model_type or none; NULL when there is none. */
const qk_arch_desc *qk_arch_find(const char *hf_arch, const char *text_model_type);

int qk_arch_plan(const qk_hf_checkpoint *ck, qk_conv_plan *plan, qk_err *err);
/* Adds the architecture's hyper-parameter KVs (convert's order, with
 * general.file_type in its place). */
int qk_arch_add_hparams(const qk_hf_checkpoint *ck, const qk_conv_plan *plan, qk_gguf_writer *w, uint32_t file_type,
                        qk_err *err);
/* KVs the converter writes before general.type (while generating tensors):
 * call right after general.architecture. */
int qk_arch_add_early_kvs(const qk_conv_plan *plan, qk_gguf_writer *w, qk_err *err);
void qk_arch_plan_free(qk_conv_plan *plan);

enum {
    QK_ROWS_NONE = 0,
    QK_ROWS_PER_HEAD_QKV, /* output [q | k | v] from source [head][q, k, v][dim] */
    QK_ROWS_GROUPED_Q,    /* output q (or k, v) from source [kv head][rep q heads, k, v][dim] */
    QK_ROWS_GROUPED_K,
    QK_ROWS_GROUPED_V,
};
/* The source row (element, for a 1-D tensor) of output row r: the head
 * permutation, then the fused layout. */
int64_t qk_arch_source_row(const qk_conv_tensor *t, int64_t r);

/* Source row of output row r of a tensor with permute_heads = h and
 * n_rows rows (HF rotate-half order -> llama.cpp's interleaved pairs). */
static inline int64_t qk_arch_permuted_row(int64_t r, int64_t n_rows, int h) {
    const int64_t hd = n_rows / h, half = hd / 2;
    const int64_t head = r / hd, in = r % hd, i = in / 2, j = in % 2;
    return head * hd + j * half + i;
}

#endif
