/* qk_error.h - how every quantkit library function reports failure.
 *
 * Contract: library code never prints, exits or aborts on bad input. A function
 * that can fail takes a `qk_err *` (may be NULL) and returns an int status:
 * QK_OK (0) on success, QK_FAIL (-1) on failure, with err->msg holding one line
 * that names the file, the object, the bad value and what was expected, e.g.
 *   "model.gguf: tensor 'blk.0.attn_q.weight': offset 4096 is past the end of the file (size 2048)"
 * The CLI prints that line to stderr and exits 1.
 */
#ifndef QK_ERROR_H
#define QK_ERROR_H

#include <stddef.h>

#define QK_OK 0
#define QK_FAIL (-1)
#define QK_ERR_MSG_MAX 1024

typedef struct qk_err {
    char msg[QK_ERR_MSG_MAX];
} qk_err;

#if defined(__GNUC__)
#define QK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QK_PRINTF(a, b)
#endif

/* Sets err->msg (if err is non-NULL) and returns QK_FAIL, so callers can write
 * `return qk_fail(err, "%s: ...", path, ...);`. */
int qk_fail(qk_err *err, const char *fmt, ...) QK_PRINTF(2, 3);

/* Prefixes the existing message with "<prefix>: " (for adding context such as
 * a file name as the error travels up). Returns QK_FAIL. */
int qk_fail_prefix(qk_err *err, const char *fmt, ...) QK_PRINTF(2, 3);

/* Clears the message. */
void qk_err_clear(qk_err *err);

#endif
