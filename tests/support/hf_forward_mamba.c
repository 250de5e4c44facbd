/* hf_forward_mamba.c - the attention-free Mamba models' forward pass, written from transformers' modeling_mamba.py
 * (MambaForCausalLM, model_type "mamba"), modeling_falcon_mamba.py (FalconMambaForCausalLM, "falcon_mamba") and
 * modeling_mamba2.py (Mamba2ForCausalLM, "mamba2"), the mixers' slow / torch forward one token at a time (its table
 * hf_family_mamba, see hf_forward_family.h); float32 weights, double arithmetic:
 *   h = backbone.embeddings[token]
 *   per layer: h += mixer(norm(h)), the mixer
 *     Mamba-1 (m1_step, hf_forward_ssm.c): [x | z] = in_proj(r); x = silu(conv1d(x)); [dt | B | C] = x_proj(x)
 *       (Falcon Mamba: each RMS-normalized without a weight, mixer_rms_eps); dt = softplus(dt_proj(dt) + bias);
 *       per channel S = S exp(dt A) + dt B x, y = S . C + D x; out_proj(y * silu(z));
 *     Mamba-2 (m2_step): [z | xBC | dt] = in_proj(r); xBC = silu(conv1d(xBC)); per head dt = softplus(dt +
 *       dt_bias), S = S exp(dt A) + dt B x^T, y = S C + D x; y = norm.weight * rmsnorm(y * silu(z)); out_proj(y).
 *       transformers' MambaRMSNormGated normalizes over the whole inner size; "mamba2:grouped" computes the same
 *       model with the norm per group of d_inner / n_groups (mamba_ssm's RMSNormGated, and llama.cpp's graph), for
 *       the registry caveat's test
 *   logits = lm_head(norm_f(h)) (lm_head tied to the embeddings when absent)
 * RMSNorm: w * x / sqrt(mean(x^2) + layer_norm_epsilon). Test support only. */
#include "hf_forward_ssm.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef hf_mix_layer mamba_layer; /* its norm and its mixer, Mamba-1 or Mamba-2 (no ff_norm) */

typedef struct {
    hf_trunk t;
    hf_mix_dims mx;
    int v2;
    size_t nbuf; /* the mixer's scratch doubles */
    double eps;
    mamba_layer *layers;
} hf_mamba;

/* the mixer's sizes from the config class's keys (MambaConfig / FalconMambaConfig / Mamba2Config defaults); 0, or
 * -1 for sizes that do not fit */
static int mixer_dims(hf_mamba *m, const cJSON *cfg, const char *mt) {
    const int H = m->t.H, di = hf_cfg_int(cfg, "expand", 2) * H, K = hf_cfg_int(cfg, "conv_kernel", 4);
    if (!strncmp(mt, "mamba2", 6)) {
        const int nh = hf_cfg_int(cfg, "num_heads", 128), dh = hf_cfg_int(cfg, "head_dim", 64);
        const int ds = hf_cfg_int(cfg, "state_size", 128), ng = hf_cfg_int(cfg, "n_groups", 8);
        m->v2 = 1;
        m->mx.m2 = (hf_m2_dims){.H = H, .di = di, .cd = di + 2 * ng * ds, .nh = nh, .dh = dh, .ds = ds, .ng = ng,
                                .K = K, .norm_group = !strcmp(mt, "mamba2:grouped") ? di / (ng > 0 ? ng : 1) : di,
                                .eps = m->eps};
        m->nbuf = (size_t)(2 * (di + m->mx.m2.cd + nh));
        return nh <= 0 || dh <= 0 || nh * dh != di || ng <= 0 || nh % ng || ds <= 0 || K < 1 ? -1 : 0;
    }
    m->mx.m1 = (hf_m1_dims){.H = H, .di = di, .ds = hf_cfg_int(cfg, "state_size", 16), .K = K,
                            .R = hf_cfg_int(cfg, "time_step_rank", (H + 15) / 16),
                            .norms = !strcmp(mt, "falcon_mamba") ? 2 : 0,
                            .norm_eps = hf_cfg_num(cfg, "mixer_rms_eps", 1e-6)};
    m->nbuf = (size_t)(3 * di + m->mx.m1.R + 2 * m->mx.m1.ds);
    return m->mx.m1.ds <= 0 || K < 1 || di <= 0 || m->mx.m1.R <= 0 ? -1 : 0;
}

static void *mamba_load(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_mamba *m = hf_trunk_new(sizeof *m, cfg);
    if (!m) return NULL;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    m->eps = hf_cfg_num(cfg, "layer_norm_epsilon", 1e-5);
    if (m->t.vocab <= 0 || m->t.H <= 0 || m->t.n_layer <= 0 || !cJSON_IsString(mt) ||
        mixer_dims(m, cfg, mt->valuestring)) {
        hf_set_err(err, errlen, "mamba config: bad sizes");
        free(m);
        return NULL;
    }
    m->layers = hf_trunk_take(&m->t, sizeof *m->layers, hf_mix_layer_free, "backbone.embeddings.weight",
                              "backbone.norm_f.weight", 0, get, ctx, err, errlen);
    int bad = !m->layers;
    for (int i = 0; i < m->t.n_layer && !bad; i++) {
        mamba_layer *l = &m->layers[i];
        char pfx[64];
        bad = !(l->norm = hf_family_take(get, ctx, m->t.H, 0, 0, err, errlen, "backbone.layers.%d.norm.weight", i));
        snprintf(pfx, sizeof pfx, "backbone.layers.%d.mixer.", i);
        bad = bad || hf_mix_load(&l->mx, m->v2 ? HF_MIX_M2 : HF_MIX_M1, &m->mx, get, ctx, pfx, err, errlen);
    }
    return hf_family_loaded(m, !bad, hf_trunk_free);
}

static int mamba_next(void *vm, int32_t token, int pos, float *logits, char *err, size_t errlen) {
    hf_mamba *m = vm;
    const hf_mix_pass p = {.emb_mul = 1.0, .res_mul = 1.0, .eps = m->eps, .logit_scale = 1.0, .nbuf = m->nbuf};
    return hf_mix_next(m, &m->mx, &p, token, pos, logits, err, errlen);
}

const hf_family hf_family_mamba = {
    .model_types = {"mamba", "falcon_mamba", "mamba2", "mamba2:grouped"}, .load = mamba_load, .vocab = hf_trunk_vocab,
    .next = mamba_next, .free = hf_trunk_free,
};
