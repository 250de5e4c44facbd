/* hf_forward_gemma4.h - the reference forward pass of Gemma 4's text model
 * (transformers' modeling_gemma4.py, model_type gemma4_text; see
 * hf_forward_gemma4.c for the math and what it leaves out), used by
 * hf_forward.c for that model_type. Float32 weights, double accumulators.
 * Test support only. */
#ifndef QK_HF_FORWARD_GEMMA4_H
#define QK_HF_FORWARD_GEMMA4_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_forward.h"

typedef struct hf_gemma4 hf_gemma4;

/* cfg: the text config; NULL with a reason in err on failure. */
hf_gemma4 *hf_gemma4_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen);
int hf_gemma4_vocab(const hf_gemma4 *m);
/* token at position pos (0, 1, ... in order; 0 starts over); logits may be NULL. 0 / -1 (reason in err). */
int hf_gemma4_next(hf_gemma4 *m, int32_t token, int pos, float *logits, char *err, size_t errlen);
void hf_gemma4_free(hf_gemma4 *m);

#endif
