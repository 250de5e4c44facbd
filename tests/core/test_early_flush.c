/* core/early_flush and atomic_file's use of it: kicks coalesce and stop
 * waits; a failed fdatasync's errno comes back from stop; an output large
 * enough to be flushed early several times (while appends go on) commits
 * to the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "early_flush.h"
#include "qk_test.h"

static void test_kicks_then_stop(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/ef.bin", qk_test_tmpdir());
    const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    if (fd < 0) return;
    qk_early_flush *ef = qk_ef_start(fd);
    CHECK(ef != NULL);
    char buf[4096];
    memset(buf, 'q', sizeof buf);
    for (int i = 0; i < 64; i++) {
        CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
        if (ef) qk_ef_kick(ef); /* many kicks while one flush runs: coalesced, never waited for */
    }
    CHECK_EQ_INT(qk_ef_stop(ef), 0);
    CHECK_EQ_INT(qk_ef_stop(NULL), 0);
    close(fd);
    unlink(path);
}

/* fdatasync on a descriptor that is not open fails (EBADF): stop says so. */
static void test_failure_is_returned(void) {
    const int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    close(fd); /* now a number no file is open under */
    qk_early_flush *ef = qk_ef_start(fd);
    CHECK(ef != NULL);
    if (!ef) return;
    qk_ef_kick(ef);
    CHECK_EQ_INT(qk_ef_stop(ef), EBADF);
}

/* 200 MiB + 3 bytes in appends of 8 MiB + 1: three early flushes run while
 * later appends go on; the committed file holds exactly what was appended. */
static void test_afile_flushed_early(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/ef-out.bin", qk_test_tmpdir());
    const size_t piece = (8u << 20) + 1, n_pieces = 25;
    unsigned char *p = malloc(piece);
    CHECK(p != NULL);
    if (!p) return;
    qk_afile *f = NULL;
    qk_err err;
    CHECK(qk_afile_open(&f, path, &err) == QK_OK);
    if (!f) return free(p);
    for (size_t k = 0; k < n_pieces; k++) {
        for (size_t i = 0; i < piece; i++) p[i] = (unsigned char)(i * 7 + k * 13);
        CHECK(qk_afile_write(f, p, piece, &err) == QK_OK);
    }
    CHECK(qk_afile_write(f, "end", 3, &err) == QK_OK);
    CHECK(qk_afile_commit(f, &err) == QK_OK);
    const int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    size_t bad = 0;
    for (size_t k = 0; fd >= 0 && k < n_pieces; k++) {
        CHECK(read(fd, p, piece) == (ssize_t)piece);
        for (size_t i = 0; i < piece; i++) bad += p[i] != (unsigned char)(i * 7 + k * 13);
    }
    char tail[4] = {0};
    CHECK(fd >= 0 && read(fd, tail, sizeof tail) == 3 && !memcmp(tail, "end", 3));
    CHECK_MSG(bad == 0, "%zu bytes differ", bad);
    if (fd >= 0) close(fd);
    unlink(path);
    free(p);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_kicks_then_stop);
    RUN(test_failure_is_returned);
    RUN(test_afile_flushed_early);
    return qk_test_summary();
}
