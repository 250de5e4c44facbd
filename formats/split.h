/* split.h - splitting a GGUF into shards and merging them back, in the
 * layout of llama.cpp's gguf-split (<prefix>-00001-of-0000N.gguf; the first
 * shard carries all metadata; every shard carries split.no (u16, 0-based),
 * split.count (u16), split.tensors.count (i32)). llama.cpp loads such sets
 * directly; quantkit's shards also carry their own integrity hashes.
 */
#ifndef QK_SPLIT_H
#define QK_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "qk_error.h"

typedef struct qk_split_opts {
    uint64_t max_bytes;   /* padded tensor bytes per shard (0 = no limit); a larger tensor gets its own shard */
    uint64_t max_tensors; /* tensors per shard (0 = no limit) */
    const char *command_line;
    int dry_run;
    bool ignore_integrity; /* write even when the input's embedded hashes do not match */
    qk_progress *progress; /* NULL: none; total() announced as the tensor bytes to copy, advanced as copied */
} qk_split_opts;

/* Writes the shards <prefix>-%05d-of-%05d.gguf; *n_out receives the shard
 * count. out_prefix may be written as an output name: "out.gguf" (or a shard
 * name) gives the prefix "out" (core/naming.h, qk_split_prefix_of). The input's quantkit.*
 * keys (version, command, source.*) stay in shard 1 as they were, the split's
 * own provenance goes to quantkit.split.*, so merge can restore the input
 * byte for byte. The input's embedded hashes are checked as it is read; on a
 * mismatch no shard stays (unless o->ignore_integrity). An output that is
 * one of the input files is refused before anything is written. */
int qk_split_model(const char *in_path, const char *out_prefix, const qk_split_opts *o, uint32_t *n_out, qk_err *err);
/* Merges a split set (given its first shard) into one file: every KV but
 * split.*, quantkit.split.* and the integrity keys, in order, so merging
 * quantkit's split of a quantkit file gives back that file byte for byte.
 * (quantkit.version and quantkit.command are added only when the set has no
 * quantkit.version, e.g. gguf-split's shards.) Hash checks and same-file
 * refusal as split. */
int qk_merge_model(const char *first_shard, const char *out_path, const char *command_line, qk_err *err);
int qk_merge_model_ex(const char *first_shard, const char *out_path, const char *command_line, bool ignore_integrity,
                      qk_err *err);
/* The same, with progress (total() then tensor bytes as they are copied). */
typedef struct qk_merge_opts {
    const char *command_line;
    bool ignore_integrity;
    qk_progress *progress; /* NULL: none */
} qk_merge_opts;
int qk_merge_model_opts(const char *first_shard, const char *out_path, const qk_merge_opts *o, qk_err *err);

/* The --split-max-size of convert and quantize: where to write the single
 * file first (next to out, or in $TMPDIR when out is on FAT32, which cannot
 * hold it), then qk_split_finish() splits it into out's shards
 * (<out without .gguf>-0000k-of-0000n.gguf) and removes it. */
void qk_split_staging_path(char *buf, size_t n, const char *out);
int qk_split_finish(const char *staging, const char *out, uint64_t max_bytes, const char *command_line, uint32_t *n_out,
                    qk_err *err);
/* For outputs on FAT32: a shard size safely below 4 GiB (3.9 GB of tensor data). */
#define QK_FAT32_SPLIT_BYTES 3900000000ull

/* 4 GiB - 1: the largest file FAT32 can hold. */
#define QK_FAT32_MAX_FILE 4294967295ull
/* True if path's folder is on a FAT file system (statfs). */
int qk_dest_is_fat(const char *path);

#endif
