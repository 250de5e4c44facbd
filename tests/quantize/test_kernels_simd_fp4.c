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
enum { ROWS_MAX = 3, BLOCKS_MAX = 64, QK_MAX = 64 };

static qk_isa g_isa;

/* v == the scalar kernel s on every case of fp4_cases.h (a kc_sweep_fn:
 * kc_variants_equal_scalar adds kernel_cases.h's cases and the refused
 * partial rows) */
static int sweep(const qk_kernel *s, const qk_kernel *v, float *x, int *bad) {
    const int64_t qk = qk_type_get(s->type)->blck_size;
    int runs = 0;
    for (int c = 0; c < FP4_CASES; c++) {
        /* NaN/inf must reach all 64 positions of a chunk: more seeds there */
        const int seeds = c == FP4_NAN_INF_AT ? 8 : 2;
        for (int seed = 0; seed < seeds; seed++)
            for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++)
                for (int64_t rows = 1; rows <= ROWS_MAX; rows += 2, runs++) {
                    fill(c, (uint64_t)(bi * 10 + (size_t)rows) + 100 * (uint64_t)seed, x, rows * k_blocks[bi] * qk);
                    *bad += kc_variant_differs(s, v, x, rows, k_blocks[bi] * qk, k_case_names[c]);
                }
    }
    return runs;
}

static void test_fp4_simd_equals_scalar(void) {
    kc_variants_equal_scalar(k_types, 2, g_isa, ROWS_MAX * BLOCKS_MAX * QK_MAX, sweep);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_fp4_simd_equals_scalar));
    return qk_test_summary();
}
