#include "kernels.h"

#include <string.h>

#include "f16_bf16.h"
#include "iq1.h"
#include "iq2.h"
#include "iq3.h"
#include "iq4.h"
#include "k_quants.h"
#include "legacy.h"
#include "lowbit.h"
#include "q1_q2.h"

#if defined(__x86_64__) || defined(_M_X64)
#define QK_HAVE_X86_KERNELS 1
#endif
#if defined(__aarch64__)
#define QK_HAVE_NEON_KERNELS 1
#endif

#define K(t, isa, q, dq) {QK_TYPE_##t, QK_ISA_##isa, q, dq}

/* F32 "quantization" is a copy; listing it keeps callers free of special cases. */
static size_t quantize_f32(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    (void)imatrix;
    memcpy(dst, src, (size_t)(nrows * n_per_row) * sizeof(float));
    return (size_t)(nrows * n_per_row) * sizeof(float);
}
static void dequantize_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * sizeof(float)); }

/* Scalar kernels: one per type that quantkit can quantize. */
static const qk_kernel k_scalar[] = {
    K(F16, SCALAR, qk_quantize_f16, qk_dequantize_row_f16),
    K(BF16, SCALAR, qk_quantize_bf16, qk_dequantize_row_bf16),
    K(Q8_0, SCALAR, qk_quantize_q8_0, qk_dequantize_row_q8_0),
    K(Q4_0, SCALAR, qk_quantize_q4_0, qk_dequantize_row_q4_0),
    K(Q4_1, SCALAR, qk_quantize_q4_1, qk_dequantize_row_q4_1),
    K(Q5_0, SCALAR, qk_quantize_q5_0, qk_dequantize_row_q5_0),
    K(Q5_1, SCALAR, qk_quantize_q5_1, qk_dequantize_row_q5_1),
    K(IQ4_NL, SCALAR, qk_quantize_iq4_nl, qk_dequantize_row_iq4_nl),
    K(IQ4_XS, SCALAR, qk_quantize_iq4_xs, qk_dequantize_row_iq4_xs),
    K(Q2_K, SCALAR, qk_quantize_q2_k, qk_dequantize_row_q2_k),
    K(Q3_K, SCALAR, qk_quantize_q3_k, qk_dequantize_row_q3_k),
    K(Q4_K, SCALAR, qk_quantize_q4_k, qk_dequantize_row_q4_k),
    K(Q5_K, SCALAR, qk_quantize_q5_k, qk_dequantize_row_q5_k),
    K(Q6_K, SCALAR, qk_quantize_q6_k, qk_dequantize_row_q6_k),
    K(IQ2_XXS, SCALAR, qk_quantize_iq2_xxs, qk_dequantize_row_iq2_xxs),
    K(IQ2_XS, SCALAR, qk_quantize_iq2_xs, qk_dequantize_row_iq2_xs),
    K(IQ2_S, SCALAR, qk_quantize_iq2_s, qk_dequantize_row_iq2_s),
    K(IQ3_XXS, SCALAR, qk_quantize_iq3_xxs, qk_dequantize_row_iq3_xxs),
    K(IQ3_S, SCALAR, qk_quantize_iq3_s, qk_dequantize_row_iq3_s),
    K(IQ1_S, SCALAR, qk_quantize_iq1_s, qk_dequantize_row_iq1_s),
    K(IQ1_M, SCALAR, qk_quantize_iq1_m, qk_dequantize_row_iq1_m),
    K(TQ1_0, SCALAR, qk_quantize_tq1_0, qk_dequantize_row_tq1_0),
    K(TQ2_0, SCALAR, qk_quantize_tq2_0, qk_dequantize_row_tq2_0),
    K(MXFP4, SCALAR, qk_quantize_mxfp4, qk_dequantize_row_mxfp4),
    K(NVFP4, SCALAR, qk_quantize_nvfp4, qk_dequantize_row_nvfp4),
    K(Q1_0, SCALAR, qk_quantize_q1_0, qk_dequantize_row_q1_0),
    K(Q2_0, SCALAR, qk_quantize_q2_0, qk_dequantize_row_q2_0),
    K(F32, SCALAR, quantize_f32, dequantize_f32),
};

/* SIMD variants, one X86 and one NEON line per type (docs/design.md, "Kernels: type x
 * ISA -> file"). Dequantize is SIMD only for F16/BF16, the input types whose
 * rows every quantize and convert reads; the others stay scalar (not hot). */
/* A type's AVX2 and AVX-512 quantizers and dequantizers, and its NEON ones:
 * each expands to nothing where that ISA's kernels are not built. */
#ifdef QK_HAVE_X86_KERNELS
#define X86(T, avx2, avx512, dq_avx2, dq_avx512) K(T, AVX2, avx2, dq_avx2), K(T, AVX512, avx512, dq_avx512),
#else
#define X86(T, avx2, avx512, dq_avx2, dq_avx512)
#endif
#ifdef QK_HAVE_NEON_KERNELS
#define NEON(T, q, dq) K(T, NEON, q, dq),
#else
#define NEON(T, q, dq)
#endif
static const qk_kernel k_simd[] = {
    X86(F16, qk_quantize_f16_avx2, qk_quantize_f16_avx512, qk_dequantize_row_f16_avx2, qk_dequantize_row_f16_avx512)
    NEON(F16, qk_quantize_f16_neon, qk_dequantize_row_f16_neon)
    X86(BF16, qk_quantize_bf16_avx2, qk_quantize_bf16_avx512, qk_dequantize_row_bf16_avx2,
        qk_dequantize_row_bf16_avx512)
    NEON(BF16, qk_quantize_bf16_neon, qk_dequantize_row_bf16_neon)
    X86(Q8_0, qk_quantize_q8_0_avx2, qk_quantize_q8_0_avx512, qk_dequantize_row_q8_0, qk_dequantize_row_q8_0)
    NEON(Q8_0, qk_quantize_q8_0_neon, qk_dequantize_row_q8_0)
    X86(Q4_0, qk_quantize_q4_0_avx2, qk_quantize_q4_0_avx512, qk_dequantize_row_q4_0, qk_dequantize_row_q4_0)
    NEON(Q4_0, qk_quantize_q4_0_neon, qk_dequantize_row_q4_0)
    X86(Q4_1, qk_quantize_q4_1_avx2, qk_quantize_q4_1_avx512, qk_dequantize_row_q4_1, qk_dequantize_row_q4_1)
    NEON(Q4_1, qk_quantize_q4_1_neon, qk_dequantize_row_q4_1)
    X86(Q5_0, qk_quantize_q5_0_avx2, qk_quantize_q5_0_avx512, qk_dequantize_row_q5_0, qk_dequantize_row_q5_0)
    NEON(Q5_0, qk_quantize_q5_0_neon, qk_dequantize_row_q5_0)
    X86(Q5_1, qk_quantize_q5_1_avx2, qk_quantize_q5_1_avx512, qk_dequantize_row_q5_1, qk_dequantize_row_q5_1)
    NEON(Q5_1, qk_quantize_q5_1_neon, qk_dequantize_row_q5_1)
    X86(IQ4_NL, qk_quantize_iq4_nl_avx2, qk_quantize_iq4_nl_avx512, qk_dequantize_row_iq4_nl, qk_dequantize_row_iq4_nl)
    NEON(IQ4_NL, qk_quantize_iq4_nl_neon, qk_dequantize_row_iq4_nl)
    X86(IQ4_XS, qk_quantize_iq4_xs_avx2, qk_quantize_iq4_xs_avx512, qk_dequantize_row_iq4_xs, qk_dequantize_row_iq4_xs)
    NEON(IQ4_XS, qk_quantize_iq4_xs_neon, qk_dequantize_row_iq4_xs)
    X86(Q2_K, qk_quantize_q2_k_avx2, qk_quantize_q2_k_avx512, qk_dequantize_row_q2_k, qk_dequantize_row_q2_k)
    NEON(Q2_K, qk_quantize_q2_k_neon, qk_dequantize_row_q2_k)
    X86(Q3_K, qk_quantize_q3_k_avx2, qk_quantize_q3_k_avx512, qk_dequantize_row_q3_k, qk_dequantize_row_q3_k)
    NEON(Q3_K, qk_quantize_q3_k_neon, qk_dequantize_row_q3_k)
    X86(Q4_K, qk_quantize_q4_k_avx2, qk_quantize_q4_k_avx512, qk_dequantize_row_q4_k, qk_dequantize_row_q4_k)
    NEON(Q4_K, qk_quantize_q4_k_neon, qk_dequantize_row_q4_k)
    X86(Q5_K, qk_quantize_q5_k_avx2, qk_quantize_q5_k_avx512, qk_dequantize_row_q5_k, qk_dequantize_row_q5_k)
    NEON(Q5_K, qk_quantize_q5_k_neon, qk_dequantize_row_q5_k)
    X86(Q6_K, qk_quantize_q6_k_avx2, qk_quantize_q6_k_avx512, qk_dequantize_row_q6_k, qk_dequantize_row_q6_k)
    NEON(Q6_K, qk_quantize_q6_k_neon, qk_dequantize_row_q6_k)
    X86(IQ2_XXS, qk_quantize_iq2_xxs_avx2, qk_quantize_iq2_xxs_avx512, qk_dequantize_row_iq2_xxs, qk_dequantize_row_iq2_xxs)
    NEON(IQ2_XXS, qk_quantize_iq2_xxs_neon, qk_dequantize_row_iq2_xxs)
    X86(IQ2_XS, qk_quantize_iq2_xs_avx2, qk_quantize_iq2_xs_avx512, qk_dequantize_row_iq2_xs, qk_dequantize_row_iq2_xs)
    NEON(IQ2_XS, qk_quantize_iq2_xs_neon, qk_dequantize_row_iq2_xs)
    X86(IQ2_S, qk_quantize_iq2_s_avx2, qk_quantize_iq2_s_avx512, qk_dequantize_row_iq2_s, qk_dequantize_row_iq2_s)
    NEON(IQ2_S, qk_quantize_iq2_s_neon, qk_dequantize_row_iq2_s)
    X86(IQ3_XXS, qk_quantize_iq3_xxs_avx2, qk_quantize_iq3_xxs_avx512, qk_dequantize_row_iq3_xxs, qk_dequantize_row_iq3_xxs)
    NEON(IQ3_XXS, qk_quantize_iq3_xxs_neon, qk_dequantize_row_iq3_xxs)
    X86(IQ3_S, qk_quantize_iq3_s_avx2, qk_quantize_iq3_s_avx512, qk_dequantize_row_iq3_s, qk_dequantize_row_iq3_s)
    NEON(IQ3_S, qk_quantize_iq3_s_neon, qk_dequantize_row_iq3_s)
    X86(IQ1_S, qk_quantize_iq1_s_avx2, qk_quantize_iq1_s_avx512, qk_dequantize_row_iq1_s, qk_dequantize_row_iq1_s)
    NEON(IQ1_S, qk_quantize_iq1_s_neon, qk_dequantize_row_iq1_s)
    X86(IQ1_M, qk_quantize_iq1_m_avx2, qk_quantize_iq1_m_avx512, qk_dequantize_row_iq1_m, qk_dequantize_row_iq1_m)
    NEON(IQ1_M, qk_quantize_iq1_m_neon, qk_dequantize_row_iq1_m)
    X86(TQ1_0, qk_quantize_tq1_0_avx2, qk_quantize_tq1_0_avx512, qk_dequantize_row_tq1_0, qk_dequantize_row_tq1_0)
    NEON(TQ1_0, qk_quantize_tq1_0_neon, qk_dequantize_row_tq1_0)
    X86(TQ2_0, qk_quantize_tq2_0_avx2, qk_quantize_tq2_0_avx512, qk_dequantize_row_tq2_0, qk_dequantize_row_tq2_0)
    NEON(TQ2_0, qk_quantize_tq2_0_neon, qk_dequantize_row_tq2_0)
    X86(Q1_0, qk_quantize_q1_0_avx2, qk_quantize_q1_0_avx512, qk_dequantize_row_q1_0, qk_dequantize_row_q1_0)
    NEON(Q1_0, qk_quantize_q1_0_neon, qk_dequantize_row_q1_0)
    X86(Q2_0, qk_quantize_q2_0_avx2, qk_quantize_q2_0_avx512, qk_dequantize_row_q2_0, qk_dequantize_row_q2_0)
    NEON(Q2_0, qk_quantize_q2_0_neon, qk_dequantize_row_q2_0)
    X86(MXFP4, qk_quantize_mxfp4_avx2, qk_quantize_mxfp4_avx512, qk_dequantize_row_mxfp4, qk_dequantize_row_mxfp4)
    NEON(MXFP4, qk_quantize_mxfp4_neon, qk_dequantize_row_mxfp4)
    X86(NVFP4, qk_quantize_nvfp4_avx2, qk_quantize_nvfp4_avx512, qk_dequantize_row_nvfp4, qk_dequantize_row_nvfp4)
    NEON(NVFP4, qk_quantize_nvfp4_neon, qk_dequantize_row_nvfp4)
    K(F32, SCALAR, NULL, NULL) /* end marker (never returned) */
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const qk_kernel *qk_kernel_get(qk_type t, qk_isa isa) {
    if (!qk_isa_available(isa)) return NULL;
    const qk_kernel *scalar = NULL;
    for (size_t i = 0; i < N_OF(k_scalar); i++)
        if (k_scalar[i].type == t) scalar = &k_scalar[i];
    if (!scalar) return NULL;
    if (isa == QK_ISA_SCALAR) return scalar;
    for (size_t i = 0; i + 1 < N_OF(k_simd); i++)
        if (k_simd[i].type == t && k_simd[i].isa == isa) return &k_simd[i];
    return scalar;
}

const qk_kernel *qk_kernel_active(qk_type t) { return qk_kernel_get(t, qk_isa_active()); }

int qk_kernel_types(qk_type *out) {
    int n = 0;
    for (int t = 0; t < QK_TYPE_COUNT; t++) {
        for (size_t i = 0; i < N_OF(k_scalar); i++) {
            if ((int)k_scalar[i].type == t) {
                out[n++] = (qk_type)t;
                break;
            }
        }
    }
    return n;
}
