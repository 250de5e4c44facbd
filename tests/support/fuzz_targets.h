/* fuzz_targets.h - one entry point per parser of untrusted input, shared by
 * the libFuzzer programs (tests/fuzz/fuzz_main.c, built by scripts/fuzz.sh)
 * and the replay test that runs every saved corpus file in the normal suite
 * (tests/test_fuzz_replay.c), so any crash ever found stays fixed. */
#ifndef QK_FUZZ_TARGETS_H
#define QK_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

typedef int (*qk_fuzz_fn)(const uint8_t *data, size_t size);

typedef struct {
    const char *name;
    qk_fuzz_fn fn;
} qk_fuzz_target;

extern const qk_fuzz_target qk_fuzz_targets[];
extern const int qk_fuzz_n_targets;
qk_fuzz_fn qk_fuzz_find(const char *name);

#endif
