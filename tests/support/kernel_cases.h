/* kernel_cases.h - the input rows the kernel tests sweep: every case of
 * quant_inputs.h plus non-finite and signed-zero cases that only the kernel
 * tests need (NaN and +-inf at scattered positions, a whole NaN block, NaN in
 * the first/last lane, blocks of mixed +0/-0). */
#ifndef QK_KERNEL_CASES_H
#define QK_KERNEL_CASES_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu_features.h"
#include "ggml_types.h"
#include "qk_test.h"

int kc_count(void);
const char *kc_name(int c);
/* Fills x[0..n-1] for case c (0 <= c < kc_count()), deterministic in seed. */
void kc_fill(int c, uint64_t seed, float *x, int64_t n);

/* For a per-ISA part: true when this CPU has isa, else the part is marked
 * skipped ("this CPU has no <isa>") and false. */
bool kc_isa_here(qk_isa isa);

/* A test function run once per SIMD ISA, under its own name. */
typedef struct {
    const char *name;
    void (*fn)(void);
} kc_test;
#define KC_TEST(fn) {#fn, fn}

/* The per-ISA parts of a kernel test: for each of avx2, avx512, neon (in
 * that order) makes it the current part (qk_test_part) and, when this run
 * selects it, either marks it skipped because this CPU lacks the ISA
 * (kc_isa_here: ctest shows that entry Skipped, exit 77) or sets *isa to it
 * and runs tests[0..n-1] as RUN() would (reported by their own names).
 * Call it after main()'s RUN()s: the current part stays "neon".
 *   KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_a), KC_TEST(test_b));
 * The literal text "KC_RUN_ISA_PARTS(" in a test's source is what makes
 * CMake's qk_add_test register the parts test:avx2, test:avx512, test:neon,
 * so write the macro, not kc_run_isa_parts, in a test. */
void kc_run_isa_parts(qk_isa *isa, const kc_test *tests, int n);
#define KC_RUN_ISA_PARTS(isa_var, ...)                         \
    kc_run_isa_parts(&(isa_var), (const kc_test[]){__VA_ARGS__}, \
                     (int)(sizeof((const kc_test[]){__VA_ARGS__}) / sizeof(kc_test)))

/* Value helpers of the per-type case generators (tests/quantize/<type>_cases.h),
 * which aim their inputs at a kernel's rounding points. */

/* v stepped k ulps (k may be negative) */
static inline float kc_ulps(float v, int k) {
    for (; k > 0; k--) v = nextafterf(v, INFINITY);
    for (; k < 0; k++) v = nextafterf(v, -INFINITY);
    return v;
}

/* A random magnitude spread over the binades of [lo, hi] (in float: the
 * rows the tests pin depend on these exact values). */
static inline float kc_rand_mag(qk_rng *r, float lo, float hi) {
    const float v = expf(logf(lo) + qk_rng_uniform(r) * (logf(hi) - logf(lo)));
    return v < lo ? lo : v > hi ? hi : v;
}

/* A block's largest |x| for the "tiny" cases, b-th of a cycle: near where
 * 1/amax overflows (~2.94e-39), a subnormal, FLT_MIN, a denormal-only
 * block; a few ulps either side (never 0). */
static inline float kc_tiny_amax(qk_rng *r, int64_t b) {
    static const float amaxes[] = {2.9e-39f, 2.95e-39f, 2.938736e-39f, 1e-40f, 1.4e-45f, FLT_MIN, 1e-37f};
    const float amax = kc_ulps(amaxes[b % (int64_t)(sizeof amaxes / sizeof amaxes[0])], (int)(qk_rng_next(r) % 5) - 2);
    return amax > 0 ? amax : 1.4e-45f;
}

struct qk_kernel;

/* Variant v against the scalar kernel s of the same type on nrows rows of n
 * floats at x, read from an exact-size, unaligned copy (a read past the rows
 * is a sanitizer error): both write to a destination one byte off alignment
 * with guard bytes after it. Returns 0 when they return the same size and write
 * the same bytes (guards untouched alike), else fails a CHECK naming the
 * type, v's ISA, `what` and the first differing byte, and returns 1. */
int kc_variant_differs(const struct qk_kernel *s, const struct qk_kernel *v, const float *x, int64_t nrows, int64_t n,
                       const char *what);

/* A per-type SIMD test's own cases (its *_cases.h) for kc_variants_equal_scalar: n cases, case c named names[c] and
 * written by fill (count floats at x, blocks of qk, from seed), seeds[c] seeds each (seeds NULL: one), on
 * blocks[0..nb) blocks per row and rows 1, 3, ..., rows_max. */
typedef struct {
    int n;
    const char *const *names;
    void (*fill)(int c, uint64_t seed, float *x, int64_t count, int qk);
    const int *seeds;
    const int64_t *blocks;
    size_t nb;
    int rows_max;
} kc_case_set;

/* For each of types[0..nt-1]: its scalar kernel and isa's own variant (a
 * failed CHECK when isa has none, only the scalar fallback) compared by
 * kc_variant_differs on every one of cases' cases, each of its seeds k, block
 * counts blocks[bi] and row counts, filled (seed 10 bi + rows + 100 k) in an
 * x that starts one float into its allocation (an unaligned source); then
 * every case of this header on one row of 64 blocks, and rows of b/2, 3b/2,
 * b+1 and 2b+1 floats (b the block size) refused by both; and a line
 * "  <type> <isa> <n> row sets: ok|MISMATCH". */
void kc_variants_equal_scalar(const qk_type *types, int nt, qk_isa isa, const kc_case_set *cases);

/* s and v both refuse 2 rows of each length lens[0..nl-1] (not whole
 * blocks), and write nothing for 0 rows: return 0 and write nothing (a
 * failed CHECK otherwise). */
void kc_check_partial_rows_refused(const struct qk_kernel *s, const struct qk_kernel *v, const float *x,
                                   const int64_t *lens, int nl);

#endif
