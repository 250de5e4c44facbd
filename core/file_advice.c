#include "file_advice.h"

#include <fcntl.h>
#include <unistd.h>

void qk_advise_range(int fd, uint64_t off, uint64_t n, qk_advice advice) {
    if (fd < 0 || n == 0 || off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off) return;
    (void)posix_fadvise(fd, (off_t)off, (off_t)n,
                        advice == QK_ADVISE_WILLNEED ? POSIX_FADV_WILLNEED : POSIX_FADV_DONTNEED);
}

bool qk_larger_than_memory(uint64_t bytes) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) return false;
    return bytes > (uint64_t)pages * (uint64_t)size / 2;
}
