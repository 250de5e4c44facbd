/* hf_forward_mamba.c - Mamba-1's forward pass, written from transformers' modeling_mamba.py (MambaForCausalLM,
 * model_type "mamba") and modeling_falcon_mamba.py (FalconMambaForCausalLM, "falcon_mamba"), the mixers'
 * slow_forward one token at a time (its table hf_family_mamba, see hf_forward_family.h); float32 weights, double
 * arithmetic (the mixer: hf_m1_step, hf_forward_ssm.c):
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

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *norm;
    hf_m1_layer m1;
    float *hist; /* x before the conv, per position */
} m1_layer;

typedef struct {
    int vocab, H, n_layer, cap;
    hf_m1_dims m1;
    double eps;
    float *embed, *lm_head, *final_norm;
    m1_layer *layers;
} hf_mamba;

static void m1_free(void *vm) {
    hf_mamba *m = vm;
    if (!m) return;
    for (int i = 0; m->layers && i < m->n_layer; i++) {
        free(m->layers[i].norm), free(m->layers[i].hist);
        hf_m1_free(&m->layers[i].m1);
    }
    free(m->layers), free(m->embed), free(m->lm_head), free(m->final_norm);
    free(m);
}

static void *m1_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_mamba *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    const bool falcon = cJSON_IsString(mt) && !strcmp(mt->valuestring, "falcon_mamba");
    /* MambaConfig's defaults */
    m->vocab = hf_cfg_int(cfg, "vocab_size", 0), m->H = hf_cfg_int(cfg, "hidden_size", 0);
    m->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0), m->eps = hf_cfg_num(cfg, "layer_norm_epsilon", 1e-5);
    m->m1 = (hf_m1_dims){.H = m->H, .di = hf_cfg_int(cfg, "expand", 2) * m->H, .ds = hf_cfg_int(cfg, "state_size", 16),
                         .K = hf_cfg_int(cfg, "conv_kernel", 4), .R = hf_cfg_int(cfg, "time_step_rank", (m->H + 15) / 16),
                         .norms = falcon ? 2 : 0, .norm_eps = hf_cfg_num(cfg, "mixer_rms_eps", 1e-6)};
    if (m->vocab <= 0 || m->H <= 0 || m->n_layer <= 0 || m->m1.ds <= 0 || m->m1.K < 1 || m->m1.di <= 0 ||
        m->m1.R <= 0) {
        hf_set_err(err, errlen, "mamba config: bad sizes");
        free(m);
        return NULL;
    }
    const int H = m->H;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    int bad = !m->layers;
#define T(ptr, d0, d1, ...)                                                                                            \
    do { if (!bad && !((ptr) = hf_family_take(get, ctx, d0, d1, 0, err, errlen, __VA_ARGS__))) bad = 1; } while (0)
    T(m->embed, m->vocab, H, "backbone.embeddings.weight");
    T(m->final_norm, H, 0, "backbone.norm_f.weight");
    int64_t shape[8];
    int nd;
    if (!bad && get(ctx, "lm_head.weight", shape, &nd)) T(m->lm_head, m->vocab, H, "lm_head.weight");
    for (int i = 0; i < m->n_layer && !bad; i++) {
        char pfx[64];
        T(m->layers[i].norm, H, 0, "backbone.layers.%d.norm.weight", i);
        snprintf(pfx, sizeof pfx, "backbone.layers.%d.mixer.", i);
        if (!bad && hf_m1_load(&m->layers[i].m1, &m->m1, get, ctx, pfx, err, errlen)) bad = 1;
    }
#undef T
    if (bad) {
        m1_free(m);
        return NULL;
    }
    return m;
}

static int m1_vocab(const void *m) { return ((const hf_mamba *)m)->vocab; }

static int m1_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_mamba *m = vm;
    const int H = m->H;
    if (token < 0 || token >= m->vocab) {
        hf_set_err(err, errlen, "token id %d out of range (vocab %d)", (int)token, m->vocab);
        return -1;
    }
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++)
            if (hf_hist_grow(&m->layers[i].hist, (size_t)m->m1.di, nc, err, errlen)) return -1;
        m->cap = nc;
    }
    double *r, *y, *buf,
        *h = hf_work(H, (size_t)(3 * m->m1.di + m->m1.R + 2 * m->m1.ds), &r, &y, &buf, err, errlen);
    if (!h) return -1;
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i];
    for (int li = 0; li < m->n_layer; li++) {
        hf_rmsnorm_d(r, h, m->layers[li].norm, H, m->eps);
        hf_m1_step(&m->m1, &m->layers[li].m1, m->layers[li].hist, pos, r, y, buf);
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
