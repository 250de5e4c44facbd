/* kernel_cases.h - the input rows the kernel tests sweep: every case of
 * quant_inputs.h plus non-finite and signed-zero cases that only the kernel
 * tests need (NaN and +-inf at scattered positions, a whole NaN block, NaN in
 * the first/last lane, blocks of mixed +0/-0). */
#ifndef QK_KERNEL_CASES_H
#define QK_KERNEL_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu_features.h"

int kc_count(void);
const char *kc_name(int c);
/* Fills x[0..n-1] for case c (0 <= c < kc_count()), deterministic in seed. */
void kc_fill(int c, uint64_t seed, float *x, int64_t n);

/* For a per-ISA part: true when this CPU has isa, else the part is marked
 * skipped ("this CPU has no <isa>") and false. */
bool kc_isa_here(qk_isa isa);

struct qk_kernel;

/* Variant v against the scalar kernel s of the same type on nrows rows of n
 * floats at x: both write to a destination one byte off alignment with
 * guard bytes after it. Returns 0 when they return the same size and write
 * the same bytes (guards untouched alike), else fails a CHECK naming the
 * type, v's ISA, `what` and the first differing byte, and returns 1. */
int kc_variant_differs(const struct qk_kernel *s, const struct qk_kernel *v, const float *x, int64_t nrows, int64_t n,
                       const char *what);

/* s and v both refuse 2 rows of each length lens[0..nl-1] (not whole
 * blocks): return 0 and write nothing (a failed CHECK otherwise). */
void kc_check_partial_rows_refused(const struct qk_kernel *s, const struct qk_kernel *v, const float *x,
                                   const int64_t *lens, int nl);

#endif
