/* same_file.h - is this output one of my inputs?
 *
 * A command must never write over what it reads: the same path, a hard link
 * or a symlink to it (same device and inode), or a file a source folder
 * holds (convert DIR -o DIR/model.safetensors). These checks compare inodes,
 * never path strings, so "./a.gguf", "a.gguf" and a link to it are one file.
 */
#ifndef QK_SAME_FILE_H
#define QK_SAME_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "qk_error.h"

/* True if both paths exist and are the same file (symlinks followed). */
bool qk_same_file(const char *a, const char *b);

/* True if `path` (which need not exist) lies inside folder `dir` (at any
 * depth; symlinks in the folder part followed). */
bool qk_path_inside(const char *path, const char *dir);

/* Refuses `out` when it is any of the inputs (same inode), or when an input
 * is a folder and `out` is an existing file inside it that is not an earlier
 * GGUF output (its first bytes are "GGUF"): the folder's own files are the
 * source. `what` names the output in the message ("output", "manifest").
 * Returns QK_OK when out is safe to write. */
int qk_check_output(const char *out, const char *const *inputs, size_t n_inputs, const char *what, qk_err *err);

#endif
