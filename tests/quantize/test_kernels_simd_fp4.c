/* The MXFP4 / NVFP4 SIMD quantizers (quantize/kernels/fp4_body.h) on the
 * inputs their lane search is built around, beyond the generic edge cases of
 * kernel_cases.h (fp4_cases.h has the rows):
 *  - ties: values a few ulps either side of the midpoints between adjacent
 *    lattice points, and exactly on them, for both formats' scales and many
 *    amax (powers of two and their neighbours, where MXFP4's exponent steps);
 *  - exact: values on lattice points (every nibble in every position);
 *  - NaN (quiet with payloads, negative, signalling) and +-inf at every one
 *    of the 64 positions of a chunk, and whole runs of them;
 *  - tiny amax (subnormal: MXFP4's exponent wraps; 2^-125..2^-123: a
 *    subnormal MXFP4 scale; NVFP4's subnormal and zero UE4M3 scales), huge
 *    amax up to FLT_MAX (NVFP4's scale saturates), all-equal blocks, +0/-0;
 * on 1, 2, 3, 9 and 64 blocks per row, 1 and 3 rows, unaligned source and
 * destination, and row lengths that are not whole blocks (both refuse,
 * writing nothing).
 * Parts "avx2" / "avx512" / "neon": that ISA's variant == the scalar kernel,
 * byte for byte (skipped where the CPU lacks the ISA; NEON runs under qemu in
 * the aarch64 cross build). Against ggml: test_kernels_fp4_vs_ggml. */
#include "fp4_cases.h"
#include "kernel_cases.h"
#include "kernels.h"
#include "qk_test.h"

static const qk_type k_types[] = {QK_TYPE_MXFP4, QK_TYPE_NVFP4};
static const int64_t k_blocks[] = {1, 2, 3, 9, 64};
enum { ROWS_MAX = 3 };

static qk_isa g_isa;

/* fp4_cases.h's fill, whose chunks do not depend on the block size */
static void fill_any_qk(int c, uint64_t seed, float *x, int64_t n, int qk) {
    (void)qk;
    fill(c, seed, x, n);
}

/* NaN/inf must reach all 64 positions of a chunk: more seeds there */
static const int k_seeds[FP4_CASES] = {[FP4_TIES] = 2, [FP4_EXACT] = 2, [FP4_NAN_INF_AT] = 8,
                                       [FP4_TINY] = 2, [FP4_HUGE] = 2, [FP4_EQUAL_ZEROS] = 2};

/* each ISA's variant == the scalar kernel on every case of fp4_cases.h (and kernel_cases.h's, and the refused partial
 * rows) */
static void test_fp4_simd_equals_scalar(void) {
    static const kc_case_set cases = {FP4_CASES, k_case_names, fill_any_qk, k_seeds,
                                      k_blocks, sizeof k_blocks / sizeof k_blocks[0], ROWS_MAX};
    kc_variants_equal_scalar(k_types, 2, g_isa, &cases);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_fp4_simd_equals_scalar));
    return qk_test_summary();
}
