#include "sizes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

bool qk_parse_size(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || !isfinite(v)) return false;
    static const struct { const char *sfx; double mul; } sfx[] = {
        {"", 1}, {"b", 1}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12},
        {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
        {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0},
    };
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        if (strcasecmp(end, sfx[i].sfx) == 0) {
            double b = floor(v * sfx[i].mul);
            if (b >= 18446744073709551615.0) return false;
            *out = (uint64_t)b;
            return true;
        }
    }
    return false;
}

void qk_format_size(char *buf, size_t n, uint64_t bytes) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int i = 0;
    while (v >= 1024.0 && i < 4) v /= 1024.0, i++;
    if (i == 0) snprintf(buf, n, "%llu B", (unsigned long long)bytes);
    else snprintf(buf, n, "%.2f %s", v, u[i]);
}
