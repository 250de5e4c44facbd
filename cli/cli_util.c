#include "cli_util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qk_cli_fail(const char *cmd, const qk_err *err) {
    fprintf(stderr, "quantkit %s: %s\n", cmd, err && err->msg[0] ? err->msg : "failed");
    return QK_EXIT_FAIL;
}

int qk_cli_failf(const char *cmd, const char *fmt, ...) {
    qk_err e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return qk_cli_fail(cmd, &e);
}

int qk_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "quantkit %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see `quantkit %s --help`)\n", cmd);
    va_end(ap);
    return QK_EXIT_USAGE;
}

const char *qk_cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        qk_cli_usage(cmd, "option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

bool qk_cli_int(const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > INT_MAX) return false;
    *out = (int)v;
    return true;
}

void qk_cli_command_line(char *buf, size_t n, const char *cmd, int argc, char **argv) {
    snprintf(buf, n, "%s", cmd);
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, " %s", argv[i]);
    }
}
