/* tiny_hf_qwen35.c - tiny checkpoints of Qwen 3.5 / 3.6 in the published layouts: "qwen35moe"
 * (Qwen/Qwen3.5-35B-A3B's Qwen3_5MoeForConditionalGeneration: text_config with model_type qwen3_5_moe_text,
 * tensors under model.language_model., packed experts mlp.experts.gate_up_proj [E, 2 I, H] / down_proj [E, H, I],
 * a shared expert behind shared_expert_gate, a vision tower under model.visual. and an MTP block under mtp.);
 * "qwen35" (Qwen/Qwen3.5-9B's Qwen3_5ForConditionalGeneration: the same with a dense SwiGLU MLP). Every 4th layer
 * (full_attention_interval) gated full attention: q_proj [n_head * 2 head_dim, H] (query and gate per head),
 * q_norm / k_norm, partial M-RoPE (a quarter of the head); the others gated DeltaNet: linear_attn.in_proj_qkv,
 * in_proj_z, in_proj_a, in_proj_b, conv1d [channels, 1, K], A_log, dt_bias, norm, out_proj, with twice as many
 * value heads as key heads (as the releases: 16 key, 32 value heads), so that the converter's value-head
 * reordering matters. Norms other than linear_attn.norm are stored as w - 1 (Qwen3_5RMSNorm computes 1 + w).
 * Sizes from s: n_embd, n_head, n_head_kv, n_layer; head_dim 32, linear heads 2 key / 4 value of 16, 8 experts
 * of n_ff (2 used), a shared expert of n_ff, a dense MLP of 2 n_ff. Names and config keys as the releases have
 * them, scaled down. Test support only. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

static int write_qwen3next(const char *dir, const tiny_hf_spec *s);

/* layer i's two norms (w - 1) */
static void add_layer_norms(tiny_tlist *l, const char *M, int i, int H) {
    tiny_tlist_add(l, H, 0, 0, 0.1f, 0, "%slayers.%d.input_layernorm.weight", M, i);
    tiny_tlist_add(l, H, 0, 0, 0.1f, 0, "%slayers.%d.post_attention_layernorm.weight", M, i);
}

/* One input projection of a gated DeltaNet: "linear_attn.<name>.weight", rows x H. */
typedef struct {
    const char *name;
    int rows;
} deltanet_proj;

/* layer i's gated DeltaNet: its input projections proj[0..n) (values ws N(0, 1); Qwen 3.5 and Qwen3-Next split them
 * differently), conv1d over conv_dim channels, A_log, dt_bias, the gated norm (a plain w) and out_proj */
static void add_deltanet(tiny_tlist *l, const char *M, int i, int H, const deltanet_proj *proj, int n, int conv_dim,
                         int K, int vh, int vd, float ws) {
    for (int p = 0; p < n; p++)
        tiny_tlist_add(l, proj[p].rows, H, 0, ws, 0, "%slayers.%d.linear_attn.%s.weight", M, i, proj[p].name);
    tiny_tlist_add(l, conv_dim, 1, K, 0.5f, 0, "%slayers.%d.linear_attn.conv1d.weight", M, i);
    tiny_tlist_add(l, vh, 0, 0, 0.5f, 0, "%slayers.%d.linear_attn.A_log", M, i);
    tiny_tlist_add(l, vh, 0, 0, 0.5f, 1.0f, "%slayers.%d.linear_attn.dt_bias", M, i);
    tiny_tlist_add(l, vd, 0, 0, 0.1f, 1.0f, "%slayers.%d.linear_attn.norm.weight", M, i);
    tiny_tlist_add(l, H, vh * vd, 0, 4.0f / (float)(vh * vd), 0, "%slayers.%d.linear_attn.out_proj.weight", M, i);
}

/* the MTP block's fc and norm, which the conversion leaves out */
static void add_mtp(tiny_tlist *l, int H, float ws) {
    tiny_tlist_add(l, H, 2 * H, 0, ws, 0, "mtp.fc.weight");
    tiny_tlist_add(l, H, 0, 0, 0.1f, 0, "mtp.norm.weight");
}

/* layer i's gated full attention: q_proj rows per head [query | gate], k, v, o, q_norm / k_norm (w - 1) */
static void add_gated_attention(tiny_tlist *l, const char *M, int i, int H, int nh, int nkv, int hd, float ws) {
    tiny_tlist_add(l, nh * hd * 2, H, 0, ws, 0, "%slayers.%d.self_attn.q_proj.weight", M, i);
    tiny_tlist_add(l, nkv * hd, H, 0, ws, 0, "%slayers.%d.self_attn.k_proj.weight", M, i);
    tiny_tlist_add(l, nkv * hd, H, 0, ws, 0, "%slayers.%d.self_attn.v_proj.weight", M, i);
    tiny_tlist_add(l, H, nh * hd, 0, 4.0f / (float)(nh * hd), 0, "%slayers.%d.self_attn.o_proj.weight", M, i);
    tiny_tlist_add(l, hd, 0, 0, 0.1f, 0, "%slayers.%d.self_attn.q_norm.weight", M, i);
    tiny_tlist_add(l, hd, 0, 0, 0.1f, 0, "%slayers.%d.self_attn.k_norm.weight", M, i);
}

/* layer i's shared expert (width F) and its sigmoid gate */
static void add_shared_expert(tiny_tlist *l, const char *M, int i, int H, int F, float ws) {
    tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mlp.shared_expert.gate_proj.weight", M, i);
    tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mlp.shared_expert.up_proj.weight", M, i);
    tiny_tlist_add(l, H, F, 0, 4.0f / (float)F, 0, "%slayers.%d.mlp.shared_expert.down_proj.weight", M, i);
    tiny_tlist_add(l, 1, H, 0, ws, 0, "%slayers.%d.mlp.shared_expert_gate.weight", M, i);
}

int tiny_hf_write_qwen35(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    if (!strcmp(a, "qwen3next")) return write_qwen3next(dir, s);
    const bool moe = !strcmp(a, "qwen35moe");
    if (!moe && strcmp(a, "qwen35")) return 1;
    const int H = s->n_embd, hd = 32, nh = s->n_head, nkv = s->n_head_kv, F = s->n_ff;
    const int kh = 2, vh = 4, kd = 16, vd = 16, K = 4, E = 8, interval = 4;
    const int conv_dim = 2 * kh * kd + vh * vd;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    cJSON *top = tiny_cfg_new(moe ? "Qwen3_5MoeForConditionalGeneration" : "Qwen3_5ForConditionalGeneration");
    cJSON_AddStringToObject(top, "model_type", moe ? "qwen3_5_moe" : "qwen3_5");
    cJSON_AddNumberToObject(top, "image_token_id", vocab - 2);
    cJSON_AddBoolToObject(top, "tie_word_embeddings", s->tied);
    cJSON *c = cJSON_AddObjectToObject(top, "text_config");
    cJSON_AddStringToObject(c, "model_type", moe ? "qwen3_5_moe_text" : "qwen3_5_text");
    cJSON_AddBoolToObject(c, "attention_bias", 0);
    cJSON_AddNumberToObject(c, "attention_dropout", 0.0);
    cJSON_AddBoolToObject(c, "attn_output_gate", 1);
    cJSON_AddStringToObject(c, "dtype", tiny_hf_torch_dtype(s));
    tiny_cfg_nums(c, "eos_token_id", (double)(vocab - 1), "full_attention_interval", (double)interval,
                     "head_dim", (double)hd, NULL);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddNumberToObject(c, "hidden_size", H);
    cJSON_AddNumberToObject(c, "initializer_range", 0.02);
    if (!moe) cJSON_AddNumberToObject(c, "intermediate_size", 2 * F);
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < s->n_layer; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString((i + 1) % interval ? "linear_attention" : "full_attention"));
    tiny_cfg_nums(c, "linear_conv_kernel_dim", (double)K, "linear_key_head_dim", (double)kd,
                     "linear_num_key_heads", (double)kh, "linear_num_value_heads", (double)vh,
                     "linear_value_head_dim", (double)vd, "max_position_embeddings", 262144.0, NULL);
    if (moe) {
        tiny_cfg_nums(c, "moe_intermediate_size", (double)F, "shared_expert_intermediate_size", (double)F,
                         "num_experts", (double)E, "num_experts_per_tok", 2.0, "router_aux_loss_coef", 0.001, NULL);
    }
    cJSON_AddNumberToObject(c, "mtp_num_hidden_layers", 1);
    cJSON_AddBoolToObject(c, "mtp_use_dedicated_embeddings", 0);
    tiny_cfg_nums(c, "num_attention_heads", (double)nh, "num_hidden_layers", (double)s->n_layer,
                     "num_key_value_heads", (double)nkv, "rms_norm_eps", 1e-6, NULL);
    cJSON_AddBoolToObject(c, "use_cache", 1);
    cJSON_AddNumberToObject(c, "vocab_size", vocab);
    cJSON *rp = cJSON_AddObjectToObject(c, "rope_parameters");
    cJSON_AddBoolToObject(rp, "mrope_interleaved", 1);
    cJSON *ms = cJSON_AddArrayToObject(rp, "mrope_section"); /* [11, 11, 10] of 32 rotated pairs, scaled to 4 */
    cJSON_AddItemToArray(ms, cJSON_CreateNumber(2));
    cJSON_AddItemToArray(ms, cJSON_CreateNumber(1));
    cJSON_AddItemToArray(ms, cJSON_CreateNumber(1));
    cJSON_AddStringToObject(rp, "rope_type", "default");
    cJSON_AddNumberToObject(rp, "rope_theta", 10000000.0);
    cJSON_AddNumberToObject(rp, "partial_rotary_factor", 0.25);
    cJSON *vc = cJSON_AddObjectToObject(top, "vision_config");
    cJSON_AddStringToObject(vc, "model_type", moe ? "qwen3_5_moe" : "qwen3_5");
    cJSON_AddNumberToObject(vc, "hidden_size", 16);
    cJSON_AddNumberToObject(vc, "out_hidden_size", H);
    const char *M = "model.language_model.";
    tiny_tlist *l = tiny_tlist_begin(dir, top, M, "embed_tokens.weight", "norm.weight", vocab, H, 1.0f, 0); /* w - 1 */
    if (!l) return -1;
    const deltanet_proj proj[] = {{"in_proj_qkv", conv_dim}, {"in_proj_z", vh * vd}, {"in_proj_a", vh},
                                  {"in_proj_b", vh}};
    const int n_proj = (int)(sizeof proj / sizeof proj[0]);
    for (int i = 0; i < s->n_layer; i++) {
        add_layer_norms(l, M, i, H);
        if ((i + 1) % interval) add_deltanet(l, M, i, H, proj, n_proj, conv_dim, K, vh, vd, ws);
        else add_gated_attention(l, M, i, H, nh, nkv, hd, ws);
        if (moe) {
            tiny_tlist_add(l, E, H, 0, 1.0f, 0, "%slayers.%d.mlp.gate.weight", M, i);
            tiny_tlist_add(l, E, 2 * F, H, ws, 0, "%slayers.%d.mlp.experts.gate_up_proj", M, i);
            tiny_tlist_add(l, E, H, F, 4.0f / (float)F, 0, "%slayers.%d.mlp.experts.down_proj", M, i);
            add_shared_expert(l, M, i, H, F, ws);
        } else {
            tiny_tlist_add(l, 2 * F, H, 0, ws, 0, "%slayers.%d.mlp.gate_proj.weight", M, i);
            tiny_tlist_add(l, 2 * F, H, 0, ws, 0, "%slayers.%d.mlp.up_proj.weight", M, i);
            tiny_tlist_add(l, H, 2 * F, 0, 2.0f / (float)F, 0, "%slayers.%d.mlp.down_proj.weight", M, i);
        }
    }
    if (!s->tied) tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    /* the vision tower and the MTP block the conversion leaves out */
    tiny_tlist_add(l, 48, 16, 0, 0.25f, 0, "model.visual.blocks.0.attn.qkv.weight");
    tiny_tlist_add(l, H, 16, 0, 0.25f, 0, "model.visual.merger.linear_fc2.weight");
    add_mtp(l, H, ws);
    tiny_tlist_add(l, H, 0, 0, 0.1f, 0, "mtp.layers.0.input_layernorm.weight");
    return tiny_tlist_emit(dir, s, l);
}

/* Qwen/Qwen3-Next-80B-A3B-Instruct's layout: the config at the top (model_type qwen3_next, rope_theta and
 * partial_rotary_factor flat), tensors under model., linear_attn.in_proj_qkvz (rows per key head: q, k, its value
 * heads' v, their z) and in_proj_ba (per key head: its value heads' b, then their a), experts one by one
 * (mlp.experts.E.{gate,up,down}_proj), an MTP block under mtp. */
static int write_qwen3next(const char *dir, const tiny_hf_spec *s) {
    const int H = s->n_embd, hd = 32, nh = s->n_head, nkv = s->n_head_kv, F = s->n_ff;
    const int kh = 2, vh = 4, kd = 16, vd = 16, K = 4, E = 8, interval = 4, rep = vh / kh;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    cJSON *c = tiny_cfg_new("Qwen3NextForCausalLM");
    cJSON_AddBoolToObject(c, "attention_bias", 0);
    tiny_cfg_nums(c, "attention_dropout", 0.0, "bos_token_id", (double)(vocab - 3), "decoder_sparse_step", 1.0,
                     "eos_token_id", (double)(vocab - 1), "full_attention_interval", (double)interval,
                     "head_dim", (double)hd, NULL);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    tiny_cfg_nums(c, "hidden_size", (double)H, "initializer_range", 0.02, "intermediate_size", (double)(4 * F),
                     "linear_conv_kernel_dim", (double)K, "linear_key_head_dim", (double)kd,
                     "linear_num_key_heads", (double)kh, "linear_num_value_heads", (double)vh,
                     "linear_value_head_dim", (double)vd, "max_position_embeddings", 262144.0, NULL);
    cJSON_AddArrayToObject(c, "mlp_only_layers");
    cJSON_AddStringToObject(c, "model_type", "qwen3_next");
    cJSON_AddNumberToObject(c, "moe_intermediate_size", F);
    cJSON_AddBoolToObject(c, "norm_topk_prob", 1);
    tiny_cfg_nums(c, "num_attention_heads", (double)nh, "num_experts", (double)E, "num_experts_per_tok", 2.0,
                     "num_hidden_layers", (double)s->n_layer, "num_key_value_heads", (double)nkv, NULL);
    cJSON_AddBoolToObject(c, "output_router_logits", 0);
    cJSON_AddNumberToObject(c, "partial_rotary_factor", 0.25);
    cJSON_AddNumberToObject(c, "rms_norm_eps", 1e-6);
    cJSON_AddNullToObject(c, "rope_scaling");
    tiny_cfg_nums(c, "rope_theta", 10000000.0, "router_aux_loss_coef", 0.001,
                     "shared_expert_intermediate_size", (double)F, NULL);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    cJSON_AddBoolToObject(c, "use_cache", 1);
    cJSON_AddBoolToObject(c, "use_sliding_window", 0);
    cJSON_AddNumberToObject(c, "vocab_size", vocab);
    const char *M = "model.";
    tiny_tlist *l = tiny_tlist_begin(dir, c, M, "embed_tokens.weight", "norm.weight", vocab, H, 1.0f, 0); /* w - 1 */
    if (!l) return -1;
    const deltanet_proj proj[] = {{"in_proj_qkvz", kh * (2 * kd + 2 * rep * vd)}, {"in_proj_ba", kh * 2 * rep}};
    const int n_proj = (int)(sizeof proj / sizeof proj[0]);
    for (int i = 0; i < s->n_layer; i++) {
        add_layer_norms(l, M, i, H);
        if ((i + 1) % interval) add_deltanet(l, M, i, H, proj, n_proj, 2 * kh * kd + vh * vd, K, vh, vd, ws);
        else add_gated_attention(l, M, i, H, nh, nkv, hd, ws);
        tiny_tlist_add(l, E, H, 0, 1.0f, 0, "%slayers.%d.mlp.gate.weight", M, i);
        for (int e = 0; e < E; e++) {
            tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mlp.experts.%d.gate_proj.weight", M, i, e);
            tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mlp.experts.%d.up_proj.weight", M, i, e);
            tiny_tlist_add(l, H, F, 0, 4.0f / (float)F, 0, "%slayers.%d.mlp.experts.%d.down_proj.weight", M, i, e);
        }
        add_shared_expert(l, M, i, H, F, ws);
    }
    if (!s->tied) tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    add_mtp(l, H, ws);
    return tiny_tlist_emit(dir, s, l);
}
