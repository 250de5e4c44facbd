/* Every SIMD variant of the kernel table == the scalar kernel, byte for byte,
 * on all input cases (incl. NaN/inf/signed zeros), odd row lengths, several
 * rows, with and without imatrix, and at unaligned addresses. Runs on any
 * architecture (no llama.cpp needed): under qemu-aarch64 it checks NEON. */
#include "cpu_features.h"
#include "kernel_cases.h"
#include "kernels.h"
#include "qk_test.h"
#include "quant_inputs.h"
#include "quant_search.h"

#include <math.h>

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#define QK_K_TEST_BLOCKS 256

/* The SIMD ISA this run's part compares with the scalar kernels (see main). */
static qk_isa g_isa;

/* The ISAs to compare: the scalar reference first, then the part's ISA. */
static int selected_isas(qk_isa *list) {
    list[0] = QK_ISA_SCALAR;
    list[1] = g_isa;
    return 2;
}

static void test_isa_detection(void) {
    qk_isa list[QK_ISA_COUNT];
    const int n = qk_isa_list_available(list);
    CHECK(n >= 1 && list[0] == QK_ISA_SCALAR);
    CHECK(qk_isa_available(qk_isa_best()));
    CHECK(qk_isa_available(qk_isa_active()));
    for (int i = 0; i < n; i++) fprintf(stderr, "  available: %s\n", qk_isa_name(list[i]));
    qk_isa isa;
    qk_err e;
    CHECK(qk_isa_from_name("avx512", &isa, &e) == QK_OK && isa == QK_ISA_AVX512);
    CHECK(qk_isa_from_name("sse9", &isa, &e) == QK_FAIL);
    CHECK_CONTAINS(e.msg, "sse9");
#if defined(__aarch64__)
    CHECK(qk_isa_force(QK_ISA_AVX2, &e) == QK_FAIL);
    CHECK_CONTAINS(e.msg, "avx2");
    CHECK(qk_isa_available(QK_ISA_NEON));
#else
    CHECK(qk_isa_force(QK_ISA_NEON, &e) == QK_FAIL);
    CHECK_CONTAINS(e.msg, "neon");
    CHECK(!qk_isa_available(QK_ISA_NEON));
#endif
    const qk_isa before = qk_isa_active();
    CHECK(qk_isa_force(QK_ISA_SCALAR, &e) == QK_OK);
    CHECK(qk_isa_active() == QK_ISA_SCALAR);
    CHECK(qk_kernel_active(QK_TYPE_Q4_0)->isa == QK_ISA_SCALAR);
    CHECK(qk_isa_force(before, &e) == QK_OK);
}

static int compare(const qk_kernel *s, const qk_kernel *v, const float *x, int64_t nrows, int64_t n,
                   const float *w, const char *what) {
    const uint32_t bs = qk_type_get(s->type)->type_size, bl = qk_type_get(s->type)->blck_size;
    const size_t bytes = (size_t)(nrows * n / bl * bs);
    /* misaligned destination (odd for byte blocks, 2 mod 16 for the uint16_t
     * rows of F16/BF16): SIMD stores must not assume vector alignment */
    const size_t o = bl == 1 ? 2 : 1;
    unsigned char *a = malloc(bytes + o), *b = malloc(bytes + o);
    memset(a, 0x11, bytes + o);
    memset(b, 0x22, bytes + o);
    const size_t ra = s->quantize(x, a + o, nrows, n, w), rb = v->quantize(x, b + o, nrows, n, w);
    int bad = 0;
    /* a type ggml quantizes only with an imatrix (IQ2_XXS, IQ2_XS, IQ1_S)
     * refuses without one: then both must return 0 and write nothing */
    bool refused = !w && ra == 0 && rb == 0;
    for (size_t i = 0; refused && i < bytes + o; i++) refused = a[i] == 0x11 && b[i] == 0x22;
    if (refused) {
        free(a);
        free(b);
        return 0;
    }
    if (ra != bytes || rb != bytes || memcmp(a + o, b + o, bytes) != 0) {
        size_t off = 0;
        while (off < bytes && a[o + off] == b[o + off]) off++;
        CHECK_MSG(0, "%s/%s %s n=%" PRId64 " imatrix=%s: sizes %zu/%zu, first diff at %zu", qk_type_get(s->type)->name,
                  qk_isa_name(v->isa), what, n, w ? "yes" : "no", ra, rb, off);
        bad = 1;
    }
    free(a);
    free(b);
    return bad;
}

static void test_simd_equals_scalar(void) {
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = selected_isas(isas);
    qk_type types[QK_TYPE_COUNT];
    const int n_types = qk_kernel_types(types);
    const int64_t mult[] = {1, 2, 3, 7, 0 /* 4096 */};
    int variants = 0;
    for (int ii = 1; ii < n_isa; ii++) {
        for (int ti = 0; ti < n_types; ti++) {
            const qk_kernel *s = qk_kernel_get(types[ti], QK_ISA_SCALAR);
            const qk_kernel *v = qk_kernel_get(types[ti], isas[ii]);
            CHECK(s && v);
            if (!s || !v || v->isa == QK_ISA_SCALAR) continue; /* no SIMD variant: nothing to compare */
            variants++;
            const int64_t bl = qk_type_get(types[ti])->blck_size == 1 ? 32 : qk_type_get(types[ti])->blck_size;
            int bad = 0;
            for (size_t mi = 0; mi < sizeof mult / sizeof mult[0]; mi++) {
                const int64_t n = mult[mi] ? mult[mi] * bl : 4096;
                const int64_t nrows = 3;
                /* +1 float: the source is read at an unaligned address */
                float *buf = malloc(sizeof(float) * (size_t)(nrows * n + 1)), *x = buf + 1;
                float *w = malloc(sizeof(float) * (size_t)n);
                qk_quant_imatrix((uint64_t)n, w, n);
                for (int c = 0; c < kc_count(); c++) {
                    for (int64_t r = 0; r < nrows; r++) kc_fill(c, (uint64_t)(r * 7 + n), x + r * n, n);
                    bad += compare(s, v, x, nrows, n, NULL, kc_name(c));
                    bad += compare(s, v, x, nrows, n, w, kc_name(c));
                }
                free(buf);
                free(w);
            }
            /* F16/BF16 have block size 1: also odd element counts (SIMD tails) */
            if (qk_type_get(types[ti])->blck_size == 1) {
                float x[67];
                for (int c = 0; c < kc_count(); c++) {
                    kc_fill(c, 5, x, 67);
                    for (int64_t n = 1; n <= 67; n += 3) bad += compare(s, v, x, 1, n, NULL, kc_name(c));
                }
            }
            fprintf(stderr, "  %-7s %-7s %s\n", qk_type_get(types[ti])->name, qk_isa_name(isas[ii]), bad ? "MISMATCH" : "ok");
        }
    }
    fprintf(stderr, "  %d SIMD variants compared\n", variants);
#if defined(__x86_64__) || defined(__aarch64__)
    /* the ISA of this part has at least 7 variants */
    CHECK(variants >= 7);
#endif
#if defined(__aarch64__)
    /* the NEON K-quants must stay real variants, so the loop above covers them */
    const qk_type kq[] = {QK_TYPE_Q2_K, QK_TYPE_Q3_K, QK_TYPE_Q4_K, QK_TYPE_Q5_K, QK_TYPE_Q6_K, QK_TYPE_IQ4_NL, QK_TYPE_IQ4_XS};
    for (size_t i = 0; i < sizeof kq / sizeof kq[0]; i++) CHECK(qk_kernel_get(kq[i], QK_ISA_NEON)->isa == QK_ISA_NEON);
    CHECK(variants >= 14);
#endif
}

/* Rows that are not whole super-blocks (n_per_row % 256 != 0; IQ4_NL also
 * % 32 != 0), one row and several: ggml asserts them away, but a variant must
 * still do exactly what the scalar kernel does (same return value, same
 * bytes: a K-quant takes the whole super-blocks of each row, an IQ4 refuses
 * with 0), read only the nrows * n_per_row floats of the source (exactly
 * sized, so ASan sees an over-read) and write nothing past the bytes it
 * reports (the rest of the destination keeps its fill pattern). */
static void test_partial_superblocks(void) {
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = selected_isas(isas);
    const qk_type types[] = {QK_TYPE_Q2_K, QK_TYPE_Q3_K, QK_TYPE_Q4_K,  QK_TYPE_Q5_K,
                             QK_TYPE_Q6_K, QK_TYPE_IQ4_NL, QK_TYPE_IQ4_XS};
    const int64_t lens[] = {100, 288, 300, 544, 800};
    const int64_t rows[] = {1, 3};
    const size_t pad = 64;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const qk_type_info *tt = qk_type_get(types[ti]);
        const qk_kernel *s = qk_kernel_get(types[ti], QK_ISA_SCALAR);
        CHECK(s != NULL);
        if (!s) continue;
        int bad = 0;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
                const int64_t n = lens[li], nrows = rows[ri];
                /* room for every block a row touches, rounded up, plus a guard */
                const size_t cap = (size_t)(nrows * ((n + tt->blck_size - 1) / tt->blck_size)) * tt->type_size + pad;
                float *x = malloc(sizeof(float) * (size_t)(nrows * n)), *w = malloc(sizeof(float) * (size_t)n);
                unsigned char *ref = malloc(cap), *out = malloc(cap);
                qk_quant_imatrix((uint64_t)n, w, n);
                for (int64_t r = 0; r < nrows; r++) qk_quant_input(QI_GAUSS, (uint64_t)(r * 31 + n), x + r * n, n);
                for (int im = 0; im < 2; im++) {
                    const float *imx = im ? w : NULL;
                    memset(ref, 0x5a, cap);
                    const size_t rs = s->quantize(x, ref, nrows, n, imx);
                    /* the scalar kernel itself: whole super-blocks per row, or a refusal */
                    const size_t whole = (size_t)(nrows * (n / tt->blck_size)) * tt->type_size;
                    CHECK_MSG(rs == whole || rs == 0, "%s scalar n=%" PRId64 " rows=%" PRId64 ": returned %zu",
                              tt->name, n, nrows, rs);
                    if (rs > cap - pad) continue;
                    for (size_t k = rs; k < cap; k++) bad += ref[k] != 0x5a;
                    for (int ii = 1; ii < n_isa; ii++) {
                        const qk_kernel *v = qk_kernel_get(types[ti], isas[ii]);
                        CHECK(v != NULL);
                        if (!v) continue;
                        memset(out, 0xa5, cap);
                        const size_t rv = v->quantize(x, out, nrows, n, imx);
                        size_t past = 0;
                        for (size_t k = rv < cap ? rv : cap; k < cap; k++) past += out[k] != 0xa5;
                        if (rv != rs || memcmp(ref, out, rs) != 0 || past) {
                            size_t off = 0;
                            while (off < rs && ref[off] == out[off]) off++;
                            CHECK_MSG(0,
                                      "%s/%s n=%" PRId64 " rows=%" PRId64 " imatrix=%s: returned %zu (scalar %zu), "
                                      "first diff at %zu, %zu bytes written past it",
                                      tt->name, qk_isa_name(v->isa), n, nrows, im ? "yes" : "no", rv, rs, off, past);
                            bad++;
                        }
                    }
                }
                free(x), free(w), free(ref), free(out);
            }
        }
        CHECK(bad == 0);
        fprintf(stderr, "  %-7s partial super-blocks on %d ISAs: %s\n", tt->name, n_isa, bad ? "MISMATCH" : "ok");
    }
}

/* Every SIMD dequantizer == the scalar one, bit for bit, on every one of
 * the 65536 F16/BF16 patterns (signaling and quiet NaNs, infinities,
 * subnormals, signed zeros), at every length 0..67 and misaligned. */
static void test_simd_dequantize_equals_scalar(void) {
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = selected_isas(isas);
    const qk_type types[] = {QK_TYPE_F16, QK_TYPE_BF16};
    enum { N = 65536 };
    uint16_t *h = malloc(sizeof(uint16_t) * (N + 1));
    float *a = malloc(sizeof(float) * (N + 1)), *b = malloc(sizeof(float) * (N + 1));
    for (uint32_t i = 0; i < N; i++) h[i + 1] = (uint16_t)(i * 40503u); /* all patterns, shuffled */
    int variants = 0;
    for (int ii = 1; ii < n_isa; ii++) {
        for (size_t ti = 0; ti < 2; ti++) {
            const qk_kernel *s = qk_kernel_get(types[ti], QK_ISA_SCALAR), *v = qk_kernel_get(types[ti], isas[ii]);
            if (!s || !v || v->isa == QK_ISA_SCALAR) continue;
            variants++;
            int bad = 0;
            s->dequantize(h + 1, a + 1, N);
            v->dequantize(h + 1, b + 1, N);
            bad += memcmp(a + 1, b + 1, sizeof(float) * N) != 0;
            for (int64_t n = 0; n <= 67; n++) {
                memset(a, 0x11, sizeof(float) * 70), memset(b, 0x11, sizeof(float) * 70);
                s->dequantize(h + 1 + n, a + 1, n); /* h + 1 + n: odd and even uint16_t offsets */
                v->dequantize(h + 1 + n, b + 1, n);
                bad += memcmp(a, b, sizeof(float) * 70) != 0;
            }
            CHECK_MSG(bad == 0, "%s/%s dequantize differs from scalar", qk_type_get(types[ti])->name,
                      qk_isa_name(isas[ii]));
            fprintf(stderr, "  %-7s %-7s dequantize %s\n", qk_type_get(types[ti])->name, qk_isa_name(isas[ii]),
                    bad ? "MISMATCH" : "ok");
        }
    }
#if defined(__x86_64__) || defined(__aarch64__)
    CHECK(variants >= 2);
#endif
    free(h), free(a), free(b);
}

/* Steps (*ii, *t) to the next SIMD kernel of a type with blck-element blocks, over the ISAs isas[1..n_isa), ISA by
 * ISA and type by type (start from *ii 1, *t -1): true with *s the type's scalar kernel and *v that one, false past
 * the last. */
static bool next_variant(const qk_isa *isas, int n_isa, uint32_t blck, int *ii, int *t, const qk_kernel **s,
                         const qk_kernel **v) {
    while (*ii < n_isa) {
        if (++*t == QK_TYPE_COUNT) {
            *t = -1, ++*ii;
            continue;
        }
        *s = qk_kernel_get((qk_type)*t, QK_ISA_SCALAR), *v = qk_kernel_get((qk_type)*t, isas[*ii]);
        if (*s && *v && (*v)->isa != QK_ISA_SCALAR && qk_type_get((qk_type)*t)->blck_size == blck) return true;
    }
    return false;
}

/* The K-quant searches branch on rare events (a refinement pass changing a
 * level, a search step beating the best by one ulp): many more super-blocks
 * of realistic data than the edge cases above hold, with both imatrix modes
 * (every type with 256-element blocks: the K-quants and IQ4_XS). */
static void test_kquants_many_blocks(void) {
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = selected_isas(isas);
    const qk_quant_input_case cases[] = {QI_GAUSS, QI_GAUSS_UNIT, QI_OUTLIERS, QI_HALF_TIES};
    const int64_t n = 256 * QK_K_TEST_BLOCKS;
    float *x = malloc(sizeof(float) * (size_t)n), *w = malloc(sizeof(float) * (size_t)n);
    qk_quant_imatrix(99, w, n);
    int compared = 0;
    const qk_kernel *s, *v;
    for (int ii = 1, t = -1; next_variant(isas, n_isa, 256, &ii, &t, &s, &v);) {
        int bad = 0;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            qk_quant_input(cases[c], 1000 + c, x, n);
            bad += compare(s, v, x, 1, n, NULL, qk_quant_input_name(cases[c]));
            bad += compare(s, v, x, 1, n, w, qk_quant_input_name(cases[c]));
        }
        compared++;
        fprintf(stderr, "  %-7s %-7s %d blocks x %zu cases: %s\n", qk_type_get((qk_type)t)->name,
                qk_isa_name(isas[ii]), (int)QK_K_TEST_BLOCKS, sizeof cases / sizeof cases[0], bad ? "MISMATCH" : "ok");
    }
#if defined(__aarch64__)
    CHECK(compared >= 6); /* Q2_K..Q6_K and IQ4_XS have NEON variants */
#endif
    free(x);
    free(w);
}

/* The 32-element block types (Q4_0..Q5_1 with an imatrix run their block
 * searches 8 or 16 blocks at a time, across row boundaries, the blocks left
 * over padded or through the scalar block): realistic data with row
 * lengths of 32 * (16 + 3), 32 * (8 + 3) and 32 * (16 + 1) elements
 * (leftover blocks per row for both lane widths), on one row and on several
 * (lane groups spanning rows with different sigma2, leftover counts of 1,
 * 3, 5, 7, 11, 13, 15 at the end), and the edge cases on 13 rows. */
static void test_legacy_many_blocks(void) {
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = selected_isas(isas);
    const qk_quant_input_case cases[] = {QI_GAUSS, QI_GAUSS_UNIT, QI_OUTLIERS, QI_HALF_TIES};
    const int64_t lens[] = {32 * (16 + 3), 32 * (8 + 3), 32 * (16 + 1)};
    const int64_t rows[] = {1, 5, 13};
    const int64_t max_n = 32 * 19 * 13;
    float *x = malloc(sizeof(float) * (size_t)max_n), *w = malloc(sizeof(float) * (size_t)(32 * 19));
    int compared = 0;
    const qk_kernel *s, *v;
    for (int ii = 1, t = -1; next_variant(isas, n_isa, 32, &ii, &t, &s, &v);) {
        int bad = 0;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            qk_quant_imatrix(77 + li, w, lens[li]);
            for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
                for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                    qk_quant_input(cases[c], 2000 + 10 * c + ri, x, rows[ri] * lens[li]);
                    bad += compare(s, v, x, rows[ri], lens[li], NULL, qk_quant_input_name(cases[c]));
                    bad += compare(s, v, x, rows[ri], lens[li], w, qk_quant_input_name(cases[c]));
                }
            }
        }
        /* the edge cases (NaN, inf, signed zeros, ...) on 13 rows, mixed per row:
         * the per-row sigma2 of several rows at once sees them too */
        qk_quant_imatrix(91, w, lens[1]);
        for (int c = 0; c < kc_count(); c++) {
            for (int64_t r = 0; r < 13; r++) kc_fill(r % 3 ? c : (c + r) % kc_count(), (uint64_t)(r * 5 + c), x + r * lens[1], lens[1]);
            bad += compare(s, v, x, 13, lens[1], NULL, kc_name(c));
            bad += compare(s, v, x, 13, lens[1], w, kc_name(c));
        }
        compared++;
        fprintf(stderr, "  %-7s %-7s row lengths 608/352/544 x 1/5/13 rows x %zu cases + edge cases: %s\n",
                qk_type_get((qk_type)t)->name, qk_isa_name(isas[ii]), sizeof cases / sizeof cases[0],
                bad ? "MISMATCH" : "ok");
    }
#if defined(__x86_64__)
    CHECK(compared >= 5 * (n_isa - 1)); /* Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 per SIMD ISA at least */
#endif
    free(x);
    free(w);
}

#if defined(__aarch64__)
/* Why the NEON kernels keep ggml's 12582912.f trick instead of vcvtnq_s32_f32:
 * both round to nearest with ties to even, and agree on every float with
 * |x| < 2^22 - 0.5 (x + 1.5*2^23 then lies in [2^23, 2^24), where the ulp
 * is 1, so the addition itself is the ties-to-even rounding, exactly). This
 * checks it on every tie k + 0.5 and both neighbours of every tie for
 * |k| < 2^22, and shows where they part: at 2^22 - 0.5, huge values and
 * inf vcvtnq saturates while ggml returns mantissa garbage the kernels must
 * reproduce (for the default NaN both happen to give 0). */
static void test_nearest_int_vs_vcvtnq(void) {
    long bad = 0, n = 0;
    const int32x4_t j0123 = {0, 1, 2, 3};
    for (int32_t k = -(1 << 22) + 4; k < (1 << 22) - 4; k += 4) {
        /* ties k+j+0.5 (exact: the ulp is <= 0.25 here) and the floats just below and above */
        const float32x4_t t = vaddq_f32(vcvtq_f32_s32(vaddq_s32(vdupq_n_s32(k), j0123)), vdupq_n_f32(0.5f));
        const int32x4_t bits = vreinterpretq_s32_f32(t);
        const float32x4_t v3[3] = {t, vreinterpretq_f32_s32(vsubq_s32(bits, vdupq_n_s32(1))),
                                   vreinterpretq_f32_s32(vaddq_s32(bits, vdupq_n_s32(1)))};
        for (int e = 0; e < 3; e++) {
            float f[4];
            int32_t r[4];
            vst1q_f32(f, v3[e]);
            vst1q_s32(r, vcvtnq_s32_f32(v3[e]));
            for (int j = 0; j < 4; j++, n++) bad += r[j] != qk_nearest_int(f[j]);
        }
    }
    fprintf(stderr, "  nearest_int == vcvtnq on %ld values around ties with |x| < 2^22\n", n);
    CHECK(bad == 0);
    CHECK(qk_nearest_int(2.5f) == 2 && qk_nearest_int(3.5f) == 4 && qk_nearest_int(-2.5f) == -2);
    /* outside the range they differ: the kernels must use the bit trick */
    const float out[] = {4194303.5f, 1e10f, -1e10f, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        const int32_t c = vgetq_lane_s32(vcvtnq_s32_f32(vdupq_n_f32(out[i])), 0);
        CHECK(c != qk_nearest_int(out[i]));
    }
}
#endif

/* BF16 outputs of 2^21 elements and more take the non-temporal store path
 * (f16_<isa>.c): every case, at destinations whose alignment changes the
 * scalar head (all even: a BF16 row is uint16_t), and a source one float
 * off a vector boundary. */
static void test_bf16_long_rows(void) {
    const int64_t nrows = 7, n = 299601; /* 2097207 elements >= 2^21 */
    const size_t total = (size_t)(nrows * n);
    float *xb = malloc((total + 1) * sizeof(float));
    unsigned char *a = malloc(total * 2 + 64), *b = malloc(total * 2 + 64);
    CHECK(xb && a && b);
    if (!xb || !a || !b) return;
    float *x = xb + 1;
    const qk_kernel *s = qk_kernel_get(QK_TYPE_BF16, QK_ISA_SCALAR);
    int compared = 0;
    for (int c = 0; c < kc_count(); c++) {
        kc_fill(c, 7, x, (int64_t)total);
        static const size_t offs[] = {0, 2, 34, 62}; /* uint16_t rows: even addresses */
        for (size_t oi = 0; oi < sizeof offs / sizeof offs[0]; oi++) {
            const size_t o = offs[oi];
            const size_t rs = s->quantize(x, a + o, nrows, n, NULL);
            for (int isa = 1; isa < QK_ISA_COUNT; isa++) {
                const qk_kernel *v = qk_kernel_get(QK_TYPE_BF16, (qk_isa)isa);
                if (!v || v->isa == QK_ISA_SCALAR || v->isa != g_isa) continue;
                memset(b, 0x5a, total * 2 + 64);
                const size_t rv = v->quantize(x, b + o, nrows, n, NULL);
                CHECK_MSG(rs == rv && memcmp(a + o, b + o, rs) == 0, "bf16 %s case %s dst offset %zu differs",
                          qk_isa_name(v->isa), kc_name(c), o);
                CHECK(b[o + rv] == 0x5a); /* nothing written past the row */
                compared++;
            }
        }
    }
    fprintf(stderr, "  %d long BF16 rows compared\n", compared);
    free(xb);
    free(a);
    free(b);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_isa_detection);
#if defined(__aarch64__)
    RUN(test_nearest_int_vs_vcvtnq);
#endif
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_simd_equals_scalar), KC_TEST(test_partial_superblocks),
                     KC_TEST(test_kquants_many_blocks), KC_TEST(test_legacy_many_blocks),
                     KC_TEST(test_simd_dequantize_equals_scalar), KC_TEST(test_bf16_long_rows));
    return qk_test_summary();
}
