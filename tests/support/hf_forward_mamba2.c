/* hf_forward_mamba2.c - Mamba-2's forward pass, written from transformers' modeling_mamba2.py (Mamba2ForCausalLM),
 * model_type "mamba2" (its table hf_family_mamba2, see hf_forward_family.h); float32 weights, double arithmetic,
 * one token at a time:
 *   h = backbone.embeddings[token]
 *   per layer: h += mixer(norm(h)), the mixer Mamba2Mixer.torch_forward in its recurrent form (hf_m2_step:
 *     [z | xBC | dt] = in_proj(r); xBC = silu(conv1d(xBC)); per head dt = softplus(dt + dt_bias),
 *     S = S exp(dt A) + dt B x^T, y = S C + D x; y = norm.weight * rmsnorm(y * silu(z)); out_proj(y))
 *   logits = lm_head(norm_f(h)) (lm_head tied to the embeddings when absent)
 * transformers' MambaRMSNormGated normalizes over the whole inner size; "mamba2:grouped" computes the same model
 * with the norm per group of d_inner / n_groups (mamba_ssm's RMSNormGated, and llama.cpp's graph), for the
 * registry caveat's test. RMSNorm: w * x / sqrt(mean(x^2) + layer_norm_epsilon). Test support only. */
#include "hf_forward_ssm.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *norm;
    hf_m2_layer m2;
    float *hist; /* xBC before the conv, per position */
} m2_layer;

typedef struct {
    int vocab, H, n_layer, cap;
    hf_m2_dims m2;
    float *embed, *lm_head, *final_norm;
    m2_layer *layers;
} hf_mamba2;

static void m2_free(void *vm) {
    hf_mamba2 *m = vm;
    if (!m) return;
    for (int i = 0; m->layers && i < m->n_layer; i++) {
        free(m->layers[i].norm), free(m->layers[i].hist);
        hf_m2_free(&m->layers[i].m2);
    }
    free(m->layers), free(m->embed), free(m->lm_head), free(m->final_norm);
    free(m);
}

static void *m2_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_mamba2 *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    const bool grouped = cJSON_IsString(mt) && !strcmp(mt->valuestring, "mamba2:grouped");
    m->vocab = hf_cfg_int(cfg, "vocab_size", 0), m->H = hf_cfg_int(cfg, "hidden_size", 0);
    m->n_layer = hf_cfg_int(cfg, "num_hidden_layers", 0);
    /* Mamba2Config's defaults */
    const int nh = hf_cfg_int(cfg, "num_heads", 128), dh = hf_cfg_int(cfg, "head_dim", 64);
    const int ds = hf_cfg_int(cfg, "state_size", 128), ng = hf_cfg_int(cfg, "n_groups", 8);
    const int K = hf_cfg_int(cfg, "conv_kernel", 4), di = hf_cfg_int(cfg, "expand", 2) * m->H;
    if (m->vocab <= 0 || m->H <= 0 || m->n_layer <= 0 || nh <= 0 || dh <= 0 || nh * dh != di || ng <= 0 ||
        nh % ng || ds <= 0 || K < 1) {
        hf_set_err(err, errlen, "mamba2 config: bad sizes");
        free(m);
        return NULL;
    }
    m->m2 = (hf_m2_dims){.H = m->H, .di = di, .cd = di + 2 * ng * ds, .nh = nh, .dh = dh, .ds = ds, .ng = ng, .K = K,
                         .norm_group = grouped ? di / ng : di, .eps = hf_cfg_num(cfg, "layer_norm_epsilon", 1e-5)};
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
        if (!bad && hf_m2_load(&m->layers[i].m2, &m->m2, get, ctx, pfx, err, errlen)) bad = 1;
    }
#undef T
    if (bad) {
        m2_free(m);
        return NULL;
    }
    return m;
}

static int m2_vocab(const void *m) { return ((const hf_mamba2 *)m)->vocab; }

static int m2_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_mamba2 *m = vm;
    const int H = m->H;
    if (token < 0 || token >= m->vocab) {
        hf_set_err(err, errlen, "token id %d out of range (vocab %d)", (int)token, m->vocab);
        return -1;
    }
    if (pos >= m->cap) {
        const int nc = m->cap ? 2 * m->cap : 64;
        for (int i = 0; i < m->n_layer; i++)
            if (hf_hist_grow(&m->layers[i].hist, (size_t)m->m2.cd, nc, err, errlen)) return -1;
        m->cap = nc;
    }
    double *r, *y, *buf, *h = hf_work(H, (size_t)(2 * (m->m2.di + m->m2.cd + m->m2.nh)), &r, &y, &buf, err, errlen);
    if (!h) return -1;
    for (int i = 0; i < H; i++) h[i] = m->embed[(size_t)token * H + i];
    for (int li = 0; li < m->n_layer; li++) {
        m2_layer *l = &m->layers[li];
        hf_rmsnorm_d(r, h, l->norm, H, m->m2.eps);
        hf_m2_step(&m->m2, &l->m2, l->hist, pos, r, y, buf);
        for (int i = 0; i < H; i++) h[i] += y[i];
    }
    if (logits) {
        hf_rmsnorm_d(r, h, m->final_norm, H, m->m2.eps);
        hf_logits_d(m->lm_head ? m->lm_head : m->embed, r, m->vocab, H, 1.0, logits);
    }
    free(h);
    return 0;
}

const hf_family hf_family_mamba2 = {
    .model_types = {"mamba2", "mamba2:grouped"}, .load = m2_load, .vocab = m2_vocab, .next = m2_next,
    .free = m2_free,
};
