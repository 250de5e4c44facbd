/* hf_forward_jamba.c - Jamba's forward pass, written from transformers' modeling_jamba.py (JambaForCausalLM, model
 * type "jamba"; its table hf_family_jamba, see hf_forward_family.h); float32 weights, double arithmetic, one token
 * at a time:
 *   h = embed_tokens[token]
 *   per layer l: r = input_layernorm(h);
 *     attention when l % attn_layer_period == attn_layer_offset (JambaAttention: q, k, v projections, no
 *       positional encoding, softmax(q.k / sqrt(head_dim)) over the positions so far, grouped kv heads, o_proj),
 *     else the Mamba-1 mixer with RMS norms (weights dt_layernorm, b_layernorm, c_layernorm) on dt, B and C
 *       (JambaMambaMixer.slow_forward; hf_m1_step);
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
    bool attn, moe;
    float *norm, *ff_norm;
    hf_m1_layer m1;                              /* Mamba */
    float *q, *k, *v, *o;                        /* attention */
    float *gate, *up, *down, *router;            /* the MLP, or E of each stacked and the router */
    float *hist;                                 /* Mamba: x before the conv; attention: k then v, per position */
} jamba_layer;

typedef struct {
    int vocab, H, n_layer, nh, nkv, hd, F, E, topk, cap;
    double eps, margin;
    hf_m1_dims m1;
    hf_att_dims att;
    float *embed, *lm_head, *final_norm;
    jamba_layer *layers;
} hf_jamba;

static void jamba_free_layer(void *vl) {
    jamba_layer *l = vl;
    HF_FREE_ALL(l->norm, l->ff_norm, l->q, l->k, l->v, l->o, l->gate, l->up, l->down, l->router, l->hist);
    hf_m1_free(&l->m1);
}

static void jamba_free(void *vm) {
    hf_jamba *m = vm;
    if (m) hf_family_free_layers(m->layers, m->n_layer, sizeof *m->layers, jamba_free_layer);
    if (m) HF_FREE_ALL(m->embed, m->lm_head, m->final_norm);
    free(m);
}

static void *jamba_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_jamba *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    /* JambaConfig's defaults */
    m->vocab = hf_cfg_int(cfg, "vocab_size", 0), m->H = hf_cfg_int(cfg, "hidden_size", 0);
    m->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0), m->nh = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->nkv = hf_cfg_int(cfg, "num_key_value_heads", m->nh), m->F = hf_cfg_int(cfg, "intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "num_experts", 16), m->topk = hf_cfg_int(cfg, "num_experts_per_tok", 2);
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-6);
    const int ap = hf_cfg_int(cfg, "attn_layer_period", 8), ao = hf_cfg_int(cfg, "attn_layer_offset", 4);
    const int ep = hf_cfg_int(cfg, "expert_layer_period", 2), eo = hf_cfg_int(cfg, "expert_layer_offset", 1);
    const int R = hf_cfg_int(cfg, "mamba_dt_rank", (m->H + 15) / 16);
    m->m1 = (hf_m1_dims){.H = m->H, .di = hf_cfg_int(cfg, "mamba_expand", 2) * m->H,
                         .ds = hf_cfg_int(cfg, "mamba_d_state", 16), .K = hf_cfg_int(cfg, "mamba_d_conv", 4), .R = R,
                         .norms = 1, .norm_eps = m->eps};
    if (m->vocab <= 0 || m->H <= 0 || m->n_layer <= 0 || m->nh <= 0 || m->nkv <= 0 || m->H % m->nh ||
        m->nh % m->nkv || m->F <= 0 || m->E < 1 || m->E > 256 || m->topk < 1 || m->topk > m->E || ap < 1 || ep < 1 ||
        R <= 0 || m->m1.ds <= 0 || m->m1.K < 1) {
        hf_set_err(err, errlen, "jamba config: bad sizes");
        free(m);
        return NULL;
    }
    m->hd = m->H / m->nh;
    m->att = (hf_att_dims){.H = m->H, .nh = m->nh, .nkv = m->nkv, .hd = m->hd, .rope = 0,
                           .scale = 1.0 / sqrt((double)m->hd)};
    const int H = m->H, kd = m->nkv * m->hd, F = m->F, E = m->E;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    int bad = !m->layers;
#define T(ptr, d0, d1, ...)                                                                                            \
    do { if (!bad && !((ptr) = hf_family_take(get, ctx, d0, d1, 0, err, errlen, __VA_ARGS__))) bad = 1; } while (0)
    if (!bad && hf_family_take_ends(get, ctx, m->vocab, H, "model.embed_tokens.weight",
                                    "model.final_layernorm.weight", 1, &m->embed, &m->final_norm,
                                    &m->lm_head, err, errlen))
        bad = 1;
    for (int i = 0; i < m->n_layer && !bad; i++) {
        jamba_layer *l = &m->layers[i];
        char pfx[64];
        l->attn = i % ap == ao, l->moe = E > 1 && i % ep == eo;
        T(l->norm, H, 0, "model.layers.%d.input_layernorm.weight", i);
        T(l->ff_norm, H, 0, "model.layers.%d.pre_ff_layernorm.weight", i);
        if (l->attn) {
            T(l->q, H, H, "model.layers.%d.self_attn.q_proj.weight", i);
            T(l->k, kd, H, "model.layers.%d.self_attn.k_proj.weight", i);
            T(l->v, kd, H, "model.layers.%d.self_attn.v_proj.weight", i);
            T(l->o, H, H, "model.layers.%d.self_attn.o_proj.weight", i);
        } else {
            snprintf(pfx, sizeof pfx, "model.layers.%d.mamba.", i);
            if (!bad && hf_m1_load(&l->m1, &m->m1, get, ctx, pfx, err, errlen)) bad = 1;
        }
        snprintf(pfx, sizeof pfx, "model.layers.%d.feed_forward", i);
        if (l->moe) {
            T(l->router, E, H, "%s.router.weight", pfx);
            if (!bad && (!(l->gate = hf_family_take_experts(get, ctx, E, F, H, pfx, "gate_proj.weight", err, errlen)) ||
                         !(l->up = hf_family_take_experts(get, ctx, E, F, H, pfx, "up_proj.weight", err, errlen)) ||
                         !(l->down = hf_family_take_experts(get, ctx, E, H, F, pfx, "down_proj.weight", err, errlen))))
                bad = 1;
        } else {
            T(l->gate, F, H, "%s.gate_proj.weight", pfx);
            T(l->up, F, H, "%s.up_proj.weight", pfx);
            T(l->down, H, F, "%s.down_proj.weight", pfx);
        }
    }
#undef T
    m->margin = INFINITY;
    return hf_family_loaded(m, !bad, jamba_free);
}

static int jamba_vocab(const void *m) { return ((const hf_jamba *)m)->vocab; }
static double jamba_route_margin(const void *m) { return ((const hf_jamba *)m)->margin; }

/* out += wgt * down(silu(gate x) * up x); gate / up [F][H], down [H][F]; buf 2 F */
static void swiglu_add(const float *gate, const float *up, const float *down, int F, int H, const double *x,
                       double wgt, double *out, double *buf) {
    hf_matvec_d(gate, x, buf, F, H);
    hf_matvec_d(up, x, buf + F, F, H);
    for (int j = 0; j < F; j++) buf[j] = hf_silu_d(buf[j]) * buf[F + j];
    for (int o = 0; o < H; o++) {
        double s = 0;
        for (int j = 0; j < F; j++) s += (double)down[(size_t)o * F + j] * buf[j];
        out[o] += wgt * s;
    }
}

static void ffn(hf_jamba *m, const jamba_layer *l, const double *x, double *out, double *buf) {
    const int H = m->H, F = m->F, E = m->E;
    for (int i = 0; i < H; i++) out[i] = 0;
    if (!l->moe) {
        swiglu_add(l->gate, l->up, l->down, F, H, x, 1.0, out, buf);
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
        swiglu_add(l->gate + (size_t)e * F * H, l->up + (size_t)e * F * H, l->down + (size_t)e * H * F, F, H, x,
                   exp(lg[e] - lg[idx[0]]) / sum, out, buf);
    }
}

static int jamba_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_jamba *m = vm;
    const int H = m->H, kd = m->nkv * m->hd;
    if (token < 0 || token >= m->vocab) {
        hf_set_err(err, errlen, "token id %d out of range (vocab %d)", (int)token, m->vocab);
        return -1;
    }
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++)
            if (hf_hist_grow(&m->layers[i].hist, (size_t)(m->layers[i].attn ? 2 * kd : m->m1.di), nc, err, errlen))
                return -1;
        m->cap = nc;
    }
    const size_t nbuf = (size_t)(3 * m->m1.di + m->m1.R + 2 * m->m1.ds + 4 * H + 2 * kd + pos + 1 + 2 * m->F);
    double *r, *y, *buf, *h = hf_work(H, nbuf, &r, &y, &buf, err, errlen);
    if (!h) return -1;
    m->margin = INFINITY;
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i];
    for (int li = 0; li < m->n_layer; li++) {
        jamba_layer *l = &m->layers[li];
        hf_rmsnorm_d(r, h, l->norm, H, m->eps);
        if (l->attn) hf_att_step(&m->att, l->q, l->k, l->v, l->o, l->hist, pos, r, y, buf);
        else hf_m1_step(&m->m1, &l->m1, l->hist, pos, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i];
        hf_rmsnorm_d(r, h, l->ff_norm, H, m->eps);
        ffn(m, l, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i];
    }
    return hf_finish_token(h, r, m->final_norm, m->lm_head, m->embed, m->vocab, H, m->eps, 1.0, logits);
}

const hf_family hf_family_jamba = {
    .model_types = {"jamba"}, .load = jamba_load, .vocab = jamba_vocab, .next = jamba_next,
    .route_margin = jamba_route_margin, .free = jamba_free,
};
