/* sha256.h - SHA-256 (OpenSSL libcrypto: SHA-NI / AVX2 code paths), the hash
 * Hugging Face shows per file, sha256sum prints and a Hugging Face cache names
 * its blobs by. Streaming (init/update/final) and whole-file helpers.
 */
#ifndef QK_SHA256_H
#define QK_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "qk_error.h"

typedef struct qk_sha256 qk_sha256;

qk_sha256 *qk_sha256_new(void); /* NULL when out of memory */
void qk_sha256_update(qk_sha256 *s, const void *data, size_t n);
/* Writes the digest (32 bytes) and resets s for reuse. */
void qk_sha256_final(qk_sha256 *s, unsigned char out[32]);
void qk_sha256_free(qk_sha256 *s);

/* 64 lower-case hex digits + NUL. */
void qk_sha256_hex(const unsigned char d[32], char out[65]);
/* Parses 64 hex digits (either case) exactly; false otherwise. */
bool qk_sha256_parse(const char *hex, unsigned char out[32]);

/* SHA-256 of a whole file, read in 4 MiB pieces; *size receives its length
 * (NULL is fine); each piece is reported to progress (NULL: none). */
int qk_sha256_file(const char *path, unsigned char out[32], uint64_t *size, qk_progress *progress, qk_err *err);

/* Hashing files beside the work that reads them: up to n_threads threads
 * (<= 0: one per core; never more than n) hash paths[0..n), each file on one
 * thread, the largest first, while the caller converts the same files (their
 * pages are read from the disk once, by whichever comes first; no pass
 * before or after the work). The digests do not depend on n_threads. */
typedef struct qk_sha256_bg qk_sha256_bg;
int qk_sha256_bg_start(const char *const *paths, size_t n, int n_threads, qk_sha256_bg **out, qk_err *err);
/* Waits for the threads and frees bg: digests[i] (32 bytes each) receives
 * file i's SHA-256. With digests NULL it stops the threads early (a failed
 * conversion). QK_FAIL naming a file that could not be read: the threads
 * stop at the first failure, so when several files are bad, which one is
 * named depends on which was reached first (the lowest-numbered of those). */
int qk_sha256_bg_finish(qk_sha256_bg *bg, unsigned char (*digests)[32], qk_err *err);

#endif
