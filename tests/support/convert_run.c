/* convert_run.c - see convert_run.h. */
#include "convert_run.h"

#include "convert_model.h"

int convert_run(const char *dir, const char *out, const char *type, int threads, qk_err *err) {
    qk_convert_opts o = {.type = type, .output_tensor_type = -1, .n_threads = threads, .command_line = "convert (test)"};
    qk_convert_report rep;
    return qk_convert_model(dir, out, &o, &rep, err);
}
