/* convert_plan.c - see convert_plan.h */
#include "convert_plan.h"

#include <stdio.h>
#include <string.h>

#include "qk_test.h"

int convert_plan(const char *dir, const char *type, qk_convert_report *rep) {
    char out[1200];
    snprintf(out, sizeof out, "%s-dry.gguf", dir);
    qk_convert_opts o = {.type = type, .output_tensor_type = -1, .n_threads = 1, .dry_run = true,
                         .command_line = "convert (test)"};
    qk_err err;
    const int rc = qk_convert_model(dir, out, &o, rep, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    return rc == QK_OK ? QK_OK : QK_FAIL;
}

void convert_check_caveat(const char *dir, const char *arch, const char *const *words, size_t n) {
    qk_convert_report rep;
    if (convert_plan(dir, "q8_0", &rep) != QK_OK) return;
    const char *c = rep.caveat;
    if (!n) CHECK_MSG(c == NULL, "%s: caveat %s", dir, c ? c : "");
    for (size_t k = 0; k < n; k++)
        CHECK_MSG(c && strstr(c, words[k]), "%s: caveat %s, without '%s'", dir, c ? c : "(none)", words[k]);
    if (arch)
        CHECK_MSG(rep.gguf_arch && !strcmp(rep.gguf_arch, arch), "%s: arch %s", dir,
                  rep.gguf_arch ? rep.gguf_arch : "(none)");
    qk_convert_report_free(&rep);
}
