/* hf_forward_ssm.h - the pieces the reference forward passes of the Mamba models and the hybrids share
 * (hf_forward_granitehybrid.c, hf_forward_nemotronh.c, hf_forward_falconh1.c, hf_forward_jamba.c,
 * hf_forward_mamba.c): transformers' Mamba-1 and Mamba-2 mixers (the scans in their recurrent form), a causal
 * attention layer with grouped kv heads, a layer's one mixer chosen by its kind (hf_mix_w), and the token pass of the
 * families whose layers are a norm and a mixer, then maybe a norm and a feed-forward (hf_mix_layer, hf_mix_next; all
 * but Falcon-H1, which runs its two mixers side by side), one token at a time, float32 weights, double arithmetic.
 * Test support only. */
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

/* A hybrid family's mixer sizes, one set for the whole model: the Mamba-1 or Mamba-2 mixer's and the attention's
 * (a family fills those it has). */
typedef struct {
    hf_m1_dims m1;
    hf_m2_dims m2;
    hf_att_dims att;
} hf_mix_dims;
/* Which mixer a layer has (HF_MIX_NONE: none, as in Nemotron-H's feed-forward layers). */
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
/* w->kind = kind and that mixer's tensors under pfx of d's sizes for it: the Mamba-2 mixer's in_proj, conv1d, dt_bias,
 * A_log, D, norm (with a norm_group), out_proj; the Mamba-1 mixer's in_proj, conv1d, x_proj, dt_proj, A_log, D,
 * out_proj and with norms 1 its dt / b / c layernorms; attention's q / k / v / o_proj (each "<pfx><name>.weight" or
 * .bias). 0, or -1 with a reason in err (what was loaded is freed by hf_mix_free) */
int hf_mix_load(hf_mix_w *w, hf_mix_kind kind, const hf_mix_dims *d, hf_tensor_get get, void *ctx, const char *pfx,
                char *err, size_t errlen);
/* w->hist grown (doubling) to hold position pos for its kind's mixer (none for HF_MIX_NONE): 0, or
 * -1 with a reason in err */
int hf_mix_room(hf_mix_w *w, const hf_mix_dims *d, int pos, char *err, size_t errlen);
/* one token at pos (hf_mix_room made room for it) through the layer's mixer of w->kind (not HF_MIX_NONE): r (H) ->
 * y (H), the Mamba state starting over at pos 0; buf at least 3 di + R + 2 ds doubles (Mamba-1), 2 (di + cd + nh)
 * (Mamba-2), 2 nh hd + 2 nkv hd + pos + 1 (attention) */
void hf_mix_step(const hf_mix_dims *d, hf_mix_w *w, int pos, const double *r, double *y, double *buf);
void hf_mix_free(hf_mix_w *w);

/* What each layer of a family that hf_mix_next drives starts with (the first member of the family's layer): the norm
 * before its mixer, the norm before its feed-forward (NULL: none after the mixer, as in Mamba and Nemotron-H), and
 * its mixer (HF_MIX_NONE: the layer is a feed-forward one, as Nemotron-H's). */
typedef struct {
    float *norm, *ff_norm;
    hf_mix_w mx;
} hf_mix_layer;
/* The norms and the mixer of l (a hf_mix_layer, or a layer that starts with one) freed; a trunk's free_layer for
 * layers that hold nothing else. */
void hf_mix_layer_free(void *l);

/* A family's constants for hf_mix_next's pass. */
typedef struct {
    double emb_mul, res_mul, eps, logit_scale; /* embedding and residual multipliers, RMS epsilon, logits divisor */
    size_t nbuf;                               /* buf doubles the mixers and ffn need at this position */
    /* out (H) = the feed-forward of the layer (which starts with its hf_mix_layer) for x (H) in model m, with buf;
     * NULL when no layer has one */
    void (*ffn)(void *m, const void *layer, const double *x, double *out, double *buf);
} hf_mix_pass;

/* One token at pos (next()'s contract) through model m, which starts with its hf_trunk whose layers start with their
 * hf_mix_layer: room for pos in every mixer (hf_mix_room), h = the token's embedding row times emb_mul, then per
 * layer r = norm(h), y = its mixer of r (p->ffn of r where it has none), h += res_mul y, and where the layer has an
 * ff_norm r = ff_norm(h), y = p->ffn of r, h += res_mul y; then hf_finish_token (eps, logit_scale). 0, or -1 with a
 * reason in err. */
int hf_mix_next(void *m, const hf_mix_dims *d, const hf_mix_pass *p, int32_t token, int pos, float *logits, char *err,
                size_t errlen);

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
