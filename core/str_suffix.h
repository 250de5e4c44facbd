/* str_suffix.h - does a name end with a suffix (tensor names such as
 * "...q_proj.qweight", "..._scale_inv")? One definition for every layer. */
#ifndef QK_STR_SUFFIX_H
#define QK_STR_SUFFIX_H

#include <stdbool.h>
#include <string.h>

static inline bool qk_str_ends_with(const char *s, const char *suffix) {
    const size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !memcmp(s + a - b, suffix, b);
}

#endif
