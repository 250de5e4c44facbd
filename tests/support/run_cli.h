/* run_cli.h - run the built `quantkit` executable from a test.
 *
 * qk_run_cli(out, n, "verify", "--manifest", m, NULL) runs
 * $QK_BUILD_DIR/quantkit with those arguments (extra environment from
 * qk_run_cli_env, NAME=VALUE strings), stdout and stderr together into out
 * (NUL-terminated, truncated to n). Returns the exit code, or -1 when the
 * executable is missing (a CHECK failure is recorded then: tests that drive
 * the CLI require it, as test_faults does).
 */
#ifndef QK_RUN_CLI_H
#define QK_RUN_CLI_H

#include <stddef.h>

int qk_run_cli(char *out, size_t n, const char *arg, ...) __attribute__((sentinel));
int qk_run_cli_env(const char *const *env, char *out, size_t n, const char *arg, ...) __attribute__((sentinel));

#endif
