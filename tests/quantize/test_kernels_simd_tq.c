/* The TQ1_0 / TQ2_0 SIMD quantizers (quantize/kernels/tq_body.h) on the
 * inputs their fast path is built around, beyond the generic edge cases of
 * test_kernels_simd_legacy:
 *  - ties: x * id landing exactly on +-0.5 and a few ulps either side, for
 *    many amax (lroundf rounds half away from zero; the kernel compares);
 *  - every base-3 pattern: all 243 five-trit combinations through every qs
 *    byte and all 81 four-trit ones through every qh byte (the packing and
 *    the ceil(q * 256 / 243) division);
 *  - NaN (both signs, payloads) and +-inf at every one of the 256 positions
 *    of a block, before and after its largest |x| (ggml's MAX resets on NaN);
 *  - tiny amax (subnormal, around where 1/amax overflows, FLT_MIN), huge amax
 *    (up to FLT_MAX), all-equal blocks, zeros of both signs;
 * on 1..64 blocks per row, 1 and 3 rows, unaligned source and destination,
 * and row lengths that are not whole blocks (both refuse, writing nothing).
 * Parts "avx2" / "avx512" / "neon": that ISA's variant == the scalar kernel,
 * byte for byte (skipped where the CPU lacks the ISA; NEON runs under qemu in
 * the aarch64 cross build). The inputs are tq_cases.h's; against ggml they
 * are test_kernels_tq_vs_ggml's. */
#include "kernel_cases.h"
#include "kernels.h"
#include "qk_test.h"
#include "tq_cases.h"

static const qk_type k_types[] = {QK_TYPE_TQ1_0, QK_TYPE_TQ2_0};
static const int64_t k_blocks[] = {1, 2, 3, 9, 64};
enum { ROWS_MAX = 3 };

static qk_isa g_isa;

/* tq_cases.h's fill, for the TQ types' one block size of 256 */
static void fill_256(int c, uint64_t seed, float *x, int64_t n, int qk) {
    CHECK_EQ_INT(qk, 256);
    fill(c, seed, x, n);
}

/* each ISA's variant == the scalar kernel on every case of tq_cases.h at
 * every block count on 1 and 3 rows (and kernel_cases.h's cases, and the
 * refused partial rows) */
static void test_tq_simd_equals_scalar(void) {
    static const kc_case_set cases = {TQ_CASES, k_case_names, fill_256, NULL,
                                      k_blocks, sizeof k_blocks / sizeof k_blocks[0], ROWS_MAX};
    kc_variants_equal_scalar(k_types, 2, g_isa, &cases);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_tq_simd_equals_scalar));
    return qk_test_summary();
}
