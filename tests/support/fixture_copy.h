/* fixture_copy.h - a fixture's path kept in the test's own buffer: qk_test_fixture returns a static one that its
 * next call overwrites. */
#ifndef QK_FIXTURE_COPY_H
#define QK_FIXTURE_COPY_H

#include <stddef.h>

/* qk_test_fixture(rel) copied into buf (size n): buf, or NULL after the skip qk_test_fixture marks when the fixture
 * is absent (the caller returns). */
char *fixture_copy(char *buf, size_t n, const char *rel);

#endif
