/* gguf_checked.c - see gguf_checked.h */
#include "gguf_checked.h"

#include "qk_test.h"

qk_gguf_file *gguf_open_checked(const char *path) {
    qk_gguf_file *gf = NULL;
    qk_err err;
    const int rc = qk_gguf_open(path, &gf, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    return rc == QK_OK ? gf : NULL;
}
