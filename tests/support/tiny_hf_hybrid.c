/* tiny_hf_hybrid.c - tiny checkpoints of the families whose layers differ
 * from each other: "lfm2" (LiquidAI/LFM2-350M's layout: gated short-conv
 * layers and attention layers listed by layer_types, q/k layernorms,
 * feed_forward.w1/w3/w2, embedding_norm as the final norm, tied); "lfm2moe"
 * (LiquidAI/LFM2-8B-A1B's Lfm2MoeForCausalLM: the same layers, layer 0's MLP
 * dense (2 x n_ff wide), the others sparse: router feed_forward.gate, the
 * selection bias feed_forward.expert_bias, 8 experts of n_ff in
 * feed_forward.experts.E.w1/w3/w2, 2 used) and
 * "gemma4" (google/gemma-4-31B-it's Gemma4ForConditionalGeneration layout:
 * sliding layers and every 6th layer global with a head twice as wide, its
 * own kv head count, K = V, proportional rope; the text model under
 * model.language_model., a vision tower and embedder beside it); "gemma4text"
 * (Gemma4ForCausalLM: the text config at the top, tensors under model.,
 * global layers with their own v_proj and the sliding kv head count);
 * "gemma4e" (google/gemma-4-E2B-it's layout: per-layer embeddings, the last
 * two layers KV-shared with double-wide MLPs, K and V apart; give it 6
 * layers: sliding, sliding, sliding, global, sliding, global). Names,
 * shapes and config keys as the public releases have them, scaled down. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

/* LFM2's layer kinds for n layers: LFM2-350M's pattern (conv, conv, attention, ...) from its start */
static bool lfm2_conv(int i) { return i % 3 != 2; }

static int write_gemma4(const char *dir, const tiny_hf_spec *s);

int tiny_hf_write_hybrid(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    if (!strcmp(a, "gemma4") || !strcmp(a, "gemma4text") || !strcmp(a, "gemma4e")) return write_gemma4(dir, s);
    const bool moe = !strcmp(a, "lfm2moe");
    if (strcmp(a, "lfm2") && !moe) return 1;
    const int E = 8, n_dense = 1;
    const int H = s->n_embd, hd = H / s->n_head, kd = hd * s->n_head_kv, F = s->n_ff, L = 3;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    /* LiquidAI/LFM2-350M's config.json: block_ff_dim = intermediate_size before LFM2's 2/3 adjustment */
    cJSON *c = tiny_cfg_new(moe ? "Lfm2MoeForCausalLM" : "Lfm2ForCausalLM");
    cJSON_AddStringToObject(c, "model_type", moe ? "lfm2_moe" : "lfm2");
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    const double ff_cfg = (double)F * 3 / 2;
    cJSON_AddNumberToObject(c, "vocab_size", vocab);
    cJSON_AddNumberToObject(c, "hidden_size", H);
    cJSON_AddNumberToObject(c, "block_dim", H);
    cJSON_AddNumberToObject(c, "conv_dim", H);
    cJSON_AddNumberToObject(c, "conv_dim_out", H);
    if (moe) /* LFM2-8B-A1B's config.json: intermediate_size as it is, the MoE keys */
        tiny_cfg_nums(c, "intermediate_size", 2.0 * F, "moe_intermediate_size", (double)F, "num_dense_layers",
                      (double)n_dense, "num_experts", (double)E, "num_experts_per_tok", 2.0, "routed_scaling_factor", 1.0,
                      NULL);
    else
        tiny_cfg_nums(c, "intermediate_size", ff_cfg, "block_ff_dim", ff_cfg, "block_ffn_dim_multiplier", 1.0,
                      "block_multiple_of", 256.0, NULL);
    /* two flags each: LFM2-MoE's routing, LFM2's MLP sizing */
    cJSON_AddBoolToObject(c, moe ? "use_expert_bias" : "block_auto_adjust_ff_dim", 1);
    cJSON_AddBoolToObject(c, moe ? "norm_topk_prob" : "block_use_swiglu", 1);
    cJSON_AddNumberToObject(c, "num_hidden_layers", s->n_layer);
    cJSON_AddNumberToObject(c, "num_attention_heads", s->n_head);
    cJSON_AddNumberToObject(c, "num_heads", s->n_head);
    cJSON_AddNumberToObject(c, "num_key_value_heads", s->n_head_kv);
    cJSON_AddNumberToObject(c, "max_position_embeddings", 128000);
    cJSON_AddNumberToObject(c, "norm_eps", 1e-5);
    cJSON_AddNumberToObject(c, "block_norm_eps", 1e-5);
    cJSON_AddNumberToObject(c, "conv_L_cache", L);
    cJSON_AddBoolToObject(c, "conv_bias", 0);
    cJSON_AddNumberToObject(c, "rope_theta", 1000000.0);
    cJSON_AddNumberToObject(c, "theta", 1000000.0);
    cJSON_AddBoolToObject(c, "tie_embedding", s->tied);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    cJSON_AddBoolToObject(c, "use_pos_enc", 1);
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < s->n_layer; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(lfm2_conv(i) ? "conv" : "full_attention"));
    cJSON_AddNumberToObject(c, "bos_token_id", vocab - 3);
    cJSON_AddNumberToObject(c, "eos_token_id", vocab - 1);
    tiny_tlist *l = tiny_tlist_begin(dir, c, "model.", "embed_tokens.weight", "embedding_norm.weight", vocab, H, 1.0f,
                                     1.0f);
    if (!l) return -1;
    for (int i = 0; i < s->n_layer; i++) {
        const char *P = "model.layers.";
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%s%d.operator_norm.weight", P, i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%s%d.ffn_norm.weight", P, i);
        if (lfm2_conv(i)) {
            tiny_tlist_add(l, 3 * H, H, 0, ws, 0, "%s%d.conv.in_proj.weight", P, i); /* [B | C | x] */
            tiny_tlist_add(l, H, 1, L, 0.5f, 0, "%s%d.conv.conv.weight", P, i);      /* depthwise Conv1d */
            tiny_tlist_add(l, H, H, 0, ws, 0, "%s%d.conv.out_proj.weight", P, i);
        } else {
            tiny_tlist_add(l, H, H, 0, ws, 0, "%s%d.self_attn.q_proj.weight", P, i);
            tiny_tlist_add(l, kd, H, 0, ws, 0, "%s%d.self_attn.k_proj.weight", P, i);
            tiny_tlist_add(l, kd, H, 0, ws, 0, "%s%d.self_attn.v_proj.weight", P, i);
            tiny_tlist_add(l, H, H, 0, ws, 0, "%s%d.self_attn.out_proj.weight", P, i);
            tiny_tlist_add(l, hd, 0, 0, 0.1f, 1.0f, "%s%d.self_attn.q_layernorm.weight", P, i);
            tiny_tlist_add(l, hd, 0, 0, 0.1f, 1.0f, "%s%d.self_attn.k_layernorm.weight", P, i);
        }
        if (moe && i >= n_dense) {
            tiny_tlist_add(l, E, H, 0, ws, 0, "%s%d.feed_forward.gate.weight", P, i);
            /* large enough to change which experts are chosen */
            tiny_tlist_add(l, E, 0, 0, 1.0f, 0, "%s%d.feed_forward.expert_bias", P, i);
            for (int e = 0; e < E; e++) {
                tiny_tlist_add(l, F, H, 0, ws, 0, "%s%d.feed_forward.experts.%d.w1.weight", P, i, e);
                tiny_tlist_add(l, F, H, 0, ws, 0, "%s%d.feed_forward.experts.%d.w3.weight", P, i, e);
                tiny_tlist_add(l, H, F, 0, 4 * ws, 0, "%s%d.feed_forward.experts.%d.w2.weight", P, i, e);
            }
        } else {
            const int Fd = moe ? 2 * F : F;
            tiny_tlist_add(l, Fd, H, 0, ws, 0, "%s%d.feed_forward.w1.weight", P, i);
            tiny_tlist_add(l, Fd, H, 0, ws, 0, "%s%d.feed_forward.w3.weight", P, i);
            tiny_tlist_add(l, H, Fd, 0, ws, 0, "%s%d.feed_forward.w2.weight", P, i);
        }
    }
    if (!s->tied) tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    return tiny_tlist_emit(dir, s, l);
}

/* Gemma 4's layer kinds: five sliding layers, then a global one (google/gemma-4-31B-it); the E2B-like layout
 * ("e"): globals at 3 and 5, so that the KV-shared layers 4 and 5 read layers 2 and 3 in both implementations */
static bool gemma4_global(int i, bool e) { return e ? i == 3 || i == 5 : i % 6 == 5; }

static int write_gemma4(const char *dir, const tiny_hf_spec *s) {
    /* the 31B's proportions: the global head twice the sliding one, a quarter of the kv heads */
    const bool text = !strcmp(s->arch, "gemma4text"); /* Gemma4ForCausalLM, K and V apart */
    const bool e = !strcmp(s->arch, "gemma4e");        /* E2B-like: per-layer embeddings, KV sharing */
    const int P = e ? 16 : 0, n_shared = e ? 2 : 0;
    const int H = s->n_embd, hd = H / s->n_head, ghd = 2 * hd, kv = s->n_head_kv, gkv = text || !strcmp(s->arch, "gemma4e") ? kv : kv > 1 ? kv / 2 : 1;
    const int F = s->n_ff;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_gemma4(dir); /* Gemma4Model.set_vocab reads only this kind */
    if (vocab < 0) return -1;
    cJSON *top = tiny_cfg_new(text ? "Gemma4ForCausalLM" : "Gemma4ForConditionalGeneration");
    cJSON_AddStringToObject(top, "model_type", text ? "gemma4_text" : "gemma4");
    cJSON_AddStringToObject(top, "dtype", tiny_hf_torch_dtype(s));
    cJSON_AddBoolToObject(top, "tie_word_embeddings", s->tied);
    cJSON *c = top;
    if (!text) {
        cJSON_AddNumberToObject(top, "image_token_id", TINY_GEMMA4_IMAGE);
        cJSON_AddNullToObject(top, "audio_config");
        c = cJSON_AddObjectToObject(top, "text_config");
        cJSON_AddStringToObject(c, "model_type", "gemma4_text");
    }
    cJSON_AddBoolToObject(c, "attention_bias", 0);
    cJSON_AddBoolToObject(c, "attention_k_eq_v", !text && !e);
    cJSON_AddBoolToObject(c, "enable_moe_block", 0);
    cJSON_AddNumberToObject(c, "final_logit_softcapping", 30.0);
    cJSON_AddNullToObject(c, "attn_logit_softcapping");
    cJSON_AddNumberToObject(c, "global_head_dim", ghd);
    cJSON_AddNumberToObject(c, "head_dim", hd);
    cJSON_AddStringToObject(c, "hidden_activation", "gelu_pytorch_tanh");
    tiny_cfg_nums(c, "hidden_size", (double)H, "hidden_size_per_layer_input", (double)P, "intermediate_size", (double)F,
                     "max_position_embeddings", 262144.0, "num_attention_heads", (double)s->n_head, NULL);
    if (text || e) cJSON_AddNullToObject(c, "num_global_key_value_heads");
    else cJSON_AddNumberToObject(c, "num_global_key_value_heads", gkv);
    tiny_cfg_nums(c, "num_hidden_layers", (double)s->n_layer, "num_key_value_heads", (double)kv,
                     "num_kv_shared_layers", (double)n_shared, "rms_norm_eps", 1e-6, NULL);
    cJSON_AddNumberToObject(c, "sliding_window", 4); /* 1024 in the release: 4 makes the 12-token prompt slide */
    if (!text) cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    cJSON_AddBoolToObject(c, "use_double_wide_mlp", e);
    cJSON_AddNumberToObject(c, "vocab_size", vocab);
    cJSON_AddNumberToObject(c, "vocab_size_per_layer_input", vocab);
    cJSON_AddStringToObject(c, "use_bidirectional_attention", "vision");
    cJSON *rp = cJSON_AddObjectToObject(c, "rope_parameters");
    cJSON *rf = cJSON_AddObjectToObject(rp, "full_attention");
    cJSON_AddNumberToObject(rf, "partial_rotary_factor", 0.25);
    cJSON_AddNumberToObject(rf, "rope_theta", 1000000.0);
    cJSON_AddStringToObject(rf, "rope_type", "proportional");
    cJSON *rs = cJSON_AddObjectToObject(rp, "sliding_attention");
    cJSON_AddNumberToObject(rs, "rope_theta", 10000.0);
    cJSON_AddStringToObject(rs, "rope_type", "default");
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < s->n_layer; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(gemma4_global(i, e) ? "full_attention" : "sliding_attention"));
    cJSON_AddNumberToObject(c, "bos_token_id", TINY_GEMMA4_BOS);
    cJSON_AddNumberToObject(c, "eos_token_id", TINY_GEMMA4_EOS);
    if (!text) {
        cJSON *vc = cJSON_AddObjectToObject(top, "vision_config");
        cJSON_AddStringToObject(vc, "model_type", "gemma4_vision");
        cJSON_AddNumberToObject(vc, "hidden_size", 16);
    }
    const char *M = text ? "model." : "model.language_model.";
    tiny_tlist *l = tiny_tlist_begin(dir, top, M, "embed_tokens.weight", "norm.weight", vocab, H, 1.0f, 1.0f);
    if (!l) return -1;
    if (P) {
        tiny_tlist_add(l, vocab, s->n_layer * P, 0, 1.0f, 0, "%sembed_tokens_per_layer.weight", M);
        tiny_tlist_add(l, s->n_layer * P, H, 0, ws, 0, "%sper_layer_model_projection.weight", M);
        tiny_tlist_add(l, P, 0, 0, 0.1f, 1.0f, "%sper_layer_projection_norm.weight", M);
    }
    for (int i = 0; i < s->n_layer; i++) {
        const bool g = gemma4_global(i, e), shared = i >= s->n_layer - n_shared;
        const int d = g ? ghd : hd, k = g ? gkv : kv, Fl = shared && e ? 2 * F : F;
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.input_layernorm.weight", M, i);
        tiny_tlist_add(l, s->n_head * d, H, 0, ws, 0, "%slayers.%d.self_attn.q_proj.weight", M, i);
        if (!shared) tiny_tlist_add(l, k * d, H, 0, ws, 0, "%slayers.%d.self_attn.k_proj.weight", M, i);
        if (!shared && (!g || text || e)) /* K = V on the 31B layout's global layers */
            tiny_tlist_add(l, k * d, H, 0, ws, 0, "%slayers.%d.self_attn.v_proj.weight", M, i);
        tiny_tlist_add(l, H, s->n_head * d, 0, ws, 0, "%slayers.%d.self_attn.o_proj.weight", M, i);
        tiny_tlist_add(l, d, 0, 0, 0.1f, 1.0f, "%slayers.%d.self_attn.q_norm.weight", M, i);
        if (!shared) tiny_tlist_add(l, d, 0, 0, 0.1f, 1.0f, "%slayers.%d.self_attn.k_norm.weight", M, i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.post_attention_layernorm.weight", M, i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.pre_feedforward_layernorm.weight", M, i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.post_feedforward_layernorm.weight", M, i);
        tiny_tlist_add(l, Fl, H, 0, ws, 0, "%slayers.%d.mlp.gate_proj.weight", M, i);
        tiny_tlist_add(l, Fl, H, 0, ws, 0, "%slayers.%d.mlp.up_proj.weight", M, i);
        tiny_tlist_add(l, H, Fl, 0, ws, 0, "%slayers.%d.mlp.down_proj.weight", M, i);
        if (P) {
            tiny_tlist_add(l, P, H, 0, ws, 0, "%slayers.%d.per_layer_input_gate.weight", M, i);
            tiny_tlist_add(l, H, P, 0, 4.0f / (float)P, 0, "%slayers.%d.per_layer_projection.weight", M, i);
            tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.post_per_layer_input_norm.weight", M, i);
        }
        tiny_tlist_add(l, 1, 0, 0, 0.1f, 0.8f, "%slayers.%d.layer_scalar", M, i);
    }
    if (!s->tied) tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    if (!text) {
        tiny_tlist_add(l, 16, 0, 0, 0.1f, 1.0f, "model.vision_tower.encoder.layers.0.input_layernorm.weight");
        tiny_tlist_add(l, 48, 16, 0, 0.25f, 0, "model.vision_tower.encoder.layers.0.self_attn.q_proj.linear.weight");
        tiny_tlist_add(l, H, 16, 0, 0.25f, 0, "model.embed_vision.embedding_projection.weight");
    }
    return tiny_tlist_emit(dir, s, l);
}
