/* Qwen 3.5 / 3.6 end to end against the real llama.cpp: tiny checkpoints in the published
 * Qwen3_5MoeForConditionalGeneration and Qwen3_5ForConditionalGeneration layouts (tiny_hf_qwen35.c: three gated
 * DeltaNet layers with twice as many value heads as key heads, then a gated full-attention layer with partial
 * M-RoPE; packed experts with a gated shared expert, or a dense MLP; a vision tower and an MTP block left out)
 * converted to F32, F16 and Q8_0 files that llama.cpp loads and runs to the logits of an independent
 * implementation of the Hugging Face model (hf_forward_qwen35.c, the DeltaNet in its recurrent form); the KVs
 * Qwen3NextModel writes; configurations llama.cpp's graph cannot reproduce are refused by name, writing nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_model.h"
#include "convert_run.h"
#include "family_check.h"
#include "family_ref.h"
#include "gguf.h"
#include "hf_forward.h"
#include "hf_safetensors_min.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf.h"

static void spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 4, s->n_embd = 64, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 32;
}

/* the expert and MLP widths; no multi-token-prediction layers */
static void check_model_kvs(const family_check *fc, llama_run_model *m, const char *what) {
    (void)what;
    const bool next = !strcmp(fc->arch, "qwen3next"), moe = next || !strcmp(fc->arch, "qwen35moe");
    if (moe) {
        const char *mk[][2] = {
            {"expert_feed_forward_length", "32"}, {"expert_shared_feed_forward_length", "32"}, {"expert_count", "8"}};
        convert_check_arch_kvs(m, fc->pre, mk, 3);
    }
    char key[96], v[64] = "";
    if (!moe || next) {
        snprintf(key, sizeof key, "%s.feed_forward_length", fc->pre);
        convert_check_kv(m, key, next ? "128" : "64");
    }
    snprintf(key, sizeof key, "%s.nextn_predict_layers", fc->pre);
    CHECK_MSG(!llama_run_meta(m, key, v, sizeof v), "nextn_predict_layers written: %s", v);
}

/* the converted file: the M-RoPE sections, rope.freq_base and the RMS epsilon */
static void check_file(const family_check *fc, const char *out, const char *what) {
    (void)what;
    const bool next = !strcmp(fc->arch, "qwen3next");
    qk_gguf_file *gf = gguf_open_checked(out);
    if (gf) { /* M-RoPE sections: the config's [2, 1, 1] padded to 4; Qwen3NextModel writes none */
        char key[96];
        snprintf(key, sizeof key, "%s.rope.dimension_sections", fc->pre);
        const qk_gguf_kv *ds = qk_gguf_find(&gf->meta, key);
        CHECK_MSG((ds != NULL) == !next, "%s: rope.dimension_sections %s", fc->arch, next ? "written" : "missing");
        int64_t sec[4] = {-1, -1, -1, -1};
        for (uint64_t k = 0; ds && k < 4; k++) CHECK(qk_gguf_arr_int(ds, k, &sec[k]));
        if (ds) CHECK_MSG(sec[0] == 2 && sec[1] == 1 && sec[2] == 1 && sec[3] == 0, "sections %lld %lld %lld %lld",
                          (long long)sec[0], (long long)sec[1], (long long)sec[2], (long long)sec[3]);
        /* rope_parameters.rope_theta (Qwen 3.5) or the top-level rope_theta (Qwen3-Next): 1e7; eps 1e-6 */
        static const struct { const char *k; double v; } fk[] = {
            {"rope.freq_base", 1e7}, {"attention.layer_norm_rms_epsilon", 1e-6}};
        for (size_t k = 0; k < 2; k++) {
            snprintf(key, sizeof key, "%s.%s", fc->pre, fk[k].k);
            const qk_gguf_kv *fv = qk_gguf_find(&gf->meta, key);
            float f = 0;
            if (fv && fv->type == QK_GGUF_F32) memcpy(&f, fv->data, sizeof f);
            CHECK_MSG(fv && fv->type == QK_GGUF_F32 && f == (float)fk[k].v, "%s: %g", key, (double)f);
        }
    }
    qk_gguf_close(gf);
}

/* the tiny checkpoint converted to each type: llama.cpp's logits against the reference's (the quantized type
 * where the reference's top-k routing has a margin), the KVs, the tensor count, what is left out */
static void check_model(const char *arch, const char *dtype, int n_tensors, double margin_min) {
    const bool next = !strcmp(arch, "qwen3next"), moe = next || !strcmp(arch, "qwen35moe");
    char dir[700];
    logit_ref r;
    if (family_ref(&r, dir, sizeof dir, spec, arch, dtype)) return;
    convert_check_left_out(dir, next ? "mtp.;" : "model.visual.;mtp.;");
    /* F32 and F16 within llama.cpp's F16 KV cache at every position; Q8_0 where routing has a margin */
    static const family_type types[] = {{"f32", 2e-3, true}, {"f16", 5e-3, true}, {"q8_0", 0.06, false}};
    logit_ref_check_margins(&r, margin_min, arch);
    const char *kv[][2] = {
        {"ssm.conv_kernel", "4"},       {"ssm.state_size", "16"},         {"ssm.group_count", "2"},
        {"ssm.time_step_rank", "4"},    {"ssm.inner_size", "64"},         {"full_attention_interval", "4"},
        {"rope.dimension_count", "8"},  {"attention.key_length", "32"},   {"block_count", "4"},
    };
    const family_check fc = {.arch = arch, .dtype = dtype, .dir = dir, .r = &r, .types = types,
                             .n_types = sizeof types / sizeof types[0], .margin_min = margin_min,
                             .pre = next ? "qwen3next" : moe ? "qwen35moe" : "qwen35", .kv = kv,
                             .n_kv = sizeof kv / sizeof kv[0], .compare = true, .n_tensors = n_tensors,
                             .on_model = check_model_kvs, .on_file = check_file};
    family_check_run(&fc);
    logit_ref_free(&r);
}

/* token_embd, output_norm, output; per DeltaNet layer attn_norm, post_attention_norm, attn_qkv, attn_gate,
 * ssm_alpha, ssm_beta, ssm_conv1d, ssm_a, ssm_dt.bias, ssm_norm, ssm_out (11); per attention layer the two norms,
 * attn_q/k/v/output, attn_q_norm / attn_k_norm (8); MoE: ffn_gate_inp, 3 stacked, 3 shared, ffn_gate_inp_shexp
 * (8), dense: ffn_gate / up / down (3) */
static void test_qwen35moe(void) { check_model("qwen35moe", "F32", 3 + 3 * (11 + 8) + (8 + 8), 0.02); }
/* the releases' dtype: BF16 values are float32 exactly, so the same tolerances hold */
static void test_qwen35moe_bf16(void) { check_model("qwen35moe", "BF16", 3 + 3 * (11 + 8) + (8 + 8), 0.02); }
static void test_qwen35(void) { check_model("qwen35", "F32", 3 + 3 * (11 + 3) + (8 + 3), 0.0); }
/* Qwen3-Next: attn_qkv and attn_gate from in_proj_qkvz, ssm_ba: 10 per DeltaNet layer */
static void test_qwen3next(void) { check_model("qwen3next", "BF16", 3 + 3 * (10 + 8) + (8 + 8), 0.02); }

static void test_qwen35_bad_input(void) { refusal_edit_table("test_convert_qwen35", "bad-qwen35", spec); }

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_qwen35_bad_input);
    if (!llama_ref_init_backend()) {
        fprintf(stderr, "skip: llama.cpp's libraries are not available (QK_LLAMA_DIR)\n");
        const int rc = qk_test_summary(); /* the refusals ran: their failures still count */
        return rc ? rc : 77;
    }
    RUN(test_qwen35moe);
    RUN(test_qwen35moe_bf16);
    RUN(test_qwen35);
    RUN(test_qwen3next);
    return qk_test_summary();
}
