#include "atomic_file.h"
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
#include <sys/vfs.h>
#include <unistd.h>

/* Write-behind: every this many appended bytes, writeback of the finished
 * range is started asynchronously, so the disk works while we compute and
 * the final fsync only has the tail left to flush. */
#define QK_WRITE_BEHIND ((uint64_t)32 << 20)

/* Direct output: appends are gathered in an aligned stage and written with
 * O_DIRECT, a whole stage at a time, so they skip the page cache. The
 * output is fsync'd before the rename anyway, so a page-cache copy of it
 * only costs CPU (allocating, copying and accounting every page: 20% of a
 * Q4_0 run's CPU in perf) and evicts the input the workers still read.
 * Everything else (the tail that does not fill a block, header patches,
 * reads back) goes through the ordinary descriptor. Only on ext2/3/4 and
 * XFS, whose direct and buffered I/O to one file Linux keeps coherent (a
 * direct write flushes and drops the cached pages of its range): through
 * FUSE (fusefat, as a FAT stick is often mounted) a buffered patch of a
 * directly written block was lost in test_copy's FAT32 test. Any other file
 * system, and one that refuses O_DIRECT at the first write, gets the
 * buffered path with write-behind. */
#define QK_EXT_MAGIC 0xEF53u     /* ext2, ext3, ext4 (linux/magic.h) */
#define QK_XFS_MAGIC 0x58465342u /* "XFSB" */
#define QK_DIRECT_ALIGN ((size_t)4096)
#define QK_DIRECT_STAGE ((size_t)4 << 20)

struct qk_afile {
    int fd;
    int dfd;               /* the same file opened O_DIRECT, or -1 (buffered) */
    unsigned char *stage;  /* with dfd: QK_DIRECT_STAGE bytes, aligned */
    size_t staged;         /* bytes [direct_end, direct_end + staged) of the file, not yet written */
    uint64_t direct_end;   /* with dfd: bytes before this are written; a multiple of QK_DIRECT_STAGE */
    uint64_t size;
    uint64_t writeback_from; /* appended bytes before this already have writeback started */
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
                f->dfd = -1;
#ifdef O_DIRECT
                void *stage = NULL;
                struct statfs sf;
                const bool coherent = fstatfs(f->fd, &sf) == 0 && ((unsigned long)sf.f_type == QK_EXT_MAGIC ||
                                                                   (unsigned long)sf.f_type == QK_XFS_MAGIC);
                if (coherent && !getenv("QUANTKIT_NO_DIRECT_IO") &&
                    !posix_memalign(&stage, QK_DIRECT_ALIGN, QK_DIRECT_STAGE)) {
                    f->dfd = open(tp, O_WRONLY | O_DIRECT | O_CLOEXEC);
                    if (f->dfd >= 0) f->stage = stage;
                    else free(stage);
                }
#endif
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

static int fd_pwrite(qk_afile *f, int fd, const void *buf, size_t n, uint64_t off, qk_err *err) {
    const unsigned char *p = buf;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t w = pwrite(fd, p, chunk, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return io_fail(f, "write", errno, err);
        }
        if (w == 0) return io_fail(f, "write", ENOSPC, err);
        p += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return QK_OK;
}

/* Leaves direct output: the descriptor is closed, the stage freed (its bytes
 * must have been written already). */
static void direct_off(qk_afile *f) {
    if (f->dfd >= 0) close(f->dfd);
    f->dfd = -1;
    free(f->stage);
    f->stage = NULL;
    f->staged = 0;
}

/* Writes the stage's first n bytes (a multiple of the alignment) at
 * direct_end with O_DIRECT; a file system that turns that down gets them
 * through the page cache, and no direct write after. */
static int stage_flush(qk_afile *f, size_t n, qk_err *err) {
    ssize_t w;
    do w = pwrite(f->dfd, f->stage, n, (off_t)f->direct_end);
    while (w < 0 && errno == EINTR);
    if (w == (ssize_t)n) {
        f->direct_end += n;
        f->staged -= n;
        return QK_OK;
    }
    if (w < 0 && errno != EINVAL && errno != EOPNOTSUPP) return io_fail(f, "write", errno, err);
    /* refused, or short (a full disk then shows on the buffered write) */
    if (fd_pwrite(f, f->fd, f->stage, f->staged, f->direct_end, err)) return QK_FAIL;
    direct_off(f);
    return QK_OK;
}

int qk_afile_pwrite(qk_afile *f, const void *buf, size_t n, uint64_t off, qk_err *err) {
    const unsigned char *p = buf;
    if (f->dfd >= 0 && n && off < f->direct_end + f->staged && off + n > f->direct_end) {
        /* the part inside the stage is patched there; the rest below and above as usual */
        const uint64_t lo = off > f->direct_end ? off : f->direct_end;
        const uint64_t hi = off + n < f->direct_end + f->staged ? off + n : f->direct_end + f->staged;
        memcpy(f->stage + (lo - f->direct_end), p + (lo - off), (size_t)(hi - lo));
        if (lo > off && fd_pwrite(f, f->fd, p, (size_t)(lo - off), off, err)) return QK_FAIL;
        if (hi < off + n && fd_pwrite(f, f->fd, p + (hi - off), (size_t)(off + n - hi), hi, err)) return QK_FAIL;
        return QK_OK;
    }
    return fd_pwrite(f, f->fd, p, n, off, err);
}

int qk_afile_write(qk_afile *f, const void *buf, size_t n, qk_err *err) {
    if (f->dfd >= 0) {
        const unsigned char *p = buf;
        while (n && f->dfd >= 0) {
            const size_t take = QK_DIRECT_STAGE - f->staged < n ? QK_DIRECT_STAGE - f->staged : n;
            memcpy(f->stage + f->staged, p, take);
            f->staged += take, f->size += take, p += take, n -= take;
            if (f->staged == QK_DIRECT_STAGE && stage_flush(f, QK_DIRECT_STAGE, err)) return QK_FAIL;
        }
        if (!n) return QK_OK;
        buf = p; /* direct output was turned down midway: the rest through the page cache */
    }
    if (fd_pwrite(f, f->fd, buf, n, f->size, err) != QK_OK) return QK_FAIL;
    f->size += n;
#ifdef SYNC_FILE_RANGE_WRITE
    if (f->size - f->writeback_from >= QK_WRITE_BEHIND) {
        /* advisory only: durability still comes from the fsync in commit */
        (void)sync_file_range(f->fd, (off_t)f->writeback_from, (off_t)(f->size - f->writeback_from),
                              SYNC_FILE_RANGE_WRITE);
        f->writeback_from = f->size;
    }
#endif
    return QK_OK;
}

int qk_afile_pread(qk_afile *f, void *buf, size_t n, uint64_t off, qk_err *err) {
    unsigned char *p = buf;
    if (f->dfd >= 0 && n && off + n > f->direct_end) { /* what is still in the stage comes from there */
        if (off + n > f->direct_end + f->staged) return qk_fail(err, "%s: read back past the end", f->final_path);
        const uint64_t lo = off > f->direct_end ? off : f->direct_end;
        memcpy(p + (lo - off), f->stage + (lo - f->direct_end), (size_t)(off + n - lo));
        n = (size_t)(lo - off);
    }
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
bool qk_afile_direct(const qk_afile *f) { return f->dfd >= 0; }
const char *qk_afile_final_path(const qk_afile *f) { return f->final_path; }
const char *qk_afile_temp_path(const qk_afile *f) { return f->temp_path; }

static void free_f(qk_afile *f) {
    direct_off(f);
    live_remove(f->live_slot);
    free(f->final_path), free(f->temp_path), free(f->dir), free(f);
}

void qk_afile_abort(qk_afile *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    unlink(f->temp_path);
    free_f(f);
}

int qk_afile_flush(qk_afile *f, qk_err *err) {
    int rc = QK_OK;
    if (f->dfd >= 0) { /* the stage: its whole blocks direct, the tail through the page cache */
        const size_t whole = f->staged / QK_DIRECT_ALIGN * QK_DIRECT_ALIGN;
        if (whole) rc = stage_flush(f, whole, err);
        if (rc == QK_OK && f->staged && f->dfd >= 0) {
            memmove(f->stage, f->stage + whole, f->staged); /* flushed: the tail now starts the stage */
            rc = fd_pwrite(f, f->fd, f->stage, f->staged, f->direct_end, err);
        }
        direct_off(f);
    }
    return rc;
}

int qk_afile_commit(qk_afile *f, qk_err *err) {
    int rc = qk_afile_flush(f, err);
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
