/* vec_neon.h - the vector vocabulary of lanes_body.h (the one x86/vec_x86.h
 * gives AVX2 / AVX-512) over NEON's 4 float lanes, for arm/search_neon.c.
 * Everything is static inline; include it from the one file that
 * instantiates the body.
 *
 * Exactness, as vec_x86.h's:
 *  - only separate vaddq/vsubq/vmulq/vdivq/vsqrtq (IEEE-exact on aarch64);
 *    never vfmaq/vmlaq, and the files are built with -ffp-contract=off (the
 *    CMake default for every file) so the compiler fuses nothing either;
 *  - vf_nearest_int is ggml's magic-number trick (add 1.5*2^23, keep the low
 *    mantissa bits), bit for bit, for every input incl. NaN/inf/huge; no
 *    vcvtnq (which saturates instead of returning ggml's garbage);
 *  - no vmaxq_f32/vminq_f32 on floats (they propagate NaN, the scalar
 *    `if (a < b)` does not): compares are the ordered vcltq/vcgtq/vcleq/
 *    vceqq (false for NaN like C's < > <= ==), selects are vbslq; integer
 *    clamps use vmaxq_s32/vminq_s32, which are exact. */
#ifndef QK_VEC_NEON_H
#define QK_VEC_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>

#define LN_W 4
typedef float32x4_t vf;
typedef int32x4_t vi;
typedef uint32x4_t vm; /* all-ones / all-zeros lanes */

static inline vf vf_load(const float *p) { return vld1q_f32(p); }
static inline void vf_store(float *p, vf a) { vst1q_f32(p, a); }
static inline void vi_store(int32_t *p, vi a) { vst1q_s32(p, a); }
static inline vf vf_set1(float a) { return vdupq_n_f32(a); }
static inline vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf vf_sqrt(vf a) { return vsqrtq_f32(a); }
/* for non-NaN operands (NEON returns NaN where x86 returns the second) */
static inline vf vf_min(vf a, vf b) { return vminq_f32(a, b); }
static inline vf vf_max(vf a, vf b) { return vmaxq_f32(a, b); }
static inline vf vf_abs(vf a) { return vabsq_f32(a); }
static inline vf vf_neg(vf a) { return vnegq_f32(a); }
/* m ? a : b per lane */
static inline vf vf_sel(vm m, vf a, vf b) { return vbslq_f32(m, a, b); }
static inline vi vi_sel(vm m, vi a, vi b) { return vbslq_s32(m, a, b); }
static inline vm vf_lt(vf a, vf b) { return vcltq_f32(a, b); }
static inline vm vf_gt(vf a, vf b) { return vcgtq_f32(a, b); }
static inline vm vf_le(vf a, vf b) { return vcleq_f32(a, b); }
static inline vm vf_eq(vf a, vf b) { return vceqq_f32(a, b); }
/* C's != : true for NaN, the negation of the ordered == */
static inline vm vf_ne_uq(vf a, vf b) { return vmvnq_u32(vceqq_f32(a, b)); }
/* ggml's nearest_int: the low mantissa bits of f + 1.5*2^23 */
static inline vi vf_nearest_int(vf f) {
    const vi b = vreinterpretq_s32_f32(vaddq_f32(f, vdupq_n_f32(12582912.f)));
    return vsubq_s32(vandq_s32(b, vdupq_n_s32(0x007fffff)), vdupq_n_s32(0x00400000));
}
/* a float holding a small integer (as vi_to_f made it) back to int32 */
static inline vi vf_to_i_exact(vf a) { return vcvtq_s32_f32(a); }
static inline vf vi_to_f(vi a) { return vcvtq_f32_s32(a); }
static inline vi vi_set1(int a) { return vdupq_n_s32(a); }
static inline vi vi_add(vi a, vi b) { return vaddq_s32(a, b); }
static inline vi vi_sub(vi a, vi b) { return vsubq_s32(a, b); }
static inline vi vi_min(vi a, vi b) { return vminq_s32(a, b); }
static inline vi vi_max(vi a, vi b) { return vmaxq_s32(a, b); }
static inline vm vi_ne(vi a, vi b) { return vmvnq_u32(vceqq_s32(a, b)); }
static inline vi vi_inc(vi a, vm m) { return vsubq_s32(a, vreinterpretq_s32_u32(m)); } /* m lanes are -1 */
static inline vm vm_and(vm a, vm b) { return vandq_u32(a, b); }
static inline vm vm_or(vm a, vm b) { return vorrq_u32(a, b); }
static inline vm vm_andnot(vm a, vm b) { return vbicq_u32(a, b); } /* a & !b */
static inline vm vm_none(void) { return vdupq_n_u32(0); }
static inline vm vm_all(void) { return vdupq_n_u32(0xffffffffu); }
static inline bool vm_any(vm a) { return vmaxvq_u32(a) != 0; }

/* t[i] for a 16-entry float table (i in 0..15): a byte lookup in the
 * table's 64 bytes, lane byte b taking table byte 4 i + b (no carries:
 * 4 i + 3 <= 63). */
typedef struct { uint8x16x4_t t; } vtab16;
static inline vtab16 vtab16_load(const float *t) {
    vtab16 r;
    for (int k = 0; k < 4; k++) r.t.val[k] = vreinterpretq_u8_f32(vld1q_f32(t + 4 * k));
    return r;
}
static inline vf vtab16_get(vtab16 t, vi i) {
    const uint32x4_t bytes = vaddq_u32(vmulq_n_u32(vreinterpretq_u32_s32(i), 0x04040404u), vdupq_n_u32(0x03020100u));
    return vreinterpretq_f32_u8(vqtbl4q_u8(t.t, vreinterpretq_u8_u32(bytes)));
}

#endif
