/* bench_convert_moe - peak memory of converting a mixture-of-experts
 * checkpoint whose experts are spread across shards, against a dense
 * checkpoint of the same size, in the same run.
 *
 * Generates (tests/support/tiny_hf.h) a Qwen3-MoE-shaped BF16 checkpoint
 * with 64 experts per layer in 3 safetensors shards, and a dense Llama of
 * the same layer count, width and MLP bytes (n_ff = 64 x the expert width),
 * then converts each to Q8_0 in a child process (the library's
 * qk_convert_model, the same thread count) and reports its wall time and
 * peak RSS, best of --runs. Stacking 64 experts into one 3-D tensor must be
 * streamed row by row from the shards: the MoE's peak RSS should match the
 * dense model's (tens of MB), not grow with the experts' bytes. Times are for
 * this machine only; the ratios are the result.
 *
 * usage: bench_convert_moe [--dir DIR] [--threads N] [--runs N] [--width N] [--expert-width N] [--layers N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child_run.h"
#include "clock.h"
#include "convert_model.h"
#include "qk_test.h"
#include "tiny_hf.h"

#include "bench_best.h"

typedef struct {
    const char *dir, *out;
    int threads;
} convert_job;

static int convert_child(void *ctx) {
    const convert_job *j = ctx;
    qk_convert_opts o = {0};
    o.type = "q8_0";
    o.n_threads = j->threads;
    o.output_tensor_type = QK_MIX_TYPE_UNSET;
    qk_convert_report rep;
    qk_err err;
    const int rc = qk_convert_model(j->dir, j->out, &o, &rep, &err);
    if (rc) fprintf(stderr, "convert %s: %s\n", j->dir, err.msg);
    return rc;
}

static uint64_t dir_bytes(const char *dir, int shards) {
    uint64_t t = 0;
    char p[1200];
    struct stat st;
    for (int i = 1; i <= shards; i++) {
        if (shards == 1) snprintf(p, sizeof p, "%s/model.safetensors", dir);
        else snprintf(p, sizeof p, "%s/model-%05d-of-%05d.safetensors", dir, i, shards);
        if (stat(p, &st) == 0) t += (uint64_t)st.st_size;
    }
    return t;
}

int main(int argc, char **argv) {
    const char *base = NULL;
    int threads = 2, runs = 2, width = 1024, expert_width = 256, layers = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) base = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--width") && i + 1 < argc) width = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--expert-width") && i + 1 < argc) expert_width = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--layers") && i + 1 < argc) layers = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_convert_moe [--dir DIR] [--threads N] [--runs N] [--width N] "
                            "[--expert-width N] [--layers N]\n");
            return 2;
        }
    }
    if (threads < 1 || runs < 1 || width < 64 || width % 64 || expert_width < 32 || expert_width % 32 || layers < 1) {
        fprintf(stderr, "bench_convert_moe: width a multiple of 64, expert width of 32, threads/runs/layers >= 1\n");
        return 2;
    }
    char root[1024], moe[1100], dense[1100], out[1200];
    if (base) snprintf(root, sizeof root, "%s", base);
    else snprintf(root, sizeof root, "%s", qk_test_tmpdir());
    snprintf(moe, sizeof moe, "%s/bench-moe", root);
    snprintf(dense, sizeof dense, "%s/bench-dense", root);
    snprintf(out, sizeof out, "%s/bench-out.gguf", root);

    enum { N_EXPERT = 64, SHARDS = 3 };
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.n_layer = layers, s.n_embd = width, s.n_head = width / 64, s.n_head_kv = width / 128 ? width / 128 : 1;
    s.dtype = "BF16", s.shards = SHARDS;
    tiny_hf_spec d = s;
    s.arch = "qwen3moe", s.n_expert = N_EXPERT, s.n_ff_expert = expert_width, s.n_ff = 4 * width;
    d.arch = "llama", d.n_ff = N_EXPERT * expert_width;
    const double g0 = qk_now_s();
    if (tiny_hf_write(moe, &s) || tiny_hf_write(dense, &d)) return 1;
    const uint64_t mb = dir_bytes(moe, SHARDS), db = dir_bytes(dense, SHARDS);
    printf("generated in %.1f s: MoE %d layers x %d experts x %d wide (%.1f MB in %d shards), dense n_ff %d "
           "(%.1f MB); BF16 -> Q8_0, %d threads, best of %d\n\n",
           qk_now_s() - g0, layers, N_EXPERT, expert_width, mb / 1e6, SHARDS, d.n_ff, db / 1e6, threads, runs);

    child_result best[2] = {BENCH_BEST_INIT, BENCH_BEST_INIT};
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < 2; k++) {
            convert_job j = {k ? dense : moe, out, threads};
            child_result x = child_run(convert_child, &j);
            unlink(out);
            if (!x.ok) {
                fprintf(stderr, "bench_convert_moe: the %s conversion failed\n", k ? "dense" : "MoE");
                return 1;
            }
            bench_keep_best(&best[k], x);
        }
    printf("%-8s %10s %10s %12s %14s\n", "model", "input MB", "seconds", "peak RSS MB", "RSS / input");
    const char *names[2] = {"MoE", "dense"};
    const uint64_t sizes[2] = {mb, db};
    for (int k = 0; k < 2; k++)
        printf("%-8s %10.1f %10.2f %12.1f %13.3f%%\n", names[k], sizes[k] / 1e6, best[k].secs, best[k].rss_kb / 1024.0,
               100.0 * best[k].rss_kb * 1024.0 / (double)sizes[k]);
    printf("\nMoE / dense: time %.2fx, peak RSS %.2fx\n", best[0].secs / best[1].secs,
           (double)best[0].rss_kb / (double)best[1].rss_kb);
    return 0;
}
