/* compare.h - what quantization cost: each tensor of a GGUF against the same
 * tensor of its source (a Hugging Face folder, mapped as `convert` maps it, or
 * another GGUF), both dequantized to float32 and streamed row by row. */
#ifndef QK_COMPARE_H
#define QK_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "qk_error.h"

typedef struct qk_tensor_diff {
    char name[64];
    uint32_t type;          /* ggml type in the file */
    uint64_t n;             /* elements */
    double rmse, max_abs, snr_db, cosine;
} qk_tensor_diff;

typedef struct qk_compare_report {
    size_t n;
    qk_tensor_diff *tensors;
    double rmse, snr_db, cosine; /* over all compared elements */
    double worst_cosine;
    char worst[64];
} qk_compare_report;

/* progress (NULL: none) gets the GGUF's tensor bytes as its total, then the
 * bytes compared (or skipped), with the tensor's name as the item. */
int qk_compare(const char *file, const char *source, qk_progress *progress, qk_compare_report *rep, qk_err *err);
void qk_compare_report_free(qk_compare_report *rep);

#endif
