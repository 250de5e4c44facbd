/* The ternary, FP4 and 1-/2-bit kernels (TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0,
 * Q2_0) against the real ggml: for every input case of kernel_cases.h (NaN,
 * inf, signed zeros, huge, denormal ...), row length (1, 2, 3, 7 blocks and
 * 4096 elements) and with and without an imatrix (ggml takes a per-row path
 * for Q1_0/Q2_0 when given one; the others ignore it), our bytes ==
 * ggml_quantize_chunk's, and our dequantization == ggml's to_float bit for
 * bit, of those bytes and of random bytes. */
#include <math.h>

#include "kernel_cases.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "quant_inputs.h"

enum { NROWS = 3 };

static const qk_type k_types[] = {QK_TYPE_TQ1_0, QK_TYPE_TQ2_0, QK_TYPE_MXFP4,
                                  QK_TYPE_NVFP4, QK_TYPE_Q1_0,  QK_TYPE_Q2_0};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

static int row_lengths(qk_type t, int64_t *out) {
    const int64_t b = qk_type_get(t)->blck_size;
    out[0] = b; out[1] = 2 * b; out[2] = 3 * b; out[3] = 7 * b; out[4] = 4096;
    return 5;
}

/* One (type, case, length, imatrix) combination; returns 1 on mismatch. */
static int compare_one(const llama_ref *r, const qk_kernel *k, int c, int64_t n, const float *imatrix) {
    const qk_type t = k->type;
    const size_t rs = r->ggml_row_size((int)t, n);
    float *x = malloc(sizeof(float) * (size_t)(NROWS * n));
    unsigned char *ours = malloc(rs * NROWS), *theirs = malloc(rs * NROWS);
    float *dq_ours = malloc(sizeof(float) * (size_t)(NROWS * n)), *dq_theirs = malloc(sizeof(float) * (size_t)(NROWS * n));
    int bad = 0;
    for (int row = 0; row < NROWS; row++) kc_fill(c, (uint64_t)(row * 131 + n), x + row * n, n);
    memset(ours, 0xAA, rs * NROWS);
    memset(theirs, 0x55, rs * NROWS);
    const size_t got = k->quantize(x, ours, NROWS, n, imatrix);
    const size_t want = r->ggml_quantize_chunk((int)t, x, theirs, 0, NROWS, n, imatrix);
    if (got != want || memcmp(ours, theirs, want) != 0) {
        size_t off = 0;
        while (off < want && off < got && ours[off] == theirs[off]) off++;
        CHECK_MSG(0, "%s case %s n=%" PRId64 " imatrix=%s: size %zu vs %zu, first diff at byte %zu (%02x vs %02x)",
                  qk_type_get(t)->name, kc_name(c), n, imatrix ? "yes" : "no", got, want, off,
                  off < want ? ours[off] : 0, off < want ? theirs[off] : 0);
        bad = 1;
    }
    k->dequantize(theirs, dq_ours, NROWS * n);
    r->ggml_get_type_traits((int)t)->to_float(theirs, dq_theirs, NROWS * n);
    if (memcmp(dq_ours, dq_theirs, sizeof(float) * (size_t)(NROWS * n)) != 0) {
        CHECK_MSG(0, "%s case %s n=%" PRId64 ": dequantization differs", qk_type_get(t)->name, kc_name(c), n);
        bad = 1;
    }
    free(x); free(ours); free(theirs); free(dq_ours); free(dq_theirs);
    return bad;
}

static void test_quantize_matches_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const qk_kernel *k = qk_kernel_get(k_types[ti], QK_ISA_SCALAR);
        CHECK_MSG(k != NULL, "no kernel for %s", qk_type_get(k_types[ti])->name);
        if (!k) continue;
        CHECK_EQ_INT((long long)r->ggml_row_size((int)k->type, 4096), (long long)(4096 / qk_type_get(k->type)->blck_size * qk_type_get(k->type)->type_size));
        int64_t lens[5];
        const int nl = row_lengths(k->type, lens);
        int combos = 0, bad = 0;
        for (int use_imatrix = 0; use_imatrix < 2; use_imatrix++) {
            for (int li = 0; li < nl; li++) {
                float *w = NULL;
                if (use_imatrix) {
                    w = malloc(sizeof(float) * (size_t)lens[li]);
                    qk_quant_imatrix((uint64_t)lens[li], w, lens[li]);
                }
                for (int c = 0; c < kc_count(); c++) {
                    bad += compare_one(r, k, c, lens[li], w);
                    combos++;
                }
                free(w);
            }
        }
        fprintf(stderr, "  %-6s %d combinations, %d mismatched\n", qk_type_get(k->type)->name, combos, bad);
    }
}

/* Dequantizing random bytes (every scale and code, NaN/inf fp16 scales,
 * every E8M0 and UE4M3 byte) == ggml's to_float. */
static void test_dequantize_random_bytes(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    qk_rng g = {777};
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const qk_kernel *k = qk_kernel_get(k_types[ti], QK_ISA_SCALAR);
        if (!k) { CHECK(k != NULL); continue; }
        const int64_t n = 256 * 64;
        const size_t rs = r->ggml_row_size((int)k->type, n);
        unsigned char *b = malloc(rs);
        float *a = malloc(sizeof(float) * n), *e = malloc(sizeof(float) * n);
        for (size_t i = 0; i < rs; i++) b[i] = (unsigned char)qk_rng_next(&g);
        k->dequantize(b, a, n);
        r->ggml_get_type_traits((int)k->type)->to_float(b, e, n);
        CHECK_MSG(memcmp(a, e, sizeof(float) * n) == 0, "%s: dequantization of random bytes differs", qk_type_get(k->type)->name);
        free(b); free(a); free(e);
    }
}

static void test_invalid_shapes_write_nothing(void) {
    float x[512] = {0};
    unsigned char out[512];
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const qk_kernel *k = qk_kernel_get(k_types[ti], QK_ISA_SCALAR);
        if (!k) { CHECK(k != NULL); continue; }
        const int64_t b = qk_type_get(k->type)->blck_size;
        memset(out, 0x5A, sizeof out);
        CHECK_EQ_INT(k->quantize(x, out, 1, b + 1, NULL), 0);
        CHECK_EQ_INT(k->quantize(x, out, -1, b, NULL), 0);
        CHECK_EQ_INT(k->quantize(x, out, 1, -b, NULL), 0);
        CHECK_EQ_INT(out[0], 0x5A);
        CHECK(qk_type_get(k->type)->can_quantize);
    }
}

int main(void) {
    RUN(test_invalid_shapes_write_nothing);
    RUN(test_quantize_matches_ggml);
    RUN(test_dequantize_random_bytes);
    return qk_test_summary();
}
