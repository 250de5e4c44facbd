/* The Q1_0 / Q2_0 scalar kernels and every SIMD variant this CPU runs ==
 * ggml_quantize_chunk, byte for byte, on q1_q2_cases.h's rows (Q2_0 ties at
 * +-0.5 * amax and near amax, every code pattern, Q1_0 sums whose order
 * matters, NaN/inf at each position, tiny and huge amax, all-equal and zero
 * blocks) of 1, 9 and 37 blocks x 3 rows (with Q1_0's across-blocks groups
 * spanning rows and leaving a scalar tail). Their identity with the scalar
 * kernel on more lengths is test_kernels_simd_q1_q2's. */
#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "q1_q2_cases.h"
#include "qk_test.h"
#include "simd_vs_scalar.h"

static const qk_type k_types[] = {QK_TYPE_Q1_0, QK_TYPE_Q2_0};
static const int64_t k_blocks[] = {1, 9, 37};
enum { ROWS = 3, BLOCKS_MAX = 37, QK_MAX = 128 };

/* k's bytes == ggml's on case c, ROWS rows of `blocks` blocks; false (after
 * a failed CHECK naming them) when not. */
static bool same_as_ggml(const llama_ref *r, const qk_kernel *k, float *x, int c, int64_t blocks) {
    const int qk = (int)qk_type_get(k->type)->blck_size;
    fill(c, (uint64_t)blocks * 3 + 1, x, ROWS * blocks * qk, qk);
    return kvg_same_quant(r, k, x, ROWS, blocks * qk, k_case_names[c]);
}

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_q1_q2_vs_ggml(void) {
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
    if (!r) return;
    float *x = malloc(sizeof(float) * ROWS * BLOCKS_MAX * QK_MAX);
    int compared = 0;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const qk_kernel *ks[QK_ISA_COUNT];
        const int nk = svs_kernels(k_types[ti], ks);
        for (int i = 0; i < nk; i++, compared++) {
            int bad = 0;
            for (int c = 0; c < QQ_CASES; c++)
                for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++)
                    bad += !same_as_ggml(r, ks[i], x, c, k_blocks[bi]);
            fprintf(stderr, "  %-6s %-7s vs ggml: %s\n", qk_type_get(k_types[ti])->name, qk_isa_name(ks[i]->isa),
                    bad ? "MISMATCH" : "ok");
        }
    }
    CHECK(compared >= 2);
    free(x);
}

int main(void) {
    RUN(test_q1_q2_vs_ggml);
    return qk_test_summary();
}
