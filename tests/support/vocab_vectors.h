/* vocab_vectors.h - llama.cpp's tokenizer test vectors (*.gguf.inp/.out):
 * strings separated by "\n__ggml_vocab_test__\n" and, per string, one line
 * of expected token ids (made with the Hugging Face tokenizers). */
#ifndef QK_VOCAB_VECTORS_H
#define QK_VOCAB_VECTORS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n;
    char **text;      /* NUL-terminated (texts contain no NUL) */
    size_t *text_len;
    int32_t **ids;
    int *n_ids;
} vocab_vectors;

/* Loads inp/out pair; returns 0 on success. */
int vocab_vectors_load(const char *inp_path, const char *out_path, vocab_vectors *v);
void vocab_vectors_free(vocab_vectors *v);

#endif
