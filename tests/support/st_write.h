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

#endif
