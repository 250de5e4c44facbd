/* Llama 4's text model end to end against the real llama.cpp: tiny
 * checkpoints in Scout's (Llama4ForConditionalGeneration, every layer
 * sparse, q/k L2 norm, llama3 rope scaling, the vision tower left out),
 * Maverick's (128 experts, dense layers interleaved, no q/k norm) and the
 * text-only Llama4ForCausalLM layout, converted to F32, F16 and Q8_0 files
 * that llama.cpp loads and runs to the logits of an independent float
 * implementation of transformers' modeling_llama4.py (hf_forward_llama4.c);
 * configurations llama.cpp's graph cannot reproduce are refused by name. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_model.h"
#include "convert_run.h"
#include "gguf.h"
#include "gguf_compare.h"
#include "hf_forward_llama4.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "hf_forward.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf.h"

static void spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->n_layer = 4, s->n_embd = 64, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 32;
    s->n_expert = 4;
    s->dtype = "BF16"; /* as the releases store them */
}


/* n_tensors: the GGUF's; left_out: the prefixes the plan leaves out */
static void check_model(const char *arch, const char *step, const char *n_expert, int n_tensors, const char *left_out) {
    tiny_hf_spec s;
    spec(&s, arch);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/tiny-%s/hf", qk_test_tmpdir(), arch);
    CHECK(tiny_hf_write(dir, &s) == 0);
    convert_check_left_out(dir, left_out);
    logit_ref r;
    memcpy(r.prompt, logit_prompt, sizeof r.prompt);
    char e[256];
    r.want = hf_llama4_logits(dir, r.prompt, LOGIT_NP, &r.nv, r.margin, e, sizeof e);
    CHECK_MSG(r.want != NULL, "%s", e);
    if (!r.want) return;
    const double margin_min = 0.1;
    logit_ref_check_margins(&r, margin_min, arch);
    /* tolerances of the largest logit's size: F32 and F16 within llama.cpp's F16 KV cache at every position; Q8_0
     * (weights and, in llama.cpp's CPU matmuls, activations at 8 bits, through SiLU experts driven far from linear)
     * where the top-1 routing has a margin in every sparse layer; the Q8_0 bytes themselves are proven below */
    static const struct { const char *type; double tol; bool all; } cases[] = {
        {"f32", 2e-3, true}, {"f16", 5e-3, true}, {"q8_0", 0.08, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char out[800], what[64];
        snprintf(out, sizeof out, "%s/tiny-%s-%s.gguf", qk_test_tmpdir(), arch, cases[c].type);
        snprintf(what, sizeof what, "%s %s", arch, cases[c].type);
        llama_run_model *m = logit_convert_load(dir, out, cases[c].type, &r);
        if (!m) continue;
        convert_check_kv(m, "general.architecture", "llama4");
        convert_check_kv(m, "llama4.interleave_moe_layer_step", step);
        convert_check_kv(m, "llama4.expert_count", n_expert);
        convert_check_kv(m, "llama4.expert_used_count", "1");
        convert_check_kv(m, "llama4.expert_feed_forward_length", "32");
        convert_check_kv(m, "llama4.feed_forward_length", "64");
        convert_check_kv(m, "llama4.rope.dimension_count", "16");
        logit_ref_compare(&r, m, cases[c].all, margin_min, cases[c].tol, what);
        llama_run_free(m);
        qk_gguf_file *gf = gguf_open_checked(out);
        if (gf) CHECK_EQ_INT(gf->meta.n_tensors, n_tensors);
        qk_gguf_close(gf);
    }
    logit_ref_free(&r);
    /* the quantized file is llama.cpp's: llama_model_quantize of our F16 output to Q8_0, tensor for tensor */
    const llama_ref *R = llama_ref_require();
    if (!R) return;
    char f16[800], ours[800], theirs[800];
    snprintf(f16, sizeof f16, "%s/tiny-%s-f16.gguf", qk_test_tmpdir(), arch);
    snprintf(ours, sizeof ours, "%s/tiny-%s-q8_0.gguf", qk_test_tmpdir(), arch);
    snprintf(theirs, sizeof theirs, "%s/tiny-%s-q8_0-llama.gguf", qk_test_tmpdir(), arch);
    ref_llama_model_quantize_params qp = R->llama_model_quantize_default_params();
    qp.nthread = 2, qp.ftype = 7; /* LLAMA_FTYPE_MOSTLY_Q8_0 */
    CHECK_EQ_INT((int)R->llama_model_quantize(f16, theirs, &qp), 0);
    CHECK(gguf_same_tensors(ours, theirs, arch));
}

/* token_embd, output_norm, output, rope_freqs; per layer attn_norm, q, k, v, output, ffn_norm (6) and
 * ffn_gate_inp, 3 stacked, 3 shared (7) */
static void test_scout(void) { check_model("llama4", "1", "4", 4 + 4 * 13, "multi_modal_projector.;vision_model.;"); }
/* Scout's layout spread over 3 shards (index + parts) converts to the same tensors as the single file */
static void test_scout_sharded(void) {
    tiny_hf_spec s;
    spec(&s, "llama4");
    s.shards = 3;
    char dir[700], a[800], b[800];
    snprintf(dir, sizeof dir, "%s/tiny-llama4-sharded/hf", qk_test_tmpdir());
    CHECK(tiny_hf_write(dir, &s) == 0);
    snprintf(a, sizeof a, "%s/tiny-llama4-sharded-f32.gguf", qk_test_tmpdir());
    snprintf(b, sizeof b, "%s/tiny-llama4-f32.gguf", qk_test_tmpdir());
    qk_err err;
    CHECK_MSG(convert_run(dir, a, "f32", 2, &err) == QK_OK, "%s", err.msg);
    /* the same tensors by name (the order follows the shards), shape, type and bytes */
    qk_gguf_file *fa = NULL, *fb = NULL;
    CHECK_MSG(qk_gguf_open(a, &fa, &err) == QK_OK, "%s", err.msg);
    CHECK_MSG(qk_gguf_open(b, &fb, &err) == QK_OK, "%s", err.msg);
    if (fa && fb) {
        CHECK_EQ_INT((int)fa->meta.n_tensors, (int)fb->meta.n_tensors);
        for (uint64_t i = 0; i < fa->meta.n_tensors; i++) {
            const qk_gguf_tensor *ta = &fa->meta.tensors[i];
            const int64_t j = qk_gguf_find_tensor(&fb->meta, ta->name);
            CHECK_MSG(j >= 0, "%s missing from the one-file conversion", ta->name);
            if (j < 0) continue;
            const qk_gguf_tensor *tb = &fb->meta.tensors[j];
            CHECK_MSG(ta->type == tb->type && ta->nbytes == tb->nbytes && ta->n_dims == tb->n_dims &&
                          !memcmp(ta->ne, tb->ne, sizeof ta->ne), "%s differs in type or shape", ta->name);
            if (ta->nbytes != tb->nbytes) continue;
            unsigned char *da = malloc(ta->nbytes), *db = malloc(tb->nbytes);
            CHECK(qk_gguf_read_tensor(fa, ta, 0, da, ta->nbytes, &err) == QK_OK);
            CHECK(qk_gguf_read_tensor(fb, tb, 0, db, tb->nbytes, &err) == QK_OK);
            CHECK_MSG(!memcmp(da, db, ta->nbytes), "%s: other bytes", ta->name);
            free(da), free(db);
        }
    }
    qk_gguf_close(fa), qk_gguf_close(fb);
}
static void test_text(void) { check_model("llama4text", "1", "4", 4 + 4 * 13, ""); }
/* no rope scaling: no rope_freqs; layers 1 and 3 sparse (13), 0 and 2 dense (9) */
static void test_maverick(void) {
    check_model("llama4maverick", "2", "128", 3 + 2 * 13 + 2 * 9, "multi_modal_projector.;vision_model.;");
}

static void test_refusals(void) { refusal_config_table("test_llama4", "refusals", spec); }

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    llama_ref_init_backend();
    RUN(test_refusals);
    RUN(test_scout);
    RUN(test_scout_sharded);
    RUN(test_text);
    RUN(test_maverick);
    return qk_test_summary();
}
