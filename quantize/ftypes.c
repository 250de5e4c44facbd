#include "ftypes.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_types.h"
#include "kernels.h"

/* Same entries, same order as llama-quantize's QUANT_OPTIONS (see header). */
static const qk_ftype_info k_ftypes[] = {
    {"Q1_0", QK_FTYPE_Q1_0, QK_TYPE_Q1_0, " 1.125 bpw quantization", false, {0}},
    {"Q2_0", QK_FTYPE_Q2_0, QK_TYPE_Q2_0, " 2.25 bpw quantization (group 64)", false, {QK_TYPE_Q4_K}},
    {"Q4_0", QK_FTYPE_Q4_0, QK_TYPE_Q4_0, " 4.34G, +0.4685 ppl @ Llama-3-8B", false, {0}},
    {"Q4_1", QK_FTYPE_Q4_1, QK_TYPE_Q4_1, " 4.78G, +0.4511 ppl @ Llama-3-8B", false, {0}},
    {"MXFP4_MOE", QK_FTYPE_MXFP4_MOE, QK_TYPE_MXFP4, " MXFP4 MoE", false, {QK_TYPE_Q8_0}},
    {"Q5_0", QK_FTYPE_Q5_0, QK_TYPE_Q5_0, " 5.21G, +0.1316 ppl @ Llama-3-8B", false, {0}},
    {"Q5_1", QK_FTYPE_Q5_1, QK_TYPE_Q5_1, " 5.65G, +0.1062 ppl @ Llama-3-8B", false, {0}},
    {"IQ2_XXS", QK_FTYPE_IQ2_XXS, QK_TYPE_IQ2_XXS, " 2.06 bpw quantization", false, {QK_TYPE_Q2_K}},
    {"IQ2_XS", QK_FTYPE_IQ2_XS, QK_TYPE_IQ2_XS, " 2.31 bpw quantization", false, {QK_TYPE_Q2_K}},
    {"IQ2_S", QK_FTYPE_IQ2_S, QK_TYPE_IQ2_XS, " 2.5  bpw quantization", false, {QK_TYPE_IQ3_S}},
    {"IQ2_M", QK_FTYPE_IQ2_M, QK_TYPE_IQ2_S, " 2.7  bpw quantization", false, {QK_TYPE_IQ3_S}},
    {"IQ1_S", QK_FTYPE_IQ1_S, QK_TYPE_IQ1_S, " 1.56 bpw quantization", false, {QK_TYPE_IQ2_XXS}},
    {"IQ1_M", QK_FTYPE_IQ1_M, QK_TYPE_IQ1_M, " 1.75 bpw quantization", false, {QK_TYPE_IQ2_XXS}},
    {"TQ1_0", QK_FTYPE_TQ1_0, QK_TYPE_TQ1_0, " 1.69 bpw ternarization", false, {QK_TYPE_Q4_K}},
    {"TQ2_0", QK_FTYPE_TQ2_0, QK_TYPE_TQ2_0, " 2.06 bpw ternarization", false, {QK_TYPE_Q4_K}},
    {"Q2_K", QK_FTYPE_Q2_K, QK_TYPE_Q2_K, " 2.96G, +3.5199 ppl @ Llama-3-8B", false, {0}},
    {"Q2_K_S", QK_FTYPE_Q2_K_S, QK_TYPE_Q2_K, " 2.96G, +3.1836 ppl @ Llama-3-8B", false, {0}},
    {"IQ3_XXS", QK_FTYPE_IQ3_XXS, QK_TYPE_IQ3_XXS, " 3.06 bpw quantization", false, {QK_TYPE_IQ3_S, QK_TYPE_IQ2_S}},
    {"IQ3_S", QK_FTYPE_IQ3_S, QK_TYPE_IQ3_S, " 3.44 bpw quantization", false, {0}},
    {"IQ3_M", QK_FTYPE_IQ3_M, QK_TYPE_IQ3_S, " 3.66 bpw quantization mix", false, {0}},
    {"Q3_K", QK_FTYPE_Q3_K_M, QK_TYPE_Q3_K, "alias for Q3_K_M", true, {0}},
    {"IQ3_XS", QK_FTYPE_IQ3_XS, QK_TYPE_IQ3_S, " 3.3 bpw quantization", false, {QK_TYPE_IQ3_XXS}},
    {"Q3_K_S", QK_FTYPE_Q3_K_S, QK_TYPE_Q3_K, " 3.41G, +1.6321 ppl @ Llama-3-8B", false, {0}},
    {"Q3_K_M", QK_FTYPE_Q3_K_M, QK_TYPE_Q3_K, " 3.74G, +0.6569 ppl @ Llama-3-8B", false, {0}},
    {"Q3_K_L", QK_FTYPE_Q3_K_L, QK_TYPE_Q3_K, " 4.03G, +0.5562 ppl @ Llama-3-8B", false, {0}},
    {"IQ4_NL", QK_FTYPE_IQ4_NL, QK_TYPE_IQ4_NL, " 4.50 bpw non-linear quantization", false, {0}},
    {"IQ4_XS", QK_FTYPE_IQ4_XS, QK_TYPE_IQ4_XS, " 4.25 bpw non-linear quantization", false, {0}},
    {"Q4_K", QK_FTYPE_Q4_K_M, QK_TYPE_Q4_K, "alias for Q4_K_M", true, {0}},
    {"Q4_K_S", QK_FTYPE_Q4_K_S, QK_TYPE_Q4_K, " 4.37G, +0.2689 ppl @ Llama-3-8B", false, {0}},
    {"Q4_K_M", QK_FTYPE_Q4_K_M, QK_TYPE_Q4_K, " 4.58G, +0.1754 ppl @ Llama-3-8B", false, {0}},
    {"Q5_K", QK_FTYPE_Q5_K_M, QK_TYPE_Q5_K, "alias for Q5_K_M", true, {0}},
    {"Q5_K_S", QK_FTYPE_Q5_K_S, QK_TYPE_Q5_K, " 5.21G, +0.1049 ppl @ Llama-3-8B", false, {0}},
    {"Q5_K_M", QK_FTYPE_Q5_K_M, QK_TYPE_Q5_K, " 5.33G, +0.0569 ppl @ Llama-3-8B", false, {0}},
    {"Q6_K", QK_FTYPE_Q6_K, QK_TYPE_Q6_K, " 6.14G, +0.0217 ppl @ Llama-3-8B", false, {0}},
    {"Q8_0", QK_FTYPE_Q8_0, QK_TYPE_Q8_0, " 7.96G, +0.0026 ppl @ Llama-3-8B", false, {0}},
    {"F16", QK_FTYPE_F16, QK_TYPE_F16, "14.00G, +0.0020 ppl @ Mistral-7B", false, {0}},
    {"BF16", QK_FTYPE_BF16, QK_TYPE_BF16, "14.00G, -0.0050 ppl @ Mistral-7B", false, {0}},
    {"F32", QK_FTYPE_ALL_F32, QK_TYPE_F32, "26.00G              @ 7B", false, {0}},
    /* After F32 so that the number 0 resolves to F32, as in llama-quantize. */
    {"COPY", QK_FTYPE_ALL_F32, QK_TYPE_F32, "only copy tensors, no quantizing", true, {0}},
};

#define N_FTYPES (sizeof k_ftypes / sizeof k_ftypes[0])

size_t qk_ftype_count(void) { return N_FTYPES; }

const qk_ftype_info *qk_ftype_at(size_t i) { return i < N_FTYPES ? &k_ftypes[i] : NULL; }

static bool ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

/* std::stoi: strtol base 10 (leading blanks, sign), no digits or out of int
 * range = failure, trailing text ignored. */
static bool parse_stoi(const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno == ERANGE || v < INT_MIN || v > INT_MAX) return false;
    *out = (int)v;
    return true;
}

const qk_ftype_info *qk_ftype_lookup(const char *s) {
    if (!s) return NULL;
    for (size_t i = 0; i < N_FTYPES; i++)
        if (ieq(k_ftypes[i].name, s)) return &k_ftypes[i];
    int id;
    if (!parse_stoi(s, &id)) return NULL;
    for (size_t i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].ftype == id) return &k_ftypes[i];
    return NULL;
}

static bool is_copy(const qk_ftype_info *fi) { return fi->is_alias && fi->ftype == QK_FTYPE_ALL_F32; }

/* The first type of the ftype's mix without a kernel, or -1. */
static int missing_kernel(const qk_ftype_info *fi) {
    if (!qk_kernel_get((qk_type)fi->default_type, QK_ISA_SCALAR)) return fi->default_type;
    for (int i = 0; i < 2; i++)
        if (fi->uses[i] && !qk_kernel_get((qk_type)fi->uses[i], QK_ISA_SCALAR)) return fi->uses[i];
    return -1;
}

bool qk_ftype_supported(const qk_ftype_info *fi) { return fi && !is_copy(fi) && missing_kernel(fi) < 0; }

int qk_ftype_parse(const char *s, const qk_ftype_info **out, qk_err *err) {
    const qk_ftype_info *fi = qk_ftype_lookup(s);
    if (!fi)
        return qk_fail(err, "unknown file type '%s' (expected a llama-quantize type name such as Q4_K_M, or its number)",
                       s ? s : "(null)");
    if (!qk_ftype_supported(fi)) {
        char list[512] = "";
        size_t l = 0;
        for (size_t i = 0; i < N_FTYPES; i++)
            if (qk_ftype_supported(&k_ftypes[i]) && !k_ftypes[i].is_alias && l < sizeof list)
                l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", l ? " " : "", k_ftypes[i].name);
        const int t = is_copy(fi) ? -1 : missing_kernel(fi);
        const qk_type_info *ti = t >= 0 ? qk_type_get((uint32_t)t) : NULL;
        return qk_fail(err, "file type '%s' (ftype %d) is known but not supported by quantkit (%s%s; supported: %s)",
                       fi->name, fi->ftype, ti ? "no kernel for type " : "copy mode",
                       ti ? ti->name : "", list);
    }
    if (out) *out = fi;
    return QK_OK;
}

const qk_ftype_info *qk_ftype_by_id(int ftype) {
    for (size_t i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].ftype == ftype && !k_ftypes[i].is_alias) return &k_ftypes[i];
    return NULL;
}

int qk_ftype_default_type(int ftype) {
    const qk_ftype_info *fi = qk_ftype_by_id(ftype);
    return fi ? fi->default_type : -1;
}
