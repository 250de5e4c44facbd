/* vocab_ref.h - test helpers for the vocab importers: compare a qk_vocab with the tokenizer.ggml.*
 * arrays of a GGUF written by llama.cpp's converter (read with the reference gguf API), and make
 * small Hugging Face folders in the test tmpdir. */
#ifndef QK_VOCAB_REF_H
#define QK_VOCAB_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "vocab.h"

/* CHECKs tokens (count and bytes), scores (if the GGUF has them: exact float bits), token types,
 * merges, tokenizer.ggml.model / pre, and every special id key the GGUF has. Returns the number of
 * failed CHECKs it made; prints the first few mismatching indices. Fails (1) if the reference is missing. */
int vocab_check_against_gguf(const qk_vocab *v, const char *gguf_path);

/* Imports the tokenizer of the HF folder dir (qk_vocab_load_hf, config vocab_size as given, 0: none);
 * CHECKs that it loads. Returns true with *v to free, false (nothing to free) otherwise. */
bool vocab_test_load(const char *dir, uint64_t vocab_size, qk_vocab *v);

/* Creates <tmpdir>/<name>/ (fresh) and returns its path (static buffer per call slot, 4 slots). */
const char *vocab_test_dir(const char *name);
/* Writes text to <dir>/<file>. */
void vocab_test_put(const char *dir, const char *file, const char *text);
/* Symlinks <dir>/<file> -> target. */
void vocab_test_link(const char *dir, const char *file, const char *target);

#endif
