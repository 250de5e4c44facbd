#include "child_run.h"

#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

child_result child_run(child_job job, void *ctx) {
    child_result r = {0, 0, 0};
    const double t0 = qk_now_s();
    fflush(stdout); /* the child must not inherit unflushed output */
    fflush(stderr);
    const pid_t pid = fork();
    if (pid == 0) _exit(job(ctx) ? 1 : 0);
    if (pid < 0) return r;
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) return r;
    r.secs = qk_now_s() - t0;
    r.rss_kb = ru.ru_maxrss;
    r.ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    return r;
}
