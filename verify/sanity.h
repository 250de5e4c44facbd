/* sanity.h - the data checks llama.cpp applies on load (ggml_validate_row_data):
 * no NaN or Inf in F32/F16/BF16 tensors, nor in the fp16 scales of quant
 * blocks. */
#ifndef QK_SANITY_H
#define QK_SANITY_H

#include <stdint.h>

#include "gguf.h"
#include "qk_error.h"

/* Counts the non-finite values (or scales) in tensor t of file f, streaming.
 * Types without floats to check (integers) count 0. */
int qk_sanity_count_nonfinite(const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t *bad, qk_err *err);

#endif
