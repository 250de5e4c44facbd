#include "kernel_vs_ggml.h"

#include <math.h>

#include <stdlib.h>
#include <string.h>

#include "kernel_cases.h"
#include "quant_inputs.h"

/* ggml's to_float of `bytes`, or the floats themselves for F32 (no to_float). */
static void ggml_to_float(const llama_ref *r, qk_type t, const unsigned char *bytes, float *y, int64_t n) {
    const ref_ggml_type_traits *tr = r->ggml_get_type_traits((int)t);
    if (tr->to_float) tr->to_float(bytes, y, n);
    else memcpy(y, bytes, sizeof(float) * (size_t)n);
}

bool kvg_compare(const llama_ref *r, const qk_kernel *k, const float *x, int64_t nrows, int64_t n,
                 const float *imatrix, kvg_relax_fn relax, kvg_result *res) {
    const qk_type t = k->type;
    const size_t nb = (size_t)r->ggml_row_size((int)t, n) * (size_t)nrows, nf = (size_t)(nrows * n);
    unsigned char *ours = malloc(nb), *theirs = malloc(nb);
    float *dq_ours = malloc(sizeof(float) * nf), *dq_theirs = malloc(sizeof(float) * nf);
    memset(ours, 0xAA, nb);
    memset(theirs, 0x55, nb);
    memset(res, 0, sizeof *res);
    res->got = k->quantize(x, ours, nrows, n, imatrix);
    res->want = r->ggml_quantize_chunk((int)t, x, theirs, 0, nrows, n, imatrix);
    if (relax && res->got == res->want) relax(t, ours, theirs, res->want);
    res->quant_differs = res->got != res->want || memcmp(ours, theirs, res->want) != 0;
    size_t at = 0;
    while (at < res->want && at < res->got && ours[at] == theirs[at]) at++;
    res->diff_at = at;
    res->ours_at = at < res->want ? ours[at] : 0;
    res->theirs_at = at < res->want ? theirs[at] : 0;
    k->dequantize(theirs, dq_ours, (int64_t)nf);
    ggml_to_float(r, t, theirs, dq_theirs, (int64_t)nf);
    res->dequant_differs = memcmp(dq_ours, dq_theirs, sizeof(float) * nf) != 0;
    free(ours); free(theirs); free(dq_ours); free(dq_theirs);
    return !res->quant_differs && !res->dequant_differs;
}

enum { SWEEP_ROWS = 3 };

int kvg_sweep_cases(const llama_ref *r, const qk_kernel *k, const int64_t *lens, int nl, kvg_relax_fn relax) {
    const char *name = qk_type_get(k->type)->name;
    int combos = 0, bad = 0;
    for (int use_imatrix = 0; use_imatrix < 2; use_imatrix++) {
        for (int li = 0; li < nl; li++) {
            const int64_t n = lens[li];
            float *w = NULL, *x = malloc(sizeof(float) * (size_t)(SWEEP_ROWS * n));
            if (use_imatrix) {
                w = malloc(sizeof(float) * (size_t)n);
                qk_quant_imatrix((uint64_t)n, w, n);
            }
            for (int c = 0; c < kc_count(); c++, combos++) {
                for (int row = 0; row < SWEEP_ROWS; row++) kc_fill(c, (uint64_t)(row * 131 + n), x + row * n, n);
                kvg_result d;
                if (kvg_compare(r, k, x, SWEEP_ROWS, n, w, relax, &d)) continue;
                bad++;
                CHECK_MSG(!d.quant_differs,
                          "%s case %s n=%" PRId64 " imatrix=%s: size %zu vs %zu, first diff at byte %zu (%02x vs %02x)",
                          name, kc_name(c), n, w ? "yes" : "no", d.got, d.want, d.diff_at, d.ours_at, d.theirs_at);
                CHECK_MSG(!d.dequant_differs, "%s case %s n=%" PRId64 ": dequantization differs", name, kc_name(c), n);
            }
            free(w);
            free(x);
        }
    }
    fprintf(stderr, "  %-7s %d combinations, %d mismatched\n", name, combos, bad);
    return bad;
}

bool kvg_dequant_random_matches(const llama_ref *r, const qk_kernel *k, int64_t n, qk_rng *g) {
    const size_t rs = r->ggml_row_size((int)k->type, n);
    unsigned char *b = malloc(rs);
    float *a = malloc(sizeof(float) * (size_t)n), *e = malloc(sizeof(float) * (size_t)n);
    for (size_t i = 0; i < rs; i++) b[i] = (unsigned char)qk_rng_next(g);
    k->dequantize(b, a, n);
    ggml_to_float(r, k->type, b, e, n);
    /* bit for bit, except that a NaN (random fp16 scales make some) only has
     * to be a NaN on both sides: its payload follows the compiler's code */
    bool same = true;
    for (int64_t i = 0; i < n && same; i++)
        same = memcmp(&a[i], &e[i], sizeof(float)) == 0 || (isnan(a[i]) && isnan(e[i]));
    free(b); free(a); free(e);
    return same;
}

void kvg_check_dequant_random(const qk_type *types, size_t n_types, int64_t n, uint64_t seed) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    qk_rng g = {seed};
    for (size_t i = 0; i < n_types; i++) {
        const qk_kernel *k = qk_kernel_get(types[i], QK_ISA_SCALAR);
        if (!k) { CHECK_MSG(k != NULL, "%s has no kernel", qk_type_get(types[i])->name); continue; }
        CHECK_MSG(kvg_dequant_random_matches(r, k, n, &g), "%s: dequantization of random bytes differs",
                  qk_type_get(k->type)->name);
    }
}

bool kvg_same_quant(const llama_ref *r, const qk_kernel *k, const float *x, int64_t nrows, int64_t n, const char *what) {
    kvg_result d;
    kvg_compare(r, k, x, nrows, n, NULL, NULL, &d);
    CHECK_MSG(!d.quant_differs, "%s/%s %s blocks=%" PRId64 ": first diff at byte %zu: %02x vs ggml %02x",
              qk_type_get(k->type)->name, qk_isa_name(k->isa), what, n / qk_type_get(k->type)->blck_size, d.diff_at,
              d.ours_at, d.theirs_at);
    return !d.quant_differs;
}

int kvg_variants(qk_type t, const qk_kernel **out) {
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = qk_isa_list_available(isas);
    int n = 0;
    for (int i = 0; i < n_isa; i++) {
        const qk_kernel *k = qk_kernel_get(t, isas[i]);
        if (k && (n == 0 ? k->isa == QK_ISA_SCALAR : k->isa == isas[i])) out[n++] = k;
    }
    return n;
}

void kvg_variants_vs_ggml(const qk_type *types, int nt, int64_t x_floats, kvg_rows_fn rows) {
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
    if (!r) return;
    float *x = malloc(sizeof(float) * (size_t)x_floats);
    for (int ti = 0; ti < nt; ti++) {
        const qk_kernel *ks[QK_ISA_COUNT];
        const int nk = kvg_variants(types[ti], ks);
        CHECK(nk >= 1);
        for (int i = 0; i < nk; i++)
            fprintf(stderr, "  %-6s %-7s vs ggml: %s\n", qk_type_get(types[ti])->name, qk_isa_name(ks[i]->isa),
                    rows(r, ks[i], x) ? "MISMATCH" : "ok");
    }
    free(x);
}
