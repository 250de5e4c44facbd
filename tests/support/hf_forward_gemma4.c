/* hf_forward_gemma4.c - Gemma 4's text model (transformers'
 * modeling_gemma4.py, model_type gemma4_text, without the MoE block; its
 * table hf_family_gemma4, see hf_forward_family.h), written from Hugging
 * Face's code, float32 weights and double accumulators:
 *   h = embed_tokens[token] * sqrt(hidden) (float32)
 *   per-layer inputs (hidden_size_per_layer_input P > 0): for layer i,
 *     pl_i = (RMS_i(per_layer_model_projection(h) / sqrt(hidden)) * per_layer_projection_norm
 *             + embed_tokens_per_layer[token][i] * sqrt(P)) / sqrt(2)
 *     (RMS_i over layer i's P values)
 *   per layer (sliding or global as layer_types says):
 *     r = input_layernorm(h)
 *     q = q_norm(q_proj(r)) per head, rope; k = k_proj(r); v = v_proj(r), or k when the layer has none
 *     (attention_k_eq_v on global layers); k = k_norm(k), rope; v = RMS(v) without weight
 *     attention with scale 1 over the positions so far (the last sliding_window ones on sliding layers),
 *     grouped kv heads; h += post_attention_layernorm(o_proj(.))
 *     h += post_feedforward_layernorm(down(gelu_tanh(gate(x)) * up(x))), x = pre_feedforward_layernorm(h)
 *     with P: h += post_per_layer_input_norm(per_layer_projection(gelu_tanh(per_layer_input_gate(h)) * pl_i))
 *     h *= layer_scalar
 *   KV sharing (num_kv_shared_layers n): the last n layers compute no K / V and attend over those of the last
 *   earlier layer of their kind; with use_double_wide_mlp their MLP is twice as wide
 *   logits = softcap(lm_head(norm(h))), softcap(z) = tanh(z / c) * c (final_logit_softcapping)
 * RMSNorm: x * (mean(x^2) + eps)^-0.5 * w (plain weights). Rope rotate-half:
 * sliding layers "default" over their head_dim (sliding rope_theta); global
 * layers "proportional" over global_head_dim: pairs i < int(factor *
 * global_head_dim // 2) at inv_freq 1 / theta^(2i / global_head_dim), the
 * rest not rotated. */
#include "hf_forward_family.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int global, hd, n_kv, F, kv_src; /* kv_src: the layer whose K / V this one reads (itself unless KV-shared) */
    float *inp_gate, *ple_proj, *ple_norm;
    float *in_norm, *q, *k, *v, *o, *q_norm, *k_norm, *post_attn, *pre_ff, *post_ff, *gate, *up, *down;
    float scalar;
    float *inv_freq; /* hd / 2 (zeros: not rotated) */
    float *kv;       /* per position: k then v, n_kv * hd each */
} g4_layer;

struct hf_gemma4 {
    int vocab, H, n_layer, n_head, F, window, cap, P;
    double eps, softcap;
    float *embed, *lm_head, *norm;
    float *ple_embed, *ple_model_proj, *ple_proj_norm; /* [vocab][L * P], [L * P][H], [P] */
    g4_layer *layers;
};

typedef struct hf_gemma4 hf_gemma4;

static const cJSON *jget(const cJSON *o, const char *k) { return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL; }
static void hf_gemma4_free(void *vm);
static void *hf_gemma4_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_gemma4 *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->vocab = (int)hf_cfg_num(cfg, "vocab_size", 0), m->H = (int)hf_cfg_num(cfg, "hidden_size", 0);
    m->n_layer = (int)hf_cfg_num(cfg, "num_hidden_layers", 0), m->n_head = (int)hf_cfg_num(cfg, "num_attention_heads", 0);
    m->F = (int)hf_cfg_num(cfg, "intermediate_size", 0), m->window = (int)hf_cfg_num(cfg, "sliding_window", 0);
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-6), m->softcap = hf_cfg_num(cfg, "final_logit_softcapping", 0);
    const int hd = (int)hf_cfg_num(cfg, "head_dim", 0), ghd = (int)hf_cfg_num(cfg, "global_head_dim", hd);
    const int kv = (int)hf_cfg_num(cfg, "num_key_value_heads", 0), gkv = (int)hf_cfg_num(cfg, "num_global_key_value_heads", kv);
    const int k_eq_v = cJSON_IsTrue(jget(cfg, "attention_k_eq_v"));
    const cJSON *lt = jget(cfg, "layer_types"), *rp = jget(cfg, "rope_parameters");
    const cJSON *rf = jget(rp, "full_attention"), *rs = jget(rp, "sliding_attention");
    if (m->vocab <= 0 || m->H <= 0 || m->n_layer <= 0 || m->n_head <= 0 || m->F <= 0 || hd <= 0 || ghd <= 0 ||
        kv <= 0 || gkv <= 0 || m->n_head % kv || m->n_head % gkv || !cJSON_IsArray(lt) ||
        cJSON_GetArraySize(lt) != m->n_layer || !rf || !rs || cJSON_IsTrue(jget(cfg, "enable_moe_block")) ||
        hf_cfg_num(cfg, "num_kv_shared_layers", 0) >= m->n_layer) {
        hf_set_err(err, errlen, "gemma4 config: bad sizes, or a feature this reference lacks (MoE)");
        free(m);
        return NULL;
    }
    const char *pre = "model.language_model.";
    int64_t shape[8];
    int nd;
    char nm[200];
    snprintf(nm, sizeof nm, "%sembed_tokens.weight", pre);
    if (!get(ctx, nm, shape, &nd)) pre = "model.";
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    int bad = !m->layers;
#define T(ptr, d0, d1, ...)                                                                                            \
    do { if (!bad && !((ptr) = hf_family_take(get, ctx, d0, d1, 0, err, errlen, __VA_ARGS__))) bad = 1; } while (0)
    const int H = m->H, F = m->F;
    T(m->embed, m->vocab, H, "%sembed_tokens.weight", pre);
    m->P = (int)hf_cfg_num(cfg, "hidden_size_per_layer_input", 0);
    const int L = m->n_layer, P = m->P, n_shared = (int)hf_cfg_num(cfg, "num_kv_shared_layers", 0);
    const int double_wide = cJSON_IsTrue(jget(cfg, "use_double_wide_mlp"));
    if (P > 0) {
        T(m->ple_embed, m->vocab, L * P, "%sembed_tokens_per_layer.weight", pre);
        T(m->ple_model_proj, L * P, H, "%sper_layer_model_projection.weight", pre);
        T(m->ple_proj_norm, P, 0, "%sper_layer_projection_norm.weight", pre);
    }
    T(m->norm, H, 0, "%snorm.weight", pre);
    if (!bad && get(ctx, "lm_head.weight", shape, &nd)) T(m->lm_head, m->vocab, H, "lm_head.weight");
    for (int i = 0; i < m->n_layer && !bad; i++) {
        g4_layer *l = &m->layers[i];
        const cJSON *e = cJSON_GetArrayItem(lt, i);
        l->global = !(cJSON_IsString(e) && !strcmp(e->valuestring, "sliding_attention"));
        l->hd = l->global ? ghd : hd, l->n_kv = l->global && k_eq_v ? gkv : kv;
        const int d = l->hd, kd = l->n_kv * d, shared = n_shared > 0 && i >= L - n_shared;
        l->F = double_wide && shared ? 2 * F : F;
        l->kv_src = i;
        if (shared) /* the last non-shared layer of this kind */
            for (int j = L - n_shared - 1; j >= 0; j--)
                if (m->layers[j].global == l->global) {
                    l->kv_src = j;
                    break;
                }
        T(l->in_norm, H, 0, "%slayers.%d.input_layernorm.weight", pre, i);
        T(l->q, m->n_head * d, H, "%slayers.%d.self_attn.q_proj.weight", pre, i);
        if (!shared) T(l->k, kd, H, "%slayers.%d.self_attn.k_proj.weight", pre, i);
        if (!shared && !(l->global && k_eq_v)) T(l->v, kd, H, "%slayers.%d.self_attn.v_proj.weight", pre, i);
        T(l->o, H, m->n_head * d, "%slayers.%d.self_attn.o_proj.weight", pre, i);
        T(l->q_norm, d, 0, "%slayers.%d.self_attn.q_norm.weight", pre, i);
        if (!shared) T(l->k_norm, d, 0, "%slayers.%d.self_attn.k_norm.weight", pre, i);
        if (P > 0) {
            T(l->inp_gate, P, H, "%slayers.%d.per_layer_input_gate.weight", pre, i);
            T(l->ple_proj, H, P, "%slayers.%d.per_layer_projection.weight", pre, i);
            T(l->ple_norm, H, 0, "%slayers.%d.post_per_layer_input_norm.weight", pre, i);
        }
        T(l->post_attn, H, 0, "%slayers.%d.post_attention_layernorm.weight", pre, i);
        T(l->pre_ff, H, 0, "%slayers.%d.pre_feedforward_layernorm.weight", pre, i);
        T(l->post_ff, H, 0, "%slayers.%d.post_feedforward_layernorm.weight", pre, i);
        T(l->gate, l->F, H, "%slayers.%d.mlp.gate_proj.weight", pre, i);
        T(l->up, l->F, H, "%slayers.%d.mlp.up_proj.weight", pre, i);
        T(l->down, H, l->F, "%slayers.%d.mlp.down_proj.weight", pre, i);
        float *sc = NULL;
        T(sc, 1, 0, "%slayers.%d.layer_scalar", pre, i);
        if (sc) l->scalar = sc[0], free(sc);
        if (bad) break;
        l->inv_freq = calloc((size_t)d / 2, sizeof *l->inv_freq);
        if (!l->inv_freq) { bad = 1; break; }
        if (l->global) { /* proportional */
            const double theta = hf_cfg_num(rf, "rope_theta", 1e6), prf = hf_cfg_num(rf, "partial_rotary_factor", 1.0);
            const int angles = (int)floor(prf * d / 2);
            for (int j = 0; j < angles && j < d / 2; j++) l->inv_freq[j] = (float)(1.0 / pow(theta, (double)(2 * j) / d));
        } else { /* default, over the whole sliding head */
            const double theta = hf_cfg_num(rs, "rope_theta", 1e4);
            for (int j = 0; j < d / 2; j++) l->inv_freq[j] = (float)(1.0 / pow(theta, (double)(2 * j) / d));
        }
    }
#undef T
    return hf_family_loaded(m, !bad, hf_gemma4_free);
}

static int hf_gemma4_vocab(const void *m) { return ((const hf_gemma4 *)m)->vocab; }

static void hf_gemma4_free_layer(void *vl) {
    g4_layer *l = vl;
    HF_FREE_ALL(l->in_norm, l->q, l->k, l->v, l->o, l->q_norm, l->k_norm, l->post_attn, l->pre_ff, l->post_ff,
                l->gate, l->up, l->down, l->inv_freq, l->kv, l->inp_gate, l->ple_proj, l->ple_norm);
}

static void hf_gemma4_free(void *vm) {
    hf_gemma4 *m = vm;
    if (m) hf_family_free_layers(m->layers, m->n_layer, sizeof *m->layers, hf_gemma4_free_layer);
    if (m) HF_FREE_ALL(m->embed, m->lm_head, m->norm, m->ple_embed, m->ple_model_proj, m->ple_proj_norm);
    free(m);
}

/* w NULL: no weight (v_norm) */
static void rmsnorm(float *out, const float *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float r = (float)pow(ss / n + eps, -0.5);
    for (int i = 0; i < n; i++) out[i] = x[i] * r * (w ? w[i] : 1.0f);
}

static void rope(float *v, int hd, int pos, const float *inv_freq) {
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        const float ang = (float)pos * inv_freq[i];
        const float c = cosf(ang), s = sinf(ang);
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

static float gelu_tanh(float x) {
    const double k = sqrt(2.0 / M_PI);
    return (float)(0.5 * x * (1.0 + tanh(k * (x + 0.044715 * (double)x * x * x))));
}

static int hf_gemma4_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_gemma4 *m = vm;
    const int H = m->H, F = m->F;
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++) {
            g4_layer *l = &m->layers[i];
            float *p = realloc(l->kv, (size_t)nc * 2 * (size_t)l->n_kv * (size_t)l->hd * sizeof *p);
            if (!p) {
                hf_set_err(err, errlen, "out of memory");
                return -1;
            }
            l->kv = p;
        }
        m->cap = nc;
    }
    int qmax = 0, fmax = F;
    for (int i = 0; i < m->n_layer; i++) {
        if (m->n_head * m->layers[i].hd > qmax) qmax = m->n_head * m->layers[i].hd;
        if (m->layers[i].F > fmax) fmax = m->layers[i].F;
    }
    const int P = m->P, LP = m->n_layer * m->P;
    float *pl = malloc((size_t)(LP > 0 ? LP : 1) * sizeof *pl);
    float *h = malloc((size_t)H * sizeof *h), *r = malloc((size_t)H * sizeof *r), *y = malloc((size_t)H * sizeof *y);
    float *ff = malloc((size_t)(2 * fmax > P ? 2 * fmax : P) * sizeof *ff), *q = malloc((size_t)qmax * sizeof *q);
    float *att = malloc((size_t)qmax * sizeof *att);
    double *sc = malloc((size_t)(pos + 1) * sizeof *sc);
    if (!h || !r || !y || !ff || !q || !att || !sc || !pl) {
        free(h), free(r), free(y), free(ff), free(q), free(att), free(sc), free(pl);
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    const float escale = (float)sqrt((double)H);
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i] * escale;
    if (P > 0) { /* get_per_layer_inputs + project_per_layer_inputs */
        hf_matvec_f32(m->ple_model_proj, h, pl, LP, H);
        const float pscale = (float)pow((double)H, -0.5), escale_pl = (float)sqrt((double)P);
        const float iscale = (float)pow(2.0, -0.5);
        for (int i = 0; i < LP; i++) pl[i] *= pscale;
        for (int li = 0; li < m->n_layer; li++) {
            rmsnorm(pl + li * P, pl + li * P, m->ple_proj_norm, P, m->eps);
            for (int j = 0; j < P; j++)
                pl[li * P + j] = (pl[li * P + j] + m->ple_embed[(size_t)token * LP + li * P + j] * escale_pl) * iscale;
        }
    }
    for (int li = 0; li < m->n_layer; li++) {
        g4_layer *l = &m->layers[li];
        const int d = l->hd, kd = l->n_kv * d;
        const g4_layer *src = &m->layers[l->kv_src]; /* KV-shared layers read an earlier layer's K / V */
        rmsnorm(r, h, l->in_norm, H, m->eps);
        hf_matvec_f32(l->q, r, q, m->n_head * d, H);
        for (int hh = 0; hh < m->n_head; hh++) {
            rmsnorm(q + hh * d, q + hh * d, l->q_norm, d, m->eps);
            rope(q + hh * d, d, pos, l->inv_freq);
        }
        if (src == l) {
            float *k = l->kv + (size_t)pos * 2 * kd, *v = k + kd;
            hf_matvec_f32(l->k, r, k, kd, H);
            if (l->v) hf_matvec_f32(l->v, r, v, kd, H);
            else memcpy(v, k, (size_t)kd * sizeof *v); /* K = V, before K's norm */
            for (int hh = 0; hh < l->n_kv; hh++) {
                rmsnorm(k + hh * d, k + hh * d, l->k_norm, d, m->eps);
                rope(k + hh * d, d, pos, l->inv_freq);
                rmsnorm(v + hh * d, v + hh * d, NULL, d, m->eps);
            }
        }
        const float *kvc = src->kv;
        const int first = !l->global && m->window > 0 && pos - m->window + 1 > 0 ? pos - m->window + 1 : 0;
        const int rep = m->n_head / l->n_kv;
        for (int hh = 0; hh < m->n_head; hh++) {
            const int g = hh / rep;
            double mx = -INFINITY, sum = 0;
            for (int t = first; t <= pos; t++) {
                const float *kk = kvc + (size_t)t * 2 * kd + (size_t)g * d;
                double s = 0;
                for (int j = 0; j < d; j++) s += (double)q[hh * d + j] * kk[j];
                sc[t] = s; /* scaling 1 */
                if (s > mx) mx = s;
            }
            for (int t = first; t <= pos; t++) sum += sc[t] = exp(sc[t] - mx);
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int t = first; t <= pos; t++) s += sc[t] * kvc[(size_t)t * 2 * kd + kd + (size_t)g * d + j];
                att[hh * d + j] = (float)(s / sum);
            }
        }
        hf_matvec_f32(l->o, att, y, H, m->n_head * d);
        rmsnorm(y, y, l->post_attn, H, m->eps);
        for (int i = 0; i < H; i++) h[i] += y[i];
        rmsnorm(r, h, l->pre_ff, H, m->eps);
        const int Fl = l->F;
        hf_matvec_f32(l->gate, r, ff, Fl, H);
        hf_matvec_f32(l->up, r, ff + Fl, Fl, H);
        for (int i = 0; i < Fl; i++) ff[i] = gelu_tanh(ff[i]) * ff[Fl + i];
        hf_matvec_f32(l->down, ff, y, H, Fl);
        rmsnorm(y, y, l->post_ff, H, m->eps);
        for (int i = 0; i < H; i++) h[i] += y[i];
        if (P > 0) {
            hf_matvec_f32(l->inp_gate, h, ff, P, H);
            for (int j = 0; j < P; j++) ff[j] = gelu_tanh(ff[j]) * pl[li * P + j];
            hf_matvec_f32(l->ple_proj, ff, y, H, P);
            rmsnorm(y, y, l->ple_norm, H, m->eps);
            for (int i = 0; i < H; i++) h[i] += y[i];
        }
        for (int i = 0; i < H; i++) h[i] *= l->scalar;
    }
    if (logits) {
        rmsnorm(r, h, m->norm, H, m->eps);
        hf_matvec_f32(m->lm_head ? m->lm_head : m->embed, r, logits, m->vocab, H);
        if (m->softcap > 0)
            for (int i = 0; i < m->vocab; i++) logits[i] = (float)(tanh(logits[i] / m->softcap) * m->softcap);
    }
    free(h), free(r), free(y), free(ff), free(q), free(att), free(sc), free(pl);
    return 0;
}

const hf_family hf_family_gemma4 = {
    .model_types = {"gemma4_text"}, .load = hf_gemma4_load, .vocab = hf_gemma4_vocab, .next = hf_gemma4_next,
    .free = hf_gemma4_free,
};
