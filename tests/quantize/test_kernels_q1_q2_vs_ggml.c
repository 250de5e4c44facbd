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

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_q1_q2_vs_ggml(void) {
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
    if (!r) return;
    float *x = malloc(sizeof(float) * ROWS * BLOCKS_MAX * QK_MAX);
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = qk_isa_list_available(isas);
    int compared = 0;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const int qk = (int)qk_type_get(k_types[ti])->blck_size;
        for (int ii = 0; ii < n_isa; ii++) {
            const qk_kernel *k = qk_kernel_get(k_types[ti], isas[ii]);
            if (!k || (ii > 0 && k->isa == QK_ISA_SCALAR)) continue;
            int bad = 0;
            for (int c = 0; c < QQ_CASES; c++) {
                for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++) {
                    const int64_t blocks = k_blocks[bi];
                    fill(c, (uint64_t)blocks * 3 + 1, x, ROWS * blocks * qk, qk);
                    kvg_result d;
                    kvg_compare(r, k, x, ROWS, blocks * qk, NULL, NULL, &d);
                    if (d.quant_differs) {
                        bad++;
                        CHECK_MSG(0, "%s/%s %s blocks=%" PRId64 ": first diff at byte %zu: %02x vs ggml %02x",
                                  qk_type_get(k_types[ti])->name, qk_isa_name(k->isa), k_case_names[c], blocks,
                                  d.diff_at, d.ours_at, d.theirs_at);
                    }
                }
            }
            compared++;
            fprintf(stderr, "  %-6s %-7s vs ggml: %s\n", qk_type_get(k_types[ti])->name, qk_isa_name(k->isa),
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
