/* copy.h - `quantkit copy`: models onto a stick, and proof that it holds them.
 *
 * qk_copy copies GGUF files (a shard brings its whole split set; a manifest
 * brings every file it lists) into a destination folder:
 *  1. plans everything first: refuses a source that is in the destination,
 *     a file FAT cannot hold that cannot be split, a destination manifest
 *     that is not one; checks the free space for what is not there yet;
 *  2. on a FAT destination (core/fs_type.h: by the mount's type, FUSE mounts
 *     included) a file larger than FAT holds (4 GiB - 1) is written as a
 *     quantkit split set (formats/split.h) that llama.cpp loads directly;
 *  3. writes through core/atomic_file (temporary, fsync, rename, fsync the
 *     folder), computing the source's SHA-256 as it reads, and checks it
 *     against the SHA256SUMS beside the source (or the manifest given);
 *  4. drops the written pages from the cache (posix_fadvise DONTNEED) and
 *     reads every byte back from the device: a plain copy must equal the
 *     source byte for byte, a split shard must match the hashes embedded
 *     while it was written from the source. A failing or fake-capacity
 *     stick is caught here; the damaged file is removed and reported;
 *  5. copies LICENSE*, LICENCE*, README*, USE_POLICY*, NOTICE* found beside
 *     the source, or beside the Hugging Face folder its quantkit.command
 *     converted, the same way, and warns when the model looks like a Meta
 *     Llama model (whose license must travel with the weights) and no license
 *     was found;
 *  6. writes DEST/SHA256SUMS (sha256sum -c format) listing every file it
 *     placed or found verified, keeping earlier entries for other files still
 *     there.
 * Re-running resumes: a destination file that reads back equal to its source
 * (a split set made by copy from the same source SHA-256) is skipped.
 *
 * Test hook: QK_TEST_FAT_LIMIT=N makes a FAT destination hold files of at
 * most N - 1 bytes (so a small model stands for one above 4 GiB).
 */
#ifndef QK_COPY_H
#define QK_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "qk_error.h"

typedef enum {
    QK_COPY_COPIED,  /* written and read back equal */
    QK_COPY_SPLIT,   /* a shard written for FAT and read back matching its hashes */
    QK_COPY_SKIPPED, /* already there, read back equal */
    QK_COPY_FAILED   /* see problem; nothing is left under the destination name */
} qk_copy_status;

typedef struct qk_copy_file {
    char *source;        /* the source file */
    char *dest;          /* the destination file (a shard, for a split) */
    qk_copy_status status;
    bool extra;          /* a license / README, not a model */
    uint64_t bytes;      /* size of dest */
    char sha256[65];     /* of dest as read back; "" when FAILED */
    char *problem;       /* FAILED: what went wrong, naming the file */
} qk_copy_file;

typedef struct qk_copy_report {
    bool fat;              /* the destination is FAT */
    char fs_type[64];      /* the destination mount's type ("" if unknown) */
    uint64_t max_file;     /* the largest file it holds (UINT64_MAX: no limit) */
    char *manifest;        /* DEST/SHA256SUMS, or NULL when not written */
    size_t n;
    qk_copy_file *files;   /* in the order handled */
    size_t n_failed;
    size_t n_warnings;
    char **warnings;       /* e.g. a Llama-style license expected and absent */
    uint64_t bytes_written, bytes_read_back;
} qk_copy_report;

typedef struct qk_copy_opts {
    qk_progress *progress; /* bytes written plus bytes read back (see qk_copy_plan_make) */
} qk_copy_opts;

typedef struct qk_copy_plan qk_copy_plan;

/* Plans copying models[0..n) into the folder dest_dir (which must exist):
 * everything that can be refused is refused here, before anything is
 * written (free space included). *progress_total: the bytes qk_copy_run
 * reports to its progress (written plus read back, at most). */
int qk_copy_plan_make(const char *const *models, size_t n, const char *dest_dir, qk_copy_plan **out,
                      uint64_t *progress_total, qk_err *err);
/* Runs the plan. QK_FAIL only when the destination manifest cannot be
 * written; every file's outcome is in rep (rep->n_failed > 0 when one did not
 * verify). */
int qk_copy_run(qk_copy_plan *p, const qk_copy_opts *o, qk_copy_report *rep, qk_err *err);
void qk_copy_plan_free(qk_copy_plan *p);
void qk_copy_report_free(qk_copy_report *rep);

#endif
