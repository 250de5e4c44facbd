/* arch_priv.h - what arch.c (tensor plan) and arch_hparams.c (hyper-
 * parameter KVs and generated tensors) share: one descriptor per Hugging
 * Face architecture, and the rope parameters as convert_hf_to_gguf.py's
 * TextModel reads them. */
#ifndef QK_ARCH_PRIV_H
#define QK_ARCH_PRIV_H

#include "arch.h"

/* Which converter class writes the hyper-parameters. */
typedef enum {
    QK_KV_LLAMA,  /* LlamaModel, Qwen2/3, Gemma 1/2: the KVs main has always written */
    QK_KV_PHI3,   /* Phi3MiniModel.set_gguf_parameters (no TextModel base call) */
    QK_KV_GEMMA3, /* TextModel.set_gguf_parameters, then Gemma3Model's overrides */
} qk_kv_style;

struct qk_arch_desc {
    const char *hf, *gguf;
    bool permute_qk;   /* HF rotate-half rows -> llama.cpp's adjacent pairs ("llama" graph only) */
    bool gemma_norm;   /* *norm.weight stored as w - 1: +1 */
    bool drop_lm_head; /* GemmaModel/Gemma2Model filter lm_head.weight out */
    bool post_norms;   /* Gemma 2/3: post_attention_layernorm -> post_attention_norm, + pre/post FFN norms */
    bool qk_norms;     /* per-head q/k RMS norms required (Qwen3, Gemma3) */
    bool fused;        /* Phi3: qkv_proj -> attn_qkv, gate_up_proj -> ffn_up, kept fused */
    bool vocab_rows;   /* Gemma3: token_embd cut to the tokenizer's vocabulary */
    qk_kv_style kv;
};

/* TextModel.__init__'s view of the rope parameters: rope_parameters (or the
 * older rope_scaling), with full_attention / sliding_attention sub-objects
 * when present and the top-level keys mirrored in otherwise. */
typedef struct {
    const cJSON *full;      /* the object describing global layers (NULL if none) */
    const char *type;       /* rope_type (or legacy type); NULL if absent */
    bool has_theta, has_theta_swa, has_orig_ctx;
    double theta, theta_swa, partial_rotary_factor;
    int64_t orig_ctx;       /* original_max_position_embeddings */
} qk_rope_view;

void qk_rope_view_init(const cJSON *cfg, qk_rope_view *r);

/* Generated tensors (rope_freqs, rope_factors_long/short) and plan facts the
 * KVs need; appended to p->tensors (room for 2 is reserved). */
int qk_arch_generated(const qk_hf_checkpoint *ck, const struct qk_arch_desc *ad, int64_t head_dim, qk_conv_plan *p,
                      qk_err *err);

#endif
