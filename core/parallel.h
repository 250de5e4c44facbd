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

/* Number of online CPUs (at least 1). */
int qk_cpu_count(void);

#endif
