/* The reference forward pass (hf_forward.h) against the real llama.cpp.
 *
 * 1. ollama's tiny random Llama GGUF (a file nobody here wrote): its weights,
 *    with q/k rows taken back from llama.cpp's interleaved-rope order to HF's
 *    rotate-half order, fed to the reference as an HF checkpoint, give the
 *    logits llama.cpp computes on the GGUF.
 * 2. Random HF checkpoints of several architectures, written here as F32
 *    GGUFs by the conversion rules of llama.cpp's convert_hf_to_gguf.py
 *    (tensor names, q/k permutation for Llama, +1 on Gemma norm weights),
 *    with the ollama file's vocabulary: llama.cpp's logits equal the
 *    reference's. This pins down each architecture's semantics from the other
 *    side (a hand-written mapping here, not quantkit's converter).
 * Needs the pinned llama.cpp libraries; the fixture file is an optional tier.
 */
#include <math.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "hf_forward.h"
#include "llama_run.h"
#include "fixture_copy.h"
#include "qk_test.h"
#include "weight_dict.h"
#include "float_formats.h"

/* GGUF q/k rows (per head: pairs (2j, 2j+1)) from HF rows (per head: halves
 * j and j + hd/2): gguf row h*hd + 2j + t == hf row h*hd + t*hd/2 + j. */
static int hf_row_of_gguf_row(int r, int hd) {
    int h = r / hd, w = r % hd, j = w / 2, t = w % 2;
    return h * hd + t * (hd / 2) + j;
}

static double max_abs(const float *a, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; i++) if (fabs(a[i]) > mx) mx = fabs(a[i]);
    return mx;
}

/* Compares llama.cpp's logits with the reference's on tokens. */
static void compare_logits(const char *what, const char *gguf_path, hf_model *ref, const int32_t *tk, int n,
                           double rel_tol) {
    llama_run_model *lm = llama_run_load(gguf_path, false);
    CHECK_MSG(lm != NULL, "%s: %s", what, llama_run_error());
    if (!lm) return;
    int V = hf_forward_vocab(ref);
    CHECK_EQ_INT(llama_run_n_vocab(lm), V);
    float *a = malloc((size_t)n * V * sizeof(float)), *b = malloc((size_t)n * V * sizeof(float));
    CHECK_MSG(llama_run_logits(lm, tk, n, a), "%s", llama_run_error());
    CHECK_MSG(hf_forward_logits(ref, tk, n, b) == 0, "%s", hf_forward_error(ref));
    double scale = max_abs(b, (size_t)n * V), worst = 0;
    int argmax_bad = 0;
    for (int p = 0; p < n; p++) {
        int ia = 0, ib = 0;
        for (int i = 0; i < V; i++) {
            double dd = fabs((double)a[(size_t)p * V + i] - b[(size_t)p * V + i]);
            if (!(dd <= worst)) worst = dd;
            if (a[(size_t)p * V + i] > a[(size_t)p * V + ia]) ia = i;
            if (b[(size_t)p * V + i] > b[(size_t)p * V + ib]) ib = i;
        }
        if (getenv("QK_HF_DEBUG")) { /* per-position detail when investigating */
            double pw = 0;
            for (int i = 0; i < V; i++) { double dd = fabs((double)a[(size_t)p * V + i] - b[(size_t)p * V + i]); if (dd > pw) pw = dd; }
            fprintf(stderr, "    pos %d: max diff %.3g\n", p, pw);
        }
        /* argmax may differ only on a near-tie */
        if (ia != ib && fabs((double)b[(size_t)p * V + ia] - b[(size_t)p * V + ib]) > rel_tol * scale) argmax_bad++;
    }
    fprintf(stderr, "  %s: max |llama.cpp - reference| = %.3g (max |logit| %.3g)\n", what, worst, scale);
    CHECK_MSG(scale > 0 && worst <= rel_tol * scale, "%s: diff %g vs scale %g", what, worst, scale);
    CHECK_EQ_INT(argmax_bad, 0);
    free(a);
    free(b);
    llama_run_free(lm);
}

static const int32_t toks[12] = {1, 450, 4996, 17354, 1701, 29916, 432, 12, 31999, 5, 5, 278};

/* ---------- 1. ollama's tiny Llama ---------- */

static int load_tensor_f32(qk_gguf_file *f, const char *name, float **out, int64_t *ne0, int64_t *ne1) {
    int64_t ti = qk_gguf_find_tensor(&f->meta, name);
    if (ti < 0) return -1;
    const qk_gguf_tensor *t = &f->meta.tensors[ti];
    size_t n = (size_t)t->ne[0] * (size_t)t->ne[1];
    *ne0 = t->ne[0];
    *ne1 = t->n_dims > 1 ? t->ne[1] : -1;
    void *raw = malloc(t->nbytes);
    qk_err e;
    if (qk_gguf_read_tensor(f, t, 0, raw, t->nbytes, &e)) { free(raw); return -1; }
    *out = malloc(n * sizeof(float));
    if (t->type == 0) memcpy(*out, raw, n * sizeof(float));
    else if (t->type == 1) qk_fp16_to_fp32_row(raw, *out, (int64_t)n);
    else { free(raw); free(*out); return -1; }
    free(raw);
    return 0;
}

/* GGUF tensor gg of f as the HF tensor hf in d (rows un-permuted back to
 * rotate-half order when perm: q / k of hd-wide heads); 0, or -1 after a
 * failed CHECK. */
static int take_as_hf(qk_gguf_file *f, wdict *d, const char *gg, const char *hf, int perm, int hd) {
    float *src = NULL;
    int64_t ne0 = 0, ne1 = 0;
    CHECK_MSG(load_tensor_f32(f, gg, &src, &ne0, &ne1) == 0, "%s", gg);
    if (!src) return -1;
    float *dst = ne1 < 0 ? wd_put(d, hf, ne0, -1) : wd_put(d, hf, ne1, ne0);
    if (perm)
        for (int r = 0; r < ne1; r++)
            memcpy(dst + (size_t)hf_row_of_gguf_row(r, hd) * ne0, src + (size_t)r * ne0, (size_t)ne0 * sizeof(float));
    else
        memcpy(dst, src, (size_t)(ne0 * (ne1 < 0 ? 1 : ne1)) * sizeof(float));
    free(src);
    return 0;
}

static void test_ollama_tiny_llama(void) {
    char gpath[1024];
    if (!fixture_copy(gpath, sizeof gpath, "gguf-by-others/ollama-llama-2-tiny-random.gguf")) return;
    qk_gguf_file *f = NULL;
    qk_err e;
    CHECK_MSG(qk_gguf_open(gpath, &f, &e) == 0, "%s", e.msg);
    if (!f) return;
    static const struct { const char *gg, *hf; } globals[] = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"},
    };
    /* the one layer's: "blk.0." + gg is "model.layers.0." + hf; q / k permuted */
    static const struct { const char *gg, *hf; int perm; } layer[] = {
        {"attn_norm.weight", "input_layernorm.weight", 0},  {"ffn_norm.weight", "post_attention_layernorm.weight", 0},
        {"attn_q.weight", "self_attn.q_proj.weight", 1},    {"attn_k.weight", "self_attn.k_proj.weight", 1},
        {"attn_v.weight", "self_attn.v_proj.weight", 0},    {"attn_output.weight", "self_attn.o_proj.weight", 0},
        {"ffn_gate.weight", "mlp.gate_proj.weight", 0},     {"ffn_up.weight", "mlp.up_proj.weight", 0},
        {"ffn_down.weight", "mlp.down_proj.weight", 0},
    };
    wdict d = {0};
    const int hd = 4; /* embedding_length 8 / head_count 2 */
    int bad = 0;
    for (size_t i = 0; i < sizeof globals / sizeof globals[0] && !bad; i++)
        bad = take_as_hf(f, &d, globals[i].gg, globals[i].hf, 0, hd);
    for (size_t i = 0; i < sizeof layer / sizeof layer[0] && !bad; i++) {
        char gg[96], hf[96];
        snprintf(gg, sizeof gg, "blk.0.%s", layer[i].gg);
        snprintf(hf, sizeof hf, "model.layers.0.%s", layer[i].hf);
        bad = take_as_hf(f, &d, gg, hf, layer[i].perm, hd);
    }
    qk_gguf_close(f);
    const char *cfg = "{\"model_type\": \"llama\", \"vocab_size\": 32000, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
                      " \"num_attention_heads\": 2, \"num_key_value_heads\": 2, \"intermediate_size\": 32,"
                      " \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"tie_word_embeddings\": false}";
    char err[512];
    hf_model *m = qk_test_checks_failed ? NULL : hf_forward_load_json(cfg, wd_get, &d, err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    /* llama.cpp multiplies F16 weights with F16-rounded activations: 2.3e-4
     * of the largest logit measured */
    if (m) compare_logits("ollama tiny llama", gpath, m, toks, 12, 1e-3);
    hf_forward_free(m);
    wd_free(&d);
}

/* ---------- 2. synthesized checkpoints of several architectures ---------- */

enum { SV = 32000, SH = 32, SL = 2, SNH = 4, SNKV = 2, SHD = 8, SFF = 40 };

typedef struct {
    const char *model_type, *gguf_arch;
    int permute_qk, gemma, post_norms, qk_norm, qkv_bias;
    const char *cfg_extra;
} arch_case;

static void rand_fill(float *p, size_t n, qk_rng *r, float mean, float sd) {
    for (size_t i = 0; i < n; i++) p[i] = mean + sd * qk_rng_gauss(r);
}

static void make_weights(wdict *d, const arch_case *a, uint64_t seed) {
    qk_rng r = {seed};
    char n[128];
    rand_fill(wd_put(d, "model.embed_tokens.weight", SV, SH), (size_t)SV * SH, &r, 0, 1.0f);
    float nm = a->gemma ? 0.0f : 1.0f; /* Gemma stores w with output (1 + w) */
    rand_fill(wd_put(d, "model.norm.weight", SH, -1), SH, &r, nm, 0.2f);
    if (!a->gemma) rand_fill(wd_put(d, "lm_head.weight", SV, SH), (size_t)SV * SH, &r, 0, 0.3f);
    for (int i = 0; i < SL; i++) {
#define P(fmt, d0, d1, mean, sd) \
    (snprintf(n, sizeof n, "model.layers.%d." fmt, i), \
     rand_fill(wd_put(d, n, d0, d1), (size_t)(d0) * (size_t)((d1) < 0 ? 1 : (d1)), &r, mean, sd))
        P("input_layernorm.weight", SH, -1, nm, 0.2f);
        P("post_attention_layernorm.weight", SH, -1, nm, 0.2f);
        if (a->post_norms) {
            P("pre_feedforward_layernorm.weight", SH, -1, nm, 0.2f);
            P("post_feedforward_layernorm.weight", SH, -1, nm, 0.2f);
        }
        if (a->qk_norm) {
            P("self_attn.q_norm.weight", SHD, -1, nm, 0.2f);
            P("self_attn.k_norm.weight", SHD, -1, nm, 0.2f);
        }
        P("self_attn.q_proj.weight", SNH * SHD, SH, 0, 0.4f);
        P("self_attn.k_proj.weight", SNKV * SHD, SH, 0, 0.4f);
        P("self_attn.v_proj.weight", SNKV * SHD, SH, 0, 0.3f);
        if (a->qkv_bias) {
            P("self_attn.q_proj.bias", SNH * SHD, -1, 0, 0.3f);
            P("self_attn.k_proj.bias", SNKV * SHD, -1, 0, 0.3f);
            P("self_attn.v_proj.bias", SNKV * SHD, -1, 0, 0.3f);
        }
        P("self_attn.o_proj.weight", SH, SNH * SHD, 0, 0.3f);
        P("mlp.gate_proj.weight", SFF, SH, 0, 0.3f);
        P("mlp.up_proj.weight", SFF, SH, 0, 0.3f);
        P("mlp.down_proj.weight", SH, SFF, 0, 0.3f);
#undef P
    }
}

/* convert_hf_to_gguf.py's tensor names for these architectures. */
static int gguf_name(const arch_case *a, const char *hf, char *out, size_t n) {
    static const struct { const char *hf, *gg, *gg_post; } tab[] = {
        {"input_layernorm.weight", "attn_norm.weight", NULL},
        {"post_attention_layernorm.weight", "ffn_norm.weight", "post_attention_norm.weight"},
        {"pre_feedforward_layernorm.weight", "ffn_norm.weight", NULL},
        {"post_feedforward_layernorm.weight", "post_ffw_norm.weight", NULL},
        {"self_attn.q_norm.weight", "attn_q_norm.weight", NULL},
        {"self_attn.k_norm.weight", "attn_k_norm.weight", NULL},
        {"self_attn.q_proj.weight", "attn_q.weight", NULL}, {"self_attn.q_proj.bias", "attn_q.bias", NULL},
        {"self_attn.k_proj.weight", "attn_k.weight", NULL}, {"self_attn.k_proj.bias", "attn_k.bias", NULL},
        {"self_attn.v_proj.weight", "attn_v.weight", NULL}, {"self_attn.v_proj.bias", "attn_v.bias", NULL},
        {"self_attn.o_proj.weight", "attn_output.weight", NULL},
        {"mlp.gate_proj.weight", "ffn_gate.weight", NULL}, {"mlp.up_proj.weight", "ffn_up.weight", NULL},
        {"mlp.down_proj.weight", "ffn_down.weight", NULL},
    };
    if (!strcmp(hf, "model.embed_tokens.weight")) return snprintf(out, n, "token_embd.weight"), 0;
    if (!strcmp(hf, "model.norm.weight")) return snprintf(out, n, "output_norm.weight"), 0;
    if (!strcmp(hf, "lm_head.weight")) return snprintf(out, n, "output.weight"), 0;
    int layer, off = 0;
    if (sscanf(hf, "model.layers.%d.%n", &layer, &off) != 1 || !off) return -1;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(hf + off, tab[i].hf)) {
            const char *g = a->post_norms && tab[i].gg_post ? tab[i].gg_post : tab[i].gg;
            snprintf(out, n, "blk.%d.%s", layer, g);
            return 0;
        }
    return -1;
}

static int write_gguf(const char *path, const arch_case *a, const wdict *d, const qk_gguf_meta *vocab, qk_err *e) {
    qk_gguf_writer *w = qk_gguf_writer_new();
    char k[128];
    const char *ar = a->gguf_arch;
    int rc = qk_gguf_writer_add_str(w, "general.architecture", ar, e);
#define U32(key, v) (snprintf(k, sizeof k, "%s." key, ar), rc = rc ? rc : qk_gguf_writer_add_u32(w, k, v, e))
#define F32(key, v) (snprintf(k, sizeof k, "%s." key, ar), rc = rc ? rc : qk_gguf_writer_add_f32(w, k, v, e))
    U32("context_length", 256);
    U32("embedding_length", SH);
    U32("block_count", SL);
    U32("feed_forward_length", SFF);
    U32("attention.head_count", SNH);
    U32("attention.head_count_kv", SNKV);
    U32("attention.key_length", SHD);
    U32("attention.value_length", SHD);
    U32("rope.dimension_count", SHD);
    F32("attention.layer_norm_rms_epsilon", 1e-5f);
    F32("rope.freq_base", 10000.0f);
    if (!strcmp(ar, "gemma2")) {
        U32("attention.sliding_window", 4);
        F32("attn_logit_softcapping", 2.0f);
        F32("final_logit_softcapping", 3.0f);
    }
    if (!strcmp(ar, "gemma3")) {
        U32("attention.sliding_window", 4);
        F32("rope.freq_base_swa", 100.0f);
        U32("attention.sliding_window_pattern", 2);
    }
#undef U32
#undef F32
    for (uint64_t i = 0; i < vocab->n_kv && !rc; i++)
        if (!strncmp(vocab->kv[i].key, "tokenizer.", 10)) rc = qk_gguf_writer_add_kv(w, &vocab->kv[i], e);
    for (int i = 0; i < d->n && !rc; i++) {
        char g[128];
        if (gguf_name(a, d->t[i].name, g, sizeof g)) return qk_fail(e, "no gguf name for %s", d->t[i].name);
        int64_t ne[2] = {d->t[i].nd == 2 ? d->t[i].shape[1] : d->t[i].shape[0], d->t[i].shape[0]};
        rc = qk_gguf_writer_add_tensor(w, g, 0, (uint32_t)d->t[i].nd, ne, e);
    }
    if (!rc) rc = qk_gguf_writer_begin(w, path, e);
    for (int i = 0; i < d->n && !rc; i++) {
        const wt_t *t = &d->t[i];
        size_t n = wd_numel(t);
        float *buf = malloc(n * sizeof(float));
        int is_q = strstr(t->name, "q_proj.weight") != NULL, is_k = strstr(t->name, "k_proj.weight") != NULL;
        if (a->permute_qk && (is_q || is_k)) {
            for (int r = 0; r < t->shape[0]; r++)
                memcpy(buf + (size_t)r * t->shape[1], t->data + (size_t)hf_row_of_gguf_row(r, SHD) * t->shape[1],
                       (size_t)t->shape[1] * sizeof(float));
        } else {
            memcpy(buf, t->data, n * sizeof(float));
        }
        /* Gemma's (1 + w) norms become plain weights. */
        if (a->gemma && strstr(t->name, "norm.weight"))
            for (size_t j = 0; j < n; j++) buf[j] += 1.0f;
        rc = qk_gguf_writer_write(w, buf, n * sizeof(float), e);
        free(buf);
    }
    if (!rc) rc = qk_gguf_writer_finish(w, e);
    qk_gguf_writer_free(w);
    return rc;
}

static void test_architectures_vs_llama_cpp(void) {
    const char *vpath = qk_test_fixture("gguf-by-others/ollama-llama-2-tiny-random.gguf");
    if (!vpath) return; /* the vocabulary source */
    qk_gguf_file *vf = NULL;
    qk_err e;
    CHECK_MSG(qk_gguf_open(vpath, &vf, &e) == 0, "%s", e.msg);
    if (!vf) return;
    static const arch_case cases[] = {
        {"llama", "llama", 1, 0, 0, 0, 0, ""},
        {"mistral", "llama", 1, 0, 0, 0, 0, ", \"sliding_window\": null"},
        {"qwen2", "qwen2", 0, 0, 0, 0, 1, ""},
        {"qwen3", "qwen3", 0, 0, 0, 1, 0, ""},
        {"gemma", "gemma", 0, 1, 0, 0, 0, ""},
        /* llama.cpp scales by 1/sqrt(head_dim) whatever query_pre_attn_scalar
         * says, so the checkpoint uses query_pre_attn_scalar == head_dim. */
        {"gemma2", "gemma2", 0, 1, 1, 0, 0,
         ", \"query_pre_attn_scalar\": 8, \"sliding_window\": 4, \"attn_logit_softcapping\": 2.0,"
         " \"final_logit_softcapping\": 3.0"},
        {"gemma3_text", "gemma3", 0, 1, 1, 1, 0,
         ", \"query_pre_attn_scalar\": 8, \"sliding_window\": 4, \"sliding_window_pattern\": 2,"
         " \"rope_local_base_freq\": 100.0, \"rope_scaling\": null"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const arch_case *a = &cases[c];
        wdict d = {0};
        make_weights(&d, a, 100 + c);
        char path[700], cfg[2048], err[512];
        snprintf(path, sizeof path, "%s/%s.gguf", qk_test_tmpdir(), a->model_type);
        int rc = write_gguf(path, a, &d, &vf->meta, &e);
        CHECK_MSG(rc == 0, "%s: %s", a->model_type, e.msg);
        snprintf(cfg, sizeof cfg,
                 "{\"model_type\": \"%s\", \"vocab_size\": %d, \"hidden_size\": %d, \"num_hidden_layers\": %d,"
                 " \"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"head_dim\": %d,"
                 " \"intermediate_size\": %d, \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0,"
                 " \"tie_word_embeddings\": %s, \"hidden_act\": \"silu\", \"hidden_activation\": \"gelu_pytorch_tanh\"%s}",
                 a->model_type, SV, SH, SL, SNH, SNKV, SHD, SFF, a->gemma ? "true" : "false", a->cfg_extra);
        hf_model *m = rc ? NULL : hf_forward_load_json(cfg, wd_get, &d, err, sizeof err);
        CHECK_MSG(rc || m != NULL, "%s: %s", a->model_type, err);
        /* F32 weights and (llama_run_f32_attention) an F32 KV cache without
         * flash attention: 0.6e-6-1.3e-6 of the largest logit measured for
         * the Llama-like ones (0.3-0.6% with the default F16 cache). Gemma's
         * GELU is ggml's F16 table: 0.7e-4-5e-4 measured. */
        if (m) compare_logits(a->model_type, path, m, toks, 12, a->gemma ? 1e-3 : 1e-4);
        hf_forward_free(m);
        wd_free(&d);
    }
    qk_gguf_close(vf);
}

int main(void) {
    llama_run_f32_attention(true); /* the reference computes in F32 throughout */
    RUN(test_ollama_tiny_llama);
    RUN(test_architectures_vs_llama_cpp);
    return qk_test_summary();
}
