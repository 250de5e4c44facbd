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

/* k == ggml on every case of tq_cases.h, 1 and 9 blocks (a kvg_rows_fn) */
static int mismatches(const llama_ref *r, const qk_kernel *k, float *x) {
    int bad = 0;
    for (int c = 0; c < TQ_CASES; c++)
        for (int64_t blocks = 1; blocks <= 9; blocks += 8) {
            fill(c, (uint64_t)blocks * 3 + 1, x, ROWS * blocks * 256);
            bad += !kvg_same_quant(r, k, x, ROWS, blocks * 256, k_case_names[c]);
        }
    return bad;
}

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_tq_vs_ggml(void) { kvg_variants_vs_ggml(k_types, 2, ROWS * 9 * 256, mismatches); }

int main(void) {
    RUN(test_tq_vs_ggml);
    return qk_test_summary();
}
