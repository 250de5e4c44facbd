/* quant_search.h - the scale searches behind ggml's quantizers.
 *
 * Each is a literal port of the function of the same name in ggml-quants.c
 * (same loop order, float accumulators, same strict/non-strict compares):
 * reordering a single sum changes output bytes. Weights `w`/`qw` may be NULL
 * where ggml allows it.
 */
#ifndef QK_QUANT_SEARCH_H
#define QK_QUANT_SEARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define QK_GROUP_MAX_EPS 1e-15f

/* ggml's nearest_int: round half to even via the 1.5*2^23 trick; valid for
 * |f| <= 4194303 and, like ggml's release build, deterministic outside. */
static inline int qk_nearest_int(float f) {
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* (int8_t)f as x86-64 compiles it (cvttss2si, then the low byte): values
 * outside int32 (and NaN) give 0x80000000 -> 0. Spelled out so every
 * architecture produces the bytes llama.cpp's x86-64 build writes. */
static inline int8_t qk_trunc_i8(float f) {
    if (!(f > -2147483649.0f && f < 2147483648.0f)) return 0;
    return (int8_t)(uint8_t)(uint32_t)(int32_t)f;
}

/* (uint8_t)f likewise. */
static inline uint8_t qk_trunc_u8(float f) { return (uint8_t)qk_trunc_i8(f); }

float qk_make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw);
float qk_make_q3_quants(int n, int nmax, const float *x, int8_t *L, bool do_rmse);
float qk_make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                          uint8_t *Laux, float rmin, float rdelta, int nstep, bool use_mad);
float qk_make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                          uint8_t *Laux, float rmin, float rdelta, int nstep, bool use_mad);
float qk_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights);

#endif
