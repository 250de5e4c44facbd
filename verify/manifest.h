/* manifest.h - sidecar hash lists for copies of model files.
 *
 * Two formats, both read back by `verify --manifest`:
 *
 * SHA256SUMS (the default): "HEX  NAME" per file, exactly what `sha256sum`
 * prints, so `sha256sum -c SHA256SUMS` checks a copy with coreutils alone,
 * and the digests are the ones Hugging Face shows per file.
 *
 * gguf-hash: one entry per line, "ALGO  HEX  NAME":
 *   size      <bytes>          <file>          quantkit: the file size
 *   xxh3-128  <32 hex>         <file>          quantkit: the whole file
 *   xxh3-64   <16 hex>         <file>:<tensor> quantkit: a tensor's data
 *   xxh64     <16 hex>         <file>:<tensor> llama-gguf-hash: a tensor's data
 *   xxh64     <16 hex>         <file>          llama-gguf-hash: all tensor data
 *   sha256    <64 hex>         <file>          the whole file
 * The llama-gguf-hash lines use its exact format (seed 0, unpadded tensor bytes
 * in file order), so `llama-gguf-hash --check` reads our manifests and we check
 * theirs; lines of unknown algorithms (sha1, uuid) are reported as not checked.
 *
 * Names are file base names. A split set is one group: naming any shard lists
 * every shard of the set, in order.
 */
#ifndef QK_MANIFEST_H
#define QK_MANIFEST_H

#include <stdbool.h>
#include <stdio.h>

#include "verify.h"

typedef enum { QK_MANIFEST_SHA256SUMS, QK_MANIFEST_GGUF_HASH } qk_manifest_format;

/* Appends the gguf-hash entries of file `path` to out. */
int qk_manifest_write_file(FILE *out, const char *path, int n_threads, qk_err *err);

/* Checks `path` against the manifest's entries for its base name; problems
 * and notes go to rep. Returns QK_FAIL only if the manifest cannot be read. */
int qk_manifest_check_file(const char *manifest_path, const char *path, int n_threads, qk_verify_report *rep,
                           qk_err *err);

/* The files a manifest of `files` lists: a shard of a split set
 * (<prefix>-0000k-of-0000N.gguf) brings every shard of its set, in order;
 * duplicates are dropped; two different files with one base name are refused
 * (a manifest names files by base name). *out is malloc'd strings. */
int qk_manifest_expand(const char *const *files, size_t n, char ***out, size_t *n_out, qk_err *err);
void qk_manifest_expand_free(char **list, size_t n);

/* May `manifest_path` be written? Refused when it is one of `files` (same
 * inode, a link), a GGUF or safetensors file, or any existing file that is
 * not a manifest (every line an entry or a comment). Absent or empty: ok. */
int qk_manifest_check_target(const char *manifest_path, const char *const *files, size_t n, qk_err *err);

/* The manifest text of `files` (hashed in parallel on n_threads, output in
 * the order given); *text is malloc'd. progress (NULL: none) gets the bytes
 * to read as its total, then the bytes read. */
int qk_manifest_build(const char *const *files, size_t n, qk_manifest_format fmt, int n_threads, qk_progress *progress,
                      char **text, size_t *len, qk_err *err);

/* The SHA-256 entries of a manifest (either format), once per name in
 * manifest order: names[i] (as listed) with hex[i] (64 digits). *names and
 * *hex are malloc'd (free with qk_manifest_sha256_free). QK_FAIL only when
 * the manifest cannot be read. */
int qk_manifest_sha256_list(const char *manifest_path, char ***names, char ***hex, size_t *n, qk_err *err);
void qk_manifest_sha256_free(char **names, char **hex, size_t n);

/* True when `path` is an existing, non-empty manifest (every line an entry
 * or a comment; not a GGUF or safetensors file). */
bool qk_manifest_is_manifest(const char *path);

typedef enum { QK_ENTRY_OK, QK_ENTRY_FAILED, QK_ENTRY_MISSING, QK_ENTRY_UNLISTED } qk_entry_status;

typedef struct qk_manifest_entry {
    char *name;           /* as listed (or the path, for UNLISTED) */
    char *path;           /* where it was looked for */
    qk_entry_status status;
    char *where;          /* FAILED: the first problem (what differs); else NULL */
    size_t n_problems;    /* FAILED: how many */
} qk_manifest_entry;

typedef struct qk_manifest_result {
    size_t n;
    qk_manifest_entry *e;  /* listed files in manifest order, then UNLISTED ones */
    size_t n_ok, n_failed, n_missing, n_unlisted;
    int n_unknown;         /* entries of algorithms quantkit does not compute */
} qk_manifest_result;

/* Checks every file the manifest lists. With files (n_files > 0), a listed
 * name is looked for among them (by base name) and is MISSING when none
 * matches, and a given file the manifest does not list is UNLISTED; without,
 * each listed name is looked for relative to the manifest's folder. Files
 * are hashed in parallel; progress (NULL: none) gets the bytes of the files
 * found as its total, then the bytes read. Returns QK_FAIL only when the
 * manifest cannot be read or holds no entry. */
int qk_manifest_check(const char *manifest_path, const char *const *files, size_t n_files, int n_threads,
                      qk_progress *progress, qk_manifest_result *res, qk_err *err);
void qk_manifest_result_free(qk_manifest_result *res);

#endif
