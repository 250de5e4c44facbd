#include "qk_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int qk_fail(qk_err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return QK_FAIL;
}

int qk_fail_prefix(qk_err *err, const char *fmt, ...) {
    if (err) {
        char prefix[QK_ERR_MSG_MAX];
        char old[QK_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        /* Truncation is acceptable for an error line; build it piecewise so
         * the compiler sees the bound. */
        size_t n = strlen(prefix);
        if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
        memcpy(err->msg, prefix, n);
        memcpy(err->msg + n, ": ", 2);
        size_t room = sizeof err->msg - n - 2 - 1;
        size_t m = strnlen(old, room);
        memcpy(err->msg + n + 2, old, m);
        err->msg[n + 2 + m] = '\0';
    }
    return QK_FAIL;
}

void qk_err_clear(qk_err *err) {
    if (err) err->msg[0] = '\0';
}
