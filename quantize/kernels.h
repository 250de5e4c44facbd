/* kernels.h - the table of quantize/dequantize kernels per tensor type and ISA.
 *
 * qk_kernel_get(t, isa) returns the kernel pair for type t on that ISA, or
 * NULL if quantkit has no kernels for t or isa is not available on this
 * machine (see cpu_features.h). Types without a SIMD variant for isa get
 * their scalar kernels: then the returned entry's `isa` field is
 * QK_ISA_SCALAR, so callers can tell a real variant from the fallback.
 * Every variant of a type produces byte-identical output (tested), so the
 * choice only affects speed. qk_kernel_active(t) = qk_kernel_get(t,
 * qk_isa_active()).
 *
 * quantize has the contract of ggml's quantize_<t> (see quants_legacy.h):
 * returns bytes written, or 0 for an invalid shape. dequantize expands n
 * elements (n a multiple of the block size).
 */
#ifndef QK_KERNELS_H
#define QK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_features.h"
#include "ggml_types.h"

typedef size_t (*qk_quantize_fn)(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix);
typedef void (*qk_dequantize_fn)(const void *src, float *dst, int64_t n);

typedef struct qk_kernel {
    qk_type type;
    qk_isa isa;                 /* the ISA this entry really uses */
    qk_quantize_fn quantize;
    qk_dequantize_fn dequantize;
} qk_kernel;

const qk_kernel *qk_kernel_get(qk_type t, qk_isa isa);
const qk_kernel *qk_kernel_active(qk_type t);

/* The types that have kernels, in id order; returns the count (<= QK_TYPE_COUNT). */
int qk_kernel_types(qk_type *out);

#endif
