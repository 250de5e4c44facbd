/* k_quants.h - ggml's 256-element super-block formats, byte-exact with the
 * pinned ggml: quantize (quantize_<type> contract) and dequantize. Each type
 * has its own file with its block layout drawn out. */
#ifndef QK_K_QUANTS_H
#define QK_K_QUANTS_H

#include <stddef.h>
#include <stdint.h>

#include "ggml_blocks.h"
#include "kernel_api.h"

QK_DECLARE_SIMD_KERNELS(q2_k, q3_k, q4_k, q5_k, q6_k)

/* The 6-bit (scale, min) pairs of Q4_K/Q5_K, packed into 12 bytes:
 *   j < 4:  scale = q[j] & 63          min = q[j+4] & 63
 *   j >= 4: scale = (q[j+4] & 15) | (q[j-4] >> 6) << 4
 *           min   = (q[j+4] >> 4) | (q[j]   >> 6) << 4            */
static inline void qk_get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

static inline void qk_set_scale_min_k4(int j, uint8_t *q, uint8_t ls, uint8_t lm) {
    if (j < 4) {
        q[j] = ls;
        q[j + 4] = lm;
    } else {
        q[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
        q[j - 4] |= (uint8_t)((ls >> 4) << 6);
        q[j - 0] |= (uint8_t)((lm >> 4) << 6);
    }
}

#endif
