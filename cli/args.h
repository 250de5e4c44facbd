/* args.h - the one option parser of every quantkit command.
 *
 * Each command declares its options in a table and walks argv with
 * qk_args_next. Accepted everywhere: "--opt value" and "--opt=value", short
 * aliases ("-o value", "-ovalue"), "--" ending the options, and a lone "-" as a
 * positional. Mistakes are usage errors (exit 2) printed here, with the
 * closest option name when one is near: an unknown option, a value given to a
 * flag ("--json=1"), a missing value. Positional arguments come back in order;
 * the command decides what they mean (and names a wrong one precisely).
 */
#ifndef QK_ARGS_H
#define QK_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct qk_opt {
    const char *name;   /* long name without "--", e.g. "threads" */
    char short_name;    /* e.g. 'o', or 0 */
    bool has_value;     /* takes a value */
    int id;             /* returned by qk_args_next; must be > 0 */
} qk_opt;

enum {
    QK_ARGS_END = 0,    /* no more arguments */
    QK_ARGS_POS = -1,   /* a positional argument (in *value) */
    QK_ARGS_ERR = -2    /* usage error, already printed: exit QK_EXIT_USAGE */
};

typedef struct qk_args {
    const char *cmd;    /* for messages: "quantkit CMD: ..." */
    const qk_opt *opts;
    size_t n_opts;
    int argc;
    char **argv;
    int i;              /* next argv index */
    bool only_pos;      /* after "--" */
    const char *opt;    /* the option as written, for messages ("--threads") */
} qk_args;

/* argv[0] is the command name (skipped). */
void qk_args_init(qk_args *a, const char *cmd, const qk_opt *opts, size_t n_opts, int argc, char **argv);

/* Next option id (> 0; its value, if it takes one, in *value), QK_ARGS_POS
 * with the positional in *value, QK_ARGS_END, or QK_ARGS_ERR. */
int qk_args_next(qk_args *a, const char **value);

/* The candidate closest to word (case-insensitive edit distance, '_' and '-'
 * ignored for an exact match), or NULL if none is close enough to suggest. */
const char *qk_suggest(const char *word, const char *const *cands, size_t n);

/* The llama-quantize type name closest to word, or NULL. */
const char *qk_suggest_ftype(const char *word);

#endif
