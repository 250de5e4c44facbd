/* Phi-3.5-MoE (PhiMoEForCausalLM -> phimoe) end to end against the real
 * llama.cpp. llama.cpp's phimoe graph does not compute the Hugging Face
 * model: it RMS-normalises where PhiMoE has LayerNorms, routes by a softmax
 * over every expert with the top 2 renormalised where PhiMoE has SparseMixer,
 * and scales long-rope by the converter's factor instead of short_mscale. The
 * converter writes the file all the same, and so does quantkit, saying so
 * (the registry's caveat). What can be proven:
 *   - the conversion: llama.cpp's logits on the F32 / F16 / Q8_0 files equal
 *     the reference forward pass computing those three things as llama.cpp
 *     does (hf_forward's "phimoe:llama.cpp"), so every tensor is where the
 *     graph reads it, with the checkpoint's values;
 *   - the caveat: the exact HF model (hf_forward's "phimoe") is measurably
 *     farther from llama.cpp than any conversion tolerance;
 *   - the caveat reaches the plan (convert's report, a dry run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_model.h"
#include "convert_plan.h"
#include "convert_run.h"
#include "hf_forward.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "logit_ref_as.h"
#include "qk_test.h"
#include "tiny_hf.h"

static void phimoe_dir(char *dir, size_t n) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "phimoe", s.n_layer = 2, s.n_embd = 256, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 128;
    convert_write_tiny(dir, n, "tiny-phimoe", &s);
}

static void test_conversion_is_llamacpps(void) {
    char dir[700];
    phimoe_dir(dir, sizeof dir);
    logit_ref want;
    if (logit_ref_hf_as(&want, dir, "phimoe:llama.cpp", "phimoe")) return;
    static const struct { const char *type; double tol; } cases[] = {{"f32", 1e-3}, {"f16", 0.01}, {"q8_0", 0.03}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        llama_run_model *m = logit_check_as(&want, dir, "phimoe", "phimoe (as llama.cpp)", cases[c].type, cases[c].tol);
        if (!m) continue;
        char v[64];
        if (c == 0) { /* PhiMoeModel's KVs on top of Phi3MiniModel's */
            CHECK(llama_run_meta(m, "phimoe.expert_count", v, sizeof v) && !strcmp(v, "4"));
            CHECK(llama_run_meta(m, "phimoe.expert_used_count", v, sizeof v) && !strcmp(v, "2"));
            CHECK(llama_run_meta(m, "phimoe.rope.scaling.attn_factor", v, sizeof v));
        }
        llama_run_free(m);
    }
    logit_ref_free(&want);
}

/* Each of llama.cpp's three differences, and all of them, against the F32 file: the exact model is far off */
static void test_caveat_is_real(void) {
    char dir[700], out[800];
    phimoe_dir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/tiny-phimoe-exact.gguf", qk_test_tmpdir());
    logit_ref as_llama, exact;
    if (logit_ref_hf_as(&as_llama, dir, "phimoe:llama.cpp", "phimoe")) return;
    if (logit_ref_hf_as(&exact, dir, "phimoe", "phimoe")) {
        logit_ref_free(&as_llama);
        return;
    }
    const size_t nv = (size_t)exact.nv;
    double d = 0;
    for (int p = 0; p < LOGIT_NP; p++)
        d = fmax(d, hf_rel_err(exact.want + p * nv, as_llama.want + p * nv, nv));
    fprintf(stderr, "tiny phimoe: the HF model vs llama.cpp's graph of the same weights: max logit difference %.4f "
                    "of the largest logit\n", d);
    /* over three times the Q8_0 tolerance (0.20 here): the three differences are not rounding */
    CHECK_MSG(d > 0.1, "the HF model and llama.cpp's phimoe graph differ by only %.4f: is the caveat stale?", d);
    llama_run_model *m = logit_convert_load(dir, out, "f32", &exact);
    if (m) {
        const double e = logit_model_distance(&exact, m);
        fprintf(stderr, "tiny phimoe: llama.cpp (F32 file) vs the HF model: %.4f\n", e);
        CHECK_MSG(e > 0.1, "llama.cpp computes the HF model (%.4f): the caveat is stale", e);
        llama_run_free(m);
    }
    logit_ref_free(&as_llama);
    logit_ref_free(&exact);
}

static void test_caveat_in_plan(void) {
    char dir[700];
    phimoe_dir(dir, sizeof dir);
    static const char *const differences[] = {"SparseMixer", "LayerNorm"};
    convert_check_caveat(dir, "phimoe", differences, 2);
    /* a dense family carries none */
    tiny_hf_spec s;
    tiny_hf_default(&s);
    char llama[700];
    snprintf(llama, sizeof llama, "%s/tiny-phimoe-llama/hf", qk_test_tmpdir());
    CHECK(tiny_hf_write(llama, &s) == 0);
    convert_check_caveat(llama, NULL, NULL, 0);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    llama_ref_init_backend();
    RUN(test_caveat_in_plan);
    RUN(test_conversion_is_llamacpps);
    RUN(test_caveat_is_real);
    return qk_test_summary();
}
