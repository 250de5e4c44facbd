/* The Q1_0 / Q2_0 SIMD quantizers (quantize/kernels/q1_q2_body.h) on the
 * inputs their paths are built around, beyond the generic edge cases of
 * test_kernels_simd_legacy (q1_q2_cases.h):
 *  - Q2_0 ties: x * id within ulps of +-0.5, x at +-0.5 * amax, x at amax
 *    and below it (x * id near 1), for many amax; every 4-code pattern
 *    through every byte;
 *  - Q1_0's in-order sum: magnitudes over many binades (any reassociation
 *    shows), and its across-blocks layout: block counts of every residue
 *    modulo the lane counts (4, 8, 16) and the group sizes (8, 16, 32), from
 *    1 block to 130 (NaN/inf at every position of a block), on 1 and 3
 *    rows, where groups span rows;
 *  - NaN (both signs, quiet and signalling, two payloads in a block) and
 *    +-inf at every position; tiny amax (subnormal, around where 1/amax
 *    overflows, FLT_MIN); huge amax (Q1_0's sum overflowing); all-equal
 *    blocks, zeros of both signs;
 * on unaligned source and destination, and row lengths that are not whole
 * blocks (both refuse, writing nothing).
 * Parts "avx2" / "avx512" / "neon": that ISA's variant == the scalar kernel,
 * byte for byte (skipped where the CPU lacks the ISA; NEON runs under qemu in
 * the aarch64 cross build). Against ggml: test_kernels_q1_q2_vs_ggml. */
#include <string.h>

#include "kernel_cases.h"
#include "kernels.h"
#include "q1_q2_cases.h"
#include "qk_test.h"

static const qk_type k_types[] = {QK_TYPE_Q1_0, QK_TYPE_Q2_0};
static const int64_t k_blocks[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 130};
enum { ROWS_MAX = 3, BLOCKS_MAX = 130, QK_MAX = 128 };

/* v's bytes == s's on nrows rows of n floats (source one float off, destination one byte off). */
static int compare(const qk_kernel *s, const qk_kernel *v, const float *x, int64_t nrows, int64_t n, const char *what) {
    const qk_type_info *ti = qk_type_get(s->type);
    const size_t bytes = (size_t)(nrows * n / ti->blck_size) * ti->type_size;
    unsigned char *a = malloc(bytes + 1 + 16), *b = malloc(bytes + 1 + 16);
    memset(a, 0x11, bytes + 17), memset(b, 0x11, bytes + 17);
    const size_t ra = s->quantize(x, a + 1, nrows, n, NULL), rb = v->quantize(x, b + 1, nrows, n, NULL);
    const int bad = ra != bytes || rb != bytes || memcmp(a, b, bytes + 17) != 0;
    if (bad) {
        size_t off = 0;
        while (off < bytes + 17 && a[off] == b[off]) off++;
        CHECK_MSG(0, "%s/%s %s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu, first diff at byte %zu of the padded output",
                  ti->name, qk_isa_name(v->isa), what, nrows, n, ra, rb, off);
    }
    free(a), free(b);
    return bad;
}

static qk_isa g_isa;

static void test_q1_q2_simd_equals_scalar(void) {
    float *buf = malloc(sizeof(float) * (ROWS_MAX * BLOCKS_MAX * QK_MAX + 1)), *x = buf + 1;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const qk_kernel *s = qk_kernel_get(k_types[ti], QK_ISA_SCALAR), *v = qk_kernel_get(k_types[ti], g_isa);
        CHECK(s && v && v->isa == g_isa); /* a real variant, not the scalar fallback */
        if (!s || !v) continue;
        const int qk = (int)qk_type_get(k_types[ti])->blck_size;
        int bad = 0, runs = 0;
        for (int c = 0; c < QQ_CASES; c++) {
            for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++) {
                for (int64_t rows = 1; rows <= ROWS_MAX; rows += 2) {
                    const int64_t n = k_blocks[bi] * qk;
                    fill(c, (uint64_t)(bi * 10 + (size_t)rows), x, rows * n, qk);
                    bad += compare(s, v, x, rows, n, k_case_names[c]);
                    runs++;
                }
            }
        }
        /* the generic edge cases too, on 4096-float rows */
        for (int c = 0; c < kc_count(); c++, runs++) {
            kc_fill(c, 17, x, 3 * 4096);
            bad += compare(s, v, x, 3, 4096, kc_name(c));
        }
        /* not whole blocks: both refuse and write nothing */
        const int64_t odd[] = {100, 300, 257, 96};
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            unsigned char out[2 * 90 + 8];
            memset(out, 0x5a, sizeof out);
            const size_t rs = s->quantize(x, out, 2, odd[i], NULL), rv = v->quantize(x, out, 2, odd[i], NULL);
            size_t touched = 0;
            for (size_t k = 0; k < sizeof out; k++) touched += out[k] != 0x5a;
            CHECK_MSG(rs == 0 && rv == 0 && touched == 0, "%s/%s n=%" PRId64 ": returned %zu/%zu, %zu bytes written",
                      qk_type_get(k_types[ti])->name, qk_isa_name(g_isa), odd[i], rs, rv, touched);
        }
        /* no rows: nothing to write, both return 0 */
        CHECK(s->quantize(x, buf, 0, qk, NULL) == 0 && v->quantize(x, buf, 0, qk, NULL) == 0);
        fprintf(stderr, "  %-6s %-7s %d row sets: %s\n", qk_type_get(k_types[ti])->name, qk_isa_name(g_isa), runs,
                bad ? "MISMATCH" : "ok");
    }
    free(buf);
}

static void run_isa(qk_isa isa) {
    if (!kc_isa_here(isa)) return;
    g_isa = isa;
    RUN(test_q1_q2_simd_equals_scalar);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    if (qk_test_part("avx2")) run_isa(QK_ISA_AVX2);
    if (qk_test_part("avx512")) run_isa(QK_ISA_AVX512);
    if (qk_test_part("neon")) run_isa(QK_ISA_NEON);
    return qk_test_summary();
}
