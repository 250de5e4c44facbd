/* Granite 4.0-H end to end against the real llama.cpp: tiny checkpoints in the published
 * GraniteMoeHybridForCausalLM layout (tiny_hf_granitehybrid.c: Mamba-2 layers and one attention layer without rope;
 * granite-4.0-h-tiny's experts plus shared MLP, or -h-micro's shared MLP alone), in BF16 as released and in F32,
 * converted to F32, F16 and Q8_0 files that llama.cpp loads as "granitehybrid" and runs to the logits of an independent
 * implementation of the Hugging Face model (hf_forward_granitehybrid.c, the Mamba-2 scan in its recurrent form);
 * the KVs GraniteHybridModel writes (the per-layer head_count_kv, the ssm sizes, no rope); configurations
 * llama.cpp's graph computes otherwise are refused by name, writing nothing. */
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
    s->arch = arch, s->n_layer = 4, s->n_embd = 64, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 32, s->tied = true;
}

/* the converted file: head_count_kv per layer, GraniteHybridModel's KV order, rope.freq_base */
static void check_file(const family_check *fc, const char *out, const char *what) {
    const bool all_attn = !strcmp(fc->arch, "granite4");
    qk_gguf_file *gf = gguf_open_checked(out);
    if (!gf) return;
    char key[96]; /* head_count_kv per layer: 0 on the Mamba layers */
    snprintf(key, sizeof key, "%s.attention.head_count_kv", fc->pre);
    const qk_gguf_kv *hk = qk_gguf_find(&gf->meta, key);
    int64_t v[4] = {-1, -1, -1, -1};
    for (uint64_t k = 0; hk && k < 4; k++) CHECK(qk_gguf_arr_int(hk, k, &v[k]));
    for (int k = 0; k < 4; k++)
        CHECK_MSG(v[k] == (all_attn || k == 2 ? 2 : 0), "head_count_kv[%d] %lld", k, (long long)v[k]);
    CHECK(hk && hk->arr_type == QK_GGUF_I32);
    /* GraniteHybridModel's KVs in its order: TextModel's (head_count_kv and context_length overwritten in
     * place), LlamaModel's, GraniteModel's multipliers, GraniteMoeModel's shared width, the SSM sizes */
    static const char *const order[] = {
        "block_count", "context_length", "embedding_length", "feed_forward_length", "attention.head_count",
        "attention.head_count_kv", "rope.freq_base", "attention.layer_norm_rms_epsilon", "expert_count",
        "expert_used_count", "general.file_type", "vocab_size", "rope.dimension_count", "attention.scale",
        "embedding_scale", "residual_scale", "logit_scale", "expert_shared_feed_forward_length",
        "ssm.conv_kernel", "ssm.state_size", "ssm.group_count", "ssm.inner_size", "ssm.time_step_rank",
        "rope.scaling.finetuned"};
    convert_check_kv_order(out, fc->pre, order, sizeof order / sizeof order[0], what);
    snprintf(key, sizeof key, "%s.rope.freq_base", fc->pre);
    const qk_gguf_kv *fb = qk_gguf_find(&gf->meta, key);
    float theta = 0;
    if (fb && fb->type == QK_GGUF_F32) memcpy(&theta, fb->data, sizeof theta);
    CHECK_MSG(theta == 10000.0f, "rope.freq_base %g", (double)theta);
    qk_gguf_close(gf);
}

/* the tiny checkpoint converted to F32, F16 and Q8_0: llama.cpp's logits against the reference's (Q8_0 where the
 * reference's top-k routing has a margin), the KVs, the tensor count, verify --against */
static void check_model(const char *arch, const char *dtype, int n_tensors, double margin_min) {
    /* the all-attention Granite 4.0 (granite4) is written as llama.cpp's granite, with rope, its vocabulary unpadded */
    const bool all_attn = !strcmp(arch, "granite4"), dense = all_attn || !strcmp(arch, "granitehybrid_dense");
    char dir[700];
    logit_ref r;
    if (family_ref(&r, dir, sizeof dir, spec, arch, dtype)) return;
    logit_ref_check_margins(&r, margin_min, arch);
    const char *kv[][2] = {
        {"ssm.conv_kernel", "4"},        {"ssm.state_size", "16"},           {"ssm.group_count", "1"},
        {"ssm.inner_size", "128"},       {"ssm.time_step_rank", "8"},
        {"context_length", all_attn ? "131072" : "1048576"}, {"embedding_length", "64"},
        {"rope.dimension_count", "16"},  {"vocab_size", all_attn ? "299" : "304"},
        {"expert_count", dense ? "0" : "8"}, {"expert_used_count", dense ? "0" : "2"},
        {"feed_forward_length", dense ? "64" : "32"}, {"expert_shared_feed_forward_length", "64"},
        {"rope.scaling.finetuned", all_attn ? "true" : "false"},
    };
    /* the converter's F32 set (1-D, *_norm.weight, SSM_CONV1D, FFN_GATE_INP, no ".weight"); the rest F16 */
    static const char *const f32s[] = {"attn_norm.weight", "ffn_norm.weight", "output_norm.weight",
                                       "ssm_norm.weight", "ssm_conv1d.weight", "ssm_conv1d.bias",
                                       "ssm_dt.bias", "ssm_a", "ssm_d", "ffn_gate_inp.weight"};
    /* F32 within 1e-4 at every position (llama.cpp's F16 KV cache alone costs ~1e-5 here, and leaving out the
     * all-attention model's rope moves its logits by 6e-4); F16 within 5e-3; Q8_0 where routing has a margin */
    const family_check fc = {.arch = arch, .dtype = dtype, .dir = dir, .r = &r, .types = family_types_routed,
                             .n_types = 3, .margin_min = margin_min, .pre = all_attn ? "granite" : "granitehybrid",
                             .kv = kv, .n_kv = sizeof kv / sizeof kv[0], .compare = true,
                             .n_tensors = n_tensors, .f32s = f32s, .n_f32s = sizeof f32s / sizeof f32s[0],
                             .on_file = check_file};
    family_check_run(&fc);
    logit_ref_free(&r);
}

/* token_embd, output_norm (tied: no output); per Mamba layer attn_norm, ffn_norm, ssm_in, ssm_conv1d weight and
 * bias, ssm_dt.bias, ssm_a, ssm_d, ssm_norm, ssm_out (10); the attention layer's two norms and attn_q/k/v/output
 * (6); per layer the MoE's ffn_gate_inp, 3 stacked, 3 shared (7) or the dense MLP's 3 */
static void test_granitehybrid_bf16(void) { check_model("granitehybrid", "BF16", 2 + 3 * 10 + 6 + 4 * 7, 0.02); }
static void test_granitehybrid_f32(void) { check_model("granitehybrid", "F32", 2 + 3 * 10 + 6 + 4 * 7, 0.02); }
static void test_granitehybrid_dense(void) { check_model("granitehybrid_dense", "BF16", 2 + 3 * 10 + 6 + 4 * 3, 0.0); }
/* granite-4.0-micro: four attention layers (6 tensors each) with the dense MLP (3) */
static void test_granite4_all_attention(void) { check_model("granite4", "BF16", 2 + 4 * (6 + 3), 0.0); }

static void test_granitehybrid_bad_input(void) {
    refusal_edit_table("test_convert_granitehybrid", "bad-granitehybrid", spec);
}

/* Mamba2Model.set_vocab reads no tokenizer_config.json: its add_prefix_space writes no add_space_prefix */
static void test_granitehybrid_vocab(void) {
    tiny_hf_spec s;
    spec(&s, "granitehybrid_dense");
    char dir[700], p[800], out[800];
    snprintf(dir, sizeof dir, "%s/vocab-granitehybrid/hf", qk_test_tmpdir());
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    snprintf(out, sizeof out, "%s/vocab-granitehybrid.gguf", qk_test_tmpdir());
    CHECK(tiny_hf_write(dir, &s) == 0);
    convert_edit_file(p, "{", "{\"add_prefix_space\": false, ");
    qk_err err;
    CHECK_MSG(convert_run(dir, out, "f32", 2, &err) == QK_OK, "%s", err.msg);
    qk_gguf_file *gf = gguf_open_checked(out);
    if (gf) {
        CHECK(qk_gguf_find(&gf->meta, "tokenizer.ggml.model") != NULL);
        CHECK_MSG(!qk_gguf_find(&gf->meta, "tokenizer.ggml.add_space_prefix"), "add_space_prefix written");
    }
    qk_gguf_close(gf);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_granitehybrid_bad_input);
    RUN(test_granitehybrid_vocab);
    RUN(test_granitehybrid_bf16);
    RUN(test_granitehybrid_f32);
    RUN(test_granitehybrid_dense);
    RUN(test_granite4_all_attention);
    return qk_test_summary();
}
