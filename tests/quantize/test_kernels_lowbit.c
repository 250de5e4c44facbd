/* The ternary, FP4 and 1-/2-bit kernels (TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0,
 * Q2_0) against the real ggml: for every input case of kernel_cases.h (NaN,
 * inf, signed zeros, huge, denormal ...), row length (1, 2, 3, 7 blocks and
 * 4096 elements) and with and without an imatrix (ggml takes a per-row path
 * for Q1_0/Q2_0 when given one; the others ignore it), our bytes ==
 * ggml_quantize_chunk's, and our dequantization == ggml's to_float bit for
 * bit, of those bytes and of random bytes. */
#include <math.h>

#include <stdio.h>

#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "quant_inputs.h"

static const qk_type k_types[] = {QK_TYPE_TQ1_0, QK_TYPE_TQ2_0, QK_TYPE_MXFP4,
                                  QK_TYPE_NVFP4, QK_TYPE_Q1_0,  QK_TYPE_Q2_0};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

static int row_lengths(qk_type t, int64_t *out) {
    const int64_t b = qk_type_get(t)->blck_size;
    out[0] = b; out[1] = 2 * b; out[2] = 3 * b; out[3] = 7 * b; out[4] = 4096;
    return 5;
}

/* Every variant this CPU runs (scalar, AVX2, AVX-512 / NEON), with and
 * without an importance matrix (these types ignore it, as ggml does), on the
 * edge cases and row lengths: == ggml_quantize_chunk. */
static void test_quantize_matches_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const qk_kernel *ks[QK_ISA_COUNT];
        const int nk = kvg_variants(k_types[ti], ks);
        CHECK_MSG(nk >= 1, "no kernel for %s", qk_type_get(k_types[ti])->name);
        for (int i = 0; i < nk; i++) {
            const qk_kernel *k = ks[i];
            CHECK_EQ_INT((long long)r->ggml_row_size((int)k->type, 4096), (long long)(4096 / qk_type_get(k->type)->blck_size * qk_type_get(k->type)->type_size));
            int64_t lens[5];
            fprintf(stderr, "  %s:\n", qk_isa_name(k->isa));
            kvg_sweep_cases(r, k, lens, row_lengths(k->type, lens), NULL);
        }
    }
}

/* Dequantizing random bytes (every scale and code, NaN/inf fp16 scales,
 * every E8M0 and UE4M3 byte) == ggml's to_float. */
static void test_dequantize_random_bytes(void) { kvg_check_dequant_random(k_types, N_TYPES, 256 * 64, 777); }

static void test_invalid_shapes_write_nothing(void) {
    float x[512] = {0};
    unsigned char out[512];
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const qk_kernel *k = qk_kernel_get(k_types[ti], QK_ISA_SCALAR);
        if (!k) { CHECK(k != NULL); continue; }
        const int64_t b = qk_type_get(k->type)->blck_size;
        memset(out, 0x5A, sizeof out);
        CHECK_EQ_INT(k->quantize(x, out, 1, b + 1, NULL), 0);
        CHECK_EQ_INT(k->quantize(x, out, -1, b, NULL), 0);
        CHECK_EQ_INT(k->quantize(x, out, 1, -b, NULL), 0);
        CHECK_EQ_INT(out[0], 0x5A);
        CHECK(qk_type_get(k->type)->can_quantize);
    }
}

int main(void) {
    RUN(test_invalid_shapes_write_nothing);
    RUN(test_quantize_matches_ggml);
    RUN(test_dequantize_random_bytes);
    return qk_test_summary();
}
