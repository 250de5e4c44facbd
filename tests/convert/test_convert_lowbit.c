/* A converted model in the low-bit types of issue 14 runs in llama.cpp: a
 * generated Hugging Face checkpoint (Llama, and Mixtral for MXFP4_MOE),
 * converted straight to IQ2_M, IQ3_XXS, TQ2_0 and MXFP4_MOE (with an
 * importance matrix where llama-quantize requires one), loads with
 * llama_model_load_from_file, evaluates a prompt and decodes tokens one by
 * one: the logits are finite and near the independent float32 forward pass
 * of the checkpoint (support/hf_forward), the greedy tokens are the argmax
 * of a full re-evaluation, and `verify --against` (qk_compare) reports every
 * tensor of the file with its error. On these tiny random models the
 * embedding's path dominates the logits (with every low-bit tensor zeroed
 * they still have cosine 0.989 with the reference), so the logit cosine only
 * catches gross breakage (NaN, garbage scales); what proves the low-bit
 * tensors' values is the per-tensor comparison (a zeroed tensor has cosine
 * 0), with test_kernels_iq_grid/test_kernels_lowbit proving our
 * dequantization equal to ggml's. */
#include <math.h>

#include "compare.h"
#include "convert_model.h"
#include "ftypes.h"
#include "ggml_types.h"
#include "gguf.h"
#include "hf_forward.h"
#include "hf_safetensors_min.h"
#include "imatrix_ref.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "qk_test.h"
#include "tiny_hf.h"

/* Cosine similarity of two logit vectors (all positions). */
static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static int argmax(const float *x, int n) {
    int a = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[a]) a = i;
    return a;
}

/* One checkpoint (arch) converted to `type` (the file's main ggml type is
 * want_type). */
static void check_type(const char *arch, const char *type, int want_type) {
    char dir[700], f32[800], dat[800], out[800];
    snprintf(dir, sizeof dir, "%s/%s/hf", qk_test_tmpdir(), arch);
    snprintf(f32, sizeof f32, "%s/%s/f32.gguf", qk_test_tmpdir(), arch);
    snprintf(dat, sizeof dat, "%s/%s/imatrix.dat", qk_test_tmpdir(), arch);
    snprintf(out, sizeof out, "%s/%s/%s.gguf", qk_test_tmpdir(), arch, type);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = arch;
    s.n_layer = 4;
    qk_err err;
    qk_convert_report rep;
    /* the checkpoint, its F32 conversion (the imatrix's tensor list) and an imatrix */
    CHECK(tiny_hf_write(dir, &s) == 0);
    qk_convert_opts o = {.type = "f32", .output_tensor_type = -1, .n_threads = 2, .command_line = "convert (test)"};
    CHECK_MSG(qk_convert_model(dir, f32, &o, &rep, &err) == QK_OK, "%s", err.msg);
    imatrix_ref imr = {0};
    CHECK(imatrix_ref_write(f32, dat, 5, &imr) == 0);
    /* without the imatrix, the types that need one are refused, naming it */
    o.type = type;
    const bool needs = strcmp(type, "tq2_0") && strcmp(type, "mxfp4_moe");
    const int rc = qk_convert_model(dir, out, &o, &rep, &err);
    CHECK_MSG((rc != QK_OK) == needs, "%s without an imatrix: rc %d (%s)", type, rc, rc ? err.msg : "");
    if (needs && rc != QK_OK) CHECK_CONTAINS(err.msg, "importance matrix");
    o.imatrix = &imr.im;
    CHECK_MSG(qk_convert_model(dir, out, &o, &rep, &err) == QK_OK, "%s: %s", type, err.msg);

    /* the file holds the type asked for (not all fallbacks) */
    qk_gguf_file *g = NULL;
    int n_want = 0;
    uint64_t n_tensors = 0;
    if (qk_gguf_open(out, &g, &err) == QK_OK) {
        n_tensors = g->meta.n_tensors;
        for (uint64_t t = 0; t < g->meta.n_tensors; t++) n_want += g->meta.tensors[t].type == (uint32_t)want_type;
        qk_gguf_close(g);
    }
    CHECK_MSG(n_want >= 4, "%s: %d tensors of type %d", type, n_want, want_type);

    /* llama.cpp: load, a prompt in one batch, then token-by-token decoding */
    char e[256];
    hf_model *ref = hf_st_min_load_model(dir, e, sizeof e);
    llama_run_model *m = llama_run_load(out, false);
    CHECK_MSG(m != NULL, "%s: %s", type, llama_run_error());
    CHECK_MSG(ref != NULL, "%s", e);
    if (m && ref) {
        const int nv = hf_forward_vocab(ref), np = 8, ng = 6;
        CHECK_EQ_INT(llama_run_n_vocab(m), nv);
        int32_t seq[8 + 6] = {3, 71, 72, 73, 100, 33, 12, 5};
        float *want = malloc((size_t)(np + ng) * nv * sizeof(float)), *got = malloc((size_t)(np + ng) * nv * sizeof(float));
        CHECK(hf_forward_logits(ref, seq, np, want) == 0);
        CHECK(llama_run_logits(m, seq, np, got));
        size_t n_bad = 0;
        for (size_t i = 0; i < (size_t)np * nv; i++) n_bad += !isfinite(got[i]);
        const double c = cosine(got, want, (size_t)np * nv);
        CHECK_EQ_INT(n_bad, 0);
        CHECK(llama_run_greedy(m, seq, np, ng, seq + np));
        /* each decoded token is what a whole-sequence evaluation makes the argmax */
        CHECK(llama_run_logits(m, seq, np + ng - 1, got));
        int same = 0;
        for (int i = 0; i < ng; i++) {
            CHECK(seq[np + i] >= 0 && seq[np + i] < nv);
            same += argmax(got + (size_t)(np - 1 + i) * nv, nv) == seq[np + i];
        }
        fprintf(stderr, "%-8s %-9s: %d of %llu tensors in the type, logits cosine %.4f vs the F32 reference, "
                "%d/%d decoded tokens = re-evaluated argmax\n", arch, type, n_want, (unsigned long long)n_tensors, c,
                same, ng);
        CHECK_MSG(c >= 0.95, "%s: logits cosine %.4f < 0.95", type, c);
        CHECK_EQ_INT(same, ng);
        free(want), free(got);
    }
    llama_run_free(m);
    hf_forward_free(ref);

    /* verify --against: every tensor with its error, and the total */
    qk_compare_report cmp = {0};
    CHECK_MSG(qk_compare(out, dir, NULL, &cmp, &err) == QK_OK, "%s", err.msg);
    CHECK_EQ_INT(cmp.n, n_tensors);
    int n_cmp_want = 0;
    for (size_t i = 0; i < cmp.n; i++) {
        const qk_tensor_diff *d = &cmp.tensors[i];
        CHECK_MSG(isfinite(d->rmse) && d->cosine > 0.6 && d->cosine <= 1.0 + 1e-9, "%s %s: rmse %g cosine %f", type,
                  d->name, d->rmse, d->cosine);
        n_cmp_want += d->type == (uint32_t)want_type && d->rmse > 0;
    }
    CHECK_EQ_INT(n_cmp_want, n_want);
    fprintf(stderr, "%-8s %-9s: verify --against: %zu tensors, total rmse %.5f cosine %.4f, worst %s (cosine %.4f)\n",
            arch, type, cmp.n, cmp.rmse, cmp.cosine, cmp.worst, cmp.worst_cosine);
    CHECK(cmp.rmse > 0 && isfinite(cmp.rmse) && cmp.cosine > 0.8);
    qk_compare_report_free(&cmp);
    imatrix_ref_free(&imr);
}

static void test_lowbit_types_decode(void) {
    if (!llama_ref_require()) { CHECK(!"the pinned llama.cpp"); return; }
    llama_ref_init_backend();
    check_type("llama", "iq2_m", QK_TYPE_IQ2_S);
    check_type("llama", "iq3_xxs", QK_TYPE_IQ3_XXS);
    check_type("llama", "tq2_0", QK_TYPE_TQ2_0);
    check_type("mixtral", "mxfp4_moe", QK_TYPE_MXFP4);
}

int main(void) {
    RUN(test_lowbit_types_decode);
    return qk_test_summary();
}
