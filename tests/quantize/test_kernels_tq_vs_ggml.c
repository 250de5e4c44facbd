/* The TQ1_0 / TQ2_0 scalar kernels and every SIMD variant this CPU runs ==
 * ggml_quantize_chunk, byte for byte, on tq_cases.h's rows (ties at
 * +-0.5*amax, every base-3 pattern, NaN/inf at each position, tiny and huge
 * amax, all-equal and zero blocks) of 1 and 9 blocks x 3 rows. Their
 * identity with the scalar kernel on more lengths is test_kernels_simd_tq's. */
#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "tq_cases.h"

static const qk_type k_types[] = {QK_TYPE_TQ1_0, QK_TYPE_TQ2_0};
enum { ROWS = 3 };

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_tq_vs_ggml(void) {
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
    if (!r) return;
    float *x = malloc(sizeof(float) * ROWS * 9 * 256);
    int compared = 0;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const qk_kernel *ks[QK_ISA_COUNT];
        const int nk = kvg_variants(k_types[ti], ks);
        for (int i = 0; i < nk; i++, compared++) {
            int bad = 0;
            for (int c = 0; c < TQ_CASES; c++)
                for (int64_t blocks = 1; blocks <= 9; blocks += 8) {
                    fill(c, (uint64_t)blocks * 3 + 1, x, ROWS * blocks * 256);
                    bad += !kvg_same_quant(r, ks[i], x, ROWS, blocks * 256, k_case_names[c]);
                }
            fprintf(stderr, "  %-6s %-7s vs ggml: %s\n", qk_type_get(k_types[ti])->name, qk_isa_name(ks[i]->isa),
                    bad ? "MISMATCH" : "ok");
        }
    }
    CHECK(compared >= 2);
    free(x);
}

int main(void) {
    RUN(test_tq_vs_ggml);
    return qk_test_summary();
}
