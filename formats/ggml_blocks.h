/* ggml_blocks.h - the block layout of every ggml block type, one struct per
 * type, field for field as ggml-common.h of the pinned llama.cpp (v0.4.0)
 * defines it (a file-format fact, transcribed; fp16 fields are uint16_t
 * bit patterns, little-endian on disk as in memory on every target).
 *
 * This is the one place a block's size and field offsets are written:
 * ggml_types.c takes type_size = sizeof(qk_block_<t>), and the kernels
 * address fields with offsetof(qk_block_<t>, field) on byte pointers (a
 * quantized row has no alignment guarantee, so kernels do not cast a row
 * pointer to a block pointer). The static asserts hold ggml's own size
 * formulas, so a padding surprise fails the build instead of a file.
 */
#ifndef QK_GGML_BLOCKS_H
#define QK_GGML_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/* Elements per block: the legacy 32-element blocks (Q4_0 .. Q8_1, IQ4_NL,
 * MXFP4) and the 256-element super-blocks (K-quants, IQ2/IQ3/IQ1, TQ, IQ4_XS). */
#define QK_LEGACY 32
#define QK_K 256
#define QK_Q1_0 128
#define QK_Q2_0 64
#define QK_NVFP4 64

typedef struct { uint16_t d; uint8_t qs[QK_Q1_0 / 8]; } qk_block_q1_0;
typedef struct { uint16_t d; uint8_t qs[QK_Q2_0 / 4]; } qk_block_q2_0;
typedef struct { uint16_t d; uint8_t qs[QK_LEGACY / 2]; } qk_block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[QK_LEGACY / 2]; } qk_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK_LEGACY / 2]; } qk_block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK_LEGACY / 2]; } qk_block_q5_1;
typedef struct { uint16_t d; int8_t qs[QK_LEGACY]; } qk_block_q8_0;
typedef struct { uint16_t d, s; int8_t qs[QK_LEGACY]; } qk_block_q8_1;
typedef struct { uint8_t e; uint8_t qs[QK_LEGACY / 2]; } qk_block_mxfp4; /* e: E8M0 */
typedef struct { uint8_t d[QK_NVFP4 / 16]; uint8_t qs[QK_NVFP4 / 2]; } qk_block_nvfp4;
typedef struct { uint16_t d; uint8_t qs[QK_LEGACY / 2]; } qk_block_iq4_nl;

typedef struct {
    uint8_t qs[(QK_K - 4 * QK_K / 64) / 5]; /* 5 ternary digits per byte */
    uint8_t qh[QK_K / 64];                  /* 4 per byte */
    uint16_t d;
} qk_block_tq1_0;
typedef struct { uint8_t qs[QK_K / 4]; uint16_t d; } qk_block_tq2_0;

typedef struct {
    uint8_t scales[QK_K / 16]; /* 4-bit scale | 4-bit min << 4 */
    uint8_t qs[QK_K / 4];
    uint16_t d, dmin;          /* note: last */
} qk_block_q2_k;
typedef struct {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];        /* sixteen 6-bit scales */
    uint16_t d;
} qk_block_q3_k;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];        /* eight 6-bit (scale, min) pairs */
    uint8_t qs[QK_K / 2];
} qk_block_q4_k;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} qk_block_q5_k;
typedef struct {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d;
} qk_block_q6_k;
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } qk_block_q8_k;

typedef struct { uint16_t d; uint16_t qs[QK_K / 8]; } qk_block_iq2_xxs;
typedef struct { uint16_t d; uint16_t qs[QK_K / 8]; uint8_t scales[QK_K / 32]; } qk_block_iq2_xs;
typedef struct { uint16_t d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32]; uint8_t scales[QK_K / 32]; } qk_block_iq2_s;
typedef struct { uint16_t d; uint8_t qs[3 * QK_K / 8]; } qk_block_iq3_xxs;
typedef struct {
    uint16_t d;
    uint8_t qs[QK_K / 4];
    uint8_t qh[QK_K / 32];
    uint8_t signs[QK_K / 8];
    uint8_t scales[QK_K / 64];
} qk_block_iq3_s;
typedef struct { uint16_t d; uint8_t qs[QK_K / 8]; uint16_t qh[QK_K / 32]; } qk_block_iq1_s;
typedef struct { uint8_t qs[QK_K / 8]; uint8_t qh[QK_K / 16]; uint8_t scales[QK_K / 32]; } qk_block_iq1_m;
typedef struct {
    uint16_t d;
    uint16_t scales_h;         /* high 2 bits of the eight 6-bit sub-scales */
    uint8_t scales_l[QK_K / 64];
    uint8_t qs[QK_K / 2];
} qk_block_iq4_xs;

/* ggml's size formulas (ggml-common.h), e.g. Q4_K = 2 halves + 12 + QK_K/2. */
_Static_assert(sizeof(qk_block_q1_0) == 2 + QK_Q1_0 / 8, "q1_0");
_Static_assert(sizeof(qk_block_q2_0) == 2 + QK_Q2_0 / 4, "q2_0");
_Static_assert(sizeof(qk_block_q4_0) == 2 + QK_LEGACY / 2, "q4_0");
_Static_assert(sizeof(qk_block_q4_1) == 4 + QK_LEGACY / 2, "q4_1");
_Static_assert(sizeof(qk_block_q5_0) == 2 + 4 + QK_LEGACY / 2, "q5_0");
_Static_assert(sizeof(qk_block_q5_1) == 4 + 4 + QK_LEGACY / 2, "q5_1");
_Static_assert(sizeof(qk_block_q8_0) == 2 + QK_LEGACY, "q8_0");
_Static_assert(sizeof(qk_block_q8_1) == 4 + QK_LEGACY, "q8_1");
_Static_assert(sizeof(qk_block_mxfp4) == 1 + QK_LEGACY / 2, "mxfp4");
_Static_assert(sizeof(qk_block_nvfp4) == QK_NVFP4 / 16 + QK_NVFP4 / 2, "nvfp4");
_Static_assert(sizeof(qk_block_iq4_nl) == 2 + QK_LEGACY / 2, "iq4_nl");
_Static_assert(sizeof(qk_block_tq1_0) == 2 + QK_K / 64 + (QK_K - 4 * QK_K / 64) / 5, "tq1_0");
_Static_assert(sizeof(qk_block_tq2_0) == 2 + QK_K / 4, "tq2_0");
_Static_assert(sizeof(qk_block_q2_k) == 4 + QK_K / 16 + QK_K / 4, "q2_k");
_Static_assert(sizeof(qk_block_q3_k) == 2 + QK_K / 4 + QK_K / 8 + 12, "q3_k");
_Static_assert(sizeof(qk_block_q4_k) == 4 + 12 + QK_K / 2, "q4_k");
_Static_assert(sizeof(qk_block_q5_k) == 4 + 12 + QK_K / 2 + QK_K / 8, "q5_k");
_Static_assert(sizeof(qk_block_q6_k) == 2 + QK_K / 16 + 3 * QK_K / 4, "q6_k");
_Static_assert(sizeof(qk_block_q8_k) == 4 + QK_K + QK_K / 16 * 2, "q8_k");
_Static_assert(sizeof(qk_block_iq2_xxs) == 2 + QK_K / 8 * 2, "iq2_xxs");
_Static_assert(sizeof(qk_block_iq2_xs) == 2 + QK_K / 8 * 2 + QK_K / 32, "iq2_xs");
_Static_assert(sizeof(qk_block_iq2_s) == 2 + QK_K / 4 + QK_K / 16, "iq2_s");
_Static_assert(sizeof(qk_block_iq3_xxs) == 2 + 3 * (QK_K / 8), "iq3_xxs");
_Static_assert(sizeof(qk_block_iq3_s) == 2 + 13 * (QK_K / 32) + QK_K / 64, "iq3_s");
_Static_assert(sizeof(qk_block_iq1_s) == 2 + QK_K / 8 + QK_K / 16, "iq1_s");
_Static_assert(sizeof(qk_block_iq1_m) == QK_K / 8 + QK_K / 16 + QK_K / 32, "iq1_m");
_Static_assert(sizeof(qk_block_iq4_xs) == 4 + QK_K / 64 + QK_K / 2, "iq4_xs");

/* Little-endian 16-bit fields of a block at any alignment (fp16 scales,
 * IQ4_XS's scales_h). */
static inline void qk_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t qk_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

#endif
