/* fixture_copy.c - see fixture_copy.h */
#include "fixture_copy.h"

#include <stdio.h>

#include "qk_test.h"

char *fixture_copy(char *buf, size_t n, const char *rel) {
    const char *p = qk_test_fixture(rel);
    if (!p) return NULL;
    snprintf(buf, n, "%s", p);
    return buf;
}
