/* tokenize_strings.c - see tokenize_strings.h */
#include "tokenize_strings.h"

#include <stdio.h>
#include <stdlib.h>

#include "hf_tokenize_ref.h"

cJSON *tokenize_strings_ref(const char *dir) {
    char strings[1024];
    const char *src = getenv("QK_SOURCE_DIR");
    snprintf(strings, sizeof strings, "%s/tests/data/tokenize_strings.txt", src ? src : ".");
    return hf_tokenize_ref(dir, strings);
}
