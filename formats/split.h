/* split.h - splitting a GGUF into shards and merging them back, in the
 * layout of llama.cpp's gguf-split (<prefix>-00001-of-0000N.gguf; the first
 * shard carries all metadata; every shard carries split.no (u16, 0-based),
 * split.count (u16), split.tensors.count (i32)). llama.cpp loads such sets
 * directly; quantkit's shards also carry their own integrity hashes.
 */
#ifndef QK_SPLIT_H
#define QK_SPLIT_H

#include <stdint.h>

#include "qk_error.h"

typedef struct qk_split_opts {
    uint64_t max_bytes;   /* padded tensor bytes per shard (0 = no limit); a larger tensor gets its own shard */
    uint64_t max_tensors; /* tensors per shard (0 = no limit) */
    const char *command_line;
    int dry_run;
} qk_split_opts;

/* Writes the shards; *n_out receives the shard count. */
int qk_split_model(const char *in_path, const char *out_prefix, const qk_split_opts *o, uint32_t *n_out, qk_err *err);
/* Merges a split set (given its first shard) into one file. */
int qk_merge_model(const char *first_shard, const char *out_path, const char *command_line, qk_err *err);

/* 4 GiB - 1: the largest file FAT32 can hold. */
#define QK_FAT32_MAX_FILE 4294967295ull
/* True if path's folder is on a FAT file system (statfs). */
int qk_dest_is_fat(const char *path);

#endif
