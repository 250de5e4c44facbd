/* `quantize` against the real llama_model_quantize: on generated models that
 * exercise the mixture rules (GQA 4, enough layers for use_more_bits, tied and
 * untied embeddings, rows not divisible by 256 or 32, 8-expert MoE), for every
 * ftype quantkit has kernels for, with and without --pure, output overrides,
 * tensor-type overrides, --override-kv (user keys of every type, then the
 * imatrix keys) and an importance matrix, the output has the same KVs
 * (except quantkit.* provenance/integrity keys), the same tensor order, types
 * and shapes, and byte-identical tensor data; and any thread count gives the
 * same file. */
#include "ftypes.h"
#include "gguf.h"
#include "imatrix_ref.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "tiny_gguf.h"
#include "gguf_compare.h"

typedef struct {
    const char *label;
    bool pure, leave_output, use_imatrix;
    int output_type;
    const char *tensor_type; /* pattern=type */
    const char *const *kv;   /* --override-kv arguments, NULL-terminated */
} opt_case;

/* new keys of every type, an existing one replaced, a negative int (written
 * as u32 of its magnitude, as llama.cpp does) */
static const char *const k_kv_args[] = {"general.name=str:renamed by override", "test.override.i=int:-7",
                                        "test.override.f=float:0.1", "test.override.b=bool:true",
                                        "general.test.flag=bool:false", NULL};

static const opt_case k_opts[] = {
    {"default", false, false, false, -1, NULL, NULL},
    {"pure", true, false, false, -1, NULL, NULL},
    {"leave-output", false, true, false, -1, NULL, NULL},
    {"output-q8_0", false, false, false, QK_TYPE_Q8_0, NULL, NULL},
    {"tensor-type", false, false, false, -1, "attn_v=q8_0", NULL},
    {"imatrix", false, false, true, -1, NULL, NULL},
    {"override-kv", false, false, false, -1, NULL, k_kv_args},
    {"override-kv+imatrix", false, false, true, -1, NULL, k_kv_args},
};

/* The ftypes of issue 14 (ternary, FP4, 1-/2-bit, IQ1-IQ3) are compared in
 * test_quantize_lowbit_vs_llama, with fewer option sets (runtime). */
static bool lowbit_ftype(int ftype) {
    const int dt = qk_ftype_default_type(ftype);
    return ftype == QK_FTYPE_Q2_K_S || ftype == QK_FTYPE_MXFP4_MOE || dt == QK_TYPE_TQ1_0 || dt == QK_TYPE_TQ2_0 ||
           dt == QK_TYPE_Q1_0 || dt == QK_TYPE_Q2_0 || dt == QK_TYPE_IQ1_S || dt == QK_TYPE_IQ1_M ||
           dt == QK_TYPE_IQ2_XXS || dt == QK_TYPE_IQ2_XS || dt == QK_TYPE_IQ2_S || dt == QK_TYPE_IQ3_XXS ||
           dt == QK_TYPE_IQ3_S;
}

static bool kernels_for_ftype(int ftype) {
    int t = qk_ftype_default_type(ftype);
    const qk_kernel *k = qk_kernel_active((qk_type)t);
    /* the mixes also use Q6_K/Q5_K/Q4_K/Q3_K for some tensors */
    static const uint32_t kq[] = {QK_TYPE_Q2_K, QK_TYPE_Q3_K, QK_TYPE_Q4_K, QK_TYPE_Q5_K, QK_TYPE_Q6_K};
    if (!k || !k->quantize) return false;
    if (t == QK_TYPE_F32 || t == QK_TYPE_F16 || t == QK_TYPE_BF16 || t == QK_TYPE_Q8_0) return true;
    for (size_t i = 0; i < sizeof kq / sizeof kq[0]; i++) {
        const qk_kernel *kk = qk_kernel_active((qk_type)kq[i]);
        if (!kk || !kk->quantize) return false;
    }
    return true;
}

static void test_against_llama_model_quantize(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    llama_ref_init_backend(); /* also silences llama.cpp's log */
    const char *dir = qk_test_tmpdir();
    int runs = 0, bad = 0;
    char skipped[512] = "";
    for (size_t mi = 0; mi < TINY_GGUF_N_MIX_MODELS; mi++) {
        char in[600], dat[600];
        snprintf(in, sizeof in, "%s/%s.gguf", dir, tiny_gguf_mix_models[mi].label);
        snprintf(dat, sizeof dat, "%s/%s.imatrix.dat", dir, tiny_gguf_mix_models[mi].label);
        CHECK(tiny_gguf_write(in, &tiny_gguf_mix_models[mi].spec) == 0);
        imatrix_ref imr;
        qk_err err;
        CHECK(imatrix_ref_write(in, dat, 99, &imr) == 0);
        for (size_t fi = 0; fi < qk_ftype_count(); fi++) {
            const qk_ftype_info *ft = qk_ftype_at(fi);
            if (!qk_ftype_supported(ft) || ft->is_alias) continue;
            if (lowbit_ftype(ft->ftype)) continue; /* test_quantize_lowbit_vs_llama */
            if (!kernels_for_ftype(ft->ftype)) {
                if (mi == 0 && !strstr(skipped, ft->name)) {
                    size_t l = strlen(skipped);
                    snprintf(skipped + l, sizeof skipped - l, " %s", ft->name);
                }
                continue;
            }
            for (size_t oi = 0; oi < sizeof k_opts / sizeof k_opts[0]; oi++) {
                /* sanitizer build: every ftype on every model, all option sets on the first model */
                if (QK_TEST_SANITIZED && mi > 0 && oi > 0) continue;
                const opt_case *oc = &k_opts[oi];
                /* the KV overrides do not depend on the model's shape: first model only */
                if (oc->kv && mi > 0) continue;
                char ours[700], theirs[700], what[256];
                snprintf(ours, sizeof ours, "%s/ours.gguf", dir);
                snprintf(theirs, sizeof theirs, "%s/theirs.gguf", dir);
                snprintf(what, sizeof what, "%s %s %s", tiny_gguf_mix_models[mi].label, ft->name, oc->label);
                /* ours */
                qk_quantize_opts o = tiny_quantize_opts(ft->ftype);
                o.mix.pure = oc->pure;
                o.mix.leave_output_tensor = oc->leave_output;
                o.mix.output_tensor_type = oc->output_type;
                qk_mix_override ov;
                char *pat = NULL;
                if (oc->tensor_type) {
                    int t;
                    CHECK(qk_mix_parse_tensor_type(oc->tensor_type, &pat, &t, &err) == QK_OK);
                    ov = (qk_mix_override){pat, t};
                    o.mix.overrides = &ov;
                    o.mix.n_overrides = 1;
                }
                if (oc->use_imatrix) o.imatrix = &imr.im, o.imatrix_path = dat;
                qk_kv_override ukv[8];
                size_t n_ukv = 0;
                for (size_t k = 0; oc->kv && oc->kv[k]; k++)
                    CHECK(qk_kv_override_parse(oc->kv[k], &ukv[n_ukv++], &err) == QK_OK);
                o.kv_overrides = ukv;
                o.n_kv_overrides = n_ukv;
                o.n_threads = 2;
                qk_quantize_report rep;
                int rc = qk_quantize_model(in, ours, &o, &rep, &err);
                qk_quantize_report_free(&rep);
                /* theirs */
                ref_llama_model_quantize_params p = r->llama_model_quantize_default_params();
                p.nthread = 2;
                p.ftype = ft->ftype;
                p.pure = oc->pure;
                p.quantize_output_tensor = !oc->leave_output;
                if (oc->output_type >= 0) p.output_tensor_type = oc->output_type;
                struct ref_llama_model_tensor_override tto[2] = {{0}};
                if (pat) {
                    tto[0].pattern = pat;
                    tto[0].type = ov.type;
                    p.tt_overrides = tto;
                }
                struct ref_llama_model_kv_override kvo[16] = {{0}};
                int k = 0;
                for (size_t u = 0; u < n_ukv; u++, k++) { /* the user's overrides come first */
                    kvo[k].tag = (int)ukv[u].tag; /* same enum order as llama_model_kv_override_type */
                    snprintf(kvo[k].key, 128, "%s", ukv[u].key);
                    if (ukv[u].tag == QK_KVO_INT) kvo[k].val_i64 = ukv[u].val_i64;
                    else if (ukv[u].tag == QK_KVO_FLOAT) kvo[k].val_f64 = ukv[u].val_f64;
                    else if (ukv[u].tag == QK_KVO_BOOL) kvo[k].val_bool = ukv[u].val_bool;
                    else snprintf(kvo[k].val_str, 128, "%s", ukv[u].val_str);
                }
                if (k) p.kv_overrides = kvo;
                if (oc->use_imatrix) {
                    p.imatrix = imr.data;
                    k = imatrix_ref_kv_overrides(&imr, dat, kvo, k); /* what llama-quantize's CLI adds */
                    p.kv_overrides = kvo;
                }
                uint32_t lrc = r->llama_model_quantize(in, theirs, &p);
                runs++;
                if (rc != QK_OK || lrc != 0) {
                    fprintf(stderr, "%s: ours rc=%d (%s), llama.cpp rc=%u\n", what, rc, rc ? err.msg : "", lrc);
                    bad++;
                } else if (!gguf_same_but_quantkit(ours, theirs, what)) {
                    bad++;
                }
                free(pat);
            }
        }
        imatrix_ref_free(&imr);
    }
    fprintf(stderr, "%d runs compared, %d differ%s%s\n", runs, bad, skipped[0] ? "; ftypes without kernels yet:" : "",
            skipped);
    CHECK(runs > 0);
    CHECK_EQ_INT(bad, 0);
}

static void test_thread_count_independent(void) {
    const char *dir = qk_test_tmpdir();
    char in[600], a[600], b[600];
    snprintf(in, sizeof in, "%s/threads.gguf", dir);
    tiny_gguf_spec s = {3, 128, 4, 2, 384, 300, 0, false, QK_TYPE_F16, 7};
    CHECK(tiny_gguf_write(in, &s) == 0);
    const int ftypes[] = {QK_FTYPE_Q8_0, QK_FTYPE_Q4_0, QK_FTYPE_Q5_1, QK_FTYPE_Q4_K_M};
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++) {
        if (!kernels_for_ftype(ftypes[i])) continue;
        size_t la, lb;
        unsigned char *x = NULL, *y = NULL;
        for (int th = 1; th <= 3; th += 2) {
            qk_quantize_opts o = tiny_quantize_opts(ftypes[i]);
            o.n_threads = th;
            o.command_line = "quantize (test)";
            snprintf(th == 1 ? a : b, 600, "%s/t%d.gguf", dir, th);
            qk_quantize_report rep;
            qk_err err;
            CHECK_MSG(qk_quantize_model(in, th == 1 ? a : b, &o, &rep, &err) == QK_OK, "%s", err.msg);
            qk_quantize_report_free(&rep);
        }
        x = qk_test_read_file(a, &la);
        y = qk_test_read_file(b, &lb);
        CHECK(x && y && la == lb && memcmp(x, y, la) == 0);
        free(x), free(y);
    }
}

static void test_errors(void) {
    const char *dir = qk_test_tmpdir();
    char in[600], q[600];
    snprintf(in, sizeof in, "%s/err.gguf", dir);
    snprintf(q, sizeof q, "%s/err-q8.gguf", dir);
    tiny_gguf_spec s = {1, 64, 2, 2, 128, 270, 0, true, QK_TYPE_F16, 8};
    CHECK(tiny_gguf_write(in, &s) == 0);
    qk_quantize_opts o = tiny_quantize_opts(QK_FTYPE_Q8_0);
    qk_quantize_report rep;
    qk_err err;
    CHECK(qk_quantize_model(in, in, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "overwrite the input");
    qk_quantize_report_free(&rep);
    CHECK(qk_quantize_model(in, q, &o, &rep, &err) == QK_OK);
    qk_quantize_report_free(&rep);
    /* requantizing needs --allow-requantize */
    char q2[600];
    snprintf(q2, sizeof q2, "%s/err-q4.gguf", dir);
    o.mix.ftype = QK_FTYPE_Q4_0;
    CHECK(qk_quantize_model(q, q2, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "requantiz");
    qk_quantize_report_free(&rep);
    o.mix.allow_requantize = true;
    CHECK_MSG(qk_quantize_model(q, q2, &o, &rep, &err) == QK_OK, "%s", err.msg);
    qk_quantize_report_free(&rep);
    CHECK(qk_quantize_model("/nonexistent.gguf", q2, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "/nonexistent.gguf");
    qk_quantize_report_free(&rep);
}

int main(void) {
    RUN(test_against_llama_model_quantize);
    RUN(test_thread_count_independent);
    RUN(test_errors);
    return qk_test_summary();
}
