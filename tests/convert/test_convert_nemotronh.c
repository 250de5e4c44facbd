/* Nemotron-H end to end against the real llama.cpp: a tiny checkpoint in the published NemotronHForCausalLM layout
 * (tiny_hf_nemotronh.c: Mamba-2 layers with 2 groups, an attention layer without rope whose head_dim is not
 * hidden / heads, squared-ReLU MLP layers, by hybrid_override_pattern), in BF16 as released and in F32, converted to
 * F32, F16 and Q8_0 files that llama.cpp loads as "nemotron_h" and runs to the logits of an independent
 * implementation of the Hugging Face model (hf_forward_nemotronh.c, the Mamba-2 scan in its recurrent form, the gated
 * RMSNorm group by group); the KVs NemotronHModel writes, in its order (per-layer head_count_kv and
 * feed_forward_length, the ssm sizes, key/value length, no rope); configurations llama.cpp's graph computes otherwise,
 * and the MoE variant, refused by name, writing nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_run.h"
#include "convert_variant.h"
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

/* 5 layers: "M-M*-" */
static void spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 5, s->n_embd = 64, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 96, s->tied = false;
}

/* the per-layer I32 array key of gf: v[0..5) */
static void layer_array(const qk_gguf_file *gf, const char *key, const int64_t want[5]) {
    const qk_gguf_kv *kv = qk_gguf_find(&gf->meta, key);
    CHECK_MSG(kv && kv->arr_type == QK_GGUF_I32 && kv->n == 5, "%s: not an I32 array of 5", key);
    for (uint64_t k = 0; kv && k < 5 && k < kv->n; k++) {
        int64_t v = -1;
        CHECK(qk_gguf_arr_int(kv, k, &v));
        CHECK_MSG(v == want[k], "%s[%llu] is %lld, want %lld", key, (unsigned long long)k, (long long)v,
                  (long long)want[k]);
    }
}

/* the converted file's KVs and tensors; moe: Nemotron 3 Nano's layout ("MEM*E": the same per-layer arrays) */
static void check_file(const family_check *fc, const char *out, const char *what) {
    const bool moe = !strcmp(fc->arch, "nemotronh_moe");
    const char *pre = fc->pre;
    qk_gguf_file *gf = gguf_open_checked(out);
    if (!gf) return;
    static const int64_t kv_want[5] = {0, 0, 0, 2, 0}, ff_want[5] = {0, 96, 0, 0, 96};
    char key[96];
    snprintf(key, sizeof key, "%s.attention.head_count_kv", pre);
    layer_array(gf, key, kv_want);
    snprintf(key, sizeof key, "%s.feed_forward_length", pre);
    layer_array(gf, key, ff_want);
    /* NemotronHModel's KVs in its order: TextModel's (feed_forward_length, head_count_kv and context_length
     * overwritten in place; the MoE's rope_theta and expert counts), LlamaModel's, the SSM sizes, the no-rope flag,
     * key / value length, then the MoE's own */
    static const char *const order[] = {
        "block_count", "context_length", "embedding_length", "feed_forward_length", "attention.head_count",
        "attention.head_count_kv", "attention.layer_norm_rms_epsilon", "attention.layer_norm_epsilon",
        "general.file_type", "vocab_size", "rope.dimension_count", "ssm.conv_kernel", "ssm.state_size",
        "ssm.group_count", "ssm.inner_size", "ssm.time_step_rank", "rope.scaling.finetuned", "attention.key_length",
        "attention.value_length"};
    static const char *const order_moe[] = {
        "block_count", "context_length", "embedding_length", "feed_forward_length", "attention.head_count",
        "attention.head_count_kv", "rope.freq_base", "attention.layer_norm_rms_epsilon",
        "attention.layer_norm_epsilon", "expert_count", "expert_used_count", "expert_group_count",
        "expert_group_used_count", "general.file_type", "vocab_size", "rope.dimension_count", "ssm.conv_kernel",
        "ssm.state_size", "ssm.group_count", "ssm.inner_size", "ssm.time_step_rank", "rope.scaling.finetuned",
        "attention.key_length", "attention.value_length", "expert_feed_forward_length",
        "expert_shared_feed_forward_length", "expert_shared_count", "expert_weights_norm", "expert_weights_scale"};
    if (moe) convert_check_kv_order(out, pre, order_moe, sizeof order_moe / sizeof order_moe[0], what);
    else convert_check_kv_order(out, pre, order, sizeof order / sizeof order[0], what);
    const qk_gguf_kv *bos = qk_gguf_find(&gf->meta, "tokenizer.ggml.add_bos_token");
    if (!moe) /* NemotronHModel.set_vocab sets it for the dense models only */
        CHECK_MSG(bos && bos->data && *(const uint8_t *)bos->data == 1, "%s: add_bos_token should be true", what);
    CHECK_MSG(!qk_gguf_find(&gf->meta, "tokenizer.ggml.add_space_prefix"), "%s: add_space_prefix written", what);
    qk_gguf_close(gf);
}

/* Nemotron 3 Nano's expert KVs */
static void check_moe_kvs(const family_check *fc, llama_run_model *m, const char *what) {
    (void)what;
    const char *kv_moe[][2] = {
        {"expert_count", "8"},         {"expert_used_count", "2"},         {"expert_feed_forward_length", "96"},
        {"expert_shared_feed_forward_length", "192"}, {"expert_shared_count", "1"},
        {"expert_weights_norm", "true"}, {"expert_group_count", "1"},
    };
    convert_check_arch_kvs(m, fc->pre, kv_moe, sizeof kv_moe / sizeof kv_moe[0]);
}

static void check_model(const char *arch, const char *dtype) {
    const bool moe = !strcmp(arch, "nemotronh_moe");
    char dir[700];
    logit_ref r;
    if (family_ref(&r, dir, sizeof dir, spec, arch, dtype)) return;
    logit_ref_check_margins(&r, 0.02, arch);
    const char *kv[][2] = {
        {"ssm.conv_kernel", "4"},       {"ssm.state_size", "16"},         {"ssm.group_count", "2"},
        {"ssm.inner_size", "128"},      {"ssm.time_step_rank", "8"},      {"context_length", "1048576"},
        {"embedding_length", "64"},     {"rope.dimension_count", "16"},   {"vocab_size", "304"},
        {"attention.key_length", "32"}, {"attention.value_length", "32"}, {"rope.scaling.finetuned", "false"},
    };
    /* the converter's F32 set (1-D, *_norm.weight, SSM_CONV1D, FFN_GATE_INP, no ".weight"); the rest F16 */
    static const char *const f32s[] = {"attn_norm.weight", "output_norm.weight", "ssm_norm.weight",
                                       "ssm_conv1d.weight", "ssm_conv1d.bias", "ssm_dt.bias", "ssm_a", "ssm_d",
                                       "ffn_gate_inp.weight", "exp_probs_b.bias"};
    /* Granite 4.0-H's tolerances: F32 1e-4, F16 5e-3 at every position, Q8_0 0.06 where the top-k routing has a
     * margin (every position without experts) */
    const family_check fc = {.arch = arch, .dtype = dtype, .dir = dir, .r = &r,
                             .types = moe ? family_types_routed : family_types_dense, .n_types = 3,
                             .margin_min = 0.02, .pre = moe ? "nemotron_h_moe" : "nemotron_h", .kv = kv,
                             .n_kv = sizeof kv / sizeof kv[0], .compare = true,
                             /* token_embd, output_norm, output; per Mamba layer norm + 8 ssm tensors; the attention
                              * layer's norm + 4; per MLP layer norm + 2, per MoE layer norm + router, bias, 2 stacked,
                              * 2 shared */
                             .n_tensors = 3 + 2 * 9 + 5 + 2 * (moe ? 7 : 3), .f32s = f32s,
                             .n_f32s = sizeof f32s / sizeof f32s[0], .on_model = moe ? check_moe_kvs : NULL,
                             .on_file = check_file};
    family_check_run(&fc);
    logit_ref_free(&r);
}

static void test_nemotronh_bf16(void) { check_model("nemotronh", "BF16"); }
static void test_nemotronh_f32(void) { check_model("nemotronh", "F32"); }
/* Nemotron 3 Nano's layout */
static void test_nemotronh_moe_bf16(void) { check_model("nemotronh_moe", "BF16"); }
static void test_nemotronh_moe_f32(void) { check_model("nemotronh_moe", "F32"); }

static void test_nemotronh_bad_input(void) {
    refusal_edit_table("test_convert_nemotronh", "bad-nemotronh", spec);
}

/* Nemotron-H 8B's config names the attention head size attention_head_dim, Nemotron 3's the RMS epsilon norm_eps:
 * the same KVs as with head_dim and rms_norm_eps */
static void test_nemotronh_attention_head_dim(void) {
    convert_variant v;
    if (convert_variant_start(&v, "nemotronh-ahd", spec, "nemotronh", "f32", 1)) return;
    convert_edit_file(v.config, "\"head_dim\":\t32", "\"attention_head_dim\":\t32");
    convert_edit_file(v.config, "\"rms_norm_eps\"", "\"norm_eps\""); /* Nemotron 3's spelling, TextModel's second key */
    if (convert_variant_converts(&v)) return;
    qk_err err;
    qk_gguf_file *ga = NULL, *gb = NULL;
    CHECK(qk_gguf_open(v.a, &ga, &err) == QK_OK && qk_gguf_open(v.b, &gb, &err) == QK_OK);
    if (ga && gb) {
        const qk_gguf_kv *ka = qk_gguf_find(&ga->meta, "nemotron_h.attention.key_length");
        const qk_gguf_kv *kb = qk_gguf_find(&gb->meta, "nemotron_h.attention.key_length");
        CHECK(ka && kb && ka->type == QK_GGUF_U32 && kb->type == QK_GGUF_U32 &&
              !memcmp(ka->data, kb->data, 4) && *(const uint32_t *)ka->data == 32);
        CHECK_EQ_INT(ga->meta.n_kv, gb->meta.n_kv);
        const qk_gguf_kv *ea = qk_gguf_find(&ga->meta, "nemotron_h.attention.layer_norm_rms_epsilon");
        const qk_gguf_kv *eb = qk_gguf_find(&gb->meta, "nemotron_h.attention.layer_norm_rms_epsilon");
        CHECK(ea && eb && ea->type == QK_GGUF_F32 && eb->type == QK_GGUF_F32 && !memcmp(ea->data, eb->data, 4));
        CHECK_EQ_INT(ga->meta.n_tensors, gb->meta.n_tensors);
    }
    qk_gguf_close(ga), qk_gguf_close(gb);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_nemotronh_bad_input);
    RUN(test_nemotronh_attention_head_dim);
    RUN(test_nemotronh_bf16);
    RUN(test_nemotronh_f32);
    RUN(test_nemotronh_moe_bf16);
    RUN(test_nemotronh_moe_f32);
    return qk_test_summary();
}
