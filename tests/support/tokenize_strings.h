/* tokenize_strings.h - Hugging Face's ids of the tokenizer parity strings (tests/data/tokenize_strings.txt), the
 * reference the tests that tokenize them with llama.cpp share. */
#ifndef QK_TOKENIZE_STRINGS_H
#define QK_TOKENIZE_STRINGS_H

#include <cjson/cJSON.h>

/* hf_tokenize_ref(dir, <$QK_SOURCE_DIR, else ".">/tests/data/tokenize_strings.txt): a JSON array of
 * {line, text, ids, ids_special}, or NULL after a failed CHECK. The caller cJSON_Deletes it. */
cJSON *tokenize_strings_ref(const char *dir);

#endif
