/* hf_safetensors_min.h - the smallest safetensors reader the reference
 * forward pass tests need: one file, tensors returned as float32 (F32 as is,
 * F16 and BF16 widened). Test support only; formats/ has the real reader.
 *
 * The whole file is read into memory; the header is bounds-checked against
 * the file size (header length, every data_offsets pair, shape products)
 * before anything is used.
 */
#ifndef QK_HF_SAFETENSORS_MIN_H
#define QK_HF_SAFETENSORS_MIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct hf_st_min hf_st_min;

/* NULL with a one-line reason in err on failure. */
hf_st_min *hf_st_min_open(const char *path, char *err, size_t errlen);
void hf_st_min_close(hf_st_min *st);

/* An hf_tensor_get provider (ctx = the hf_st_min): the tensor as float32
 * row-major with its shape, or NULL if absent or of another dtype. The
 * memory stays valid until the next call or hf_st_min_close. */
const float *hf_st_min_get(void *ctx, const char *name, int64_t *shape, int *n_dims);

/* Number of tensors in the file. */
int hf_st_min_count(const hf_st_min *st);

/* The reference model (hf_forward.h) of the HF folder dir: its config.json
 * and model.safetensors (read with this reader, closed again: the model
 * keeps its own copies). NULL with a one-line reason in err on failure. */
struct hf_model;
struct hf_model *hf_st_min_load_model(const char *dir, char *err, size_t errlen);

#endif
