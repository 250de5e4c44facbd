/* bench_quantize - quantkit quantize vs llama_model_quantize on the same file.
 *
 * Generates a synthetic ~1 GB F16 Llama-shaped GGUF (dim 2048, 8 layers,
 * ffn 5632, vocab 32000) unless given one, then for Q8_0, Q4_0 and Q4_K_M
 * alternates runs of both tools (each in a child process, same thread
 * count), reporting best wall time, the ratio, and each side's peak RSS;
 * plus the I/O floors: a copy of the input (`cp`), the same made durable
 * (`cp` + `sync`), and, per type, a durable copy of a file of the output's
 * size (what writing that output safely costs at least). With --threads N
 * (N > 1) quantkit also runs on one thread, and the parallel efficiency
 * T1 / (N x TN) is printed, so a bigger machine can check the scaling
 * model of docs/benchmarks.md. With --convert, a BF16 Hugging Face
 * checkpoint of the same shape is converted straight to each type and
 * compared with quantizing the BF16 GGUF of the same weights. Also checks
 * that both outputs have identical tensor data. Every timed run starts after
 * a sync(), so none pays for another's write-back. Times are for this machine only:
 * the ratios are the result. A type that needs an importance matrix (IQ2_M,
 * IQ3_XXS, ...) gets the same synthetic one on both sides
 * (tests/support/imatrix_ref.h, written beside the model).
 *
 * usage: bench_quantize [--model IN.gguf] [--threads N] [--runs N] [--types Q8_0,Q4_0,Q4_K_M] [--convert]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child_run.h"
#include "clock.h"
#include "convert_model.h"
#include "ftypes.h"
#include "gguf.h"
#include "imatrix_ref.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

#include "bench_best.h"

typedef child_result run_result;

/* The types that need an importance matrix get this one (else NULL). */
static const imatrix_ref *g_imatrix;

typedef struct {
    int which; /* 0 quantkit, 1 llama.cpp */
    const char *in, *out;
    int ftype, threads;
} quantize_job;

static int quantize_child(void *ctx) {
    const quantize_job *j = ctx;
    if (j->which == 0) {
        qk_quantize_opts o = {0};
        qk_mix_options_init(&o.mix);
        o.mix.ftype = j->ftype;
        o.n_threads = j->threads;
        if (g_imatrix) o.imatrix = &g_imatrix->im;
        qk_quantize_report rep;
        qk_err err;
        const int rc = qk_quantize_model(j->in, j->out, &o, &rep, &err);
        if (rc) fprintf(stderr, "quantkit: %s\n", err.msg);
        return rc;
    }
    const llama_ref *ref = llama_ref_require();
    llama_ref_init_backend();
    ref_llama_model_quantize_params p = ref->llama_model_quantize_default_params();
    p.nthread = j->threads;
    p.ftype = j->ftype;
    if (g_imatrix) p.imatrix = g_imatrix->data;
    return (int)ref->llama_model_quantize(j->in, j->out, &p);
}

/* Before every timed run, untimed: the run's output is removed, so every run writes a new file as the durable
 * copies do (quantkit's rename onto the previous run's 0.58 GB output freed that file's blocks inside the timed
 * run: 0.2 s of a Q8_0 run in strace; llama-quantize's truncation did the same), and every dirty page on the
 * machine is written back, so a run never pays for the write-back of the run before it (llama-quantize leaves its
 * 0.3-1.1 GB output dirty; the next run's fsync, or a durable copy's sync, would otherwise queue behind it on the
 * same disk). */
static void settle(const char *out) {
    if (out) unlink(out);
    sync();
}

/* One quantization in a child (which: 0 quantkit, 1 llama.cpp): wall time and peak RSS. */
static run_result run_child(int which, const char *in, const char *out, int ftype, int threads) {
    quantize_job j = {which, in, out, ftype, threads};
    settle(out);
    return child_run(quantize_child, &j);
}

typedef struct {
    const char *dir, *out, *type;
    int threads;
} convert_job;

static int convert_child(void *ctx) {
    const convert_job *j = ctx;
    qk_convert_opts o = {0};
    o.type = j->type;
    o.n_threads = j->threads;
    o.output_tensor_type = QK_MIX_TYPE_UNSET;
    qk_convert_report rep;
    qk_err err;
    const int rc = qk_convert_model(j->dir, j->out, &o, &rep, &err);
    if (rc) fprintf(stderr, "convert: %s\n", err.msg);
    return rc;
}

/* Converts the HF folder `dir` straight to `type` in a child. */
static run_result run_convert_child(const char *dir, const char *out, const char *type, int threads) {
    convert_job j = {dir, out, type, threads};
    settle(out);
    return child_run(convert_child, &j);
}

/* Best time of `cp SRC DST && sync DST` (DST removed after each run). */
static double durable_copy(const char *src, const char *dst, int runs) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && sync '%s'", src, dst, dst);
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        settle(NULL);
        const double t0 = qk_now_s();
        const int rc = system(cmd);
        const double t = qk_now_s() - t0;
        unlink(dst);
        if (rc != 0) return -1;
        if (t < best) best = t;
    }
    return best;
}

static bool same_tensor_data(const char *a, const char *b) {
    qk_gguf_file *fa, *fb;
    qk_err err;
    if (qk_gguf_open(a, &fa, &err) || qk_gguf_open(b, &fb, &err)) return false;
    bool same = fa->meta.n_tensors == fb->meta.n_tensors;
    unsigned char *x = malloc(64 << 20), *y = malloc(64 << 20);
    for (uint64_t i = 0; same && i < fa->meta.n_tensors; i++) {
        const qk_gguf_tensor *ta = &fa->meta.tensors[i], *tb = &fb->meta.tensors[i];
        if (ta->nbytes != tb->nbytes || strcmp(ta->name, tb->name)) { same = false; break; }
        for (uint64_t off = 0; same && off < ta->nbytes;) {
            size_t n = ta->nbytes - off < (64u << 20) ? (size_t)(ta->nbytes - off) : (64u << 20);
            qk_gguf_read_tensor(fa, ta, off, x, n, &err);
            qk_gguf_read_tensor(fb, tb, off, y, n, &err);
            same = !memcmp(x, y, n);
            off += n;
        }
    }
    free(x), free(y);
    qk_gguf_close(fa), qk_gguf_close(fb);
    return same;
}

int main(int argc, char **argv) {
    const char *model = NULL, *types = "Q8_0,Q4_0,Q4_K_M";
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), runs = 2;
    bool convert = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) types = argv[++i];
        else if (!strcmp(argv[i], "--convert")) convert = true;
        else {
            fprintf(stderr, "usage: bench_quantize [--model IN.gguf] [--threads N] [--runs N] [--types A,B] [--convert]\n");
            return 2;
        }
    }
    if (!llama_ref_require()) return 1;
    const char *dir = getenv("QK_BENCH_DIR") ? getenv("QK_BENCH_DIR") : qk_test_tmpdir();
    char in[1024], a[1024], b[1024], cp_out[1024];
    if (!model) {
        snprintf(in, sizeof in, "%s/bench-f16.gguf", dir);
        if (access(in, R_OK) != 0) {
            fprintf(stderr, "generating %s (dim 2048, 8 layers, ffn 5632, vocab 32000, F16) ...\n", in);
            tiny_gguf_spec s = {8, 2048, 16, 16, 5632, 32000, 0, false, QK_TYPE_F16, 1};
            if (tiny_gguf_write(in, &s)) return 1;
        }
        model = in;
    }
    snprintf(a, sizeof a, "%s/bench-quantkit.gguf", dir);
    snprintf(b, sizeof b, "%s/bench-llama.gguf", dir);
    snprintf(cp_out, sizeof cp_out, "%s/bench-copy.gguf", dir);
    /* The I/O floor: copying the input. quantkit fsyncs its output before
     * renaming it into place (cp and llama-quantize do not), so a copy that
     * is fsync'd too (`sync FILE`) is the floor for a durable write. */
    char cmd[4200], cmd_sync[4400];
    snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null; cp '%s' '%s'", model, model, cp_out);
    snprintf(cmd_sync, sizeof cmd_sync, "%s && sync '%s'", cmd, cp_out);
    double best_cp = 1e9, best_cps = 1e9;
    for (int r = 0; r < runs; r++) {
        settle(NULL);
        double t0 = qk_now_s();
        if (system(cmd) != 0) return 1;
        double t = qk_now_s() - t0;
        if (t < best_cp) best_cp = t;
        unlink(cp_out);
        settle(NULL);
        t0 = qk_now_s();
        if (system(cmd_sync) != 0) return 1;
        t = qk_now_s() - t0;
        if (t < best_cps) best_cps = t;
        unlink(cp_out);
    }
    printf("input: %s, %d threads, best of %d runs; cp of the input: %.2f s, cp + fsync: %.2f s\n\n", model, threads,
           runs, best_cp, best_cps);
    printf("%-9s %12s %12s %9s %14s %14s %9s %11s %12s %8s  %s\n", "type", "quantkit s", "llama.cpp s", "speedup",
           "quantkit RSS", "llama RSS", "vs cp", "vs cp+sync", "vs out-copy", "eff", "tensor data");
    char list[256], dat[1100];
    snprintf(list, sizeof list, "%s", types);
    snprintf(dat, sizeof dat, "%s/bench-imatrix.dat", dir);
    imatrix_ref imr = {0};
    bool have_imatrix = false;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        const qk_ftype_info *fi = qk_ftype_lookup(tok);
        if (!fi) { fprintf(stderr, "unknown type %s\n", tok); continue; }
        if (qk_mix_ftype_requires_imatrix(fi->ftype) && !have_imatrix) {
            if (imatrix_ref_write(model, dat, 1, &imr)) return 1;
            have_imatrix = true;
        }
        g_imatrix = qk_mix_ftype_requires_imatrix(fi->ftype) ? &imr : NULL;
        run_result q = BENCH_BEST_INIT, l = BENCH_BEST_INIT; /* quantkit, llama.cpp */
        for (int r = 0; r < runs; r++) { /* alternate so noise hits both */
            bench_keep_best(&q, run_child(0, model, a, fi->ftype, threads));
            bench_keep_best(&l, run_child(1, model, b, fi->ftype, threads));
        }
        const bool same = q.ok && l.ok && same_tensor_data(a, b);
        /* the floor for this output: a durable copy of a file of its size */
        const double bq = q.secs, oc = q.ok && l.ok ? durable_copy(a, cp_out, runs) : -1;
        /* parallel efficiency against one thread: T1 / (N x TN) */
        run_result one = BENCH_BEST_INIT;
        for (int r = 0; threads > 1 && r < runs; r++) bench_keep_best(&one, run_child(0, model, a, fi->ftype, 1));
        char eff[16] = "-";
        if (threads > 1) snprintf(eff, sizeof eff, "%.0f%%", 100.0 * one.secs / (threads * bq));
        printf("%-9s %12.2f %12.2f %8.2fx %11.0f MB %11.0f MB %8.2fx %10.2fx %11.2fx %8s  %s\n", fi->name, bq, l.secs,
               l.secs / bq, q.rss_kb / 1024.0, l.rss_kb / 1024.0, bq / best_cp, bq / best_cps, oc > 0 ? bq / oc : 0.0,
               eff, same ? "identical" : "DIFFERENT");
        unlink(a), unlink(b);
    }
    imatrix_ref_free(&imr);
    unlink(dat);
    if (convert) {
        /* The same shape as a BF16 Hugging Face checkpoint (2 shards): convert
         * straight to each type against quantizing the BF16 GGUF of the same
         * weights (convert's own BF16 output, lossless); both in children. */
        char hf[1100], bf16[1100];
        snprintf(hf, sizeof hf, "%s/bench-hf-bf16", dir);
        snprintf(bf16, sizeof bf16, "%s/bench-hf-BF16.gguf", dir);
        tiny_hf_spec s;
        tiny_hf_default(&s);
        s.n_layer = 8, s.n_embd = 2048, s.n_head = 16, s.n_head_kv = 16, s.n_ff = 5632;
        s.dtype = "BF16", s.shards = 2;
        char probe[1200];
        snprintf(probe, sizeof probe, "%s/config.json", hf);
        if (access(probe, R_OK) != 0) {
            fprintf(stderr, "generating %s (dim 2048, 8 layers, ffn 5632, BF16, 2 shards) ...\n", hf);
            if (tiny_hf_write(hf, &s)) return 1;
        }
        run_result base = run_convert_child(hf, bf16, "bf16", threads);
        if (!base.ok) return 1;
        printf("\nconvert of %s straight to TYPE vs quantize of its BF16 GGUF (%.2f s to write it)\n", hf, base.secs);
        printf("%-9s %12s %12s %9s %14s %14s  %s\n", "type", "convert s", "quantize s", "ratio", "convert RSS",
               "quantize RSS", "tensor data");
        snprintf(list, sizeof list, "%s", types);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            const qk_ftype_info *fi = qk_ftype_lookup(tok);
            if (!fi || qk_mix_ftype_requires_imatrix(fi->ftype)) continue; /* convert takes no synthetic imatrix here */
            g_imatrix = NULL;
            run_result c = BENCH_BEST_INIT, q = BENCH_BEST_INIT; /* convert, quantize */
            for (int r = 0; r < runs; r++) {
                bench_keep_best(&c, run_convert_child(hf, a, fi->name, threads));
                bench_keep_best(&q, run_child(0, bf16, b, fi->ftype, threads));
            }
            const bool same = c.ok && q.ok && same_tensor_data(a, b);
            printf("%-9s %12.2f %12.2f %8.2fx %11.0f MB %11.0f MB  %s\n", fi->name, c.secs, q.secs, c.secs / q.secs,
                   c.rss_kb / 1024.0, q.rss_kb / 1024.0, same ? "identical" : "DIFFERENT");
            unlink(a), unlink(b);
        }
        unlink(bf16);
    }
    return 0;
}
