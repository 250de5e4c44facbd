/* bench_kernels - single-threaded quantization throughput per type and ISA
 * variant, in GB/s of float32 input, next to the pinned ggml's
 * ggml_quantize_chunk on the same data and a memcpy of the same input bytes.
 * Every type in the kernel table is measured (K-quants appear once added).
 * Each figure is the best of a few repetitions.
 * Usage: bench_kernels [n_floats (default 4194304)] [repetitions (default 5)] [imatrix]
 * With "imatrix" both sides get the same importance matrix (the quantizers'
 * imatrix paths; types that ignore it measure as without). Types ggml refuses
 * to quantize without one (ggml_quantize_requires_imatrix: IQ2_XXS, IQ2_XS,
 * IQ1_S, IQ1_M) always get it, on both sides, and their rows say "(imatrix)". */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "llama_ref.h"
#include "quant_inputs.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef size_t (*run_fn)(const void *ctx, const float *x, void *y, int64_t nrows, int64_t n);

static const qk_kernel *g_k;
static const llama_ref *g_r;
static int g_type;
static const float *g_imatrix;

static size_t run_ours(const void *ctx, const float *x, void *y, int64_t nrows, int64_t n) {
    (void)ctx;
    return g_k->quantize(x, y, nrows, n, g_imatrix);
}
static size_t run_ggml(const void *ctx, const float *x, void *y, int64_t nrows, int64_t n) {
    (void)ctx;
    return g_r->ggml_quantize_chunk(g_type, x, y, 0, nrows, n, g_imatrix);
}
static size_t run_memcpy(const void *ctx, const float *x, void *y, int64_t nrows, int64_t n) {
    (void)ctx;
    memcpy(y, x, sizeof(float) * (size_t)(nrows * n));
    return 0;
}

/* Best GB/s (input bytes) over reps runs; stops early past ~2 s. */
static double measure(run_fn f, const float *x, void *y, int64_t nrows, int64_t n, int reps) {
    double best = 0;
    const double start = now();
    for (int i = 0; i < reps; i++) {
        const double t0 = now();
        f(NULL, x, y, nrows, n);
        const double dt = now() - t0;
        const double gbs = (double)(nrows * n) * 4 / dt / 1e9;
        if (gbs > best) best = gbs;
        if (now() - start > 2.0 && i >= 1) break;
    }
    return best;
}

int main(int argc, char **argv) {
    int64_t total = argc > 1 ? atoll(argv[1]) : 4194304;
    const int reps = argc > 2 ? atoi(argv[2]) : 5;
    const int64_t n = 4096;
    if (total < n) total = n;
    const int64_t nrows = total / n;
    float *x = malloc(sizeof(float) * (size_t)(nrows * n));
    void *y = malloc(sizeof(float) * (size_t)(nrows * n)); /* >= every quantized size */
    if (!x || !y) return 1;
    qk_quant_input(QI_GAUSS, 1, x, nrows * n);
    const bool use_imatrix = argc > 3 && strcmp(argv[3], "imatrix") == 0;
    float *imatrix = malloc(sizeof(float) * (size_t)n);
    if (!imatrix) return 1;
    qk_quant_imatrix(7, imatrix, n);
    memset(y, 0, sizeof(float) * (size_t)(nrows * n));
    g_r = llama_ref_get();
    if (!g_r) fprintf(stderr, "note: llama.cpp reference not loaded (%s); ggml column skipped\n", llama_ref_error());

    const double mc = measure(run_memcpy, x, y, nrows, n, reps);
    printf("input: %" PRId64 " rows x %" PRId64 " floats (%.1f MB), best of %d, single thread%s\n", nrows, n,
           (double)(nrows * n) * 4 / 1e6, reps, use_imatrix ? ", with an imatrix" : "");
    printf("memcpy of the same bytes: %.2f GB/s\n\n", mc);
    printf("%-8s %-7s %9s %9s %9s %10s\n", "type", "isa", "GB/s", "ggml GB/s", "vs ggml", "vs memcpy");

    qk_type types[QK_TYPE_COUNT];
    qk_isa isas[QK_ISA_COUNT];
    const int nt = qk_kernel_types(types), ni = qk_isa_list_available(isas);
    for (int ti = 0; ti < nt; ti++) {
        g_type = (int)types[ti];
        const bool forced = !use_imatrix && g_r && g_r->ggml_quantize_requires_imatrix &&
                            g_r->ggml_quantize_requires_imatrix(g_type);
        g_imatrix = use_imatrix || forced ? imatrix : NULL;
        const double gg = g_r ? measure(run_ggml, x, y, nrows, n, reps) : 0;
        for (int ii = 0; ii < ni; ii++) {
            g_k = qk_kernel_get(types[ti], isas[ii]);
            if (!g_k || (ii > 0 && g_k->isa == QK_ISA_SCALAR)) continue; /* no SIMD variant */
            const double ours = measure(run_ours, x, y, nrows, n, reps);
            printf("%-8s %-7s %9.3f %9.3f %8.2fx %9.3fx%s\n", qk_type_get(types[ti])->name, qk_isa_name(isas[ii]),
                   ours, gg, gg > 0 ? ours / gg : 0.0, ours / mc, forced ? "  (imatrix)" : "");
        }
    }
    free(x);
    free(y);
    free(imatrix);
    return 0;
}
