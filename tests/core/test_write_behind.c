/* core/write_behind: buffers reach the write function in order, one at a
 * time, from one thread; a buffer may be reused as soon as the next put
 * returns; the first failure is reported (with its message) by the next put
 * and by finish, and nothing is written after it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qk_test.h"
#include "write_behind.h"

typedef struct {
    unsigned char log[4096]; /* first byte of every buffer written, in order */
    size_t bytes[4096];
    int n;
    int fail_at;        /* call index that fails, -1 never */
    pthread_t thread;   /* the thread of the first write */
    int other_thread;   /* writes seen from another thread */
    int slow;           /* microseconds per write, so puts really overlap */
} sink_log;

static int log_write(void *ctx, const void *data, size_t n, qk_err *err) {
    sink_log *s = ctx;
    if (s->n == 0) s->thread = pthread_self();
    else if (!pthread_equal(s->thread, pthread_self())) s->other_thread++;
    if (s->slow) usleep((useconds_t)s->slow);
    if (s->n == s->fail_at) return qk_fail(err, "disk full at write %d", s->n);
    const unsigned char *p = data;
    for (size_t i = 1; i < n; i++)
        if (p[i] != p[0]) return qk_fail(err, "buffer %d changed while it was written", s->n);
    s->log[s->n] = p[0];
    s->bytes[s->n++] = n;
    return QK_OK;
}

/* A writer over a fresh log whose write number fail_at fails (-1: none). */
static qk_write_behind *start_logged(sink_log *s, int fail_at, int slow) {
    memset(s, 0, sizeof *s);
    s->fail_at = fail_at;
    s->slow = slow;
    qk_write_behind *wb = NULL;
    qk_err err;
    CHECK(qk_wb_start(&wb, log_write, s, &err) == QK_OK);
    return wb;
}

/* Two buffers used in turn, refilled right after each put returns: every
 * write must see the contents it was put with. */
static void test_order_and_reuse(void) {
    static sink_log s;
    qk_write_behind *wb = start_logged(&s, -1, 200);
    qk_err err;
    if (!wb) return;
    static unsigned char buf[2][65536];
    for (int k = 0; k < 200; k++) {
        unsigned char *b = buf[k & 1];
        size_t n = 1 + (size_t)(k * 331) % sizeof buf[0];
        memset(b, k, n);
        CHECK(qk_wb_put(wb, b, n, &err) == QK_OK);
    }
    CHECK(qk_wb_finish(wb, &err) == QK_OK);
    CHECK(s.n == 200);
    CHECK(s.other_thread == 0);
    for (int k = 0; k < s.n; k++) {
        CHECK(s.log[k] == (unsigned char)k);
        CHECK(s.bytes[k] == 1 + (size_t)(k * 331) % sizeof buf[0]);
    }
}

/* Write fail_at fails, with n_puts puts tried (stopping at the first that
 * fails): the put that returns the failure is want_put (-1: none, the
 * failure shows only at finish), and finish returns the same message;
 * nothing is written after the failure. */
static void check_failure(int fail_at, int n_puts, int want_put) {
    static sink_log s;
    qk_write_behind *wb = start_logged(&s, fail_at, 0);
    qk_err err;
    if (!wb) return;
    char want[64];
    snprintf(want, sizeof want, "disk full at write %d", fail_at);
    unsigned char buf[2][64];
    int failed_put = -1;
    for (int k = 0; k < n_puts && failed_put < 0; k++) {
        memset(buf[k & 1], k, sizeof buf[0]);
        if (qk_wb_put(wb, buf[k & 1], sizeof buf[0], &err) != QK_OK) failed_put = k;
    }
    CHECK_MSG(failed_put == want_put, "write %d failed: put %d returned it, want %d", fail_at, failed_put, want_put);
    if (failed_put >= 0) CHECK(strstr(err.msg, want) != NULL);
    memset(&err, 0, sizeof err);
    CHECK(qk_wb_finish(wb, &err) == QK_FAIL);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK(s.n == fail_at);
}

/* put k returns after write k-1: the failure of write 5 shows at put 6 */
static void test_failure(void) { check_failure(5, 20, 6); }

/* A failure of the very last write shows only at finish. */
static void test_failure_at_finish(void) { check_failure(2, 3, -1); }

/* Started and finished with nothing put. */
static void test_empty(void) {
    static sink_log s;
    qk_write_behind *wb = start_logged(&s, -1, 0);
    qk_err err;
    if (!wb) return;
    CHECK(qk_wb_finish(wb, &err) == QK_OK);
    CHECK(s.n == 0);
}

int main(void) {
    RUN(test_order_and_reuse);
    RUN(test_failure);
    RUN(test_failure_at_finish);
    RUN(test_empty);
    return qk_test_summary();
}
