/* The Q1_0 / Q2_0 SIMD quantizers (quantize/kernels/q1_q2_body.h) on the
 * inputs their paths are built around, beyond the generic edge cases of
 * test_kernels_simd_legacy (q1_q2_cases.h):
 *  - Q2_0 ties: x * id within ulps of +-0.5, x at +-0.5 * amax, x at amax
 *    and below it (x * id near 1), for many amax; every 4-code pattern
 *    through every byte;
 *  - Q1_0's in-order sum: blocks whose in-order sum sits exactly on an
 *    fp16 rounding midpoint of the scale (any reordering of the adds
 *    shows), magnitudes over many binades; and its across-blocks layout:
 *    1 to 17 blocks (every count modulo the lane counts 4, 8, 16), counts
 *    around the group sizes 16 and 32 and their multiples, up to 130 (NaN/inf
 *    at every position of a block), on 1 and 3 rows, where groups span rows;
 *  - NaN (both signs, quiet and signalling, two payloads in a block) and
 *    +-inf at every position; tiny amax (subnormal, around where 1/amax
 *    overflows, FLT_MIN); huge amax (Q1_0's sum overflowing); all-equal
 *    blocks, zeros of both signs;
 * on unaligned source and destination, and row lengths that are not whole
 * blocks (both refuse, writing nothing).
 * Parts "avx2" / "avx512" / "neon": that ISA's variant == the scalar kernel,
 * byte for byte (skipped where the CPU lacks the ISA; NEON runs under qemu in
 * the aarch64 cross build). Against ggml: test_kernels_q1_q2_vs_ggml. */
#include "kernel_cases.h"
#include "kernels.h"
#include "q1_q2_cases.h"
#include "qk_test.h"

static const qk_type k_types[] = {QK_TYPE_Q1_0, QK_TYPE_Q2_0};
/* 1..17 (every count modulo the lanes 4, 8, 16), then around the
 * two-group sizes 16, 32 and their multiples */
static const int64_t k_blocks[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                   16, 17, 23, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 130};
enum { ROWS_MAX = 3 };

static qk_isa g_isa;

/* each ISA's variant == the scalar kernel on every case of q1_q2_cases.h at
 * every block count on 1 and 3 rows (and kernel_cases.h's cases, and the
 * refused partial rows) */
static void test_q1_q2_simd_equals_scalar(void) {
    static const kc_case_set cases = {QQ_CASES, k_case_names, fill, NULL,
                                      k_blocks, sizeof k_blocks / sizeof k_blocks[0], ROWS_MAX};
    kc_variants_equal_scalar(k_types, 2, g_isa, &cases);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_q1_q2_simd_equals_scalar));
    return qk_test_summary();
}
