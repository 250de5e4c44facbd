/* core/: sizes, parallel_for determinism and error reporting, error strings,
 * what a signal handler removes (atomic_file's registry), atomic_file's
 * bytes after early flushes, the background SHA-256 of several files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "parallel.h"
#include "qk_error.h"
#include "qk_test.h"
#include "sha256.h"
#include "sizes.h"

static void test_sizes(void) {
    uint64_t v = 0;
    CHECK(qk_parse_size("4.5G", &v) && v == 4500000000ull);
    CHECK(qk_parse_size("3800M", &v) && v == 3800000000ull);
    CHECK(qk_parse_size("4GiB", &v) && v == 4294967296ull);
    CHECK(qk_parse_size("123", &v) && v == 123);
    CHECK(qk_parse_size("1k", &v) && v == 1000);
    CHECK(!qk_parse_size("", &v));
    CHECK(!qk_parse_size("-1G", &v));
    CHECK(!qk_parse_size("4X", &v));
    CHECK(!qk_parse_size("1e30T", &v));
    CHECK(!qk_parse_size("nan", &v));
    char buf[32];
    qk_format_size(buf, sizeof buf, 1536);
    CHECK_STR(buf, "1.50 KiB");
}

typedef struct { int *out; int fail_at; } pf_ctx;

static int square(void *vctx, int64_t item, int tid, qk_err *err) {
    (void)tid;
    pf_ctx *c = vctx;
    if (item >= c->fail_at) return qk_fail(err, "item %lld failed", (long long)item);
    c->out[item] = (int)(item * item);
    return QK_OK;
}

static void test_parallel(void) {
    static int out[1000];
    for (int threads = 1; threads <= 8; threads *= 2) {
        memset(out, 0, sizeof out);
        pf_ctx c = {out, 1 << 30};
        qk_err err;
        CHECK(qk_parallel_for(1000, threads, square, &c, &err) == QK_OK);
        int bad = 0;
        for (int i = 0; i < 1000; i++) bad += out[i] != i * i;
        CHECK_EQ_INT(bad, 0);
    }
    pf_ctx c = {out, 10};
    qk_err err;
    CHECK(qk_parallel_for(1000, 1, square, &c, &err) == QK_FAIL);
    CHECK_STR(err.msg, "item 10 failed");
}

/* The persistent pool: many loops on the same threads, every item once,
 * thread ids in range, the lowest failing item reported, and the pool still
 * usable after a failure. */
typedef struct { int *out; int fail_at; int n_threads; _Atomic int bad_tid; } pool_ctx;

static int pool_square(void *vctx, int64_t item, int tid, qk_err *err) {
    pool_ctx *c = vctx;
    if (tid < 0 || tid >= c->n_threads) c->bad_tid++;
    if (item >= c->fail_at) return qk_fail(err, "item %lld failed", (long long)item);
    c->out[item] += (int)item;
    return QK_OK;
}

static void test_pool(void) {
    static int out[5000];
    for (int threads = 1; threads <= 8; threads *= 2) {
        qk_pool *p = qk_pool_new(threads);
        CHECK(p != NULL);
        if (!p) return;
        CHECK(qk_pool_threads(p) >= 1 && qk_pool_threads(p) <= threads);
        memset(out, 0, sizeof out);
        pool_ctx c = {out, 1 << 30, qk_pool_threads(p), 0};
        qk_err err;
        for (int loop = 0; loop < 200; loop++) /* 200 loops: each item added once per loop */
            CHECK(qk_pool_for(p, 1 + loop * 25, pool_square, &c, &err) == QK_OK);
        int bad = 0;
        for (int i = 0; i < 5000; i++) {
            int loops = 0; /* loops whose items 0..25 loop include i */
            for (int loop = 0; loop < 200; loop++) loops += i <= loop * 25;
            bad += out[i] != i * loops;
        }
        CHECK_MSG(bad == 0, "threads %d: %d items not run exactly once per loop", threads, bad);
        CHECK_EQ_INT(c.bad_tid, 0);
        c.fail_at = 100;
        CHECK(qk_pool_for(p, 1000, pool_square, &c, &err) == QK_FAIL);
        CHECK_STR(err.msg, "item 100 failed");
        c.fail_at = 1 << 30;
        CHECK(qk_pool_for(p, 10, pool_square, &c, &err) == QK_OK);
        CHECK(qk_pool_for(p, 0, pool_square, &c, &err) == QK_OK);
        qk_pool_free(p);
    }
}

static void test_error_prefix(void) {
    qk_err e;
    qk_fail(&e, "bad value %d", 7);
    qk_fail_prefix(&e, "%s", "file.gguf");
    CHECK_STR(e.msg, "file.gguf: bad value 7");
    CHECK(qk_fail(NULL, "x") == QK_FAIL);
}

/* qk_afile_remove_temps (the CLI's SIGINT/SIGTERM/SIGHUP handler) removes
 * open temporaries and the finished parts of an output still being written
 * (split shards, a --split-max-size staging file), and nothing else. */
static void test_signal_registry(void) {
    char fin[600], part[600], kept[600];
    snprintf(fin, sizeof fin, "%s/out.gguf", qk_test_tmpdir());
    snprintf(part, sizeof part, "%s/out-00001-of-00002.gguf", qk_test_tmpdir());
    snprintf(kept, sizeof kept, "%s/kept.gguf", qk_test_tmpdir());
    CHECK(qk_test_write_file(part, "shard", 5) == 0 && qk_test_write_file(kept, "done", 4) == 0);
    qk_afile *f = NULL;
    qk_err err;
    CHECK(qk_afile_open(&f, fin, &err) == QK_OK && qk_afile_write(f, "abc", 3, &err) == QK_OK);
    const char *tmp = f ? qk_afile_temp_path(f) : "";
    CHECK(access(tmp, F_OK) == 0);
    int h = qk_afile_partial_add(part), hk = qk_afile_partial_add(kept);
    CHECK(h >= 0 && hk >= 0);
    qk_afile_partial_done(hk); /* the whole output was written: no longer removed */
    qk_afile_remove_temps();
    CHECK_MSG(access(tmp, F_OK) != 0, "the temporary survived");
    CHECK_MSG(access(part, F_OK) != 0, "the finished shard of an unfinished set survived");
    CHECK(access(fin, F_OK) != 0);
    CHECK_MSG(access(kept, F_OK) == 0, "a released file was removed");
    qk_afile_partial_done(h);
    qk_afile_abort(f);
    unlink(kept);
}

/* This process's thread count (/proc/self/status), or -1. */
static int thread_count(void) {
    FILE *st = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (st && fgets(line, sizeof line, st))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    if (st) fclose(st);
    return n;
}

/* 200 MiB + 3 bytes in appends of 8 MiB + 1: atomic_file's early flushes
 * (every 64 MiB, on a side thread) run while later appends go on, and the
 * thread is gone once the appends are declared done; the committed file
 * holds exactly what was appended. */
static void test_afile_flushed_early(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/flushed-early.bin", qk_test_tmpdir());
    const size_t piece = (8u << 20) + 1, n_pieces = 25;
    unsigned char *p = malloc(piece);
    CHECK(p != NULL);
    if (!p) return;
    qk_afile *f = NULL;
    qk_err err;
    CHECK(qk_afile_open(&f, path, &err) == QK_OK);
    if (!f) return free(p);
    for (size_t k = 0; k < n_pieces; k++) {
        for (size_t i = 0; i < piece; i++) p[i] = (unsigned char)(i * 7 + k * 13);
        CHECK(qk_afile_write(f, p, piece, &err) == QK_OK);
    }
    /* the early flushes ran on a thread of their own; qk_afile_appends_done stops it */
    const int during = thread_count();
    CHECK(qk_afile_appends_done(f, &err) == QK_OK);
    CHECK_MSG(thread_count() == during - 1, "threads: %d while appending, %d after appends_done", during,
              thread_count());
    CHECK(qk_afile_write(f, "end", 3, &err) == QK_OK);
    CHECK(qk_afile_commit(f, &err) == QK_OK);
    FILE *in = fopen(path, "rb");
    CHECK(in != NULL);
    size_t bad = 0;
    for (size_t k = 0; in && k < n_pieces; k++) {
        CHECK(fread(p, 1, piece, in) == piece);
        for (size_t i = 0; i < piece; i++) bad += p[i] != (unsigned char)(i * 7 + k * 13);
    }
    char tail[4] = {0};
    CHECK(in && fread(tail, 1, sizeof tail, in) == 3 && !memcmp(tail, "end", 3));
    CHECK_MSG(bad == 0, "%zu bytes differ", bad);
    if (in) fclose(in);
    unlink(path);
    free(p);
}

/* A split into hundreds of shards: every finished part is registered (the
 * registry grows past its first block of 64 slots) and removed on a signal;
 * released handles are reused and the count goes back to zero. */
static void test_signal_registry_grows(void) {
    enum { N = 300 };
    static int h[N];
    char p[600];
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof p, "%s/big-%05d-of-%05d.gguf", qk_test_tmpdir(), i + 1, N);
        CHECK(qk_test_write_file(p, "s", 1) == 0);
        h[i] = qk_afile_partial_add(p);
        CHECK_MSG(h[i] >= 0, "part %d not registered", i + 1);
    }
    CHECK_EQ_INT((int)qk_afile_live_count(), N);
    qk_afile_partial_done(h[N - 1]); /* the last one released: kept */
    qk_afile_remove_temps();
    int left = 0;
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof p, "%s/big-%05d-of-%05d.gguf", qk_test_tmpdir(), i + 1, N);
        left += access(p, F_OK) == 0;
    }
    CHECK_MSG(left == 1, "%d of %d parts left after remove_temps (expected only the released one)", left, N);
    unlink(p);
    for (int i = 0; i < N - 1; i++) qk_afile_partial_done(h[i]);
    CHECK_EQ_INT((int)qk_afile_live_count(), 0);
    CHECK(qk_afile_partial_add(p) == 0); /* the first slot is free again */
    qk_afile_partial_done(0);
}

/* The background hasher on files of several sizes (empty, one byte, across
 * its 256 KiB pieces), at 1..8 threads: every digest is the file's own, as
 * qk_sha256_file (and, for "abc", FIPS 180-2's example) gives it; a missing
 * file or one that cannot be read (a folder) fails naming it. */
static void test_sha256_bg(void) {
    enum { NF = 5 };
    static const size_t sizes[NF] = {3, 0, (3u << 20) + 7, 1, 100000};
    char paths[NF][512];
    const char *pp[NF + 2];
    for (int i = 0; i < NF; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/bg-%d.bin", qk_test_tmpdir(), i);
        unsigned char *b = malloc(sizes[i] ? sizes[i] : 1);
        for (size_t k = 0; k < sizes[i]; k++) b[k] = (unsigned char)(k * 131 + (size_t)i * 7 + (k >> 9));
        if (i == 0) memcpy(b, "abc", 3);
        FILE *f = fopen(paths[i], "wb");
        CHECK(f && fwrite(b, 1, sizes[i], f) == sizes[i]);
        if (f) fclose(f);
        free(b);
        pp[i] = paths[i];
    }
    unsigned char want[NF][32], got[NF + 1][32]; /* room for the failing runs' extra file */
    qk_err err;
    for (int i = 0; i < NF; i++) CHECK(qk_sha256_file(paths[i], want[i], NULL, NULL, &err) == QK_OK);
    char hex[65];
    qk_sha256_hex(want[0], hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    for (int nt = 1; nt <= 8; nt++) {
        qk_sha256_bg *bg = NULL;
        CHECK(qk_sha256_bg_start(pp, NF, nt, &bg, &err) == QK_OK);
        memset(got, 0, sizeof got);
        CHECK(qk_sha256_bg_finish(bg, got, &err) == QK_OK);
        for (int i = 0; i < NF; i++) CHECK_MSG(!memcmp(got[i], want[i], 32), "file %d at %d threads", i, nt);
    }
    char gone[512];
    snprintf(gone, sizeof gone, "%s/bg-missing.bin", qk_test_tmpdir());
    for (int nt = 1; nt <= 3; nt++) {
        pp[NF] = gone;
        qk_sha256_bg *bg = NULL;
        CHECK(qk_sha256_bg_start(pp, NF + 1, nt, &bg, &err) == QK_OK);
        CHECK(qk_sha256_bg_finish(bg, got, &err) == QK_FAIL);
        CHECK_MSG(strstr(err.msg, gone) && strstr(err.msg, "cannot open"), "%s", err.msg);
        pp[NF] = qk_test_tmpdir(); /* opens, but a read of it fails (EISDIR) */
        CHECK(qk_sha256_bg_start(pp, NF + 1, nt, &bg, &err) == QK_OK);
        CHECK(qk_sha256_bg_finish(bg, got, &err) == QK_FAIL);
        CHECK_MSG(strstr(err.msg, qk_test_tmpdir()) && strstr(err.msg, "read error"), "%s", err.msg);
    }
    /* stopped early (a failed conversion): no digests, no error */
    qk_sha256_bg *bg = NULL;
    CHECK(qk_sha256_bg_start(pp, NF, 2, &bg, &err) == QK_OK);
    CHECK(qk_sha256_bg_finish(bg, NULL, NULL) == QK_OK);
    for (int i = 0; i < NF; i++) unlink(paths[i]);
}

int main(void) {
    RUN(test_sizes);
    RUN(test_parallel);
    RUN(test_pool);
    RUN(test_error_prefix);
    RUN(test_signal_registry);
    RUN(test_signal_registry_grows);
    RUN(test_afile_flushed_early);
    RUN(test_sha256_bg);
    return qk_test_summary();
}
