/* sizes.h - parsing and printing byte sizes for the CLI.
 *
 * qk_parse_size accepts a number with an optional suffix: K, M, G, T are
 * decimal (1000^n, as llama.cpp's gguf-split --split-max-size), KiB, MiB,
 * GiB, TiB binary; "B" or nothing = bytes. Fractions are allowed ("4.5G").
 * Case-insensitive. Returns false for anything else (negative, overflow,
 * trailing junk).
 */
#ifndef QK_SIZES_H
#define QK_SIZES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool qk_parse_size(const char *s, uint64_t *out);

/* "1.23 GiB"-style text into buf. */
void qk_format_size(char *buf, size_t n, uint64_t bytes);

#endif
