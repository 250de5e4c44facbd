/* early_flush.h - fdatasync of a file being written, on a thread of its
 * own, while the writer goes on.
 *
 * Why: on the VMs this was measured on, the closing fsync of a 0.58 GB
 * output took 0.28-0.45 s even when every page had been handed to the
 * device long before (sync_file_range with WAIT_AFTER returned at once):
 * the cost is the device's own flush of what it holds, and it grows with
 * the data written since the last flush. Flushing every few dozen MiB from
 * a side thread lets that cost run while the next chunks are computed; the
 * closing fsync then finds ~0.04 s left (a 576 MiB test file: 0.28-0.35 s
 * -> 0.04-0.05 s). Durability is unchanged: the closing fsync still runs,
 * and nothing is renamed into place before it succeeds.
 *
 * Contract:
 * - qk_ef_kick asks for an fdatasync of fd. If one is running, one more is
 *   made after it (kicks in between coalesce); the caller never waits.
 * - A failed fdatasync's errno is kept (the first one) and returned by
 *   qk_ef_stop: Linux reports a write-back error to one sync call only, so
 *   the caller's later fsync may succeed where this one failed, and the
 *   file must not be treated as whole.
 * - qk_ef_stop waits for the running and the requested flushes, stops the
 *   thread and frees ef (NULL is fine: returns 0).
 * - qk_ef_start returns NULL when no thread can be started: the caller then
 *   simply does not flush early.
 */
#ifndef QK_EARLY_FLUSH_H
#define QK_EARLY_FLUSH_H

typedef struct qk_early_flush qk_early_flush;

qk_early_flush *qk_ef_start(int fd);
void qk_ef_kick(qk_early_flush *ef);
int qk_ef_stop(qk_early_flush *ef);

#endif
