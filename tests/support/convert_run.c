/* convert_run.c - see convert_run.h. */
#include "convert_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "convert_model.h"
#include "qk_test.h"
#include "st_write.h"

int convert_run(const char *dir, const char *out, const char *type, int threads, qk_err *err) {
    qk_convert_opts o = {.type = type, .output_tensor_type = -1, .n_threads = threads, .command_line = "convert (test)"};
    qk_convert_report rep;
    return qk_convert_model(dir, out, &o, &rep, err);
}

void convert_expect_refusal(const char *dir, const char *want) {
    char g[1200];
    snprintf(g, sizeof g, "%s.gguf", dir);
    qk_err err = {{0}};
    CHECK_MSG(convert_run(dir, g, "f16", 2, &err) == QK_FAIL, "%s converted", dir);
    CHECK_CONTAINS(err.msg, want);
    struct stat st;
    CHECK_MSG(stat(g, &st) != 0, "%s was left behind", g);
}

void convert_expect_quant_refusals(const char *src, const char *tag, const char *const q[][2], size_t n) {
    for (size_t i = 0; i < n; i++) {
        char dst[1024], a[1200], b[1200];
        snprintf(dst, sizeof dst, "%s/%s-%zu", qk_test_tmpdir(), tag, i);
        CHECK(hf_copy_sidecars(src, dst, q[i][0]) == 0);
        snprintf(a, sizeof a, "%s/model.safetensors", src), snprintf(b, sizeof b, "%s/model.safetensors", dst);
        size_t len;
        unsigned char *buf = qk_test_read_file(a, &len);
        CHECK(buf && qk_test_write_file(b, buf, len) == 0);
        free(buf);
        convert_expect_refusal(dst, q[i][1]);
    }
}
