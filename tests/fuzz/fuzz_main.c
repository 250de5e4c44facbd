/* libFuzzer entry: built once per target by scripts/fuzz.sh with
 * -DQK_FUZZ_TARGET="\"name\"" and -fsanitize=fuzzer,address,undefined. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static qk_fuzz_fn fn;
    if (!fn && !(fn = qk_fuzz_find(QK_FUZZ_TARGET))) abort();
    return fn(data, size);
}
