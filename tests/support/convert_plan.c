/* convert_plan.c - see convert_plan.h */
#include "convert_plan.h"

#include <stdio.h>
#include <string.h>

#include "convert_model.h"
#include "qk_test.h"

void convert_check_caveat(const char *dir, const char *arch, const char *const *words, size_t n) {
    char out[1200];
    snprintf(out, sizeof out, "%s-dry.gguf", dir);
    qk_convert_opts o = {.type = "q8_0", .output_tensor_type = -1, .n_threads = 1, .dry_run = true,
                         .command_line = "convert (test)"};
    qk_convert_report rep;
    qk_err err;
    if (qk_convert_model(dir, out, &o, &rep, &err) != QK_OK) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    const char *c = rep.caveat;
    if (!n) CHECK_MSG(c == NULL, "%s: caveat %s", dir, c ? c : "");
    for (size_t k = 0; k < n; k++)
        CHECK_MSG(c && strstr(c, words[k]), "%s: caveat %s, without '%s'", dir, c ? c : "(none)", words[k]);
    if (arch)
        CHECK_MSG(rep.gguf_arch && !strcmp(rep.gguf_arch, arch), "%s: arch %s", dir,
                  rep.gguf_arch ? rep.gguf_arch : "(none)");
    qk_convert_report_free(&rep);
}
