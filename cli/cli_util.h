/* cli_util.h - small helpers shared by the subcommands: one-line errors,
 * usage errors, option values. The library never prints; only cmd_* code
 * (the CLI layer) uses these. */
#ifndef QK_CLI_UTIL_H
#define QK_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

#define QK_EXIT_OK 0
#define QK_EXIT_FAIL 1
#define QK_EXIT_USAGE 2

/* Prints "quantkit CMD: MSG" on stderr; returns QK_EXIT_FAIL. */
int qk_cli_fail(const char *cmd, const qk_err *err);
/* qk_cli_fail of a message formatted here, cut to a qk_err's length as the library's messages are. */
int qk_cli_failf(const char *cmd, const char *fmt, ...) QK_PRINTF(2, 3);
/* Prints "quantkit CMD: <formatted>" plus a hint to --help; returns QK_EXIT_USAGE. */
int qk_cli_usage(const char *cmd, const char *fmt, ...) QK_PRINTF(2, 3);
/* For "--opt VALUE": returns argv[++*i] or NULL (after printing a usage error). */
const char *qk_cli_value(const char *cmd, int argc, char **argv, int *i);
/* "CMD ARG1 ARG2 ..." (argv[1..argc)) into buf, cut to n bytes: the command line a file's provenance records. */
void qk_cli_command_line(char *buf, size_t n, const char *cmd, int argc, char **argv);
/* Parses a non-negative int option value; false on junk. */
bool qk_cli_int(const char *s, int *out);

#endif
