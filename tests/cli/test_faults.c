/* Faults: a full disk (file-size limit), a kill at random moments, an input
 * that shrinks while being read, and impossible destinations. In every case
 * quantkit reports a clear error (or dies by the signal) and never leaves a
 * partial file under the final name. */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "convert_model.h"
#include "qk_test.h"
#include "gguf.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "split.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"
#include "verify.h"

static char g_in[600], g_hf[600];

static void setup(void) {
    if (g_in[0]) return;
    const tiny_gguf_spec s = {4, 512, 8, 4, 1024, 2000, 0, false, QK_TYPE_F16, 3};
    tiny_gguf_tmp(g_in, sizeof g_in, "in.gguf", &s);
    tiny_hf_tmp(g_hf, sizeof g_hf, "hf");
}

enum { OP_QUANTIZE, OP_CONVERT, OP_SPLIT };

/* Runs op in a child with a file-size limit; returns the child's exit code
 * and its error message through a pipe. */
static int run_limited(int op, const char *out, rlim_t limit, char *msg, size_t msg_len) {
    int fds[2];
    if (pipe(fds)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG instead */
        struct rlimit rl = {limit, limit};
        setrlimit(RLIMIT_FSIZE, &rl);
        qk_err err = {{0}};
        int rc;
        if (op == OP_QUANTIZE) {
            qk_quantize_opts o = tiny_quantize_opts(7);
            qk_quantize_report rep;
            rc = qk_quantize_model(g_in, out, &o, &rep, &err);
        } else if (op == OP_CONVERT) {
            qk_convert_opts o = {.type = "f32", .output_tensor_type = -1};
            qk_convert_report rep;
            rc = qk_convert_model(g_hf, out, &o, &rep, &err);
        } else {
            qk_split_opts o = {.max_tensors = 5};
            uint32_t n;
            rc = qk_split_model(g_in, out, &o, &n, &err);
        }
        if (write(fds[1], err.msg, strlen(err.msg)) < 0) _exit(3);
        _exit(rc ? 1 : 0);
    }
    close(fds[1]);
    ssize_t r = read(fds[0], msg, msg_len - 1);
    msg[r > 0 ? r : 0] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_disk_full(void) {
    setup();
    static const char *names[] = {"quantize", "convert", "split"};
    for (int op = 0; op < 3; op++) {
        char dir[700], out[800], msg[1100];
        snprintf(dir, sizeof dir, "%s/full-%d", qk_test_tmpdir(), op);
        mkdir(dir, 0755);
        snprintf(out, sizeof out, op == OP_SPLIT ? "%s/part" : "%s/out.gguf", dir);
        int rc = run_limited(op, out, 64 * 1024, msg, sizeof msg);
        CHECK_MSG(rc == 1, "%s: exit %d", names[op], rc);
        CHECK_CONTAINS(msg, "too large for this file system or limit");
        CHECK_MSG(qk_test_count_entries(dir) == 0, "%s left files behind", names[op]);
    }
}

static void test_killed_at_random_moments(void) {
    setup();
    const char *bd = getenv("QK_BUILD_DIR");
    char exe[700];
    snprintf(exe, sizeof exe, "%s/quantkit", bd ? bd : "build");
    if (access(exe, X_OK) != 0) {
        CHECK_MSG(0, "needs %s (set QK_BUILD_DIR)", exe);
        return;
    }
    char dir[700], out[800];
    qk_test_mkdir(dir, sizeof dir, "kill");
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    qk_rng rng = {12345};
    int complete = 0, absent = 0, bad = 0;
    for (int i = 0; i < 24; i++) {
        unlink(out);
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1), dup2(devnull, 2);
            execl(exe, exe, "quantize", "--threads", "2", g_in, out, i % 2 ? "Q4_K_M" : "Q8_0", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {0, (long)(qk_rng_uniform(&rng) * 250e6)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (access(out, F_OK) != 0) {
            absent++;
            continue;
        }
        qk_verify_opts vo = {0};
        qk_verify_report rep;
        qk_verify_gguf(out, &vo, &rep);
        if (rep.n_problems || !rep.integrity_ok) bad++;
        else complete++;
        qk_verify_report_free(&rep);
    }
    fprintf(stderr, "killed 24 times: %d outputs absent, %d complete and verified, %d partial\n", absent, complete, bad);
    CHECK_EQ_INT(bad, 0);
}

static void test_input_shrinks_while_read(void) {
    setup();
    char copy[700], out[700];
    snprintf(copy, sizeof copy, "%s/shrink.gguf", qk_test_tmpdir());
    snprintf(out, sizeof out, "%s/shrink-out.gguf", qk_test_tmpdir());
    size_t len;
    unsigned char *b = qk_test_read_file(g_in, &len);
    CHECK(qk_test_write_file(copy, b, len) == 0);
    free(b);
    /* open and plan first (the header is intact), then cut the data */
    qk_gguf_file *f;
    qk_err err;
    CHECK(qk_gguf_open(copy, &f, &err) == QK_OK);
    CHECK(truncate(copy, (off_t)(f->meta.data_offset + 1000)) == 0);
    unsigned char buf[4096];
    CHECK(qk_gguf_read_tensor(f, &f->meta.tensors[f->meta.n_tensors - 1], 0, buf, sizeof buf, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "shrank");
    qk_gguf_close(f);
    /* a whole quantize run over the cut file fails cleanly before writing */
    qk_quantize_opts o = tiny_quantize_opts(7);
    qk_quantize_report rep;
    CHECK(qk_quantize_model(copy, out, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "truncated");
    qk_quantize_report_free(&rep);
    CHECK(access(out, F_OK) != 0);
}

static void test_impossible_destinations(void) {
    setup();
    qk_quantize_opts o = tiny_quantize_opts(7);
    qk_quantize_report rep;
    qk_err err;
    CHECK(qk_quantize_model(g_in, g_in, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "overwrite the input");
    qk_quantize_report_free(&rep);
    CHECK(qk_quantize_model(g_in, "/nonexistent-folder/x.gguf", &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "does not exist");
    qk_quantize_report_free(&rep);
    CHECK(qk_quantize_model(g_in, "/proc/quantkit-test.gguf", &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "/proc");
    qk_quantize_report_free(&rep);
    char d[700];
    snprintf(d, sizeof d, "%s", qk_test_tmpdir());
    CHECK(qk_quantize_model(g_in, d, &o, &rep, &err) == QK_FAIL); /* a folder as output */
    qk_quantize_report_free(&rep);
}

int main(void) {
    RUN(test_disk_full);
    RUN(test_killed_at_random_moments);
    RUN(test_input_shrinks_while_read);
    RUN(test_impossible_destinations);
    return qk_test_summary();
}
