/* integrity.h - the integrity data quantkit writes into every GGUF, and its check.
 *
 * Keys (all under "quantkit.", ignored by llama.cpp):
 *   quantkit.integrity.algorithm    str  "xxh3-64"
 *   quantkit.integrity.tensor_xxh3  u64[n_tensors]  XXH3-64 of each tensor's
 *                                   data including its zero padding
 *   quantkit.integrity.header_xxh3  u64  XXH3-64 of every byte before the
 *                                   data section (magic, counts, all KVs, all
 *                                   tensor infos, padding) with the values of
 *                                   the two hash keys read as zeros
 * Together they cover every byte of the file: any single corrupted byte
 * changes a hash (or breaks the structure, or is a nonzero padding byte).
 * The writer declares the keys with zero values, hashes data as it streams
 * and patches the values in at the end (sizes fixed up front: no offset moves).
 */
#ifndef QK_INTEGRITY_H
#define QK_INTEGRITY_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "progress.h"
#include "qk_error.h"

#define QK_INTEGRITY_ALGO_KEY "quantkit.integrity.algorithm"
#define QK_INTEGRITY_TENSORS_KEY "quantkit.integrity.tensor_xxh3"
#define QK_INTEGRITY_HEADER_KEY "quantkit.integrity.header_xxh3"

typedef struct qk_integrity_writer qk_integrity_writer;

/* Declares the integrity KVs on w (call after all other KVs and tensors are
 * declared, before begin) and installs the data hook. */
qk_integrity_writer *qk_integrity_attach(qk_gguf_writer *w, qk_err *err);
/* After all data is written, before finish: patches the hashes in. */
int qk_integrity_finalize(qk_integrity_writer *iw, qk_err *err);
void qk_integrity_free(qk_integrity_writer *iw);

/* Result of checking one file. */
typedef struct qk_integrity_report {
    bool present;          /* the file carries quantkit integrity data */
    bool header_ok;
    uint64_t n_bad_tensors;
    uint64_t *bad_tensors; /* indices of tensors whose hash differs (malloc'd) */
    uint64_t n_bad_padding;
    uint64_t *bad_padding; /* indices of tensors with nonzero padding bytes */
    bool partial_keys;     /* some quantkit.integrity.* keys present, not all/valid */
} qk_integrity_report;

/* Re-hashes file f and compares with its embedded hashes; also checks that
 * every padding byte is zero (for any file). n_threads <= 0: all cores.
 * progress (NULL: none) is advanced by each tensor's bytes as it is hashed.
 * Returns QK_FAIL only on I/O errors; mismatches are in the report. */
int qk_integrity_check(const qk_gguf_file *f, int n_threads, qk_progress *progress, qk_integrity_report *rep,
                       qk_err *err);
void qk_integrity_report_free(qk_integrity_report *rep);

/* ---- checking what a command reads, as it reads it ----
 * A guard attached to an open file hashes every tensor's bytes as
 * qk_gguf_read_tensor hands them out (split, merge, quantize and convert
 * read their input only that way), so the bytes checked are the bytes used,
 * without a second pass. A tensor read out of order, partly or not at all is
 * re-read from the file by qk_integrity_guard_check. A file without quantkit
 * integrity data gets a guard that checks nothing (*present = false). */
typedef struct qk_integrity_guard qk_integrity_guard;
int qk_integrity_guard_attach(qk_gguf_file *f, qk_integrity_guard **out, bool *present, qk_err *err);
/* Checks tensors [t0, t1) (every one when t1 == UINT64_MAX) and the metadata:
 * QK_FAIL naming the file and the first tensor (or the metadata) whose bytes
 * do not match the hash embedded in the file. */
int qk_integrity_guard_check(qk_integrity_guard *g, uint64_t t0, uint64_t t1, qk_err *err);
/* Detaches from the file and frees. NULL is fine. */
void qk_integrity_guard_free(qk_integrity_guard *g);

/* XXH3-64 of a tensor's padded bytes, streamed from the file. */
int qk_integrity_hash_tensor(const qk_gguf_file *f, uint64_t i, bool padded, uint64_t *out, qk_err *err);

#endif
