/* tq_body.h - the SIMD TQ1_0 / TQ2_0 quantizers (layouts in tq.c), written
 * once over 16-byte vectors of trits for x86 (x86/tq_avx2.c, tq_avx512.c)
 * and NEON (arm/tq_neon.c).
 *
 * Included once by each of those files, after they define:
 *   TQ_VF                     the float vector (__m256 / __m512 / float32x4_t)
 *   TQ_SET1(f)                TQ_VF with every lane f
 *   tq_amax_bits(x)           max over x[0..255] of the bits of |x| as uint32
 *   tq_trits16(x, vid)        tq_v8: byte i = trit of x[i] * id, i = 0..15
 * and the 16-byte vocabulary tq_v8 (x86/tq_x86.h, or in tq_neon.c):
 *   tq_v8_add(a, b), tq_v8_or(a, b)   per byte (no wrap occurs in their use)
 *   tq_v8_shl(a, k)           each byte << k, for bytes <= 2 and k <= 6
 *   TQ_V8_SHR_BYTES(a, k)     bytes k..15 of a, then k zero bytes (k a literal)
 *   tq_v8_zero(), tq_v8_store(p, a), tq_v8_low32(a) (bytes 0..3, byte 0 lowest)
 *   tq_v8_scale243(q)         ceil(q * 256 / 243) per byte, for q <= 242
 *
 * Exactness. The bits of |x| order as the floats do, with inf and NaN above
 * every finite value, so one integer max finds both amax (exact: a max does
 * not round, and without NaN ggml's MAX is the plain maximum) and whether
 * the block holds NaN/inf; such a block, or one whose 1/amax is infinite
 * (amax subnormal), goes to the scalar qk_tq*_block (the second test alone
 * would also catch NaN/inf, amax * id being NaN then). Otherwise every
 * v = x * id (one IEEE multiply, as in scalar: no FMA in these files) has
 * |v| <= amax * id, which is within a few ulps of 1 (checked: < 1.5), and on
 * (-1.5, 1.5) lroundf (half away from zero) is (v >= 0.5) - (v <= -0.5),
 * so a trit is 1 + that: two compares. Base-3 packing never wraps a byte
 * (at most 242), and ceil(q * 256 / 243) = (q * 256 + 242) / 243 =
 * (q * 256 + 242) * 34522 >> 23 for every q <= 242 (all 243 values pass
 * through every byte in tests/quantize/test_kernels_simd_tq.c).
 * The fp16 scale is qk_put_f16 of amax, the scalar's conversion. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel_util.h"
#include "lowbit.h"

/* q * 3 + t per byte (no wrap: the result is at most 242) */
static inline tq_v8 tq_base3(tq_v8 q, tq_v8 t) { return tq_v8_add(tq_v8_add(q, tq_v8_add(q, q)), t); }

/* amax and id of the block at x for the fast path; false: leave the block
 * to the scalar code (NaN/inf, or an id the two compares cannot serve). */
static inline bool tq_scale(const float *x, float *amax, float *id) {
    const uint32_t bits = tq_amax_bits(x);
    if (bits >= 0x7f800000u) return false;
    memcpy(amax, &bits, sizeof bits);
    *id = *amax ? 1.0f / *amax : 0.0f;
    return *amax * *id < 1.5f; /* false for an infinite id */
}

/* 16 bytes of five trits each: byte m holds x[m + n w], n = 0..4 */
static inline tq_v8 tq_pack5(const float *x, int w, TQ_VF vid) {
    tq_v8 q = tq_trits16(x, vid);
    for (int n = 1; n < 5; n++) q = tq_base3(q, tq_trits16(x + n * w, vid));
    return tq_v8_scale243(q);
}

/* TQ1_0's qs and qh from the splatted id */
static inline void tq1_0_levels(const float *x, uint8_t *y, TQ_VF vid) {
    uint8_t *qs = y + offsetof(qk_block_tq1_0, qs), *qh = y + offsetof(qk_block_tq1_0, qh);
    tq_v8_store(qs, tq_pack5(x, 32, vid));
    tq_v8_store(qs + 16, tq_pack5(x + 16, 32, vid));
    tq_v8_store(qs + 32, tq_pack5(x + 160, 16, vid));
    /* qh[j]: x[240 + j + 4m], m = 0..3, then a fifth, zero trit */
    const tq_v8 t = tq_trits16(x + 240, vid);
    tq_v8 q = tq_base3(t, TQ_V8_SHR_BYTES(t, 4));
    q = tq_base3(q, TQ_V8_SHR_BYTES(t, 8));
    q = tq_base3(q, TQ_V8_SHR_BYTES(t, 12));
    const uint32_t h = tq_v8_low32(tq_v8_scale243(tq_base3(q, tq_v8_zero())));
    for (int j = 0; j < 4; j++) qh[j] = (uint8_t)(h >> (8 * j));
}

/* TQ2_0's qs from the splatted id: byte j + m of each 32-byte group holds
 * x[m + 32n] in bits 2n..2n+1; the shifts move no bit out of its byte (a
 * trit is at most 2) */
static inline void tq2_0_levels(const float *x, uint8_t *y, TQ_VF vid) {
    for (int j = 0; j < QK_K / 4; j += 32, x += 128) {
        for (int h = 0; h < 32; h += 16) {
            tq_v8 q = tq_trits16(x + h, vid);
            for (int n = 1; n < 4; n++) q = tq_v8_or(q, tq_v8_shl(tq_trits16(x + h + 32 * n, vid), 2 * n));
            tq_v8_store(y + j + h, q);
        }
    }
}

/* One block: the scalar block's bytes where tq_scale refuses it, else the
 * levels and then d = amax at d_off (both types' d is an amax). */
static inline __attribute__((always_inline)) void tq_block(const float *x, uint8_t *y,
                                                           void (*scalar)(const float *, uint8_t *),
                                                           void (*levels)(const float *, uint8_t *, TQ_VF),
                                                           size_t d_off) {
    float amax, id;
    if (!tq_scale(x, &amax, &id)) {
        scalar(x, y);
        return;
    }
    levels(x, y, TQ_SET1(id));
    qk_put_f16(y + d_off, amax);
}

static void tq1_0_block(const float *x, uint8_t *y) {
    tq_block(x, y, qk_tq1_0_block, tq1_0_levels, offsetof(qk_block_tq1_0, d));
}

static void tq2_0_block(const float *x, uint8_t *y) {
    tq_block(x, y, qk_tq2_0_block, tq2_0_levels, offsetof(qk_block_tq2_0, d));
}

