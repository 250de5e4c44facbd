/* imatrix_file.h - loading an importance-matrix file of either format
 * llama.cpp writes: GGUF (magic "GGUF": <name>.in_sum2 / <name>.counts
 * tensors plus imatrix.* keys) or the legacy .dat. */
#ifndef QK_IMATRIX_FILE_H
#define QK_IMATRIX_FILE_H

#include "imatrix.h"
#include "qk_error.h"

int qk_imatrix_load(const char *path, qk_imatrix *out, qk_err *err);

#endif
