/* gguf_set.h - a model that may be split into shards (gguf-split layout).
 *
 * Opening any GGUF gives a set: a plain file is a set of one. A file with
 * split.count > 1 must be shard 1 (split.no = 0) named
 * "<prefix>-00001-of-0000N.gguf"; the other shards are found by name and each
 * is checked: split.no in order, the same split.count, and the tensor counts
 * adding up to split.tensors.count, no tensor in two shards. Metadata comes
 * from shard 1 (later shards carry only split.* keys).
 */
#ifndef QK_GGUF_SET_H
#define QK_GGUF_SET_H

#include "gguf.h"

typedef struct qk_gguf_ref {
    uint32_t shard;  /* index into files */
    uint64_t tensor; /* index into that shard's tensors */
} qk_gguf_ref;

typedef struct qk_gguf_set {
    uint32_t n_files;
    qk_gguf_file **files;
    uint64_t n_tensors;
    qk_gguf_ref *tensors; /* all tensors in shard order */
    struct qk_integrity_guard **guards; /* per file, after qk_gguf_set_guard */
} qk_gguf_set;

int qk_gguf_set_open(const char *path, qk_gguf_set *out, qk_err *err);
void qk_gguf_set_close(qk_gguf_set *s);

/* Checks what is read from the set against the hashes embedded in its files
 * as it streams (integrity.h). *present (NULL is fine) is true when every file
 * carries integrity data. qk_gguf_set_guard_check checks set tensors [t0, t1)
 * (UINT64_MAX: to the end) and the files' metadata, and fails naming the
 * damaged file and tensor: call it before an output is put in place. */
int qk_gguf_set_guard(qk_gguf_set *s, bool *present, qk_err *err);
int qk_gguf_set_guard_check(qk_gguf_set *s, uint64_t t0, uint64_t t1, qk_err *err);

static inline const qk_gguf_meta *qk_gguf_set_meta(const qk_gguf_set *s) { return &s->files[0]->meta; }
static inline const qk_gguf_tensor *qk_gguf_set_tensor(const qk_gguf_set *s, uint64_t i) {
    return &s->files[s->tensors[i].shard]->meta.tensors[s->tensors[i].tensor];
}
static inline const qk_gguf_file *qk_gguf_set_file(const qk_gguf_set *s, uint64_t i) {
    return s->files[s->tensors[i].shard];
}

/* "<prefix>-%05d-of-%05d.gguf" (1-based shard number), as llama.cpp names them. */
void qk_split_path(char *buf, size_t n, const char *prefix, uint32_t shard, uint32_t count);
/* Extracts the prefix from a shard path; false if it does not match. */
bool qk_split_prefix(const char *path, char *prefix, size_t n, uint32_t *shard, uint32_t *count);

#endif
