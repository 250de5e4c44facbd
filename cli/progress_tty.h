/* progress_tty.h - the CLI's one-line progress display, a qk_progress
 * reporter (core/progress.h).
 *
 * Shown on stderr only when stderr is a terminal (and QUANTKIT_NO_PROGRESS is
 * unset); otherwise cli_progress_new returns NULL, which the library takes as
 * "no progress", so pipes and logs stay clean. Redraws at most ~10 times a
 * second: current item, bytes done of total, throughput and ETA.
 */
#ifndef QK_PROGRESS_TTY_H
#define QK_PROGRESS_TTY_H

#include <stdint.h>

#include "progress.h"

/* NULL when progress is not to be shown. total_bytes may be 0 (unknown). */
qk_progress *cli_progress_new(const char *what, uint64_t total_bytes);
/* Clears the line and frees; NULL is fine. */
void cli_progress_done(qk_progress *p);

#endif
