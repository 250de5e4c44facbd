/* hf_checkpoint.h - a Hugging Face model folder: config.json plus weights in
 * model.safetensors or shards listed by model.safetensors.index.json; when a
 * folder has no safetensors, PyTorch's pytorch_model.bin (or shards listed by
 * pytorch_model.bin.index.json, the same weight_map format), else its single
 * *.pth file. Safetensors are preferred when both exist (ck->weights says
 * which was chosen); PyTorch files are read by formats/torch_file.h without
 * running pickle and look like safetensors files to every reader.
 *
 * With an index, every shard it names must be present and every tensor must
 * be in exactly the shard the weight_map says (a missing or extra tensor is
 * an error naming it and the shard). The merged tensor list is ordered by
 * (shard file name, tensor name), as convert_hf_to_gguf.py reads them.
 *
 * A folder without config.json but with params.json is Meta's (or Mistral's)
 * original layout (meta_params.h): weights in consolidated.safetensors or one
 * consolidated .pth, config derived from params.json (ck->meta_layout).
 */
#ifndef QK_HF_CHECKPOINT_H
#define QK_HF_CHECKPOINT_H

#include <cjson/cJSON.h>

#include "safetensors.h"

typedef struct qk_hf_tensor {
    uint32_t file;            /* index into files */
    const qk_st_tensor *t;
} qk_hf_tensor;

typedef struct qk_hf_checkpoint {
    char *dir;
    cJSON *config;            /* parsed config.json */
    size_t n_files;
    qk_st_file **files;       /* sorted by file name */
    size_t n_tensors;
    qk_hf_tensor *tensors;
    uint64_t total_bytes;     /* of all shards */
    bool torch;               /* the weights are PyTorch checkpoints (formats/torch_file.h) */
    bool meta_layout;         /* params.json + consolidated weights, Meta's names; config derived (meta_params.h) */
    char weights[640];        /* which weights were chosen, and why, for plans and info */
} qk_hf_checkpoint;

int qk_hf_open(const char *dir, qk_hf_checkpoint *out, qk_err *err);
void qk_hf_close(qk_hf_checkpoint *ck);
const qk_hf_tensor *qk_hf_find(const qk_hf_checkpoint *ck, const char *name);

/* Reads a small JSON file of the folder: NULL if absent; an error if it is
 * not UTF-8, not JSON, or not an object at the top level. */
int qk_hf_read_json(const char *dir, const char *name, cJSON **out, qk_err *err);

/* config.json accessors: false if absent or of another JSON type. */
bool qk_hf_cfg_int(const cJSON *cfg, const char *key, int64_t *out);
/* The integer at key, else def (absent, or not an integer): Python's hparams.get(key, def). */
int64_t qk_hf_cfg_int_or(const cJSON *cfg, const char *key, int64_t def);
bool qk_hf_cfg_num(const cJSON *cfg, const char *key, double *out);
const char *qk_hf_cfg_str(const cJSON *cfg, const char *key);

/* The SHA-256 a Hugging Face cache names the file at path by: path is a
 * snapshot's link to ../../blobs/<64 hex digits> (an LFS file). False for
 * anything else (a git file's SHA-1 blob, a plain file). */
bool qk_hf_blob_sha256(const char *path, char hex[65]);

#endif
