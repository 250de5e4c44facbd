/* convert_run.h - qk_convert_model with the options the convert tests share. */
#ifndef QK_CONVERT_RUN_H
#define QK_CONVERT_RUN_H

#include "qk_error.h"

/* Converts the HF folder dir to out (type "f16", "q4_k_m", ...; default
 * output tensor type) with `threads` threads; QK_OK or QK_FAIL with err set. */
int convert_run(const char *dir, const char *out, const char *type, int threads, qk_err *err);

#endif
