/* hf_forward_lfm2.c - LFM2's forward pass, written from transformers'
 * modeling_lfm2.py, model_type "lfm2" (its table hf_family_lfm2, see
 * hf_forward_family.h); float32 weights, double accumulators:
 *   h = embed_tokens[token]
 *   per layer: r = operator_norm(h)
 *     conv:      [B | C | x] = in_proj(r); bx = B * x;
 *                y[c] = sum_k conv.weight[c][0][k] * bx_{t - (L-1) + k}[c] (causal depthwise Conv1d, zeros
 *                before the start); h += out_proj(C * y)
 *     attention: q = q_layernorm(q_proj(r)) per head, k likewise, rope (rotate-half, rope_theta),
 *                softmax(q.k / sqrt(head_dim)) over the positions so far, grouped kv heads; h += out_proj(.)
 *     h += w2(silu(w1(ffn_norm(h))) * w3(ffn_norm(h)))
 *   logits = lm_head(embedding_norm(h)) (lm_head tied to embed_tokens when absent)
 * RMSNorm: w * x / sqrt(mean(x^2) + norm_eps).
 * LFM2-MoE (modeling_lfm2_moe.py, "lfm2_moe"): layers from num_dense_layers on replace the MLP by
 * Lfm2MoeSparseMoeBlock: s = sigmoid(gate(x)); the top num_experts_per_tok experts by s + expert_bias; their
 * weights s (without the bias) / (sum + 1e-6) (norm_topk_prob) x routed_scaling_factor; out = sum of weight x
 * expert MLP w2(silu(w1 x) * w3 x), moe_intermediate_size wide. The dense MLP is intermediate_size wide. */
#include "hf_forward_family.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int conv;
    float *norm, *ffn_norm, *w1, *w2, *w3;
    float *in_proj, *conv_w, *out_proj; /* conv: [3H][H], [H][L], [H][H] */
    float *q, *k, *v, *o, *q_norm, *k_norm;
    float *hist;                        /* conv: bx per position; attention: k then v per position */
    float *gate, *ebias, *ew1, *ew3, *ew2; /* sparse (LFM2-MoE): [E][H], [E], [E][Fe][H] x 2, [E][H][Fe] */
} lfm2_layer;

struct hf_lfm2 {
    hf_trunk t;
    int n_head, n_kv, hd, F, L, cap;
    int E, top_k, Fe, n_dense; /* LFM2-MoE; E 0: dense LFM2 */
    double eps, theta, rsf;
    bool norm_topk;
    lfm2_layer *layers;
};

typedef struct hf_lfm2 hf_lfm2;

static void hf_lfm2_free_layer(void *vl) {
    lfm2_layer *l = vl;
    HF_FREE_ALL(l->norm, l->ffn_norm, l->w1, l->w2, l->w3, l->in_proj, l->conv_w, l->out_proj, l->q, l->k, l->v,
                l->o, l->q_norm, l->k_norm, l->hist, l->gate, l->ebias, l->ew1, l->ew3, l->ew2);
}

static void *hf_lfm2_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_lfm2 *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    m->n_head = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->n_kv = hf_cfg_int(cfg, "num_key_value_heads", m->n_head), m->L = hf_cfg_int(cfg, "conv_L_cache", 3);
    m->eps = hf_cfg_num(cfg, "norm_eps", 1e-5), m->theta = hf_cfg_num(cfg, "rope_theta", 1000000.0);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    const bool moe = cJSON_IsString(mt) && !strcmp(mt->valuestring, "lfm2_moe");
    if (moe) {
        m->E = hf_cfg_int(cfg, "num_experts", 0), m->top_k = hf_cfg_int(cfg, "num_experts_per_tok", 0);
        m->Fe = hf_cfg_int(cfg, "moe_intermediate_size", 0), m->n_dense = hf_cfg_int(cfg, "num_dense_layers", 0);
        m->rsf = hf_cfg_num(cfg, "routed_scaling_factor", 1.0);
        m->norm_topk = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cfg, "norm_topk_prob"));
        if (m->E <= 0 || m->E > 256 || m->top_k <= 0 || m->top_k > m->E || m->Fe <= 0 || m->n_dense < 0 ||
            hf_cfg_int(cfg, "hidden_size", 0) > 4096) { /* sparse_block's scratch */
            hf_set_err(err, errlen, "lfm2_moe config: bad expert sizes");
            free(m);
            return NULL;
        }
    }
    /* Lfm2MLP: intermediate_size (block_ff_dim) adjusted as the configuration says; Lfm2MoeMLP takes it as it is */
    int ff = hf_cfg_int(cfg, "block_ff_dim", hf_cfg_int(cfg, "intermediate_size", 0));
    const cJSON *adj = cJSON_GetObjectItemCaseSensitive(cfg, "block_auto_adjust_ff_dim");
    if (!moe && (!adj || cJSON_IsTrue(adj))) {
        ff = 2 * ff / 3;
        ff = (int)(hf_cfg_num(cfg, "block_ffn_dim_multiplier", 1.0) * ff);
        const int mult = hf_cfg_int(cfg, "block_multiple_of", 256);
        ff = mult * ((ff + mult - 1) / mult);
    }
    m->F = ff;
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(cfg, "layer_types");
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || m->n_head <= 0 || m->n_kv <= 0 || m->t.H % m->n_head ||
        m->n_head % m->n_kv || m->L < 1 || m->F <= 0 || !cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != m->t.n_layer) {
        hf_set_err(err, errlen, "lfm2 config: bad sizes or layer_types");
        free(m);
        return NULL;
    }
    m->hd = m->t.H / m->n_head;
    const int H = m->t.H, kd = m->n_kv * m->hd, E = m->E, Fe = m->Fe;
    m->layers = hf_trunk_take(&m->t, sizeof *m->layers, hf_lfm2_free_layer, "model.embed_tokens.weight",
                              "model.embedding_norm.weight", 0, get, ctx, err, errlen);
    int bad = !m->layers;
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        lfm2_layer *l = &m->layers[i];
        const cJSON *e = cJSON_GetArrayItem(lt, i);
        l->conv = cJSON_IsString(e) && !strcmp(e->valuestring, "conv");
        const bool conv = l->conv, att = !conv, sparse = E && i >= m->n_dense;
        /* the rows of d0 0 are not this layer's */
        const hf_take_row t[] = {{&l->norm, H, 0, 0, "operator_norm.weight"},
                                 {&l->ffn_norm, H, 0, 0, "ffn_norm.weight"},
                                 {&l->gate, sparse ? E : 0, H, 0, "feed_forward.gate.weight"},
                                 {&l->ebias, sparse ? E : 0, 0, 0, "feed_forward.expert_bias"},
                                 {&l->w1, sparse ? 0 : m->F, H, 0, "feed_forward.w1.weight"},
                                 {&l->w3, sparse ? 0 : m->F, H, 0, "feed_forward.w3.weight"},
                                 {&l->w2, sparse ? 0 : H, m->F, 0, "feed_forward.w2.weight"},
                                 {&l->in_proj, conv ? 3 * H : 0, H, 0, "conv.in_proj.weight"},
                                 {&l->conv_w, conv ? H : 0, 1, m->L, "conv.conv.weight"},
                                 {&l->out_proj, conv ? H : 0, H, 0, "conv.out_proj.weight"},
                                 {&l->q, att ? H : 0, H, 0, "self_attn.q_proj.weight"},
                                 {&l->k, att ? kd : 0, H, 0, "self_attn.k_proj.weight"},
                                 {&l->v, att ? kd : 0, H, 0, "self_attn.v_proj.weight"},
                                 {&l->o, att ? H : 0, H, 0, "self_attn.out_proj.weight"},
                                 {&l->q_norm, att ? m->hd : 0, 0, 0, "self_attn.q_layernorm.weight"},
                                 {&l->k_norm, att ? m->hd : 0, 0, 0, "self_attn.k_layernorm.weight"}};
        char pfx[64];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        bad = hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen);
        if (!bad && sparse) { /* each expert's w1 / w3 / w2, stacked */
            const hf_take_row ex[] = {{&l->ew1, Fe, H, 0, "w1.weight"},
                                      {&l->ew3, Fe, H, 0, "w3.weight"},
                                      {&l->ew2, H, Fe, 0, "w2.weight"}};
            snprintf(pfx, sizeof pfx, "model.layers.%d.feed_forward", i);
            bad = hf_family_take_expert_rows(get, ctx, E, ex, sizeof ex / sizeof ex[0], pfx, err, errlen);
        }
    }
    return hf_family_loaded(m, !bad, hf_trunk_free);
}

/* rotate-half rope of one head at position pos */
static void rope(float *v, int hd, int pos, double theta) {
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        const float inv = (float)(1.0 / pow(theta, (double)(2 * i) / hd));
        const float ang = (float)pos * inv;
        const float c = cosf(ang), s = sinf(ang);
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

/* SwiGLU MLP y = w2(silu(w1 x) * w3 x), F wide; tmp holds 2 F */
static void swiglu(const float *w1, const float *w3, const float *w2, const float *x, float *y, float *tmp, int H,
                   int F) {
    hf_matvec_f32(w1, x, tmp, F, H);
    hf_matvec_f32(w3, x, tmp + F, F, H);
    for (int i = 0; i < F; i++) {
        const float g = tmp[i];
        tmp[i] = g / (1.0f + expf(-g)) * tmp[F + i];
    }
    hf_matvec_f32(w2, tmp, y, H, F);
}

/* Lfm2MoeSparseMoeBlock on one token: y = sum over the chosen experts of their weight x their MLP */
static void sparse_block(const hf_lfm2 *m, const lfm2_layer *l, const float *x, float *y, float *tmp) {
    const int H = m->t.H, E = m->E, Fe = m->Fe;
    float s[256], ye[4096];
    int chosen[256];
    bool taken[256] = {false};
    hf_matvec_f32(l->gate, x, s, E, H);
    for (int e = 0; e < E; e++) s[e] = 1.0f / (1.0f + expf(-s[e]));
    double sum = 0;
    for (int k = 0; k < m->top_k; k++) { /* torch.topk of s + expert_bias; the first of equals wins */
        int best = -1;
        for (int e = 0; e < E; e++)
            if (!taken[e] && (best < 0 || s[e] + l->ebias[e] > s[best] + l->ebias[best])) best = e;
        taken[best] = true, chosen[k] = best, sum += s[best];
    }
    for (int i = 0; i < H; i++) y[i] = 0;
    for (int k = 0; k < m->top_k; k++) {
        const int e = chosen[k];
        double wgt = s[e];
        if (m->norm_topk) wgt /= sum + 1e-6;
        wgt *= m->rsf;
        swiglu(l->ew1 + (size_t)e * Fe * H, l->ew3 + (size_t)e * Fe * H, l->ew2 + (size_t)e * H * Fe, x, ye, tmp, H,
               Fe);
        for (int i = 0; i < H; i++) y[i] += (float)(wgt * ye[i]);
    }
}

static int hf_lfm2_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_lfm2 *m = vm;
    const int H = m->t.H, hd = m->hd, kd = m->n_kv * hd, F = m->F, L = m->L;
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->t.n_layer; i++) {
            lfm2_layer *l = &m->layers[i];
            float *p = realloc(l->hist, (size_t)nc * (size_t)(l->conv ? H : 2 * kd) * sizeof *p);
            if (!p) {
                hf_set_err(err, errlen, "out of memory");
                return -1;
            }
            l->hist = p;
        }
        m->cap = nc;
    }
    float *h = malloc((size_t)H * sizeof *h), *r = malloc((size_t)H * sizeof *r), *y = malloc((size_t)H * sizeof *y);
    const int wide = 2 * (F > m->Fe ? F : m->Fe); /* the MLPs' scratch */
    float *big = malloc((size_t)(3 * H > wide ? 3 * H : wide) * sizeof *big);
    float *q = malloc((size_t)H * sizeof *q), *att = malloc((size_t)H * sizeof *att);
    double *sc = malloc((size_t)(pos + 1) * sizeof *sc);
    if (!h || !r || !y || !big || !q || !att || !sc) {
        free(h), free(r), free(y), free(big), free(q), free(att), free(sc);
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    memcpy(h, m->t.embed + (size_t)token * H, (size_t)H * sizeof *h);
    for (int li = 0; li < m->t.n_layer; li++) {
        lfm2_layer *l = &m->layers[li];
        hf_rmsnorm_f(r, h, l->norm, H, m->eps);
        if (l->conv) {
            hf_matvec_f32(l->in_proj, r, big, 3 * H, H); /* B, C, x */
            float *bx = l->hist + (size_t)pos * H;
            for (int c = 0; c < H; c++) bx[c] = big[c] * big[2 * H + c];
            for (int c = 0; c < H; c++) {
                double s = 0;
                for (int k = 0; k < L; k++) {
                    const int t = pos - (L - 1) + k;
                    if (t >= 0) s += (double)l->conv_w[(size_t)c * L + k] * l->hist[(size_t)t * H + c];
                }
                att[c] = big[H + c] * (float)s;
            }
            hf_matvec_f32(l->out_proj, att, y, H, H);
        } else {
            float *kv = l->hist + (size_t)pos * 2 * kd;
            hf_matvec_f32(l->q, r, q, H, H);
            hf_matvec_f32(l->k, r, kv, kd, H);
            hf_matvec_f32(l->v, r, kv + kd, kd, H);
            for (int hh = 0; hh < m->n_head; hh++) {
                hf_rmsnorm_f(q + hh * hd, q + hh * hd, l->q_norm, hd, m->eps);
                rope(q + hh * hd, hd, pos, m->theta);
            }
            for (int hh = 0; hh < m->n_kv; hh++) {
                hf_rmsnorm_f(kv + hh * hd, kv + hh * hd, l->k_norm, hd, m->eps);
                rope(kv + hh * hd, hd, pos, m->theta);
            }
            const double scale = 1.0 / sqrt((double)hd);
            const int rep = m->n_head / m->n_kv;
            for (int hh = 0; hh < m->n_head; hh++) {
                const int g = hh / rep;
                double mx = -INFINITY, sum = 0;
                for (int t = 0; t <= pos; t++) {
                    const float *kk = l->hist + (size_t)t * 2 * kd + g * hd;
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double)q[hh * hd + d] * kk[d];
                    sc[t] = s * scale;
                    if (sc[t] > mx) mx = sc[t];
                }
                for (int t = 0; t <= pos; t++) sum += sc[t] = exp(sc[t] - mx);
                for (int d = 0; d < hd; d++) {
                    double s = 0;
                    for (int t = 0; t <= pos; t++) s += sc[t] * l->hist[(size_t)t * 2 * kd + kd + g * hd + d];
                    att[hh * hd + d] = (float)(s / sum);
                }
            }
            hf_matvec_f32(l->o, att, y, H, H);
        }
        for (int i = 0; i < H; i++) h[i] += y[i];
        hf_rmsnorm_f(r, h, l->ffn_norm, H, m->eps);
        if (l->gate) sparse_block(m, l, r, y, big);
        else swiglu(l->w1, l->w3, l->w2, r, y, big, H, F);
        for (int i = 0; i < H; i++) h[i] += y[i];
    }
    if (logits) {
        hf_rmsnorm_f(r, h, m->t.final_norm, H, m->eps);
        hf_matvec_f32(m->t.lm_head ? m->t.lm_head : m->t.embed, r, logits, m->t.vocab, H);
    }
    free(h), free(r), free(y), free(big), free(q), free(att), free(sc);
    return 0;
}

const hf_family hf_family_lfm2 = {
    .model_types = {"lfm2", "lfm2_moe"}, .load = hf_lfm2_load, .vocab = hf_trunk_vocab, .next = hf_lfm2_next,
    .free = hf_trunk_free,
};
