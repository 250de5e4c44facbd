/* tiny_hf_mamba.c - tiny checkpoints of the attention-free Mamba families, config keys as the releases have them,
 * scaled down (hidden n_embd):
 *   "mamba2" / "mamba2g": transformers' Mamba2ForCausalLM (model_type mamba2), mistralai/Mamba-Codestral-7B-v0.1's
 *   keys, n_groups 1 (transformers, mamba_ssm and llama.cpp compute the same) or 2 (the registry's caveat: the
 *   gated norm per group or over all of d_inner); backbone.embeddings, per layer backbone.layers.N.norm and the
 *   mixer (in_proj, conv1d and its bias, dt_bias, A_log, D, norm, out_proj), backbone.norm_f, lm_head unless tied;
 *   expand 2, heads of 16, state 16, conv kernel 4; vocab_size the tokenizer's padded to a multiple of 16 (the
 *   embedding's rows, as the state-spaces releases pad theirs);
 *   "mamba" / "falconmamba": MambaForCausalLM (state-spaces/mamba-130m-hf's keys) and FalconMambaForCausalLM
 *   (tiiuae/falcon-mamba-7b's; mixer_rms_eps as layer_norm_epsilon, 1e-5; "falconmamba7b": the release's 1e-6):
 *   the Mamba-1 mixer (in_proj,
 *   conv1d and its bias, x_proj, dt_proj weight and bias, A_log [d_inner, 16], D, out_proj), time_step_rank
 *   n_embd / 16, the vocabulary padded to a multiple of 8;
 *   "jamba": JambaForCausalLM (ai21labs' Jamba releases' keys): Mamba-1 layers with the dt / B / C norms
 *   (mamba.*), attention at layer 2 of every 4 (attn_layer_offset 2, period 4), experts at the odd layers
 *   (expert_layer_offset 1, period 2; 4 experts of n_ff, 2 used, feed_forward.router), dense SwiGLU MLPs
 *   (feed_forward.gate/up/down_proj) elsewhere; a SentencePiece tokenizer.model; untied. Test support only. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

/* A Mamba-1 mixer's tensors under pfx: in_proj [2 di, H], conv1d [di, 1, K] and its bias, x_proj [R + 2 ds, di],
 * (norms: Jamba's dt / B / C norm weights,) dt_proj [di, R] and its bias, A_log [di, ds], D, out_proj [H, di] */
static void mamba1_mixer(tiny_tlist *l, const char *pfx, int H, int di, int R, int ds, int K, bool norms, float ws) {
    tiny_tlist_add(l, 2 * di, H, 0, ws, 0, "%sin_proj.weight", pfx);
    tiny_tlist_add(l, di, 1, K, 0.5f, 0, "%sconv1d.weight", pfx);
    tiny_tlist_add(l, di, 0, 0, 0.1f, 0, "%sconv1d.bias", pfx);
    tiny_tlist_add(l, R + 2 * ds, di, 0, 4.0f / (float)di, 0, "%sx_proj.weight", pfx);
    if (norms) {
        tiny_tlist_add(l, R, 0, 0, 0.1f, 1.0f, "%sdt_layernorm.weight", pfx);
        tiny_tlist_add(l, ds, 0, 0, 0.1f, 1.0f, "%sb_layernorm.weight", pfx);
        tiny_tlist_add(l, ds, 0, 0, 0.1f, 1.0f, "%sc_layernorm.weight", pfx);
    }
    tiny_tlist_add(l, di, R, 0, 0.5f, 0, "%sdt_proj.weight", pfx);
    tiny_tlist_add(l, di, 0, 0, 0.5f, -1.0f, "%sdt_proj.bias", pfx);
    tiny_tlist_add(l, di, ds, 0, 0.5f, 0.5f, "%sA_log", pfx);
    tiny_tlist_add(l, di, 0, 0, 0.2f, 1.0f, "%sD", pfx);
    tiny_tlist_add(l, H, di, 0, 4.0f / (float)di, 0, "%sout_proj.weight", pfx);
}

/* The attention-free models: Mamba-1 (falcon: Falcon Mamba) or Mamba-2 (v2; ng groups) */
static int write_backbone(const char *dir, const tiny_hf_spec *s, bool v2, bool falcon, int ng) {
    const int H = s->n_embd, di = 2 * H, ds = 16, K = 4, dh = 16, nh = di / dh, R = (H + 15) / 16;
    const float ws = 4.0f / (float)H;
    const int n_tok = tiny_hf_tokenizer_bpe(dir);
    if (n_tok < 0) return -1;
    const int pad = v2 ? 16 : 8, vocab = (n_tok + pad - 1) / pad * pad;
    cJSON *c = tiny_cfg_new(v2 ? "Mamba2ForCausalLM" : falcon ? "FalconMambaForCausalLM" : "MambaForCausalLM");
    tiny_cfg_nums(c, "bos_token_id", (double)(n_tok - 3), "conv_kernel", (double)K, "eos_token_id", (double)(n_tok - 2),
                  "expand", 2.0, "hidden_size", (double)H, "initializer_range", 0.1, "layer_norm_epsilon", 1e-5,
                  "num_hidden_layers", (double)s->n_layer, "pad_token_id", (double)(n_tok - 1), "state_size",
                  (double)ds, "time_step_floor", 1e-4, "time_step_max", 0.1, "time_step_min", 0.001, "time_step_rank",
                  (double)R, "vocab_size", (double)vocab, NULL);
    if (v2)
        tiny_cfg_nums(c, "chunk_size", 256.0, "head_dim", (double)dh, "n_groups", (double)ng, "num_heads", (double)nh,
                      NULL);
    else
        tiny_cfg_nums(c, "intermediate_size", (double)di, "pad_vocab_size_multiple", 8.0, "time_step_scale", 1.0, NULL);
    /* Falcon Mamba's release has 1e-6, which llama.cpp does not read (the registry's caveat) */
    if (falcon) cJSON_AddNumberToObject(c, "mixer_rms_eps", !strcmp(s->arch, "falconmamba7b") ? 1e-6 : 1e-5);
    else if (!v2) cJSON_AddNumberToObject(c, "n_layer", s->n_layer);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddStringToObject(c, "model_type", v2 ? "mamba2" : falcon ? "falcon_mamba" : "mamba");
    cJSON_AddStringToObject(c, "time_step_init_scheme", "random");
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    cJSON_AddBoolToObject(c, v2 ? "norm_before_gate" : "fused_add_norm", !v2);
    static const char *const flags[][2] = {{"rescale_prenorm_residual", "0"}, {"residual_in_fp32", "1"},
                                           {"rms_norm", "1"}, {"use_bias", "0"}, {"use_cache", "1"},
                                           {"use_conv_bias", "1"}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        cJSON_AddBoolToObject(c, flags[i][0], flags[i][1][0] == '1');
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    tiny_tlist *l = calloc(1, sizeof *l);
    if (!l) return -1;
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "backbone.embeddings.weight");
    for (int i = 0; i < s->n_layer; i++) {
        char pfx[64];
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "backbone.layers.%d.norm.weight", i);
        snprintf(pfx, sizeof pfx, "backbone.layers.%d.mixer.", i);
        if (v2) tiny_tlist_add_mamba2(l, pfx, H, di, nh, ng, ds, K, true, ws);
        else mamba1_mixer(l, pfx, H, di, R, ds, K, false, ws);
    }
    tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "backbone.norm_f.weight");
    if (!s->tied) tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    const int rc = tiny_hf_emit(dir, s, l->t, l->n);
    free(l->t), free(l);
    return rc;
}

static int write_jamba(const char *dir, const tiny_hf_spec *s) {
    const int H = s->n_embd, nh = s->n_head, nkv = s->n_head_kv, hd = H / nh, F = s->n_ff, E = 4, R = 8, ds = 16, K = 4;
    const int di = 2 * H;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_spm(dir, "LlamaTokenizer", NULL, 0);
    if (vocab < 0) return -1;
    cJSON *c = tiny_cfg_new("JambaForCausalLM");
    tiny_cfg_nums(c, "attn_layer_offset", 2.0, "attn_layer_period", 4.0, "bos_token_id", 1.0, "eos_token_id", 2.0,
                  "expert_layer_offset", 1.0, "expert_layer_period", 2.0, "hidden_size", (double)H,
                  "initializer_range", 0.02, "intermediate_size", (double)F, "mamba_d_conv", (double)K,
                  "mamba_d_state", (double)ds, "mamba_dt_rank", (double)R, "mamba_expand", 2.0,
                  "max_position_embeddings", 262144.0, "num_attention_heads", (double)nh, "num_experts", (double)E,
                  "num_experts_per_tok", 2.0, "num_hidden_layers", (double)s->n_layer, "num_key_value_heads",
                  (double)nkv, "pad_token_id", 0.0, "rms_norm_eps", 1e-6, "router_aux_loss_coef", 0.001,
                  "vocab_size", (double)vocab, NULL);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddStringToObject(c, "model_type", "jamba");
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    cJSON_AddBoolToObject(c, "mamba_conv_bias", 1);
    cJSON_AddBoolToObject(c, "mamba_proj_bias", 0);
    cJSON_AddBoolToObject(c, "output_router_logits", 0);
    cJSON_AddNullToObject(c, "sliding_window");
    cJSON_AddBoolToObject(c, "tie_word_embeddings", 0);
    cJSON_AddBoolToObject(c, "use_cache", 1);
    cJSON_AddBoolToObject(c, "use_mamba_kernels", 1);
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    tiny_tlist *l = calloc(1, sizeof *l);
    if (!l) return -1;
    const char *M = "model.layers.";
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "model.embed_tokens.weight");
    for (int i = 0; i < s->n_layer; i++) {
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%s%d.input_layernorm.weight", M, i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%s%d.pre_ff_layernorm.weight", M, i);
        if (i % 4 == 2) {
            tiny_tlist_add(l, H, H, 0, ws, 0, "%s%d.self_attn.q_proj.weight", M, i);
            tiny_tlist_add(l, nkv * hd, H, 0, ws, 0, "%s%d.self_attn.k_proj.weight", M, i);
            tiny_tlist_add(l, nkv * hd, H, 0, ws, 0, "%s%d.self_attn.v_proj.weight", M, i);
            tiny_tlist_add(l, H, H, 0, ws, 0, "%s%d.self_attn.o_proj.weight", M, i);
        } else {
            char pfx[64];
            snprintf(pfx, sizeof pfx, "%s%d.mamba.", M, i);
            mamba1_mixer(l, pfx, H, di, R, ds, K, true, ws);
        }
        if (i % 2 == 1) {
            tiny_tlist_add(l, E, H, 0, ws, 0, "%s%d.feed_forward.router.weight", M, i);
            for (int e = 0; e < E; e++) {
                tiny_tlist_add(l, F, H, 0, ws, 0, "%s%d.feed_forward.experts.%d.gate_proj.weight", M, i, e);
                tiny_tlist_add(l, F, H, 0, ws, 0, "%s%d.feed_forward.experts.%d.up_proj.weight", M, i, e);
                tiny_tlist_add(l, H, F, 0, ws, 0, "%s%d.feed_forward.experts.%d.down_proj.weight", M, i, e);
            }
        } else {
            tiny_tlist_add(l, F, H, 0, ws, 0, "%s%d.feed_forward.gate_proj.weight", M, i);
            tiny_tlist_add(l, F, H, 0, ws, 0, "%s%d.feed_forward.up_proj.weight", M, i);
            tiny_tlist_add(l, H, F, 0, ws, 0, "%s%d.feed_forward.down_proj.weight", M, i);
        }
    }
    tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "model.final_layernorm.weight");
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    const int rc = tiny_hf_emit(dir, s, l->t, l->n);
    free(l->t), free(l);
    return rc;
}

int tiny_hf_write_mamba(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    if (!strcmp(a, "jamba")) return write_jamba(dir, s);
    if (!strcmp(a, "mamba")) return write_backbone(dir, s, false, false, 1);
    if (!strncmp(a, "falconmamba", 11)) return write_backbone(dir, s, false, true, 1);
    if (!strcmp(a, "mamba2") || !strcmp(a, "mamba2g")) return write_backbone(dir, s, true, false, a[6] ? 2 : 1);
    return 1;
}
