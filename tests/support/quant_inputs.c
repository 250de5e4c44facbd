#include "quant_inputs.h"

#include <math.h>

#include "qk_test.h"

static const char *k_names[QI_COUNT] = {
    "gauss", "gauss_unit", "outliers", "zeros", "neg_zeros", "constant", "constant_neg",
    "half_ties", "max_ties", "huge", "fp16_edge", "tiny", "denormal", "sparse", "ramp", "one_hot",
};

const char *qk_quant_input_name(qk_quant_input_case c) {
    return (c >= 0 && c < QI_COUNT) ? k_names[c] : "?";
}

void qk_quant_input(qk_quant_input_case c, uint64_t seed, float *x, int64_t n) {
    qk_rng r = {seed * 0x9E3779B97F4A7C15ULL + (uint64_t)c + 1};
    for (int64_t i = 0; i < n; i++) {
        float v = 0.0f;
        switch (c) {
        case QI_GAUSS: v = 0.02f * qk_rng_gauss(&r); break;
        case QI_GAUSS_UNIT: v = qk_rng_gauss(&r); break;
        case QI_OUTLIERS:
            v = 0.02f * qk_rng_gauss(&r);
            if (qk_rng_next(&r) % 97 == 0) v *= 50.0f;
            break;
        case QI_ZEROS: v = 0.0f; break;
        case QI_NEG_ZEROS: v = -0.0f; break;
        case QI_CONSTANT: v = 0.37f; break;
        case QI_CONSTANT_NEG: v = -1.25f; break;
        case QI_HALF_TIES: {
            /* values k/2 for k in [-16,16]: many exact .5 ties at every scale
             * that divides the range evenly */
            int k = (int)(qk_rng_next(&r) % 33) - 16;
            v = (float)k * 0.5f;
            break;
        }
        case QI_MAX_TIES: {
            int k = (int)(qk_rng_next(&r) % 15) - 7;
            v = (float)k;
            if (i % 32 == 3) v = 8.0f;
            if (i % 32 == 17) v = -8.0f;
            break;
        }
        case QI_HUGE: v = (float)((qk_rng_uniform(&r) * 2.0 - 1.0) * 3.0e38); break;
        case QI_FP16_EDGE: v = (float)((qk_rng_uniform(&r) * 2.0 - 1.0) * 70000.0); break;
        case QI_TINY: v = (float)((qk_rng_uniform(&r) * 2.0 - 1.0) * 1e-30); break;
        case QI_DENORMAL: v = (float)((qk_rng_uniform(&r) * 2.0 - 1.0) * 1e-39); break;
        case QI_SPARSE: v = (qk_rng_next(&r) % 13 == 0) ? qk_rng_gauss(&r) : 0.0f; break;
        case QI_RAMP: v = (float)(i - n / 2) / (float)(n > 1 ? n : 1); break;
        case QI_ONE_HOT: v = (i == n / 3) ? 1.5f : 0.0f; break;
        case QI_COUNT: break;
        }
        x[i] = v;
    }
}

void qk_quant_imatrix(uint64_t seed, float *w, int64_t n) {
    qk_rng r = {seed * 0xD1B54A32D192ED03ULL + 7};
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = qk_rng_next(&r) % 20;
        if (k == 0) w[i] = 0.0f;
        else w[i] = (float)exp((qk_rng_uniform(&r) * 2.0 - 1.0) * 6.0);
    }
}
