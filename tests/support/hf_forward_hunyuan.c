/* hf_forward_hunyuan.c - Hunyuan MoE's forward pass, written from
 * transformers' modeling_hunyuan_v1_moe.py, model_type "hunyuan_v1_moe"
 * (its table hf_family_hunyuan, see hf_forward_family.h); float32 weights,
 * double accumulators:
 *   h = embed_tokens[token]
 *   per layer: r = input_layernorm(h)
 *     q, k, v = q_proj(r), k_proj(r), v_proj(r) per head; rope (rotate-half)
 *     on q and k, THEN query_layernorm(q), key_layernorm(k) per head
 *     (HunYuanMoEV1Attention.forward); softmax(q.k / sqrt(head_dim)) over the
 *     positions so far, grouped kv heads; h += o_proj(.)
 *     r = post_attention_layernorm(h)
 *     p = softmax(gate.wg(r)); the top moe_topk, renormalised to sum 1
 *     (route_tokens_to_experts); h += sum_e p_e down_e(silu(gate_e r) up_e r)
 *       + shared_mlp(r) (the same SwiGLU, intermediate_size wide, ungated)
 *   logits = lm_head(norm(h)) (embed_tokens when tied)
 * The rope's inverse frequencies: 1 / base^(2i / head_dim), base =
 * rope_theta x alpha^(head_dim / (head_dim - 2)) for the "dynamic" rope with
 * an alpha (DynamicNTKAlpha, the in-tree _init_weights), else rope_theta. */
#include "hf_forward_family.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *in_norm, *post_norm, *q, *k, *v, *o, *q_norm, *k_norm, *router;
    float *sh_gate, *sh_up, *sh_down;
    float *gate, *up, *down;    /* every expert's, stacked: [E][F][H], [E][F][H], [E][H][F] */
    float *kv;                  /* per position: k then v, n_kv x hd each */
} hy_layer;

typedef struct {
    hf_trunk t;
    int n_head, n_kv, hd, F, E, topk, cap;
    double eps, margin;
    float *inv_freq; /* hd / 2 */
    hy_layer *layers;
} hf_hy;

static void hy_layer_free(void *vl) {
    hy_layer *l = vl;
    HF_FREE_ALL(l->in_norm, l->post_norm, l->q, l->k, l->v, l->o, l->q_norm, l->k_norm, l->router, l->sh_gate,
                l->sh_up, l->sh_down, l->gate, l->up, l->down, l->kv);
}

static void hy_free(void *vm) {
    if (vm) free(((hf_hy *)vm)->inv_freq);
    hf_trunk_free(vm);
}

static double hy_margin(const void *m) { return ((const hf_hy *)m)->margin; }

/* a per-layer list's first entry (the tiny configs keep them uniform), or the number itself */
static int first_int(const cJSON *cfg, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, k);
    if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
}

static void *hy_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_hy *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    m->n_head = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->n_kv = hf_cfg_int(cfg, "num_key_value_heads", m->n_head), m->F = hf_cfg_int(cfg, "intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "num_experts", 0), m->topk = first_int(cfg, "moe_topk");
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-5);
    m->hd = m->n_head > 0 ? hf_cfg_int(cfg, "head_dim", m->t.H / m->n_head) : 0;
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || m->n_head <= 0 || m->n_kv <= 0 || m->n_head % m->n_kv ||
        m->hd <= 2 || m->hd % 2 || m->F <= 0 || m->E <= 0 || m->E > 256 || m->topk <= 0 || m->topk > m->E) {
        hf_set_err(err, errlen, "hunyuan config: bad sizes");
        free(m);
        return NULL;
    }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(cfg, "rope_scaling");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rs, "type");
    if (!rt) rt = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    double base = hf_cfg_num(cfg, "rope_theta", 10000.0);
    if (cJSON_IsString(rt) && !strcmp(rt->valuestring, "dynamic") && cJSON_GetObjectItemCaseSensitive(rs, "alpha"))
        base *= pow(hf_cfg_num(rs, "alpha", 1), (double)m->hd / (m->hd - 2));
    const int H = m->t.H, hd = m->hd, qd = m->n_head * hd, kd = m->n_kv * hd, F = m->F, E = m->E;
    m->inv_freq = malloc((size_t)hd / 2 * sizeof *m->inv_freq);
    int bad = !m->inv_freq;
    for (int i = 0; !bad && i < hd / 2; i++) m->inv_freq[i] = (float)(1.0 / pow(base, (double)(2 * i) / hd));
    bad = bad || !(m->layers = hf_trunk_take(&m->t, sizeof *m->layers, hy_layer_free, "model.embed_tokens.weight",
                                             "model.norm.weight", 0, get, ctx, err, errlen));
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        hy_layer *l = &m->layers[i];
        const hf_take_row t[] = {{&l->in_norm, H, 0, 0, "input_layernorm.weight"},
                                 {&l->post_norm, H, 0, 0, "post_attention_layernorm.weight"},
                                 {&l->q, qd, H, 0, "self_attn.q_proj.weight"},
                                 {&l->k, kd, H, 0, "self_attn.k_proj.weight"},
                                 {&l->v, kd, H, 0, "self_attn.v_proj.weight"},
                                 {&l->o, H, qd, 0, "self_attn.o_proj.weight"},
                                 {&l->q_norm, hd, 0, 0, "self_attn.query_layernorm.weight"},
                                 {&l->k_norm, hd, 0, 0, "self_attn.key_layernorm.weight"},
                                 {&l->router, E, H, 0, "mlp.gate.wg.weight"},
                                 {&l->sh_gate, F, H, 0, "mlp.shared_mlp.gate_proj.weight"},
                                 {&l->sh_up, F, H, 0, "mlp.shared_mlp.up_proj.weight"},
                                 {&l->sh_down, H, F, 0, "mlp.shared_mlp.down_proj.weight"}};
        char pfx[64];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        bad = hf_family_take_rows(get, ctx, t, sizeof t / sizeof t[0], pfx, err, errlen);
        const hf_take_row ex[] = {{&l->gate, F, H, 0, "gate_proj.weight"},
                                  {&l->up, F, H, 0, "up_proj.weight"},
                                  {&l->down, H, F, 0, "down_proj.weight"}};
        snprintf(pfx, sizeof pfx, "model.layers.%d.mlp", i);
        bad = bad || hf_family_take_expert_rows(get, ctx, E, ex, sizeof ex / sizeof ex[0], pfx, err, errlen);
    }
    return hf_family_loaded(m, !bad, hy_free);
}

/* apply_rotary_pos_emb on one head: [x1 | x2] -> [x1 cos - x2 sin | x2 cos + x1 sin] */
static void rotate_half(float *v, const float *inv_freq, int hd, int pos) {
    for (int i = 0; i < hd / 2; i++) {
        const float a = (float)pos * inv_freq[i], c = cosf(a), s = sinf(a);
        const float x1 = v[i], x2 = v[i + hd / 2];
        v[i] = x1 * c - x2 * s;
        v[i + hd / 2] = x2 * c + x1 * s;
    }
}

/* y += scale * down(silu(gate x) * up x); t: F scratch floats */
static void swiglu_add(float *y, const float *gate, const float *up, const float *down, const float *x, int H, int F,
                       float scale, float *t) {
    float *u = t + F;
    hf_matvec_f32(gate, x, t, F, H);
    hf_matvec_f32(up, x, u, F, H);
    for (int i = 0; i < F; i++) t[i] = t[i] / (1.0f + expf(-t[i])) * u[i];
    for (int o = 0; o < H; o++) {
        double s = 0;
        for (int i = 0; i < F; i++) s += (double)down[(size_t)o * F + i] * t[i];
        y[o] += scale * (float)s;
    }
}

/* softmax(q.k * scale) v over positions 0..pos of every head, into att (n_head x hd) */
static void attend(const hf_hy *m, const hy_layer *l, const float *q, int pos, float *att, double *sc) {
    const int hd = m->hd, kd = m->n_kv * hd, per_kv = m->n_head / m->n_kv;
    const double scale = 1.0 / sqrt((double)hd);
    for (int hh = 0; hh < m->n_head; hh++) {
        const float *qh = q + hh * hd;
        const size_t koff = (size_t)(hh / per_kv) * hd;
        double mx = -INFINITY, z = 0;
        for (int t = 0; t <= pos; t++) {
            const float *kt = l->kv + (size_t)t * 2 * kd + koff;
            double s = 0;
            for (int d = 0; d < hd; d++) s += (double)qh[d] * kt[d];
            sc[t] = s * scale;
            mx = sc[t] > mx ? sc[t] : mx;
        }
        for (int t = 0; t <= pos; t++) z += sc[t] = exp(sc[t] - mx);
        for (int d = 0; d < hd; d++) {
            double s = 0;
            for (int t = 0; t <= pos; t++) s += sc[t] * l->kv[(size_t)t * 2 * kd + kd + koff + d];
            att[hh * hd + d] = (float)(s / z);
        }
    }
}

/* room in every layer's cache for position pos; NULL, or why not */
static const char *hy_reserve(hf_hy *m, int pos, int kd) {
    while (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->t.n_layer; i++) {
            float *p = realloc(m->layers[i].kv, (size_t)nc * 2 * kd * sizeof *p);
            if (!p) return "out of memory";
            m->layers[i].kv = p;
        }
        m->cap = nc;
    }
    return NULL;
}

static int hy_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_hy *m = vm;
    const int H = m->t.H, hd = m->hd, qd = m->n_head * hd, kd = m->n_kv * hd, F = m->F, E = m->E;
    const char *why = token < 0 || token >= m->t.vocab ? "token id out of range" : hy_reserve(m, pos, kd);
    if (why) {
        hf_set_err(err, errlen, "%s (token %d, position %d)", why, (int)token, pos);
        return -1;
    }
    /* scratch in one block: h, r, y [H]; q, att [qd]; t [2F] */
    float *blk = malloc((size_t)(3 * H + 2 * qd + 2 * F) * sizeof *blk);
    double *sc = malloc((size_t)(pos + 1) * sizeof *sc), pr[256];
    if (!blk || !sc) {
        free(blk), free(sc);
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    float *h = blk, *r = h + H, *y = r + H, *q = y + H, *att = q + qd, *t = att + qd;
    m->margin = INFINITY;
    memcpy(h, m->t.embed + (size_t)token * H, (size_t)H * sizeof *h);
    for (int li = 0; li < m->t.n_layer; li++) {
        hy_layer *l = &m->layers[li];
        float *kp = l->kv + (size_t)pos * 2 * kd, *vp = kp + kd;
        hf_rmsnorm_f(r, h, l->in_norm, H, m->eps);
        hf_matvec_f32(l->q, r, q, qd, H);
        hf_matvec_f32(l->k, r, kp, kd, H);
        hf_matvec_f32(l->v, r, vp, kd, H);
        for (int hh = 0; hh < m->n_head; hh++) { /* rope, then the q/k norms */
            rotate_half(q + hh * hd, m->inv_freq, hd, pos);
            hf_rmsnorm_f(q + hh * hd, q + hh * hd, l->q_norm, hd, m->eps);
        }
        for (int hh = 0; hh < m->n_kv; hh++) {
            rotate_half(kp + hh * hd, m->inv_freq, hd, pos);
            hf_rmsnorm_f(kp + hh * hd, kp + hh * hd, l->k_norm, hd, m->eps);
        }
        attend(m, l, q, pos, att, sc);
        hf_matvec_f32(l->o, att, y, H, qd);
        for (int i = 0; i < H; i++) h[i] += y[i];
        hf_rmsnorm_f(r, h, l->post_norm, H, m->eps);
        float lg[256];
        hf_matvec_f32(l->router, r, lg, E, H);
        double mx = -INFINITY, z = 0, sel = 0;
        for (int e = 0; e < E; e++) mx = lg[e] > mx ? lg[e] : mx;
        for (int e = 0; e < E; e++) z += pr[e] = exp(lg[e] - mx);
        for (int e = 0; e < E; e++) pr[e] /= z;
        int idx[256];
        hf_family_topk(pr, E, m->topk, idx, &m->margin);
        for (int k = 0; k < m->topk; k++) sel += pr[idx[k]];
        memset(y, 0, (size_t)H * sizeof *y);
        for (int k = 0; k < m->topk; k++) {
            const size_t at = (size_t)idx[k] * F * H; /* expert idx[k]'s slice of each stack */
            swiglu_add(y, l->gate + at, l->up + at, l->down + at, r, H, F, (float)(pr[idx[k]] / sel), t);
        }
        swiglu_add(y, l->sh_gate, l->sh_up, l->sh_down, r, H, F, 1.0f, t);
        for (int i = 0; i < H; i++) h[i] += y[i];
    }
    if (logits) { /* tied: the embedding is the output projection */
        hf_rmsnorm_f(r, h, m->t.final_norm, H, m->eps);
        hf_matvec_f32(m->t.lm_head ? m->t.lm_head : m->t.embed, r, logits, m->t.vocab, H);
    }
    free(blk), free(sc);
    return 0;
}

const hf_family hf_family_hunyuan = {
    .model_types = {"hunyuan_v1_moe"}, .load = hy_load, .vocab = hf_trunk_vocab, .next = hy_next,
    .route_margin = hy_margin, .free = hy_free,
};
