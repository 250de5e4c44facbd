/* verify.h - checking a GGUF (or split set) end to end.
 *
 * 1. structure: every parser check (see gguf.h), truncation, zero padding;
 * 2. integrity: the embedded quantkit hashes (header and every tensor);
 * 3. data sanity: no NaN/Inf in float data or quant-block scales;
 * 4. loadability: for the llama family, the tensors llama.cpp requires with
 *    shapes consistent with the hyper-parameters; tokenizer arrays of equal
 *    length, special-token ids in range; general.file_type plausible;
 * 5. split sets: every shard present and consistent (gguf_set.h).
 * Problems are collected as one-line messages naming the file and object;
 * the file passes only when there are none.
 */
#ifndef QK_VERIFY_H
#define QK_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "qk_error.h"

typedef struct qk_verify_report {
    char *path;
    bool parsed;            /* structure readable (false: see problems[0]) */
    uint32_t n_shards;
    uint64_t n_tensors;
    uint64_t bytes;
    bool integrity_present; /* quantkit hashes found (in every shard) */
    bool integrity_ok;
    size_t n_problems;
    char **problems;
    size_t n_notes;
    char **notes;           /* informational (e.g. "no embedded integrity data") */
} qk_verify_report;

typedef struct qk_verify_opts {
    int n_threads;
    bool skip_sanity;
    /* NULL: none. Announced total (progress.h's total()) is the tensor bytes
     * read: once for the hashes, once more for the NaN/Inf scan. */
    qk_progress *progress;
} qk_verify_opts;

/* Fills rep; returns QK_OK when the checks ran (whatever they found). */
int qk_verify_gguf(const char *path, const qk_verify_opts *o, qk_verify_report *rep);
void qk_verify_report_free(qk_verify_report *rep);
void qk_verify_problem(qk_verify_report *rep, const char *fmt, ...) QK_PRINTF(2, 3);
void qk_verify_note(qk_verify_report *rep, const char *fmt, ...) QK_PRINTF(2, 3);

#endif
