/* hf_forward_falconh1.c - TII's Falcon-H1 forward pass, written from transformers' modeling_falcon_h1.py, model_type
 * "falcon_h1" (its table hf_family_falconh1, see hf_forward_family.h); float32 weights, double arithmetic, one token
 * at a time, the muP multipliers applied where the model applies them (not folded):
 *   h = embed_tokens[token] * embedding_multiplier
 *   per layer (FalconH1DecoderLayer): r = input_layernorm(h);
 *     h += ssm_out_multiplier * mamba(r * ssm_in_multiplier) + attention_out_multiplier * self_attn(r *
 *          attention_in_multiplier)
 *     mamba (FalconH1Mixer.torch_forward, the scan in its recurrent form, hf_forward_ssm.c): in_proj's output times
 *       the muP vector (ssm_multipliers over z, x, B, C, dt), d_inner = mamba_d_ssm; with mamba_rms_norm the gated
 *       RMSNorm over mamba_n_groups groups after the gate (norm_before_gate false), else y * silu(z) alone
 *     self_attn: q, k * key_multiplier, v of head_dim, rotate-half rope (rope_theta), softmax(q.k / sqrt(head_dim))
 *     h += down_proj(up_proj(x) * silu(gate_proj(x) * mlp_multipliers[0])) * mlp_multipliers[1], x =
 *          pre_ff_layernorm(h)
 *   logits = lm_head(final_layernorm(h)) * lm_head_multiplier
 * RMSNorm: w * x / sqrt(mean(x^2) + rms_norm_eps). Test support only. */
#include "hf_forward_ssm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *norm, *ff_norm, *gate, *up, *down;
    hf_mix_w mamba, attn; /* its two mixers, side by side */
} fh_layer;

typedef struct {
    hf_trunk t;
    hf_mix_dims mx;
    int F, kd;
    double eps, emb_mul, lm_mul, ssm_in, ssm_out, att_in, att_out, gate_mul, down_mul;
    double *mup;
    fh_layer *layers;
} hf_fh;

static void fh_free_layer(void *vl) {
    fh_layer *l = vl;
    HF_FREE_ALL(l->norm, l->ff_norm, l->gate, l->up, l->down);
    hf_mix_free(&l->mamba);
    hf_mix_free(&l->attn);
}

static void fh_free(void *vm) {
    if (vm) free(((hf_fh *)vm)->mup);
    hf_trunk_free(vm);
}

/* entry i of the config list k (def when absent) */
static double list_num(const cJSON *cfg, const char *k, int i, double def) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, k), *e = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, i) : NULL;
    return cJSON_IsNumber(e) ? e->valuedouble : def;
}

static void *fh_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_fh *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    m->F = hf_cfg_int(cfg, "intermediate_size", 0);
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-5);
    m->emb_mul = hf_cfg_num(cfg, "embedding_multiplier", 1.0), m->lm_mul = hf_cfg_num(cfg, "lm_head_multiplier", 1.0);
    m->ssm_in = hf_cfg_num(cfg, "ssm_in_multiplier", 1.0), m->ssm_out = hf_cfg_num(cfg, "ssm_out_multiplier", 1.0);
    m->att_in = hf_cfg_num(cfg, "attention_in_multiplier", 1.0);
    m->att_out = hf_cfg_num(cfg, "attention_out_multiplier", 1.0);
    m->gate_mul = list_num(cfg, "mlp_multipliers", 0, 1.0), m->down_mul = list_num(cfg, "mlp_multipliers", 1, 1.0);
    const int nh = hf_cfg_int(cfg, "num_attention_heads", 0), nkv = hf_cfg_int(cfg, "num_key_value_heads", 0);
    const int hd = hf_cfg_int(cfg, "head_dim", nh > 0 ? m->t.H / nh : 0);
    const int mh = hf_cfg_int(cfg, "mamba_n_heads", 0), mdh = hf_cfg_int(cfg, "mamba_d_head", 0);
    const int ng = hf_cfg_int(cfg, "mamba_n_groups", 1), ds = hf_cfg_int(cfg, "mamba_d_state", 0);
    const int di = hf_cfg_int(cfg, "mamba_d_ssm", hf_cfg_int(cfg, "mamba_expand", 2) * m->t.H);
    const int norm = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "mamba_rms_norm"));
    const int cd = di + 2 * ng * ds, gts = ng * ds;
    m->mx.m2 = (hf_m2_dims){.H = m->t.H, .di = di, .cd = cd, .nh = mh, .dh = mdh, .ds = ds, .ng = ng,
                            .K = hf_cfg_int(cfg, "mamba_d_conv", 4), .norm_group = norm && ng > 0 ? di / ng : 0,
                            .eps = m->eps};
    m->mx.att = (hf_att_dims){.H = m->t.H, .nh = nh, .nkv = nkv, .hd = hd, .rope = 1,
                              .scale = hd > 0 ? 1.0 / sqrt(hd) : 0, .theta = hf_cfg_num(cfg, "rope_theta", 10000.0),
                              .kmul = hf_cfg_num(cfg, "key_multiplier", 1.0)};
    m->kd = nkv * hd;
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || nh <= 0 || nkv <= 0 || nh % nkv || hd <= 0 || hd % 2 ||
        mh <= 0 || mdh * mh != di || ng <= 0 || mh % ng || ds <= 0 || m->mx.m2.K < 1 || m->F <= 0) {
        hf_set_err(err, errlen, "falcon_h1 config: bad sizes");
        free(m);
        return NULL;
    }
    const int H = m->t.H, n_mup = di + cd + mh;
    m->mup = malloc((size_t)n_mup * sizeof *m->mup);
    int bad = !m->mup;
    const int ends[5] = {di, 2 * di, 2 * di + gts, 2 * di + 2 * gts, n_mup};
    for (int i = 0, s = 0; !bad && i < n_mup; i++) { /* compute_mup_vector */
        while (i >= ends[s]) s++;
        m->mup[i] = list_num(cfg, "ssm_multipliers", s, 1.0);
    }
    m->mx.m2.mup = m->mup;
    bad = bad || !(m->layers = hf_trunk_take(&m->t, sizeof *m->layers, fh_free_layer, "model.embed_tokens.weight",
                                             "model.final_layernorm.weight", 1, get, ctx, err, errlen));
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        fh_layer *l = &m->layers[i];
        const hf_take_row t[] = {{&l->norm, H, 0, 0, "input_layernorm.weight"},
                                 {&l->ff_norm, H, 0, 0, "pre_ff_layernorm.weight"},
                                 {&l->gate, m->F, H, 0, "feed_forward.gate_proj.weight"},
                                 {&l->up, m->F, H, 0, "feed_forward.up_proj.weight"},
                                 {&l->down, H, m->F, 0, "feed_forward.down_proj.weight"}};
        char pfx[64], sub[80];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        bad = hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen);
        snprintf(sub, sizeof sub, "%sself_attn.", pfx);
        bad = bad || hf_mix_load(&l->attn, HF_MIX_ATT, &m->mx, get, ctx, sub, err, errlen);
        snprintf(sub, sizeof sub, "%smamba.", pfx);
        bad = bad || hf_mix_load(&l->mamba, HF_MIX_M2, &m->mx, get, ctx, sub, err, errlen);
    }
    return hf_family_loaded(m, !bad, fh_free);
}

static int fh_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_fh *m = vm;
    const int H = m->t.H, F = m->F;
    for (int i = 0; i < m->t.n_layer; i++)
        if (hf_mix_room(&m->layers[i].mamba, &m->mx, pos, err, errlen) ||
            hf_mix_room(&m->layers[i].attn, &m->mx, pos, err, errlen))
            return -1;
    const size_t nbuf = (size_t)(2 * (m->mx.m2.di + m->mx.m2.cd + m->mx.m2.nh) + 2 * m->mx.att.nh * m->mx.att.hd +
                                 2 * m->kd + pos + 1 + 2 * F + 3 * H);
    double *r, *y, *buf, *h = hf_token_work(&m->t, token, m->emb_mul, nbuf, &r, &y, &buf, err, errlen);
    if (!h) return -1;
    double *x = buf + nbuf - 3 * (size_t)H, *ya = x + H; /* the branch inputs and the attention's output */
    for (int li = 0; li < m->t.n_layer; li++) {
        fh_layer *l = &m->layers[li];
        hf_rmsnorm_d(r, h, l->norm, H, m->eps);
        for (int i = 0; i < H; i++) x[i] = r[i] * m->ssm_in;
        hf_mix_step(&m->mx, &l->mamba, pos, x, y, buf);
        for (int i = 0; i < H; i++) x[i] = r[i] * m->att_in;
        hf_mix_step(&m->mx, &l->attn, pos, x, ya, buf);
        for (int i = 0; i < H; i++) h[i] += y[i] * m->ssm_out + ya[i] * m->att_out;
        hf_rmsnorm_d(r, h, l->ff_norm, H, m->eps);
        double *g = buf, *u = buf + F;
        hf_matvec_d(l->gate, r, g, F, H);
        hf_matvec_d(l->up, r, u, F, H);
        for (int j = 0; j < F; j++) g[j] = u[j] * hf_silu_d(g[j] * m->gate_mul);
        hf_matvec_d(l->down, g, y, H, F);
        for (int i = 0; i < H; i++) h[i] += y[i] * m->down_mul;
    }
    return hf_finish_token(h, r, m->t.final_norm, m->t.lm_head, m->t.embed, m->t.vocab, H, m->eps, 1.0 / m->lm_mul,
                           logits);
}

const hf_family hf_family_falconh1 = {
    .model_types = {"falcon_h1"}, .load = fh_load, .vocab = hf_trunk_vocab, .next = fh_next, .free = fh_free,
};
