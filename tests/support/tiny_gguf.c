#include "tiny_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "float_formats.h"
#include "gguf_writer.h"
#include "qk_test.h"
#include "ggml_types.h"

typedef struct {
    char name[64];
    uint32_t type;
    int n_dims;
    int64_t ne[4];
    float scale, offset;
} tdef;

const tiny_gguf_model tiny_gguf_mix_models[TINY_GGUF_N_MIX_MODELS] = {
    {"gqa4-8layers", {8, 256, 8, 2, 512, 300, 0, false, QK_TYPE_F16, 1}},
    {"tied-odd-rows", {4, 96, 4, 4, 176, 272, 0, true, QK_TYPE_BF16, 2}},
    {"moe8", {2, 256, 4, 2, 256, 280, 8, false, QK_TYPE_F16, 3}},
    {"f32-narrow", {2, 32, 2, 1, 64, 270, 0, true, QK_TYPE_F32, 4}},
};

void tiny_gguf_tmp(char *path, size_t n, const char *name, const tiny_gguf_spec *s) {
    snprintf(path, n, "%s/%s", qk_test_tmpdir(), name);
    CHECK_MSG(tiny_gguf_write(path, s) == 0, "cannot write %s", path);
}

void tiny_quantized_tmp(const char *in_name, const tiny_gguf_spec *s, int ftype, const char *out_path) {
    char in[700];
    tiny_gguf_tmp(in, sizeof in, in_name, s);
    qk_quantize_opts o = tiny_quantize_opts(ftype);
    o.command_line = "quantize (test)";
    qk_quantize_report rep;
    qk_err err;
    CHECK_MSG(qk_quantize_model(in, out_path, &o, &rep, &err) == QK_OK, "%s", err.msg);
    qk_quantize_report_free(&rep);
}

int tiny_gguf_write(const char *path, const tiny_gguf_spec *s) {
    tdef *t = calloc(64 + (size_t)s->n_layer * 16, sizeof *t);
    int n = 0;
#define ADD(nm, ty, nd, a, b, c, sc, of)                                                          \
    do {                                                                                           \
        snprintf(t[n].name, sizeof t[n].name, "%s", nm);                                           \
        t[n].type = (ty), t[n].n_dims = (nd), t[n].ne[0] = (a), t[n].ne[1] = (b), t[n].ne[2] = (c); \
        t[n].ne[3] = 1, t[n].scale = (sc), t[n].offset = (of);                                     \
        n++;                                                                                       \
    } while (0)
    const int hd = s->n_embd / s->n_head;
    ADD("token_embd.weight", s->wtype, 2, s->n_embd, s->n_vocab, 1, 0.02f, 0);
    ADD("output_norm.weight", QK_TYPE_F32, 1, s->n_embd, 1, 1, 0.1f, 1.0f);
    if (!s->tied) ADD("output.weight", s->wtype, 2, s->n_embd, s->n_vocab, 1, 0.02f, 0);
    for (int l = 0; l < s->n_layer; l++) {
        char nm[64];
#define L(suffix) (snprintf(nm, sizeof nm, "blk.%d.%s", l, suffix), nm)
        ADD(L("attn_norm.weight"), QK_TYPE_F32, 1, s->n_embd, 1, 1, 0.1f, 1.0f);
        ADD(L("attn_q.weight"), s->wtype, 2, s->n_embd, s->n_embd, 1, 0.02f, 0);
        ADD(L("attn_k.weight"), s->wtype, 2, s->n_embd, hd * s->n_head_kv, 1, 0.02f, 0);
        ADD(L("attn_v.weight"), s->wtype, 2, s->n_embd, hd * s->n_head_kv, 1, 0.02f, 0);
        ADD(L("attn_output.weight"), s->wtype, 2, s->n_embd, s->n_embd, 1, 0.02f, 0);
        ADD(L("ffn_norm.weight"), QK_TYPE_F32, 1, s->n_embd, 1, 1, 0.1f, 1.0f);
        if (s->n_expert) {
            ADD(L("ffn_gate_inp.weight"), QK_TYPE_F32, 2, s->n_embd, s->n_expert, 1, 0.02f, 0);
            ADD(L("ffn_gate_exps.weight"), s->wtype, 3, s->n_embd, s->n_ff, s->n_expert, 0.02f, 0);
            ADD(L("ffn_down_exps.weight"), s->wtype, 3, s->n_ff, s->n_embd, s->n_expert, 0.02f, 0);
            ADD(L("ffn_up_exps.weight"), s->wtype, 3, s->n_embd, s->n_ff, s->n_expert, 0.02f, 0);
        } else {
            ADD(L("ffn_gate.weight"), s->wtype, 2, s->n_embd, s->n_ff, 1, 0.02f, 0);
            ADD(L("ffn_down.weight"), s->wtype, 2, s->n_ff, s->n_embd, 1, 0.02f, 0);
            ADD(L("ffn_up.weight"), s->wtype, 2, s->n_embd, s->n_ff, 1, 0.02f, 0);
        }
#undef L
    }
#undef ADD
    qk_err err;
    qk_gguf_writer *w = qk_gguf_writer_new();
    int rc = 0;
    rc |= qk_gguf_writer_add_str(w, "general.architecture", "llama", &err);
    rc |= qk_gguf_writer_add_str(w, "general.name", "tiny", &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.block_count", (uint32_t)s->n_layer, &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.context_length", 256, &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.embedding_length", (uint32_t)s->n_embd, &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.feed_forward_length", (uint32_t)s->n_ff, &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.attention.head_count", (uint32_t)s->n_head, &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.attention.head_count_kv", (uint32_t)s->n_head_kv, &err);
    rc |= qk_gguf_writer_add_f32(w, "llama.rope.freq_base", 10000.0f, &err);
    rc |= qk_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &err);
    if (s->n_expert) {
        rc |= qk_gguf_writer_add_u32(w, "llama.expert_count", (uint32_t)s->n_expert, &err);
        rc |= qk_gguf_writer_add_u32(w, "llama.expert_used_count", 2, &err);
    }
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", s->wtype == QK_TYPE_F32 ? 0 : s->wtype == QK_TYPE_F16 ? 1 : 32,
                                 &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.vocab_size", (uint32_t)s->n_vocab, &err);
    rc |= qk_gguf_writer_add_u32(w, "llama.rope.dimension_count", (uint32_t)hd, &err);
    /* a minimal SentencePiece-style vocabulary so llama.cpp can load it */
    rc |= qk_gguf_writer_add_str(w, "tokenizer.ggml.model", "llama", &err);
    char **toks = calloc((size_t)s->n_vocab, sizeof *toks);
    float *scores = calloc((size_t)s->n_vocab, sizeof *scores);
    int32_t *types = calloc((size_t)s->n_vocab, sizeof *types);
    for (int i = 0; i < s->n_vocab; i++) {
        toks[i] = malloc(16);
        if (i == 0) strcpy(toks[i], "<unk>"), types[i] = 2;
        else if (i == 1) strcpy(toks[i], "<s>"), types[i] = 3;
        else if (i == 2) strcpy(toks[i], "</s>"), types[i] = 3;
        else if (i < 3 + 256) snprintf(toks[i], 16, "<0x%02X>", i - 3), types[i] = 6;
        else snprintf(toks[i], 16, "t%d", i), types[i] = 1;
        scores[i] = -(float)i;
    }
    rc |= qk_gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)toks, (uint64_t)s->n_vocab, &err);
    rc |= qk_gguf_writer_add_arr(w, "tokenizer.ggml.scores", 6, scores, (uint64_t)s->n_vocab, &err);
    rc |= qk_gguf_writer_add_arr(w, "tokenizer.ggml.token_type", 5, types, (uint64_t)s->n_vocab, &err);
    rc |= qk_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1, &err);
    rc |= qk_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2, &err);
    rc |= qk_gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id", 0, &err);
    for (int i = 0; i < s->n_vocab; i++) free(toks[i]);
    free(toks), free(scores), free(types);
    for (int i = 0; i < n; i++) rc |= qk_gguf_writer_add_tensor(w, t[i].name, t[i].type, (uint32_t)t[i].n_dims, t[i].ne, &err);
    if (!rc) rc = qk_gguf_writer_begin(w, path, &err);
    qk_rng r = {s->seed * 7919 + 1};
    for (int i = 0; i < n && !rc; i++) {
        int64_t ne = t[i].ne[0] * t[i].ne[1] * t[i].ne[2];
        float *x = malloc((size_t)ne * 4);
        for (int64_t k = 0; k < ne; k++) x[k] = t[i].offset + t[i].scale * qk_rng_gauss(&r);
        if (t[i].type == QK_TYPE_F32) {
            rc = qk_gguf_writer_write(w, x, (size_t)ne * 4, &err);
        } else {
            uint16_t *h = malloc((size_t)ne * 2);
            if (t[i].type == QK_TYPE_F16) qk_fp32_to_fp16_row(x, h, ne);
            else qk_fp32_to_bf16_row(x, h, ne);
            rc = qk_gguf_writer_write(w, h, (size_t)ne * 2, &err);
            free(h);
        }
        free(x);
    }
    if (!rc) rc = qk_gguf_writer_finish(w, &err);
    if (rc) fprintf(stderr, "tiny_gguf_write(%s): %s\n", path, err.msg);
    qk_gguf_writer_free(w);
    free(t);
    return rc ? -1 : 0;
}

qk_quantize_opts tiny_quantize_opts(int ftype) {
    qk_quantize_opts o = {0};
    qk_mix_options_init(&o.mix);
    o.mix.ftype = ftype;
    return o;
}
