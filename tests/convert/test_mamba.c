/* The attention-free Mamba families end to end against the real llama.cpp, beyond the models test_convert's family
 * table checks against transformers' forward passes (Mamba-2 with one group, Mamba-1, Falcon Mamba):
 *   - Mamba-2 with two groups: llama.cpp normalizes the gated SSM output per group (as mamba_ssm does),
 *     transformers' torch path over the whole inner size. The F32 / F16 / Q8_0 files equal the reference computing
 *     the grouped norm ("mamba2:grouped"), so every tensor is where the graph reads it; the exact transformers
 *     model is measurably farther; the registry's caveat says so in the plan for two groups and not for one;
 *   - Falcon Mamba with the release's mixer_rms_eps (1e-6): llama.cpp uses layer_norm_epsilon for the dt / B / C
 *     norms; the caveat is in the plan, and the measured difference stays small;
 *   - Jamba (Mamba-1 with dt / B / C norms, attention without rope, experts every other layer): F32 (K / V in
 *     F32), F16 and Q8_0 against transformers' JambaForCausalLM, the quantized types where the routing has a
 *     margin; JambaModel's KVs (head_count_kv per layer);
 *   - the KVs MambaModel / Mamba2Model write, read back by llama.cpp; mamba_ssm's config names (d_model, n_layer)
 *     give the same tensors as transformers';
 *   - what is refused: configs the converter asserts on or would read otherwise than transformers, projection
 *     biases llama.cpp's graphs have no place for, a clamped time step, and folders without a tokenizer it reads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_model.h"
#include "convert_plan.h"
#include "convert_run.h"
#include "convert_variant.h"
#include "gguf_compare.h"
#include "hf_forward.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "logit_ref_as.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf.h"

static void spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 2, s->n_embd = 64, s->tied = true;
}

static void jamba_spec(tiny_hf_spec *s, const char *arch) {
    spec(s, arch);
    s->n_layer = 4, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 64, s->tied = false;
}

static void grouped_dir(char *dir, size_t n) {
    snprintf(dir, n, "%s/tiny-mamba2g/hf", qk_test_tmpdir());
    tiny_hf_spec s;
    spec(&s, "mamba2g");
    CHECK(tiny_hf_write(dir, &s) == 0);
}

static void test_grouped_is_llamacpps(void) {
    char dir[700];
    grouped_dir(dir, sizeof dir);
    logit_ref want, exact;
    if (logit_ref_hf_as(&want, dir, "mamba2:grouped", "mamba2")) return;
    if (logit_ref_hf_as(&exact, dir, "mamba2", "mamba2")) {
        logit_ref_free(&want);
        return;
    }
    static const struct { const char *type; double tol; } cases[] = {{"f32", 1e-3}, {"f16", 0.01}, {"q8_0", 0.05}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        llama_run_model *m =
            logit_check_as(&want, dir, "mamba2g", "mamba2, 2 groups (grouped norm)", cases[c].type, cases[c].tol);
        if (!m) continue;
        if (c == 0) { /* Mamba2Model.set_gguf_parameters */
            static const char *kv[][2] = {
                {"context_length", "1048576"}, {"embedding_length", "64"}, {"feed_forward_length", "0"},
                {"attention.head_count", "0"}, {"block_count", "2"}, {"ssm.conv_kernel", "4"},
                {"ssm.inner_size", "128"}, {"ssm.state_size", "16"}, {"ssm.time_step_rank", "8"},
                {"ssm.group_count", "2"},
            };
            convert_check_arch_kvs(m, "mamba2", kv, sizeof kv / sizeof kv[0]);
            /* the exact transformers model is farther from these logits than any conversion tolerance */
            const double e = logit_model_distance(&exact, m);
            fprintf(stderr, "tiny mamba2 (2 groups): llama.cpp (F32 file) vs transformers' whole-d_inner norm: %.4f "
                            "of the largest logit\n", e);
            CHECK_MSG(e > 0.01, "llama.cpp computes transformers' norm (%.4f): the caveat is stale", e);
        }
        llama_run_free(m);
    }
    logit_ref_free(&want);
    logit_ref_free(&exact);
}

static void test_caveat_in_plan(void) {
    char dir[700], one[700];
    grouped_dir(dir, sizeof dir);
    snprintf(one, sizeof one, "%s/tiny-mamba2-one/hf", qk_test_tmpdir());
    tiny_hf_spec s;
    spec(&s, "mamba2");
    CHECK(tiny_hf_write(one, &s) == 0);
    static const char *const grouped[] = {"n_groups > 1", "per group"};
    convert_check_caveat(dir, NULL, grouped, 2);
    convert_check_caveat(one, "mamba2", NULL, 0); /* one group: every implementation computes the same */
}

/* Falcon Mamba as released (mixer_rms_eps 1e-6): the caveat, and how far llama.cpp is from the model */
static void test_falcon_mamba_eps(void) {
    char dir[700], same[700], out[800];
    snprintf(dir, sizeof dir, "%s/tiny-falconmamba7b/hf", qk_test_tmpdir());
    snprintf(same, sizeof same, "%s/tiny-falconmamba-eps/hf", qk_test_tmpdir());
    tiny_hf_spec s;
    spec(&s, "falconmamba7b");
    s.tied = false;
    CHECK(tiny_hf_write(dir, &s) == 0);
    s.arch = "falconmamba";
    CHECK(tiny_hf_write(same, &s) == 0);
    static const char *const eps[] = {"mixer_rms_eps", "layer_norm_epsilon"};
    convert_check_caveat(dir, NULL, eps, 2);
    convert_check_caveat(same, NULL, NULL, 0); /* equal epsilons */
    logit_ref want;
    if (logit_ref_hf(&want, dir)) return;
    snprintf(out, sizeof out, "%s/tiny-falconmamba7b.gguf", qk_test_tmpdir());
    llama_run_model *m = logit_convert_load(dir, out, "f32", &want);
    if (m) {
        const double e = logit_ref_compare(&want, m, 1, 0, 0.01, "falcon mamba, the release's epsilons, f32");
        /* the caveat is real (exact epsilons give 0.0000 in test_convert) but small */
        CHECK_MSG(e > 1e-5, "llama.cpp matches mixer_rms_eps 1e-6 exactly (%.2e): is the caveat stale?", e);
        static const char *kv[][2] = {{"ssm.dt_b_c_rms", "true"}, {"ssm.time_step_rank", "4"},
                                      {"ssm.inner_size", "128"}, {"ssm.state_size", "16"}, {"ssm.conv_kernel", "4"},
                                      {"attention.head_count", "0"}, {"context_length", "1048576"}};
        convert_check_arch_kvs(m, "mamba", kv, sizeof kv / sizeof kv[0]);
        llama_run_free(m);
    }
    logit_ref_free(&want);
}

/* mamba_ssm's config (MambaLMHeadModel, d_model and n_layer): the same tensors as transformers' names give, and
 * plain Mamba's dt_b_c_rms false */
static void test_mamba_ssm_config(void) {
    convert_variant v;
    if (convert_variant_start(&v, "tiny-mamba-ssm", spec, "mamba", "q8_0", 2)) return;
    convert_edit_file(v.config, "\"MambaForCausalLM\"", "\"MambaLMHeadModel\"");
    convert_edit_file(v.config, "\"hidden_size\"", "\"d_model\"");
    convert_edit_file(v.config, "\"num_hidden_layers\"", "\"num_layers_unused\"");
    if (convert_variant_converts(&v)) return;
    CHECK(gguf_same_tensors(v.a, v.b, "mamba_ssm's config vs transformers'"));
    llama_run_model *m = llama_run_load(v.b, false);
    if (m) {
        static const char *kv[][2] = {{"ssm.dt_b_c_rms", "false"}, {"embedding_length", "64"}, {"block_count", "2"}};
        convert_check_arch_kvs(m, "mamba", kv, sizeof kv / sizeof kv[0]);
        llama_run_free(m);
    }
}

static void test_jamba(void) {
    char dir[700];
    tiny_hf_spec s;
    jamba_spec(&s, "jamba");
    logit_ref want;
    if (logit_ref_tiny(&want, &s, dir, sizeof dir)) return;
    logit_ref_check_margins(&want, 0.02, "jamba");
    /* Q8_0: 0.03-0.076 at every position, routing margins large or small (F16 0.0026): the rounding of x_proj
     * carried through the dt / B / C norms and the scan, not the routing; test_moe_quantize proves quantkit
     * quantizes Jamba's tensors as llama_model_quantize does */
    static const struct { const char *type; double tol; } cases[] = {{"f32", 1e-4}, {"f16", 0.01}, {"q8_0", 0.1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        llama_run_model *m = logit_check_type(&want, dir, "jamba", cases[c].type, cases[c].tol, 0.02, NULL);
        if (!m) continue;
        if (c == 0) {
            static const char *kv[][2] = {
                {"block_count", "4"}, {"context_length", "262144"}, {"feed_forward_length", "64"},
                {"attention.head_count", "4"},
                {"ssm.conv_kernel", "4"}, {"ssm.inner_size", "128"}, {"ssm.state_size", "16"},
                {"ssm.time_step_rank", "8"}, {"expert_count", "4"}, {"expert_used_count", "2"},
            };
            convert_check_arch_kvs(m, "jamba", kv, sizeof kv / sizeof kv[0]);
        }
        llama_run_free(m);
    }
    logit_ref_free(&want);
    refusal_edit_table("test_mamba", "bad-jamba", jamba_spec);
}

static void test_bad_input(void) {
    refusal_edit_table("test_mamba", "bad-mamba2", spec);
    refusal_edit_table("test_mamba", "bad-mamba1", spec);
}

/* the tokenizer Mamba2Model.set_vocab reads: tokenizer.model, else tokenizer.json; a v3 SentencePiece file it asks
 * to have renamed, and nothing at all it would replace by gguf-py's GPT-NeoX vocabulary */
static void test_tokenizer_refusals(void) {
    char dir[700], p[900], q[900];
    snprintf(dir, sizeof dir, "%s/mamba2-tok/hf", qk_test_tmpdir());
    tiny_hf_spec s;
    spec(&s, "mamba2");
    CHECK(tiny_hf_write(dir, &s) == 0);
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    snprintf(q, sizeof q, "%s/tokenizer.model.v3", dir);
    CHECK(rename(p, q) == 0);
    convert_expect_refusal(dir, "the tokenizer is tokenizer.model.v3: rename it to tokenizer.model");
    CHECK(remove(q) == 0);
    convert_expect_refusal(dir, "no tokenizer.model or tokenizer.json: llama.cpp's converter would fall back to its "
                                "built-in GPT-NeoX vocabulary");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    llama_ref_init_backend();
    RUN(test_caveat_in_plan);
    RUN(test_grouped_is_llamacpps);
    RUN(test_falcon_mamba_eps);
    RUN(test_mamba_ssm_config);
    RUN(test_jamba);
    RUN(test_bad_input);
    RUN(test_tokenizer_refusals);
    return qk_test_summary();
}
