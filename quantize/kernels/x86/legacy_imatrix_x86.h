/* legacy_imatrix_x86.h - the imatrix rows of Q4_0, Q4_1, Q5_0 and Q5_1 on
 * x86-64, one body for x86/legacy_avx2.c (LG_W 8) and x86/legacy_avx512.c
 * (LG_W 16), which define LG_W and LG_QX_LANES / LG_QKX3_LANES (their
 * qk_qx_lanes_<isa> / qk_qkx3_lanes_<isa>, x86/lanes_x86.h) first.
 *
 * The block searches run LG_W blocks at a time. Blocks are contiguous
 * across rows (n_per_row is a multiple of 32), so one call of the lane
 * search takes the next LG_W blocks wherever their rows start; each block's
 * weights use its own row's sigma2. Lane groups run across row boundaries;
 * the last, partial group is padded with zero blocks, or, for one block on
 * AVX2 and up to two on AVX-512, goes through the scalar block_imatrix.
 * Every step is the scalar step (legacy.c) per lane: the same bytes. */
#ifndef QK_LEGACY_IMATRIX_X86_H
#define QK_LEGACY_IMATRIX_X86_H

#include <immintrin.h>
#include <string.h>

#include "kernel_util.h"
#include "legacy.h"

/* qk_legacy_pack in SSE2, the same bits: the high nibble is the low nibble
 * of L[j + 16] shifted up; for 5 bits, bit 4 of each byte shifted to bit 7
 * for movemask gives qh. */
static inline void lg_pack_sse2(const qk_legacy_type *t, uint8_t *y, float d, float the_min, const uint8_t *L) {
    qk_put_f16(y, d);
    if (t->has_min) qk_put_f16(y + offsetof(qk_block_q4_1, m), -the_min);
    const __m128i lo = _mm_loadu_si128((const __m128i *)L), hi = _mm_loadu_si128((const __m128i *)(L + 16));
    if (t->bits == 4) {
        const __m128i h4 = _mm_and_si128(_mm_slli_epi16(hi, 4), _mm_set1_epi8((char)0xF0));
        _mm_storeu_si128((__m128i *)(y + t->qs_off), _mm_or_si128(lo, h4));
        return;
    }
    const __m128i nib = _mm_set1_epi8(0x0F);
    const __m128i h4 = _mm_slli_epi16(_mm_and_si128(hi, nib), 4);
    _mm_storeu_si128((__m128i *)(y + t->qs_off), _mm_or_si128(_mm_and_si128(lo, nib), h4));
    const uint32_t qh = (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(lo, 3)) |
                        (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(hi, 3)) << 16;
    for (int k = 0; k < 4; k++) y[t->qh_off + (size_t)k] = (uint8_t)(qh >> (8 * k));
}

/* sigma2 of rows r0 .. r0+7 (those below nrows) at once: each row's sum of
 * squares in element order, as qk_legacy_row_sigma2, but eight independent
 * chains side by side (four rows per SSE register, 4x4 transposes), so the
 * additions overlap instead of waiting on each other. */
#define LG_SIGMA2_ROWS 8
static void lg_rows_sigma2(const float *src, int64_t n_per_row, int64_t nrows, int64_t r0, float *sigma2) {
    int64_t r = r0;
    for (; r + 4 <= nrows && r + 4 <= r0 + LG_SIGMA2_ROWS; r += 4) {
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
            sigma2[r - r0 + k] = sum[k] != sum[k] ? qk_legacy_row_sigma2(src + (r + k) * n_per_row, n_per_row)
                                                   : sum[k] / n_per_row;
        }
    }
    for (; r < nrows && r < r0 + LG_SIGMA2_ROWS; r++) sigma2[r - r0] = qk_legacy_row_sigma2(src + r * n_per_row, n_per_row);
}

/* sigma2 of row `row`, from a cache of LG_SIGMA2_ROWS rows filled on a miss
 * (rows are visited in increasing order). */
static float lg_row_sigma2_of(const float *src, int64_t n_per_row, int64_t nrows, int64_t row, int64_t *base,
                              float *cache) {
    if (*base < 0 || row < *base || row >= *base + LG_SIGMA2_ROWS) {
        lg_rows_sigma2(src, n_per_row, nrows, row, cache);
        *base = row;
    }
    return cache[row - *base];
}

/* weight[j] = qw[j] * sqrt(sigma2 + x[j]*x[j]) for one block: the scalar
 * operations, four lanes at a time (sqrtps is correctly rounded, as sqrtf). */
static inline void lg_block_weights(const float *x, const float *qw, float sigma2, float *weight) {
    const __m128 s2 = _mm_set1_ps(sigma2);
    for (int j = 0; j < QK_LEGACY; j += 4) {
        const __m128 v = _mm_loadu_ps(x + j);
        _mm_storeu_ps(weight + j, _mm_mul_ps(_mm_loadu_ps(qw + j), _mm_sqrt_ps(_mm_add_ps(s2, _mm_mul_ps(v, v)))));
    }
}

static size_t lg_imatrix_rows(const qk_legacy_type *t, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    const int64_t nb = qk_blocks_per_row(nrows, n_per_row, QK_LEGACY);
    if (nb < 0) return 0;
    const int64_t total = nrows * nb;
    uint8_t *y = (uint8_t *)dst;
    float weight[LG_W * QK_LEGACY], pad[LG_W * QK_LEGACY], scales[LG_W], mins[LG_W] = {0};
    uint8_t L[LG_W * QK_LEGACY];
    int64_t cache_base = -1;
    float sigma2[LG_SIGMA2_ROWS];
    int64_t row = 0, ib = 0; /* of block g */
    for (int64_t g = 0; g < total; g += LG_W) {
        const int avail = (int)(total - g < LG_W ? total - g : LG_W);
        if (avail * 8 <= LG_W) {
            /* one or two blocks left: the scalar block is cheaper than a lane search */
            for (int k = 0; k < avail; k++) {
                const float s2 = lg_row_sigma2_of(src, n_per_row, nrows, row, &cache_base, sigma2);
                t->block_imatrix(src + (g + k) * QK_LEGACY, imatrix + QK_LEGACY * ib, s2,
                                 y + (size_t)(g + k) * t->bytes);
                if (++ib == nb) ib = 0, row++;
            }
            break;
        }
        const float *x = src + g * QK_LEGACY;
        /* a block of a row holding NaN (NaN sigma2) goes through the scalar
         * block: which NaN survives a + b depends on the operand order each
         * compiled copy picks, so only the same code gives the same bits;
         * its lane searches zeros and is dropped (lanes are independent) */
        uint32_t scalar = 0;
        for (int k = 0; k < avail; k++) {
            const float s2 = lg_row_sigma2_of(src, n_per_row, nrows, row, &cache_base, sigma2);
            if (s2 != s2) {
                t->block_imatrix(x + k * QK_LEGACY, imatrix + QK_LEGACY * ib, s2, y + (size_t)(g + k) * t->bytes);
                scalar |= 1u << k;
            } else {
                lg_block_weights(x + k * QK_LEGACY, imatrix + QK_LEGACY * ib, s2, weight + k * QK_LEGACY);
            }
            if (++ib == nb) ib = 0, row++;
        }
        if (avail < LG_W || scalar) {
            /* the last blocks (and the scalar ones): padded with all-zero
             * blocks of zero weight, whose lanes are searched and dropped */
            memset(pad, 0, sizeof pad);
            memset(weight + avail * QK_LEGACY, 0, sizeof(float) * QK_LEGACY * (size_t)(LG_W - avail));
            for (int k = 0; k < avail; k++) {
                if (scalar >> k & 1) memset(weight + k * QK_LEGACY, 0, sizeof(float) * QK_LEGACY);
                else memcpy(pad + k * QK_LEGACY, x + k * QK_LEGACY, sizeof(float) * QK_LEGACY);
            }
            x = pad;
        }
        if (!t->has_min) LG_QX_LANES(QK_LEGACY, t->nmax, x, weight, scales, (int8_t *)L);
        else LG_QKX3_LANES(QK_LEGACY, t->nmax, x, weight, scales, mins, L);
        for (int k = 0; k < avail; k++)
            if (!(scalar >> k & 1)) lg_pack_sse2(t, y + (size_t)(g + k) * t->bytes, scales[k], mins[k], L + k * QK_LEGACY);
    }
    return (size_t)total * t->bytes;
}

#endif
