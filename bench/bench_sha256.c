/* bench_sha256 - SHA-256 throughput (core/sha256, OpenSSL libcrypto) per
 * core, and a multi-shard manifest (`quantkit verify --write-manifest`, the
 * shards hashed in parallel) against coreutils `sha256sum` over the same
 * files, in the same run, and convert's background hasher (qk_sha256_bg: one
 * thread per shard up to --threads) against itself on one thread, which is
 * what it was before it hashed shards in parallel. Files are generated in $TMPDIR and read warm from
 * the page cache (both sides alike: the ratio is the result, times are for
 * this machine only).
 *
 * usage: bench_sha256 [--mib N (per shard, default 64)] [--shards N (default 4)] [--threads N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "manifest.h"
#include "parallel.h"
#include "sha256.h"

static double run_shell(const char *cmd) {
    double t0 = qk_now_s();
    int rc = system(cmd);
    double t = qk_now_s() - t0;
    return rc == 0 ? t : -1;
}

int main(int argc, char **argv) {
    int mib = 64, shards = 4, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mib")) mib = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--shards")) shards = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    }
    if (mib < 1 || shards < 1 || shards > 64) {
        fprintf(stderr, "usage: bench_sha256 [--mib N] [--shards N] [--threads N]\n");
        return 2;
    }
    size_t n = (size_t)mib << 20;
    unsigned char *buf = malloc(n);
    if (!buf) return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) x = x * 6364136223846793005ull + 1442695040888963407ull, buf[i] = (unsigned char)(x >> 56);

    /* 1. one core, in memory */
    qk_sha256 *s = qk_sha256_new();
    unsigned char d[32];
    double best = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = qk_now_s();
        qk_sha256_update(s, buf, n);
        qk_sha256_final(s, d);
        double t = qk_now_s() - t0;
        if (t < best) best = t;
    }
    qk_sha256_free(s);
    printf("sha256 one core, in memory: %.0f MB/s (%d MiB, best of 3)\n", n / best / 1e6, mib);

    /* 2. shards on disk: quantkit's manifest vs sha256sum */
    const char *tmp = getenv("TMPDIR");
    char dir[512], cmd[8192];
    snprintf(dir, sizeof dir, "%s/bench_sha256.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return 1;
    char *paths[64];
    for (int k = 0; k < shards; k++) {
        paths[k] = malloc(600);
        snprintf(paths[k], 600, "%s/m-%05d-of-%05d.gguf", dir, k + 1, shards);
        FILE *f = fopen(paths[k], "wb");
        buf[0] = (unsigned char)k; /* different files */
        if (!f || fwrite(buf, 1, n, f) != n) return 1;
        fclose(f);
    }
    int off = snprintf(cmd, sizeof cmd, "sha256sum");
    for (int k = 0; k < shards; k++) off += snprintf(cmd + off, sizeof cmd - off, " %s", paths[k]);
    snprintf(cmd + off, sizeof cmd - off, " > %s/coreutils.sums", dir);
    run_shell(cmd); /* warm the page cache for both sides */
    double t_core = 1e9, t_qk = 1e9;
    for (int r = 0; r < 2; r++) {
        double t = run_shell(cmd);
        if (t >= 0 && t < t_core) t_core = t;
        char *text;
        size_t len;
        qk_err err;
        double t0 = qk_now_s();
        if (qk_manifest_build((const char *const *)paths, (size_t)shards, QK_MANIFEST_SHA256SUMS, threads, NULL, &text, &len,
                              &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t = qk_now_s() - t0;
        if (t < t_qk) t_qk = t;
        free(text);
    }
    double total = (double)n * shards;
    printf("manifest of %d shards x %d MiB (threads %d of %d cores): quantkit %.2f s (%.0f MB/s), sha256sum %.2f s "
           "(%.0f MB/s), ratio %.2fx\n",
           shards, mib, threads > 0 ? threads : qk_cpu_count(), qk_cpu_count(), t_qk, total / t_qk / 1e6, t_core,
           total / t_core / 1e6, t_core / t_qk);

    /* 3. convert's background hasher: one thread vs --threads (default all cores) */
    const int bg_threads = threads > 0 ? threads : qk_cpu_count();
    double t_bg[2] = {1e9, 1e9};
    unsigned char(*dg)[32] = malloc((size_t)shards * 32);
    for (int r = 0; r < 4 && dg; r++) {
        const int k = r & 1; /* alternating: 0 one thread, 1 bg_threads */
        qk_sha256_bg *bg = NULL;
        qk_err err;
        double t0 = qk_now_s();
        if (qk_sha256_bg_start((const char *const *)paths, (size_t)shards, k ? bg_threads : 1, &bg, &err) ||
            qk_sha256_bg_finish(bg, dg, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double t = qk_now_s() - t0;
        if (t < t_bg[k]) t_bg[k] = t;
    }
    free(dg);
    printf("convert's source hasher, %d shards: 1 thread %.2f s, %d threads %.2f s, ratio %.2fx\n", shards, t_bg[0],
           bg_threads, t_bg[1], t_bg[0] / t_bg[1]);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    for (int k = 0; k < shards; k++) free(paths[k]);
    free(buf);
    return 0;
}
