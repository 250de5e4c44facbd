#include "parallel.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

int qk_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

typedef struct {
    qk_item_fn fn;
    void *ctx;
    int64_t n_items;
    atomic_llong next;
    atomic_int failed;
    pthread_mutex_t lock;
    int64_t fail_item; /* lowest failing item, guarded by lock */
    qk_err fail_err;
} pool;

typedef struct {
    pool *p;
    int id;
} worker_arg;

static void *worker(void *arg) {
    worker_arg *w = arg;
    pool *p = w->p;
    qk_err err;
    for (;;) {
        if (atomic_load(&p->failed)) break;
        int64_t item = atomic_fetch_add(&p->next, 1);
        if (item >= p->n_items) break;
        err.msg[0] = '\0';
        if (p->fn(p->ctx, item, w->id, &err) != QK_OK) {
            pthread_mutex_lock(&p->lock);
            if (p->fail_item < 0 || item < p->fail_item) {
                p->fail_item = item;
                p->fail_err = err;
            }
            pthread_mutex_unlock(&p->lock);
            atomic_store(&p->failed, 1);
        }
    }
    return NULL;
}

int qk_parallel_for(int64_t n_items, int n_threads, qk_item_fn fn, void *ctx, qk_err *err) {
    if (n_items <= 0) return QK_OK;
    if (n_threads <= 0) n_threads = qk_cpu_count();
    if (n_threads > n_items) n_threads = (int)n_items;
    if (n_threads > 256) n_threads = 256;

    pool p = {.fn = fn, .ctx = ctx, .n_items = n_items, .fail_item = -1};
    atomic_init(&p.next, 0);
    atomic_init(&p.failed, 0);
    pthread_mutex_init(&p.lock, NULL);

    pthread_t tids[256];
    worker_arg args[256];
    int started = 0;
    for (int i = 1; i < n_threads; i++) {
        args[i] = (worker_arg){&p, i};
        if (pthread_create(&tids[i], NULL, worker, &args[i]) != 0) break;
        started = i;
    }
    args[0] = (worker_arg){&p, 0};
    worker(&args[0]); /* the calling thread works too */
    for (int i = 1; i <= started; i++) pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&p.lock);

    if (p.fail_item >= 0) {
        if (err) *err = p.fail_err;
        return QK_FAIL;
    }
    return QK_OK;
}

/* ---- the persistent pool ---- */
struct qk_pool {
    int n;             /* threads including the caller */
    int started;       /* worker threads running (ids 1..started) */
    pthread_t tids[256];
    worker_arg args[256];
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    uint64_t gen;      /* bumped for every loop */
    int pending;       /* workers still in the current loop */
    bool stop;
    pool job;          /* the current loop (shared with the one-shot workers' code) */
};

static void *pool_worker(void *arg) {
    worker_arg *w = arg;
    qk_pool *q = (qk_pool *)((char *)w->p - offsetof(qk_pool, job)); /* w->p is &q->job */
    uint64_t seen = 0;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->gen == seen && !q->stop) pthread_cond_wait(&q->go, &q->lock);
        if (q->stop) break;
        seen = q->gen;
        pthread_mutex_unlock(&q->lock);
        worker(w);
        pthread_mutex_lock(&q->lock);
        if (--q->pending == 0) pthread_cond_signal(&q->done);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

qk_pool *qk_pool_new(int n_threads) {
    if (n_threads <= 0) n_threads = qk_cpu_count();
    if (n_threads > 256) n_threads = 256;
    qk_pool *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->n = n_threads;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->go, NULL);
    pthread_cond_init(&q->done, NULL);
    pthread_mutex_init(&q->job.lock, NULL);
    for (int i = 0; i < n_threads; i++) q->args[i] = (worker_arg){&q->job, i};
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&q->tids[i], NULL, pool_worker, &q->args[i]) != 0) break;
        q->started = i;
    }
    q->n = q->started + 1; /* the threads that really exist */
    return q;
}

int qk_pool_threads(const qk_pool *q) { return q->n; }

int qk_pool_for(qk_pool *q, int64_t n_items, qk_item_fn fn, void *ctx, qk_err *err) {
    if (n_items <= 0) return QK_OK;
    pool *p = &q->job;
    p->fn = fn, p->ctx = ctx, p->n_items = n_items, p->fail_item = -1;
    atomic_store(&p->next, 0);
    atomic_store(&p->failed, 0);
    pthread_mutex_lock(&q->lock);
    q->pending = q->started;
    q->gen++;
    pthread_cond_broadcast(&q->go);
    pthread_mutex_unlock(&q->lock);
    worker(&q->args[0]); /* the caller works too */
    pthread_mutex_lock(&q->lock);
    while (q->pending > 0) pthread_cond_wait(&q->done, &q->lock);
    pthread_mutex_unlock(&q->lock);
    if (p->fail_item >= 0) {
        if (err) *err = p->fail_err;
        return QK_FAIL;
    }
    return QK_OK;
}

void qk_pool_free(qk_pool *q) {
    if (!q) return;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_broadcast(&q->go);
    pthread_mutex_unlock(&q->lock);
    for (int i = 1; i <= q->started; i++) pthread_join(q->tids[i], NULL);
    pthread_cond_destroy(&q->go);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->lock);
    pthread_mutex_destroy(&q->job.lock);
    free(q);
}
