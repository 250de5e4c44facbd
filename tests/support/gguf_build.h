/* gguf_build.h - handcrafting GGUF bytes for tests (including invalid ones):
 * a growable byte buffer with little-endian writers, so each bad-file test
 * can state exactly which bytes it breaks. */
#ifndef QK_GGUF_BUILD_H
#define QK_GGUF_BUILD_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *p;
    size_t len, cap;
} gb_buf;

void gb_bytes(gb_buf *b, const void *d, size_t n);
void gb_u32(gb_buf *b, uint32_t v);
void gb_u64(gb_buf *b, uint64_t v);
void gb_str(gb_buf *b, const char *s);
void gb_pad(gb_buf *b, size_t align);
void gb_free(gb_buf *b);

#endif
