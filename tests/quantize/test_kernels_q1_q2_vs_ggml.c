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

static const qk_type k_types[] = {QK_TYPE_Q1_0, QK_TYPE_Q2_0};
static const int64_t k_blocks[] = {1, 9, 37};
enum { ROWS = 3, BLOCKS_MAX = 37, QK_MAX = 128 };

/* k == ggml on every case of q1_q2_cases.h at every block count (a kvg_rows_fn) */
static int mismatches(const llama_ref *r, const qk_kernel *k, float *x) {
    const int qk = (int)qk_type_get(k->type)->blck_size;
    int bad = 0;
    for (int c = 0; c < QQ_CASES; c++)
        for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++) {
            fill(c, (uint64_t)k_blocks[bi] * 3 + 1, x, ROWS * k_blocks[bi] * qk, qk);
            bad += !kvg_same_quant(r, k, x, ROWS, k_blocks[bi] * qk, k_case_names[c]);
        }
    return bad;
}

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_q1_q2_vs_ggml(void) { kvg_variants_vs_ggml(k_types, 2, ROWS * BLOCKS_MAX * QK_MAX, mismatches); }

int main(void) {
    RUN(test_q1_q2_vs_ggml);
    return qk_test_summary();
}
