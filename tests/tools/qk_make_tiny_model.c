/* qk_make_tiny_model OUT_DIR [--dtype f32|f16|bf16] [--shards N] [--tied] [--seed S]
 * [--arch A] [--layers N]
 * Writes a deterministic tiny Llama-style Hugging Face folder (see
 * tests/support/tiny_hf.h): the quick start's and the tests' model.
 * qk_make_tiny_model OUT.dat --imatrix-for MODEL.gguf [--seed S]
 * Writes a synthetic legacy .dat importance matrix for MODEL.gguf's tensors
 * (tests/support/imatrix_ref.h; scripts/quant-types-table.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imatrix_ref.h"
#include "tiny_hf.h"

static const char k_usage[] =
    "usage: qk_make_tiny_model OUT_DIR [--dtype f32|f16|bf16] [--shards N] [--tied] [--seed S] [--arch A] [--layers N]\n"
    "       qk_make_tiny_model OUT.dat --imatrix-for MODEL.gguf [--seed S]\n";

int main(int argc, char **argv) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    const char *dir = NULL, *imatrix_for = NULL;
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
        } else if (!strcmp(argv[i], "--imatrix-for") && i + 1 < argc) {
            imatrix_for = argv[++i];
        } else if (!strcmp(argv[i], "--layers") && i + 1 < argc) {
            s.n_layer = atoi(argv[++i]);
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fputs(k_usage, stderr);
            return 2;
        }
    }
    if (!dir) {
        fputs(k_usage, stderr);
        return 2;
    }
    if (imatrix_for) {
        imatrix_ref imr = {0};
        const int rc = imatrix_ref_write(imatrix_for, dir, s.seed, &imr);
        imatrix_ref_free(&imr);
        return rc ? 1 : 0;
    }
    return tiny_hf_write(dir, &s) ? 1 : 0;
}
