#include "atomic_file.h"
#include "write_behind.h"
#include "sizes.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Write-behind: every this many appended bytes, writeback of the finished
 * range is started asynchronously, so the disk works while we compute and
 * the final fsync only has the tail left to flush. */
#define QK_WRITE_BEHIND ((uint64_t)32 << 20)

/* Early flush: every this many appended bytes, an fdatasync of the file runs
 * on a side thread (the write-behind thread of write_behind.h, whose
 * "write" is the flush). On the VMs this was measured on, the closing fsync
 * of a 0.58 GB output took 0.28-0.45 s even when sync_file_range had handed
 * every page to the device long before (a 576 MiB test file: its WAIT_AFTER
 * returned in 5 ms, the fsync after it took 0.27 s): the cost is the
 * device's own flush, growing with what was written since the last one.
 * Flushed early, it overlaps the computing of the next chunks and the
 * closing fsync finds ~0.015 s left. Quantizing the 1.09 GB bench model,
 * 4 alternating runs each: Q8_0 0.97-1.29 s without, 0.56-0.81 s with;
 * Q4_0 0.61-0.71 s -> 0.51-0.59 s; 32, 64 and 128 MiB measured alike. A
 * flush still running when the next is due makes the appender wait for it
 * (a device slower than the computing sets the pace anyway). Durability is
 * unchanged: the closing fsync still runs, and an early flush's failure
 * fails the next append or the commit (Linux reports a write-back error to
 * one sync call only, so the closing fsync could succeed after it). */
#define QK_EARLY_FLUSH ((uint64_t)64 << 20)

struct qk_afile {
    int fd;
    uint64_t size;
    uint64_t writeback_from; /* appended bytes before this already have writeback started */
    uint64_t flush_from;     /* appended bytes before this were in the file at the last early flush */
    qk_write_behind *flusher; /* runs the early flushes; started at the first, NULL before */
    char *final_path;
    char *temp_path;
    char *dir;
    int live_slot; /* in the registry of live temporaries, or -1 */
};

/* The registry of live temporaries (and finished parts of an unfinished
 * output), for qk_afile_remove_temps from a signal handler: blocks of fixed
 * slots, each a path and a flag. The first block is static; further blocks
 * are allocated (outside any handler) when every slot is taken and linked
 * with an atomic pointer, never freed, so a split into hundreds of shards
 * is cleaned up whole. A slot is claimed with a compare-and-swap, filled,
 * then published; the handler follows only published links, reads only
 * published slots and calls unlink(), which is async-signal-safe. */
#define QK_LIVE_SLOTS 64
#define QK_LIVE_PATH 4096
typedef struct live_block live_block;
struct live_block {
    struct {
        _Atomic int state; /* 0 free, 1 being written, 2 live */
        char path[QK_LIVE_PATH];
    } slot[QK_LIVE_SLOTS];
    live_block *_Atomic next;
};
static live_block g_live;

/* A handle is block number x QK_LIVE_SLOTS + slot; -1 when the path is too
 * long or memory is short (that file then survives a signal). */
static int live_add(const char *path) {
    size_t n = strlen(path);
    if (n >= QK_LIVE_PATH) return -1;
    live_block *b = &g_live;
    for (int base = 0; base <= INT_MAX - 2 * QK_LIVE_SLOTS; base += QK_LIVE_SLOTS) {
        for (int i = 0; i < QK_LIVE_SLOTS; i++) {
            int expect = 0;
            if (atomic_compare_exchange_strong(&b->slot[i].state, &expect, 1)) {
                memcpy(b->slot[i].path, path, n + 1);
                atomic_store(&b->slot[i].state, 2);
                return base + i;
            }
        }
        live_block *next = atomic_load(&b->next);
        if (!next) {
            live_block *fresh = calloc(1, sizeof *fresh);
            if (!fresh) return -1;
            live_block *expect = NULL;
            if (atomic_compare_exchange_strong(&b->next, &expect, fresh)) next = fresh;
            else free(fresh), next = expect; /* another thread linked one first */
        }
        b = next;
    }
    return -1;
}

static void live_remove(int handle) {
    if (handle < 0) return;
    live_block *b = &g_live;
    for (int k = handle / QK_LIVE_SLOTS; k > 0 && b; k--) b = atomic_load(&b->next);
    if (b) atomic_store(&b->slot[handle % QK_LIVE_SLOTS].state, 0);
}

int qk_afile_partial_add(const char *path) { return live_add(path); }

void qk_afile_partial_done(int handle) { live_remove(handle); }

void qk_afile_remove_temps(void) {
    for (live_block *b = &g_live; b; b = atomic_load(&b->next))
        for (int i = 0; i < QK_LIVE_SLOTS; i++)
            if (atomic_load(&b->slot[i].state) == 2) unlink(b->slot[i].path);
}

size_t qk_afile_live_count(void) {
    size_t n = 0;
    for (live_block *b = &g_live; b; b = atomic_load(&b->next))
        for (int i = 0; i < QK_LIVE_SLOTS; i++) n += atomic_load(&b->slot[i].state) == 2;
    return n;
}

int qk_afile_check_space(const char *final_path, uint64_t need, qk_err *err) {
    char *tmp = strdup(final_path);
    if (!tmp) return qk_fail(err, "%s: out of memory", final_path);
    const char *dir = dirname(tmp);
    struct statvfs sv;
    int rc = QK_OK;
    /* a file system reporting no blocks at all (fusefat, some FUSE mounts) cannot tell */
    if (statvfs(dir, &sv) == 0 && sv.f_blocks != 0) {
        const uint64_t fr = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        const uint64_t avail = fr && (uint64_t)sv.f_bavail > UINT64_MAX / fr ? UINT64_MAX : (uint64_t)sv.f_bavail * fr;
        if (avail < need) {
            char n1[32], n2[32], n3[32];
            qk_format_size(n1, sizeof n1, need);
            qk_format_size(n2, sizeof n2, avail);
            qk_format_size(n3, sizeof n3, need - avail);
            rc = qk_fail(err, "%s: not enough free space in '%s': the output needs %s, %s are free (%s short)",
                         final_path, dir, n1, n2, n3);
        }
    }
    free(tmp);
    return rc;
}

int qk_afile_open(qk_afile **out, const char *final_path, qk_err *err) {
    *out = NULL;
    char *tmp1 = strdup(final_path), *tmp2 = strdup(final_path);
    if (!tmp1 || !tmp2) {
        free(tmp1), free(tmp2);
        return qk_fail(err, "%s: out of memory", final_path);
    }
    char *dir = strdup(dirname(tmp1));
    const char *base = basename(tmp2);
    struct stat st;
    int rc = QK_OK;
    if (!dir) {
        rc = qk_fail(err, "%s: out of memory", final_path);
    } else if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/")) {
        rc = qk_fail(err, "%s: not a file name", final_path);
    } else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = qk_fail(err, "%s: the destination folder '%s' does not exist", final_path, dir);
    } else if (access(dir, W_OK) != 0) {
        rc = qk_fail(err, "%s: the destination folder '%s' is not writable: %s", final_path, dir,
                     strerror(errno));
    } else if (stat(final_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = qk_fail(err, "%s: is a folder, expected a file name", final_path);
    }
    qk_afile *f = NULL;
    if (rc == QK_OK) {
        f = calloc(1, sizeof *f);
        size_t n = strlen(dir) + strlen(base) + 32;
        char *tp = malloc(n);
        if (!f || !tp) {
            free(f), free(tp);
            f = NULL;
            rc = qk_fail(err, "%s: out of memory", final_path);
        } else {
            snprintf(tp, n, "%s/.%s.tmp.XXXXXX", dir, base);
            f->temp_path = tp;
            f->fd = mkstemp(tp);
            if (f->fd < 0) {
                rc = qk_fail(err, "%s: cannot create a temporary file in '%s': %s", final_path, dir,
                             strerror(errno));
                free(tp), free(f);
                f = NULL;
            } else {
                fchmod(f->fd, 0644);
                f->live_slot = live_add(tp);
                f->final_path = strdup(final_path);
                f->dir = dir;
                dir = NULL;
            }
        }
    }
    free(dir), free(tmp1), free(tmp2);
    if (rc == QK_OK) *out = f;
    return rc;
}

static int io_fail(qk_afile *f, const char *what, int e, qk_err *err) {
    if (e == ENOSPC || e == EDQUOT)
        return qk_fail(err, "%s: the disk is full (%s failed after %llu bytes)", f->final_path, what,
                       (unsigned long long)f->size);
    if (e == EFBIG)
        return qk_fail(err, "%s: the file is too large for this file system or limit (%s at %llu bytes)",
                       f->final_path, what, (unsigned long long)f->size);
    return qk_fail(err, "%s: %s failed: %s", f->final_path, what, strerror(e));
}

int qk_afile_pwrite(qk_afile *f, const void *buf, size_t n, uint64_t off, qk_err *err) {
    const unsigned char *p = buf;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t w = pwrite(f->fd, p, chunk, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return io_fail(f, "write", errno, err);
        }
        if (w == 0) return io_fail(f, "write", ENOSPC, err);
        p += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return QK_OK;
}

/* The early flush, as the flusher's write function (data and n unused). */
static int early_flush(void *ctx, const void *data, size_t n, qk_err *err) {
    qk_afile *f = ctx;
    (void)data, (void)n;
    while (fdatasync(f->fd) != 0)
        if (errno != EINTR) return io_fail(f, "fsync", errno, err);
    return QK_OK;
}

int qk_afile_write(qk_afile *f, const void *buf, size_t n, qk_err *err) {
    if (qk_afile_pwrite(f, buf, n, f->size, err) != QK_OK) return QK_FAIL;
    f->size += n;
#ifdef SYNC_FILE_RANGE_WRITE
    if (f->size - f->writeback_from >= QK_WRITE_BEHIND) {
        /* advisory only: durability still comes from the fsync in commit */
        (void)sync_file_range(f->fd, (off_t)f->writeback_from, (off_t)(f->size - f->writeback_from),
                              SYNC_FILE_RANGE_WRITE);
        f->writeback_from = f->size;
    }
#endif
    if (f->size - f->flush_from >= QK_EARLY_FLUSH) {
        if (!f->flusher && qk_wb_start(&f->flusher, early_flush, f, err) != QK_OK)
            return qk_fail(err, "%s: out of memory", f->final_path);
        if (qk_wb_put(f->flusher, NULL, 0, err) != QK_OK) return QK_FAIL; /* an earlier flush failed */
        f->flush_from = f->size;
    }
    return QK_OK;
}

int qk_afile_pread(qk_afile *f, void *buf, size_t n, uint64_t off, qk_err *err) {
    unsigned char *p = buf;
    while (n) {
        ssize_t r = pread(f->fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return io_fail(f, "read back", errno, err);
        }
        if (r == 0) return qk_fail(err, "%s: read back past the end", f->final_path);
        p += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return QK_OK;
}

uint64_t qk_afile_size(const qk_afile *f) { return f->size; }
const char *qk_afile_final_path(const qk_afile *f) { return f->final_path; }
const char *qk_afile_temp_path(const qk_afile *f) { return f->temp_path; }

static void free_f(qk_afile *f) {
    live_remove(f->live_slot);
    free(f->final_path), free(f->temp_path), free(f->dir), free(f);
}

int qk_afile_appends_done(qk_afile *f, qk_err *err) {
    const int rc = f->flusher ? qk_wb_finish(f->flusher, err) : QK_OK;
    f->flusher = NULL;
    return rc;
}

void qk_afile_abort(qk_afile *f) {
    if (!f) return;
    qk_afile_appends_done(f, NULL); /* the flusher uses fd */
    if (f->fd >= 0) close(f->fd);
    unlink(f->temp_path);
    free_f(f);
}

int qk_afile_commit(qk_afile *f, qk_err *err) {
    int rc = QK_OK;
    /* an early flush's failure counts: the kernel reports a write-back error
     * once, so the fsync below may well succeed after it */
    if (qk_afile_appends_done(f, err) != QK_OK) rc = QK_FAIL;
    if (rc == QK_OK && fsync(f->fd) != 0) rc = io_fail(f, "fsync", errno, err);
    if (close(f->fd) != 0 && rc == QK_OK) rc = io_fail(f, "close", errno, err);
    f->fd = -1;
    /* a signal after the rename must not unlink a name that now belongs to
     * nobody: leave the registry first (at worst the temporary stays) */
    live_remove(f->live_slot);
    f->live_slot = -1;
    if (rc == QK_OK && rename(f->temp_path, f->final_path) != 0)
        rc = io_fail(f, "rename into place", errno, err);
    if (rc != QK_OK) {
        unlink(f->temp_path);
        free_f(f);
        return rc;
    }
    int dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd); /* best effort: some file systems (FAT) refuse it */
        close(dfd);
    }
    free_f(f);
    return QK_OK;
}
