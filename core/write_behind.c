#include "write_behind.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* One slot: `pending` is the buffer queued for the writer; `busy` is true
 * from the moment a buffer is queued until its write returned. */
struct qk_write_behind {
    qk_wb_write_fn write;
    void *ctx;
    bool threaded, busy, stop, failed;
    const void *buf;
    size_t n;
    qk_err err; /* the first failure */
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cv; /* signalled on every change of busy / stop */
};

static void *writer(void *arg) {
    qk_write_behind *wb = arg;
    pthread_mutex_lock(&wb->lock);
    for (;;) {
        while (!wb->busy && !wb->stop) pthread_cond_wait(&wb->cv, &wb->lock);
        if (!wb->busy) break; /* stop, nothing queued */
        const void *buf = wb->buf;
        size_t n = wb->n;
        bool skip = wb->failed;
        pthread_mutex_unlock(&wb->lock);
        qk_err e;
        int rc = skip ? QK_OK : wb->write(wb->ctx, buf, n, &e);
        pthread_mutex_lock(&wb->lock);
        if (rc != QK_OK && !wb->failed) {
            wb->failed = true;
            wb->err = e;
        }
        wb->busy = false;
        pthread_cond_broadcast(&wb->cv);
    }
    pthread_mutex_unlock(&wb->lock);
    return NULL;
}

int qk_wb_start(qk_write_behind **out, qk_wb_write_fn write, void *ctx, qk_err *err) {
    qk_write_behind *wb = calloc(1, sizeof *wb);
    if (!wb) return qk_fail(err, "out of memory (write-behind)");
    wb->write = write, wb->ctx = ctx;
    pthread_mutex_init(&wb->lock, NULL);
    pthread_cond_init(&wb->cv, NULL);
    wb->threaded = pthread_create(&wb->tid, NULL, writer, wb) == 0;
    *out = wb;
    return QK_OK;
}

/* Waits until no write is in flight; returns the first failure, if any. */
static int wait_idle(qk_write_behind *wb, qk_err *err) {
    pthread_mutex_lock(&wb->lock);
    while (wb->busy) pthread_cond_wait(&wb->cv, &wb->lock);
    bool failed = wb->failed;
    if (failed && err) *err = wb->err;
    pthread_mutex_unlock(&wb->lock);
    return failed ? QK_FAIL : QK_OK;
}

int qk_wb_put(qk_write_behind *wb, const void *buf, size_t n, qk_err *err) {
    if (!wb->threaded) {
        if (wb->failed) {
            *err = wb->err;
            return QK_FAIL;
        }
        if (wb->write(wb->ctx, buf, n, &wb->err) != QK_OK) {
            wb->failed = true;
            *err = wb->err;
            return QK_FAIL;
        }
        return QK_OK;
    }
    if (wait_idle(wb, err) != QK_OK) return QK_FAIL;
    pthread_mutex_lock(&wb->lock);
    wb->buf = buf, wb->n = n, wb->busy = true;
    pthread_cond_broadcast(&wb->cv);
    pthread_mutex_unlock(&wb->lock);
    return QK_OK;
}

int qk_wb_finish(qk_write_behind *wb, qk_err *err) {
    int rc;
    if (wb->threaded) {
        rc = wait_idle(wb, err);
        pthread_mutex_lock(&wb->lock);
        wb->stop = true;
        pthread_cond_broadcast(&wb->cv);
        pthread_mutex_unlock(&wb->lock);
        pthread_join(wb->tid, NULL);
    } else {
        rc = wb->failed ? QK_FAIL : QK_OK;
        if (rc != QK_OK && err) *err = wb->err;
    }
    pthread_cond_destroy(&wb->cv);
    pthread_mutex_destroy(&wb->lock);
    free(wb);
    return rc;
}
