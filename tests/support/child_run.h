/* child_run.h - runs one job in a forked child and measures it, for the
 * benchmarks: wall time in the parent, the child's peak RSS from wait4, and
 * whether it exited 0. The child never returns: it _exits with the job's
 * status, so its allocations and threads cannot touch the parent's numbers. */
#ifndef QK_CHILD_RUN_H
#define QK_CHILD_RUN_H

typedef struct {
    double secs;
    long rss_kb;
    int ok;
} child_result;

/* job(ctx) runs in the child; 0 is success. */
typedef int (*child_job)(void *ctx);

child_result child_run(child_job job, void *ctx);

#endif
