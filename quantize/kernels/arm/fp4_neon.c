/* fp4_neon.c - MXFP4 and NVFP4 with NEON (aarch64): fp4_body.h (its head
 * has the exactness argument) over 4 float lanes, with the part of
 * vec_x86.h's vocabulary the body uses spelled in NEON. vmulq/vsubq are the
 * scalar's IEEE operations (the file is built with -ffp-contract=off and
 * uses no fused intrinsic); vcltq_f32 is C's < (false for NaN). */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define LN_W 4
typedef float32x4_t vf;
typedef int32x4_t vi;
typedef uint32x4_t vm; /* all-ones / all-zeros lanes */
static inline vf vf_load(const float *p) { return vld1q_f32(p); }
static inline vf vf_set1(float a) { return vdupq_n_f32(a); }
static inline vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vf_abs(vf a) { return vabsq_f32(a); }
static inline vm vf_lt(vf a, vf b) { return vcltq_f32(a, b); }
static inline vi vi_set1(int a) { return vdupq_n_s32(a); }
static inline vi vi_sel(vm m, vi a, vi b) { return vbslq_s32(m, a, b); }
static inline vi vi_add(vi a, vi b) { return vaddq_s32(a, b); }
static inline vm vi_ne(vi a, vi b) { return vmvnq_u32(vceqq_s32(a, b)); }
static inline vi vi_shl(vi a, int n) { return vshlq_s32(a, vdupq_n_s32(n)); }
static inline vm vm_and(vm a, vm b) { return vandq_u32(a, b); }
/* 4 int32 lanes in 0..255 -> 4 bytes */
static inline void vi_store_u8(uint8_t *p, vi a) {
    const uint8x8_t b = vmovn_u16(vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(a)), vdup_n_u16(0)));
    const uint32_t w = vget_lane_u32(vreinterpret_u32_u8(b), 0);
    memcpy(p, &w, sizeof w);
}

/* the bits of |x| order as the floats do; NaN (above 0x7f800000) counts 0,
 * as the scalar never takes a NaN as amax (vmaxq_f32 would propagate it) */
static inline float fp4_amax(const float *x, int n) {
    const uint32x4_t abs = vdupq_n_u32(0x7fffffffu), inf = vdupq_n_u32(0x7f800000u);
    uint32x4_t m = vdupq_n_u32(0);
    for (int i = 0; i < n; i += 4) {
        const uint32x4_t a = vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i)), abs);
        m = vmaxq_u32(m, vbicq_u32(a, vcgtq_u32(a, inf)));
    }
    const uint32_t bits = vmaxvq_u32(m);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#include "fp4_body.h"

size_t qk_quantize_mxfp4_neon(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_LEGACY, qk_block_mxfp4, fp4_mxfp4_block); }
size_t qk_quantize_nvfp4_neon(QK_QUANTIZE_PARAMS) { return QK_BLOCKS_QUANTIZE(QK_NVFP4, qk_block_nvfp4, fp4_nvfp4_block); }
