/* MoE families of branch moe2, end to end against the real llama.cpp:
 * gpt-oss in both published layouts (dequantized 3-D experts, MXFP4
 * blocks) converted to float, Q8_0 and MXFP4_MOE files that llama.cpp loads
 * and runs to the logits of an independent float32 implementation of the
 * Hugging Face model (hf_forward.c + hf_forward_moe2.c); the MXFP4 expert
 * bytes equal the source blocks repacked as convert_hf_to_gguf.py's
 * GptOssModel.repack_mxfp4 does (re-enacted here step by step on the bytes);
 * configurations llama.cpp's graph cannot reproduce are refused by name. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "convert_model.h"
#include "convert_run.h"
#include "ggml_types.h"
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

/* Max |a-b| over max |b|. */
static void gptoss_spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 4, s->n_embd = 64, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 64;
    s->dtype = "BF16"; /* as both releases store their float tensors */
}

static void kvs_gptoss(llama_run_model *m) {
    char v[64];
    CHECK(llama_run_meta(m, "gpt-oss.rope.scaling.type", v, sizeof v) && !strcmp(v, "yarn"));
    CHECK(llama_run_meta(m, "gpt-oss.attention.sliding_window", v, sizeof v) && !strcmp(v, "4"));
    CHECK(llama_run_meta(m, "gpt-oss.expert_feed_forward_length", v, sizeof v) && !strcmp(v, "64"));
}

/* The tiny checkpoint converted to each type: llama.cpp's logits against the reference's, the quantized types where
 * the reference's routing margin is at least margin_min; n_tensors: the GGUF's tensor count. */
static void check_model(const tiny_hf_spec *sp, double margin_min, void (*kvs)(llama_run_model *), int n_tensors,
                        const char *left_out, int n_moe_layers, size_t n_types) {
    tiny_hf_spec s = *sp;
    const char *arch = s.arch;
    char dir[700];
    snprintf(dir, sizeof dir, "%s/tiny-%s/hf", qk_test_tmpdir(), arch);
    CHECK(tiny_hf_write(dir, &s) == 0);
    convert_check_left_out(dir, left_out); /* what the plan leaves out (DeepSeek's MTP layer), by prefix */
    logit_ref r; /* token by token (12 > the window of 4), noting each position's routing margin */
    if (logit_ref_hf(&r, dir)) return;
    const bool mx = strstr(arch, "mxfp4") != NULL;
    /* tolerances of the largest logit's size: F32 and F16 within llama.cpp's F16 KV cache, at every position; BF16
     * and the quantized types only where the reference's top-k routing has a margin >= margin_min in every layer (a
     * nearer tie flips under rounding: another expert, a jump no tolerance describes); MXFP4_MOE of float experts
     * is a real 4-bit loss */
    static const struct { const char *type; double tol; bool all; } cases[] = {
        {"f32", 2e-3, true}, {"f16", 5e-3, true}, {"bf16", 0.03, false}, {"q8_0", 0.06, false}, {"mxfp4_moe", 0.06, false},
    };
    logit_ref_check_margins(&r, margin_min, arch);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0] && c < n_types; c++) {
        char out[800], what[64];
        snprintf(out, sizeof out, "%s/tiny-%s-%s.gguf", qk_test_tmpdir(), arch, cases[c].type);
        snprintf(what, sizeof what, "%s %s", arch, cases[c].type);
        llama_run_model *m = logit_convert_load(dir, out, cases[c].type, &r);
        if (!m) continue;
        kvs(m);
        const double tol = !mx && !strcmp(cases[c].type, "mxfp4_moe") ? 0.6 : cases[c].tol;
        logit_ref_compare(&r, m, cases[c].all, margin_min, tol, what);
        llama_run_free(m);
        qk_err err;
        /* verify --against the checkpoint: F32 exact; MXFP4 experts from MXFP4 blocks exact too */
        qk_compare_report cmp;
        CHECK_MSG(qk_compare(out, dir, NULL, &cmp, &err) == QK_OK, "%s", err.msg);
        if (!strcmp(cases[c].type, "f32")) CHECK_MSG(cmp.rmse == 0.0, "f32 rmse %g", cmp.rmse);
        int n_mx = 0;
        for (size_t k = 0; k < cmp.n; k++)
            if (cmp.tensors[k].type == QK_TYPE_MXFP4 && strstr(cmp.tensors[k].name, "_exps.")) {
                n_mx++;
                if (mx) CHECK_MSG(cmp.tensors[k].rmse == 0.0, "%s: rmse %g", cmp.tensors[k].name, cmp.tensors[k].rmse);
            }
        CHECK_EQ_INT(n_mx, !strcmp(cases[c].type, "mxfp4_moe") ? 3 * n_moe_layers : 0); /* the experts */
        qk_gguf_file *gf = gguf_open_checked(out);
        if (gf) CHECK_EQ_INT(cmp.n, gf->meta.n_tensors); /* every tensor compared */
        if (gf) CHECK_EQ_INT(gf->meta.n_tensors, n_tensors);
        qk_gguf_close(gf);
        qk_compare_report_free(&cmp);
    }
    logit_ref_free(&r);
}

/* token_embd, output_norm, output, and 19 per layer (6 of them from the 3-D expert sources) */
static void test_gptoss_float_experts(void) {
    tiny_hf_spec s;
    gptoss_spec(&s, "gptoss");
    check_model(&s, 0.2, kvs_gptoss, 3 + 19 * s.n_layer, "", s.n_layer, 5);
}
static void test_gptoss_mxfp4_experts(void) {
    tiny_hf_spec s;
    gptoss_spec(&s, "gptoss_mxfp4");
    check_model(&s, 0.2, kvs_gptoss, 3 + 19 * s.n_layer, "", s.n_layer, 5);
}

static void kvs_deepseek_lite(llama_run_model *m) {
    char v[64] = "";
    CHECK_MSG(!llama_run_meta(m, "deepseek2.attention.q_lora_rank", v, sizeof v), "q_lora_rank %s", v);
    CHECK(llama_run_meta(m, "deepseek2.attention.kv_lora_rank", v, sizeof v) && !strcmp(v, "32"));
}

static void kvs_deepseek(llama_run_model *m) {
    static const char *const kv[][2] = {
        {"deepseek2.attention.head_count_kv", "1"}, {"deepseek2.leading_dense_block_count", "1"},
        {"deepseek2.attention.q_lora_rank", "48"}, {"deepseek2.attention.kv_lora_rank", "32"},
        {"deepseek2.attention.key_length", "48"}, {"deepseek2.attention.value_length", "32"},
        {"deepseek2.attention.key_length_mla", "48"}, {"deepseek2.attention.value_length_mla", "24"},
        {"deepseek2.rope.dimension_count", "16"}, {"deepseek2.expert_shared_count", "1"},
        {"deepseek2.expert_feed_forward_length", "32"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) convert_check_kv(m, kv[i][0], kv[i][1]);
}

/* 3 layers (one dense), the MTP layer left out: token_embd, output_norm, output; per layer attn_norm, ffn_norm,
 * attn_q_a, attn_q_a_norm, attn_q_b, attn_kv_a_mqa, attn_kv_a_norm, attn_k_b, attn_v_b, attn_output (10), then
 * 3 dense or ffn_gate_inp, 3 stacked, 3 shared (+ exp_probs_b in V3): 13, 17 (18) */
static void test_deepseek3(void) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "deepseek3", s.n_layer = 3, s.n_embd = 64, s.n_head = 4, s.n_head_kv = 4, s.n_ff = 128;
    check_model(&s, 0.02, kvs_deepseek, 3 + 13 + 2 * 18, "model.layers.3.;", 2, 5);
}
static void test_deepseek2(void) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "deepseek2", s.n_layer = 3, s.n_embd = 64, s.n_head = 4, s.n_head_kv = 4, s.n_ff = 128;
    check_model(&s, 0.005, kvs_deepseek, 3 + 13 + 2 * 17, "model.layers.3.;", 2, 5);
}

/* GptOssModel.transform_nibble_layout and repack_mxfp4, re-enacted on one
 * block's bytes as the torch code does them (swap nibbles, split halves,
 * interleave, or, swap back), then the scale byte in front. */
static void repack_like_converter(const unsigned char *q, unsigned char scale, unsigned char out[17]) {
    unsigned char t[16], a[16], b[16];
    for (int j = 0; j < 16; j++) t[j] = (unsigned char)((q[j] & 0x0F) << 4 | (q[j] & 0xF0) >> 4);
    for (int j = 0; j < 8; j++) { /* blk_a = t[:8], blk_b = t[8:] */
        a[2 * j] = t[j] & 0xF0, a[2 * j + 1] = (unsigned char)(t[j] << 4);
        b[2 * j] = t[8 + j] >> 4, b[2 * j + 1] = t[8 + j] & 0x0F;
    }
    out[0] = scale;
    for (int j = 0; j < 16; j++) {
        const unsigned char o = a[j] | b[j];
        out[1 + j] = (unsigned char)((o & 0xF0) >> 4 | (o & 0x0F) << 4);
    }
}

static void test_gptoss_mxfp4_bytes(void) {
    tiny_hf_spec s;
    gptoss_spec(&s, "gptoss_mxfp4");
    char dir[700], out[800], st_path[800];
    snprintf(dir, sizeof dir, "%s/tiny-gptoss-bytes/hf", qk_test_tmpdir());
    snprintf(out, sizeof out, "%s/tiny-gptoss-bytes.gguf", qk_test_tmpdir());
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", dir);
    CHECK(tiny_hf_write(dir, &s) == 0);
    qk_err err;
    CHECK_MSG(convert_run(dir, out, "mxfp4_moe", 2, &err) == QK_OK, "%s", err.msg);
    /* --type auto on the MXFP4 release: BF16, its float tensors' dtype (the U8 blocks are passed over, as by the
     * converter's guess; in this one-file checkpoint a float tensor sorts first anyway) */
    qk_convert_opts ao = {.type = NULL, .output_tensor_type = -1, .n_threads = 1, .dry_run = true};
    qk_convert_report rep;
    CHECK_MSG(qk_convert_model(dir, NULL, &ao, &rep, &err) == QK_OK, "%s", err.msg);
    CHECK_MSG(!strcmp(rep.type_name, "BF16"), "auto type %s", rep.type_name);
    qk_convert_report_free(&rep);
    char e[256];
    hf_st_min *st = hf_st_min_open(st_path, e, sizeof e);
    CHECK_MSG(st != NULL, "%s", e);
    qk_gguf_file *gf = gguf_open_checked(out);
    if (!st || !gf) {
        hf_st_min_close(st), qk_gguf_close(gf);
        return;
    }
    /* the converter's order (a float conversion; a quantized type is written in llama-quantize's order): the
     * repacked MXFP4 experts first (its generate_extra_tensors), layer by layer in the source's order (down before
     * gate_up), then the rest */
    char fl[800];
    snprintf(fl, sizeof fl, "%s/tiny-gptoss-bytes-bf16.gguf", qk_test_tmpdir());
    CHECK_MSG(convert_run(dir, fl, "bf16", 2, &err) == QK_OK, "%s", err.msg);
    qk_gguf_file *ff = gguf_open_checked(fl);
    for (uint64_t i = 0; ff && i < ff->meta.n_tensors; i++) {
        const char *tn = ff->meta.tensors[i].name;
        const bool is_exp = strstr(tn, "_exps.weight") != NULL;
        CHECK_MSG(is_exp == (i < (uint64_t)(3 * s.n_layer)), "tensor %llu '%s' out of the converter's order",
                  (unsigned long long)i, tn);
        if (i < 3) {
            static const char *const first[3] = {"blk.0.ffn_down_exps.weight", "blk.0.ffn_gate_exps.weight",
                                                 "blk.0.ffn_up_exps.weight"};
            CHECK_MSG(!strcmp(tn, first[i]), "tensor %llu is '%s', expected '%s'", (unsigned long long)i, tn, first[i]);
        }
    }
    qk_gguf_close(ff);
    int n_checked = 0;
    for (int l = 0; l < s.n_layer; l++)
        for (int k = 0; k < 3; k++) {
            static const char *const gguf[3] = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
            static const char *const src[3] = {"gate_up_proj", "gate_up_proj", "down_proj"};
            char nm[128];
            snprintf(nm, sizeof nm, "blk.%d.%s.weight", l, gguf[k]);
            const qk_gguf_tensor *t = NULL;
            for (uint64_t i = 0; i < gf->meta.n_tensors; i++)
                if (!strcmp(gf->meta.tensors[i].name, nm)) t = &gf->meta.tensors[i];
            CHECK_MSG(t && t->type == QK_TYPE_MXFP4, "%s: missing or not MXFP4", nm);
            if (!t) continue;
            /* the source: blocks [E, R, nb, 16] and scales [E, R, nb], as bytes */
            int64_t bs[8], ss[8];
            int bnd = 0, snd = 0;
            snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.%s_blocks", l, src[k]);
            const float *bf = hf_st_min_get(st, nm, bs, &bnd);
            CHECK(bf && bnd == 4);
            if (!bf) continue;
            const size_t nbl = (size_t)(bs[0] * bs[1] * bs[2] * bs[3]);
            unsigned char *blocks = malloc(nbl);
            for (size_t i = 0; i < nbl; i++) blocks[i] = (unsigned char)bf[i];
            snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.%s_scales", l, src[k]);
            const float *sf = hf_st_min_get(st, nm, ss, &snd);
            CHECK(sf && snd == 3);
            const int64_t E = bs[0], R = bs[1], nb = bs[2], stride = k < 2 ? 2 : 1, part = k == 1;
            unsigned char *want = malloc((size_t)(E * (R / stride) * nb * 17)), *got = malloc((size_t)t->nbytes);
            size_t o = 0;
            for (int64_t ex = 0; sf && ex < E; ex++) /* data_torch[:, ::2] (gate) / [:, 1::2] (up) */
                for (int64_t r = part; r < R; r += stride)
                    for (int64_t b = 0; b < nb; b++, o += 17) {
                        const size_t row = (size_t)((ex * R + r) * nb + b);
                        repack_like_converter(blocks + row * 16, (unsigned char)sf[row], want + o);
                    }
            CHECK_EQ_INT((long long)t->nbytes, (long long)o);
            CHECK(qk_gguf_read_tensor(gf, t, 0, got, t->nbytes, &err) == QK_OK);
            CHECK_MSG(t->nbytes == o && !memcmp(got, want, o), "blk.%d.%s: bytes differ from the converter's repack", l,
                      gguf[k]);
            n_checked++;
            free(blocks), free(want), free(got);
        }
    CHECK_EQ_INT(n_checked, 3 * s.n_layer);
    hf_st_min_close(st);
    qk_gguf_close(gf);
}

static void test_gptoss_bad_input(void) { refusal_config_table("test_moe2", "gptoss", gptoss_spec); }

/* DeepSeek-V2-Lite's layout (a plain q_proj) at one of the layer counts llama.cpp takes as "lite" (27): per layer
 * attn_q instead of attn_q_a, attn_q_a_norm, attn_q_b: 11 dense, 15 MoE */
static void test_deepseek2_lite(void) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "deepseek2lite", s.n_layer = 27, s.n_embd = 64, s.n_head = 4, s.n_head_kv = 4, s.n_ff = 128;
    /* F32, F16, BF16 only: through 27 layers Q8_0's error grows past the shallow models' bound (0.059 here) */
    check_model(&s, 0.002, kvs_deepseek_lite, 3 + 11 + 26 * 15, "model.layers.27.;", 26, 3);
}

static void kvs_glm4moe(llama_run_model *m) {
    static const char *const kv[][2] = {
        {"glm4moe.block_count", "4"}, {"glm4moe.nextn_predict_layers", "1"}, {"glm4moe.rope.dimension_count", "16"},
        {"glm4moe.leading_dense_block_count", "1"}, {"glm4moe.expert_shared_count", "1"},
        {"glm4moe.expert_gating_func", "2"}, {"glm4moe.expert_group_count", "2"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) convert_check_kv(m, kv[i][0], kv[i][1]);
}

/* 3 layers (one dense) and the MTP layer, all converted: token_embd, output_norm, output; per layer attn_norm,
 * post_attention_norm, attn_q/k/v weights and biases, attn_output, attn_q_norm, attn_k_norm (11), then 3 dense or
 * ffn_gate_inp, exp_probs_b, 3 stacked, 3 shared (8); the MTP layer's nextn eh_proj, enorm, hnorm, shared_head_norm,
 * shared_head_head (5) */
static void test_glm4moe(void) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "glm4moe", s.n_layer = 3, s.n_embd = 64, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 128;
    check_model(&s, 0.02, kvs_glm4moe, 3 + 14 + 3 * 19 + 5, "", 3, 5);
}

/* the DeepSeek refusals' checkpoints (GLM-4.5 with 2 kv heads) */
static void deepseek_bad_spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 3, s->n_embd = 64, s->n_head = 4, s->n_head_kv = strcmp(arch, "glm4moe") ? 4 : 2;
    s->n_ff = 128;
}

static void test_deepseek_bad_input(void) { refusal_config_table("test_moe2", "deepseek", deepseek_bad_spec); }

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    llama_ref_init_backend();
    RUN(test_gptoss_bad_input);
    RUN(test_gptoss_mxfp4_bytes);
    RUN(test_gptoss_float_experts);
    RUN(test_gptoss_mxfp4_experts);
    RUN(test_deepseek3);
    RUN(test_deepseek2);
    RUN(test_deepseek2_lite);
    RUN(test_deepseek_bad_input);
    RUN(test_glm4moe);
    return qk_test_summary();
}
