/* atomic_file.h - an output file that appears whole or not at all.
 *
 * Data goes to a temporary file in the destination folder
 * (".<name>.tmp.XXXXXX"), which is fsync'd and renamed onto the final name
 * only by qk_afile_commit (then the folder is fsync'd too). On abort, on any
 * failed call, or if the process dies, the final name is untouched; the
 * temporary is unlinked by abort/failure, and on SIGINT/SIGTERM/SIGHUP by
 * the CLI's handler through qk_afile_remove_temps (only SIGKILL or a crash
 * may leave a ".*.tmp.*" file behind, never a partial file under the final
 * name).
 */
#ifndef QK_ATOMIC_FILE_H
#define QK_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

typedef struct qk_afile qk_afile;

/* Creates the temporary next to final_path. Fails up front with a clear
 * message if the folder does not exist or is not writable. */
int qk_afile_open(qk_afile **out, const char *final_path, qk_err *err);
/* Appends n bytes (short writes and EINTR handled; ENOSPC etc. reported). */
int qk_afile_write(qk_afile *f, const void *buf, size_t n, qk_err *err);
/* Writes n bytes at offset off without moving the append position. */
int qk_afile_pwrite(qk_afile *f, const void *buf, size_t n, uint64_t off, qk_err *err);
/* Reads back n bytes at off (for hashing what was written). */
int qk_afile_pread(qk_afile *f, void *buf, size_t n, uint64_t off, qk_err *err);
/* The appends are over (patches and reads back may follow): the early
 * flushes end and their side thread stops, so a caller keeping many files
 * open until their commit (a split output's shards) holds no thread for
 * each. Returns an early flush's failure (the file must then be aborted).
 * Appends after it are allowed and flush early again. */
int qk_afile_appends_done(qk_afile *f, qk_err *err);
/* Bytes appended so far. */
uint64_t qk_afile_size(const qk_afile *f);
const char *qk_afile_final_path(const qk_afile *f);
const char *qk_afile_temp_path(const qk_afile *f);
/* fsync, rename into place, fsync the folder; frees f (also on failure, in
 * which case the temporary is removed). */
int qk_afile_commit(qk_afile *f, qk_err *err);
/* Removes the temporary and frees f. NULL is fine. */
void qk_afile_abort(qk_afile *f);

/* Checks that the file system of final_path's folder has room for need more
 * bytes (statvfs, blocks available to this user). Fails naming the folder,
 * the size needed, the space free and the shortfall; QK_OK when it cannot
 * tell (statvfs fails, or reports no blocks at all, as some FUSE file
 * systems do). */
int qk_afile_check_space(const char *final_path, uint64_t need, qk_err *err);

/* Unlinks every temporary still open (not committed or aborted). Async-
 * signal-safe: for a SIGINT/SIGTERM/SIGHUP handler, so an interrupted run
 * leaves no ".NAME.tmp.XXXXXX" behind. The process must exit afterwards. */
void qk_afile_remove_temps(void);
/* A committed file that is only one part of an output still being written
 * (a shard of a split set): until qk_afile_partial_done(handle),
 * qk_afile_remove_temps removes it too, so an interrupted run leaves no
 * incomplete set, however many parts there are. Returns a handle, or -1
 * when the path is longer than 4095 bytes or memory is short (that file then
 * survives a signal). */
int qk_afile_partial_add(const char *path);
void qk_afile_partial_done(int handle);

/* How many temporaries are open now (for tests). */
size_t qk_afile_live_count(void);

#endif
