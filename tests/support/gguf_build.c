#include "gguf_build.h"

#include <stdlib.h>
#include <string.h>

void gb_bytes(gb_buf *b, const void *d, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
}

void gb_u32(gb_buf *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    gb_bytes(b, x, 4);
}

void gb_u64(gb_buf *b, uint64_t v) {
    unsigned char x[8];
    for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
    gb_bytes(b, x, 8);
}

void gb_str(gb_buf *b, const char *s) {
    gb_u64(b, strlen(s));
    gb_bytes(b, s, strlen(s));
}

void gb_pad(gb_buf *b, size_t align) {
    static const unsigned char z[64];
    while (b->len % align) gb_bytes(b, z, 1);
}

void gb_free(gb_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
