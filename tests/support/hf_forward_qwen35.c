/* hf_forward_qwen35.c - Qwen 3.5's forward pass, written from transformers' modeling_qwen3_5(_moe).py (model_types
 * qwen3_5_text / qwen3_5_moe_text), and Qwen3-Next's (modeling_qwen3_next.py, qwen3_next: its fused in_proj_qkvz /
 * in_proj_ba split as fix_query_key_value_ordering does); its table hf_family_qwen35, see hf_forward_family.h.
 * Float32 weights, double accumulators and state; one token at a time:
 *   h = embed_tokens[token]
 *   per layer: r = norm1(h) with Qwen3_5RMSNorm: x / sqrt(mean(x^2) + eps) * (1 + w)
 *     linear attention (Qwen3_5GatedDeltaNet):
 *       qkv = in_proj_qkv(r), z = in_proj_z(r), b = in_proj_b(r), a = in_proj_a(r)
 *       qkv = silu(causal depthwise conv1d(qkv)) (conv1d.weight [C, 1, K], zeros before the start)
 *       [q | k | v] = qkv, heads of linear_key_head_dim / linear_value_head_dim; value head j reads key head
 *       j / (value heads per key head) (repeat_interleave)
 *       beta = sigmoid(b), g = -exp(A_log) * softplus(a + dt_bias)
 *       q, k l2-normalised (x / sqrt(sum x^2 + 1e-6)), q scaled by 1 / sqrt(key head dim)
 *       per value head (torch_recurrent_gated_delta_rule): S *= exp(g); kv = S^T k; S += k (beta (v - kv))^T;
 *       o = S^T q
 *       o = RMSNormGated(o, z) per head: w * o / sqrt(mean(o^2) + eps) * silu(z) (w as stored)
 *       h += out_proj(o)
 *     full attention (Qwen3_5Attention): q_proj rows per head [query | gate]; q = q_norm(query), k = k_norm(k_proj)
 *       (both 1 + w); rotate-half rope on the first head_dim * partial_rotary_factor dims (M-RoPE with the three
 *       position ids equal, as for text); causal softmax(q.k / sqrt(head_dim)) over grouped kv heads;
 *       h += o_proj(attn * sigmoid(gate))
 *   h += mlp(norm2(h)): SwiGLU, or the MoE block: softmax(gate(x)), top num_experts_per_tok renormalised, each
 *     expert down(silu(gate) * up) from the packed gate_up_proj [E, 2 I, H] / down_proj [E, H, I], plus
 *     sigmoid(shared_expert_gate(x)) * shared_expert(x)
 *   logits = lm_head(norm(h)) (lm_head tied to embed_tokens when absent) */
#include "hf_forward_family.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int attn;
    float *norm1, *norm2;
    /* linear attention */
    float *qkv, *z, *a, *b, *conv, *A_log, *dt_bias, *gnorm, *out;
    float *hist;   /* the last K - 1 pre-conv qkv vectors (oldest first) */
    double *state; /* [vh][kd][vd] */
    /* full attention */
    float *q, *k, *v, *o, *q_norm, *k_norm;
    float *kc, *vc; /* per position */
    /* MLP */
    float *gate, *up, *down;                  /* dense */
    float *router, *gate_up, *edown;          /* MoE: [E][H], [E][2I][H], [E][H][I] */
    float *sh_gate, *sh_up, *sh_down, *sh_g; /* shared expert */
} q35_layer;

typedef struct hf_qwen35 hf_qwen35;
static void hf_qwen35_free(void *vm);

struct hf_qwen35 {
    const char *pre; /* "model.language_model." (Qwen 3.5) or "model." (Qwen3-Next) */
    int next;        /* Qwen3-Next: fused in_proj_qkvz / in_proj_ba, experts one by one */
    int vocab, H, n_layer, nh, nkv, hd, rot, F, I, SI, E, topk, kh, vh, kd, vd, K, interval, cap;
    double eps, theta, margin;
    float *embed, *lm_head, *norm;
    q35_layer *layers;
};

/* a copy of the tensor `name` (under model.language_model. unless it starts with "lm_head"), which must have
 * n_dims dims d[0..n_dims), or NULL */
static float *take(const hf_qwen35 *m, hf_tensor_get get, void *ctx, const char *name, int nd_want,
                   const int64_t *d, char *err, size_t errlen) {
    const char *pre = strncmp(name, "lm_head", 7) ? m->pre : "";
    return hf_family_take(get, ctx, d[0], nd_want > 1 ? d[1] : 0, nd_want > 2 ? d[2] : 0, err, errlen, "%s%s", pre,
                          name);
}

#define T1(dst, a, ...)                                                                                               \
    do {                                                                                                              \
        char nm_[160];                                                                                                \
        snprintf(nm_, sizeof nm_, __VA_ARGS__);                                                                       \
        const int64_t d_[1] = {a};                                                                                    \
        if (!((dst) = take(m, get, ctx, nm_, 1, d_, err, errlen))) goto fail;                                            \
    } while (0)
#define T2(dst, a, b, ...)                                                                                            \
    do {                                                                                                              \
        char nm_[160];                                                                                                \
        snprintf(nm_, sizeof nm_, __VA_ARGS__);                                                                       \
        const int64_t d_[2] = {a, b};                                                                                 \
        if (!((dst) = take(m, get, ctx, nm_, 2, d_, err, errlen))) goto fail;                                            \
    } while (0)
#define T3(dst, a, b, c, ...)                                                                                         \
    do {                                                                                                              \
        char nm_[160];                                                                                                \
        snprintf(nm_, sizeof nm_, __VA_ARGS__);                                                                       \
        const int64_t d_[3] = {a, b, c};                                                                              \
        if (!((dst) = take(m, get, ctx, nm_, 3, d_, err, errlen))) goto fail;                                            \
    } while (0)

static void *hf_qwen35_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_qwen35 *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    const char *mt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "model_type"));
    m->next = mt && !strcmp(mt, "qwen3_next");
    m->pre = m->next ? "model." : "model.language_model.";
    m->vocab = hf_cfg_int(cfg, "vocab_size", 0), m->H = hf_cfg_int(cfg, "hidden_size", 0);
    m->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0), m->nh = hf_cfg_int(cfg, "num_attention_heads", 0);
    m->nkv = hf_cfg_int(cfg, "num_key_value_heads", m->nh);
    m->hd = hf_cfg_int(cfg, "head_dim", m->nh ? m->H / m->nh : 0);
    m->F = hf_cfg_int(cfg, "intermediate_size", 0), m->I = hf_cfg_int(cfg, "moe_intermediate_size", 0);
    m->SI = hf_cfg_int(cfg, "shared_expert_intermediate_size", 0);
    m->E = hf_cfg_int(cfg, "num_experts", 0), m->topk = hf_cfg_int(cfg, "num_experts_per_tok", 0);
    m->kh = hf_cfg_int(cfg, "linear_num_key_heads", 0), m->vh = hf_cfg_int(cfg, "linear_num_value_heads", 0);
    m->kd = hf_cfg_int(cfg, "linear_key_head_dim", 0), m->vd = hf_cfg_int(cfg, "linear_value_head_dim", 0);
    m->K = hf_cfg_int(cfg, "linear_conv_kernel_dim", 4), m->interval = hf_cfg_int(cfg, "full_attention_interval", 4);
    m->eps = hf_cfg_num(cfg, "rms_norm_eps", 1e-6);
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(cfg, "rope_parameters");
    if (!cJSON_IsObject(rp)) rp = cfg; /* Qwen3-Next: rope_theta, partial_rotary_factor at the top */
    m->theta = hf_cfg_num(rp, "rope_theta", 10000.0);
    m->rot = (int)(m->hd * hf_cfg_num(rp, "partial_rotary_factor", 0.25));
    m->margin = INFINITY;
    const int H = m->H;
    if (H <= 0 || m->n_layer <= 0 || m->nh <= 0 || m->hd <= 0 || m->kh <= 0 || m->vh % m->kh || m->K < 1 ||
        m->interval < 1 || m->vocab <= 0 || (m->E > 0 && (m->topk <= 0 || m->topk > m->E))) {
        hf_set_err(err, errlen, "qwen3.5 config: bad sizes");
        free(m);
        return NULL;
    }
    const int C = 2 * m->kh * m->kd + m->vh * m->vd;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    if (!m->layers) goto fail;
    T2(m->embed, m->vocab, H, "embed_tokens.weight");
    T1(m->norm, H, "norm.weight");
    {
        int64_t shape[8];
        int nd;
        if (get(ctx, "lm_head.weight", shape, &nd)) T2(m->lm_head, m->vocab, H, "lm_head.weight");
    }
    for (int i = 0; i < m->n_layer; i++) {
        q35_layer *l = &m->layers[i];
        const char *P = "layers.";
        l->attn = (i + 1) % m->interval == 0;
        T1(l->norm1, H, "%s%d.input_layernorm.weight", P, i);
        T1(l->norm2, H, "%s%d.post_attention_layernorm.weight", P, i);
        if (l->attn) {
            T2(l->q, 2 * m->nh * m->hd, H, "%s%d.self_attn.q_proj.weight", P, i);
            T2(l->k, m->nkv * m->hd, H, "%s%d.self_attn.k_proj.weight", P, i);
            T2(l->v, m->nkv * m->hd, H, "%s%d.self_attn.v_proj.weight", P, i);
            T2(l->o, H, m->nh * m->hd, "%s%d.self_attn.o_proj.weight", P, i);
            T1(l->q_norm, m->hd, "%s%d.self_attn.q_norm.weight", P, i);
            T1(l->k_norm, m->hd, "%s%d.self_attn.k_norm.weight", P, i);
        } else {
            if (m->next) { /* fix_query_key_value_ordering: per key head [q, k, v, z] rows, [b, a] rows */
                const int rep = m->vh / m->kh, vw = rep * m->vd, W = 2 * m->kd + 2 * vw;
                float *qkvz = NULL, *ba = NULL;
                T2(qkvz, m->kh * W, H, "%s%d.linear_attn.in_proj_qkvz.weight", P, i);
                l->qkv = malloc((size_t)C * H * sizeof *l->qkv), l->z = malloc((size_t)m->vh * m->vd * H * sizeof *l->z);
                if (!l->qkv || !l->z) {
                    free(qkvz);
                    goto fail;
                }
                for (int g = 0; g < m->kh; g++) {
                    const float *src = qkvz + (size_t)g * W * H;
                    memcpy(l->qkv + (size_t)g * m->kd * H, src, (size_t)m->kd * H * sizeof(float));
                    memcpy(l->qkv + ((size_t)m->kh * m->kd + (size_t)g * m->kd) * H, src + (size_t)m->kd * H,
                           (size_t)m->kd * H * sizeof(float));
                    memcpy(l->qkv + ((size_t)2 * m->kh * m->kd + (size_t)g * vw) * H, src + (size_t)2 * m->kd * H,
                           (size_t)vw * H * sizeof(float));
                    memcpy(l->z + (size_t)g * vw * H, src + ((size_t)2 * m->kd + vw) * H, (size_t)vw * H * sizeof(float));
                }
                free(qkvz);
                T2(ba, m->kh * 2 * rep, H, "%s%d.linear_attn.in_proj_ba.weight", P, i);
                l->a = malloc((size_t)m->vh * H * sizeof *l->a), l->b = malloc((size_t)m->vh * H * sizeof *l->b);
                if (!l->a || !l->b) {
                    free(ba);
                    goto fail;
                }
                for (int g = 0; g < m->kh; g++)
                    for (int j = 0; j < rep; j++) {
                        memcpy(l->b + (size_t)(g * rep + j) * H, ba + (size_t)(g * 2 * rep + j) * H, (size_t)H * sizeof(float));
                        memcpy(l->a + (size_t)(g * rep + j) * H, ba + (size_t)(g * 2 * rep + rep + j) * H,
                               (size_t)H * sizeof(float));
                    }
                free(ba);
            } else {
                T2(l->qkv, C, H, "%s%d.linear_attn.in_proj_qkv.weight", P, i);
                T2(l->z, m->vh * m->vd, H, "%s%d.linear_attn.in_proj_z.weight", P, i);
                T2(l->a, m->vh, H, "%s%d.linear_attn.in_proj_a.weight", P, i);
                T2(l->b, m->vh, H, "%s%d.linear_attn.in_proj_b.weight", P, i);
            }
            T3(l->conv, C, 1, m->K, "%s%d.linear_attn.conv1d.weight", P, i);
            T1(l->A_log, m->vh, "%s%d.linear_attn.A_log", P, i);
            T1(l->dt_bias, m->vh, "%s%d.linear_attn.dt_bias", P, i);
            T1(l->gnorm, m->vd, "%s%d.linear_attn.norm.weight", P, i);
            T2(l->out, H, m->vh * m->vd, "%s%d.linear_attn.out_proj.weight", P, i);
            l->hist = calloc((size_t)(m->K > 1 ? m->K - 1 : 1) * (size_t)C, sizeof *l->hist);
            l->state = calloc((size_t)m->vh * (size_t)m->kd * (size_t)m->vd, sizeof *l->state);
            if (!l->hist || !l->state) goto fail;
        }
        if (m->E > 0) {
            T2(l->router, m->E, H, "%s%d.mlp.gate.weight", P, i);
            if (m->next) { /* one by one: stacked as the packed layout */
                const int I = m->I;
                l->gate_up = malloc((size_t)m->E * 2 * I * H * sizeof(float));
                l->edown = malloc((size_t)m->E * H * I * sizeof(float));
                if (!l->gate_up || !l->edown) goto fail;
                for (int e = 0; e < m->E; e++) {
                    float *t = NULL;
                    T2(t, I, H, "%s%d.mlp.experts.%d.gate_proj.weight", P, i, e);
                    memcpy(l->gate_up + (size_t)e * 2 * I * H, t, (size_t)I * H * sizeof(float));
                    free(t);
                    T2(t, I, H, "%s%d.mlp.experts.%d.up_proj.weight", P, i, e);
                    memcpy(l->gate_up + ((size_t)e * 2 * I + I) * H, t, (size_t)I * H * sizeof(float));
                    free(t);
                    T2(t, H, I, "%s%d.mlp.experts.%d.down_proj.weight", P, i, e);
                    memcpy(l->edown + (size_t)e * H * I, t, (size_t)H * I * sizeof(float));
                    free(t);
                }
            } else {
                T3(l->gate_up, m->E, 2 * m->I, H, "%s%d.mlp.experts.gate_up_proj", P, i);
                T3(l->edown, m->E, H, m->I, "%s%d.mlp.experts.down_proj", P, i);
            }
            T2(l->sh_gate, m->SI, H, "%s%d.mlp.shared_expert.gate_proj.weight", P, i);
            T2(l->sh_up, m->SI, H, "%s%d.mlp.shared_expert.up_proj.weight", P, i);
            T2(l->sh_down, H, m->SI, "%s%d.mlp.shared_expert.down_proj.weight", P, i);
            T2(l->sh_g, 1, H, "%s%d.mlp.shared_expert_gate.weight", P, i);
        } else {
            T2(l->gate, m->F, H, "%s%d.mlp.gate_proj.weight", P, i);
            T2(l->up, m->F, H, "%s%d.mlp.up_proj.weight", P, i);
            T2(l->down, H, m->F, "%s%d.mlp.down_proj.weight", P, i);
        }
    }
    return m;
fail:
    hf_qwen35_free(m);
    return NULL;
}

static int hf_qwen35_vocab(const void *m) { return ((const hf_qwen35 *)m)->vocab; }
static double hf_qwen35_route_margin(const void *m) { return ((const hf_qwen35 *)m)->margin; }

static void hf_qwen35_free_layer(void *vl) {
    q35_layer *l = vl;
    HF_FREE_ALL(l->norm1, l->norm2, l->qkv, l->z, l->a, l->b, l->conv, l->A_log, l->dt_bias, l->gnorm, l->out,
                l->hist, l->q, l->k, l->v, l->o, l->q_norm, l->k_norm, l->kc, l->vc, l->gate, l->up, l->down,
                l->router, l->gate_up, l->edown, l->sh_gate, l->sh_up, l->sh_down, l->sh_g, l->state);
}

static void hf_qwen35_free(void *vm) {
    hf_qwen35 *m = vm;
    if (m) hf_family_free_layers(m->layers, m->n_layer, sizeof *m->layers, hf_qwen35_free_layer);
    if (m) HF_FREE_ALL(m->embed, m->lm_head, m->norm);
    free(m);
}

/* y[r] = W[r] . x, W [rows][cols] */
static void matvec(const float *W, const double *x, double *y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        const float *w = W + (size_t)r * cols;
        for (int c = 0; c < cols; c++) s += (double)w[c] * x[c];
        y[r] = s;
    }
}

/* Qwen3_5RMSNorm: x / sqrt(mean(x^2) + eps) * (1 + w) */
static void rmsnorm1p(const double *x, const float *w, double *y, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * r * (1.0 + (double)w[i]);
}

static double silu(double x) { return x / (1.0 + exp(-x)); }
static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }
static double softplus(double x) { return x > 20 ? x : log1p(exp(x)); }

static int linear_attn(hf_qwen35 *m, q35_layer *l, const double *x, double *out, int pos) {
    const int H = m->H, C = 2 * m->kh * m->kd + m->vh * m->vd, K = m->K, kd = m->kd, vd = m->vd;
    const int rep = m->vh / m->kh;
    double *qkv = malloc((size_t)C * sizeof *qkv), *cv = malloc((size_t)C * sizeof *cv);
    double *z = malloc((size_t)m->vh * vd * sizeof *z), *o = malloc((size_t)m->vh * vd * sizeof *o);
    double a[256], b[256];
    if (!qkv || !cv || !z || !o || m->vh > 256 || kd > 512) {
        free(qkv), free(cv), free(z), free(o);
        return -1;
    }
    matvec(l->qkv, x, qkv, C, H);
    matvec(l->z, x, z, m->vh * vd, H);
    matvec(l->a, x, a, m->vh, H);
    matvec(l->b, x, b, m->vh, H);
    if (pos == 0) { /* a new sequence: zero history and state */
        memset(l->hist, 0, (size_t)(K > 1 ? K - 1 : 1) * C * sizeof *l->hist);
        memset(l->state, 0, (size_t)m->vh * kd * vd * sizeof *l->state);
    }
    /* causal depthwise conv over [hist (K-1 oldest first), current], then SiLU */
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int k = 0; k < K - 1; k++) s += (double)l->conv[(size_t)c * K + k] * l->hist[(size_t)k * C + c];
        s += (double)l->conv[(size_t)c * K + K - 1] * qkv[c];
        cv[c] = silu(s);
    }
    if (K > 1) { /* shift the history: drop the oldest, append the current (as stored, float) */
        memmove(l->hist, l->hist + C, (size_t)(K - 2) * C * sizeof *l->hist);
        for (int c = 0; c < C; c++) l->hist[(size_t)(K - 2) * C + c] = (float)qkv[c];
    }
    const double *q = cv, *k = cv + m->kh * kd, *v = cv + 2 * m->kh * kd;
    for (int j = 0; j < m->vh; j++) {
        const int g = j / rep; /* repeat_interleave: value head j reads key head j / rep */
        double qn[512], kn[512];
        double sq = 0, sk = 0;
        for (int i = 0; i < kd; i++) sq += q[g * kd + i] * q[g * kd + i], sk += k[g * kd + i] * k[g * kd + i];
        const double iq = 1.0 / sqrt(sq + 1e-6), ik = 1.0 / sqrt(sk + 1e-6), scale = 1.0 / sqrt((double)kd);
        for (int i = 0; i < kd; i++) qn[i] = q[g * kd + i] * iq * scale, kn[i] = k[g * kd + i] * ik;
        const double beta = sigm(b[j]);
        const double gg = -exp((double)l->A_log[j]) * softplus(a[j] + (double)l->dt_bias[j]);
        const double decay = exp(gg);
        double *S = l->state + (size_t)j * kd * vd;
        for (int i = 0; i < kd * vd; i++) S[i] *= decay;
        for (int c = 0; c < vd; c++) {
            double mem = 0;
            for (int i = 0; i < kd; i++) mem += S[(size_t)i * vd + c] * kn[i];
            const double delta = (v[j * vd + c] - mem) * beta;
            for (int i = 0; i < kd; i++) S[(size_t)i * vd + c] += kn[i] * delta;
        }
        for (int c = 0; c < vd; c++) {
            double s = 0;
            for (int i = 0; i < kd; i++) s += S[(size_t)i * vd + c] * qn[i];
            o[j * vd + c] = s;
        }
        /* RMSNormGated per head: w * norm(o) * silu(z) */
        double ss = 0;
        for (int c = 0; c < vd; c++) ss += o[j * vd + c] * o[j * vd + c];
        const double r = 1.0 / sqrt(ss / vd + m->eps);
        for (int c = 0; c < vd; c++) o[j * vd + c] = (double)l->gnorm[c] * (o[j * vd + c] * r) * silu(z[j * vd + c]);
    }
    matvec(l->out, o, out, H, m->vh * vd);
    free(qkv), free(cv), free(z), free(o);
    return 0;
}

static void rope(double *x, int rot, int pos, double theta) {
    const int half = rot / 2;
    for (int i = 0; i < half; i++) {
        const double f = pow(theta, -(double)(2 * i) / rot), a = pos * f, c = cos(a), s = sin(a);
        const double x1 = x[i], x2 = x[i + half];
        x[i] = x1 * c - x2 * s;
        x[i + half] = x2 * c + x1 * s;
    }
}

static int full_attn(hf_qwen35 *m, q35_layer *l, const double *x, double *out, int pos) {
    const int H = m->H, hd = m->hd, nh = m->nh, nkv = m->nkv, grp = nh / nkv;
    if (pos >= m->cap) {
        const int cap = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++) {
            q35_layer *t = &m->layers[i];
            if (!t->attn) continue;
            float *kc = realloc(t->kc, (size_t)cap * nkv * hd * sizeof *kc);
            if (kc) t->kc = kc;
            float *vc = realloc(t->vc, (size_t)cap * nkv * hd * sizeof *vc);
            if (vc) t->vc = vc;
            if (!kc || !vc) return -1;
        }
        m->cap = cap;
    }
    double *qg = malloc((size_t)2 * nh * hd * sizeof *qg), *kv = malloc((size_t)2 * nkv * hd * sizeof *kv);
    double *att = malloc((size_t)nh * hd * sizeof *att), *sc = malloc((size_t)(pos + 1) * sizeof *sc);
    double tmp[1024];
    if (!qg || !kv || !att || !sc || hd > 1024) {
        free(qg), free(kv), free(att), free(sc);
        return -1;
    }
    matvec(l->q, x, qg, 2 * nh * hd, H);
    matvec(l->k, x, kv, nkv * hd, H);
    matvec(l->v, x, kv + nkv * hd, nkv * hd, H);
    for (int h = 0; h < nkv; h++) {
        rmsnorm1p(kv + h * hd, l->k_norm, tmp, hd, m->eps);
        rope(tmp, m->rot, pos, m->theta);
        for (int i = 0; i < hd; i++) {
            l->kc[((size_t)pos * nkv + h) * hd + i] = (float)tmp[i];
            l->vc[((size_t)pos * nkv + h) * hd + i] = (float)kv[nkv * hd + h * hd + i];
        }
    }
    /* the caches hold float32 (HF keeps k/v in the model's dtype); the test's model is float32 */
    for (int h = 0; h < nh; h++) {
        const double *qh = qg + (size_t)h * 2 * hd, *gate = qh + hd;
        rmsnorm1p(qh, l->q_norm, tmp, hd, m->eps);
        rope(tmp, m->rot, pos, m->theta);
        const int g = h / grp;
        double mx = -INFINITY;
        for (int p = 0; p <= pos; p++) {
            double s = 0;
            for (int i = 0; i < hd; i++) s += tmp[i] * l->kc[((size_t)p * nkv + g) * hd + i];
            sc[p] = s / sqrt((double)hd);
            mx = sc[p] > mx ? sc[p] : mx;
        }
        double sum = 0;
        for (int p = 0; p <= pos; p++) sum += (sc[p] = exp(sc[p] - mx));
        for (int i = 0; i < hd; i++) {
            double s = 0;
            for (int p = 0; p <= pos; p++) s += sc[p] * l->vc[((size_t)p * nkv + g) * hd + i];
            att[h * hd + i] = s / sum * sigm(gate[i]);
        }
    }
    matvec(l->o, att, out, H, nh * hd);
    free(qg), free(kv), free(att), free(sc);
    return 0;
}

/* down(silu(gate x) * up x), gate / up [ff][H], down [H][ff] (down's row stride ff) */
static void swiglu(const float *gate, const float *up, const float *down, int ff, int H, const double *x, double *y) {
    double *hbuf = malloc((size_t)ff * sizeof *hbuf);
    if (!hbuf) return;
    for (int r = 0; r < ff; r++) {
        double g = 0, u = 0;
        for (int c = 0; c < H; c++) g += (double)gate[(size_t)r * H + c] * x[c], u += (double)up[(size_t)r * H + c] * x[c];
        hbuf[r] = silu(g) * u;
    }
    matvec(down, hbuf, y, H, ff);
    free(hbuf);
}

static void moe(hf_qwen35 *m, q35_layer *l, const double *x, double *out) {
    const int H = m->H, E = m->E, I = m->I;
    double lg[256], pr[256], y[4096];
    int idx[256];
    if (E > 256 || H > 4096) return;
    matvec(l->router, x, lg, E, H);
    double mx = -INFINITY, sum = 0;
    for (int e = 0; e < E; e++) mx = lg[e] > mx ? lg[e] : mx;
    for (int e = 0; e < E; e++) sum += (pr[e] = exp(lg[e] - mx));
    for (int e = 0; e < E; e++) pr[e] /= sum;
    hf_family_topk(lg, E, m->topk, idx, &m->margin);
    double wsum = 0;
    for (int t = 0; t < m->topk; t++) wsum += pr[idx[t]];
    for (int i = 0; i < H; i++) out[i] = 0;
    for (int t = 0; t < m->topk; t++) {
        const int e = idx[t];
        const float *gu = l->gate_up + (size_t)e * 2 * I * H, *dn = l->edown + (size_t)e * H * I;
        swiglu(gu, gu + (size_t)I * H, dn, I, H, x, y);
        const double w = pr[e] / wsum;
        for (int i = 0; i < H; i++) out[i] += w * y[i];
    }
    double sg = 0;
    for (int c = 0; c < H; c++) sg += (double)l->sh_g[c] * x[c];
    swiglu(l->sh_gate, l->sh_up, l->sh_down, m->SI, H, x, y);
    for (int i = 0; i < H; i++) out[i] += sigm(sg) * y[i];
}

static int hf_qwen35_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_qwen35 *m = vm;
    const int H = m->H;
    double *h = malloc((size_t)H * sizeof *h), *r = malloc((size_t)H * sizeof *r), *d = malloc((size_t)H * sizeof *d);
    if (!h || !r || !d) {
        free(h), free(r), free(d);
        hf_set_err(err, errlen, "out of memory");
        return -1;
    }
    m->margin = INFINITY;
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i];
    int rc = 0;
    for (int li = 0; li < m->n_layer && !rc; li++) {
        q35_layer *l = &m->layers[li];
        rmsnorm1p(h, l->norm1, r, H, m->eps);
        rc = l->attn ? full_attn(m, l, r, d, pos) : linear_attn(m, l, r, d, pos);
        if (rc) break;
        for (int i = 0; i < H; i++) h[i] += d[i];
        rmsnorm1p(h, l->norm2, r, H, m->eps);
        if (m->E > 0) moe(m, l, r, d);
        else swiglu(l->gate, l->up, l->down, m->F, H, r, d);
        for (int i = 0; i < H; i++) h[i] += d[i];
    }
    if (rc) hf_set_err(err, errlen, "qwen3.5 reference: out of memory or sizes beyond its buffers");
    if (!rc && logits) {
        rmsnorm1p(h, m->norm, r, H, m->eps);
        const float *W = m->lm_head ? m->lm_head : m->embed;
        for (int v = 0; v < m->vocab; v++) {
            double s = 0;
            for (int c = 0; c < H; c++) s += (double)W[(size_t)v * H + c] * r[c];
            logits[v] = (float)s;
        }
    }
    free(h), free(r), free(d);
    return rc;
}

const hf_family hf_family_qwen35 = {
    .model_types = {"qwen3_5_text", "qwen3_5_moe_text", "qwen3_next"}, .load = hf_qwen35_load,
    .vocab = hf_qwen35_vocab, .next = hf_qwen35_next, .route_margin = hf_qwen35_route_margin, .free = hf_qwen35_free,
};
