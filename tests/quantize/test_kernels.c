/* Every kernel in the table against the real ggml: for each type, with and
 * without an importance matrix, on every edge-case input and row length,
 * our bytes == ggml_quantize_chunk and our floats == ggml's to_float. */
#include <math.h>

#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quant_inputs.h"

static int g_reported;

static void check_type(const llama_ref *r, uint32_t t) {
    const qk_kernel *k = qk_kernel_active((qk_type)t);
    const qk_type_info *ti = qk_type_get(t);
    if (!k || !k->quantize) return;
    /* The lattice types: ggml asserts on some of these inputs (and without an
     * imatrix for IQ2_XXS/IQ2_XS/IQ1_S); test_kernels_iq_grid covers them. */
    switch (t) {
    case QK_TYPE_IQ2_XXS: case QK_TYPE_IQ2_XS: case QK_TYPE_IQ2_S: case QK_TYPE_IQ3_XXS:
    case QK_TYPE_IQ3_S: case QK_TYPE_IQ1_S: case QK_TYPE_IQ1_M: return;
    default: break;
    }
    const int64_t blck = ti->blck_size;
    const int64_t lens[] = {1, 2, 3, 7, 16};
    int bad_q = 0, bad_d = 0, cases = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int64_t n_per_row = lens[li] * (blck >= 32 ? blck : 32);
        if (blck == 256 && lens[li] == 16) n_per_row = 4096;
        const int64_t nrows = 3;
        float *x = malloc((size_t)(n_per_row * nrows) * sizeof(float));
        float *im = malloc((size_t)n_per_row * sizeof(float));
        for (int c = 0; c < QI_COUNT; c++) {
            for (int use_im = 0; use_im < 2; use_im++) {
                qk_quant_input((qk_quant_input_case)c, (uint64_t)(li * 131 + 7), x, n_per_row * nrows);
                qk_quant_imatrix((uint64_t)li + 3, im, n_per_row);
                kvg_result d;
                kvg_compare(r, k, x, nrows, n_per_row, use_im ? im : NULL, NULL, &d);
                cases++;
                if (d.quant_differs) {
                    bad_q++;
                    if (g_reported++ < 10)
                        fprintf(stderr, "%s %s imatrix=%d n=%lld: first diff at byte %zu (block %zu): %02x vs %02x\n",
                                ti->name, qk_quant_input_name((qk_quant_input_case)c), use_im, (long long)n_per_row,
                                d.diff_at, d.diff_at / ti->type_size, d.ours_at, d.theirs_at);
                    continue;
                }
                bad_d += d.dequant_differs;
            }
        }
        free(x), free(im);
    }
    fprintf(stderr, "  %-7s %d cases, %d quantize mismatches, %d dequantize mismatches\n", ti->name, cases, bad_q,
            bad_d);
    CHECK_MSG(bad_q == 0, "%s quantize", ti->name);
    CHECK_MSG(bad_d == 0, "%s dequantize", ti->name);
}

static void test_all_types_match_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    int n = 0;
    for (uint32_t t = 0; t < QK_TYPE_COUNT; t++) {
        if (qk_kernel_active((qk_type)t)) {
            check_type(r, t);
            n++;
        }
    }
    CHECK(n >= 8);
}

int main(void) {
    RUN(test_all_types_match_ggml);
    return qk_test_summary();
}
