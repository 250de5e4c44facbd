/* readback_shim.c - an LD_PRELOAD library that makes a folder a lying
 * destination: every read (pread/pread64/read) of a file whose path contains
 * $QK_SHIM_CORRUPT returns the byte at file offset $QK_SHIM_OFFSET (default
 * 1000) flipped, as a failing or fake-capacity USB stick returns other bytes
 * than were written. Writes are untouched. tests/verify/test_copy.c runs
 * `quantkit copy` under it: copy must catch the difference when it reads the
 * file back, name the file, and fail. Built as libqk_readback_shim.so. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#undef _FILE_OFFSET_BITS /* define pread and pread64 both, not a redirected pread */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static bool corrupted(int fd) {
    const char *want = getenv("QK_SHIM_CORRUPT");
    if (!want || !*want) return false;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return false;
    path[n] = 0;
    return strstr(path, want) != NULL;
}

/* r bytes were read at off: the byte at $QK_SHIM_OFFSET comes back flipped. */
static ssize_t flip(int fd, void *buf, ssize_t r, long long off) {
    if (r <= 0 || !corrupted(fd)) return r;
    const char *o = getenv("QK_SHIM_OFFSET");
    long long at = o ? atoll(o) : 1000;
    if (at >= off && at < off + r) ((unsigned char *)buf)[at - off] ^= 0x5a;
    return r;
}

typedef ssize_t (*pread_fn)(int, void *, size_t, off64_t);

ssize_t pread64(int fd, void *buf, size_t n, off64_t off) {
    static pread_fn real;
    if (!real) real = (pread_fn)dlsym(RTLD_NEXT, "pread64");
    return flip(fd, buf, real(fd, buf, n, off), (long long)off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) { return pread64(fd, buf, n, off); }

ssize_t read(int fd, void *buf, size_t n) {
    static ssize_t (*real)(int, void *, size_t);
    if (!real) real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    off64_t off = lseek64(fd, 0, SEEK_CUR);
    ssize_t r = real(fd, buf, n);
    return off >= 0 ? flip(fd, buf, r, (long long)off) : r;
}
