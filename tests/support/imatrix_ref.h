/* imatrix_ref.h - one importance matrix for both sides of a quantize
 * comparison (quantkit's qk_quantize_model and llama.cpp's
 * llama_model_quantize), as llama-quantize's CLI would pass it.
 *
 * imatrix_ref_write(model, path, seed, out) writes a legacy .dat imatrix to
 * path: for every tensor of 2 or more dimensions of model (a GGUF file, or the
 * first shard of a split set; tensors in set order) one entry with ncall 1
 * and ne[0] * ne[2] values uniform in [0.01, 2.01), deterministic in seed.
 * Then it loads the file back into out->im (qk_imatrix_load) and gives the same
 * vectors in out->data in the form llama_model_quantize_params.imatrix takes
 * (terminated by name == NULL). Returns 0, or -1 if the model cannot be
 * opened, the file cannot be written or does not load back; out is freeable
 * either way (and so is a zero-initialized one), with imatrix_ref_free.
 *
 * imatrix_ref_kv_overrides(t, path, kvo, k) writes at kvo[k], kvo[k+1], ...
 * the KV overrides llama-quantize's CLI adds for an imatrix read from path
 * (quantize.imatrix.file, .dataset when the file names one, .entries_count,
 * .chunks_count when known; values from qk_imatrix_kv_get) and returns the
 * new count. kvo needs room for k + 4 entries plus the zeroed terminator
 * llama.cpp looks for (key[0] == 0), which the caller provides.
 */
#ifndef QK_TEST_IMATRIX_REF_H
#define QK_TEST_IMATRIX_REF_H

#include <stdint.h>

#include "imatrix.h"
#include "llama_ref.h"

typedef struct imatrix_ref {
    struct ref_llama_model_imatrix_data *data; /* name == NULL ends it */
    qk_imatrix im;
} imatrix_ref;

int imatrix_ref_write(const char *model, const char *path, uint64_t seed, imatrix_ref *out);
void imatrix_ref_free(imatrix_ref *t);
int imatrix_ref_kv_overrides(const imatrix_ref *t, const char *path, struct ref_llama_model_kv_override *kvo, int k);

#endif
