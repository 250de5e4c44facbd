/* qk_make_tiny_model OUT_DIR [--dtype f32|f16|bf16] [--shards N] [--tied] [--seed S]
 * [--arch A] [--layers N]
 * Writes a deterministic tiny Llama-style Hugging Face folder (see
 * tests/support/tiny_hf.h): the quick start's and the tests' model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tiny_hf.h"

int main(int argc, char **argv) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dtype") && i + 1 < argc) {
            const char *d = argv[++i];
            s.dtype = !strcasecmp(d, "bf16") ? "BF16" : !strcasecmp(d, "f16") ? "F16" : "F32";
        } else if (!strcmp(argv[i], "--shards") && i + 1 < argc) {
            s.shards = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            s.seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--tied")) {
            s.tied = true;
        } else if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
            s.arch = argv[++i];
        } else if (!strcmp(argv[i], "--layers") && i + 1 < argc) {
            s.n_layer = atoi(argv[++i]);
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "usage: qk_make_tiny_model OUT_DIR [--dtype f32|f16|bf16] [--shards N] [--tied] [--seed S] [--arch A] [--layers N]\n");
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "usage: qk_make_tiny_model OUT_DIR [--dtype f32|f16|bf16] [--shards N] [--tied] [--seed S] [--arch A] [--layers N]\n");
        return 2;
    }
    return tiny_hf_write(dir, &s) ? 1 : 0;
}
