/* The MXFP4 / NVFP4 scalar kernels and every SIMD variant this CPU runs ==
 * ggml_quantize_chunk, byte for byte, on fp4_cases.h's rows (midpoints and
 * their ulp neighbours, lattice points, NaN/inf at each position, tiny and
 * huge amax, all-equal and signed-zero blocks) of 1, 2 and 9 blocks x 3
 * rows. Their identity with the scalar kernel on more lengths is
 * test_kernels_simd_fp4's. */
#include "fp4_cases.h"
#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"

static const qk_type k_types[] = {QK_TYPE_MXFP4, QK_TYPE_NVFP4};
static const int64_t k_blocks[] = {1, 2, 9};
enum { ROWS = 3 };

/* k == ggml on every case of fp4_cases.h; returns the mismatches (a kvg_rows_fn) */
static int mismatches(const llama_ref *r, const qk_kernel *k, float *x) {
    const int64_t qk = qk_type_get(k->type)->blck_size;
    int bad = 0;
    for (int c = 0; c < FP4_CASES; c++) {
        /* NaN/inf must reach all 64 positions of a chunk: more seeds there */
        for (int seed = 0; seed < (c == FP4_NAN_INF_AT ? 6 : 1); seed++) {
            for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++) {
                fill(c, (uint64_t)k_blocks[bi] * 3 + 1 + 50 * (uint64_t)seed, x, ROWS * k_blocks[bi] * qk);
                kvg_result d;
                if (kvg_compare(r, k, x, ROWS, k_blocks[bi] * qk, NULL, NULL, &d)) continue;
                bad++;
                CHECK_MSG(0, "%s/%s %s blocks=%" PRId64 ": first diff at byte %zu: %02x vs ggml %02x",
                          qk_type_get(k->type)->name, qk_isa_name(k->isa), k_case_names[c], k_blocks[bi], d.diff_at,
                          d.ours_at, d.theirs_at);
            }
        }
    }
    return bad;
}

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_fp4_vs_ggml(void) { kvg_variants_vs_ggml(k_types, 2, ROWS * 9 * 64, mismatches); }

int main(void) {
    RUN(test_fp4_vs_ggml);
    return qk_test_summary();
}
