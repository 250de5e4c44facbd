/* bench_best.h - the benchmarks' "best of N runs": the fastest time and the
 * worst peak RSS seen over the runs of one job (a peak is a property of the
 * job, a slow run of the machine). */
#ifndef QK_BENCH_BEST_H
#define QK_BENCH_BEST_H

#include "child_run.h"

/* The starting point: no time yet, no peak, ok until a run fails. */
#define BENCH_BEST_INIT {1e30, 0, 1}

static inline void bench_keep_best(child_result *best, child_result x) {
    if (x.secs < best->secs) best->secs = x.secs;
    if (x.rss_kb > best->rss_kb) best->rss_kb = x.rss_kb;
    best->ok &= x.ok;
}

#endif
