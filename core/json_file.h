/* json_file.h - reading the small JSON files of a Hugging Face folder with cJSON.
 *
 * Files are read whole (bounded by QK_JSON_MAX_BYTES) and parsed; a missing
 * file is not an error (*out = NULL), a malformed one is (with path and offset).
 */
#ifndef QK_JSON_FILE_H
#define QK_JSON_FILE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "qk_error.h"

#define QK_JSON_MAX_BYTES ((size_t)1 << 30)

/* True if the n bytes are well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). JSON text must be UTF-8 (RFC 8259), and
 * cJSON does not check it. Returns the offset of the first bad byte in
 * *bad_at when false. */
bool qk_utf8_valid(const char *s, size_t n, size_t *bad_at);

/* Does path name a regular file? */
int qk_file_exists(const char *path);

/* Reads a whole file (at most max_bytes) into a NUL-terminated malloc'd buffer. */
int qk_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len, qk_err *err);

/* Reads and parses the file at path (at most max_bytes, UTF-8); errors name
 * the path and the offset. */
int qk_json_parse_file(const char *path, size_t max_bytes, cJSON **out, qk_err *err);

/* Parses <dir>/<name>. Missing -> QK_OK with *out = NULL. */
int qk_json_load(const char *dir, const char *name, cJSON **out, qk_err *err);

/* Joins dir and name into buf (fails if it does not fit). */
int qk_path_join(char *buf, size_t cap, const char *dir, const char *name, qk_err *err);

#endif
