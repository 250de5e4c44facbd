/* gguf_checked.h - a GGUF file a test needs, opened with a failed CHECK when it cannot be (as json_file_read_checked
 * for JSON files). */
#ifndef QK_GGUF_CHECKED_H
#define QK_GGUF_CHECKED_H

#include "gguf.h"

/* The GGUF file at path, opened (qk_gguf_open): the caller qk_gguf_closes it; NULL after a failed CHECK with the
 * reader's message. */
qk_gguf_file *gguf_open_checked(const char *path);

#endif
