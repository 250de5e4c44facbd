/* The TQ1_0 / TQ2_0 SIMD quantizers (quantize/kernels/x86/tq_body.h) on the
 * inputs their fast path is built around, beyond the generic edge cases of
 * test_kernels_simd_legacy:
 *  - ties: x * id landing exactly on +-0.5 and a few ulps either side, for
 *    many amax (lroundf rounds half away from zero; the kernel compares);
 *  - every base-3 pattern: all 243 five-trit combinations through every qs
 *    byte and all 81 four-trit ones through every qh byte (the packing and
 *    the ceil(q * 256 / 243) division);
 *  - NaN (both signs, payloads) and +-inf at every one of the 256 positions
 *    of a block, before and after its largest |x| (ggml's MAX resets on NaN);
 *  - tiny amax (subnormal, around where 1/amax overflows, FLT_MIN), huge amax
 *    (up to FLT_MAX), all-equal blocks, zeros of both signs;
 * on 1..9 blocks per row, 1 and 3 rows, unaligned source and destination,
 * and row lengths that are not whole blocks (both refuse, writing nothing).
 * Parts "avx2" / "avx512": that ISA's variant == the scalar kernel, byte for
 * byte (skipped where the CPU lacks the ISA). Part "ggml": the scalar kernel
 * and every variant this CPU runs == ggml_quantize_chunk on the same rows. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernel_cases.h"
#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"

enum { TQ_TIES, TQ_PATTERNS, TQ_NAN_INF_AT, TQ_TINY, TQ_HUGE, TQ_EQUAL_ZEROS, TQ_CASES };
static const char *k_case_names[TQ_CASES] = {"ties", "patterns", "nan_inf_at", "tiny", "huge", "equal_zeros"};

/* the kernel's 1/amax, computed the same way */
static float inv(float amax) { return amax ? 1.0f / amax : 0.0f; }

/* x steps of one ulp away from v (k may be negative) */
static float ulps(float v, int k) {
    for (; k > 0; k--) v = nextafterf(v, INFINITY);
    for (; k < 0; k++) v = nextafterf(v, -INFINITY);
    return v;
}

/* A random magnitude spread over many binades, in [lo, hi]. */
static float rand_mag(qk_rng *r, float lo, float hi) {
    const float e = logf(lo) + qk_rng_uniform(r) * (logf(hi) - logf(lo));
    float v = expf(e);
    return v < lo ? lo : v > hi ? hi : v;
}

/* Block b (256 floats at x) of case c. */
static void fill_block(int c, int64_t b, qk_rng *r, float *x) {
    switch (c) {
    case TQ_TIES: {
        /* amax first (its sign varies), then values whose x * id is +-0.5
         * after rounding, and their neighbours */
        const float amax = (b % 5 == 0) ? ldexpf(1.0f, (int)(b % 40) - 20) : rand_mag(r, 1e-30f, 1e30f);
        const float id = inv(amax);
        for (int i = 0; i < 256; i++) {
            const float t = 0.5f / id;
            float v = ulps(t, (int)(qk_rng_next(r) % 7) - 3);
            if (fabsf(v) > amax) v = amax;
            x[i] = (qk_rng_next(r) & 1) ? v : -v;
        }
        x[qk_rng_next(r) % 256] = (b & 1) ? amax : -amax;
        break;
    }
    case TQ_PATTERNS: {
        /* trit t of pattern p at element e: x = (t - 1) * amax, amax = 1 + b */
        const float amax = 1.0f + (float)b;
        static const int pow3[5] = {81, 27, 9, 3, 1};
        /* qs byte m (0..47) holds elements base_m + n * w, n = 0..4 */
        for (int m = 0; m < 48; m++) {
            const int p = (int)((b * 48 + m) % 243);
            const int base = m < 32 ? m : 160 + (m - 32), w = m < 32 ? 32 : 16;
            for (int n = 0; n < 5; n++) x[base + n * w] = (float)((p / pow3[n]) % 3 - 1) * amax;
        }
        /* qh byte j (0..3) holds elements 240 + j + 4k, k = 0..3 */
        for (int j = 0; j < 4; j++) {
            const int p = (int)((b * 4 + j) % 81);
            for (int k = 0; k < 4; k++) x[240 + j + 4 * k] = (float)((p / pow3[k + 1]) % 3 - 1) * amax;
        }
        if (b % 3 == 0) x[b % 256] = amax; /* at least one at +-amax in most blocks */
        break;
    }
    case TQ_NAN_INF_AT: {
        for (int i = 0; i < 256; i++) x[i] = qk_rng_gauss(r);
        const int pos = (int)(b % 256);
        union { uint32_t u; float f; } nan = {0x7fc00000u | (uint32_t)(qk_rng_next(r) & 0x3fffff)};
        const float special[4] = {nan.f, -nan.f, INFINITY, -INFINITY};
        x[pos] = special[(b / 256 + b) % 4];
        x[(pos + 1 + (int)(qk_rng_next(r) % 255)) % 256] = 10.0f; /* the largest |x|, before or after it */
        break;
    }
    case TQ_TINY: {
        /* the largest |x| near where 1/amax overflows (~2.94e-39), a
         * subnormal, FLT_MIN or a denormal-only block */
        static const float amaxes[] = {2.9e-39f, 2.95e-39f, 2.938736e-39f, 1e-40f, 1.4e-45f, FLT_MIN, 1e-37f};
        float amax = amaxes[b % (int64_t)(sizeof amaxes / sizeof amaxes[0])];
        amax = ulps(amax, (int)(qk_rng_next(r) % 5) - 2);
        if (!(amax > 0)) amax = 1.4e-45f;
        for (int i = 0; i < 256; i++) x[i] = (qk_rng_uniform(r) * 2 - 1) * amax;
        x[qk_rng_next(r) % 256] = (b & 1) ? amax : -amax;
        break;
    }
    case TQ_HUGE: {
        const float amax = (b % 3 == 0) ? FLT_MAX : rand_mag(r, 1e30f, FLT_MAX);
        for (int i = 0; i < 256; i++) {
            const float u = qk_rng_uniform(r) * 2 - 1;
            x[i] = (i % 4 == 0) ? ((u > 0) ? 0.5f : -0.5f) * amax : u * amax;
        }
        x[qk_rng_next(r) % 256] = (b & 1) ? amax : -amax;
        break;
    }
    case TQ_EQUAL_ZEROS: {
        const float v = (b % 4 == 0) ? 0.0f : (b % 4 == 1) ? rand_mag(r, 1e-20f, 1e20f) : -rand_mag(r, 1e-20f, 1e20f);
        for (int i = 0; i < 256; i++) x[i] = (b % 4 == 0) ? ((qk_rng_next(r) & 1) ? 0.0f : -0.0f) : v;
        if (b % 8 == 4) x[qk_rng_next(r) % 256] = 1e-3f; /* one nonzero among zeros */
        break;
    }
    default: break;
    }
}

static void fill(int c, uint64_t seed, float *x, int64_t n) {
    qk_rng r = {seed * 0x9E3779B97F4A7C15ULL + (uint64_t)c + 1};
    for (int64_t b = 0; b * 256 < n; b++) fill_block(c, (int64_t)(seed % 1000) * 37 + b, &r, x + b * 256);
}

static const qk_type k_types[] = {QK_TYPE_TQ1_0, QK_TYPE_TQ2_0};
static const int64_t k_blocks[] = {1, 2, 3, 9, 64};
enum { ROWS_MAX = 3, BLOCKS_MAX = 64 };

/* v's bytes == s's on rows*blocks*256 floats (source one float off, destination one byte off). */
static int compare(const qk_kernel *s, const qk_kernel *v, const float *x, int64_t nrows, int64_t n, const char *what) {
    const size_t bytes = (size_t)(nrows * n / 256) * qk_type_get(s->type)->type_size;
    unsigned char *a = malloc(bytes + 1 + 16), *b = malloc(bytes + 1 + 16);
    memset(a, 0x11, bytes + 17), memset(b, 0x11, bytes + 17);
    const size_t ra = s->quantize(x, a + 1, nrows, n, NULL), rb = v->quantize(x, b + 1, nrows, n, NULL);
    int bad = ra != bytes || rb != bytes || memcmp(a, b, bytes + 17) != 0;
    if (bad) {
        size_t off = 0;
        while (off < bytes + 17 && a[off] == b[off]) off++;
        CHECK_MSG(0, "%s/%s %s rows=%" PRId64 " n=%" PRId64 ": returned %zu/%zu, first diff at byte %zu of the padded output",
                  qk_type_get(s->type)->name, qk_isa_name(v->isa), what, nrows, n, ra, rb, off);
    }
    free(a), free(b);
    return bad;
}

static qk_isa g_isa;

static void test_tq_simd_equals_scalar(void) {
    float *buf = malloc(sizeof(float) * (ROWS_MAX * BLOCKS_MAX * 256 + 1)), *x = buf + 1;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const qk_kernel *s = qk_kernel_get(k_types[ti], QK_ISA_SCALAR), *v = qk_kernel_get(k_types[ti], g_isa);
        CHECK(s && v && v->isa == g_isa); /* a real variant, not the scalar fallback */
        if (!s || !v) continue;
        int bad = 0, runs = 0;
        for (int c = 0; c < TQ_CASES; c++) {
            for (size_t bi = 0; bi < sizeof k_blocks / sizeof k_blocks[0]; bi++) {
                for (int64_t rows = 1; rows <= ROWS_MAX; rows += 2) {
                    const int64_t n = k_blocks[bi] * 256;
                    fill(c, (uint64_t)(bi * 10 + (size_t)rows), x, rows * n);
                    bad += compare(s, v, x, rows, n, k_case_names[c]);
                    runs++;
                }
            }
        }
        /* the generic edge cases too, on 64 blocks */
        for (int c = 0; c < kc_count(); c++, runs++) {
            kc_fill(c, 17, x, 64 * 256);
            bad += compare(s, v, x, 1, 64 * 256, kc_name(c));
        }
        /* not whole blocks: both refuse and write nothing */
        const int64_t odd[] = {100, 300, 257};
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            unsigned char out[2 * 66 + 8];
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

/* The scalar kernel and each variant this CPU has against ggml on the same rows. */
static void test_tq_vs_ggml(void) {
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
    if (!r) return;
    float *x = malloc(sizeof(float) * ROWS_MAX * 9 * 256);
    qk_isa isas[QK_ISA_COUNT];
    const int n_isa = qk_isa_list_available(isas);
    int compared = 0;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        for (int ii = 0; ii < n_isa; ii++) {
            const qk_kernel *k = qk_kernel_get(k_types[ti], isas[ii]);
            if (!k || (ii > 0 && k->isa == QK_ISA_SCALAR)) continue;
            int bad = 0;
            for (int c = 0; c < TQ_CASES; c++) {
                for (int64_t blocks = 1; blocks <= 9; blocks += 8) {
                    fill(c, (uint64_t)blocks * 3 + 1, x, ROWS_MAX * blocks * 256);
                    kvg_result d;
                    kvg_compare(r, k, x, ROWS_MAX, blocks * 256, NULL, NULL, &d);
                    if (d.quant_differs) {
                        bad++;
                        CHECK_MSG(0, "%s/%s %s blocks=%" PRId64 ": first diff at byte %zu: %02x vs ggml %02x",
                                  qk_type_get(k_types[ti])->name, qk_isa_name(k->isa), k_case_names[c], blocks,
                                  d.diff_at, d.ours_at, d.theirs_at);
                    }
                }
            }
            compared++;
            fprintf(stderr, "  %-6s %-7s vs ggml: %s\n", qk_type_get(k_types[ti])->name, qk_isa_name(k->isa),
                    bad ? "MISMATCH" : "ok");
        }
    }
    CHECK(compared >= 2);
    free(x);
}

static void run_isa(qk_isa isa) {
    if (!kc_isa_here(isa)) return;
    g_isa = isa;
    RUN(test_tq_simd_equals_scalar);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    if (qk_test_part("avx2")) run_isa(QK_ISA_AVX2);
    if (qk_test_part("avx512")) run_isa(QK_ISA_AVX512);
    if (qk_test_part("ggml")) RUN(test_tq_vs_ggml);
    return qk_test_summary();
}
