/* convert_run.h - qk_convert_model with the options the convert tests share. */
#ifndef QK_CONVERT_RUN_H
#define QK_CONVERT_RUN_H

#include <stddef.h>

#include "qk_error.h"

/* Converts the HF folder dir to out (type "f16", "q4_k_m", ...; default
 * output tensor type) with `threads` threads; QK_OK or QK_FAIL with err set. */
int convert_run(const char *dir, const char *out, const char *type, int threads, qk_err *err);

/* Converting dir (to "<dir>.gguf", F16) fails with a message containing
 * want and leaves no output: failed CHECKs otherwise. */
void convert_expect_refusal(const char *dir, const char *want);

/* For each row {quantization_config JSON, message}: a copy of the model
 * folder src declaring that config (its safetensors as they are, in
 * "<tmp>/<tag>-<row>") is refused with that message. */
void convert_expect_quant_refusals(const char *src, const char *tag, const char *const q[][2], size_t n);

#endif
