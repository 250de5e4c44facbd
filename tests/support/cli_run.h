/* cli_run.h - runs the built `quantkit` executable and captures what it says.
 *
 * The executable is $QK_BUILD_DIR/quantkit (ctest sets QK_BUILD_DIR), else
 * build/quantkit. Tests of the command line drive the real binary so that they
 * see exactly what a user sees: stdout, stderr and the exit code. */
#ifndef QK_CLI_RUN_H
#define QK_CLI_RUN_H

#include <stdbool.h>

typedef struct cli_result {
    int code;    /* exit code, or 128 + signal if killed, or -1 if it could not run */
    char *out;   /* stdout, NUL-terminated (malloc'd, never NULL after cli_run) */
    char *err;   /* stderr, likewise */
} cli_result;

/* Path of the executable; NULL (after marking the test skipped... no: failed)
 * if it is missing. The suite builds it, so a missing binary is a failure. */
const char *cli_exe(void);

/* Runs quantkit with the NULL-terminated argument list (argv[0] excluded) in
 * the current folder, with the extra environment entries env ("K=V", NULL-
 * terminated, may be NULL) added. stdin is /dev/null. */
cli_result cli_run_env(const char *const *env, const char *const *args);
cli_result cli_runv(const char *const *args);
#define cli_run(...) cli_runv((const char *const[]){__VA_ARGS__, NULL})

void cli_result_free(cli_result *r);

/* Runs quantkit with the arguments (as cli_run) and checks, as a failed
 * CHECK at the caller's file:line printing stderr, that it exits with
 * `code` and that stderr contains `needle` (NULL: not checked). Returns
 * whether both held. */
bool cli_expect_at(const char *file, int line, int code, const char *needle, const char *const *args);
#define cli_expect(code, needle, ...) \
    cli_expect_at(__FILE__, __LINE__, code, needle, (const char *const[]){__VA_ARGS__, NULL})

/* true if haystack contains needle (NULL haystack: false). */
bool cli_has(const char *haystack, const char *needle);

#endif
