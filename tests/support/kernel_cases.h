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

#endif
