/* tiny_gguf.h - small Llama-shaped GGUF models for tests, written with
 * quantkit's own writer (their loadability by llama.cpp is itself tested).
 * Deterministic in the seed. */
#ifndef QK_TINY_GGUF_H
#define QK_TINY_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quantize_model.h"

typedef struct tiny_gguf_spec {
    int n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab;
    int n_expert;     /* 0 = dense; else MoE with ffn_*_exps */
    bool tied;        /* no output.weight */
    uint32_t wtype;   /* type of 2-D weights: F32, F16 or BF16 */
    uint64_t seed;
} tiny_gguf_spec;

/* The models on which whole files are compared with llama_model_quantize
 * (test_quantize_vs_llama, test_quantize_lowbit_vs_llama): each exercises
 * mixture rules of llama-quantize -
 *  "gqa4-8layers"  GQA 4 and enough layers for use_more_bits / the i_layer
 *                  fractions of the IQ and K mixes;
 *  "tied-odd-rows" tied embeddings, 96 columns (no 256-block fits: the
 *                  shape fallbacks), BF16 source;
 *  "moe8"          8 experts (the MoE rules, MXFP4_MOE), n_expert >= 4;
 *  "f32-narrow"    32 columns, F32 source, a single KV head.
 * Small on purpose: every IQ file type runs on each, on both sides. */
typedef struct tiny_gguf_model {
    const char *label;
    tiny_gguf_spec spec;
} tiny_gguf_model;
#define TINY_GGUF_N_MIX_MODELS 4
extern const tiny_gguf_model tiny_gguf_mix_models[TINY_GGUF_N_MIX_MODELS];

/* Writes the model; returns 0 on success (prints the error otherwise). */
int tiny_gguf_write(const char *path, const tiny_gguf_spec *s);

/* The small model several command-line tests share: 2 layers, 256 wide, 4
 * heads / 2 kv, ffn 512, 1000 tokens, untied, F16, seed 5. */
#define TINY_GGUF_SMALL {2, 256, 4, 2, 512, 1000, 0, false, QK_TYPE_F16, 5}

/* Writes the model as <qk_test_tmpdir()>/<name>, its path into path[0..n);
 * a failed CHECK if it cannot. */
void tiny_gguf_tmp(char *path, size_t n, const char *name, const tiny_gguf_spec *s);

/* Writes the model as <qk_test_tmpdir()>/<in_name> and quantizes it to
 * out_path with tiny_quantize_opts(ftype); a failed CHECK if either fails. */
void tiny_quantized_tmp(const char *in_name, const tiny_gguf_spec *s, int ftype, const char *out_path);

/* Quantize options as llama-quantize's defaults give them, for `ftype`
 * (a QK_FTYPE_*); the caller sets whatever else its case needs. */
qk_quantize_opts tiny_quantize_opts(int ftype);

#endif
