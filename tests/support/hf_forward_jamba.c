/* hf_forward_jamba.c - Jamba's forward pass, written from transformers' modeling_jamba.py (JambaForCausalLM, model
 * type "jamba"; its table hf_family_jamba, see hf_forward_family.h); float32 weights, double arithmetic, one token
 * at a time:
 *   h = embed_tokens[token]
 *   per layer l: r = input_layernorm(h);
 *     attention when l % attn_layer_period == attn_layer_offset (JambaAttention: q, k, v projections, no
 *       positional encoding, softmax(q.k / sqrt(head_dim)) over the positions so far, grouped kv heads, o_proj),
 *     else the Mamba-1 mixer with RMS norms (weights dt_layernorm, b_layernorm, c_layernorm) on dt, B and C
 *       (JambaMambaMixer.slow_forward; m1_step in hf_forward_ssm.c);
 *     h += that; r = pre_ff_layernorm(h);
 *     experts when l % expert_layer_period == expert_layer_offset and num_experts > 1 (JambaSparseMoeBlock:
 *       softmax of the router's logits over every expert, the top num_experts_per_tok kept without renormalising,
 *       each expert's SwiGLU down(silu(gate x) * up x) weighted), else the dense SwiGLU MLP; h += that
 *   logits = lm_head(final_layernorm(h))
 * RMSNorm: w * x / sqrt(mean(x^2) + rms_norm_eps). Test support only. */
#include "hf_forward_ssm.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hf_mix_layer mix; /* first, for hf_mix_next: its two norms and its mixer, Mamba or attention */
    bool attn, moe;
    float *gate, *up, *down, *router; /* the MLP, or E of each stacked and the router */
} jamba_layer;

typedef struct {
    hf_trunk t;
    hf_mix_dims mx;
    int nh, nkv, hd, F, E, topk;
    double eps, margin;
    jamba_layer *layers;
} hf_jamba;

static void jamba_free_layer(void *vl) {
    jamba_layer *l = vl;
    HF_FREE_ALL(l->gate, l->up, l->down, l->router);
    hf_mix_layer_free(&l->mix);
}

static void *jamba_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_jamba *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    /* JambaConfig's defaults */
    m->nh = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->nkv = hf_cfg_int(cfg, "num_key_value_heads", m->nh), m->F = hf_cfg_int(cfg, "intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "num_experts", 16), m->topk = hf_cfg_int(cfg, "num_experts_per_tok", 2);
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-6);
    const int ap = hf_cfg_int(cfg, "attn_layer_period", 8), ao = hf_cfg_int(cfg, "attn_layer_offset", 4);
    const int ep = hf_cfg_int(cfg, "expert_layer_period", 2), eo = hf_cfg_int(cfg, "expert_layer_offset", 1);
    const int R = hf_cfg_int(cfg, "mamba_dt_rank", (m->t.H + 15) / 16);
    m->mx.m1 = (hf_m1_dims){.H = m->t.H, .di = hf_cfg_int(cfg, "mamba_expand", 2) * m->t.H,
                            .ds = hf_cfg_int(cfg, "mamba_d_state", 16), .K = hf_cfg_int(cfg, "mamba_d_conv", 4), .R = R,
                            .norms = 1, .norm_eps = m->eps};
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || m->nh <= 0 || m->nkv <= 0 || m->t.H % m->nh ||
        m->nh % m->nkv || m->F <= 0 || m->E < 1 || m->E > 256 || m->topk < 1 || m->topk > m->E || ap < 1 || ep < 1 ||
        R <= 0 || m->mx.m1.ds <= 0 || m->mx.m1.K < 1) {
        hf_set_err(err, errlen, "jamba config: bad sizes");
        free(m);
        return NULL;
    }
    m->hd = m->t.H / m->nh;
    m->mx.att = (hf_att_dims){.H = m->t.H, .nh = m->nh, .nkv = m->nkv, .hd = m->hd, .rope = 0,
                              .scale = 1.0 / sqrt((double)m->hd)};
    const int H = m->t.H, F = m->F, E = m->E;
    m->layers = hf_trunk_take(&m->t, sizeof *m->layers, jamba_free_layer, "model.embed_tokens.weight",
                              "model.final_layernorm.weight", 1, get, ctx, err, errlen);
    int bad = !m->layers;
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        jamba_layer *l = &m->layers[i];
        l->attn = i % ap == ao, l->moe = E > 1 && i % ep == eo;
        const int dense = !l->moe; /* the rows of d0 0 are not taken */
        const hf_take_row t[] = {{&l->mix.norm, H, 0, 0, "input_layernorm.weight"},
                                 {&l->mix.ff_norm, H, 0, 0, "pre_ff_layernorm.weight"},
                                 {&l->router, l->moe ? E : 0, H, 0, "feed_forward.router.weight"},
                                 {&l->gate, dense ? F : 0, H, 0, "feed_forward.gate_proj.weight"},
                                 {&l->up, dense ? F : 0, H, 0, "feed_forward.up_proj.weight"},
                                 {&l->down, dense ? H : 0, F, 0, "feed_forward.down_proj.weight"}};
        char pfx[64], sub[80];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        bad = hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen);
        snprintf(sub, sizeof sub, "%s%s", pfx, l->attn ? "self_attn." : "mamba.");
        bad = bad || hf_mix_load(&l->mix.mx, l->attn ? HF_MIX_ATT : HF_MIX_M1, &m->mx, get, ctx, sub, err, errlen);
        if (!bad && l->moe) { /* each expert's SwiGLU, stacked */
            const hf_take_row ex[] = {{&l->gate, F, H, 0, "gate_proj.weight"},
                                      {&l->up, F, H, 0, "up_proj.weight"},
                                      {&l->down, H, F, 0, "down_proj.weight"}};
            snprintf(sub, sizeof sub, "%sfeed_forward", pfx);
            bad = hf_family_take_expert_rows(get, ctx, E, ex, sizeof ex / sizeof ex[0], sub, err, errlen);
        }
    }
    m->margin = INFINITY;
    return hf_family_loaded(m, !bad, hf_trunk_free);
}

static double jamba_route_margin(const void *m) { return ((const hf_jamba *)m)->margin; }

/* the layer's feed-forward of x into out (hf_mix_pass's ffn) */
static void ffn(void *vm, const void *vl, const double *x, double *out, double *buf) {
    hf_jamba *m = vm;
    const jamba_layer *l = vl;
    const int H = m->t.H, F = m->F, E = m->E;
    for (int i = 0; i < H; i++) out[i] = 0;
    if (!l->moe) {
        hf_swiglu_add_d(l->gate, l->up, l->down, F, H, x, 1.0, out, buf);
        return;
    }
    double lg[256];
    int idx[256];
    hf_matvec_d(l->router, x, lg, E, H);
    hf_family_topk(lg, E, m->topk, idx, &m->margin);
    double sum = 0; /* the softmax over every expert; the chosen keep their probabilities */
    for (int e = 0; e < E; e++) sum += exp(lg[e] - lg[idx[0]]);
    for (int t = 0; t < m->topk; t++) {
        const int e = idx[t];
        const size_t at = (size_t)e * F * H; /* expert e's slice of each stack */
        hf_swiglu_add_d(l->gate + at, l->up + at, l->down + at, F, H, x, exp(lg[e] - lg[idx[0]]) / sum, out, buf);
    }
}

static int jamba_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_jamba *m = vm;
    const int H = m->t.H, kd = m->nkv * m->hd;
    const hf_mix_pass p = {
        .emb_mul = 1.0, .res_mul = 1.0, .eps = m->eps, .logit_scale = 1.0, .ffn = ffn,
        .nbuf = (size_t)(3 * m->mx.m1.di + m->mx.m1.R + 2 * m->mx.m1.ds + 4 * H + 2 * kd + pos + 1 + 2 * m->F)};
    m->margin = INFINITY;
    return hf_mix_next(m, &m->mx, &p, token, pos, logits, err, errlen);
}

const hf_family hf_family_jamba = {
    .model_types = {"jamba"}, .load = jamba_load, .vocab = hf_trunk_vocab, .next = jamba_next,
    .route_margin = jamba_route_margin, .free = hf_trunk_free,
};
