/* manifest.h - sidecar hash lists for copies of model files.
 *
 * One text file, one entry per line, "ALGO  HEX  NAME" (whitespace-separated):
 *   size      <bytes>          <file>          quantkit: the file size
 *   xxh3-128  <32 hex>         <file>          quantkit: the whole file
 *   xxh3-64   <16 hex>         <file>:<tensor> quantkit: a tensor's data
 *   xxh64     <16 hex>         <file>:<tensor> llama-gguf-hash: a tensor's data
 *   xxh64     <16 hex>         <file>          llama-gguf-hash: all tensor data
 * Names are file base names. The llama-gguf-hash lines use its exact format
 * (seed 0, unpadded tensor bytes in file order), so `llama-gguf-hash --check`
 * reads our manifests and we check theirs; lines of unknown algorithms
 * (sha1, sha256, uuid) are reported as not checked.
 */
#ifndef QK_MANIFEST_H
#define QK_MANIFEST_H

#include <stdio.h>

#include "verify.h"

/* Appends the entries of GGUF file `path` to out. */
int qk_manifest_write_file(FILE *out, const char *path, int n_threads, qk_err *err);

/* Checks `path` against the manifest text; problems and notes go to rep.
 * Returns QK_FAIL only if the manifest cannot be read. */
int qk_manifest_check_file(const char *manifest_path, const char *path, int n_threads, qk_verify_report *rep,
                           qk_err *err);

#endif
