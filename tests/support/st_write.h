/* st_write.h - writing safetensors files and derived Hugging Face folders in
 * tests (for checkpoints the tests make themselves: FP8, GPTQ, ...).
 *
 * st_write_file writes items in the given order (data offsets follow it),
 * with the header padded to 8 bytes as the format recommends.
 * hf_copy_sidecars copies every file of folder src but its *.safetensors
 * into dst (created), adding quantization_config (JSON text; NULL: none) to
 * config.json. Both return 0 on success. */
#ifndef QK_TEST_ST_WRITE_H
#define QK_TEST_ST_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_item {
    char name[160];
    const char *dtype; /* safetensors dtype string: "F32", "I32", "F8_E4M3", ... */
    int nd;
    int64_t shape[2];
    void *data;
    size_t nbytes;
} st_item;

int st_write_file(const char *path, const st_item *it, size_t n);
int hf_copy_sidecars(const char *src, const char *dst, const char *quant_json);
/* Every tensor of the F32 Hugging Face folder src as an F32 item, in the
 * checkpoint's order (*items malloc'd, each item's data too); 0 on success,
 * else prints why. */
int st_items_of_checkpoint(const char *src, st_item **items, size_t *n);
/* The start of a quantized checkpoint and its float twin made from the F32
 * folder src: the side files copied into dir_a (with quant_json as
 * quantization_config) and dir_b, and src's tensors read (as
 * st_items_of_checkpoint). 0 on success. */
int st_pair_begin(const char *src, const char *dir_a, const char *dir_b, const char *quant_json, st_item **items,
                  size_t *n);
/* A linear layer's 2-D weight inside the layers (what FP8 and GPTQ
 * checkpoints quantize): "...layers.N...._proj.weight". */
int st_item_is_linear(const st_item *t);
/* A deep copy of x (its own data). */
st_item st_item_dup(const st_item *x);
/* Writes <dir_a>/model.safetensors from a[0..na) and <dir_b>/model.safetensors
 * from b[0..nb) (a quantized checkpoint and its float twin), then frees every
 * item's data and both arrays. */
int st_write_pair(const char *dir_a, st_item *a, size_t na, const char *dir_b, st_item *b, size_t nb);

#endif
