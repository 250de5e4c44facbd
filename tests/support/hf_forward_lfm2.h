/* hf_forward_lfm2.h - the reference forward pass of LFM2 (transformers'
 * modeling_lfm2.py, model_type "lfm2"), used by hf_forward.c for that
 * model_type: gated short-convolution layers and attention layers (q/k
 * RMS norms, rotate-half rope) as config.json's layer_types lists them,
 * each followed by a SwiGLU MLP; the final norm is embedding_norm. Float32
 * weights, double accumulators. Test support only. */
#ifndef QK_HF_FORWARD_LFM2_H
#define QK_HF_FORWARD_LFM2_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_forward.h"

typedef struct hf_lfm2 hf_lfm2;

/* cfg: the parsed config.json; NULL with a reason in err on failure. */
hf_lfm2 *hf_lfm2_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen);
int hf_lfm2_vocab(const hf_lfm2 *m);
/* token at position pos (0, 1, ... in order; 0 starts over); logits may be NULL. 0 / -1 (reason in err). */
int hf_lfm2_next(hf_lfm2 *m, int32_t token, int pos, float *logits, char *err, size_t errlen);
void hf_lfm2_free(hf_lfm2 *m);

#endif
