/* hf_forward_mamba.c - Mamba-1's forward pass, written from transformers' modeling_mamba.py (MambaForCausalLM,
 * model_type "mamba") and modeling_falcon_mamba.py (FalconMambaForCausalLM, "falcon_mamba"), the mixers'
 * slow_forward one token at a time (its table hf_family_mamba, see hf_forward_family.h); float32 weights, double
 * arithmetic:
 *   h = backbone.embeddings[token]
 *   per layer: r = norm(h); [x | z] = in_proj(r) (d_inner each);
 *     x = silu(conv1d(x)) (causal depthwise over the last conv_kernel positions, zeros before the start, + bias);
 *     [dt | B | C] = x_proj(x) (time_step_rank, state_size, state_size); Falcon Mamba: each RMS-normalized without
 *     a weight (mixer_rms_eps); dt = softplus(dt_proj(dt) + dt_proj.bias);
 *     per channel c: S_c = S_c exp(dt_c A_c) + dt_c B x_c (A = -exp(A_log)), y_c = S_c . C + D_c x_c;
 *     h += out_proj(y * silu(z))
 *   logits = lm_head(norm_f(h)) (lm_head tied to the embeddings when absent)
 * RMSNorm: w * x / sqrt(mean(x^2) + layer_norm_epsilon). Test support only. */
#include "hf_forward_ssm.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *norm, *in_proj, *conv_w, *conv_b, *x_proj, *dt_w, *dt_b, *a_log, *d, *out_proj;
    float *hist;   /* x before the conv, per position */
    double *state; /* [d_inner][d_state] */
} m1_layer;

typedef struct {
    int vocab, H, n_layer, di, ds, K, R, cap;
    bool falcon;
    double eps, mixer_eps;
    float *embed, *lm_head, *final_norm;
    m1_layer *layers;
} hf_mamba;

static void m1_free(void *vm) {
    hf_mamba *m = vm;
    if (!m) return;
    for (int i = 0; m->layers && i < m->n_layer; i++) {
        m1_layer *l = &m->layers[i];
        float *ps[] = {l->norm, l->in_proj, l->conv_w, l->conv_b, l->x_proj, l->dt_w, l->dt_b, l->a_log, l->d,
                       l->out_proj, l->hist};
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) free(ps[k]);
        free(l->state);
    }
    free(m->layers), free(m->embed), free(m->lm_head), free(m->final_norm);
    free(m);
}

static void *m1_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_mamba *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    m->falcon = cJSON_IsString(mt) && !strcmp(mt->valuestring, "falcon_mamba");
    /* MambaConfig's defaults */
    m->vocab = hf_cfg_int(cfg, "vocab_size", 0), m->H = hf_cfg_int(cfg, "hidden_size", 0);
    m->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0), m->ds = hf_cfg_int(cfg, "state_size", 16);
    m->K = hf_cfg_int(cfg, "conv_kernel", 4), m->di = hf_cfg_int(cfg, "expand", 2) * m->H;
    m->R = hf_cfg_int(cfg, "time_step_rank", (m->H + 15) / 16);
    m->eps = hf_cfg_num(cfg, "layer_norm_epsilon", 1e-5), m->mixer_eps = hf_cfg_num(cfg, "mixer_rms_eps", 1e-6);
    if (m->vocab <= 0 || m->H <= 0 || m->n_layer <= 0 || m->ds <= 0 || m->K < 1 || m->di <= 0 || m->R <= 0) {
        hf_set_err(err, errlen, "mamba config: bad sizes");
        free(m);
        return NULL;
    }
    const int H = m->H, di = m->di, ds = m->ds, R = m->R;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    int bad = !m->layers;
#define T(ptr, d0, d1, d2, ...)                                                                                        \
    do { if (!bad && !((ptr) = hf_family_take(get, ctx, d0, d1, d2, err, errlen, __VA_ARGS__))) bad = 1; } while (0)
    T(m->embed, m->vocab, H, 0, "backbone.embeddings.weight");
    T(m->final_norm, H, 0, 0, "backbone.norm_f.weight");
    int64_t shape[8];
    int nd;
    if (!bad && get(ctx, "lm_head.weight", shape, &nd)) T(m->lm_head, m->vocab, H, 0, "lm_head.weight");
    for (int i = 0; i < m->n_layer && !bad; i++) {
        m1_layer *l = &m->layers[i];
        const char *P = "backbone.layers.";
        T(l->norm, H, 0, 0, "%s%d.norm.weight", P, i);
        T(l->in_proj, 2 * di, H, 0, "%s%d.mixer.in_proj.weight", P, i);
        T(l->conv_w, di, 1, m->K, "%s%d.mixer.conv1d.weight", P, i);
        T(l->conv_b, di, 0, 0, "%s%d.mixer.conv1d.bias", P, i);
        T(l->x_proj, R + 2 * ds, di, 0, "%s%d.mixer.x_proj.weight", P, i);
        T(l->dt_w, di, R, 0, "%s%d.mixer.dt_proj.weight", P, i);
        T(l->dt_b, di, 0, 0, "%s%d.mixer.dt_proj.bias", P, i);
        T(l->a_log, di, ds, 0, "%s%d.mixer.A_log", P, i);
        T(l->d, di, 0, 0, "%s%d.mixer.D", P, i);
        T(l->out_proj, H, di, 0, "%s%d.mixer.out_proj.weight", P, i);
        if (!bad && !(l->state = calloc((size_t)di * ds, sizeof *l->state))) bad = 1;
    }
#undef T
    if (bad) {
        m1_free(m);
        return NULL;
    }
    return m;
}

static int m1_vocab(const void *m) { return ((const hf_mamba *)m)->vocab; }

/* x /= sqrt(mean(x^2) + eps), no weight (FalconMambaMixer's rms_forward) */
static void rms_plain(double *x, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) x[i] *= r;
}

/* one token through layer l's mixer: r (H) -> y (H); buf at least 3 di + R + 2 ds doubles */
static void mixer(const hf_mamba *m, m1_layer *l, int pos, const double *r, double *y, double *buf) {
    const int H = m->H, di = m->di, ds = m->ds, R = m->R, K = m->K;
    double *xz = buf, *xc = buf + 2 * di, *dbc = xc + di; /* [x | z], the conv's output, [dt | B | C] */
    hf_matvec_d(l->in_proj, r, xz, 2 * di, H);
    float *hx = l->hist + (size_t)pos * di;
    for (int c = 0; c < di; c++) hx[c] = (float)xz[c];
    for (int c = 0; c < di; c++) {
        double s = l->conv_b[c];
        for (int k = 0; k < K; k++) {
            const int t = pos - (K - 1) + k;
            if (t >= 0) s += (double)l->conv_w[(size_t)c * K + k] * l->hist[(size_t)t * di + c];
        }
        xc[c] = hf_silu_d(s);
    }
    hf_matvec_d(l->x_proj, xc, dbc, R + 2 * ds, di);
    double *dt = dbc, *B = dbc + R, *C = dbc + R + ds;
    if (m->falcon) rms_plain(dt, R, m->mixer_eps), rms_plain(B, ds, m->mixer_eps), rms_plain(C, ds, m->mixer_eps);
    for (int c = 0; c < di; c++) {
        double v = l->dt_b[c];
        for (int k = 0; k < R; k++) v += (double)l->dt_w[(size_t)c * R + k] * dt[k];
        const double d = v > 20 ? v : log1p(exp(v)); /* softplus */
        double *S = l->state + (size_t)c * ds, yc = 0;
        for (int n = 0; n < ds; n++) {
            const double a = -exp((double)l->a_log[(size_t)c * ds + n]);
            S[n] = S[n] * exp(d * a) + d * B[n] * xc[c];
            yc += S[n] * C[n];
        }
        xz[c] = (yc + l->d[c] * xc[c]) * hf_silu_d(xz[di + c]); /* y * silu(z), in x's place */
    }
    hf_matvec_d(l->out_proj, xz, y, H, di);
}

static int m1_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_mamba *m = vm;
    const int H = m->H;
    if (token < 0 || token >= m->vocab) {
        hf_set_err(err, errlen, "token id %d out of range (vocab %d)", (int)token, m->vocab);
        return -1;
    }
    if (pos == 0)
        for (int i = 0; i < m->n_layer; i++) memset(m->layers[i].state, 0, (size_t)m->di * m->ds * sizeof(double));
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++)
            if (hf_hist_grow(&m->layers[i].hist, (size_t)m->di, nc, err, errlen)) return -1;
        m->cap = nc;
    }
    double *r, *y, *buf, *h = hf_work(H, (size_t)(3 * m->di + m->R + 2 * m->ds), &r, &y, &buf, err, errlen);
    if (!h) return -1;
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i];
    for (int li = 0; li < m->n_layer; li++) {
        hf_rmsnorm_d(r, h, m->layers[li].norm, H, m->eps);
        mixer(m, &m->layers[li], pos, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i];
    }
    if (logits) {
        hf_rmsnorm_d(r, h, m->final_norm, H, m->eps);
        hf_logits_d(m->lm_head ? m->lm_head : m->embed, r, m->vocab, H, 1.0, logits);
    }
    free(h);
    return 0;
}

const hf_family hf_family_mamba = {
    .model_types = {"mamba", "falcon_mamba"}, .load = m1_load, .vocab = m1_vocab, .next = m1_next, .free = m1_free,
};
