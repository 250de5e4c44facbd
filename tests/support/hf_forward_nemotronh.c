/* hf_forward_nemotronh.c - NVIDIA Nemotron-H's forward pass, written from transformers' modeling_nemotron_h.py (and
 * the releases' remote code), model_type "nemotron_h" (its table hf_family_nemotronh, see hf_forward_family.h);
 * float32 weights, double arithmetic, one token at a time:
 *   h = embeddings[token]
 *   per layer (NemotronHBlock): h += mixer(norm(h)), the mixer by hybrid_override_pattern[layer]:
 *     "M" NemotronHMamba2Mixer (torch_forward's scan in its recurrent form, hf_forward_ssm.c) with
 *       d_inner = mamba_num_heads x mamba_head_dim and MambaRMSNormGated over groups of d_inner / n_groups
 *       (rmsnorm_fn's group_size, norm_before_gate False: norm(y * silu(z)) group by group);
 *     "*" NemotronHAttention: q / k / v of head_dim, no rope, softmax(q.k / sqrt(head_dim)), grouped kv, o_proj;
 *     "-" NemotronHMLP: down_proj(relu(up_proj(x))^2)
 *     "E" NemotronHMoE (Nemotron 3): DeepseekV3TopkRouter's routing, s = sigmoid(gate(x)) in float32, the top
 *       num_experts_per_tok experts by s + e_score_correction_bias (n_group 1), weighted by their s, normalized
 *       (norm_topk_prob, + 1e-20) and times routed_scaling_factor; each a squared-ReLU MLP as "-"; plus the shared
 *       expert's
 *   logits = lm_head(norm_f(h))
 * Every norm: w * x / sqrt(mean(x^2) + layer_norm_epsilon). Test support only. */
#include "hf_forward_ssm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hf_mix_layer mix; /* first, for hf_mix_next: its norm and mixer, Mamba ('M') or attention ('*'), none ('-', 'E') */
    char kind;        /* its hybrid_override_pattern letter: 'M', '*', '-' or 'E' */
    float *up, *down;                                  /* '-' */
    float *router, *ebias, *eup, *edown, *sup, *sdown; /* 'E': experts [E][F][H] / [E][H][F], the shared one */
} nh_layer;

typedef struct {
    hf_trunk t;
    hf_mix_dims mx;
    int F, kd;
    int E, topk, S, norm_topk; /* MoE */
    double eps, scale, margin;
    nh_layer *layers;
} hf_nh;

static void nh_free_layer(void *vl) {
    nh_layer *l = vl;
    HF_FREE_ALL(l->up, l->down, l->router, l->ebias, l->eup, l->edown, l->sup, l->sdown);
    hf_mix_layer_free(&l->mix);
}

static void *nh_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_nh *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    m->F = hf_cfg_int(cfg, "intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "n_routed_experts", 0), m->topk = hf_cfg_int(cfg, "num_experts_per_tok", 0);
    m->S = hf_cfg_int(cfg, "moe_shared_expert_intermediate_size", 0);
    m->norm_topk = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "norm_topk_prob"));
    m->scale = hf_cfg_num(cfg, "routed_scaling_factor", 1.0), m->margin = INFINITY;
    if (m->E > 0) m->F = hf_cfg_int(cfg, "moe_intermediate_size", m->F);
    m->eps = hf_cfg_num(cfg, "layer_norm_epsilon", 1e-5);
    const int nh = hf_cfg_int(cfg, "num_attention_heads", 0), nkv = hf_cfg_int(cfg, "num_key_value_heads", 0);
    const int hd = hf_cfg_int(cfg, "head_dim", hf_cfg_int(cfg, "attention_head_dim", 0));
    const int mh = hf_cfg_int(cfg, "mamba_num_heads", 0), mdh = hf_cfg_int(cfg, "mamba_head_dim", 0);
    const int ng = hf_cfg_int(cfg, "n_groups", 1), ds = hf_cfg_int(cfg, "ssm_state_size", 0);
    const int di = mh * mdh;
    m->mx.m2 = (hf_m2_dims){.H = m->t.H, .di = di, .cd = di + 2 * ng * ds, .nh = mh, .dh = mdh, .ds = ds, .ng = ng,
                            .K = hf_cfg_int(cfg, "conv_kernel", 4), .norm_group = ng > 0 ? di / ng : 0, .eps = m->eps};
    m->mx.att = (hf_att_dims){.H = m->t.H, .nh = nh, .nkv = nkv, .hd = hd, .rope = 0,
                              .scale = hd > 0 ? 1.0 / sqrt(hd) : 0};
    m->kd = nkv * hd;
    const cJSON *pj = cJSON_GetObjectItemCaseSensitive(cfg, "hybrid_override_pattern");
    const char *pat = cJSON_IsString(pj) ? pj->valuestring : "";
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || (int)strlen(pat) != m->t.n_layer || nh <= 0 ||
        nkv <= 0 || nh % nkv || hd <= 0 || mh <= 0 || mdh <= 0 || ng <= 0 || mh % ng || ds <= 0 || m->mx.m2.K < 1 ||
        m->F <= 0 || m->E > 256 || (m->E > 0 && (m->topk <= 0 || m->topk > m->E || m->S <= 0 ||
                                    hf_cfg_int(cfg, "n_group", 1) != 1))) {
        hf_set_err(err, errlen, "nemotron_h config: bad sizes or hybrid_override_pattern");
        free(m);
        return NULL;
    }
    const int H = m->t.H, E = m->E;
    m->layers = hf_trunk_take(&m->t, sizeof *m->layers, nh_free_layer, "backbone.embeddings.weight",
                              "backbone.norm_f.weight", 0, get, ctx, err, errlen);
    int bad = !m->layers;
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        nh_layer *l = &m->layers[i];
        const char k = l->kind = pat[i];
        if (k != 'M' && k != '*' && k != '-' && !(k == 'E' && E > 0)) {
            hf_set_err(err, errlen, "nemotron_h: layer kind '%c' is not computed here", k);
            bad = 1;
            break;
        }
        char pfx[64];
        snprintf(pfx, sizeof pfx, "backbone.layers.%d.mixer.", i);
        /* the rows of d0 0 are not this kind's */
        const hf_take_row t[] = {{&l->up, k == '-' ? m->F : 0, H, 0, "up_proj.weight"},
                                 {&l->down, k == '-' ? H : 0, m->F, 0, "down_proj.weight"},
                                 {&l->router, k == 'E' ? E : 0, H, 0, "gate.weight"},
                                 {&l->ebias, k == 'E' ? E : 0, 0, 0, "gate.e_score_correction_bias"},
                                 {&l->sup, k == 'E' ? m->S : 0, H, 0, "shared_experts.up_proj.weight"},
                                 {&l->sdown, k == 'E' ? H : 0, m->S, 0, "shared_experts.down_proj.weight"}};
        const hf_mix_kind mk = k == 'M' ? HF_MIX_M2 : k == '*' ? HF_MIX_ATT : HF_MIX_NONE;
        bad = !(l->mix.norm = hf_family_take(get, ctx, H, 0, 0, err, errlen, "backbone.layers.%d.norm.weight", i)) ||
              hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen) ||
              hf_mix_load(&l->mix.mx, mk, &m->mx, get, ctx, pfx, err, errlen);
        if (!bad && k == 'E') { /* mixer.experts.e.{up,down}_proj: one block each */
            const hf_take_row ex[] = {{&l->eup, m->F, H, 0, "up_proj.weight"},
                                      {&l->edown, H, m->F, 0, "down_proj.weight"}};
            snprintf(pfx, sizeof pfx, "backbone.layers.%d.mixer", i);
            bad = hf_family_take_expert_rows(get, ctx, E, ex, sizeof ex / sizeof ex[0], pfx, err, errlen);
        }
    }
    return hf_family_loaded(m, !bad, hf_trunk_free);
}

static double nh_route_margin(const void *m) { return ((const hf_nh *)m)->margin; }

/* y += wgt * down(relu(up(x))^2): up [F][H], down [H][F]; buf F doubles */
static void relu2_add(const float *up, const float *down, int F, int H, const double *x, double wgt, double *y,
                      double *buf) {
    hf_matvec_d(up, x, buf, F, H);
    for (int j = 0; j < F; j++) buf[j] = buf[j] > 0 ? buf[j] * buf[j] : 0;
    for (int o = 0; o < H; o++) {
        double s = 0;
        for (int j = 0; j < F; j++) s += (double)down[(size_t)o * F + j] * buf[j];
        y[o] += wgt * s;
    }
}

/* NemotronHMoE of x into y (H) */
static void moe(hf_nh *m, const nh_layer *l, const double *x, double *y, double *buf) {
    const int E = m->E, H = m->t.H;
    double lg[256], sc[256], choice[256], w[256];
    int idx[256];
    hf_matvec_d(l->router, x, lg, E, H);
    for (int e = 0; e < E; e++) sc[e] = 1.0 / (1.0 + exp(-lg[e])), choice[e] = sc[e] + l->ebias[e];
    hf_family_topk(choice, E, m->topk, idx, &m->margin);
    double sum = 0;
    for (int t = 0; t < m->topk; t++) sum += w[t] = sc[idx[t]];
    for (int t = 0; t < m->topk; t++) w[t] = (m->norm_topk ? w[t] / (sum + 1e-20) : w[t]) * m->scale;
    for (int i = 0; i < H; i++) y[i] = 0;
    const size_t per = (size_t)m->F * H;
    for (int t = 0; t < m->topk; t++)
        relu2_add(l->eup + idx[t] * per, l->edown + idx[t] * per, m->F, H, x, w[t], y, buf);
    relu2_add(l->sup, l->sdown, m->S, H, x, 1.0, y, buf);
}

/* a layer without a mixer, 'E' (NemotronHMoE) or '-' (the ReLU^2 MLP), of x into y (hf_mix_pass's ffn) */
static void ffn(void *vm, const void *vl, const double *x, double *y, double *buf) {
    hf_nh *m = vm;
    const nh_layer *l = vl;
    if (l->kind == 'E') {
        moe(m, l, x, y, buf);
        return;
    }
    for (int i = 0; i < m->t.H; i++) y[i] = 0;
    relu2_add(l->up, l->down, m->F, m->t.H, x, 1.0, y, buf);
}

static int nh_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_nh *m = vm;
    const hf_mix_pass p = {.emb_mul = 1.0, .res_mul = 1.0, .eps = m->eps, .logit_scale = 1.0, .ffn = ffn,
                           .nbuf = (size_t)(2 * (m->mx.m2.di + m->mx.m2.cd + m->mx.m2.nh) +
                                            2 * m->mx.att.nh * m->mx.att.hd + 2 * m->kd + pos + 1 + m->F + m->S)};
    m->margin = INFINITY;
    return hf_mix_next(m, &m->mx, &p, token, pos, logits, err, errlen);
}

const hf_family hf_family_nemotronh = {
    .model_types = {"nemotron_h"}, .load = nh_load, .vocab = hf_trunk_vocab, .next = nh_next,
    .route_margin = nh_route_margin, .free = hf_trunk_free,
};
