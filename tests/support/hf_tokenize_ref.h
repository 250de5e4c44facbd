/* hf_tokenize_ref.h - Hugging Face's tokenizers (npm, run by node through
 * tests/tools/hf_tokenize.mjs) as the reference the tokenizer tests compare
 * llama.cpp's ids with, and the way they print a string whose ids differ. */
#ifndef QK_HF_TOKENIZE_REF_H
#define QK_HF_TOKENIZE_REF_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* Runs tests/tools/hf_tokenize.mjs (under $QK_SOURCE_DIR, else ".") with the
 * tokenizers of $QK_TOKENIZERS_DIR on the tokenizer folder dir and every line
 * of the strings file: a JSON array of {line, text, ids, ids_special}, or
 * NULL after a failed CHECK naming the command. The caller cJSON_Deletes it. */
cJSON *hf_tokenize_ref(const char *dir, const char *strings);

/* The numbers of the JSON array arr into ids (at most max): their count, or
 * -1 when arr holds a non-number or more than max of them. */
int hf_tokenize_ids(const cJSON *arr, int32_t *ids, int max);

/* On stderr: the string of tokenize_strings.txt line `line` that tokenizer
 * name tokenizes (with or without special tokens) to other ids in llama.cpp
 * (got) than in Hugging Face (want), quoted with control characters and
 * backslashes escaped, and both lists of ids. */
void hf_tokenize_print_mismatch(const char *name, int line, int with_special, const char *text, const int32_t *want,
                                int nw, const int32_t *got, int ng);

#endif
