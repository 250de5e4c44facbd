#include "kernel_cases.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "qk_test.h"
#include "quant_inputs.h"

enum { KC_NAN_SCATTER, KC_INF_SCATTER, KC_NAN_INF_MIX, KC_SIGNED_ZEROS, KC_INF_BLOCKS, KC_EXTRA_COUNT };
static const char *k_extra_names[KC_EXTRA_COUNT] = {"nan_scatter", "inf_scatter", "nan_inf_mix", "signed_zeros",
                                                        "inf_blocks"};

int kc_count(void) { return QI_COUNT + KC_EXTRA_COUNT; }

const char *kc_name(int c) {
    if (c < QI_COUNT) return qk_quant_input_name((qk_quant_input_case)c);
    return (c - QI_COUNT < KC_EXTRA_COUNT) ? k_extra_names[c - QI_COUNT] : "?";
}

void kc_fill(int c, uint64_t seed, float *x, int64_t n) {
    if (c < QI_COUNT) {
        qk_quant_input((qk_quant_input_case)c, seed, x, n);
        return;
    }
    qk_quant_input(QI_GAUSS_UNIT, seed, x, n);
    qk_rng r = {seed * 0x2545F4914F6CDD1DULL + (uint64_t)c};
    switch (c - QI_COUNT) {
    case KC_NAN_SCATTER:
        for (int64_t i = 0; i < n; i++)
            if (qk_rng_next(&r) % 23 == 0) x[i] = (qk_rng_next(&r) & 1) ? NAN : -NAN;
        break;
    case KC_INF_SCATTER:
        for (int64_t i = 0; i < n; i++)
            if (qk_rng_next(&r) % 29 == 0) x[i] = (qk_rng_next(&r) & 1) ? INFINITY : -INFINITY;
        break;
    case KC_NAN_INF_MIX:
        for (int64_t i = 0; i < n; i++) {
            const int64_t blk = i / 32, j = i % 32;
            if (blk % 4 == 1) x[i] = NAN;                                 /* a whole NaN block */
            else if (blk % 4 == 2 && (j == 0 || j == 31)) x[i] = NAN;     /* first/last lane */
            else if (blk % 4 == 3 && j % 8 == 5) x[i] = (j & 16) ? INFINITY : -INFINITY;
        }
        break;
    case KC_SIGNED_ZEROS:
        for (int64_t i = 0; i < n; i++) {
            const uint64_t k = qk_rng_next(&r) % 8;
            x[i] = k < 3 ? 0.0f : k < 6 ? -0.0f : (k == 6 ? 1e-3f : -1e-3f);
            if ((i / 32) % 2 == 1) x[i] = (k & 1) ? 0.0f : -0.0f; /* blocks of zeros only */
        }
        break;
    case KC_INF_BLOCKS: /* NaN-free blocks whose range is inf or NaN: inf - inf */
        for (int64_t i = 0; i < n; i++) {
            const int64_t blk = i / 32, j = i % 32;
            if (blk % 8 == 1) x[i] = INFINITY;                          /* all +inf */
            else if (blk % 8 == 3) x[i] = -INFINITY;                    /* all -inf */
            else if (blk % 8 == 5) x[i] = (j & 1) ? FLT_MAX : -FLT_MAX; /* range overflows */
            else if (blk % 8 == 6) x[i] = j < 16 ? INFINITY : -INFINITY;
        }
        break;
    default: break;
    }
}

bool kc_isa_here(qk_isa isa) {
    if (qk_isa_available(isa)) return true;
    qk_test_skip("this CPU has no %s", qk_isa_name(isa));
    return false;
}

void kc_run_isa_parts(qk_isa *isa, const kc_test *tests, int n) {
    static const struct {
        const char *part; /* the ctest part; CMake's qk_add_test lists the same three */
        qk_isa isa;
    } parts[] = {{"avx2", QK_ISA_AVX2}, {"avx512", QK_ISA_AVX512}, {"neon", QK_ISA_NEON}};
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        if (!qk_test_part(parts[p].part) || !kc_isa_here(parts[p].isa)) continue;
        *isa = parts[p].isa;
        for (int i = 0; i < n; i++) qk_test_run(tests[i].name, tests[i].fn);
    }
}

int kc_variant_differs(const qk_kernel *s, const qk_kernel *v, const float *x, int64_t nrows, int64_t n,
                       const char *what) {
    enum { GUARD = 17 }; /* one byte before the output, the rest after */
    const qk_type_info *info = qk_type_get(s->type);
    const size_t bytes = (size_t)(nrows * (n / info->blck_size)) * info->type_size, total = bytes + GUARD;
    unsigned char *a = malloc(total), *b = malloc(total);
    memset(a, 0x11, total), memset(b, 0x11, total);
    /* an exact-size copy one float into its allocation: unaligned, and a read past the rows is a sanitizer error */
    const size_t nf = (size_t)(nrows * n);
    float *copy = malloc(sizeof(float) * (nf + 1));
    if (nf) memcpy(copy + 1, x, sizeof(float) * nf);
    const size_t ra = s->quantize(copy + 1, a + 1, nrows, n, NULL), rb = v->quantize(copy + 1, b + 1, nrows, n, NULL);
    size_t off = 0;
    while (off < total && a[off] == b[off]) off++;
    const int bad = ra != bytes || rb != bytes || off < total;
    CHECK_MSG(!bad, "%s/%s %s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu, first diff at byte %zu of the padded output",
              info->name, qk_isa_name(v->isa), what, nrows, n, ra, rb, off);
    free(a), free(b), free(copy);
    return bad;
}

/* v against s on every case of cs (kc_variants_equal_scalar's first part) at x; adds the mismatched row sets to *bad
 * and returns how many it compared */
static int sweep_cases(const kc_case_set *cs, const qk_kernel *s, const qk_kernel *v, float *x, int *bad) {
    const int qk = (int)qk_type_get(s->type)->blck_size;
    int runs = 0;
    for (int c = 0; c < cs->n; c++)
        for (int k = 0; k < (cs->seeds ? cs->seeds[c] : 1); k++)
            for (size_t bi = 0; bi < cs->nb; bi++)
                for (int64_t rows = 1; rows <= cs->rows_max; rows += 2, runs++) {
                    const uint64_t seed = (uint64_t)(bi * 10 + (size_t)rows) + 100 * (uint64_t)k;
                    cs->fill(c, seed, x, rows * cs->blocks[bi] * qk, qk);
                    *bad += kc_variant_differs(s, v, x, rows, cs->blocks[bi] * qk, cs->names[c]);
                }
    return runs;
}

void kc_variants_equal_scalar(const qk_type *types, int nt, qk_isa isa, const kc_case_set *cases) {
    for (int ti = 0; ti < nt; ti++) {
        const qk_kernel *s = qk_kernel_get(types[ti], QK_ISA_SCALAR), *v = qk_kernel_get(types[ti], isa);
        CHECK(s && v && v->isa == isa); /* a real variant, not the scalar fallback */
        if (!s || !v) continue;
        /* room for the largest of cases' rows and for 64 blocks (more than the partial rows take) */
        const int64_t b = qk_type_get(types[ti])->blck_size, partial[] = {b / 2, b + b / 2, b + 1, 2 * b + 1};
        int64_t x_floats = 64 * b;
        for (size_t bi = 0; bi < cases->nb; bi++)
            if (cases->rows_max * cases->blocks[bi] * b > x_floats) x_floats = cases->rows_max * cases->blocks[bi] * b;
        float *buf = malloc(sizeof(float) * (size_t)(x_floats + 1)), *x = buf + 1;
        int bad = 0;
        int runs = sweep_cases(cases, s, v, x, &bad);
        /* then every case of kernel_cases.h on one row of 64 blocks, and rows that are not whole blocks */
        for (int c = 0; c < kc_count(); c++, runs++) {
            kc_fill(c, 17, x, 64 * b);
            bad += kc_variant_differs(s, v, x, 1, 64 * b, kc_name(c));
        }
        kc_check_partial_rows_refused(s, v, x, partial, 4);
        fprintf(stderr, "  %-6s %-7s %d row sets: %s\n", qk_type_get(types[ti])->name, qk_isa_name(isa), runs,
                bad ? "MISMATCH" : "ok");
        free(buf);
    }
}

void kc_check_partial_rows_refused(const qk_kernel *s, const qk_kernel *v, const float *x, const int64_t *lens,
                                   int nl) {
    for (int i = 0; i <= nl; i++) { /* the last: 0 rows of a whole block, which writes nothing either */
        const int64_t rows = i < nl ? 2 : 0, n = i < nl ? lens[i] : qk_type_get(s->type)->blck_size;
        const size_t cap = (size_t)(2 * n) * sizeof(float) + 64; /* more than any type writes */
        unsigned char *out = malloc(cap);
        memset(out, 0x5a, cap);
        const size_t rs = s->quantize(x, out, rows, n, NULL), rv = v->quantize(x, out, rows, n, NULL);
        size_t touched = 0;
        for (size_t k = 0; k < cap; k++) touched += out[k] != 0x5a;
        CHECK_MSG(rs == 0 && rv == 0 && touched == 0, "%s/%s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu, %zu bytes written",
                  qk_type_get(s->type)->name, qk_isa_name(v->isa), rows, n, rs, rv, touched);
        free(out);
    }
}
