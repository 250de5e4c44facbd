/* model_facts.h - what the type mix needs to know about a GGUF model,
 * read from its KVs the way llama.cpp's loader reads them. */
#ifndef QK_MODEL_FACTS_H
#define QK_MODEL_FACTS_H

#include "gguf.h"
#include "type_mix.h"

/* Fills m from meta (arch, block_count, head counts (layer 0 of an array),
 * expert count, nextn layers) and the given tensor list. Strings point into
 * meta. Fails if general.architecture or block_count is missing. */
int qk_model_facts(const qk_gguf_meta *meta, const qk_mix_tensor *tensors, size_t n, qk_mix_model *m, qk_err *err);

/* ggml_n_dims: rank without trailing 1-dims (at least 1). */
uint32_t qk_ggml_n_dims(const int64_t ne[4]);

#endif
