#include "parallel.h"

#include <pthread.h>
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
