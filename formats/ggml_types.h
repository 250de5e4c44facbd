/* ggml_types.h - the ggml tensor type table that the whole of quantkit uses.
 *
 * Ids are ggml's `enum ggml_type` of the pinned llama.cpp release (v0.4.0,
 * GGML_TYPE_COUNT = 43). A tensor row of n elements of type t takes
 * n / blck_size * type_size bytes, and n must be a multiple of blck_size.
 * Removed ids (4, 5, 31-33, 36-38) have blck_size 0 and are never valid.
 */
#ifndef QK_GGML_TYPES_H
#define QK_GGML_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum qk_type {
    QK_TYPE_F32 = 0,
    QK_TYPE_F16 = 1,
    QK_TYPE_Q4_0 = 2,
    QK_TYPE_Q4_1 = 3,
    QK_TYPE_Q5_0 = 6,
    QK_TYPE_Q5_1 = 7,
    QK_TYPE_Q8_0 = 8,
    QK_TYPE_Q8_1 = 9,
    QK_TYPE_Q2_K = 10,
    QK_TYPE_Q3_K = 11,
    QK_TYPE_Q4_K = 12,
    QK_TYPE_Q5_K = 13,
    QK_TYPE_Q6_K = 14,
    QK_TYPE_Q8_K = 15,
    QK_TYPE_IQ2_XXS = 16,
    QK_TYPE_IQ2_XS = 17,
    QK_TYPE_IQ3_XXS = 18,
    QK_TYPE_IQ1_S = 19,
    QK_TYPE_IQ4_NL = 20,
    QK_TYPE_IQ3_S = 21,
    QK_TYPE_IQ2_S = 22,
    QK_TYPE_IQ4_XS = 23,
    QK_TYPE_I8 = 24,
    QK_TYPE_I16 = 25,
    QK_TYPE_I32 = 26,
    QK_TYPE_I64 = 27,
    QK_TYPE_F64 = 28,
    QK_TYPE_IQ1_M = 29,
    QK_TYPE_BF16 = 30,
    QK_TYPE_TQ1_0 = 34,
    QK_TYPE_TQ2_0 = 35,
    QK_TYPE_MXFP4 = 39,
    QK_TYPE_NVFP4 = 40,
    QK_TYPE_Q1_0 = 41,
    QK_TYPE_Q2_0 = 42,
    QK_TYPE_COUNT = 43
} qk_type;

typedef struct qk_type_info {
    const char *name;     /* ggml's lower-case name, e.g. "q4_K" is written "q4_k" here */
    uint32_t blck_size;   /* elements per block; 0 = removed/unknown id */
    uint32_t type_size;   /* bytes per block */
    bool is_quantized;
    bool can_quantize;    /* quantkit has quantize+dequantize kernels for it */
} qk_type_info;

/* Info for id t, or NULL if t is out of range or a removed id. */
const qk_type_info *qk_type_get(uint32_t t);

/* Bits per weight of type t (type_size*8/blck_size); 0 for invalid ids. */
double qk_type_bpw(uint32_t t);

/* Bytes of one row of n elements; returns false (and leaves *out alone) if t is
 * invalid, n is not a multiple of the block size, or the size overflows 64 bits. */
bool qk_row_size(uint32_t t, int64_t n, uint64_t *out);

/* Case-insensitive lookup by ggml name ("q4_k", "Q8_0", "bf16"). -1 if unknown. */
int qk_type_from_name(const char *name);

#endif
