/* hf_forward_granitehybrid.c - IBM Granite 4.0-H's forward pass, written from transformers'
 * modeling_granitemoehybrid.py, model_type "granitemoehybrid" (its table hf_family_granitehybrid, see
 * hf_forward_family.h); float32 weights, double arithmetic, one token at a time:
 *   h = embed_tokens[token] * embedding_multiplier
 *   per layer: r = input_layernorm(h)
 *     mamba (GraniteMoeHybridMambaLayer.torch_forward, its chunked scan taken in its recurrent form):
 *       [z | xBC | dt] = in_proj(r) (d_inner, d_inner + 2 n_groups d_state, n_heads);
 *       xBC = silu(conv1d(xBC)) (causal depthwise over the last d_conv positions, zeros before the start, + bias);
 *       [x | B | C] = xBC; per head h (group g = h / (n_heads / n_groups)): dt = softplus(dt + dt_bias),
 *       A = -exp(A_log), S = S exp(dt A) + dt B_g x_h^T, y_h = S C_g + D_h x_h;
 *       y = norm.weight * hf_rmsnorm_d(y * silu(z)) over the whole d_inner (GraniteMoeHybridRMSNormGated); out_proj(y)
 *     attention: q, k, v projections, rotate-half rope only when position_embedding_type is "rope" (the
 *       all-attention Granite 4.0; the hybrids say "nope"), softmax(q.k * attention_multiplier)
 *       over the positions so far, grouped kv heads, o_proj
 *     h += residual_multiplier * that
 *     r = post_attention_layernorm(h); with experts: the router's top-k logits, softmax over them, the chosen
 *       experts' SwiGLU (input_linear [gate | up], output_linear) weighted, plus the shared MLP; without: the shared
 *       MLP (shared_mlp.input_linear [gate | up], output_linear) alone; h += residual_multiplier * that
 *   logits = lm_head(norm(h)) / logits_scaling (lm_head tied to embed_tokens when absent)
 * RMSNorm: w * x / sqrt(mean(x^2) + rms_norm_eps). Test support only. */
#include "hf_forward_ssm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hf_mix_layer mix; /* first, for hf_mix_next: input_layernorm, post_attention_layernorm, Mamba or attention */
    int mamba;
    float *router, *in_lin, *out_lin, *sh_in, *sh_out; /* MLPs */
} gh_layer;

typedef struct {
    hf_trunk t;
    hf_mix_dims mx;
    int nh, nkv, hd, F, S, E, topk;
    int mh, mdh, ds, ng, K, dinner, conv_dim;
    int rope; /* position_embedding_type "rope" (the all-attention Granite 4.0) */
    double eps, emb_mul, res_mul, att_mul, logit_scale, margin, theta;
    gh_layer *layers;
} hf_gh;

static void gh_free_layer(void *vl) {
    gh_layer *l = vl;
    HF_FREE_ALL(l->router, l->in_lin, l->out_lin, l->sh_in, l->sh_out);
    hf_mix_layer_free(&l->mix);
}

static void *gh_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_gh *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    m->nh = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->nkv = hf_cfg_int(cfg, "num_key_value_heads", m->nh);
    m->F = hf_cfg_int(cfg, "intermediate_size", 0), m->S = hf_cfg_int(cfg, "shared_intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "num_local_experts", 0), m->topk = hf_cfg_int(cfg, "num_experts_per_tok", 0);
    m->mh = hf_cfg_int(cfg, "mamba_n_heads", 0), m->mdh = hf_cfg_int(cfg, "mamba_d_head", 0);
    m->ds = hf_cfg_int(cfg, "mamba_d_state", 0), m->ng = hf_cfg_int(cfg, "mamba_n_groups", 1);
    m->K = hf_cfg_int(cfg, "mamba_d_conv", 4), m->dinner = hf_cfg_int(cfg, "mamba_expand", 2) * m->t.H;
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-6), m->emb_mul = hf_cfg_num(cfg, "embedding_multiplier", 1.0);
    m->res_mul = hf_cfg_num(cfg, "residual_multiplier", 1.0), m->att_mul = hf_cfg_num(cfg, "attention_multiplier", 1.0);
    m->logit_scale = hf_cfg_num(cfg, "logits_scaling", 1.0);
    m->conv_dim = m->dinner + 2 * m->ng * m->ds;
    m->margin = INFINITY;
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(cfg, "layer_types");
    const char *pe = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cfg, "position_embedding_type"))
                         ? cJSON_GetObjectItemCaseSensitive(cfg, "position_embedding_type")->valuestring
                         : "nope";
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(cfg, "rope_parameters");
    m->rope = !strcmp(pe, "rope"), m->theta = hf_cfg_num(cJSON_IsObject(rp) ? rp : cfg, "rope_theta", 10000.0);
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || m->nh <= 0 || m->nkv <= 0 || m->t.H % m->nh ||
        m->nh % m->nkv || m->S <= 0 || m->mh <= 0 || m->mdh * m->mh != m->dinner || m->ng <= 0 || m->mh % m->ng ||
        m->ds <= 0 || m->K < 1 || (m->E > 0 && (m->topk <= 0 || m->topk > m->E || m->F <= 0)) || m->E > 256 ||
        !cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != m->t.n_layer) {
        hf_set_err(err, errlen, "granitemoehybrid config: bad sizes or layer_types");
        free(m);
        return NULL;
    }
    m->hd = m->t.H / m->nh;
    m->mx.m2 = (hf_m2_dims){.H = m->t.H, .di = m->dinner, .cd = m->conv_dim, .nh = m->mh, .dh = m->mdh, .ds = m->ds,
                            .ng = m->ng, .K = m->K, .norm_group = m->dinner, .eps = m->eps}; /* the whole d_inner */
    m->mx.att = (hf_att_dims){.H = m->t.H, .nh = m->nh, .nkv = m->nkv, .hd = m->hd, .rope = m->rope,
                              .scale = m->att_mul, .theta = m->theta};
    const int H = m->t.H, E = m->E;
    m->layers = hf_trunk_take(&m->t, sizeof *m->layers, gh_free_layer, "model.embed_tokens.weight", "model.norm.weight",
                              0, get, ctx, err, errlen);
    int bad = !m->layers;
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        gh_layer *l = &m->layers[i];
        const cJSON *e = cJSON_GetArrayItem(lt, i);
        l->mamba = cJSON_IsString(e) && !strcmp(e->valuestring, "mamba");
        const hf_take_row t[] = {{&l->mix.norm, H, 0, 0, "input_layernorm.weight"},
                                 {&l->mix.ff_norm, H, 0, 0, "post_attention_layernorm.weight"},
                                 {&l->router, E, H, 0, "block_sparse_moe.router.layer.weight"}, /* E 0: none */
                                 {&l->in_lin, E, 2 * m->F, H, "block_sparse_moe.input_linear.weight"},
                                 {&l->out_lin, E, H, m->F, "block_sparse_moe.output_linear.weight"},
                                 {&l->sh_in, 2 * m->S, H, 0, "shared_mlp.input_linear.weight"},
                                 {&l->sh_out, H, m->S, 0, "shared_mlp.output_linear.weight"}};
        char pfx[64], sub[80];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        snprintf(sub, sizeof sub, "%s%s", pfx, l->mamba ? "mamba." : "self_attn.");
        bad = hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen) ||
              hf_mix_load(&l->mix.mx, l->mamba ? HF_MIX_M2 : HF_MIX_ATT, &m->mx, get, ctx, sub, err, errlen);
    }
    return hf_family_loaded(m, !bad, hf_trunk_free);
}

static double gh_route_margin(const void *m) { return ((const hf_gh *)m)->margin; }

/* GraniteMoeHybridMoE plus the shared MLP (or the shared MLP alone) of x into out (hf_mix_pass's ffn) */
static void mlp(void *vm, const void *vl, const double *x, double *out, double *buf) {
    hf_gh *m = vm;
    const gh_layer *l = vl;
    const int H = m->t.H, E = m->E;
    for (int i = 0; i < H; i++) out[i] = 0;
    if (E > 0) {
        double lg[256];
        int idx[256];
        hf_matvec_d(l->router, x, lg, E, H);
        hf_family_topk(lg, E, m->topk, idx, &m->margin);
        double sum = 0; /* softmax over the top-k logits */
        for (int t = 0; t < m->topk; t++) sum += exp(lg[idx[t]] - lg[idx[0]]);
        for (int t = 0; t < m->topk; t++) {
            const int e = idx[t];
            const float *in = l->in_lin + (size_t)e * 2 * m->F * H; /* [gate | up], F rows each */
            hf_swiglu_add_d(in, in + (size_t)m->F * H, l->out_lin + (size_t)e * H * m->F, m->F, H, x,
                            exp(lg[e] - lg[idx[0]]) / sum, out, buf);
        }
    }
    hf_swiglu_add_d(l->sh_in, l->sh_in + (size_t)m->S * H, l->sh_out, m->S, H, x, 1.0, out, buf);
}

static int gh_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_gh *m = vm;
    const int H = m->t.H, kd = m->nkv * m->hd;
    const hf_mix_pass p = {.emb_mul = m->emb_mul, .res_mul = m->res_mul, .eps = m->eps, .logit_scale = m->logit_scale,
                           .ffn = mlp,
                           .nbuf = (size_t)(2 * (m->dinner + m->conv_dim + m->mh) + 4 * H + 2 * kd + pos + 1 +
                                            2 * (m->F > m->S ? m->F : m->S))};
    m->margin = INFINITY;
    return hf_mix_next(m, &m->mx, &p, token, pos, logits, err, errlen);
}

const hf_family hf_family_granitehybrid = {
    .model_types = {"granitemoehybrid"}, .load = gh_load, .vocab = hf_trunk_vocab, .next = gh_next,
    .route_margin = gh_route_margin, .free = hf_trunk_free,
};
