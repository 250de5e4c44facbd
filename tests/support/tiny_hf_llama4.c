/* tiny_hf_llama4.c - tiny Llama 4 checkpoints in the published layouts,
 * scaled down: "llama4" (meta-llama/Llama-4-Scout-17B-16E-Instruct:
 * Llama4ForConditionalGeneration, the text model's config in text_config and
 * its tensors under language_model.model., a vision tower and projector;
 * every layer sparse, one expert used, q/k L2 norm, llama3 rope scaling with
 * low_freq_factor == high_freq_factor as Scout has), "llama4maverick"
 * (Llama-4-Maverick-17B-128E: 128 experts, interleave_moe_layer_step 2 (odd
 * layers dense, intermediate_size_mlp wide), no q/k norm, no rope scaling),
 * "llama4text" (Llama4ForCausalLM: the Scout text model alone, model.*).
 * Experts fused and stored transposed as transformers keeps them:
 * feed_forward.experts.gate_up_proj [E, H, 2 I] (x @ W; gate the first I
 * columns), down_proj [E, I, H]; the shared expert and the dense MLP as
 * nn.Linear [out, in]. Experts number the spec's n_expert (0: 8), I = n_ff,
 * the dense width 2 n_ff. Give it 4 layers for a NoPE layer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

int tiny_hf_write_llama4(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    const bool mav = !strcmp(a, "llama4maverick"), text = !strcmp(a, "llama4text");
    if (!mav && !text && strcmp(a, "llama4")) return 1;
    const int E = mav ? 128 : s->n_expert > 0 ? s->n_expert : 8;
    const int H = s->n_embd, hd = H / s->n_head, qd = hd * s->n_head, kd = hd * s->n_head_kv;
    const int F = s->n_ff, FM = 2 * s->n_ff, step = mav ? 2 : 1;
    const float ws = 4.0f / (float)H, wx = 8 * ws;
    const int vocab = tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    cJSON *top = tiny_cfg_new(text ? "Llama4ForCausalLM" : "Llama4ForConditionalGeneration"), *c = top;
    cJSON_AddStringToObject(top, "model_type", text ? "llama4_text" : "llama4");
    cJSON_AddStringToObject(top, "torch_dtype", tiny_hf_torch_dtype(s));
    if (!text) {
        tiny_cfg_nums(top, "boi_token_index", 200080.0, "eoi_token_index", 200081.0, "image_token_index", 200092.0, NULL);
        cJSON_AddBoolToObject(top, "tie_word_embeddings", s->tied);
        cJSON *vc = cJSON_AddObjectToObject(top, "vision_config");
        cJSON_AddStringToObject(vc, "model_type", "llama4_vision_model");
        cJSON_AddStringToObject(vc, "hidden_act", "gelu");
        tiny_cfg_nums(vc, "hidden_size", 16.0, "num_hidden_layers", 1.0, "patch_size", 14.0, "pixel_shuffle_ratio", 0.5,
             "norm_eps", 1e-5, "projector_output_dim", (double)H, NULL);
        c = cJSON_AddObjectToObject(top, "text_config");
    }
    cJSON_AddStringToObject(c, "model_type", "llama4_text");
    tiny_cfg_nums(c, "vocab_size", (double)vocab, "hidden_size", (double)H, "intermediate_size", (double)F,
         "intermediate_size_mlp", (double)FM, "num_hidden_layers", (double)s->n_layer, "num_attention_heads",
         (double)s->n_head, "num_key_value_heads", (double)s->n_head_kv, "head_dim", (double)hd,
         "max_position_embeddings", 256.0, "rms_norm_eps", 1e-5, "rope_theta", 500000.0, "num_local_experts",
         (double)E, "num_experts_per_tok", 1.0, "interleave_moe_layer_step", (double)step, "attention_chunk_size",
         8192.0, "floor_scale", 8192.0, "attn_scale", 0.1, "attn_temperature_tuning", 4.0, "router_aux_loss_coef",
         0.001, "bos_token_id", (double)(vocab - 3), "eos_token_id", (double)(vocab - 1), "pad_token_id",
         (double)(vocab - 2), NULL);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddBoolToObject(c, "use_qk_norm", !mav);
    cJSON_AddBoolToObject(c, "attention_bias", 0);
    cJSON_AddArrayToObject(c, "no_rope_layers"); /* published empty: Llama4TextConfig fills in every 4th */
    cJSON_AddNullToObject(c, "moe_layers");
    if (text) cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    if (mav) cJSON_AddNullToObject(c, "rope_scaling");
    else {
        cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling");
        tiny_cfg_nums(rs, "factor", 16.0, "high_freq_factor", 1.0, "low_freq_factor", 1.0, "original_max_position_embeddings",
             8192.0, NULL);
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
    }
    if (tiny_hf_json(dir, "config.json", top)) return -1;

    tiny_tlist l = {0};
    const char *M = text ? "model." : "language_model.model.";
    if (!text) {
        tiny_tlist_add(&l, 16, 3 * 14 * 14, 0, 0.1f, 0, "vision_model.patch_embedding.linear.weight");
        tiny_tlist_add(&l, 16, 0, 0, 0.1f, 1.0f, "vision_model.layernorm_pre.weight");
        tiny_tlist_add(&l, H, 16, 0, 0.1f, 0, "multi_modal_projector.linear_1.weight");
    }
    for (int i = 0; i < s->n_layer; i++) {
        tiny_tlist_add_attn(&l, M, i, H, qd, kd, ws);
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.post_attention_layernorm.weight", M, i);
        if ((i + 1) % step == 0) {
            tiny_tlist_add(&l, E, H, 0, ws * 4, 0, "%slayers.%d.feed_forward.router.weight", M, i);
            tiny_tlist_add(&l, E, H, 2 * F, wx, 0, "%slayers.%d.feed_forward.experts.gate_up_proj", M, i);
            tiny_tlist_add(&l, E, F, H, ws, 0, "%slayers.%d.feed_forward.experts.down_proj", M, i);
            tiny_tlist_add(&l, F, H, 0, wx, 0, "%slayers.%d.feed_forward.shared_expert.gate_proj.weight", M, i);
            tiny_tlist_add(&l, F, H, 0, wx, 0, "%slayers.%d.feed_forward.shared_expert.up_proj.weight", M, i);
            tiny_tlist_add(&l, H, F, 0, ws, 0, "%slayers.%d.feed_forward.shared_expert.down_proj.weight", M, i);
        } else {
            tiny_tlist_add(&l, FM, H, 0, wx, 0, "%slayers.%d.feed_forward.gate_proj.weight", M, i);
            tiny_tlist_add(&l, FM, H, 0, wx, 0, "%slayers.%d.feed_forward.up_proj.weight", M, i);
            tiny_tlist_add(&l, H, FM, 0, ws, 0, "%slayers.%d.feed_forward.down_proj.weight", M, i);
        }
    }
    tiny_tlist_add(&l, vocab, H, 0, 1.0f, 0, "%sembed_tokens.weight", M);
    tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%snorm.weight", M);
    if (!s->tied) tiny_tlist_add(&l, vocab, H, 0, 0.1f, 0, text ? "lm_head.weight" : "language_model.lm_head.weight");
    int rc = tiny_hf_emit(dir, s, l.t, l.n);
    free(l.t);
    return rc;
}
