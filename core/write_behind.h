/* write_behind.h - hands finished output buffers to a writer thread, so the
 * next buffer is computed while the last one is written.
 *
 * Why: a streaming pass computes a chunk on every core, then writes it; while
 * the write copies the chunk into the page cache (and the kernel starts its
 * write-back), the cores would sit idle. With one write in flight, compute
 * and writing overlap and the pass costs about max(compute, write) instead
 * of their sum. The write function may be any step done in order on the
 * side thread: core/atomic_file's early fdatasync is one (buf NULL, n 0).
 *
 * Contract:
 * - Buffers reach the write function in exactly the order they are put, one
 *   at a time, always from the same (writer) thread: the output bytes are
 *   those of writing them in order from the caller.
 * - qk_wb_put(wb, buf, n) returns once the PREVIOUS buffer is written (at
 *   most one write in flight): the caller may then reuse every buffer but
 *   buf, and must keep buf unchanged until its next put or qk_wb_finish.
 * - The first failing write's error is returned by the next qk_wb_put or by
 *   qk_wb_finish; after a failure nothing more is written.
 * - qk_wb_finish waits for the last write, stops the thread and frees wb;
 *   it must be called once for every started writer, also after a failure.
 * If the thread cannot be started, qk_wb_start falls back to writing inline
 * (same bytes, no overlap).
 */
#ifndef QK_WRITE_BEHIND_H
#define QK_WRITE_BEHIND_H

#include <stddef.h>

#include "qk_error.h"

typedef int (*qk_wb_write_fn)(void *ctx, const void *data, size_t n, qk_err *err);

typedef struct qk_write_behind qk_write_behind;

int qk_wb_start(qk_write_behind **out, qk_wb_write_fn write, void *ctx, qk_err *err);
int qk_wb_put(qk_write_behind *wb, const void *buf, size_t n, qk_err *err);
int qk_wb_finish(qk_write_behind *wb, qk_err *err);

#endif
