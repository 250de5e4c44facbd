/* family_check.c - see family_check.h. */
#include "family_check.h"

#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "convert_run.h"
#include "gguf.h"
#include "qk_test.h"

const family_type family_types_routed[3] = {{"f32", 1e-4, true}, {"f16", 5e-3, true}, {"q8_0", 0.06, false}};
const family_type family_types_dense[3] = {{"f32", 1e-4, true}, {"f16", 5e-3, true}, {"q8_0", 0.06, true}};

void family_check_run(const family_check *fc) {
    for (size_t c = 0; c < fc->n_types; c++) {
        const family_type *t = &fc->types[c];
        char out[800], what[96];
        snprintf(out, sizeof out, "%s/tiny-%s-%s-%s.gguf", qk_test_tmpdir(), fc->arch, fc->dtype, t->type);
        snprintf(what, sizeof what, "%s %s -> %s", fc->arch, fc->dtype, t->type);
        llama_run_model *m = logit_convert_load(fc->dir, out, t->type, fc->r);
        if (!m) continue;
        convert_check_arch_kvs(m, fc->pre, fc->kv, fc->n_kv);
        if (fc->on_model) fc->on_model(fc, m, what);
        logit_ref_compare(fc->r, m, t->all, fc->margin_min, t->tol, what);
        llama_run_free(m);
        qk_err err;
        size_t n_cmp = 0;
        if (fc->compare) {
            qk_compare_report cmp;
            CHECK_MSG(qk_compare(out, fc->dir, NULL, &cmp, &err) == QK_OK, "%s", err.msg);
            /* exact: the F32 file holds the checkpoint's values, from BF16 too */
            if (!strcmp(t->type, "f32")) CHECK_MSG(cmp.rmse == 0.0, "f32 rmse %g", cmp.rmse);
            n_cmp = cmp.n;
            qk_compare_report_free(&cmp);
        }
        qk_gguf_file *gf = NULL;
        if (fc->n_tensors) {
            CHECK_MSG(qk_gguf_open(out, &gf, &err) == QK_OK, "%s", err.msg);
            if (gf) CHECK_EQ_INT(gf->meta.n_tensors, fc->n_tensors);
            if (gf && fc->compare) CHECK_EQ_INT(n_cmp, gf->meta.n_tensors);
            qk_gguf_close(gf);
        }
        if (fc->on_file) fc->on_file(fc, out, what);
        if (fc->n_f32s && !strcmp(t->type, "f16")) convert_check_f16_types(out, fc->f32s, fc->n_f32s, what);
    }
}
