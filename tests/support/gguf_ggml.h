/* gguf_ggml.h - a GGUF file read by the real ggml (tests/support/llama_ref.h)
 * against our reader.
 *
 * gguf_ggml_agrees(path, rewrite) CHECKs (qk_test.h) that ggml's
 * gguf_init_from_file accepts path and sees what qk_gguf_open sees: the same
 * KVs in the same order (key, type, array type, count, value bytes, strings),
 * the same tensor names, types, shapes, offsets and sizes, and the same data
 * offset. With rewrite, ggml's own writer (gguf_set_kv + gguf_add_tensor)
 * must then reproduce the file byte for byte (for files with tensors and no
 * trailing 1-dimensions: ggml drops those from n_dims, and it pads after the
 * KVs even without a data section). A missing llama.cpp fails. */
#ifndef QK_TEST_GGUF_GGML_H
#define QK_TEST_GGUF_GGML_H

#include <stdbool.h>

void gguf_ggml_agrees(const char *path, bool rewrite);

#endif
