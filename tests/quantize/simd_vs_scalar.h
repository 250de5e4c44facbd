/* simd_vs_scalar.h - the steps a per-type SIMD kernel test repeats, for a
 * blockwise type without an imatrix (used by test_kernels_simd_q1_q2.c;
 * the other per-type tests use kernel_cases.h's kc_variant_differs and
 * kc_check_partial_rows_refused):
 *   svs_compare          a variant's bytes == the scalar kernel's on rows
 *                        (unaligned source and destination, guard bytes)
 *   svs_check_refusals   both refuse rows that are not whole blocks, and
 *                        nrows = 0, writing nothing
 * Static inline functions (each program uses some). */
#ifndef QK_TEST_SIMD_VS_SCALAR_H
#define QK_TEST_SIMD_VS_SCALAR_H

#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "qk_test.h"

/* v's bytes == s's for nrows rows of n floats at x, read from a copy that
 * starts one float into its allocation (unaligned) and ends where it ends
 * (a read past the rows is a sanitizer error); the output goes one byte past
 * an allocation start, with 16 guard bytes checked too. 0 when identical,
 * else 1 after a failed CHECK naming what. */
static inline int svs_compare(const qk_kernel *s, const qk_kernel *v, const float *x, int64_t nrows, int64_t n,
                              const char *what) {
    const qk_type_info *t = qk_type_get(s->type);
    const size_t bytes = (size_t)(nrows * n / t->blck_size) * t->type_size, all = bytes + 1 + 16;
    unsigned char *a = malloc(all), *b = malloc(all);
    memset(a, 0x11, all), memset(b, 0x11, all);
    float *copy = malloc(sizeof(float) * (size_t)(nrows * n + 1));
    memcpy(copy + 1, x, sizeof(float) * (size_t)(nrows * n));
    const size_t ra = s->quantize(copy + 1, a + 1, nrows, n, NULL), rb = v->quantize(copy + 1, b + 1, nrows, n, NULL);
    size_t off = 0;
    while (off < all && a[off] == b[off]) off++;
    const int bad = ra != bytes || rb != bytes || off < all;
    CHECK_MSG(!bad,
              "%s/%s %s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu of %zu, first diff at byte %zu of the padded output",
              t->name, qk_isa_name(v->isa), what, nrows, n, ra, rb, bytes, off);
    free(a), free(b), free(copy);
    return bad;
}

/* s and v on 2 rows of each length lens[i] (not whole blocks) and on 0 rows:
 * both return 0 and write nothing. */
static inline void svs_check_refusals(const qk_kernel *s, const qk_kernel *v, const float *x, const int64_t *lens,
                                      int nl) {
    unsigned char out[512];
    for (int i = 0; i <= nl; i++) {
        const int64_t rows = i < nl ? 2 : 0, n = i < nl ? lens[i] : qk_type_get(s->type)->blck_size;
        memset(out, 0x5a, sizeof out);
        const size_t rs = s->quantize(x, out, rows, n, NULL), rv = v->quantize(x, out, rows, n, NULL);
        size_t touched = 0;
        for (size_t k = 0; k < sizeof out; k++) touched += out[k] != 0x5a;
        CHECK_MSG(rs == 0 && rv == 0 && touched == 0,
                  "%s/%s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu, %zu bytes written",
                  qk_type_get(s->type)->name, qk_isa_name(v->isa), rows, n, rs, rv, touched);
    }
}

#endif
