/* gguf_compare.h - is our quantized file llama.cpp's? do two files hold the same tensors? */
#ifndef QK_GGUF_COMPARE_H
#define QK_GGUF_COMPARE_H

#include <stdbool.h>

/* Compares two GGUF files: every KV but quantkit.* (ours, and those llama.cpp
 * copied from an input quantkit wrote) in the same order
 * with the same type and value, the same tensors (order, name, type, shape)
 * and byte-identical tensor data. Prints what differs (prefixed by `what`,
 * data differences at most 8 times per process) and returns false. */
bool gguf_same_but_quantkit(const char *ours, const char *theirs, const char *what);

/* As gguf_same_but_quantkit, but the tensors may come in another order
 * (each of a found by name in b). */
bool gguf_same_any_order(const char *a, const char *b, const char *what);

/* The tensors of two GGUF files: the same list (order, name, type, shape)
 * and byte-identical data; the KVs are not compared. Prints what differs
 * (prefixed by `what`) and returns false. */
bool gguf_same_tensors(const char *a, const char *b, const char *what);

/* The KVs of two GGUF files whose keys start with prefix, but those named in
 * skip (NULL-terminated list, or NULL; the caller checks them itself): the
 * same keys in the same order, each of the same type and value, string
 * arrays element by element. Prints the first difference (prefixed by
 * `what`) and returns false. */
bool gguf_same_kvs(const char *a, const char *b, const char *prefix, const char *const *skip, const char *what);

#endif
