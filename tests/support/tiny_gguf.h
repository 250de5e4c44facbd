/* tiny_gguf.h - small Llama-shaped GGUF models for tests, written with
 * quantkit's own writer (their loadability by llama.cpp is itself tested).
 * Deterministic in the seed. */
#ifndef QK_TINY_GGUF_H
#define QK_TINY_GGUF_H

#include <stdbool.h>
#include <stdint.h>

#include "quantize_model.h"

typedef struct tiny_gguf_spec {
    int n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab;
    int n_expert;     /* 0 = dense; else MoE with ffn_*_exps */
    bool tied;        /* no output.weight */
    uint32_t wtype;   /* type of 2-D weights: F32, F16 or BF16 */
    uint64_t seed;
} tiny_gguf_spec;

/* Writes the model; returns 0 on success (prints the error otherwise). */
int tiny_gguf_write(const char *path, const tiny_gguf_spec *s);

/* Quantize options as llama-quantize's defaults give them, for `ftype`
 * (a QK_FTYPE_*); the caller sets whatever else its case needs. */
qk_quantize_opts tiny_quantize_opts(int ftype);

#endif
