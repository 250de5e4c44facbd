/* logit_match.h - do llama.cpp's logits of a converted checkpoint match the
 * reference forward pass? The steps the convert tests of routed (MoE)
 * families share: the reference's logits of one prompt with each position's
 * routing margin, converting and loading a type in llama.cpp, and the
 * largest relative error over the positions that count. */
#ifndef QK_LOGIT_MATCH_H
#define QK_LOGIT_MATCH_H

#include <stdint.h>

#include "llama_run.h"
#include "tiny_hf.h"

/* 12 tokens: past the sliding windows of the tiny models */
#define LOGIT_NP 12

typedef struct {
    int32_t prompt[LOGIT_NP];
    int nv;               /* vocabulary size */
    float *want;          /* LOGIT_NP x nv reference logits, malloc'd */
    double margin[LOGIT_NP]; /* per position, the smallest routing gap over the MoE layers (INFINITY: dense) */
} logit_ref;

/* The prompt the tests run (ids below the tiny byte-level vocabularies of 297; taken modulo a smaller one). */
extern const int32_t logit_prompt[LOGIT_NP];

/* r from support/hf_forward over the HF folder dir, token by token: 0, or
 * -1 after a failed CHECK naming why. */
int logit_ref_hf(logit_ref *r, const char *dir);

/* The tiny checkpoint of s written to dir ("<tmp>/tiny-<arch>-<dtype>/hf") and r from logit_ref_hf over it: 0;
 * -1 after a skip (llama.cpp's libraries are not available) or a failed CHECK. */
int logit_ref_tiny(logit_ref *r, const tiny_hf_spec *s, char *dir, size_t dirlen);

void logit_ref_free(logit_ref *r);

/* At least 4 positions route with a margin >= margin_min (a failed CHECK
 * naming what otherwise): the quantized types are compared only there. */
void logit_ref_check_margins(const logit_ref *r, double margin_min, const char *what);

/* dir converted to type at out and loaded in llama.cpp, its vocabulary
 * r->nv: the model, or NULL after a failed CHECK naming the type. */
llama_run_model *logit_convert_load(const char *dir, const char *out, const char *type, const logit_ref *r);

/* llama.cpp's logits of r->prompt on m against r->want: the largest
 * hf_rel_err over the positions that count (every one when all, else those
 * whose margin >= margin_min), printed on stderr with the largest over all
 * positions (and, with QK_LOGIT_DEBUG set, each position's), CHECKed to be
 * below tol; what names the model and type in both. Returns that error. */
double logit_ref_compare(const logit_ref *r, llama_run_model *m, int all, double margin_min, double tol,
                         const char *what);

/* dir converted to type at "<tmp>/tiny-<tag>-<type>.gguf", loaded and compared with logit_ref_compare (every
 * position for "f32", which also keeps llama.cpp's K and V in F32 so that the cache's rounding is not measured;
 * else the positions whose margin >= margin_min), what "<tag> <type>": the model for the caller's own checks (free
 * it), or NULL after a failed CHECK; *e the error when e is not NULL. */
llama_run_model *logit_check_type(const logit_ref *r, const char *dir, const char *tag, const char *type, double tol,
                                  double margin_min, double *e);

#endif
