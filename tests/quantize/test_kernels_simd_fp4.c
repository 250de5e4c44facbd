/* The MXFP4 / NVFP4 SIMD quantizers (quantize/kernels/fp4_body.h) on the
 * inputs their lane search is built around, beyond the generic edge cases of
 * kernel_cases.h (fp4_cases.h has the rows):
 *  - ties: values a few ulps either side of the midpoints between adjacent
 *    lattice points, and exactly on them, for both formats' scales and many
 *    amax (powers of two and their neighbours, where MXFP4's exponent steps);
 *  - exact: values on lattice points (every nibble in every position);
 *  - NaN (quiet with payloads, negative, signalling) and +-inf at every one
 *    of the 64 positions of a chunk, and whole runs of them;
 *  - tiny amax (subnormal: MXFP4's exponent wraps; 2^-125..2^-123: a
 *    subnormal MXFP4 scale; NVFP4's subnormal and zero UE4M3 scales), huge
 *    amax up to FLT_MAX (NVFP4's scale saturates), all-equal blocks, +0/-0;
 * on 1, 2, 3, 9 and 64 blocks per row, 1 and 3 rows, unaligned source and
 * destination, and row lengths that are not whole blocks (both refuse,
 * writing nothing).
 * Parts "avx2" / "avx512" / "neon": that ISA's variant == the scalar kernel,
 * byte for byte (skipped where the CPU lacks the ISA; NEON runs under qemu in
 * the aarch64 cross build). Against ggml: test_kernels_fp4_vs_ggml. */
#include <string.h>

#include "fp4_cases.h"
#include "kernel_cases.h"
#include "kernels.h"
#include "qk_test.h"

static const qk_type k_types[] = {QK_TYPE_MXFP4, QK_TYPE_NVFP4};
static const int64_t k_blocks[] = {1, 2, 3, 9, 64};
enum { ROWS_MAX = 3, BLOCKS_MAX = 64, QK_MAX = 64 };

/* v's bytes == s's on nrows rows of n floats at x (the callers pass x one
 * float off alignment; the destination is one byte off) */
static int compare(const qk_kernel *s, const qk_kernel *v, const float *x, int64_t nrows, int64_t n, const char *what) {
    const qk_type_info *ti = qk_type_get(s->type);
    const size_t bytes = (size_t)(nrows * n / ti->blck_size) * ti->type_size;
    unsigned char *a = malloc(bytes + 17), *b = malloc(bytes + 17);
    memset(a, 0x11, bytes + 17), memset(b, 0x11, bytes + 17);
    const size_t ra = s->quantize(x, a + 1, nrows, n, NULL), rb = v->quantize(x, b + 1, nrows, n, NULL);
    const int bad = ra != bytes || rb != bytes || memcmp(a, b, bytes + 17) != 0;
    if (bad) {
        size_t off = 0;
        while (off < bytes + 17 && a[off] == b[off]) off++;
        CHECK_MSG(0, "%s/%s %s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu, first diff at byte %zu of the padded output (%02x vs %02x)",
                  ti->name, qk_isa_name(v->isa), what, nrows, n, ra, rb, off, off < bytes + 17 ? a[off] : 0,
                  off < bytes + 17 ? b[off] : 0);
    }
    free(a), free(b);
    return bad;
}

static qk_isa g_isa;

static void test_fp4_simd_equals_scalar(void) {
    float *buf = malloc(sizeof(float) * (ROWS_MAX * BLOCKS_MAX * QK_MAX + 1)), *x = buf + 1;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const qk_kernel *s = qk_kernel_get(k_types[ti], QK_ISA_SCALAR), *v = qk_kernel_get(k_types[ti], g_isa);
        CHECK(s && v && v->isa == g_isa); /* a real variant, not the scalar fallback */
        if (!s || !v) continue;
        const int64_t qk = qk_type_get(k_types[ti])->blck_size;
        int bad = 0, runs = 0;
        for (int c = 0; c < FP4_CASES; c++) {
            for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++) {
                for (int64_t rows = 1; rows <= ROWS_MAX; rows += 2) {
                    const int64_t n = k_blocks[bi] * qk;
                    /* NaN/inf must reach all 64 positions: many seeds there */
                    const int seeds = c == FP4_NAN_INF_AT ? 8 : 2;
                    for (int seed = 0; seed < seeds; seed++, runs++) {
                        fill(c, (uint64_t)(bi * 10 + (size_t)rows) + 100 * (uint64_t)seed, x, rows * n);
                        bad += compare(s, v, x, rows, n, k_case_names[c]);
                    }
                }
            }
        }
        /* the generic edge cases too, on 64 blocks */
        for (int c = 0; c < kc_count(); c++, runs++) {
            kc_fill(c, 17, x, 64 * qk);
            bad += compare(s, v, x, 1, 64 * qk, kc_name(c));
        }
        /* not whole blocks: both refuse and write nothing */
        const int64_t odd[] = {16, 48, qk + 1};
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            unsigned char out[4 * 36 + 8];
            memset(out, 0x5a, sizeof out);
            const size_t rs = s->quantize(x, out, 2, odd[i], NULL), rv = v->quantize(x, out, 2, odd[i], NULL);
            size_t touched = 0;
            for (size_t k = 0; k < sizeof out; k++) touched += out[k] != 0x5a;
            CHECK_MSG(rs == 0 && rv == 0 && touched == 0, "%s/%s n=%" PRId64 ": returned %zu/%zu, %zu bytes written",
                      qk_type_get(k_types[ti])->name, qk_isa_name(g_isa), odd[i], rs, rv, touched);
        }
        fprintf(stderr, "  %-6s %-7s %d row sets: %s\n", qk_type_get(k_types[ti])->name, qk_isa_name(g_isa), runs,
                bad ? "MISMATCH" : "ok");
    }
    free(buf);
}

static void run_isa(qk_isa isa) {
    if (!kc_isa_here(isa)) return;
    g_isa = isa;
    RUN(test_fp4_simd_equals_scalar);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    if (qk_test_part("avx2")) run_isa(QK_ISA_AVX2);
    if (qk_test_part("avx512")) run_isa(QK_ISA_AVX512);
    if (qk_test_part("neon")) run_isa(QK_ISA_NEON);
    return qk_test_summary();
}
