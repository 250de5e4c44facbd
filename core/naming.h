/* naming.h - output file names as llama.cpp names them.
 *
 * convert_hf_to_gguf.py (gguf-py's naming_convention) names a model
 * "<Name>-<SizeLabel>-<Type>.gguf": the name's blanks become '-', and the
 * size label appears once: when the name already carries one (a token such
 * as "1.1B", "7b", "8x7B", "260K"), that token is the size label and is not
 * appended again. The name comes from config.json's `_name_or_path` (its
 * last path component), else from the folder: the real folder name (so "."
 * is resolved), skipping names that say nothing about the model ("hf",
 * "hf-bf16", "model", "snapshots", a 40-hex snapshot hash; the Hugging Face
 * cache's "models--Org--Name" gives "Name"). A split set's shards are
 * "<prefix>-%05d-of-%05d.gguf", where an output named "x.gguf" (or
 * "x-00001-of-00003.gguf") gives the prefix "x" everywhere (split, quantize
 * --keep-split), as llama-quantize strips ".gguf".
 */
#ifndef QK_NAMING_H
#define QK_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* convert's size label from a parameter count: 260K, 1.1B, 8.0B, 70B. */
void qk_size_label(char *buf, size_t n, uint64_t n_params);

/* The size-label token in name ("Llama-3.2-1B-Instruct" -> "1B"), copied to
 * buf; false if the name has none. */
bool qk_name_size_label(const char *name, char *buf, size_t n);

/* The model name for a folder: name_or_path (may be NULL or empty) first,
 * then the folder as described above; "model" if nothing is usable. */
void qk_model_name(char *buf, size_t n, const char *dir, const char *name_or_path);

/* "<name>-<label>-<type>.gguf", or "<name>-<type>.gguf" when name already has
 * a size label (then *label_out gets the name's token; label_out may be NULL).
 * label_out must hold n_label bytes. */
void qk_gguf_name(char *buf, size_t n, const char *name, const char *size_label, const char *type,
                  char *label_out, size_t n_label);

/* The shard prefix for an output name: drops ".gguf" (any case) and a
 * trailing "-NNNNN-of-NNNNN". */
void qk_split_prefix_of(char *buf, size_t n, const char *out);

#endif
