/* hf_forward_ssm.h - the pieces the reference forward passes of the Mamba models and the hybrids share
 * (hf_forward_granitehybrid.c, hf_forward_nemotronh.c, hf_forward_falconh1.c, hf_forward_jamba.c,
 * hf_forward_mamba.c): transformers' Mamba-1 and Mamba-2 mixers (the scans in their recurrent form), a causal
 * attention layer with grouped kv heads, and a layer's one mixer chosen by its kind (hf_mix_w), one token at a time,
 * float32 weights, double arithmetic. Test support only. */
#ifndef QK_HF_FORWARD_SSM_H
#define QK_HF_FORWARD_SSM_H

#include "hf_forward_family.h"

/* A Mamba-2 mixer's sizes: hidden H, inner di = nh x dh, conv channels cd = di + 2 ng ds, kernel K; the gated
 * RMSNorm normalizes groups of norm_group values (di: the whole inner size; 0: no norm, y * silu(z) alone) with eps;
 * mup (di + cd + nh values, NULL: none) multiplies in_proj's output (Falcon-H1's muP vector) */
typedef struct {
    int H, di, cd, nh, dh, ds, ng, K, norm_group;
    double eps;
    const double *mup;
} hf_m2_dims;

typedef struct {
    float *in_proj, *conv_w, *conv_b, *dt_bias, *a_log, *d, *gnorm, *out_proj;
    double *state; /* [nh][dh][ds] */
} hf_m2_layer;

/* The mixer's tensors "<pfx>in_proj.weight", conv1d.weight / .bias, dt_bias, A_log, D, norm.weight,
 * out_proj.weight (norm.weight only with a norm_group); 0, or -1 with a reason in err (what was loaded is freed by
 * hf_m2_free) */
int hf_m2_load(hf_m2_layer *l, const hf_m2_dims *m, hf_tensor_get get, void *ctx, const char *pfx, char *err,
               size_t errlen);
void hf_m2_free(hf_m2_layer *l);
/* one token at pos through the mixer: r (H) -> y (H); hist holds xBC before the conv per position (cd floats each),
 * buf at least 2 (di + cd + nh) doubles; the state starts over at pos 0 */
void hf_m2_step(const hf_m2_dims *m, hf_m2_layer *l, float *hist, int pos, const double *r, double *y, double *buf);

/* A Mamba-1 mixer's sizes (transformers' MambaMixer / FalconMambaMixer / JambaMambaMixer): hidden H, inner di,
 * state ds, conv kernel K, time-step rank R; the RMS norms on dt, B and C: with weights (Jamba's dt_layernorm,
 * b_layernorm, c_layernorm, when norms is 1) or without (Falcon Mamba's rms_forward, when norms is 2), epsilon
 * norm_eps; 0: none */
typedef struct {
    int H, di, ds, K, R, norms;
    double norm_eps;
} hf_m1_dims;

typedef struct {
    float *in_proj, *conv_w, *conv_b, *x_proj, *dt_w, *dt_b, *a_log, *d, *out_proj, *dt_norm, *b_norm, *c_norm;
    double *state; /* [di][ds] */
} hf_m1_layer;

/* The mixer's tensors "<pfx>in_proj.weight", conv1d.weight / .bias, x_proj.weight, dt_proj.weight / .bias, A_log,
 * D, out_proj.weight (and dt_layernorm / b_layernorm / c_layernorm .weight with norms 1); 0, or -1 with a reason in
 * err (what was loaded is freed by hf_m1_free) */
int hf_m1_load(hf_m1_layer *l, const hf_m1_dims *m, hf_tensor_get get, void *ctx, const char *pfx, char *err,
               size_t errlen);
void hf_m1_free(hf_m1_layer *l);
/* one token at pos through the mixer (slow_forward's recurrence): r (H) -> y (H); hist holds x before the conv per
 * position (di floats each), buf at least 3 di + R + 2 ds doubles; the state starts over at pos 0 */
void hf_m1_step(const hf_m1_dims *m, hf_m1_layer *l, float *hist, int pos, const double *r, double *y, double *buf);

/* attention sizes: hidden H, nh query heads of hd, nkv kv heads; keys times kmul (Falcon-H1's key_multiplier; 0:
 * 1); scores scaled by scale; rope (rotate-half, theta) when rope is set */
typedef struct {
    int H, nh, nkv, hd, rope;
    double scale, theta, kmul;
} hf_att_dims;
/* an attention layer's projections: q [nh hd][H], k / v [nkv hd][H], o [H][nh hd] */
typedef struct {
    float *q, *k, *v, *o;
} hf_att_w;
/* "<pfx>q_proj.weight", k_proj, v_proj and o_proj .weight of a's sizes into w; 0, or -1 with a reason in err (what
 * was taken stays in w for hf_att_free) */
int hf_att_load(hf_att_w *w, const hf_att_dims *a, hf_tensor_get get, void *ctx, const char *pfx, char *err,
                size_t errlen);
void hf_att_free(hf_att_w *w);
/* one token at pos through the layer: r (H) -> y (H); hist holds k then v per position (2 nkv hd floats each); buf
 * at least 2 nh hd + 2 nkv hd + pos + 1 doubles */
void hf_att_step(const hf_att_dims *a, const hf_att_w *w, float *hist, int pos, const double *r, double *y,
                 double *buf);

/* A hybrid family's mixer sizes, one set for the whole model: the Mamba-1 or Mamba-2 mixer's and the attention's
 * (a family fills those it has). */
typedef struct {
    hf_m1_dims m1;
    hf_m2_dims m2;
    hf_att_dims att;
} hf_mix_dims;
/* Which mixer a layer has (HF_MIX_NONE: the family steps its mixers itself, as Falcon-H1 runs two side by side). */
typedef enum { HF_MIX_NONE, HF_MIX_M1, HF_MIX_M2, HF_MIX_ATT } hf_mix_kind;
/* A layer's mixer weights: what its kind has (the rest stays all NULL), freed together by hf_mix_free. */
typedef struct {
    hf_mix_kind kind;
    hf_m1_layer m1;
    hf_m2_layer m2;
    hf_att_w att;
    float *hist; /* the mixer's history, cap positions: Mamba's conv input, attention's k then v */
    int cap;
} hf_mix_w;
/* w->kind = kind and that mixer's tensors under pfx loaded by hf_m1_load, hf_m2_load or hf_att_load with d's sizes
 * for it; 0, or -1 with a reason in err (what was loaded is freed by hf_mix_free) */
int hf_mix_load(hf_mix_w *w, hf_mix_kind kind, const hf_mix_dims *d, hf_tensor_get get, void *ctx, const char *pfx,
                char *err, size_t errlen);
/* w->hist grown (by hf_hist_grow, doubling) to hold position pos for its kind's mixer (none for HF_MIX_NONE): 0, or
 * -1 with a reason in err */
int hf_mix_room(hf_mix_w *w, const hf_mix_dims *d, int pos, char *err, size_t errlen);
/* one token at pos (hf_mix_room made room for it) through the layer's mixer of w->kind (not HF_MIX_NONE), as
 * hf_m1_step, hf_m2_step or hf_att_step with w->hist and their buf */
void hf_mix_step(const hf_mix_dims *d, hf_mix_w *w, int pos, const double *r, double *y, double *buf);
void hf_mix_free(hf_mix_w *w);

/* *hist grown to room for nc positions of per_pos floats: 0, or -1 with a reason in err */
int hf_hist_grow(float **hist, size_t per_pos, int nc, char *err, size_t errlen);
/* A token's start: one block, the returned h (H doubles) holding t's embedding row of token (below t->vocab, as
 * next()'s caller checked) times emb_mul, then *r, *y (H doubles each) and *buf (nbuf doubles); free(h) frees it
 * all; NULL with a reason in err */
double *hf_token_work(const hf_trunk *t, int32_t token, double emb_mul, size_t nbuf, double **r, double **y,
                      double **buf, char *err, size_t errlen);
/* A token's end: when logits, logits = (head, else the tied embed) . final_norm(h) / scale (eps the RMS epsilon);
 * then the hf_token_work block of h freed. Returns 0 (next()'s success). */
int hf_finish_token(double *h, double *r, const float *final_norm, const float *head, const float *embed, int vocab,
                    int H, double eps, double scale, float *logits);
/* logits[o] = (w . x)[o] / scale, w [vocab][H] (the lm_head, or the tied embeddings) */
void hf_logits_d(const float *w, const double *x, int vocab, int H, double scale, float *logits);

/* out = w * x / sqrt(mean(x^2) + eps); out may be x */
void hf_rmsnorm_d(double *out, const double *x, const float *w, int n, double eps);
/* y[o] = sum_i w[o * in + i] x[i] */
void hf_matvec_d(const float *w, const double *x, double *y, int out, int in);
double hf_silu_d(double x);
/* out += wgt * down(silu(gate x) * up x): gate / up [F][H], down [H][F]; buf 2 F doubles */
void hf_swiglu_add_d(const float *gate, const float *up, const float *down, int F, int H, const double *x, double wgt,
                     double *out, double *buf);

#endif
