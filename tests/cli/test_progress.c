/* Progress on a terminal, driven through a pseudo-terminal (forkpty): the
 * line shows percentage, bytes, rate and ETA and is cleared at the end; on
 * SIGINT the line is cleared and the temporary output file removed. Plus the
 * machine-readable --progress=json lines and --quiet, without a terminal.
 * quantize, split, merge and verify all show it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_run.h"
#include "ggml_types.h"
#include "qk_test.h"
#include "tiny_gguf.h"

static char g_small[600], g_big[600];
static int g_slave = -1;

static void close_pty(int m) {
    close(m);
    if (g_slave >= 0) close(g_slave);
    g_slave = -1;
}

static void setup(void) {
    if (g_small[0]) return;
    const tiny_gguf_spec s = TINY_GGUF_SMALL;
    tiny_gguf_tmp(g_small, sizeof g_small, "small-F16.gguf", &s);
    /* big enough that a single-threaded Q4_K_M takes well over a second */
    const tiny_gguf_spec b = {6, 1024, 8, 4, 2816, 4000, 0, false, QK_TYPE_F16, 6};
    tiny_gguf_tmp(g_big, sizeof g_big, "big-F16.gguf", &b);
}

typedef struct {
    char *buf;
    size_t len, cap;
} text;

static void text_add(text *t, const char *p, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (!t->buf) abort();
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
    t->buf[t->len] = 0;
}

/* Reads the pty until `until` appears (returns true), or until the child
 * has exited and its output is drained (the parent holds the slave open, so
 * nothing the child wrote is lost to a hangup), or the timeout. *status gets
 * the child's wait status once it is reaped (else stays -1). */
static bool pty_read(int fd, pid_t pid, text *t, const char *until, int timeout_ms, int *status) {
    for (int waited = 0; waited < timeout_ms;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r > 0) {
            char b[4096];
            ssize_t n = read(fd, b, sizeof b);
            if (n > 0) {
                text_add(t, b, (size_t)n);
                if (until && strstr(t->buf, until)) return true;
                continue;
            }
        }
        waited += 50;
        if (*status == -1) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) *status = st;
        } else if (r == 0) {
            return false; /* reaped, and 50 ms without output: drained */
        }
    }
    return false;
}

/* An LD_PRELOAD library for the next spawned child (NULL: none). */
static const char *g_preload;

static pid_t spawn_pty(int *master, const char *const *args, bool no_progress_env) {
    const char *exe = cli_exe();
    if (!exe) return -1;
    pid_t pid = forkpty(master, NULL, NULL, NULL);
    /* hold the slave open in the parent: the child's last bytes stay readable after it exits */
    if (pid > 0) g_slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
    if (pid == 0) {
        if (no_progress_env) setenv("QUANTKIT_NO_PROGRESS", "1", 1);
        else unsetenv("QUANTKIT_NO_PROGRESS");
        if (g_preload) {
            setenv("LD_PRELOAD", g_preload, 1);
            /* the sanitizer runtime wants to come first; the shim only wraps fsync */
            char asan[1200];
            const char *ao = getenv("ASAN_OPTIONS");
            snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", ao ? ao : "", ao && *ao ? ":" : "");
            setenv("ASAN_OPTIONS", asan, 1);
        }
        char *av[32];
        int n = 0;
        av[n++] = (char *)exe;
        for (; args[n - 1] && n < 31; n++) av[n] = (char *)args[n - 1];
        av[n] = NULL;
        execv(exe, av);
        _exit(127);
    }
    return pid;
}

static const char *last(const char *h, const char *needle) {
    const char *r = NULL;
    for (const char *p = h; (p = strstr(p, needle)); p++) r = p;
    return r;
}

/* A whole run on a terminal: percentage, rate and ETA shown, line cleared. */
static void test_tty_line(void) {
    setup();
    char out[700];
    snprintf(out, sizeof out, "%s/tty-out.gguf", qk_test_tmpdir());
    int m;
    pid_t pid = spawn_pty(&m, (const char *const[]){"quantize", "--threads", "1", g_big, out, "Q4_K_M", NULL}, false);
    if (pid < 0) return;
    text t = {0};
    int st = -1;
    pty_read(m, pid, &t, NULL, 120000, &st);
    if (st == -1) kill(pid, SIGKILL), waitpid(pid, &st, 0);
    close_pty(m);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    const char *s = t.buf ? t.buf : "";
    CHECK_MSG(strstr(s, "quantizing") && strstr(s, "%") && strstr(s, "ETA") && strstr(s, "/s") && strstr(s, "MiB"),
              "terminal output: %.500s", s);
    const char *eta = last(s, "ETA"), *clear = last(s, "\r\033[K");
    CHECK_MSG(eta && clear && clear > eta, "the progress line is not cleared at the end");
    /* the percentage reaches the end: some draw shows at least 50% */
    bool half = false;
    for (const char *p = s; (p = strstr(p, "quantizing ")); p++) {
        double pct = atof(p + 11);
        if (pct >= 50.0 && pct <= 100.0) half = true;
    }
    CHECK(half);
    free(t.buf);
    unlink(out);
    /* QUANTKIT_NO_PROGRESS hides it */
    pid = spawn_pty(&m, (const char *const[]){"quantize", g_small, out, "Q8_0", NULL}, true);
    t = (text){0};
    st = -1;
    pty_read(m, pid, &t, NULL, 60000, &st);
    if (st == -1) kill(pid, SIGKILL), waitpid(pid, &st, 0);
    close_pty(m);
    CHECK_MSG(!t.buf || !strstr(t.buf, "quantizing "), "progress despite QUANTKIT_NO_PROGRESS: %.300s", t.buf);
    free(t.buf);
    unlink(out);
}

/* SIGINT (and SIGTERM, SIGHUP) mid-run: the line is cleared and neither the
 * output nor its hidden temporary is left behind. */
static void test_signal_cleanup(void) {
    setup();
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int k = 0; k < 3; k++) {
        char dir[700], out[800];
        snprintf(dir, sizeof dir, "%s/sig%d", qk_test_tmpdir(), k);
        mkdir(dir, 0755);
        snprintf(out, sizeof out, "%s/out.gguf", dir);
        int m;
        pid_t pid = spawn_pty(&m, (const char *const[]){"quantize", "--threads", "1", g_big, out, "Q4_K_M", NULL}, false);
        if (pid < 0) return;
        text t = {0};
        int st = -1;
        bool shown = pty_read(m, pid, &t, "ETA", 60000, &st);
        CHECK_MSG(shown, "no progress line before the signal: %.300s", t.buf ? t.buf : "");
        CHECK_MSG(qk_test_count_entries(dir) == 1, "no temporary while writing (%d entries)", qk_test_count_entries(dir));
        size_t before = t.len;
        kill(pid, sigs[k]);
        pty_read(m, pid, &t, NULL, 30000, &st);
        if (st == -1) kill(pid, SIGKILL), waitpid(pid, &st, 0);
        close_pty(m);
        CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == sigs[k], "did not die by signal %d", sigs[k]);
        const char *after = t.buf ? t.buf + before : "";
        const char *clear = last(t.buf ? t.buf : "", "\r\033[K");
        CHECK_MSG(clear && (size_t)(clear - t.buf) >= before && strlen(clear) == 4,
                  "the line is not cleared after signal %d: '%s'", sigs[k], after);
        CHECK_MSG(qk_test_count_entries(dir) == 0, "signal %d left %d files in %s", sigs[k],
                  qk_test_count_entries(dir), dir);
        free(t.buf);
    }
}

/* split and merge show the same line (their total is announced by the
 * library once the input is open); SIGINT mid-split clears it and leaves
 * neither a temporary nor any shard already written. verify shows it too. */
static void test_split_merge_verify_tty(void) {
    setup();
    char dir[700], pre[800];
    qk_test_mkdir(dir, sizeof dir, "split-sig");
    snprintf(pre, sizeof pre, "%s/part.gguf", dir);
    int m;
    /* a shard per 2 tensors: dozens of fsync'd files, each fsync 100 ms longer
     * (tests/shim/slow_fsync_shim.c), so the run lasts seconds past the
     * moment the test signals it, on any machine */
    char shim[700];
    const char *bd = getenv("QK_BUILD_DIR");
    snprintf(shim, sizeof shim, "%s/libqk_slow_fsync_shim.so", bd ? bd : "build");
    CHECK_MSG(access(shim, R_OK) == 0, "no %s (the build makes it)", shim);
    g_preload = shim;
    pid_t pid = spawn_pty(&m, (const char *const[]){"split", "--max-tensors=2", g_big, "-o", pre, NULL}, false);
    g_preload = NULL;
    if (pid < 0) return;
    text t = {0};
    int st = -1;
    /* wait until the line names a tensor of layer 2: earlier shards are in place by then */
    bool shown = pty_read(m, pid, &t, "blk.2.", 60000, &st);
    CHECK_MSG(shown && strstr(t.buf, "splitting") && strstr(t.buf, "%") && strstr(t.buf, "ETA"),
              "no split progress line: %.300s", t.buf ? t.buf : "");
    CHECK_MSG(qk_test_count_entries(dir) >= 2, "no shard written yet (%d entries)", qk_test_count_entries(dir));
    size_t before = t.len;
    kill(pid, SIGINT);
    pty_read(m, pid, &t, NULL, 30000, &st);
    if (st == -1) kill(pid, SIGKILL), waitpid(pid, &st, 0);
    close_pty(m);
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "split did not die by SIGINT (status %d)", st);
    const char *clear = last(t.buf ? t.buf : "", "\r\033[K");
    CHECK_MSG(clear && (size_t)(clear - t.buf) >= before && strlen(clear) == 4, "the split line is not cleared");
    CHECK_MSG(qk_test_count_entries(dir) == 0, "SIGINT during split left %d files in %s", qk_test_count_entries(dir),
              dir);
    free(t.buf);
    /* whole runs: split, merge and verify each draw and clear their line */
    char first[900], merged[800];
    snprintf(first, sizeof first, "%s/part-00001-of-00002.gguf", dir);
    snprintf(merged, sizeof merged, "%s/merged.gguf", dir);
    static const char *what[] = {"splitting", "merging", "verifying"};
    const char *const *runs[] = {(const char *const[]){"split", "--max-tensors", "30", g_big, pre, NULL},
                                 (const char *const[]){"merge", first, merged, NULL},
                                 (const char *const[]){"verify", merged, NULL}};
    for (int k = 0; k < 3; k++) {
        pid = spawn_pty(&m, runs[k], false);
        t = (text){0};
        st = -1;
        pty_read(m, pid, &t, NULL, 120000, &st);
        if (st == -1) kill(pid, SIGKILL), waitpid(pid, &st, 0);
        close_pty(m);
        const char *s = t.buf ? t.buf : "";
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %d: %.300s", what[k], st, s);
        const char *line = last(s, what[k]), *end = last(s, "\r\033[K");
        CHECK_MSG(line && strstr(s, "%") && strstr(s, "MiB"), "%s: no progress line: %.300s", what[k], s);
        CHECK_MSG(line && end && end > line, "%s: the line is not cleared at the end", what[k]);
        free(t.buf);
    }
}

/* Every line of a --progress=json stderr is an event object; returns how
 * many, *done set when the last "done" event has done == total > 0. */
static int json_events(char *err, bool *done) {
    int n = 0;
    *done = false;
    char *save = NULL;
    for (char *line = strtok_r(err, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        CHECK_MSG(j != NULL, "not a JSON line: %s", line);
        if (!j) continue;
        const char *ev = cJSON_GetStringValue(cJSON_GetObjectItem(j, "event"));
        CHECK(ev && (!strcmp(ev, "progress") || !strcmp(ev, "done")));
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "total")) && cJSON_GetObjectItem(j, "total")->valuedouble > 0);
        if (ev && !strcmp(ev, "done"))
            *done = cJSON_GetObjectItem(j, "done")->valuedouble == cJSON_GetObjectItem(j, "total")->valuedouble;
        n++;
        cJSON_Delete(j);
    }
    return n;
}

/* --progress=json: one object per line on stderr, the last one "done" with
 * done == total; --quiet: nothing but errors. */
static void test_json_and_quiet(void) {
    setup();
    char out[700];
    snprintf(out, sizeof out, "%s/json-out.gguf", qk_test_tmpdir());
    cli_result r = cli_run("quantize", "--progress=json", g_small, out, "Q8_0");
    CHECK_EQ_INT(r.code, 0);
    bool done;
    int n = json_events(r.err, &done);
    CHECK(n >= 2 && done);
    cli_result_free(&r);
    /* merge (of a one-shard split) and verify report the same events */
    char pre[700], first[800];
    snprintf(pre, sizeof pre, "%s/json-split", qk_test_tmpdir());
    snprintf(first, sizeof first, "%s-00001-of-00001.gguf", pre);
    r = cli_run("split", "--progress=json", "--max-size=1G", out, pre);
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 2 && done, "split: %d", r.code);
    cli_result_free(&r);
    unlink(out);
    r = cli_run("merge", "--progress", "json", first, out);
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 2 && done, "merge: %d", r.code);
    cli_result_free(&r);
    r = cli_run("verify", "--progress=json", out);
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 2 && done, "verify: %d", r.code);
    cli_result_free(&r);
    /* the hashing modes of verify: writing and checking a manifest, one
     * SHA-256, and the per-tensor comparison against a source */
    char man[700], hex[65] = "";
    snprintf(man, sizeof man, "%s/json-SHA256SUMS", qk_test_tmpdir());
    r = cli_run("verify", "--progress=json", "--json", "--write-manifest", man, out); /* --json: no "wrote" note */
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 2 && done, "verify --write-manifest: %d", r.code);
    cli_result_free(&r);
    FILE *mf = fopen(man, "r");
    CHECK(mf && fscanf(mf, "%64s", hex) == 1);
    if (mf) fclose(mf);
    r = cli_run("verify", "--progress=json", "--manifest", man, out);
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 2 && done, "verify --manifest: %d", r.code);
    cli_result_free(&r);
    r = cli_run("verify", "--progress=json", "--sha256", hex, out);
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 2 && done, "verify --sha256: %d", r.code);
    cli_result_free(&r);
    r = cli_run("verify", "--progress=json", "--against", g_small, out);
    /* two displays: verifying, then comparing; both end with done == total */
    CHECK_MSG(r.code == 0 && json_events(r.err, &done) >= 4 && done, "verify --against: %d", r.code);
    cli_result_free(&r);
    unlink(man);
    unlink(first);
    unlink(out);
    r = cli_run("quantize", "--quiet", "--max-size", "1G", g_small, out);
    CHECK_EQ_INT(r.code, 0);
    CHECK_MSG(r.err[0] == 0, "stderr with --quiet: %s", r.err);
    cli_result_free(&r);
    char sums[700];
    snprintf(sums, sizeof sums, "%s/quiet-SHA256SUMS", qk_test_tmpdir());
    r = cli_run("verify", "--quiet", "-o", sums, out); /* its "wrote ..." note is informational too */
    CHECK_EQ_INT(r.code, 0);
    CHECK_MSG(r.err[0] == 0, "verify stderr with --quiet: %s", r.err);
    cli_result_free(&r);
    unlink(sums);
    unlink(out);
    r = cli_run("quantize", "--progress=sideways", g_small, "Q8_0");
    CHECK_EQ_INT(r.code, 2);
    cli_result_free(&r);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_tty_line);
    RUN(test_signal_cleanup);
    RUN(test_split_merge_verify_tty);
    RUN(test_json_and_quiet);
    return qk_test_summary();
}
