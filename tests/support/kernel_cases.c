#include "kernel_cases.h"

#include <float.h>
#include <math.h>

#include "qk_test.h"
#include "quant_inputs.h"

enum { KC_NAN_SCATTER, KC_INF_SCATTER, KC_NAN_INF_MIX, KC_SIGNED_ZEROS, KC_INF_BLOCKS, KC_EXTRA_COUNT };
static const char *k_extra_names[KC_EXTRA_COUNT] = {"nan_scatter", "inf_scatter", "nan_inf_mix", "signed_zeros",
                                                        "inf_blocks"};

int kc_count(void) { return QI_COUNT + KC_EXTRA_COUNT; }

const char *kc_name(int c) {
    if (c < QI_COUNT) return qk_quant_input_name((qk_quant_input_case)c);
    return (c - QI_COUNT < KC_EXTRA_COUNT) ? k_extra_names[c - QI_COUNT] : "?";
}

void kc_fill(int c, uint64_t seed, float *x, int64_t n) {
    if (c < QI_COUNT) {
        qk_quant_input((qk_quant_input_case)c, seed, x, n);
        return;
    }
    qk_quant_input(QI_GAUSS_UNIT, seed, x, n);
    qk_rng r = {seed * 0x2545F4914F6CDD1DULL + (uint64_t)c};
    switch (c - QI_COUNT) {
    case KC_NAN_SCATTER:
        for (int64_t i = 0; i < n; i++)
            if (qk_rng_next(&r) % 23 == 0) x[i] = (qk_rng_next(&r) & 1) ? NAN : -NAN;
        break;
    case KC_INF_SCATTER:
        for (int64_t i = 0; i < n; i++)
            if (qk_rng_next(&r) % 29 == 0) x[i] = (qk_rng_next(&r) & 1) ? INFINITY : -INFINITY;
        break;
    case KC_NAN_INF_MIX:
        for (int64_t i = 0; i < n; i++) {
            const int64_t blk = i / 32, j = i % 32;
            if (blk % 4 == 1) x[i] = NAN;                                 /* a whole NaN block */
            else if (blk % 4 == 2 && (j == 0 || j == 31)) x[i] = NAN;     /* first/last lane */
            else if (blk % 4 == 3 && j % 8 == 5) x[i] = (j & 16) ? INFINITY : -INFINITY;
        }
        break;
    case KC_SIGNED_ZEROS:
        for (int64_t i = 0; i < n; i++) {
            const uint64_t k = qk_rng_next(&r) % 8;
            x[i] = k < 3 ? 0.0f : k < 6 ? -0.0f : (k == 6 ? 1e-3f : -1e-3f);
            if ((i / 32) % 2 == 1) x[i] = (k & 1) ? 0.0f : -0.0f; /* blocks of zeros only */
        }
        break;
    case KC_INF_BLOCKS: /* NaN-free blocks whose range is inf or NaN: inf - inf */
        for (int64_t i = 0; i < n; i++) {
            const int64_t blk = i / 32, j = i % 32;
            if (blk % 8 == 1) x[i] = INFINITY;                          /* all +inf */
            else if (blk % 8 == 3) x[i] = -INFINITY;                    /* all -inf */
            else if (blk % 8 == 5) x[i] = (j & 1) ? FLT_MAX : -FLT_MAX; /* range overflows */
            else if (blk % 8 == 6) x[i] = j < 16 ? INFINITY : -INFINITY;
        }
        break;
    default: break;
    }
}

bool kc_isa_here(qk_isa isa) {
    if (qk_isa_available(isa)) return true;
    qk_test_skip("this CPU has no %s", qk_isa_name(isa));
    return false;
}
