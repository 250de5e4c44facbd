/* quant_inputs.h - the edge-case float rows every kernel test runs over.
 *
 * Each case is a named generator: qk_quant_input(case, seed, x, n) fills n
 * floats. The cases are what makes quantizers disagree: Gaussian weights,
 * a few huge outliers, all zeros, constants, values that land exactly on .5
 * after scaling, huge magnitudes, denormals, mixed signs with ties for the
 * max |x|, and NaN/inf (kernels must at least not crash; bytes are compared
 * where ggml defines them).
 */
#ifndef QK_QUANT_INPUTS_H
#define QK_QUANT_INPUTS_H

#include <stdint.h>

typedef enum {
    QI_GAUSS,          /* N(0, 0.02) like trained weights */
    QI_GAUSS_UNIT,     /* N(0, 1) */
    QI_OUTLIERS,       /* Gaussian + a few values 50x larger */
    QI_ZEROS,          /* all 0 */
    QI_NEG_ZEROS,      /* all -0 */
    QI_CONSTANT,       /* all the same positive value */
    QI_CONSTANT_NEG,   /* all the same negative value */
    QI_HALF_TIES,      /* small integers and k+0.5 values: ties after scaling */
    QI_MAX_TIES,       /* +m and -m both present as the largest |x| */
    QI_HUGE,           /* magnitudes near 1e30 .. 3e38 */
    QI_FP16_EDGE,      /* magnitudes around fp16's max (65504) */
    QI_TINY,           /* magnitudes 1e-30 .. 1e-38 (float normals far below fp16) */
    QI_DENORMAL,       /* float32 subnormals */
    QI_SPARSE,         /* mostly zeros with a few nonzeros per block */
    QI_RAMP,           /* linear ramp */
    QI_ONE_HOT,        /* one nonzero per row */
    QI_COUNT
} qk_quant_input_case;

const char *qk_quant_input_name(qk_quant_input_case c);
void qk_quant_input(qk_quant_input_case c, uint64_t seed, float *x, int64_t n);

/* Importance-matrix weights of length n (positive, with some zeros and a wide
 * dynamic range), deterministic in seed. */
void qk_quant_imatrix(uint64_t seed, float *w, int64_t n);

#endif
