/* q5_0.c - Q5_0 and Q5_1: 32 weights per block, 5-bit values: the low 4 bits
 * in split-halves nibbles (as Q4_0), bit 4 of element j in bit j of the
 * little-endian u32 qh.
 *
 *   Q5_0  byte 0     2        6                      22
 *              +-----+--------+----------------------+
 *              | d   | qh[4]  | qs[16]               |   x[j] = d * (q[j] - 16)
 *              +-----+--------+----------------------+
 *   Q5_1  byte 0     2     4        8                      24
 *              +-----+-----+--------+----------------------+
 *              | d   | m   | qh[4]  | qs[16]               |   x[j] = d * q[j] + m
 *              +-----+-----+--------+----------------------+
 *   qs[j] = (q[j] & 15) | (q[j+16] & 15) << 4,  qh bit j = q[j] >> 4 & 1
 *
 * Without an imatrix (ggml's *_ref):
 *   Q5_0: d = max/-16 (max: signed, largest |x|, first wins),
 *         q = MIN(31, (int8_t)(x/d + 16.5f))
 *   Q5_1: d = (max-min)/31, m = min, q = (uint8_t)((x-min)/d + 0.5f), NO clamp
 * With an imatrix: as Q4_0/Q4_1 with nmax 16 / 31.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "float_formats.h"
#include "quant_search.h"
#include "legacy.h"
#if defined(__x86_64__)
#include <emmintrin.h>

#include "simd_legacy.h"
#endif

/* Packs 32 five-bit values (bytes; only the low 5 bits are used) into qh/qs. */
static void q5_pack(const uint8_t *q, uint8_t *qh_out, uint8_t *qs) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = q[j], xi1 = q[j + 16];
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    for (int k = 0; k < 4; k++) qh_out[k] = (uint8_t)(qh >> (8 * k));
}

void qk_q5_0_block_ref(const float *x, uint8_t *y) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK_LEGACY; j++) {
        const float v = x[j];
        if (amax < fabsf(v)) {
            amax = fabsf(v);
            max = v;
        }
    }
    const float d = max / -16;
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    uint8_t q[QK_LEGACY];
    for (int j = 0; j < QK_LEGACY; j++) q[j] = (uint8_t)QK_MIN(31, qk_cvtt_i8(x[j] * id + 16.5f));
    q5_pack(q, y + 2, y + 6);
}

void qk_q5_1_block_ref(const float *x, uint8_t *y) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK_LEGACY; j++) {
        const float v = x[j];
        if (v < min) min = v;
        if (v > max) max = v;
    }
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    qk_put_u16(y + 2, qk_fp32_to_fp16(min));
    uint8_t q[QK_LEGACY];
    for (int j = 0; j < QK_LEGACY; j++) q[j] = qk_cvtt_u8((x[j] - min) * id + 0.5f);
    q5_pack(q, y + 4, y + 8);
}

static void q5_0_pack(uint8_t *b, float d, float min, const uint8_t *L) {
    (void)min;
    qk_put_u16(b, qk_fp32_to_fp16(d));
    q5_pack(L, b + 2, b + 6);
}

static void q5_1_pack(uint8_t *b, float d, float min, const uint8_t *L) {
    qk_put_u16(b, qk_fp32_to_fp16(d));
    qk_put_u16(b + 2, qk_fp32_to_fp16(-min));
    q5_pack(L, b + 4, b + 8);
}

/* One block of ggml's quantize_row_q5_0_impl: xb, qw its 32 floats and
 * imatrix weights, sigma2 its row's. */
static void q5_0_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *b) {
    float weight[QK_LEGACY];
    int8_t L[QK_LEGACY];
    qk_legacy_imatrix_weights(xb, qw, sigma2, weight);
    const float d = qk_make_qx_quants(QK_LEGACY, 16, xb, L, 1, weight);
    q5_0_pack(b, d, 0.0f, (const uint8_t *)L);
}

/* One block of ggml's quantize_row_q5_1_impl (m = -the_min). */
static void q5_1_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *b) {
    float weight[QK_LEGACY];
    uint8_t L[QK_LEGACY], Laux[QK_LEGACY];
    qk_legacy_imatrix_weights(xb, qw, sigma2, weight);
    float min;
    const float d = qk_make_qkx3_quants(QK_LEGACY, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    q5_1_pack(b, d, min, L);
}

#if defined(__x86_64__)
/* The packing of the SIMD rows: q5_pack in SSE2, the same bits (bit 4 of
 * each byte shifted to bit 7 for movemask gives qh). */
static inline void q5_pack_sse2(const uint8_t *q, uint8_t *qh_out, uint8_t *qs) {
    const __m128i lo = _mm_loadu_si128((const __m128i *)q), hi = _mm_loadu_si128((const __m128i *)(q + 16));
    const __m128i nib = _mm_set1_epi8(0x0F);
    const __m128i h4 = _mm_slli_epi16(_mm_and_si128(hi, nib), 4);
    _mm_storeu_si128((__m128i *)qs, _mm_or_si128(_mm_and_si128(lo, nib), h4));
    const uint32_t qh = (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(lo, 3)) |
                        (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(hi, 3)) << 16;
    for (int k = 0; k < 4; k++) qh_out[k] = (uint8_t)(qh >> (8 * k));
}

static void q5_0_pack_sse2(uint8_t *b, float d, float min, const uint8_t *L) {
    (void)min;
    qk_put_u16(b, qk_fp32_to_fp16(d));
    q5_pack_sse2(L, b + 2, b + 6);
}

static void q5_1_pack_sse2(uint8_t *b, float d, float min, const uint8_t *L) {
    qk_put_u16(b, qk_fp32_to_fp16(d));
    qk_put_u16(b + 2, qk_fp32_to_fp16(-min));
    q5_pack_sse2(L, b + 4, b + 8);
}
#define Q5_0_PACK_LANES q5_0_pack_sse2
#define Q5_1_PACK_LANES q5_1_pack_sse2
#else
#define Q5_0_PACK_LANES q5_0_pack
#define Q5_1_PACK_LANES q5_1_pack
#endif

const qk_legacy_imatrix_type qk_legacy_imatrix_q5_0 = {true, 16, sizeof(qk_block_q5_0), q5_0_block_imatrix, Q5_0_PACK_LANES};
const qk_legacy_imatrix_type qk_legacy_imatrix_q5_1 = {false, 31, sizeof(qk_block_q5_1), q5_1_block_imatrix, Q5_1_PACK_LANES};

size_t qk_quantize_q5_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix) return qk_legacy_quantize_imatrix(&qk_legacy_imatrix_q5_0, src, dst, nrows, n_per_row, imatrix);
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < nrows * nb; i++) qk_q5_0_block_ref(src + i * QK_LEGACY, y + i * sizeof(qk_block_q5_0));
    return (size_t)(nrows * nb * sizeof(qk_block_q5_0));
}

size_t qk_quantize_q5_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix) return qk_legacy_quantize_imatrix(&qk_legacy_imatrix_q5_1, src, dst, nrows, n_per_row, imatrix);
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < nrows * nb; i++) qk_q5_1_block_ref(src + i * QK_LEGACY, y + i * sizeof(qk_block_q5_1));
    return (size_t)(nrows * nb * sizeof(qk_block_q5_1));
}

static void q5_dequant(const uint8_t *b, float d, float m, bool sym, float *y) {
    uint32_t qh = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
        const int32_t x0 = (qs[j] & 0x0F) | xh_0;
        const int32_t x1 = (qs[j] >> 4) | xh_1;
        if (sym) {
            y[j] = (x0 - 16) * d;
            y[j + 16] = (x1 - 16) * d;
        } else {
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        }
    }
}

void qk_dequantize_row_q5_0(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_q5_0);
        q5_dequant(b + 2, qk_fp16_to_fp32(qk_get_u16(b)), 0.0f, true, dst + i * QK_LEGACY);
    }
}

void qk_dequantize_row_q5_1(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_q5_1);
        q5_dequant(b + 4, qk_fp16_to_fp32(qk_get_u16(b)), qk_fp16_to_fp32(qk_get_u16(b + 2)), false,
                   dst + i * QK_LEGACY);
    }
}
