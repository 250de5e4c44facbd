/* hf_forward_ssm.c - see hf_forward_ssm.h. */
#include "hf_forward_ssm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hf_rmsnorm_d(double *out, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

void hf_matvec_d(const float *w, const double *x, double *y, int out, int in) {
    for (int o = 0; o < out; o++) {
        double s = 0;
        for (int i = 0; i < in; i++) s += (double)w[(size_t)o * in + i] * x[i];
        y[o] = s;
    }
}

/* *hist grown to room for nc positions of per_pos floats: 0, or -1 with a reason in err */
static int hist_grow(float **hist, size_t per_pos, int nc, char *err, size_t errlen) {
    float *p = realloc(*hist, (size_t)nc * per_pos * sizeof *p);
    if (!p) {
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    *hist = p;
    return 0;
}

double *hf_token_work(const hf_trunk *t, int32_t token, double emb_mul, size_t nbuf, double **r, double **y,
                      double **buf, char *err, size_t errlen) {
    const int H = t->H;
    double *h = malloc((3 * (size_t)H + nbuf) * sizeof *h);
    if (!h) {
        hf_set_err(err, errlen, "out of memory");
        return NULL;
    }
    *r = h + H, *y = h + 2 * (size_t)H, *buf = h + 3 * (size_t)H;
    for (int i = 0; i < H; i++) h[i] = t->embed[(size_t)token * H + i] * emb_mul;
    return h;
}

void hf_logits_d(const float *w, const double *x, int vocab, int H, double scale, float *logits) {
    for (int o = 0; o < vocab; o++) {
        double s = 0;
        for (int i = 0; i < H; i++) s += (double)w[(size_t)o * H + i] * x[i];
        logits[o] = (float)(s / scale);
    }
}

double hf_silu_d(double x) { return x / (1.0 + exp(-x)); }

void hf_swiglu_add_d(const float *gate, const float *up, const float *down, int F, int H, const double *x, double wgt,
                     double *out, double *buf) {
    hf_matvec_d(gate, x, buf, F, H);
    hf_matvec_d(up, x, buf + F, F, H);
    for (int j = 0; j < F; j++) buf[j] = hf_silu_d(buf[j]) * buf[F + j];
    for (int o = 0; o < H; o++) {
        double s = 0;
        for (int j = 0; j < F; j++) s += (double)down[(size_t)o * F + j] * buf[j];
        out[o] += wgt * s;
    }
}
/* Both mixers' causal depthwise conv1d over the last K positions (zeros before the start) then silu: in (n values,
 * position pos) kept in hist as float, as the model's conv input is, then out[c] = silu(b[c] + sum_k w[c][k]
 * hist[pos - K + 1 + k][c]). */
static void conv_silu(const float *w, const float *b, float *hist, int pos, int n, int K, const double *in,
                      double *out) {
    float *cur = hist + (size_t)pos * n;
    for (int c = 0; c < n; c++) cur[c] = (float)in[c];
    for (int c = 0; c < n; c++) {
        double s = b[c];
        for (int k = 0; k < K; k++) {
            const int t = pos - (K - 1) + k;
            if (t >= 0) s += (double)w[(size_t)c * K + k] * hist[(size_t)t * n + c];
        }
        out[c] = hf_silu_d(s);
    }
}

static double softplus(double x) { return x > 20 ? x : log1p(exp(x)); } /* torch's threshold 20 */

/* The mixer's tensors t[0..n) under pfx, then its state of n_state doubles zeroed: 0, or -1 with a reason in err */
static int take_mixer(const hf_take_row *t, size_t n, size_t n_state, double **state, hf_tensor_get get, void *ctx,
                      const char *pfx, char *err, size_t errlen) {
    if (hf_family_take_rows(get, ctx, t, n, pfx, err, errlen)) return -1;
    if (!(*state = calloc(n_state, sizeof **state))) {
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The Mamba-2 mixer's tensors "<pfx>in_proj.weight", conv1d.weight / .bias, dt_bias, A_log, D, norm.weight,
 * out_proj.weight (norm.weight only with a norm_group); 0, or -1 with a reason in err (what was loaded is freed by
 * m2_free) */
static int m2_load(hf_m2_layer *l, const hf_m2_dims *m, hf_tensor_get get, void *ctx, const char *pfx, char *err,
               size_t errlen) {
    memset(l, 0, sizeof *l);
    const hf_take_row t[] = {{&l->in_proj, m->di + m->cd + m->nh, m->H, 0, "in_proj.weight"},
                             {&l->conv_w, m->cd, 1, m->K, "conv1d.weight"},
                             {&l->conv_b, m->cd, 0, 0, "conv1d.bias"},
                             {&l->dt_bias, m->nh, 0, 0, "dt_bias"},
                             {&l->a_log, m->nh, 0, 0, "A_log"},
                             {&l->d, m->nh, 0, 0, "D"},
                             {&l->gnorm, m->norm_group > 0 ? m->di : 0, 0, 0, "norm.weight"},
                             {&l->out_proj, m->H, m->di, 0, "out_proj.weight"}};
    return take_mixer(t, sizeof t / sizeof t[0], (size_t)m->nh * m->dh * m->ds, &l->state, get, ctx, pfx, err,
                      errlen);
}

static void m2_free(hf_m2_layer *l) {
    HF_FREE_ALL(l->in_proj, l->conv_w, l->conv_b, l->dt_bias, l->a_log, l->d, l->gnorm, l->out_proj, l->state);
}

/* one token at pos through the Mamba-2 mixer: r (H) -> y (H); hist holds xBC before the conv per position (cd
 * floats each), buf at least 2 (di + cd + nh) doubles; the state starts over at pos 0 */
static void m2_step(const hf_m2_dims *m, hf_m2_layer *l, float *hist, int pos, const double *r, double *y,
                    double *buf) {
    const int di = m->di, cd = m->cd, nh = m->nh, dh = m->dh, ds = m->ds, K = m->K;
    double *zx = buf, *xbc = buf + di + cd + nh, *g = xbc + cd;
    if (pos == 0) memset(l->state, 0, (size_t)nh * dh * ds * sizeof *l->state);
    hf_matvec_d(l->in_proj, r, zx, di + cd + nh, m->H);
    for (int i = 0; m->mup && i < di + cd + nh; i++) zx[i] *= m->mup[i];
    conv_silu(l->conv_w, l->conv_b, hist, pos, cd, K, zx + di, xbc);
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
            g[h * dh + d] = (acc + l->d[h] * xv) * hf_silu_d(zx[h * dh + d]); /* y, gated by silu(z) */
        }
    }
    for (int o = 0; m->norm_group > 0 && o < di; o += m->norm_group) /* the gated RMSNorm, group by group */
        hf_rmsnorm_d(g + o, g + o, l->gnorm + o, m->norm_group, m->eps);
    hf_matvec_d(l->out_proj, g, y, m->H, di);
}

/* the default rope of one head at position pos: rotate-half pairs (i, i + hd / 2), inv_freq in float32 */
static void rope(double *v, int hd, int pos, double theta) {
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        const float inv = (float)(1.0 / pow(theta, (double)(2 * i) / hd));
        const double ang = (double)((float)pos * inv), c = cos(ang), s = sin(ang);
        const double a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

/* "<pfx>q_proj.weight", k_proj, v_proj and o_proj .weight of a's sizes into w; 0, or -1 with a reason in err (what
 * was taken stays in w for att_free) */
static int att_load(hf_att_w *w, const hf_att_dims *a, hf_tensor_get get, void *ctx, const char *pfx, char *err,
                size_t errlen) {
    const int qd = a->nh * a->hd, kd = a->nkv * a->hd;
    const hf_take_row t[] = {{&w->q, qd, a->H, 0, "q_proj.weight"},
                             {&w->k, kd, a->H, 0, "k_proj.weight"},
                             {&w->v, kd, a->H, 0, "v_proj.weight"},
                             {&w->o, a->H, qd, 0, "o_proj.weight"}};
    return hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen);
}

static void att_free(hf_att_w *w) { HF_FREE_ALL(w->q, w->k, w->v, w->o); }

/* one token at pos through the attention layer: r (H) -> y (H); hist holds k then v per position (2 nkv hd floats
 * each); buf at least 2 nh hd + 2 nkv hd + pos + 1 doubles */
static void att_step(const hf_att_dims *a, const hf_att_w *w, float *hist, int pos, const double *r, double *y,
                 double *buf) {
    const float *wq = w->q, *wk = w->k, *wv = w->v, *wo = w->o;
    const int hd = a->hd, qd = a->nh * hd, kd = a->nkv * hd, rep = a->nh / a->nkv;
    double *q = buf, *kv = q + qd, *att = kv + 2 * kd, *sc = att + qd;
    hf_matvec_d(wq, r, q, qd, a->H);
    hf_matvec_d(wk, r, kv, kd, a->H);
    for (int i = 0; a->kmul != 0 && i < kd; i++) kv[i] *= a->kmul;
    hf_matvec_d(wv, r, kv + kd, kd, a->H);
    for (int hh = 0; a->rope && hh < a->nh; hh++) rope(q + hh * hd, hd, pos, a->theta);
    for (int hh = 0; a->rope && hh < a->nkv; hh++) rope(kv + hh * hd, hd, pos, a->theta);
    float *store = hist + (size_t)pos * 2 * kd;
    for (int i = 0; i < 2 * kd; i++) store[i] = (float)kv[i];
    for (int hh = 0; hh < a->nh; hh++) {
        const int grp = hh / rep;
        double mx = -INFINITY, sum = 0;
        for (int t = 0; t <= pos; t++) {
            const float *kk = hist + (size_t)t * 2 * kd + grp * hd;
            double s = 0;
            for (int d = 0; d < hd; d++) s += q[hh * hd + d] * kk[d];
            sc[t] = s * a->scale;
            if (sc[t] > mx) mx = sc[t];
        }
        for (int t = 0; t <= pos; t++) sum += sc[t] = exp(sc[t] - mx);
        for (int d = 0; d < hd; d++) {
            double s = 0;
            for (int t = 0; t <= pos; t++) s += sc[t] * hist[(size_t)t * 2 * kd + kd + grp * hd + d];
            att[hh * hd + d] = s / sum;
        }
    }
    hf_matvec_d(wo, att, y, a->H, qd);
}

/* The Mamba-1 mixer's tensors "<pfx>in_proj.weight", conv1d.weight / .bias, x_proj.weight, dt_proj.weight / .bias,
 * A_log, D, out_proj.weight (and dt_layernorm / b_layernorm / c_layernorm .weight with norms 1); 0, or -1 with a
 * reason in err (what was loaded is freed by m1_free) */
static int m1_load(hf_m1_layer *l, const hf_m1_dims *m, hf_tensor_get get, void *ctx, const char *pfx, char *err,
               size_t errlen) {
    memset(l, 0, sizeof *l);
    const int nw = m->norms == 1; /* Jamba's norm weights */
    const hf_take_row t[] = {{&l->in_proj, 2 * m->di, m->H, 0, "in_proj.weight"},
                             {&l->conv_w, m->di, 1, m->K, "conv1d.weight"},
                             {&l->conv_b, m->di, 0, 0, "conv1d.bias"},
                             {&l->x_proj, m->R + 2 * m->ds, m->di, 0, "x_proj.weight"},
                             {&l->dt_w, m->di, m->R, 0, "dt_proj.weight"},
                             {&l->dt_b, m->di, 0, 0, "dt_proj.bias"},
                             {&l->a_log, m->di, m->ds, 0, "A_log"},
                             {&l->d, m->di, 0, 0, "D"},
                             {&l->out_proj, m->H, m->di, 0, "out_proj.weight"},
                             {&l->dt_norm, nw ? m->R : 0, 0, 0, "dt_layernorm.weight"},
                             {&l->b_norm, nw ? m->ds : 0, 0, 0, "b_layernorm.weight"},
                             {&l->c_norm, nw ? m->ds : 0, 0, 0, "c_layernorm.weight"}};
    return take_mixer(t, sizeof t / sizeof t[0], (size_t)m->di * m->ds, &l->state, get, ctx, pfx, err, errlen);
}

static void m1_free(hf_m1_layer *l) {
    HF_FREE_ALL(l->in_proj, l->conv_w, l->conv_b, l->x_proj, l->dt_w, l->dt_b, l->a_log, l->d, l->out_proj,
                l->dt_norm, l->b_norm, l->c_norm, l->state);
}

/* x = w * x / sqrt(mean(x^2) + eps), w NULL: no weight */
static void rms_inplace(double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) x[i] *= r * (w ? w[i] : 1.0);
}

/* one token at pos through the Mamba-1 mixer (slow_forward's recurrence): r (H) -> y (H); hist holds x before the
 * conv per position (di floats each), buf at least 3 di + R + 2 ds doubles; the state starts over at pos 0 */
static void m1_step(const hf_m1_dims *m, hf_m1_layer *l, float *hist, int pos, const double *r, double *y,
                    double *buf) {
    const int H = m->H, di = m->di, ds = m->ds, R = m->R, K = m->K;
    double *xz = buf, *xc = buf + 2 * di, *dbc = xc + di; /* [x | z], the conv's output, [dt | B | C] */
    if (pos == 0) memset(l->state, 0, (size_t)di * ds * sizeof *l->state);
    hf_matvec_d(l->in_proj, r, xz, 2 * di, H);
    conv_silu(l->conv_w, l->conv_b, hist, pos, di, K, xz, xc);
    hf_matvec_d(l->x_proj, xc, dbc, R + 2 * ds, di);
    double *dt = dbc, *B = dbc + R, *C = dbc + R + ds;
    if (m->norms) {
        rms_inplace(dt, l->dt_norm, R, m->norm_eps);
        rms_inplace(B, l->b_norm, ds, m->norm_eps);
        rms_inplace(C, l->c_norm, ds, m->norm_eps);
    }
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

int hf_mix_load(hf_mix_w *w, hf_mix_kind kind, const hf_mix_dims *d, hf_tensor_get get, void *ctx, const char *pfx,
                char *err, size_t errlen) {
    w->kind = kind;
    switch (kind) {
    case HF_MIX_M1: return m1_load(&w->m1, &d->m1, get, ctx, pfx, err, errlen);
    case HF_MIX_M2: return m2_load(&w->m2, &d->m2, get, ctx, pfx, err, errlen);
    case HF_MIX_ATT: return att_load(&w->att, &d->att, get, ctx, pfx, err, errlen);
    default: return 0;
    }
}

int hf_mix_room(hf_mix_w *w, const hf_mix_dims *d, int pos, char *err, size_t errlen) {
    if (w->kind == HF_MIX_NONE || pos < w->cap) return 0;
    const int nc = w->cap ? 2 * w->cap : 64;
    const size_t per_pos = (size_t)(w->kind == HF_MIX_M1   ? d->m1.di
                                    : w->kind == HF_MIX_M2 ? d->m2.cd
                                                           : 2 * d->att.nkv * d->att.hd);
    if (hist_grow(&w->hist, per_pos, nc, err, errlen)) return -1;
    w->cap = nc;
    return 0;
}

void hf_mix_step(const hf_mix_dims *d, hf_mix_w *w, int pos, const double *r, double *y, double *buf) {
    if (w->kind == HF_MIX_M1) m1_step(&d->m1, &w->m1, w->hist, pos, r, y, buf);
    else if (w->kind == HF_MIX_M2) m2_step(&d->m2, &w->m2, w->hist, pos, r, y, buf);
    else if (w->kind == HF_MIX_ATT) att_step(&d->att, &w->att, w->hist, pos, r, y, buf);
}

void hf_mix_free(hf_mix_w *w) {
    m1_free(&w->m1);
    m2_free(&w->m2);
    att_free(&w->att);
    free(w->hist);
}

void hf_mix_layer_free(void *vl) {
    hf_mix_layer *l = vl;
    HF_FREE_ALL(l->norm, l->ff_norm);
    hf_mix_free(&l->mx);
}

/* layer i of t, a hf_mix_layer first */
static hf_mix_layer *mix_layer(const hf_trunk *t, int i) {
    return (hf_mix_layer *)((char *)t->layers + (size_t)i * t->layer_size);
}

int hf_mix_next(void *m, const hf_mix_dims *d, const hf_mix_pass *p, int32_t token, int pos, float *logits, char *err,
                size_t errlen) {
    const hf_trunk *t = m;
    const int H = t->H;
    for (int i = 0; i < t->n_layer; i++)
        if (hf_mix_room(&mix_layer(t, i)->mx, d, pos, err, errlen)) return -1;
    double *r, *y, *buf, *h = hf_token_work(t, token, p->emb_mul, p->nbuf, &r, &y, &buf, err, errlen);
    if (!h) return -1;
    for (int li = 0; li < t->n_layer; li++) {
        hf_mix_layer *l = mix_layer(t, li);
        hf_rmsnorm_d(r, h, l->norm, H, p->eps);
        if (l->mx.kind != HF_MIX_NONE) hf_mix_step(d, &l->mx, pos, r, y, buf);
        else p->ffn(m, l, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i] * p->res_mul;
        if (!l->ff_norm) continue;
        hf_rmsnorm_d(r, h, l->ff_norm, H, p->eps);
        p->ffn(m, l, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i] * p->res_mul;
    }
    return hf_finish_token(h, r, t->final_norm, t->lm_head, t->embed, t->vocab, H, p->eps, p->logit_scale, logits);
}

int hf_finish_token(double *h, double *r, const float *final_norm, const float *head, const float *embed, int vocab,
                    int H, double eps, double scale, float *logits) {
    if (logits) {
        hf_rmsnorm_d(r, h, final_norm, H, eps);
        hf_logits_d(head ? head : embed, r, vocab, H, scale, logits);
    }
    free(h);
    return 0;
}
