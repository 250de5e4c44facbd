/* str_util.h - small string questions about names and paths, one
 * definition for every layer: does a tensor name end with a suffix
 * ("...q_proj.qweight", "..._scale_inv"), what is a path's last component. */
#ifndef QK_STR_UTIL_H
#define QK_STR_UTIL_H

#include <stdbool.h>
#include <string.h>

static inline bool qk_str_ends_with(const char *s, const char *suffix) {
    const size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !memcmp(s + a - b, suffix, b);
}

/* The part of p after its last '/' (p itself when it has none). */
static inline const char *qk_path_base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

#endif
