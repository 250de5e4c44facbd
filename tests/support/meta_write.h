/* meta_write.h - the Meta original-layout twin of an F32 Hugging Face Llama
 * folder, as transformers' convert_llama_weights_to_hf.py relates the two
 * (HF's q/k = the rotate-half permutation of Meta's adjacent-pair rows):
 * params.json, the weights under Meta's names as consolidated.00.pth
 * (torch's zip format, torch_write.c) or Mistral's
 * consolidated.safetensors, plus the reference code's rope.freqs buffer. */
#ifndef QK_TEST_META_WRITE_H
#define QK_TEST_META_WRITE_H

#include <stdbool.h>

/* Writes the twin of src into dst (created): every file of src but its
 * weights and config.json is copied; params.json has dim, n_layers, n_heads,
 * n_kv_heads of src's config.json, multiple_of 256, norm_eps 1e-05,
 * vocab_size -1 (unless extra sets it) and extra (more JSON members, without
 * braces; "" for none). 0 on success, else prints why. */
int meta_write_twin(const char *src, const char *dst, bool pth, const char *extra);

#endif
