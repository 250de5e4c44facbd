/* logit_ref_as.c - see logit_ref_as.h */
#include "logit_ref_as.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "convert_run.h"
#include "hf_forward.h"
#include "qk_test.h"

int logit_ref_hf_as(logit_ref *r, const char *dir, const char *mt, const char *written) {
    char json[128];
    snprintf(json, sizeof json, "\"%s\"", mt);
    convert_edit_config(dir, "model_type", json);
    const int rc = logit_ref_hf(r, dir);
    snprintf(json, sizeof json, "\"%s\"", written);
    convert_edit_config(dir, "model_type", json);
    return rc;
}

llama_run_model *logit_check_as(const logit_ref *r, const char *dir, const char *tag, const char *label,
                                const char *type, double tol) {
    char out[900], what[128];
    snprintf(out, sizeof out, "%s/tiny-%s-%s.gguf", qk_test_tmpdir(), tag, type);
    snprintf(what, sizeof what, "%s %s", label, type);
    llama_run_model *m = logit_convert_load(dir, out, type, r);
    if (m) logit_ref_compare(r, m, 1, 0, tol, what);
    return m;
}

double logit_model_distance(const logit_ref *r, llama_run_model *m) {
    const size_t nv = (size_t)r->nv;
    float *got = malloc(LOGIT_NP * nv * sizeof(float));
    const bool ok = got && llama_run_logits(m, r->prompt, LOGIT_NP, got);
    CHECK_MSG(ok, "llama.cpp's logits of the prompt");
    double e = 0;
    for (int p = 0; ok && p < LOGIT_NP; p++) e = fmax(e, hf_rel_err(got + p * nv, r->want + p * nv, nv));
    free(got);
    return e;
}
