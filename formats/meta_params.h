/* meta_params.h - the original layout Meta (Llama 1/2/3) and Mistral publish
 * beside or instead of the Hugging Face one: params.json (dim, n_layers,
 * n_heads, ...) and consolidated weights (consolidated.00.pth, or Mistral's
 * consolidated.safetensors) with Meta's names (tok_embeddings.weight,
 * layers.N.attention.wq.weight, ...) and Q/K rows already in the adjacent-
 * pair rope order llama.cpp uses (no un-permuting).
 *
 * qk_meta_params_config derives the Hugging Face LlamaConfig the checkpoint
 * would have (the keys convert reads), as transformers' conversion script
 * convert_llama_weights_to_hf.py does: every value is params.json's, or the
 * default of Meta's ModelArgs, or read off the tensors' shapes, or (the
 * context length, which params.json does not hold) the value of the release
 * the parameters identify; `why` says which values were derived and how.
 * What the layout cannot express as a plain Llama (Mistral's "moe", a
 * "vision_encoder") is refused by name. */
#ifndef QK_META_PARAMS_H
#define QK_META_PARAMS_H

#include <cjson/cJSON.h>

#include "hf_checkpoint.h"
#include "qk_error.h"

/* params is the parsed params.json of ck->dir; ck's tensors are loaded.
 * *config (a new object, the caller's) on success. */
int qk_meta_params_config(const cJSON *params, const qk_hf_checkpoint *ck, cJSON **config, char *why, size_t why_cap,
                          qk_err *err);

#endif
