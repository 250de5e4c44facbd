#include "run_cli.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qk_test.h"

static int run_v(const char *const *env, char *out, size_t n, const char *arg, va_list ap) {
    const char *bd = getenv("QK_BUILD_DIR");
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/quantkit", bd ? bd : "build");
    if (access(exe, X_OK) != 0) {
        CHECK_MSG(0, "needs %s (set QK_BUILD_DIR)", exe);
        if (n) out[0] = 0;
        return -1;
    }
    const char *argv[64];
    int argc = 0;
    argv[argc++] = exe;
    for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = a;
    argv[argc] = NULL;
    char capture[1100];
    snprintf(capture, sizeof capture, "%s/.run_cli_out", qk_test_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        for (size_t i = 0; env && env[i]; i++) putenv((char *)env[i]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    size_t len = 0;
    unsigned char *b = qk_test_read_file(capture, &len);
    if (n) {
        size_t c = b ? (len < n - 1 ? len : n - 1) : 0;
        if (c) memcpy(out, b, c);
        out[c] = 0;
    }
    free(b);
    unlink(capture);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int qk_run_cli(char *out, size_t n, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    int rc = run_v(NULL, out, n, arg, ap);
    va_end(ap);
    return rc;
}

int qk_run_cli_env(const char *const *env, char *out, size_t n, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    int rc = run_v(env, out, n, arg, ap);
    va_end(ap);
    return rc;
}
