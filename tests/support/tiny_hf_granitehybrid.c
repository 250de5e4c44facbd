/* tiny_hf_granitehybrid.c - tiny checkpoints of IBM Granite 4.0-H in the published GraniteMoeHybridForCausalLM
 * layout (model_type granitemoehybrid, bfloat16 in the releases): "granitehybrid" as ibm-granite/granite-4.0-h-
 * tiny (experts: block_sparse_moe.input_linear [E, 2 I, H], output_linear [E, H, I], router.layer [E, H], plus
 * shared_mlp.input_linear [2 S, H] / output_linear [H, S]), "granitehybrid_dense" as granite-4.0-h-micro
 * (num_local_experts 0: the shared MLP alone, S = intermediate_size), "granite4" as the all-attention
 * granite-4.0-micro (the same class and dense MLP, every layer attention with rope, which the converter writes as
 * llama.cpp's granite). Layers as layer_types lists them: Mamba-2
 * ("mamba": mamba.in_proj [2 d_inner + 2 d_state + n_heads, H], conv1d [d_inner + 2 d_state, 1, 4] with its bias,
 * dt_bias, A_log, D, norm [d_inner], out_proj) and, every 4th from the third, attention without rope
 * (position_embedding_type "nope": self_attn.q/k/v/o_proj); tied embeddings; Granite's multipliers. Config keys as
 * the releases have them, scaled down: hidden n_embd, mamba_expand 2, mamba_n_heads 8 of mamba_d_head 2 H / 8,
 * mamba_d_state 16, mamba_n_groups 1; 8 experts of n_ff (2 used), a shared MLP of 2 n_ff; the vocabulary padded to
 * a multiple of 8 as the releases' 100352. Test support only. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

int tiny_hf_write_granitehybrid(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    const bool all_attn = !strcmp(a, "granite4"), dense = all_attn || !strcmp(a, "granitehybrid_dense");
    if (!dense && strcmp(a, "granitehybrid")) return 1;
    const int H = s->n_embd, nh = s->n_head, nkv = s->n_head_kv, hd = H / nh;
    const int di = 2 * H, mh = 8, ds = 16, K = 4, E = dense ? 0 : 8, F = s->n_ff, S = 2 * s->n_ff;
    const float ws = 4.0f / (float)H;
    const int n_tok = tiny_hf_tokenizer_bpe(dir);
    if (n_tok < 0) return -1;
    const int vocab = all_attn ? n_tok : (n_tok + 7) / 8 * 8; /* the converter pads only the hybrids' */
    /* the releases' keys (their order aside): numbers, then strings, flags and lists */
    cJSON *c = tiny_cfg_new("GraniteMoeHybridForCausalLM");
    tiny_cfg_nums(c, "attention_dropout", 0.0, "attention_multiplier", 1.0 / hd, "bos_token_id", (double)(n_tok - 2),
                  "embedding_multiplier", 12.0, "eos_token_id", (double)(n_tok - 2), "hidden_size", (double)H,
                  "initializer_range", 0.1, "intermediate_size", (double)(dense ? S : F), "logits_scaling", 6.0,
                  "mamba_chunk_size", 256.0, "mamba_d_conv", (double)K, "mamba_d_head", (double)(di / mh),
                  "mamba_d_state", (double)ds, "mamba_expand", 2.0, "mamba_n_groups", 1.0, "mamba_n_heads", (double)mh,
                  "max_position_embeddings", 131072.0, "num_attention_heads", (double)nh,
                  "num_experts_per_tok", dense ? 0.0 : 2.0, "num_hidden_layers", (double)s->n_layer,
                  "num_key_value_heads", (double)nkv, "num_local_experts", (double)E, "pad_token_id", (double)(n_tok - 1),
                  "residual_multiplier", 0.22, "rms_norm_eps", 1e-5, "rope_theta", 10000.0, "router_aux_loss_coef", 0.0,
                  "shared_intermediate_size", (double)S, "vocab_size", (double)vocab, NULL);
    const char *const strs[][2] = {{"hidden_act", "silu"},          {"init_method", "mup"},
                                          {"model_type", "granitemoehybrid"}, {"normalization_function", "rmsnorm"},
                                          {"position_embedding_type", all_attn ? "rope" : "nope"},
                                          {"transformers_version", "4.56.0"}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) cJSON_AddStringToObject(c, strs[i][0], strs[i][1]);
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    tiny_cfg_bools(c, 0, "attention_bias", "mamba_proj_bias", "output_router_logits", NULL);
    cJSON_AddBoolToObject(c, "mamba_conv_bias", 1);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    cJSON_AddBoolToObject(c, "use_cache", 1);
    cJSON_AddNullToObject(c, "rope_scaling");
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < s->n_layer; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(all_attn || i % 4 == 2 ? "attention" : "mamba"));
    tiny_tlist *l = tiny_tlist_begin(dir, c, "model.", "embed_tokens.weight", "norm.weight", vocab, H, 0.1f, 1.0f);
    if (!l) return -1;
    for (int i = 0; i < s->n_layer; i++) {
        char pfx[64], sub[80];
        snprintf(pfx, sizeof pfx, "model.layers.%d.", i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%sinput_layernorm.weight", pfx);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%spost_attention_layernorm.weight", pfx);
        const bool att = all_attn || i % 4 == 2;
        snprintf(sub, sizeof sub, "%s%s", pfx, att ? "self_attn." : "mamba.");
        if (att) tiny_tlist_add_qkvo(l, sub, H, H, nkv * hd, ws, 4.0f / (float)H);
        else tiny_tlist_add_mamba2(l, sub, H, di, mh, 1, ds, K, true, ws);
        if (!dense) {
            tiny_tlist_add(l, E, 2 * F, H, ws, 0, "%sblock_sparse_moe.input_linear.weight", pfx);
            tiny_tlist_add(l, E, H, F, 4.0f / (float)F, 0, "%sblock_sparse_moe.output_linear.weight", pfx);
            tiny_tlist_add(l, E, H, 0, 1.0f, 0, "%sblock_sparse_moe.router.layer.weight", pfx);
        }
        tiny_tlist_add(l, 2 * S, H, 0, ws, 0, "%sshared_mlp.input_linear.weight", pfx);
        tiny_tlist_add(l, H, S, 0, 4.0f / (float)S, 0, "%sshared_mlp.output_linear.weight", pfx);
    }
    if (!s->tied) tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    return tiny_tlist_emit(dir, s, l);
}
