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
 *       y = norm.weight * rmsnorm(y * silu(z)) over the whole d_inner (GraniteMoeHybridRMSNormGated); out_proj(y)
 *     attention: q, k, v projections, rotate-half rope only when position_embedding_type is "rope" (the
 *       all-attention Granite 4.0; the hybrids say "nope"), softmax(q.k * attention_multiplier)
 *       over the positions so far, grouped kv heads, o_proj
 *     h += residual_multiplier * that
 *     r = post_attention_layernorm(h); with experts: the router's top-k logits, softmax over them, the chosen
 *       experts' SwiGLU (input_linear [gate | up], output_linear) weighted, plus the shared MLP; without: the shared
 *       MLP (shared_mlp.input_linear [gate | up], output_linear) alone; h += residual_multiplier * that
 *   logits = lm_head(norm(h)) / logits_scaling (lm_head tied to embed_tokens when absent)
 * RMSNorm: w * x / sqrt(mean(x^2) + rms_norm_eps). Test support only. */
#include "hf_forward_family.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int mamba;
    float *norm, *post_norm;
    float *in_proj, *conv_w, *conv_b, *dt_bias, *a_log, *d, *gnorm, *out_proj; /* mamba */
    float *q, *k, *v, *o;                                                    /* attention */
    float *router, *in_lin, *out_lin, *sh_in, *sh_out;                       /* MLPs */
    float *hist;   /* mamba: xBC before the conv per position; attention: k then v per position */
    double *state; /* mamba: [n_heads][d_head][d_state] */
} gh_layer;

typedef struct {
    int vocab, H, n_layer, nh, nkv, hd, F, S, E, topk, cap;
    int mh, mdh, ds, ng, K, dinner, conv_dim;
    int rope; /* position_embedding_type "rope" (the all-attention Granite 4.0) */
    double eps, emb_mul, res_mul, att_mul, logit_scale, margin, theta;
    float *embed, *lm_head, *final_norm;
    gh_layer *layers;
} hf_gh;

static void gh_free(void *vm) {
    hf_gh *m = vm;
    if (!m) return;
    for (int i = 0; m->layers && i < m->n_layer; i++) {
        gh_layer *l = &m->layers[i];
        float *ps[] = {l->norm, l->post_norm, l->in_proj, l->conv_w, l->conv_b, l->dt_bias, l->a_log, l->d, l->gnorm,
                       l->out_proj, l->q, l->k, l->v, l->o, l->router, l->in_lin, l->out_lin, l->sh_in, l->sh_out,
                       l->hist};
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) free(ps[k]);
        free(l->state);
    }
    free(m->layers), free(m->embed), free(m->lm_head), free(m->final_norm);
    free(m);
}

static void *gh_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_gh *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->vocab = hf_cfg_int(cfg, "vocab_size", 0), m->H = hf_cfg_int(cfg, "hidden_size", 0);
    m->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0), m->nh = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->nkv = hf_cfg_int(cfg, "num_key_value_heads", m->nh);
    m->F = hf_cfg_int(cfg, "intermediate_size", 0), m->S = hf_cfg_int(cfg, "shared_intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "num_local_experts", 0), m->topk = hf_cfg_int(cfg, "num_experts_per_tok", 0);
    m->mh = hf_cfg_int(cfg, "mamba_n_heads", 0), m->mdh = hf_cfg_int(cfg, "mamba_d_head", 0);
    m->ds = hf_cfg_int(cfg, "mamba_d_state", 0), m->ng = hf_cfg_int(cfg, "mamba_n_groups", 1);
    m->K = hf_cfg_int(cfg, "mamba_d_conv", 4), m->dinner = hf_cfg_int(cfg, "mamba_expand", 2) * m->H;
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
    if (m->vocab <= 0 || m->H <= 0 || m->n_layer <= 0 || m->nh <= 0 || m->nkv <= 0 || m->H % m->nh ||
        m->nh % m->nkv || m->S <= 0 || m->mh <= 0 || m->mdh * m->mh != m->dinner || m->ng <= 0 || m->mh % m->ng ||
        m->ds <= 0 || m->K < 1 || (m->E > 0 && (m->topk <= 0 || m->topk > m->E || m->F <= 0)) || m->E > 256 ||
        !cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != m->n_layer) {
        hf_set_err(err, errlen, "granitemoehybrid config: bad sizes or layer_types");
        free(m);
        return NULL;
    }
    m->hd = m->H / m->nh;
    const int H = m->H, kd = m->nkv * m->hd, E = m->E;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    int bad = !m->layers;
#define T(ptr, d0, d1, d2, ...)                                                                                        \
    do { if (!bad && !((ptr) = hf_family_take(get, ctx, d0, d1, d2, err, errlen, __VA_ARGS__))) bad = 1; } while (0)
    T(m->embed, m->vocab, H, 0, "model.embed_tokens.weight");
    T(m->final_norm, H, 0, 0, "model.norm.weight");
    int64_t shape[8];
    int nd;
    if (!bad && get(ctx, "lm_head.weight", shape, &nd)) T(m->lm_head, m->vocab, H, 0, "lm_head.weight");
    for (int i = 0; i < m->n_layer && !bad; i++) {
        gh_layer *l = &m->layers[i];
        const cJSON *e = cJSON_GetArrayItem(lt, i);
        l->mamba = cJSON_IsString(e) && !strcmp(e->valuestring, "mamba");
        T(l->norm, H, 0, 0, "model.layers.%d.input_layernorm.weight", i);
        T(l->post_norm, H, 0, 0, "model.layers.%d.post_attention_layernorm.weight", i);
        if (l->mamba) {
            T(l->in_proj, m->dinner + m->conv_dim + m->mh, H, 0, "model.layers.%d.mamba.in_proj.weight", i);
            T(l->conv_w, m->conv_dim, 1, m->K, "model.layers.%d.mamba.conv1d.weight", i);
            T(l->conv_b, m->conv_dim, 0, 0, "model.layers.%d.mamba.conv1d.bias", i);
            T(l->dt_bias, m->mh, 0, 0, "model.layers.%d.mamba.dt_bias", i);
            T(l->a_log, m->mh, 0, 0, "model.layers.%d.mamba.A_log", i);
            T(l->d, m->mh, 0, 0, "model.layers.%d.mamba.D", i);
            T(l->gnorm, m->dinner, 0, 0, "model.layers.%d.mamba.norm.weight", i);
            T(l->out_proj, H, m->dinner, 0, "model.layers.%d.mamba.out_proj.weight", i);
            if (!bad && !(l->state = calloc((size_t)m->mh * m->mdh * m->ds, sizeof *l->state))) bad = 1;
        } else {
            T(l->q, H, H, 0, "model.layers.%d.self_attn.q_proj.weight", i);
            T(l->k, kd, H, 0, "model.layers.%d.self_attn.k_proj.weight", i);
            T(l->v, kd, H, 0, "model.layers.%d.self_attn.v_proj.weight", i);
            T(l->o, H, H, 0, "model.layers.%d.self_attn.o_proj.weight", i);
        }
        if (E > 0) {
            T(l->router, E, H, 0, "model.layers.%d.block_sparse_moe.router.layer.weight", i);
            T(l->in_lin, E, 2 * m->F, H, "model.layers.%d.block_sparse_moe.input_linear.weight", i);
            T(l->out_lin, E, H, m->F, "model.layers.%d.block_sparse_moe.output_linear.weight", i);
        }
        T(l->sh_in, 2 * m->S, H, 0, "model.layers.%d.shared_mlp.input_linear.weight", i);
        T(l->sh_out, H, m->S, 0, "model.layers.%d.shared_mlp.output_linear.weight", i);
    }
#undef T
    if (bad) {
        gh_free(m);
        return NULL;
    }
    return m;
}

static int gh_vocab(const void *m) { return ((const hf_gh *)m)->vocab; }
static double gh_route_margin(const void *m) { return ((const hf_gh *)m)->margin; }

static void rmsnorm(double *out, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

static void matvec(const float *w, const double *x, double *y, int out, int in) {
    for (int o = 0; o < out; o++) {
        double s = 0;
        for (int i = 0; i < in; i++) s += (double)w[(size_t)o * in + i] * x[i];
        y[o] = s;
    }
}

static double silu(double x) { return x / (1.0 + exp(-x)); }
static double softplus(double x) { return x > 20 ? x : log1p(exp(x)); } /* torch's threshold 20 */

/* out += wgt * output_linear(silu(gate) * up), [gate | up] = input_linear(x): w_in [2 F][H], w_out [H][F] */
static void swiglu_add(const float *w_in, const float *w_out, int F, int H, const double *x, double wgt, double *out,
                       double *buf) {
    matvec(w_in, x, buf, 2 * F, H);
    for (int j = 0; j < F; j++) buf[j] = silu(buf[j]) * buf[F + j];
    for (int o = 0; o < H; o++) {
        double s = 0;
        for (int j = 0; j < F; j++) s += (double)w_out[(size_t)o * F + j] * buf[j];
        out[o] += wgt * s;
    }
}

/* GraniteMoeHybridMoE plus the shared MLP (or the shared MLP alone) of x into out */
static void mlp(hf_gh *m, const gh_layer *l, const double *x, double *out, double *buf) {
    const int H = m->H, E = m->E;
    for (int i = 0; i < H; i++) out[i] = 0;
    if (E > 0) {
        double lg[256];
        int idx[256];
        matvec(l->router, x, lg, E, H);
        hf_family_topk(lg, E, m->topk, idx, &m->margin);
        double sum = 0; /* softmax over the top-k logits */
        for (int t = 0; t < m->topk; t++) sum += exp(lg[idx[t]] - lg[idx[0]]);
        for (int t = 0; t < m->topk; t++) {
            const int e = idx[t];
            swiglu_add(l->in_lin + (size_t)e * 2 * m->F * H, l->out_lin + (size_t)e * H * m->F, m->F, H, x,
                       exp(lg[e] - lg[idx[0]]) / sum, out, buf);
        }
    }
    swiglu_add(l->sh_in, l->sh_out, m->S, H, x, 1.0, out, buf);
}

/* one token through a Mamba-2 layer: r -> y (H) */
static void mamba(hf_gh *m, gh_layer *l, int pos, const double *r, double *y, double *buf) {
    const int di = m->dinner, cd = m->conv_dim, nh = m->mh, dh = m->mdh, ds = m->ds, K = m->K;
    double *zx = buf, *xbc = buf + di + cd + nh, *g = xbc + cd;
    matvec(l->in_proj, r, zx, di + cd + nh, m->H);
    float *cur = l->hist + (size_t)pos * cd;
    for (int c = 0; c < cd; c++) cur[c] = (float)zx[di + c];
    for (int c = 0; c < cd; c++) { /* causal depthwise conv, then silu */
        double s = l->conv_b[c];
        for (int k = 0; k < K; k++) {
            const int t = pos - (K - 1) + k;
            if (t >= 0) s += (double)l->conv_w[(size_t)c * K + k] * l->hist[(size_t)t * cd + c];
        }
        xbc[c] = silu(s);
    }
    const double *x = xbc, *B = xbc + di, *C = xbc + di + m->ng * ds;
    for (int h = 0; h < nh; h++) {
        const int grp = h / (nh / m->ng);
        const double dt = softplus(zx[di + cd + h] + l->dt_bias[h]), a = -exp((double)l->a_log[h]);
        const double dA = exp(dt * a);
        for (int d = 0; d < dh; d++) {
            double *S = l->state + ((size_t)h * dh + d) * ds, acc = 0;
            const double xv = x[h * dh + d];
            for (int n = 0; n < ds; n++) {
                S[n] = S[n] * dA + dt * B[grp * ds + n] * xv;
                acc += S[n] * C[grp * ds + n];
            }
            g[h * dh + d] = (acc + l->d[h] * xv) * silu(zx[h * dh + d]); /* y, gated by silu(z) */
        }
    }
    rmsnorm(g, g, l->gnorm, di, m->eps); /* over the whole d_inner */
    matvec(l->out_proj, g, y, m->H, di);
}

/* GraniteMoeHybridRotaryEmbedding's default rope of one head at position pos: rotate-half pairs (i, i + hd / 2) */
static void rope(double *v, int hd, int pos, double theta) {
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        const float inv = (float)(1.0 / pow(theta, (double)(2 * i) / hd)); /* inv_freq, float32 */
        const double ang = (double)((float)pos * inv), c = cos(ang), s = sin(ang);
        const double a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

/* one token through an attention layer (rope when the config says so): r -> y (H) */
static void attention(hf_gh *m, gh_layer *l, int pos, const double *r, double *y, double *buf) {
    const int H = m->H, hd = m->hd, kd = m->nkv * hd, rep = m->nh / m->nkv;
    double *q = buf, *kv = q + H, *att = kv + 2 * kd, *sc = att + H;
    matvec(l->q, r, q, H, H);
    matvec(l->k, r, kv, kd, H);
    matvec(l->v, r, kv + kd, kd, H);
    for (int hh = 0; m->rope && hh < m->nh; hh++) rope(q + hh * hd, hd, pos, m->theta);
    for (int hh = 0; m->rope && hh < m->nkv; hh++) rope(kv + hh * hd, hd, pos, m->theta);
    float *store = l->hist + (size_t)pos * 2 * kd;
    for (int i = 0; i < 2 * kd; i++) store[i] = (float)kv[i];
    for (int hh = 0; hh < m->nh; hh++) {
        const int grp = hh / rep;
        double mx = -INFINITY, sum = 0;
        for (int t = 0; t <= pos; t++) {
            const float *kk = l->hist + (size_t)t * 2 * kd + grp * hd;
            double s = 0;
            for (int d = 0; d < hd; d++) s += q[hh * hd + d] * kk[d];
            sc[t] = s * m->att_mul;
            if (sc[t] > mx) mx = sc[t];
        }
        for (int t = 0; t <= pos; t++) sum += sc[t] = exp(sc[t] - mx);
        for (int d = 0; d < hd; d++) {
            double s = 0;
            for (int t = 0; t <= pos; t++) s += sc[t] * l->hist[(size_t)t * 2 * kd + kd + grp * hd + d];
            att[hh * hd + d] = s / sum;
        }
    }
    matvec(l->o, att, y, H, H);
}

static int gh_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_gh *m = vm;
    const int H = m->H, kd = m->nkv * m->hd;
    if (token < 0 || token >= m->vocab) {
        hf_set_err(err, errlen, "token id %d out of range (vocab %d)", (int)token, m->vocab);
        return -1;
    }
    if (pos == 0)
        for (int i = 0; i < m->n_layer; i++)
            if (m->layers[i].state)
                memset(m->layers[i].state, 0, (size_t)m->mh * m->mdh * m->ds * sizeof *m->layers[i].state);
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++) {
            gh_layer *l = &m->layers[i];
            float *p = realloc(l->hist, (size_t)nc * (size_t)(l->mamba ? m->conv_dim : 2 * kd) * sizeof *p);
            if (!p) {
                hf_set_err(err, errlen, "out of memory");
                return -1;
            }
            l->hist = p;
        }
        m->cap = nc;
    }
    const size_t nbuf = (size_t)(2 * (m->dinner + m->conv_dim + m->mh) + 4 * H + 2 * kd + pos + 1 +
                                 2 * (m->F > m->S ? m->F : m->S));
    double *h = malloc((size_t)H * sizeof *h), *r = malloc((size_t)H * sizeof *r), *y = malloc((size_t)H * sizeof *y);
    double *buf = malloc(nbuf * sizeof *buf);
    if (!h || !r || !y || !buf) {
        free(h), free(r), free(y), free(buf);
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    m->margin = INFINITY;
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i] * m->emb_mul;
    for (int li = 0; li < m->n_layer; li++) {
        gh_layer *l = &m->layers[li];
        rmsnorm(r, h, l->norm, H, m->eps);
        if (l->mamba) mamba(m, l, pos, r, y, buf);
        else attention(m, l, pos, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i] * m->res_mul;
        rmsnorm(r, h, l->post_norm, H, m->eps);
        mlp(m, l, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i] * m->res_mul;
    }
    if (logits) {
        rmsnorm(r, h, m->final_norm, H, m->eps);
        const float *w = m->lm_head ? m->lm_head : m->embed;
        for (int o = 0; o < m->vocab; o++) {
            double s = 0;
            for (int i = 0; i < H; i++) s += (double)w[(size_t)o * H + i] * r[i];
            logits[o] = (float)(s / m->logit_scale);
        }
    }
    free(h), free(r), free(y), free(buf);
    return 0;
}

const hf_family hf_family_granitehybrid = {
    .model_types = {"granitemoehybrid"}, .load = gh_load, .vocab = gh_vocab, .next = gh_next,
    .route_margin = gh_route_margin, .free = gh_free,
};
