/* convert_variant.c - see convert_variant.h */
#include "convert_variant.h"

#include <stdio.h>

#include "convert_run.h"
#include "qk_test.h"

int convert_variant_start(convert_variant *v, const char *name, convert_spec_fn spec, const char *arch, const char *type,
                          int threads) {
    tiny_hf_spec s;
    spec(&s, arch);
    v->type = type, v->threads = threads;
    snprintf(v->a, sizeof v->a, "%s/%s-a.gguf", qk_test_tmpdir(), name);
    snprintf(v->b, sizeof v->b, "%s/%s-b.gguf", qk_test_tmpdir(), name);
    if (convert_write_tiny(v->dir, sizeof v->dir, name, &s)) return -1;
    snprintf(v->config, sizeof v->config, "%s/config.json", v->dir);
    qk_err err;
    const int rc = convert_run(v->dir, v->a, type, threads, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    return rc == QK_OK ? 0 : -1;
}

int convert_variant_converts(const convert_variant *v) {
    qk_err err;
    const int rc = convert_run(v->dir, v->b, v->type, v->threads, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    return rc == QK_OK ? 0 : -1;
}

void convert_variant_refused(const convert_variant *v, const char *want) {
    qk_err err;
    CHECK_MSG(convert_run(v->dir, v->b, v->type, v->threads, &err) == QK_FAIL, "%s converted", v->dir);
    CHECK_CONTAINS(err.msg, want);
}
