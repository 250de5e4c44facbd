/* Falcon-H1 end to end against the real llama.cpp: tiny checkpoints in the published FalconH1ForCausalLM layout
 * (tiny_hf_falconh1.c: attention with rope and a Mamba-2 mixer side by side in every layer, the 0.5B release's muP
 * multipliers; without the mixer norm as Falcon-H1-0.5B, with it over 2 groups as the larger releases), in BF16 as
 * released and in F32, converted to F32, F16 and Q8_0 files that llama.cpp loads as "falcon-h1" and runs to the logits
 * of an independent implementation of the Hugging Face model (hf_forward_falconh1.c: the multipliers applied where the
 * model applies them, which the converter folds into the weights); the KVs FalconH1Model writes, in its order;
 * configurations llama.cpp computes otherwise refused by name, writing nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_run.h"
#include "family_check.h"
#include "family_ref.h"
#include "gguf.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf.h"

static void spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 3, s->n_embd = 64, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 96, s->tied = false;
}

/* FalconH1Model's KVs in its order: Mamba2Model's (context_length, feed_forward_length, head_count overwritten in
 * place), then its own */
static void check_file(const family_check *fc, const char *out, const char *what) {
    static const char *const order[] = {
        "context_length", "embedding_length", "feed_forward_length", "attention.head_count", "block_count",
        "ssm.conv_kernel", "ssm.inner_size", "ssm.state_size", "ssm.time_step_rank", "ssm.group_count",
        "attention.layer_norm_rms_epsilon", "general.file_type", "vocab_size", "attention.head_count_kv",
        "attention.key_length", "attention.value_length", "rope.freq_base"};
    convert_check_kv_order(out, fc->pre, order, sizeof order / sizeof order[0], what);
    qk_gguf_file *gf = gguf_open_checked(out);
    if (!gf) return;
    CHECK_MSG(qk_gguf_find_tensor(&gf->meta, "blk.0.ffn_norm") >= 0, "%s: blk.0.ffn_norm (no .weight) missing", what);
    qk_gguf_close(gf);
}

static void check_model(const char *arch, const char *dtype) {
    const bool norm = !strcmp(arch, "falconh1_norm");
    char dir[700];
    logit_ref r;
    if (family_ref(&r, dir, sizeof dir, spec, arch, dtype)) return;
    const char *kv[][2] = {
        {"ssm.conv_kernel", "4"},       {"ssm.state_size", "16"},         {"ssm.group_count", norm ? "2" : "1"},
        {"ssm.inner_size", "128"},      {"ssm.time_step_rank", "8"},      {"context_length", "16384"},
        {"embedding_length", "64"},     {"feed_forward_length", "96"},    {"attention.head_count", "4"},
        {"attention.head_count_kv", "2"}, {"attention.key_length", "32"}, {"vocab_size", "299"},
    };
    static const char *const f32s[] = {"attn_norm.weight", "ffn_norm", "output_norm.weight", "ssm_norm.weight",
                                       "ssm_conv1d.weight", "ssm_conv1d.bias", "ssm_dt.bias", "ssm_a", "ssm_d"};
    /* Granite 4.0-H's tolerances: F32 1e-4, F16 5e-3, Q8_0 0.06 (no routing: every position) */
    const family_check fc = {.arch = arch, .dtype = dtype, .dir = dir, .r = &r, .types = family_types_dense,
                             .n_types = 3, .margin_min = 0.0, .pre = "falcon-h1", .kv = kv,
                             .n_kv = sizeof kv / sizeof kv[0],
                             /* token_embd, output_norm, output; per layer 2 norms, 4 attention, 3 MLP, 7 mixer
                              * tensors (+ ssm_norm) */
                             .n_tensors = 3 + 3 * (16 + norm), .f32s = f32s, .n_f32s = sizeof f32s / sizeof f32s[0],
                             .on_file = check_file};
    family_check_run(&fc);
    logit_ref_free(&r);
}

static void test_falconh1_bf16(void) { check_model("falconh1", "BF16"); }
static void test_falconh1_f32(void) { check_model("falconh1", "F32"); }
static void test_falconh1_norm_bf16(void) { check_model("falconh1_norm", "BF16"); }

static void test_falconh1_bad_input(void) {
    refusal_edit_table("test_convert_falconh1", "bad-falconh1", spec);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_falconh1_bad_input);
    RUN(test_falconh1_bf16);
    RUN(test_falconh1_f32);
    RUN(test_falconh1_norm_bf16);
    return qk_test_summary();
}
