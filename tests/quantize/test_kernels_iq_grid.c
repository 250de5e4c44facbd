/* The lattice (grid) kernels IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S,
 * IQ1_M against the real ggml:
 *  - every grid point of quantize/kernels/iq_grids.c equals the pinned
 *    build's, read back through ggml's to_float from blocks that select it;
 *  - for every type, with and without an importance matrix, every edge-case
 *    input of kernel_cases.h the reference accepts, and rows of 1, 2, 3 and
 *    16 super-blocks (3 rows each): our bytes == ggml_quantize_chunk's, and
 *    our dequantization == ggml's to_float of them;
 *  - where ggml requires an imatrix (ggml_quantize_requires_imatrix) our
 *    kernel refuses too (returns 0, writes nothing);
 *  - the inputs ggml aborts on (NaN/inf reach its GGML_ASSERTs in the grid
 *    searches) are not compared, but our kernels must return them whole;
 *  - the lazy table build is safe when many threads start at once;
 *  - parts avx2, avx512, neon: the same comparison with ggml for that ISA's
 *    variants (skipped where the CPU lacks it).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_blocks.h"
#include "ggml_types.h"
#include "iq_grids.h"
#include "kernel_cases.h"
#include "kernel_vs_ggml.h"
#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "quant_inputs.h"

static const qk_type k_types[] = {QK_TYPE_IQ2_XXS, QK_TYPE_IQ2_XS, QK_TYPE_IQ2_S, QK_TYPE_IQ3_XXS,
                                  QK_TYPE_IQ3_S,   QK_TYPE_IQ1_S,  QK_TYPE_IQ1_M};
#define N_TYPES (sizeof k_types / sizeof k_types[0])
enum { NROWS = 3 };

/* Inputs ggml's grid searches abort on (GGML_ASSERT: no finite distance,
 * or a level vector off the grid). Found by running every type x case x
 * imatrix in a child process of the reference (once, by hand): "huge",
 * "nan_inf_mix" and "inf_blocks" abort for nearly every type, "nan_scatter"
 * and "inf_scatter" for most; where one survives its bytes come from ggml's
 * uninitialized or NaN-ordered state, so no non-finite case is compared. */
static bool reference_aborts(const char *case_name) {
    return strstr(case_name, "nan") || strstr(case_name, "inf") || !strcmp(case_name, "huge");
}

/* ---- the grids --------------------------------------------------------- */

/* Builds blocks that select grid points first..first+per_block-1 in order,
 * scale 1 (d = 1.0, sub-scales 0, signs +), and checks ggml's values against
 * our table: value = unit * coordinate (+ offset). */
static int check_grid(const llama_ref *r, qk_type t, int ngrid, int dim) {
    const int per_block = QK_K / dim;
    int bad = 0;
    for (int first = 0; first < ngrid; first += per_block) {
        unsigned char b[256];
        memset(b, 0, sizeof b);
        float unit = 1, offset = 0;
        for (int g = 0; g < per_block; ++g) {
            const int j = first + g;
            switch (t) {
            case QK_TYPE_IQ2_XXS: /* 8 bytes per sub-block: 4 grid bytes, then signs+scale */
                b[2 + 8 * (g / 4) + g % 4] = (unsigned char)j;
                unit = 0.125f;
                break;
            case QK_TYPE_IQ2_XS:
                qk_put_u16(b + 2 + 2 * g, (uint16_t)j);
                unit = 0.125f;
                break;
            case QK_TYPE_IQ2_S:
                b[offsetof(qk_block_iq2_s, qs) + g] = (unsigned char)(j & 255);
                b[offsetof(qk_block_iq2_s, qh) + g / 4] |= (unsigned char)((j >> 8) << 2 * (g % 4));
                unit = 0.125f;
                break;
            case QK_TYPE_IQ3_XXS:
                b[2 + g] = (unsigned char)j;
                unit = 0.25f;
                break;
            case QK_TYPE_IQ3_S:
                b[offsetof(qk_block_iq3_s, qs) + g] = (unsigned char)(j & 255);
                b[offsetof(qk_block_iq3_s, qh) + g / 8] |= (unsigned char)((j >> 8) << (g % 8));
                break;
            case QK_TYPE_IQ1_S: {
                b[offsetof(qk_block_iq1_s, qs) + g] = (unsigned char)(j & 255);
                uint8_t *qh = b + offsetof(qk_block_iq1_s, qh) + 2 * (g / 4);
                qk_put_u16(qh, (uint16_t)(qk_get_u16(qh) | ((j >> 8) << 3 * (g % 4))));
                offset = 0.125f;
                break;
            }
            default:
                return 1;
            }
        }
        qk_put_u16(b, 0x3C00); /* d = 1.0 */
        float y[QK_K];
        r->ggml_get_type_traits((int)t)->to_float(b, y, QK_K);
        for (int g = 0; g < per_block && first + g < ngrid; ++g) {
            const int j = first + g;
            for (int k = 0; k < dim; ++k) {
                float c;
                switch (t) {
                case QK_TYPE_IQ2_XXS: c = (uint8_t)(qk_iq2xxs_grid[j] >> 8 * k); break;
                case QK_TYPE_IQ2_XS: c = (uint8_t)(qk_iq2xs_grid[j] >> 8 * k); break;
                case QK_TYPE_IQ2_S: c = (uint8_t)(qk_iq2s_grid[j] >> 8 * k); break;
                case QK_TYPE_IQ3_XXS: c = (uint8_t)(qk_iq3xxs_grid[j] >> 8 * k); break;
                case QK_TYPE_IQ3_S: c = (uint8_t)(qk_iq3s_grid[j] >> 8 * k); break;
                default: c = (int8_t)(uint8_t)(qk_iq1s_grid[j] >> 8 * k); break;
                }
                if (y[g * dim + k] != unit * (c + offset)) {
                    if (bad++ < 5)
                        fprintf(stderr, "  %s grid point %d coordinate %d: ours %g, ggml %g\n", qk_type_get(t)->name,
                                j, k, (double)(unit * (c + offset)), (double)y[g * dim + k]);
                }
            }
        }
    }
    return bad;
}

static void test_grids_equal_pinned_build(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    CHECK_EQ_INT(check_grid(r, QK_TYPE_IQ2_XXS, 256, 8), 0);
    CHECK_EQ_INT(check_grid(r, QK_TYPE_IQ2_XS, 512, 8), 0);
    CHECK_EQ_INT(check_grid(r, QK_TYPE_IQ2_S, 1024, 8), 0);
    CHECK_EQ_INT(check_grid(r, QK_TYPE_IQ3_XXS, 256, 4), 0);
    CHECK_EQ_INT(check_grid(r, QK_TYPE_IQ3_S, 512, 4), 0);
    CHECK_EQ_INT(check_grid(r, QK_TYPE_IQ1_S, 2048, 8), 0);
    /* the 8th sign bit: even parity, as ksigns_iq2xs */
    for (uint32_t s = 0; s < 128; ++s) {
        int pop = __builtin_popcount(qk_iq_signs8(s));
        CHECK((qk_iq_signs8(s) & 127) == s && pop % 2 == 0);
    }
}

/* ---- the kernels against ggml_quantize_chunk --------------------------- */

static const int64_t k_lens[] = {256, 512, 768, 4096};

static int g_reported;
static qk_isa g_isa = QK_ISA_SCALAR; /* the kernels compared (a part's ISA) */

static void check_type(const llama_ref *r, qk_type t) {
    const qk_kernel *k = qk_kernel_get(t, g_isa);
    const qk_type_info *ti = qk_type_get(t);
    if (!k) { CHECK_MSG(k != NULL, "%s has no kernel", ti->name); return; }
    CHECK_MSG(k->isa == g_isa, "%s has no %s variant", ti->name, qk_isa_name(g_isa));
    const bool needs_im = r->ggml_quantize_requires_imatrix((int)t);
    int compared = 0, bad_q = 0, bad_d = 0, refused_ok = 0, survived = 0;
    for (size_t li = 0; li < sizeof k_lens / sizeof k_lens[0]; li++) {
        const int64_t n = k_lens[li], total = n * NROWS;
        float *x = malloc(sizeof(float) * (size_t)total), *im = malloc(sizeof(float) * (size_t)n);
        const size_t nb = (size_t)(n / QK_K) * ti->type_size * NROWS;
        unsigned char *ours = malloc(nb);
        qk_quant_imatrix((uint64_t)n + 11, im, n);
        for (int c = 0; c < kc_count(); c++) {
            for (int64_t row = 0; row < NROWS; row++) kc_fill(c, (uint64_t)(row * 31 + n + c), x + row * n, n);
            for (int use_im = 0; use_im < 2; use_im++) {
                const float *imx = use_im ? im : NULL;
                if (!imx && needs_im) { /* ggml asserts: we refuse */
                    memset(ours, 0xAA, nb);
                    const size_t a = k->quantize(x, ours, NROWS, n, imx);
                    bool untouched = true;
                    for (size_t i = 0; i < nb; i++) untouched &= ours[i] == 0xAA;
                    CHECK_MSG(a == 0 && untouched, "%s without imatrix must refuse", ti->name);
                    refused_ok += a == 0 && untouched;
                    continue;
                }
                if (reference_aborts(kc_name(c))) {
                    const size_t a = k->quantize(x, ours, NROWS, n, imx);
                    CHECK_MSG(a == nb, "%s %s: returned %zu", ti->name, kc_name(c), a);
                    survived++;
                    continue;
                }
                kvg_result d;
                kvg_compare(r, k, x, NROWS, n, imx, NULL, &d);
                compared++;
                if (d.quant_differs) {
                    bad_q++;
                    if (g_reported++ < 12)
                        fprintf(stderr, "  %s %s imatrix=%d n=%lld: first diff at byte %zu (block %zu, +%zu): %02x vs %02x\n",
                                ti->name, kc_name(c), use_im, (long long)n, d.diff_at, d.diff_at / ti->type_size,
                                d.diff_at % ti->type_size, d.ours_at, d.theirs_at);
                    continue;
                }
                bad_d += d.dequant_differs;
            }
        }
        free(x), free(im), free(ours);
    }
    fprintf(stderr, "  %-7s %-6s %d compared, %d quantize / %d dequantize mismatches; %d refusals, %d non-finite survived\n",
            ti->name, qk_isa_name(g_isa), compared, bad_q, bad_d, refused_ok, survived);
    CHECK_MSG(bad_q == 0, "%s quantize", ti->name);
    CHECK_MSG(bad_d == 0, "%s dequantize", ti->name);
    CHECK(compared >= 4 * 16);
}

static void test_kernels_match_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    for (size_t i = 0; i < N_TYPES; i++) check_type(r, k_types[i]);
}

/* Random block bytes (any scale, index, sign) dequantize as ggml's. */
static void test_dequantize_random_bytes(void) { kvg_check_dequant_random(k_types, N_TYPES, QK_K * 64, 777); }

/* ---- lazy init under concurrency --------------------------------------- */

typedef struct {
    qk_type t;
    const float *x, *im;
    unsigned char out[4 * 110];
} race_job;

static void *race_main(void *p) {
    race_job *j = p;
    qk_kernel_get(j->t, QK_ISA_SCALAR)->quantize(j->x, j->out, 1, 4 * QK_K, j->im);
    return NULL;
}

static void test_lazy_init_concurrent(void) {
    float x[4 * QK_K], im[4 * QK_K];
    qk_quant_input(QI_GAUSS_UNIT, 9, x, 4 * QK_K);
    qk_quant_imatrix(9, im, 4 * QK_K);
    for (size_t i = 0; i < N_TYPES; i++) {
        race_job jobs[4];
        pthread_t th[4];
        for (int t = 0; t < 4; t++) {
            jobs[t] = (race_job){k_types[i], x, im, {0}};
            CHECK(pthread_create(&th[t], NULL, race_main, &jobs[t]) == 0);
        }
        for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
        const size_t bytes = 4 * qk_type_get(k_types[i])->type_size;
        for (int t = 1; t < 4; t++) CHECK(memcmp(jobs[0].out, jobs[t].out, bytes) == 0);
    }
    for (int id = 0; id < QK_LATTICE_COUNT; id++) CHECK(qk_lattice_get((qk_lattice_id)id) != NULL);
    CHECK(qk_lattice_get(QK_LATTICE_COUNT) == NULL);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_lazy_init_concurrent); /* first: the tables are built here */
    RUN(test_grids_equal_pinned_build);
    RUN(test_dequantize_random_bytes);
    RUN(test_kernels_match_ggml);
    KC_RUN_ISA_PARTS(g_isa, KC_TEST(test_kernels_match_ggml));
    return qk_test_summary();
}
