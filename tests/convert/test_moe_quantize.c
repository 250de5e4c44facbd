/* Quantized MoE models equal llama.cpp's quantization of quantkit's own F16
 * conversion, tensor for tensor.
 *
 * For every mixture-of-experts family the registry converts (and the
 * attention-free Mamba families, whose ssm_* tensors the type mix treats
 * apart), a tiny
 * checkpoint in its published layout is converted to F16; that GGUF is then
 * quantized by quantkit (qk_quantize_model) and by the pinned llama.cpp
 * (llama_model_quantize, the same options) to Q4_K_M, to IQ3_XXS with an
 * importance matrix (the type mix's expert rules: ffn_down_exps choices by
 * expert count, attn_v / attn_k for 8 experts) and to MXFP4_MOE (MXFP4
 * experts, everything else Q8_0). The two files must hold the same KVs (but
 * quantkit.*) and byte-identical tensors. The families' conversions
 * themselves are proven against an independent forward pass in
 * test_convert / test_convert_moe / test_moe2 / test_llama4 / test_convert_qwen35 / test_phimoe /
 * test_convert_granitehybrid / test_convert_nemotronh (LFM2-MoE: test_convert). */
#include <stdio.h>
#include <string.h>

#include "convert_run.h"
#include "ftypes.h"
#include "gguf_compare.h"
#include "imatrix_ref.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "quantize_model.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

typedef struct {
    const char *arch;
    int n_layer, n_embd, n_head, n_head_kv, n_ff, n_expert;
    bool tied;
    const char *dtype;
} moe_case;

/* the shapes the families' own tests use */
static const moe_case k_cases[] = {
    {"mixtral", 2, 256, 4, 2, 512, 0, false, "F32"},
    {"qwen2moe", 2, 256, 4, 2, 512, 0, false, "F32"},
    {"qwen3moe", 2, 256, 4, 2, 512, 0, false, "F32"},
    {"olmoe", 2, 256, 4, 4, 64, 0, false, "F32"},
    {"granitemoeshared", 2, 256, 4, 2, 64, 0, true, "F32"},
    {"qwen3vlmoe", 2, 256, 4, 2, 64, 0, false, "F32"},
    {"ernie45moe", 3, 256, 4, 2, 128, 0, true, "F32"},
    {"gptoss", 4, 64, 4, 2, 64, 0, false, "BF16"},
    {"deepseek3", 3, 64, 4, 4, 128, 0, false, "F32"},
    {"glm4moe", 3, 64, 4, 2, 128, 0, false, "F32"},
    {"llama4", 4, 64, 4, 2, 32, 4, false, "BF16"},
    {"qwen35moe", 4, 64, 4, 2, 32, 0, false, "BF16"},
    {"qwen3next", 4, 64, 4, 2, 32, 0, false, "BF16"},
    {"phimoe", 2, 256, 4, 2, 128, 0, false, "BF16"},
    {"granitehybrid", 4, 64, 4, 2, 32, 0, true, "BF16"},
    {"nemotronh_moe", 5, 64, 4, 2, 96, 0, false, "BF16"},
    {"lfm2moe", 4, 256, 4, 2, 64, 0, true, "BF16"},
    /* not MoE: the attention-free families, for the type mix's ssm_* rules */
    {"mamba", 2, 256, 4, 4, 64, 0, true, "BF16"},
    {"falconmamba", 2, 256, 4, 4, 64, 0, false, "BF16"},
    {"mamba2", 2, 256, 4, 4, 64, 0, true, "BF16"},
    {"jamba", 4, 256, 4, 2, 64, 0, false, "BF16"}, /* Mamba-1, attention and experts */
};

static const int k_ftypes[] = {QK_FTYPE_Q4_K_M, QK_FTYPE_IQ3_XXS, QK_FTYPE_MXFP4_MOE};

/* quantkit and llama.cpp quantize `in` to ftype (with the imatrix when given); same tensors? */
static bool same_as_llama(const llama_ref *r, const char *in, int ftype, const imatrix_ref *imr, const char *dat,
                          const char *what) {
    char ours[800], theirs[800];
    snprintf(ours, sizeof ours, "%s/moeq-ours.gguf", qk_test_tmpdir());
    snprintf(theirs, sizeof theirs, "%s/moeq-theirs.gguf", qk_test_tmpdir());
    qk_quantize_opts o = tiny_quantize_opts(ftype);
    o.n_threads = 2;
    if (imr) o.imatrix = &imr->im, o.imatrix_path = dat;
    qk_quantize_report rep;
    qk_err err;
    const int rc = qk_quantize_model(in, ours, &o, &rep, &err);
    qk_quantize_report_free(&rep);
    CHECK_MSG(rc == QK_OK, "%s: quantkit: %s", what, err.msg);
    ref_llama_model_quantize_params p = r->llama_model_quantize_default_params();
    p.nthread = 2;
    p.ftype = ftype;
    struct ref_llama_model_kv_override kvo[8] = {{0}};
    if (imr) {
        p.imatrix = imr->data;
        imatrix_ref_kv_overrides(imr, dat, kvo, 0); /* what llama-quantize's CLI adds */
        p.kv_overrides = kvo;
    }
    const uint32_t lrc = r->llama_model_quantize(in, theirs, &p);
    CHECK_MSG(lrc == 0, "%s: llama_model_quantize failed (%u)", what, lrc);
    const bool same = rc == QK_OK && lrc == 0 && gguf_same_but_quantkit(ours, theirs, what);
    remove(ours), remove(theirs);
    return same;
}

static void test_moe_quantized_like_llama(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) {
        CHECK(r != NULL);
        return;
    }
    llama_ref_init_backend();
    int runs = 0, bad = 0;
    for (size_t c = 0; c < sizeof k_cases / sizeof k_cases[0]; c++) {
        const moe_case *mc = &k_cases[c];
        tiny_hf_spec s;
        tiny_hf_default(&s);
        s.arch = mc->arch, s.n_layer = mc->n_layer, s.n_embd = mc->n_embd, s.n_head = mc->n_head;
        s.n_head_kv = mc->n_head_kv, s.n_ff = mc->n_ff, s.n_expert = mc->n_expert, s.tied = mc->tied;
        s.dtype = mc->dtype;
        char dir[700], f16[800], dat[800];
        snprintf(dir, sizeof dir, "%s/moeq-%s/hf", qk_test_tmpdir(), mc->arch);
        snprintf(f16, sizeof f16, "%s/moeq-%s-F16.gguf", qk_test_tmpdir(), mc->arch);
        snprintf(dat, sizeof dat, "%s/moeq-%s.imatrix.dat", qk_test_tmpdir(), mc->arch);
        CHECK_MSG(tiny_hf_write(dir, &s) == 0, "%s: cannot write the checkpoint", mc->arch);
        qk_err err;
        if (convert_run(dir, f16, "f16", 2, &err) != QK_OK) {
            CHECK_MSG(0, "%s: convert: %s", mc->arch, err.msg);
            continue;
        }
        imatrix_ref imr = {0};
        CHECK(imatrix_ref_write(f16, dat, 7, &imr) == 0);
        for (size_t f = 0; f < sizeof k_ftypes / sizeof k_ftypes[0]; f++) {
            const qk_ftype_info *fi = qk_ftype_by_id(k_ftypes[f]);
            char what[128];
            snprintf(what, sizeof what, "%s %s", mc->arch, fi ? fi->name : "?");
            const bool use_imatrix = k_ftypes[f] == QK_FTYPE_IQ3_XXS;
            runs++;
            if (!same_as_llama(r, f16, k_ftypes[f], use_imatrix ? &imr : NULL, dat, what)) bad++;
        }
        imatrix_ref_free(&imr);
        remove(f16), remove(dat);
    }
    fprintf(stderr, "%d MoE quantizations compared with llama_model_quantize, %d differ\n", runs, bad);
    CHECK_EQ_INT(bad, 0);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_moe_quantized_like_llama);
    return qk_test_summary();
}
