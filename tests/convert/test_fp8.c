/* FP8 checkpoints (quantization_config.quant_method "fp8", F8_E4M3 weights
 * with <weight>_scale_inv): made here from the generated tiny model, block
 * scales of 96 x 80 (partial edge blocks in both directions) and a per-tensor
 * scale, they convert to exactly the GGUF tensors of a float32 twin holding
 * the reference rule's values (convert_hf_to_gguf.py's dequant_simple:
 * e4m3 decoded, times the block's scale, one float32 multiply), q/k head
 * permutation included; the F32 conversion decodes in llama.cpp. Other
 * methods are refused by name (GPTQ: test_gptq.c). */
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "convert_model.h"
#include "convert_run.h"
#include "gguf.h"
#include "gguf_compare.h"
#include "hf_checkpoint.h"
#include "llama_run.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "st_write.h"
#include "tiny_hf.h"

/* E4M3 (fn): 1 sign, 4 exponent bits (bias 7), 3 mantissa bits, no infinities, 0x7f = NaN. */
static float e4m3(uint8_t c) {
    const int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
    float v = e ? ldexpf(1.0f + (float)m / 8.0f, e - 7) : ldexpf((float)m / 8.0f, -6);
    return s ? -v : v;
}
static uint8_t to_e4m3(float x) { /* nearest code (ties: lower code), magnitude <= 448 */
    static float tab[0x7f];
    if (tab[1] == 0)
        for (int c = 0; c < 0x7f; c++) tab[c] = e4m3((uint8_t)c);
    uint8_t best = 0;
    float bd = INFINITY;
    for (int c = 0; c < 0x7f; c++) {
        float d = fabsf(fabsf(x) - tab[c]);
        if (d < bd) bd = d, best = (uint8_t)c;
    }
    return x < 0 ? (uint8_t)(best | 0x80) : best;
}

/* Writes the FP8 folder and its float32 twin from the F32 tiny model in src. br/bc: block (0: per tensor). */
static int make_pair(const char *src, const char *fp8, const char *twin, int64_t br, int64_t bc) {
    char qj[200];
    if (br) snprintf(qj, sizeof qj, "{\"quant_method\":\"fp8\",\"activation_scheme\":\"dynamic\",\"weight_block_size\":[%lld,%lld]}",
                     (long long)br, (long long)bc);
    else snprintf(qj, sizeof qj, "{\"quant_method\":\"fp8\",\"activation_scheme\":\"static\"}");
    st_item *b;
    size_t n;
    if (st_pair_begin(src, fp8, twin, qj, &b, &n)) return -1;
    st_item *a = calloc(3 * n, sizeof *a);
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        const st_item *t = &b[i];
        const size_t ne = t->nbytes / 4;
        float *w = t->data;
        if (!st_item_is_linear(t)) {
            a[na++] = st_item_dup(t);
            continue;
        }
        const int64_t R = t->shape[0], C = t->shape[1];
        const int64_t bR = br ? br : R, bC = br ? bc : C;
        const int64_t nbr = (R + bR - 1) / bR, nbc = (C + bC - 1) / bC;
        uint8_t *q = malloc(ne);
        float *sc = malloc((size_t)(nbr * nbc) * 4);
        for (int64_t x = 0; x < nbr; x++)
            for (int64_t y = 0; y < nbc; y++) {
                float amax = 0;
                for (int64_t r = x * bR; r < R && r < (x + 1) * bR; r++)
                    for (int64_t c = y * bC; c < C && c < (y + 1) * bC; c++) amax = fmaxf(amax, fabsf(w[r * C + c]));
                const float s = amax > 0 ? amax / 448.0f : 1.0f;
                sc[x * nbc + y] = s;
                for (int64_t r = x * bR; r < R && r < (x + 1) * bR; r++)
                    for (int64_t c = y * bC; c < C && c < (y + 1) * bC; c++) {
                        q[r * C + c] = to_e4m3(w[r * C + c] / s);
                        w[r * C + c] = e4m3(q[r * C + c]) * s; /* the reference rule: weight.float() * scale */
                    }
            }
        a[na] = b[i], a[na].dtype = "F8_E4M3", a[na].data = q, a[na].nbytes = ne, na++;
        a[na] = (st_item){.dtype = "F32", .nd = br ? 2 : 0, .shape = {nbr, nbc}, .data = sc, .nbytes = (size_t)(nbr * nbc) * 4};
        snprintf(a[na].name, sizeof a[na].name, "%s_scale_inv", t->name), na++;
        if (!br) { /* an unused activation scale, as static-scheme releases carry */
            float *as = malloc(4);
            *as = 0.5f;
            a[na] = (st_item){.dtype = "F32", .nd = 0, .data = as, .nbytes = 4};
            snprintf(a[na].name, sizeof a[na].name, "%.*s.activation_scale", (int)(strlen(t->name) - 7), t->name), na++;
        }
    }
    return st_write_pair(fp8, a, na, twin, b, n);
}

/* Same tensors (names, types, shapes, bytes) in both GGUFs. */
static void same_tensors(const char *a, const char *b) { CHECK_MSG(gguf_same_tensors(a, b, b), "%s vs %s", a, b); }

static void fp8_case(const char *tag, const char *arch, int64_t br, int64_t bc) {
    char src[1024], fp8[1024], twin[1024];
    snprintf(src, sizeof src, "%s/%s-src", qk_test_tmpdir(), tag);
    snprintf(fp8, sizeof fp8, "%s/%s-fp8", qk_test_tmpdir(), tag);
    snprintf(twin, sizeof twin, "%s/%s-twin", qk_test_tmpdir(), tag);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    if (arch) s.arch = arch;
    CHECK(tiny_hf_write(src, &s) == 0);
    CHECK(make_pair(src, fp8, twin, br, bc) == 0);
    static const char *const types[] = {"f32", "q8_0"};
    for (int k = 0; k < 2; k++) {
        char g1[1200], g2[1200];
        snprintf(g1, sizeof g1, "%s/%s-fp8-%s.gguf", qk_test_tmpdir(), tag, types[k]);
        snprintf(g2, sizeof g2, "%s/%s-twin-%s.gguf", qk_test_tmpdir(), tag, types[k]);
        qk_err err = {{0}};
        CHECK_MSG(convert_run(fp8, g1, types[k], 2, &err) == QK_OK, "%s: %s", tag, err.msg);
        CHECK_MSG(convert_run(twin, g2, types[k], 2, &err) == QK_OK, "%s: %s", tag, err.msg);
        same_tensors(g1, g2);
        if (k == 0) CHECK_MSG(llama_run_decodes(g1), "%s", llama_run_error()); /* loads and decodes in llama.cpp */
    }
}

static void test_fp8_blocks(void) { fp8_case("blk", NULL, 96, 80); }
static void test_fp8_per_tensor(void) { fp8_case("tensor", NULL, 0, 0); }
/* Qwen3-30B-A3B-FP8's layout: every expert's projections FP8 with their own
 * 128 x 128-style block scales (here 96 x 80), stacked into 3-D tensors. */
static void test_fp8_moe_experts(void) { fp8_case("moe", "qwen3moe", 96, 80); }

/* A method quantkit does not dequantize is refused by name; a scale of the wrong shape too. */
static void test_refusals(void) {
    char src[1024];
    tiny_hf_tmp(src, sizeof src, "ref-src");
    refusal_quant_table("test_fp8", "ref", src);
    /* blocks declared 64 x 64 but scales made for 96 x 80 */
    char fp8[1024], twin[1024];
    snprintf(fp8, sizeof fp8, "%s/ref-shape-fp8", qk_test_tmpdir());
    snprintf(twin, sizeof twin, "%s/ref-shape-twin", qk_test_tmpdir());
    CHECK(make_pair(src, fp8, twin, 96, 80) == 0);
    convert_edit_config(fp8, "quantization_config", "{\"quant_method\":\"fp8\",\"weight_block_size\":[64,64]}");
    qk_err err = {{0}};
    char g[1200];
    snprintf(g, sizeof g, "%s/out.gguf", fp8);
    CHECK(convert_run(fp8, g, "f16", 2, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "blocks of 64 x 64");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_fp8_blocks);
    RUN(test_fp8_per_tensor);
    RUN(test_fp8_moe_experts);
    RUN(test_refusals);
    return qk_test_summary();
}
