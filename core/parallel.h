/* parallel.h - run independent work items on N threads.
 *
 * qk_parallel_for(n_items, n_threads, fn, ctx) calls fn(ctx, item, thread_id)
 * exactly once for every item in [0, n_items), items handed out in order
 * from a shared counter. Callers make each item's output depend only on the
 * item (never on the thread or the order), so results are identical for any
 * thread count. fn returns QK_OK or QK_FAIL; after the first failure no new
 * items start, and the error of the lowest failing item is reported in err
 * (deterministic too). n_threads <= 0 means "all cores".
 */
#ifndef QK_PARALLEL_H
#define QK_PARALLEL_H

#include <stdint.h>

#include "qk_error.h"

typedef int (*qk_item_fn)(void *ctx, int64_t item, int thread_id, qk_err *err);

int qk_parallel_for(int64_t n_items, int n_threads, qk_item_fn fn, void *ctx, qk_err *err);

/* A pool of worker threads started once and reused by every qk_pool_for,
 * for callers that run many short parallel loops (the tensor pipeline runs
 * one per chunk: creating N threads per chunk costs more than the chunk's
 * work once N is large). Same contract as qk_parallel_for: fn(ctx, item,
 * thread_id) once per item, thread ids 0..n_threads-1 (0 is the caller),
 * the lowest failing item's error. One qk_pool_for at a time per pool (it
 * is not reentrant: fn must not use the same pool). qk_pool_new never
 * fails: without threads (creation refused, n_threads <= 1) the loops run
 * on the caller alone. */
typedef struct qk_pool qk_pool;
qk_pool *qk_pool_new(int n_threads); /* <= 0: all cores; NULL only when out of memory */
int qk_pool_for(qk_pool *p, int64_t n_items, qk_item_fn fn, void *ctx, qk_err *err);
int qk_pool_threads(const qk_pool *p); /* the thread ids fn may see: 0..this-1 */
void qk_pool_free(qk_pool *p);

/* Number of online CPUs (at least 1). */
int qk_cpu_count(void);

#endif
