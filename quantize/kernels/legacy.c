/* q4_0.c - Q4_0 and Q4_1: 32 weights per block, 4-bit values in "split
 * halves" nibble order (element j in the low nibble of qs[j], element j+16 in
 * the high nibble of qs[j]).
 *
 *   Q4_0  byte 0     2                      18
 *              +-----+----------------------+
 *              | d   | qs[16]               |   x[j] = d * (q[j] - 8)
 *              +-----+----------------------+
 *   Q4_1  byte 0     2     4                      20
 *              +-----+-----+----------------------+
 *              | d   | m   | qs[16]               |   x[j] = d * q[j] + m
 *              +-----+-----+----------------------+
 *   qs[j] = q[j] | q[j+16] << 4            (d, m: fp16)
 *
 * Without an imatrix (ggml's *_ref):
 *   Q4_0: max = the signed x with the largest |x| (first wins), d = max/-8,
 *         q = MIN(15, (int8_t)(x/d + 8.5f))    (truncation)
 *   Q4_1: d = (max-min)/15, m = min, q = MIN(15, (int8_t)((x-min)/d + 0.5f))
 * where "/d" is a multiply by id = 1/d computed from the float d.
 * With an imatrix (ggml's *_impl): weights qw*sqrt(sigma2 + x^2), sigma2 the
 * mean square of the whole row; Q4_0 uses make_qx_quants, Q4_1
 * make_qkx3_quants(-0.9, 0.05, 36) and stores m = -min.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "float_formats.h"
#include "quant_search.h"
#include "legacy.h"
#if defined(__aarch64__)
#include "k_quants_internal.h"
#endif

#if defined(__x86_64__)
#include <xmmintrin.h>
#include <emmintrin.h>

#include "lanes_x86.h"
#include "simd_legacy.h"
#endif

void qk_q4_0_block_ref(const float *x, uint8_t *y) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK_LEGACY; j++) {
        const float v = x[j];
        if (amax < fabsf(v)) {
            amax = fabsf(v);
            max = v;
        }
    }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    for (int j = 0; j < QK_LEGACY / 2; j++) {
        const float x0 = x[j] * id;
        const float x1 = x[QK_LEGACY / 2 + j] * id;
        const uint8_t xi0 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x0 + 8.5f));
        const uint8_t xi1 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x1 + 8.5f));
        y[2 + j] = (uint8_t)(xi0 | (xi1 << 4));
    }
}

void qk_q4_1_block_ref(const float *x, uint8_t *y) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK_LEGACY; j++) {
        const float v = x[j];
        if (v < min) min = v;
        if (v > max) max = v;
    }
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    qk_put_u16(y, qk_fp32_to_fp16(d));
    qk_put_u16(y + 2, qk_fp32_to_fp16(min));
    for (int j = 0; j < QK_LEGACY / 2; j++) {
        const float x0 = (x[j] - min) * id;
        const float x1 = (x[QK_LEGACY / 2 + j] - min) * id;
        const uint8_t xi0 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x0 + 0.5f));
        const uint8_t xi1 = (uint8_t)QK_MIN(15, qk_cvtt_i8(x1 + 0.5f));
        y[4 + j] = (uint8_t)(xi0 | (xi1 << 4));
    }
}

/* sigma2 of ggml's *_impl: sum of squares of the row, in order, over n. */
static float row_sigma2(const float *x, int64_t n) {
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

/* qs[j] = (uint8_t)(L[j] | L[j + 16] << 4), j < 16. */
static inline void pack_nibbles(uint8_t *qs, const uint8_t *L) {
    for (int j = 0; j < 16; ++j) qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

static void q4_0_pack(uint8_t *b, float d, float min, const uint8_t *L) {
    (void)min;
    qk_put_u16(b, qk_fp32_to_fp16(d));
    pack_nibbles(b + 2, L);
}

static void q4_1_pack(uint8_t *b, float d, float min, const uint8_t *L) {
    qk_put_u16(b, qk_fp32_to_fp16(d));
    qk_put_u16(b + 2, qk_fp32_to_fp16(-min));
    pack_nibbles(b + 4, L);
}

#if defined(__x86_64__)
/* The packing of the SIMD rows: pack_nibbles in SSE2 (the same byte
 * arithmetic: the high nibble is the low nibble of L[j + 16] shifted up). */
static inline void pack_nibbles_sse2(uint8_t *qs, const uint8_t *L) {
    const __m128i lo = _mm_loadu_si128((const __m128i *)L), hi = _mm_loadu_si128((const __m128i *)(L + 16));
    const __m128i h4 = _mm_and_si128(_mm_slli_epi16(hi, 4), _mm_set1_epi8((char)0xF0));
    _mm_storeu_si128((__m128i *)qs, _mm_or_si128(lo, h4));
}

static void q4_0_pack_sse2(uint8_t *b, float d, float min, const uint8_t *L) {
    (void)min;
    qk_put_u16(b, qk_fp32_to_fp16(d));
    pack_nibbles_sse2(b + 2, L);
}

static void q4_1_pack_sse2(uint8_t *b, float d, float min, const uint8_t *L) {
    qk_put_u16(b, qk_fp32_to_fp16(d));
    qk_put_u16(b + 2, qk_fp32_to_fp16(-min));
    pack_nibbles_sse2(b + 4, L);
}
#define Q4_0_PACK_LANES q4_0_pack_sse2
#define Q4_1_PACK_LANES q4_1_pack_sse2
#else
#define Q4_0_PACK_LANES q4_0_pack
#define Q4_1_PACK_LANES q4_1_pack
#endif

/* One block of ggml's quantize_row_q4_0_impl: xb, qw its 32 floats and
 * imatrix weights, sigma2 its row's. */
static void q4_0_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *b) {
    float weight[QK_LEGACY];
    int8_t L[QK_LEGACY];
    qk_legacy_imatrix_weights(xb, qw, sigma2, weight);
    const float d = qk_make_qx_quants(QK_LEGACY, 8, xb, L, 1, weight);
    q4_0_pack(b, d, 0.0f, (const uint8_t *)L);
}

/* One block of ggml's quantize_row_q4_1_impl (m = -the_min). */
static void q4_1_block_imatrix(const float *xb, const float *qw, float sigma2, uint8_t *b) {
    float weight[QK_LEGACY];
    uint8_t L[QK_LEGACY], Laux[QK_LEGACY];
    qk_legacy_imatrix_weights(xb, qw, sigma2, weight);
    float min;
    const float d = qk_make_qkx3_quants(QK_LEGACY, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    q4_1_pack(b, d, min, L);
}

const qk_legacy_imatrix_type qk_legacy_imatrix_q4_0 = {true, 8, sizeof(qk_block_q4_0), q4_0_block_imatrix, Q4_0_PACK_LANES};
const qk_legacy_imatrix_type qk_legacy_imatrix_q4_1 = {false, 15, sizeof(qk_block_q4_1), q4_1_block_imatrix, Q4_1_PACK_LANES};

size_t qk_legacy_quantize_imatrix(const qk_legacy_imatrix_type *t, const float *src, void *dst, int64_t nrows,
                                  int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        const float sigma2 = row_sigma2(x, n_per_row);
        for (int64_t ib = 0; ib < nb; ++ib)
            t->block(x + QK_LEGACY * ib, imatrix + QK_LEGACY * ib, sigma2, y + (r * nb + ib) * t->bytes);
    }
    return (size_t)(nrows * nb * t->bytes);
}

#if defined(__x86_64__)
/* The SIMD imatrix rows (see quants_legacy.h). Blocks are contiguous across
 * rows (n_per_row is a multiple of 32), so one call of the lane search takes
 * the next W blocks wherever their rows start; each block's weights use its
 * own row's sigma2. */

/* sigma2 of rows r0 .. r0+7 (those below nrows) at once: each row's sum of
 * squares in element order, as row_sigma2, but eight independent chains side
 * by side (four rows per SSE register, 4x4 transposes), so the additions
 * overlap instead of waiting on each other. */
#define SIGMA2_ROWS 8
static void rows_sigma2(const float *src, int64_t n_per_row, int64_t nrows, int64_t r0, float *sigma2) {
    int64_t r = r0;
    for (; r + 4 <= nrows && r + 4 <= r0 + SIGMA2_ROWS; r += 4) {
        const float *x0 = src + r * n_per_row, *x1 = x0 + n_per_row, *x2 = x1 + n_per_row, *x3 = x2 + n_per_row;
        __m128 acc = _mm_setzero_ps();
        for (int64_t j = 0; j < n_per_row; j += 4) {
            __m128 c0 = _mm_loadu_ps(x0 + j), c1 = _mm_loadu_ps(x1 + j), c2 = _mm_loadu_ps(x2 + j),
                   c3 = _mm_loadu_ps(x3 + j);
            _MM_TRANSPOSE4_PS(c0, c1, c2, c3); /* c_i: element j + i of the four rows */
            acc = _mm_add_ps(acc, _mm_mul_ps(c0, c0));
            acc = _mm_add_ps(acc, _mm_mul_ps(c1, c1));
            acc = _mm_add_ps(acc, _mm_mul_ps(c2, c2));
            acc = _mm_add_ps(acc, _mm_mul_ps(c3, c3));
        }
        float sum[4];
        _mm_storeu_ps(sum, acc);
        for (int k = 0; k < 4; k++) {
            /* a NaN sum: which NaN survives depends on the order of the
             * operands, so such a row takes the scalar sum */
            sigma2[r - r0 + k] = sum[k] != sum[k] ? row_sigma2(src + (r + k) * n_per_row, n_per_row)
                                                   : sum[k] / n_per_row;
        }
    }
    for (; r < nrows && r < r0 + SIGMA2_ROWS; r++) sigma2[r - r0] = row_sigma2(src + r * n_per_row, n_per_row);
}

/* sigma2 of row `row`, from a cache of SIGMA2_ROWS rows filled on a miss
 * (rows are visited in increasing order). */
static float row_sigma2_of(const float *src, int64_t n_per_row, int64_t nrows, int64_t row, int64_t *base,
                           float *cache) {
    if (*base < 0 || row < *base || row >= *base + SIGMA2_ROWS) {
        rows_sigma2(src, n_per_row, nrows, row, cache);
        *base = row;
    }
    return cache[row - *base];
}

/* weight[j] = qw[j] * sqrt(sigma2 + x[j]*x[j]) for one block: the scalar
 * operations, four lanes at a time (SSE2; sqrtps is correctly rounded, as
 * sqrtf). A NaN sigma2 (a row holding NaN: then x may hold a second NaN)
 * takes the scalar loop, so the same NaN survives. */
static inline void block_weights_sse2(const float *x, const float *qw, float sigma2, float *weight) {
    if (sigma2 != sigma2) {
        qk_legacy_imatrix_weights(x, qw, sigma2, weight);
        return;
    }
    const __m128 s2 = _mm_set1_ps(sigma2);
    for (int j = 0; j < QK_LEGACY; j += 4) {
        const __m128 v = _mm_loadu_ps(x + j);
        _mm_storeu_ps(weight + j, _mm_mul_ps(_mm_loadu_ps(qw + j), _mm_sqrt_ps(_mm_add_ps(s2, _mm_mul_ps(v, v)))));
    }
}

size_t qk_legacy_quantize_imatrix_lanes(const qk_legacy_imatrix_type *t, int width, const float *src, void *dst,
                                        int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    if (width != 8 && width != 16) return qk_legacy_quantize_imatrix(t, src, dst, nrows, n_per_row, imatrix);
    const int64_t total = nrows * nb;
    uint8_t *y = (uint8_t *)dst;
    float weight[16 * QK_LEGACY], pad[16 * QK_LEGACY], scales[16], mins[16] = {0};
    uint8_t L[16 * QK_LEGACY];
    int64_t cache_base = -1;
    float sigma2[SIGMA2_ROWS];
    int64_t row = 0, ib = 0; /* of block g */
    for (int64_t g = 0; g < total; g += width) {
        const int avail = (int)(total - g < width ? total - g : width);
        if (avail * 8 <= width) {
            /* one or two blocks left: the scalar block is cheaper than a lane search */
            for (int k = 0; k < avail; k++) {
                const float s2 = row_sigma2_of(src, n_per_row, nrows, row, &cache_base, sigma2);
                t->block(src + (g + k) * QK_LEGACY, imatrix + QK_LEGACY * ib, s2, y + (g + k) * t->bytes);
                if (++ib == nb) ib = 0, row++;
            }
            break;
        }
        const float *x = src + g * QK_LEGACY;
        for (int k = 0; k < avail; k++) {
            const float s2 = row_sigma2_of(src, n_per_row, nrows, row, &cache_base, sigma2);
            block_weights_sse2(x + k * QK_LEGACY, imatrix + QK_LEGACY * ib, s2, weight + k * QK_LEGACY);
            if (++ib == nb) ib = 0, row++;
        }
        if (avail < width) {
            /* the last blocks: padded with all-zero blocks of zero weight,
             * whose lanes are searched and dropped (lanes are independent) */
            memset(pad, 0, sizeof pad);
            memcpy(pad, x, sizeof(float) * QK_LEGACY * (size_t)avail);
            memset(weight + avail * QK_LEGACY, 0, sizeof(float) * QK_LEGACY * (size_t)(width - avail));
            x = pad;
        }
        if (t->qx) {
            if (width == 16) qk_qx_lanes_avx512(QK_LEGACY, t->nmax, x, weight, scales, (int8_t *)L);
            else qk_qx_lanes_avx2(QK_LEGACY, t->nmax, x, weight, scales, (int8_t *)L);
        } else {
            if (width == 16) qk_qkx3_lanes_avx512(QK_LEGACY, t->nmax, x, weight, scales, mins, L);
            else qk_qkx3_lanes_avx2(QK_LEGACY, t->nmax, x, weight, scales, mins, L);
        }
        for (int k = 0; k < avail; k++) t->pack(y + (g + k) * t->bytes, scales[k], mins[k], L + k * QK_LEGACY);
    }
    return (size_t)(total * t->bytes);
}
#endif

#if defined(__aarch64__)
size_t qk_legacy_quantize_imatrix_neon(const qk_legacy_imatrix_type *t, const float *src, void *dst, int64_t nrows,
                                       int64_t n_per_row, const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    /* make_qkx3_quants(32, nmax, .., -0.9, 0.05, 36, false) */
    const qk_kq_params p3 = {t->nmax, -0.9f, 0.05f, 36};
    float weight[4 * QK_LEGACY], scales[4], mins[4] = {0};
    uint8_t L[4 * QK_LEGACY];
    uint8_t *y = (uint8_t *)dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        const float sigma2 = row_sigma2(x, n_per_row);
        int64_t ib = 0;
        for (; ib + 4 <= nb; ib += 4) {
            const float *xb = x + QK_LEGACY * ib;
            for (int k = 0; k < 4; k++)
                qk_legacy_imatrix_weights(xb + QK_LEGACY * k, imatrix + QK_LEGACY * (ib + k), sigma2,
                                          weight + QK_LEGACY * k);
            if (t->qx) qk_qx_search4_neon(QK_LEGACY, t->nmax, xb, weight, scales, (int8_t *)L);
            else qk_kq_search4_neon(&p3, QK_LEGACY, true, false, xb, weight, scales, mins, L);
            for (int k = 0; k < 4; k++)
                t->pack(y + (r * nb + ib + k) * t->bytes, scales[k], mins[k], L + QK_LEGACY * k);
        }
        for (; ib < nb; ib++)
            t->block(x + QK_LEGACY * ib, imatrix + QK_LEGACY * ib, sigma2, y + (r * nb + ib) * t->bytes);
    }
    return (size_t)(nrows * nb * t->bytes);
}
#endif

size_t qk_quantize_q4_0(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix) return qk_legacy_quantize_imatrix(&qk_legacy_imatrix_q4_0, src, dst, nrows, n_per_row, imatrix);
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < nrows * nb; i++) qk_q4_0_block_ref(src + i * QK_LEGACY, y + i * sizeof(qk_block_q4_0));
    return (size_t)(nrows * nb * sizeof(qk_block_q4_0));
}

size_t qk_quantize_q4_1(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix) return qk_legacy_quantize_imatrix(&qk_legacy_imatrix_q4_1, src, dst, nrows, n_per_row, imatrix);
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < nrows * nb; i++) qk_q4_1_block_ref(src + i * QK_LEGACY, y + i * sizeof(qk_block_q4_1));
    return (size_t)(nrows * nb * sizeof(qk_block_q4_1));
}

void qk_dequantize_row_q4_0(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_q4_0);
        float *y = dst + i * QK_LEGACY;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        for (int j = 0; j < 16; j++) {
            const int x0 = (b[2 + j] & 0x0F) - 8;
            const int x1 = (b[2 + j] >> 4) - 8;
            y[j] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

void qk_dequantize_row_q4_1(const void *src, float *dst, int64_t n) {
    const uint8_t *x = (const uint8_t *)src;
    for (int64_t i = 0; i < n / QK_LEGACY; i++) {
        const uint8_t *b = x + i * sizeof(qk_block_q4_1);
        float *y = dst + i * QK_LEGACY;
        const float d = qk_fp16_to_fp32(qk_get_u16(b));
        const float m = qk_fp16_to_fp32(qk_get_u16(b + 2));
        for (int j = 0; j < 16; j++) {
            const int x0 = b[4 + j] & 0x0F;
            const int x1 = b[4 + j] >> 4;
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        }
    }
}
