/* slow_fsync_shim.c - an LD_PRELOAD library that makes every fsync and
 * fdatasync take $QK_SHIM_FSYNC_MS milliseconds longer (default 100), as a
 * slow USB stick does. tests/cli/test_progress.c runs `quantkit split` under
 * it so that a split of dozens of shards is still running when the test's
 * SIGINT arrives, however fast or loaded the machine is: without it the
 * whole split can finish between the test seeing the progress line and its
 * signal. Built as libqk_slow_fsync_shim.so. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void delay(void) {
    const char *v = getenv("QK_SHIM_FSYNC_MS");
    const long ms = v && *v ? atol(v) : 100;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0) {
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    delay();
    return real ? real(fd) : -1;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    delay();
    return real ? real(fd) : -1;
}
