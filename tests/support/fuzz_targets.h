/* fuzz_targets.h - one entry point per parser of untrusted input, shared by
 * the libFuzzer programs (tests/fuzz/fuzz_main.c, built by scripts/fuzz.sh)
 * and the replay test that runs every saved corpus file in the normal suite
 * (tests/fuzz/test_fuzz_replay.c), so any crash ever found stays fixed. */
#ifndef QK_FUZZ_TARGETS_H
#define QK_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

typedef int (*qk_fuzz_fn)(const uint8_t *data, size_t size);

typedef struct {
    const char *name;
    qk_fuzz_fn fn;
} qk_fuzz_target;

extern const qk_fuzz_target qk_fuzz_targets[];
extern const int qk_fuzz_n_targets;
qk_fuzz_fn qk_fuzz_find(const char *name);

/* Set by every entry point: did the input get past the parser (the set opened,
 * the folder loaded, ...)? The replay test uses it to check that the seeds
 * reach the code behind the parser. -1: the target has no such signal. */
extern int qk_fuzz_accepted;

/* The fixed GGUF the manifest target checks manifests against (for seeds). */
int qk_fuzz_write_manifest_model(const char *path, qk_err *err);

#endif
