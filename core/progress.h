/* progress.h - a one-line progress display for long operations.
 *
 * Shown on stderr only when stderr is a terminal (and QUANTKIT_NO_PROGRESS is
 * unset); otherwise every call is a no-op, so pipes and logs stay clean.
 * Redraws at most ~10 times a second: current item, bytes done of total,
 * throughput and ETA. The library itself never prints: the CLI creates the
 * progress object and passes it down (NULL means no progress).
 */
#ifndef QK_PROGRESS_H
#define QK_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct qk_progress qk_progress;

/* NULL when progress is not to be shown (not a TTY). total_bytes may be 0. */
qk_progress *qk_progress_new(const char *what, uint64_t total_bytes);
/* Sets the current item label (e.g. a tensor name); thread-safe. */
void qk_progress_item(qk_progress *p, const char *label);
/* Adds done bytes; thread-safe; redraws when due. */
void qk_progress_add(qk_progress *p, uint64_t bytes);
/* Clears the line and frees. */
void qk_progress_done(qk_progress *p);

#endif
