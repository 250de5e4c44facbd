/* logit_ref_as.h - a conversion proven against a variant of its model type's reference (hf_forward's
 * "phimoe:llama.cpp", "mamba2:grouped": the model computed as llama.cpp's graph does), and how far llama.cpp then is
 * from the exact model: the steps test_phimoe and test_mamba's grouped Mamba-2 share. */
#ifndef QK_LOGIT_REF_AS_H
#define QK_LOGIT_REF_AS_H

#include "llama_run.h"
#include "logit_match.h"

/* logit_ref_hf(r, dir) with dir's config.json model_type set to mt; model_type is then put back to `written` (the
 * checkpoint's own). 0, or -1 after a failed CHECK, as logit_ref_hf. */
int logit_ref_hf_as(logit_ref *r, const char *dir, const char *mt, const char *written);

/* dir converted to type at "<tmp>/tiny-<tag>-<type>.gguf", loaded in llama.cpp (its K and V as llama.cpp keeps them)
 * and its logits compared with r's at every position within tol, "<label> <type>" naming it (logit_ref_compare
 * prints the error): the model for the caller's own checks (free it), or NULL after a failed CHECK. */
llama_run_model *logit_check_as(const logit_ref *r, const char *dir, const char *tag, const char *label,
                                const char *type, double tol);

/* The largest relative error (hf_rel_err) over the positions of m's logits of r's prompt against r's: how far
 * llama.cpp's model is from the reference r, unchecked; 0 after a failed CHECK (the logits not computed). */
double logit_model_distance(const logit_ref *r, llama_run_model *m);

#endif
