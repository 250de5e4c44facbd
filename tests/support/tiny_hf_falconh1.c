/* tiny_hf_falconh1.c - tiny checkpoints of TII's Falcon-H1 in the published FalconH1ForCausalLM layout (model_type
 * falcon_h1, bfloat16 in the releases): "falconh1" as tiiuae/Falcon-H1-0.5B-Base has it (mamba_rms_norm false, one
 * group) and "falconh1_norm" as the larger releases (mamba_rms_norm true; here 2 groups); config.json with the
 * releases' keys and the 0.5B release's muP multipliers (embedding, lm_head, key, attention out, ssm in/out,
 * mlp_multipliers, ssm_multipliers; attention_in_multiplier 0.75 where the releases have 1, so that its folding
 * counts), scaled down: hidden n_embd, head_dim 32 (larger than hidden / heads, as in the
 * releases), mamba_d_ssm 128 of mamba_n_heads 8 x mamba_d_head 16, mamba_d_state 16, kernel 4, rope_theta 1e11.
 * Every layer: input_layernorm, pre_ff_layernorm, self_attn.{q,k,v,o}_proj, feed_forward.{gate,up,down}_proj,
 * mamba.{in_proj [2 d_ssm + 2 groups d_state + heads, H], conv1d [conv_dim, 1, 4] and its bias, dt_bias, A_log, D,
 * (norm [d_ssm]), out_proj}; model.embed_tokens, model.final_layernorm, lm_head (untied). o_proj is drawn 4x smaller
 * than the other projections, as in tiny_hf_nemotronh.c: llama.cpp's attention rounds q, k and v to F16, which at
 * full weight alone costs ~1e-4 of the logits (the F32 file's tolerance). Test support only. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

int tiny_hf_write_falconh1(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    const bool norm = !strcmp(a, "falconh1_norm");
    if (!norm && strcmp(a, "falconh1")) return 1;
    const int H = s->n_embd, nh = s->n_head, nkv = s->n_head_kv, hd = 32, F = s->n_ff;
    const int mh = 8, mdh = 16, di = mh * mdh, ng = norm ? 2 : 1, ds = 16, K = 4;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    cJSON *c = tiny_cfg_new("FalconH1ForCausalLM");
    tiny_cfg_nums(c, "attention_dropout", 0.0, "attention_in_multiplier", 0.75, "attention_out_multiplier", 0.9375,
                  "bos_token_id", (double)(vocab - 3), "embedding_multiplier", 5.656854249492381,
                  "eos_token_id", (double)(vocab - 2), "head_dim", (double)hd, "hidden_size", (double)H,
                  "initializer_range", 0.02, "intermediate_size", (double)F, "key_multiplier", 0.39062499999999994,
                  "lm_head_multiplier", 0.0390625, "mamba_chunk_size", 128.0, "mamba_d_conv", (double)K,
                  "mamba_d_head", (double)mdh, "mamba_d_ssm", (double)di, "mamba_d_state", (double)ds,
                  "mamba_expand", 2.0, "mamba_n_groups", (double)ng, "mamba_n_heads", (double)mh,
                  "max_position_embeddings", 16384.0, "mlp_expansion_factor", 8.0, "num_attention_heads", (double)nh,
                  "num_hidden_layers", (double)s->n_layer, "num_key_value_heads", (double)nkv,
                  "num_logits_to_keep", 1.0, "pad_token_id", 0.0, "rms_norm_eps", 1e-5, "rope_theta", 1e11,
                  "ssm_in_multiplier", 1.25, "ssm_out_multiplier", 0.23570226039551587, "vocab_size", (double)vocab,
                  NULL);
    static const double mlp_m[] = {0.8838834764831844, 0.5859375};
    static const double ssm_m[] = {0.3535533905932738, 0.25, 0.3535533905932738, 0.5, 0.3535533905932738};
    cJSON_AddItemToObject(c, "mlp_multipliers", cJSON_CreateDoubleArray(mlp_m, 2));
    cJSON_AddItemToObject(c, "ssm_multipliers", cJSON_CreateDoubleArray(ssm_m, 5));
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddStringToObject(c, "model_type", "falcon_h1");
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    cJSON_AddStringToObject(c, "transformers_version", "4.52.0.dev0");
    tiny_cfg_bools(c, 0, "attention_bias", "mamba_norm_before_gate", "mamba_proj_bias", "mlp_bias", "projectors_bias",
                   "tie_word_embeddings", NULL);
    cJSON_AddBoolToObject(c, "mamba_conv_bias", 1);
    cJSON_AddBoolToObject(c, "mamba_rms_norm", norm);
    cJSON_AddBoolToObject(c, "mamba_use_mlp", 1);
    cJSON_AddBoolToObject(c, "use_cache", 1);
    cJSON_AddNullToObject(c, "attn_layer_indices");
    cJSON_AddNullToObject(c, "rope_scaling");
    tiny_tlist *l = tiny_tlist_begin(dir, c, "model.", "embed_tokens.weight", "final_layernorm.weight", vocab, H, 0.1f,
                                     1.0f);
    if (!l) return -1;
    for (int i = 0; i < s->n_layer; i++) {
        char pfx[64], sub[80];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%sinput_layernorm.weight", pfx);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%spre_ff_layernorm.weight", pfx);
        snprintf(sub, sizeof sub, "%sself_attn.", pfx);
        tiny_tlist_add_qkvo(l, sub, H, nh * hd, nkv * hd, ws, 1.0f / (float)(nh * hd));
        tiny_tlist_add(l, F, H, 0, ws, 0, "%sfeed_forward.gate_proj.weight", pfx);
        tiny_tlist_add(l, F, H, 0, ws, 0, "%sfeed_forward.up_proj.weight", pfx);
        tiny_tlist_add(l, H, F, 0, 4.0f / (float)F, 0, "%sfeed_forward.down_proj.weight", pfx);
        snprintf(sub, sizeof sub, "%smamba.", pfx);
        tiny_tlist_add_mamba2(l, sub, H, di, mh, ng, ds, K, norm, ws);
    }
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    return tiny_tlist_emit(dir, s, l);
}
