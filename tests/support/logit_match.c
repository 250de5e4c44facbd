/* logit_match.c - see logit_match.h. */
#include "logit_match.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "convert_run.h"
#include "hf_forward.h"
#include "hf_safetensors_min.h"
#include "llama_ref.h"
#include "qk_test.h"

int logit_ref_tiny(logit_ref *r, const tiny_hf_spec *s, char *dir, size_t dirlen) {
    if (!llama_ref_init_backend()) {
        qk_test_skip("llama.cpp's libraries are not available (QK_LLAMA_DIR)");
        return -1;
    }
    char name[128];
    snprintf(name, sizeof name, "tiny-%s-%s", s->arch, s->dtype);
    return convert_write_tiny(dir, dirlen, name, s) ? -1 : logit_ref_hf(r, dir);
}

const int32_t logit_prompt[LOGIT_NP] = {296, 71, 72, 73, 256, 257, 258, 100, 33, 290, 12, 5};

int logit_ref_hf(logit_ref *r, const char *dir) {
    char e[256];
    hf_model *ref = hf_st_min_load_model(dir, e, sizeof e);
    CHECK_MSG(ref != NULL, "%s", e);
    if (!ref) return -1;
    r->nv = hf_forward_vocab(ref);
    r->want = malloc((size_t)LOGIT_NP * r->nv * sizeof(float));
    int rc = r->want ? 0 : -1;
    hf_forward_reset(ref);
    for (int p = 0; p < LOGIT_NP && rc == 0; p++) {
        r->prompt[p] = logit_prompt[p] % r->nv; /* the SentencePiece vocabularies are smaller */
        rc = hf_forward_next(ref, r->prompt[p], r->want + (size_t)p * r->nv);
        r->margin[p] = hf_forward_route_margin(ref);
    }
    CHECK_MSG(rc == 0, "%s: reference: %s", dir, r->want ? hf_forward_error(ref) : "out of memory");
    hf_forward_free(ref);
    return rc;
}

void logit_ref_free(logit_ref *r) {
    free(r->want);
    r->want = NULL;
}

void logit_ref_check_margins(const logit_ref *r, double margin_min, const char *what) {
    int n_safe = 0;
    for (int p = 0; p < LOGIT_NP; p++) n_safe += r->margin[p] >= margin_min;
    CHECK_MSG(n_safe >= 4, "%s: only %d of %d positions route with a margin", what, n_safe, LOGIT_NP);
}

llama_run_model *logit_convert_load(const char *dir, const char *out, const char *type, const logit_ref *r) {
    qk_err err;
    CHECK_MSG(convert_run(dir, out, type, 2, &err) == QK_OK, "%s: %s", type, err.msg);
    llama_run_model *m = llama_run_load(out, false);
    CHECK_MSG(m != NULL, "%s: %s", type, llama_run_error());
    if (m) CHECK_EQ_INT(llama_run_n_vocab(m), r->nv);
    return m;
}

double logit_ref_compare(const logit_ref *r, llama_run_model *m, int all, double margin_min, double tol,
                         const char *what) {
    const size_t nv = (size_t)r->nv;
    float *got = malloc(LOGIT_NP * nv * sizeof(float));
    const int ok = got && llama_run_logits(m, r->prompt, LOGIT_NP, got);
    CHECK_MSG(ok, "%s: no logits from llama.cpp", what);
    if (!ok) {
        free(got);
        return INFINITY;
    }
    double r_all = 0, e = 0;
    for (int p = 0; p < LOGIT_NP; p++) {
        const double e1 = hf_rel_err(got + p * nv, r->want + p * nv, nv);
        r_all = fmax(r_all, e1);
        if (all || r->margin[p] >= margin_min) e = fmax(e, e1);
        if (getenv("QK_LOGIT_DEBUG")) fprintf(stderr, "  pos %d margin %.4f err %.5f\n", p, r->margin[p], e1);
    }
    free(got);
    fprintf(stderr, "tiny %-26s: max logit error %.6f of the largest logit (%s), %.6f over all %d\n", what, e,
            all ? "every position" : "positions routing with a margin", r_all, LOGIT_NP);
    CHECK_MSG(e < tol, "%s: relative logit error %.5f >= %.3f", what, e, tol);
    return e;
}

llama_run_model *logit_check_type(const logit_ref *r, const char *dir, const char *tag, const char *type, double tol,
                                  double margin_min, double *e) {
    char out[900], what[96];
    snprintf(out, sizeof out, "%s/tiny-%s-%s.gguf", qk_test_tmpdir(), tag, type);
    snprintf(what, sizeof what, "%s %s", tag, type);
    const bool f32 = !strcmp(type, "f32");
    llama_run_f32_attention(f32);
    llama_run_model *m = logit_convert_load(dir, out, type, r);
    const double err = m ? logit_ref_compare(r, m, f32, margin_min, tol, what) : INFINITY;
    llama_run_f32_attention(false);
    if (e) *e = err;
    return m;
}
