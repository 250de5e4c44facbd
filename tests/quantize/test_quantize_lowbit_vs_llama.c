/* `quantize` against the real llama_model_quantize for the file types of
 * issue 14 and the options added with them, on the generated models (GQA 4
 * with 8 layers, tied embeddings with odd rows, 8-expert MoE, narrow F32):
 *  - TQ1_0, TQ2_0, MXFP4_MOE, Q2_K_S, Q1_0, Q2_0 (part "main") and the IQ1,
 *    IQ2, IQ3 file types (parts "iq1", "iq2", "iq3", so that ctest runs them
 *    side by side) with and without an imatrix:
 *    the same KVs (but quantkit.*), tensors and bytes; where llama.cpp
 *    refuses for want of an imatrix we refuse too, in one line naming the
 *    file type and where an imatrix comes from;
 *  - --prune-layers (first, middle, last layers, with an imatrix, on the
 *    MoE model) and --tensor-type-file, and their parsers. */
#include "ftypes.h"
#include "gguf.h"
#include "gguf_compare.h"
#include "imatrix_ref.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "tiny_gguf.h"

#include <unistd.h>


typedef struct {
    char in[600], dat[600], ours[700], theirs[700];
    imatrix_ref imr;
} model_files;

static model_files g_files[TINY_GGUF_N_MIX_MODELS];
static bool g_ready;

static bool prepare(void) {
    if (g_ready) return true;
    const char *dir = qk_test_tmpdir();
    for (size_t mi = 0; mi < TINY_GGUF_N_MIX_MODELS; mi++) {
        model_files *f = &g_files[mi];
        snprintf(f->in, sizeof f->in, "%s/%s.gguf", dir, tiny_gguf_mix_models[mi].label);
        snprintf(f->dat, sizeof f->dat, "%s/%s.imatrix.dat", dir, tiny_gguf_mix_models[mi].label);
        snprintf(f->ours, sizeof f->ours, "%s/ours.gguf", dir);
        snprintf(f->theirs, sizeof f->theirs, "%s/theirs.gguf", dir);
        if (tiny_gguf_write(f->in, &tiny_gguf_mix_models[mi].spec) != 0) return false;
        if (imatrix_ref_write(f->in, f->dat, 99, &f->imr) != 0) return false;
    }
    return g_ready = true;
}

typedef struct {
    bool imatrix;
    const int32_t *prune; /* -1 terminated, or NULL */
    const qk_mix_override *ov;
    size_t n_ov;
} run_opts;

/* BOTH_REFUSED: both want an imatrix; BOTH_FAILED: both refuse the shape
 * (e.g. Q1_0 on 96-column rows: no fallback type for 128-blocks) */
typedef enum { SAME, BOTH_REFUSED, BOTH_FAILED, DIFFER } verdict;

/* One quantization on both sides. */
static verdict run_one(const llama_ref *r, size_t mi, int ftype, const run_opts *ro, const char *what) {
    model_files *f = &g_files[mi];
    unlink(f->ours);
    unlink(f->theirs);
    qk_quantize_opts o = tiny_quantize_opts(ftype);
    o.n_threads = 2;
    if (ro->imatrix) o.imatrix = &f->imr.im, o.imatrix_path = f->dat;
    size_t n_prune = 0;
    while (ro->prune && ro->prune[n_prune] >= 0) n_prune++;
    o.prune_layers = ro->prune;
    o.n_prune_layers = n_prune;
    o.mix.overrides = ro->ov;
    o.mix.n_overrides = ro->n_ov;
    qk_quantize_report rep;
    qk_err err = {{0}};
    const int rc = qk_quantize_model(f->in, f->ours, &o, &rep, &err);
    qk_quantize_report_free(&rep);

    ref_llama_model_quantize_params p = r->llama_model_quantize_default_params();
    p.nthread = 2;
    p.ftype = ftype;
    p.prune_layers = ro->prune;
    struct ref_llama_model_tensor_override tto[8] = {{0}};
    for (size_t i = 0; i < ro->n_ov && i < 7; i++) tto[i] = (struct ref_llama_model_tensor_override){ro->ov[i].pattern, ro->ov[i].type};
    if (ro->n_ov) p.tt_overrides = tto;
    struct ref_llama_model_kv_override kvo[8] = {{0}};
    if (ro->imatrix) {
        p.imatrix = f->imr.data;
        imatrix_ref_kv_overrides(&f->imr, f->dat, kvo, 0);
        p.kv_overrides = kvo;
    }
    const uint32_t lrc = r->llama_model_quantize(f->in, f->theirs, &p);
    if (rc != QK_OK && lrc != 0 && strstr(err.msg, "needs an importance matrix")) {
        /* the refusal: one line, naming the file type and where to get an imatrix */
        const qk_ftype_info *fi = qk_ftype_by_id(ftype);
        CHECK(strchr(err.msg, '\n') == NULL);
        CHECK_CONTAINS(err.msg, fi->name);
        CHECK_CONTAINS(err.msg, "--imatrix");
        CHECK_CONTAINS(err.msg, "llama-imatrix");
        CHECK_CONTAINS(err.msg, "beside the model");
        return BOTH_REFUSED;
    }
    if (rc != QK_OK && lrc != 0 && strstr(err.msg, "no fallback is defined")) return BOTH_FAILED;
    if (rc != QK_OK || lrc != 0) {
        fprintf(stderr, "%s: ours rc=%d (%s), llama.cpp rc=%u\n", what, rc, rc ? err.msg : "", lrc);
        return DIFFER;
    }
    return gguf_same_but_quantkit(f->ours, f->theirs, what) ? SAME : DIFFER;
}

/* Every model x {no imatrix, imatrix} for one ftype; returns mismatches.
 * The sanitizer build leaves out the no-imatrix runs on the two large models
 * (the same mixture as with an imatrix; its kernels are test_kernels_iq_grid's;
 * only the refusal differs, which the Release run checks). */
static int g_both_failed;

static int compare_ftype(const llama_ref *r, const qk_ftype_info *fi, int *runs, int *refused) {
    int bad = 0;
    for (size_t mi = 0; mi < TINY_GGUF_N_MIX_MODELS; mi++)
        for (int im = 0; im < 2; im++) {
            if (QK_TEST_SANITIZED && !im && tiny_gguf_mix_models[mi].spec.n_embd >= 256) continue;
            char what[128];
            snprintf(what, sizeof what, "%s %s %s", tiny_gguf_mix_models[mi].label, fi->name, im ? "imatrix" : "no-imatrix");
            run_opts ro = {.imatrix = im};
            verdict v = run_one(r, mi, fi->ftype, &ro, what);
            ++*runs;
            if (v == BOTH_REFUSED) {
                ++*refused;
                CHECK_MSG(!im, "%s: refused although an imatrix was given", what);
            }
            g_both_failed += v == BOTH_FAILED;
            bad += v == DIFFER;
            /* `quantkit types` says "needed" exactly where llama.cpp refuses a 256-wide model */
            if (!im && mi == 0 && v != DIFFER)
                CHECK_MSG(qk_mix_ftype_requires_imatrix(fi->ftype) == (v == BOTH_REFUSED), "%s: requires_imatrix %d",
                          what, qk_mix_ftype_requires_imatrix(fi->ftype));
        }
    return bad;
}

static const llama_ref *ready(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return NULL; }
    llama_ref_init_backend();
    CHECK(prepare());
    return g_ready ? r : NULL;
}

static void test_new_ftypes(void) {
    const llama_ref *r = ready();
    if (!r) return;
    static const char *names[] = {"TQ1_0", "TQ2_0", "MXFP4_MOE", "Q2_K_S", "Q1_0", "Q2_0"};
    int runs = 0, refused = 0, bad = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const qk_ftype_info *fi = qk_ftype_lookup(names[i]);
        CHECK(fi && qk_ftype_supported(fi));
        if (!fi || !qk_ftype_supported(fi)) continue;
        bad += compare_ftype(r, fi, &runs, &refused);
    }
    fprintf(stderr, "  %d runs, %d refused on both sides (imatrix needed), %d failed on both (shape), %d differ\n", runs,
            refused, g_both_failed, bad);
    if (!QK_TEST_SANITIZED) CHECK(refused > 0); /* Q2_K_S without an imatrix (those runs are left out under ASan) */
    CHECK(g_both_failed < runs / 4);
    CHECK_EQ_INT(bad, 0);
}

/* The IQ file types of one family; every one must be supported now (its
 * kernels exist), and needs an imatrix on the large models. */
static void compare_iq(const char *const *names, size_t n) {
    const llama_ref *r = ready();
    if (!r) return;
    int runs = 0, refused = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        const qk_ftype_info *fi = qk_ftype_lookup(names[i]);
        CHECK_MSG(fi && qk_ftype_supported(fi), "%s", names[i]);
        if (fi && qk_ftype_supported(fi)) bad += compare_ftype(r, fi, &runs, &refused);
    }
    fprintf(stderr, "  %d runs, %d refused on both sides (imatrix needed), %d differ\n", runs, refused, bad);
    CHECK(runs > 0);
    if (!QK_TEST_SANITIZED) CHECK(refused > 0);
    CHECK_EQ_INT(bad, 0);
}

static void test_iq1_ftypes(void) {
    static const char *const names[] = {"IQ1_S", "IQ1_M"};
    compare_iq(names, 2);
}

static void test_iq2_ftypes(void) {
    static const char *const names[] = {"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M"};
    compare_iq(names, 4);
}

static void test_iq3_ftypes(void) {
    static const char *const names[] = {"IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M"};
    compare_iq(names, 4);
}

static void test_prune_layers(void) {
    const llama_ref *r = ready();
    if (!r) return;
    static const int32_t first[] = {0, -1}, middle[] = {2, 5, -1}, last[] = {7, -1}, many[] = {1, 3, 4, 6, -1};
    static const int32_t unsorted[] = {5, 2, -1}; /* the API keeps the order: prune.front() is 5 */
    struct { size_t mi; int ftype; const int32_t *prune; bool imatrix; } cases[] = {
        {0, QK_FTYPE_Q4_K_M, first, false},  {0, QK_FTYPE_Q4_K_M, middle, false}, {0, QK_FTYPE_Q4_K_M, last, false},
        {0, QK_FTYPE_Q3_K_M, many, false},   {0, QK_FTYPE_Q4_0, middle, true},    {0, QK_FTYPE_Q8_0, unsorted, false},
        {2, QK_FTYPE_Q4_K_M, first, false},  {2, QK_FTYPE_MXFP4_MOE, last, false}, {1, QK_FTYPE_Q2_K_S, middle, true},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[128];
        snprintf(what, sizeof what, "prune case %zu (%s, ftype %d)", i, tiny_gguf_mix_models[cases[i].mi].label, cases[i].ftype);
        run_opts ro = {.imatrix = cases[i].imatrix, .prune = cases[i].prune};
        bad += run_one(r, cases[i].mi, cases[i].ftype, &ro, what) != SAME;
    }
    CHECK_EQ_INT(bad, 0);
    /* the block count really changed: 8 layers minus {2, 5} */
    qk_gguf_file *g;
    qk_err err;
    run_opts ro = {.prune = middle};
    CHECK(run_one(r, 0, QK_FTYPE_Q8_0, &ro, "prune middle") == SAME);
    CHECK(qk_gguf_open(g_files[0].ours, &g, &err) == QK_OK);
    const qk_gguf_kv *kv = NULL;
    for (uint64_t k = 0; k < g->meta.n_kv; k++)
        if (!strcmp(g->meta.kv[k].key, "llama.block_count")) kv = &g->meta.kv[k];
    CHECK(kv && kv->type == QK_GGUF_U32 && *(const uint32_t *)kv->data == 6);
    bool has5 = false, has6 = false;
    for (uint64_t t = 0; t < g->meta.n_tensors; t++) {
        has5 |= !strncmp(g->meta.tensors[t].name, "blk.5.", 6);
        has6 |= !strncmp(g->meta.tensors[t].name, "blk.6.", 6);
    }
    CHECK(has5 && !has6);
    qk_gguf_close(g);
}

static void test_prune_layers_parse(void) {
    int32_t *v;
    size_t n;
    qk_err err;
    CHECK(qk_prune_layers_parse("5,1,3,1", &v, &n, &err) == QK_OK);
    CHECK(n == 3 && v[0] == 1 && v[1] == 3 && v[2] == 5);
    free(v);
    CHECK(qk_prune_layers_parse(" 2,7x", &v, &n, &err) == QK_OK); /* std::stoi: blanks, trailing text */
    CHECK(n == 2 && v[0] == 2 && v[1] == 7);
    free(v);
    CHECK(qk_prune_layers_parse("1,-2", &v, &n, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "'-2'");
    CHECK(qk_prune_layers_parse("1,,2", &v, &n, &err) == QK_FAIL);
    CHECK(qk_prune_layers_parse("abc", &v, &n, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "'abc'");
    CHECK(qk_prune_layers_parse("99999999999", &v, &n, &err) == QK_FAIL);
}

static void test_tensor_type_file(void) {
    const char *dir = qk_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/types.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("  ATTN_V=q8_0\n\nffn_down=Q5_K\tblk\\.1\\.attn_q=q6_k   output=Q8_0", f);
    fclose(f);
    char *pat[8] = {0};
    int types[8];
    size_t n = 0;
    qk_err err;
    CHECK(qk_mix_read_tensor_type_file(path, pat, types, 8, &n, &err) == QK_OK);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_STR(pat[0], "attn_v"); /* lowercased, as llama-quantize does */
        CHECK_EQ_INT(types[0], QK_TYPE_Q8_0);
        CHECK_STR(pat[2], "blk\\.1\\.attn_q");
        CHECK_EQ_INT(types[1], QK_TYPE_Q5_K);
    }
    /* the whole file against llama_model_quantize with the same overrides */
    const llama_ref *r = ready();
    if (r && n == 4) {
        qk_mix_override ov[4];
        for (size_t i = 0; i < 4; i++) ov[i] = (qk_mix_override){pat[i], types[i]};
        run_opts ro = {.ov = ov, .n_ov = 4};
        CHECK(run_one(r, 0, QK_FTYPE_Q4_K_M, &ro, "tensor-type-file Q4_K_M") == SAME);
        CHECK(run_one(r, 2, QK_FTYPE_TQ2_0, &ro, "tensor-type-file TQ2_0 moe") == SAME);
    }
    for (size_t i = 0; i < n; i++) free(pat[i]);
    /* too many, a bad entry, no file */
    CHECK(qk_mix_read_tensor_type_file(path, pat, types, 2, &n, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "more than 2");
    for (size_t i = 0; i < n; i++) free(pat[i]);
    f = fopen(path, "w");
    if (f) fputs("attn_v=q8_0 attn_q", f), fclose(f);
    CHECK(qk_mix_read_tensor_type_file(path, pat, types, 8, &n, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "types.txt");
    CHECK_CONTAINS(err.msg, "attn_q");
    for (size_t i = 0; i < n; i++) free(pat[i]);
    snprintf(path, sizeof path, "%s/absent.txt", dir);
    CHECK(qk_mix_read_tensor_type_file(path, pat, types, 8, &n, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "absent.txt");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_prune_layers_parse);
    RUN(test_new_ftypes);
    RUN(test_prune_layers);
    RUN(test_tensor_type_file);
    RUN_PART("iq1", test_iq1_ftypes);
    RUN_PART("iq2", test_iq2_ftypes);
    RUN_PART("iq3", test_iq3_ftypes);
    for (size_t mi = 0; g_ready && mi < TINY_GGUF_N_MIX_MODELS; mi++) imatrix_ref_free(&g_files[mi].imr);
    return qk_test_summary();
}
