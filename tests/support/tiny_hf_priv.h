/* tiny_hf_priv.h - the pieces of the tiny checkpoint generator shared by
 * tiny_hf.c (the Llama layout and its variants) and tiny_hf_more.c (the
 * families whose published layouts differ more: GPT-2, GPT-NeoX, InternLM 2,
 * GLM-4, ERNIE 4.5 ...). Test support only. */
#ifndef QK_TINY_HF_PRIV_H
#define QK_TINY_HF_PRIV_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "tiny_hf.h"

/* One tensor to generate: values offset + scale * N(0, 1). */
typedef struct {
    char name[96];
    int n_dims;
    int64_t shape[4]; /* n_dims (1 to 4) used */
    float scale, offset;
} tdef;

/* The byte-level BPE tokenizer (Llama 3's pre-tokenizer) and its config
 * files; returns the vocabulary size (ids of <|begin_of_text|>,
 * <|end_of_text|>, <|eot_id|> are the last three), or -1. */
int tiny_hf_tokenizer_bpe(const char *dir);
/* Appends the special added tokens texts[0..n) to dir's tokenizer.json (ids from its current size on); the new
 * vocabulary size, or -1. */
int tiny_hf_tokenizer_add(const char *dir, const char *const *texts, int n);
/* GLM's added tokens the converter takes its special ids from ([gMASK], <|endoftext|>, <|user|>, <|observation|>) */
extern const char *const tiny_glm_tokens[4];
/* tiny_hf_gemma4tok.c: a Gemma-4-style tokenizer.json (SentencePiece-style BPE, byte fallback) and
 * tokenizer_config.json; returns the vocabulary size, or -1. Ids 0.. are tiny_gemma4_specials. */
enum { TINY_GEMMA4_N_SPECIAL = 24, TINY_GEMMA4_EOS = 1, TINY_GEMMA4_BOS = 2, TINY_GEMMA4_IMAGE = 18 };
extern const char *const tiny_gemma4_specials[TINY_GEMMA4_N_SPECIAL];
int tiny_hf_tokenizer_gemma4(const char *dir);
/* A SentencePiece tokenizer.model (<unk> <s> </s>, byte pieces, a few words)
 * and tokenizer_config.json; returns the piece count, or -1. */
int tiny_hf_tokenizer_spm(const char *dir, const char *tokenizer_class, const char *const *added, int n_added);
/* Appends to the tokenizer.json array added the special token {id, content, single_word, lstrip, rstrip,
 * normalized, special} (all false but special, rstrip as given). */
void tiny_added_token(cJSON *added, int id, const char *content, int rstrip);
/* A new tokenizer.json object: version "1.0", truncation and padding null, and its added_tokens array in *added. */
cJSON *tiny_tokenizer_json(cJSON **added);
/* j's "model", the BPE header tokenizers writes (type, dropout null, unk_token), of one of the two kinds the tiny
 * tokenizers are: Llama 3's byte-level BPE (sp false: no unk_token, ignore_merges) or Gemma's SentencePiece-style
 * BPE (sp true: unk_token "<unk>", continuing_subword_prefix / end_of_word_suffix null, fuse_unk, byte_fallback).
 * The caller adds vocab and merges. */
cJSON *tiny_bpe_model(cJSON *j, bool sp);
/* Writes j as dir/name and frees it; 0 / -1. */
int tiny_hf_json(const char *dir, const char *name, cJSON *j);
/* Writes t[0..n) as the checkpoint's safetensors file(s); 0 / -1. */
int tiny_hf_emit(const char *dir, const tiny_hf_spec *s, const tdef *t, int n);

/* tiny_hf_more.c: writes the folder when s->arch is one of its families
 * (0 / -1), else returns 1. */
int tiny_hf_write_more(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_moe.c: the same for its MoE families. */
int tiny_hf_write_moe(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_hybrid.c: the same for the hybrid families ("lfm2", "lfm2moe", "gemma4" ...) */
int tiny_hf_write_hybrid(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_moe2.c: the same for its families ("gptoss", "gptoss_mxfp4"). */
int tiny_hf_write_moe2(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_llama4.c: the same for Llama 4 ("llama4", "llama4maverick", "llama4text"). */
int tiny_hf_write_llama4(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_qwen35.c: the same for "qwen35moe" / "qwen35". */
int tiny_hf_write_qwen35(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_granitehybrid.c: the same for "granitehybrid" / "granitehybrid_dense" / "granite4". */
int tiny_hf_write_granitehybrid(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_nemotronh.c: the same for "nemotronh" / "nemotronh_moe". */
int tiny_hf_write_nemotronh(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_falconh1.c: the same for "falconh1" / "falconh1_norm". */
int tiny_hf_write_falconh1(const char *dir, const tiny_hf_spec *s);
/* tiny_hf_mamba.c: the same for "mamba" / "falconmamba" / "mamba2" / "mamba2g" / "jamba". */
int tiny_hf_write_mamba(const char *dir, const tiny_hf_spec *s);

/* A growing list of tensor definitions for the family generators. */
typedef struct {
    tdef *t;
    int n, cap;
} tiny_tlist;

/* Appends a tensor of shape [a], [a, b] or [a, b, c] (trailing zeros end the
 * shape; a < 0: a 0-D scalar), its values scale * N(0, 1) + offset; out of memory: not added (the
 * test then misses a tensor and fails). Free l->t when done. */
void tiny_tlist_add(tiny_tlist *l, int64_t a, int64_t b, int64_t c, float scale, float offset, const char *fmt, ...);

/* A new list (NULL when out of memory) holding the embedding [vocab, H], values emb_scale * N(0, 1), and the
 * final norm [H], norm_offset + 0.1 N(0, 1), named "<M><emb>" and "<M><norm>". Free it with tiny_tlist_emit. */
tiny_tlist *tiny_tlist_new(const char *M, const char *emb, const char *norm, int vocab, int H, float emb_scale,
                           float norm_offset);

/* Writes cfg as dir's config.json (freeing it), then tiny_tlist_new(M, ...); NULL when either fails. */
tiny_tlist *tiny_tlist_begin(const char *dir, cJSON *cfg, const char *M, const char *emb, const char *norm, int vocab,
                             int H, float emb_scale, float norm_offset);

/* Writes l's tensors as the checkpoint (tiny_hf_emit) and frees l; 0 / -1. */
int tiny_tlist_emit(const char *dir, const tiny_hf_spec *s, tiny_tlist *l);

/* Layer i's input_layernorm (values 1 + 0.1 N(0, 1)) and its Llama-style
 * attention q, k, v, o projections under the prefix M: q and o qd wide,
 * k and v kd, values ws * N(0, 1). */
void tiny_tlist_add_attn(tiny_tlist *l, const char *M, int i, int H, int qd, int kd, float ws);
/* The attention projections "<pfx>q_proj.weight" [qd, H], k_proj and v_proj [kd, H], values ws * N(0, 1), and
 * o_proj [H, qd], values o_scale * N(0, 1). */
void tiny_tlist_add_qkvo(tiny_tlist *l, const char *pfx, int H, int qd, int kd, float ws, float o_scale);

/* A Mamba-2 mixer's tensors under the prefix pfx ("model.layers.3.mamba."): in_proj [di + conv_dim + nh, H],
 * conv1d [conv_dim, 1, K] and its bias, dt_bias, A_log, D, norm [di] when norm, out_proj [H, di]; conv_dim =
 * di + 2 ng ds; in_proj drawn ws * N(0, 1). */
void tiny_tlist_add_mamba2(tiny_tlist *l, const char *pfx, int H, int di, int nh, int ng, int ds, int K, bool norm,
                           float ws);

/* Adds key, number pairs to a config object, up to a NULL key. */
void tiny_cfg_nums(cJSON *c, ...);
/* Adds the keys up to a NULL one to a config object, each the bool value. */
void tiny_cfg_bools(cJSON *c, int value, ...);
/* A new config object holding "architectures": [cls]. */
cJSON *tiny_cfg_new(const char *cls);
/* The config's name of s->dtype: "bfloat16", "float16" or "float32". */
const char *tiny_hf_torch_dtype(const tiny_hf_spec *s);

/* Qwen3-VL's text rope in c: interleaved M-RoPE, mrope_section [24, 20, 20]
 * of 64 half-dims scaled to head size hd. */
void tiny_cfg_qwen3vl_rope(cJSON *c, int hd);

/* Qwen3-VL's vision_config in top (model_type vision_type, depth layers,
 * deepstack_visual_indexes deep0, deep0 + step, deep0 + 2 step, output H
 * wide) and the image / video token ids. */
void tiny_cfg_qwen3vl_vision(cJSON *top, const char *vision_type, int depth, int deep0, int step, int H);

/* A few tensors of Qwen3-VL's vision tower (model.visual.*), which the
 * conversion leaves out. */
void tiny_tlist_add_qwen3vl_vision(tiny_tlist *l, int H);

#endif
