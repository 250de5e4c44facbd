/* logit_ref_as.h - the reference's logits of a checkpoint computed as one of hf_forward's variants of its model
 * type (e.g. "phimoe:llama.cpp", "mamba2:grouped": the model computed as llama.cpp's graph does), for the tests
 * that prove a conversion against what llama.cpp computes and measure how far that is from the exact model. */
#ifndef QK_LOGIT_REF_AS_H
#define QK_LOGIT_REF_AS_H

#include "logit_match.h"

/* logit_ref_hf(r, dir) with dir's config.json model_type set to mt; model_type is then put back to `written` (the
 * checkpoint's own). 0, or -1 after a failed CHECK, as logit_ref_hf. */
int logit_ref_hf_as(logit_ref *r, const char *dir, const char *mt, const char *written);

#endif
