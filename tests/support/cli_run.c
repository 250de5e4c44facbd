#include "cli_run.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qk_test.h"

const char *cli_exe(void) {
    static char exe[1024];
    const char *bd = getenv("QK_BUILD_DIR");
    snprintf(exe, sizeof exe, "%s/quantkit", bd ? bd : "build");
    if (access(exe, X_OK) != 0) {
        CHECK_MSG(0, "needs %s (set QK_BUILD_DIR)", exe);
        return NULL;
    }
    return exe;
}

static char *slurp(const char *path) {
    size_t n = 0;
    unsigned char *b = qk_test_read_file(path, &n);
    char *s = malloc(n + 1);
    if (!s) abort();
    if (b) memcpy(s, b, n);
    s[n] = 0;
    free(b);
    return s;
}

cli_result cli_run_env(const char *const *env, const char *const *args) {
    cli_result r = {-1, NULL, NULL};
    const char *exe = cli_exe();
    static int seq;
    char po[1200], pe[1200];
    snprintf(po, sizeof po, "%s/.cli_out.%d", qk_test_tmpdir(), seq);
    snprintf(pe, sizeof pe, "%s/.cli_err.%d", qk_test_tmpdir(), seq++);
    if (exe) {
        size_t n = 0;
        while (args[n]) n++;
        pid_t pid = fork();
        if (pid == 0) {
            int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int fi = open("/dev/null", O_RDONLY);
            if (fo < 0 || fe < 0 || fi < 0) _exit(126);
            dup2(fi, 0), dup2(fo, 1), dup2(fe, 2);
            for (size_t i = 0; env && env[i]; i++) putenv((char *)env[i]);
            char **av = calloc(n + 2, sizeof *av);
            if (!av) _exit(126);
            av[0] = (char *)exe;
            for (size_t i = 0; i < n; i++) av[i + 1] = (char *)args[i];
            execv(exe, av);
            _exit(127);
        }
        int st = 0;
        if (pid > 0 && waitpid(pid, &st, 0) == pid)
            r.code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    }
    r.out = slurp(po);
    r.err = slurp(pe);
    unlink(po), unlink(pe);
    return r;
}

cli_result cli_runv(const char *const *args) { return cli_run_env(NULL, args); }

void cli_result_free(cli_result *r) {
    free(r->out), free(r->err);
    r->out = r->err = NULL;
}

bool cli_has(const char *h, const char *n) { return h && n && strstr(h, n) != NULL; }

bool cli_expect_at(const char *file, int line, int code, const char *needle, const char *const *args) {
    cli_result r = cli_runv(args);
    const bool ok = r.code == code && (!needle || cli_has(r.err, needle));
    if (!ok) {
        fprintf(stderr, "%s:%d: CHECK failed: quantkit", file, line);
        for (const char *const *a = args; *a; a++) fprintf(stderr, " %s", *a);
        fprintf(stderr, ": exit %d (want %d)", r.code, code);
        if (needle) fprintf(stderr, ", stderr %s '%s'", cli_has(r.err, needle) ? "has" : "lacks", needle);
        fprintf(stderr, "\nstderr: %s\n", r.err);
        qk_test_checks_failed++;
    }
    cli_result_free(&r);
    return ok;
}
