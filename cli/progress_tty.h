/* progress_tty.h - the CLI's progress display, a qk_progress reporter
 * (core/progress.h; the library only calls its callbacks).
 *
 * Modes (cli_progress_set_mode, from --quiet and --progress=MODE, which main.c
 * takes from any command line):
 *  - auto (default): a one-line display on stderr when stderr is a terminal
 *    and QUANTKIT_NO_PROGRESS is unset: percentage, bytes done of total,
 *    rate and ETA, the current item; redrawn at most ~10 times a second and
 *    cleared when done. Otherwise nothing, so pipes and logs stay clean.
 *  - tty: the display even when stderr is not a terminal.
 *  - json: one JSON object per line on stderr, for GUIs:
 *    {"event":"progress","what":..,"item":..,"done":..,"total":..,
 *     "percent":..,"bytes_per_second":..,"eta_seconds":..} and a last one
 *    with "event":"done".
 *  - none (--quiet): nothing; --quiet also silences informational messages.
 * cli_signals_install makes SIGINT/SIGTERM/SIGHUP clear a shown line and
 * remove the temporaries of outputs being written and the finished parts of
 * an unfinished output, e.g. split shards (core/atomic_file), then die by the
 * signal as before.
 */
#ifndef QK_PROGRESS_TTY_H
#define QK_PROGRESS_TTY_H

#include <stdbool.h>
#include <stdint.h>

#include "progress.h"

typedef enum { CLI_PROGRESS_AUTO, CLI_PROGRESS_NONE, CLI_PROGRESS_TTY, CLI_PROGRESS_JSON } cli_progress_mode;

void cli_progress_set_mode(cli_progress_mode m, bool quiet);
/* "auto", "tty", "json", "none"; false for anything else. */
bool cli_progress_parse_mode(const char *s, cli_progress_mode *out);
/* --quiet was given: informational messages on stderr are left out. */
bool cli_quiet(void);

/* NULL when progress is not to be shown. total_bytes may be 0 (unknown, or
 * announced later by the library through the reporter's total()). */
qk_progress *cli_progress_new(const char *what, uint64_t total_bytes);
/* Clears the line (or writes the json "done" event) and frees; NULL is fine. */
void cli_progress_done(qk_progress *p);

/* SIGINT, SIGTERM, SIGHUP: clear the line, unlink live temporaries, re-raise. */
void cli_signals_install(void);

#endif
