/* hf_cache.h - checking a Hugging Face download against the SHA-256s it
 * carries in its own layout.
 *
 * A Hugging Face cache stores every file once, under its hash:
 *   models--ORG--NAME/blobs/<sha256>          an LFS file (weights): the SHA-256 of its bytes
 *   models--ORG--NAME/blobs/<sha1>            a git file (config.json ...): git's blob SHA-1
 *   models--ORG--NAME/snapshots/<rev>/<path>  -> ../../blobs/<hash> (a symlink)
 *   models--ORG--NAME/refs/main               the revision "main" points to
 * `huggingface-cli download --local-dir DIR` instead writes the files and,
 * per file, DIR/.cache/huggingface/download/<path>.metadata (commit, etag,
 * time), the etag of an LFS file being its SHA-256.
 * qk_hf_check re-hashes every LFS file (in parallel) and compares it with
 * that name or etag, so a damaged or truncated shard is found and named
 * without any manifest; a dangling link (the blob absent) is MISSING.
 */
#ifndef QK_HF_CACHE_H
#define QK_HF_CACHE_H

#include <stdbool.h>

#include "manifest.h"

/* True when dir is a cache snapshot (files linking into blobs/), a cache
 * repo folder (models--ORG--NAME, with snapshots/), or a --local-dir
 * download (.cache/huggingface/download). */
bool qk_hf_is_download(const char *dir);

/* Checks every LFS file of the download at dir (a repo folder: the snapshot
 * refs/main names, or its only one). Entries are the snapshot's files in
 * name order: OK, FAILED (where: the SHA-256 found and the one expected) or
 * MISSING; files without a SHA-256 to check against (git files) are not
 * listed but counted in res->n_unknown. QK_FAIL only when dir is not such a
 * download or cannot be read. progress (NULL: none) gets the bytes to hash
 * as its total, then the bytes hashed. */
int qk_hf_check(const char *dir, int n_threads, qk_progress *progress, qk_manifest_result *res, qk_err *err);

#endif
