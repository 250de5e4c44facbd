/* kernels.h - the table of quantization kernels, by ggml type.
 *
 * One place answers "how do I turn float rows into type T, and back": the
 * pipeline, quantize, convert, verify and the benchmarks all go through it.
 * Every entry's bytes equal the pinned ggml's ggml_quantize_chunk /
 * dequantize_row_* (proved by tests/test_kernels.c).
 * F32, F16 and BF16 are included so callers need no special cases.
 */
#ifndef QK_KERNELS_H
#define QK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef size_t (*qk_quantize_fn)(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix);
typedef void (*qk_dequantize_fn)(const void *src, float *dst, int64_t n);

typedef struct qk_kernel {
    uint32_t type;
    qk_quantize_fn quantize;     /* NULL: cannot produce this type */
    qk_dequantize_fn dequantize; /* NULL: cannot read this type */
} qk_kernel;

/* Name of the active kernel variant ("scalar" until SIMD variants exist). */
const char *qk_kernels_isa(void);

/* The kernel for a ggml type id, or NULL if quantkit has none. */
const qk_kernel *qk_kernel_get(uint32_t type);

#endif
