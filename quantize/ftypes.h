/* ftypes.h - llama.cpp's file types (enum llama_ftype) as llama-quantize names them.
 *
 * The table mirrors llama-quantize's QUANT_OPTIONS of the pinned release, in
 * the same order: the order matters because a number given on the command line
 * resolves to the FIRST entry with that id (12 -> "Q3_K", 15 -> "Q4_K",
 * 17 -> "Q5_K", 0 -> "F32"), and llama-quantize uses that entry's name for the
 * default output file name (ggml-model-<NAME>.gguf).
 *
 * Every llama.cpp ftype is known (so a user asking for a type whose kernel
 * quantkit lacks gets "known but not supported by quantkit" instead of
 * "unknown"). Whether an ftype is supported is not written down but derived
 * from the kernel table (qk_ftype_supported): every type its mix can pick
 * (the default type and the `uses` of the mixture rules; the shape
 * fallbacks IQ4_NL, Q4_0, Q5_0, Q5_1, Q8_0, F16 always have kernels) must
 * have a kernel, so an ftype becomes supported the moment its kernels land.
 * COPY (only_copy mode) is known but never supported. Some ftypes also
 * need an importance matrix (IQ1/IQ2, IQ3_XXS, IQ3_XS, Q2_K_S): that is the
 * type mix's refusal (type_mix.h), decided per tensor as llama.cpp does.
 */
#ifndef QK_FTYPES_H
#define QK_FTYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "qk_error.h"

/* llama_ftype ids of the pinned release (written to general.file_type). */
enum {
    QK_FTYPE_ALL_F32 = 0,
    QK_FTYPE_F16 = 1,
    QK_FTYPE_Q4_0 = 2,
    QK_FTYPE_Q4_1 = 3,
    QK_FTYPE_Q8_0 = 7,
    QK_FTYPE_Q5_0 = 8,
    QK_FTYPE_Q5_1 = 9,
    QK_FTYPE_Q2_K = 10,
    QK_FTYPE_Q3_K_S = 11,
    QK_FTYPE_Q3_K_M = 12,
    QK_FTYPE_Q3_K_L = 13,
    QK_FTYPE_Q4_K_S = 14,
    QK_FTYPE_Q4_K_M = 15,
    QK_FTYPE_Q5_K_S = 16,
    QK_FTYPE_Q5_K_M = 17,
    QK_FTYPE_Q6_K = 18,
    QK_FTYPE_IQ2_XXS = 19,
    QK_FTYPE_IQ2_XS = 20,
    QK_FTYPE_Q2_K_S = 21,
    QK_FTYPE_IQ3_XS = 22,
    QK_FTYPE_IQ3_XXS = 23,
    QK_FTYPE_IQ1_S = 24,
    QK_FTYPE_IQ4_NL = 25,
    QK_FTYPE_IQ3_S = 26,
    QK_FTYPE_IQ3_M = 27,
    QK_FTYPE_IQ2_S = 28,
    QK_FTYPE_IQ2_M = 29,
    QK_FTYPE_IQ4_XS = 30,
    QK_FTYPE_IQ1_M = 31,
    QK_FTYPE_BF16 = 32,
    QK_FTYPE_TQ1_0 = 36,
    QK_FTYPE_TQ2_0 = 37,
    QK_FTYPE_MXFP4_MOE = 38,
    QK_FTYPE_NVFP4 = 39,
    QK_FTYPE_Q1_0 = 40,
    QK_FTYPE_Q2_0 = 41
};

typedef struct qk_ftype_info {
    const char *name;   /* as llama-quantize spells it: "Q4_K_M", alias "Q4_K", "COPY" */
    int ftype;          /* llama_ftype id */
    int default_type;   /* llama_ftype_get_default_type (ggml type id) */
    const char *desc;   /* llama-quantize's one-line description */
    bool is_alias;      /* Q3_K, Q4_K, Q5_K (same id as the _M entry) and COPY */
    int uses[2];        /* other types its mixture rules pick that may lack a
                         * kernel (0 = none): e.g. IQ1_S -> IQ2_XXS */
} qk_ftype_info;

/* quantkit can produce this ftype: not COPY, and the default type and every
 * type in `uses` have a kernel (kernels.h). */
bool qk_ftype_supported(const qk_ftype_info *fi);

/* Number of table entries, and entry i (0 <= i < count) in llama-quantize order. */
size_t qk_ftype_count(void);
const qk_ftype_info *qk_ftype_at(size_t i);

/* Resolves a command-line TYPE exactly like llama-quantize's try_parse_ftype:
 * first a case-insensitive name match, then a number parsed like std::stoi
 * (leading blanks and a sign allowed, trailing characters ignored, out of int
 * range = no match) resolved to the first entry with that id. NULL if neither
 * matches. Unsupported entries are returned too (check qk_ftype_supported). */
const qk_ftype_info *qk_ftype_lookup(const char *s);

/* qk_ftype_lookup plus the verdict: fails with "unknown file type 'X'" or
 * "file type 'X' ... is known but not supported by quantkit (no kernel for
 * type t; supported: <every supported ftype>)". */
int qk_ftype_parse(const char *s, const qk_ftype_info **out, qk_err *err);

/* The canonical (non-alias) entry for a llama_ftype id, or NULL. */
const qk_ftype_info *qk_ftype_by_id(int ftype);

/* llama_ftype_get_default_type: the ggml type of the mix's bulk, or -1 for
 * ids llama.cpp does not accept as an output type (including 4-6, 33-35). */
int qk_ftype_default_type(int ftype);

#endif
