/* The bit-level shortcuts of quantize/kernels/fp4_scale.h that the SIMD
 * MXFP4 / NVFP4 body uses against the scalar kernels' expressions:
 *  - fp4_mxfp4_e_fast == fp4_mxfp4_e (floorf(log2f(amax)) - 2 + 127 through
 *    the x86 uint8 conversion) for every non-negative float amax, +inf
 *    included (amax is a max of |x| with NaN skipped, so never NaN or
 *    negative): 2^31 - 2^23 + 1 values against this build's libm;
 *  - fp4_ue4m3_to_f32_fast == fp4_ue4m3_to_f32 (ldexpf) bit for bit on all
 *    256 bytes.
 * Native builds only (the cross build runs test_kernels_simd*: the
 * exhaustive loop would take minutes under qemu; the NEON variant meets the
 * shortcut there through test_kernels_simd_fp4's inputs). */
#include <stdint.h>
#include <string.h>

#include "fp4_scale.h"
#include "qk_test.h"

static void test_mxfp4_e_every_float(void) {
    uint64_t bad = 0, first = 0;
    for (uint32_t bits = 0; bits <= 0x7f800000u; bits++) {
        float a;
        memcpy(&a, &bits, sizeof a);
        if (fp4_mxfp4_e_fast(a) != fp4_mxfp4_e(a) && bad++ == 0) first = bits;
    }
    CHECK_MSG(bad == 0, "%llu floats differ, the first 0x%08llx", (unsigned long long)bad, (unsigned long long)first);
}

static void test_ue4m3_every_byte(void) {
    for (int x = 0; x < 256; x++) {
        const float a = fp4_ue4m3_to_f32_fast((uint8_t)x), b = fp4_ue4m3_to_f32((uint8_t)x);
        CHECK_MSG(memcmp(&a, &b, sizeof a) == 0, "byte 0x%02x: %a vs %a", x, (double)a, (double)b);
    }
}

int main(void) {
    RUN(test_ue4m3_every_byte);
    RUN(test_mxfp4_e_every_float);
    return qk_test_summary();
}
