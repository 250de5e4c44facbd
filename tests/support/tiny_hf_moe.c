/* tiny_hf_moe.c - tiny checkpoints of the mixture-of-experts families beyond
 * Mixtral and Qwen-MoE, each with the names, shapes and config keys of its
 * public release, scaled down (8 experts, or the spec's n_expert; 2 used; the
 * experts' width is the spec's n_ff): "olmoe" (allenai/OLMoE-1B-7B-0924: full-width q/k norms,
 * per-expert tensors; give it as many kv heads as heads), "granitemoe"
 * (ibm-granite/granite-3.1-3b-a800m: experts fused into 3-D input_linear /
 * output_linear, Granite's multipliers, tied), "granitemoeshared" (the same
 * plus a shared_mlp 2 x n_ff wide), "qwen3vlmoe" (Qwen/Qwen3-VL-30B-A3B: the
 * Qwen3-MoE text model in text_config, experts fused and transposed:
 * gate_up_proj [E, H, 2 I], down_proj [E, I, H]; M-RoPE sections, a vision
 * tower with deepstack mergers), "ernie45moe" (baidu/ERNIE-4.5-21B-A3B-PT:
 * layer 0 dense (n_ff wide), then experts n_ff / 4 wide with a selection
 * bias and two shared experts; n_ff must be 2 x n_head_kv x n_ff / 4, the
 * converter's shared width: give it 2 kv heads; SentencePiece, tied),
 * "qwen3moepacked" (Qwen3-MoE as transformers 5 saves it: experts packed in
 * mlp.experts.gate_up_proj [E, 2 I, H] and down_proj [E, H, I]). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

int tiny_hf_write_moe(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    const bool olmoe = !strcmp(a, "olmoe"), gshared = !strcmp(a, "granitemoeshared");
    const bool granite = !strcmp(a, "granitemoe") || gshared, qvl = !strcmp(a, "qwen3vlmoe");
    const bool ernie = !strcmp(a, "ernie45moe"), packed = !strcmp(a, "qwen3moepacked");
    if (!olmoe && !granite && !qvl && !ernie && !packed) return 1;
    const int E = s->n_expert > 0 ? s->n_expert : 8;
    const int H = s->n_embd, hd = H / s->n_head, qd = hd * s->n_head, kd = hd * s->n_head_kv, F = s->n_ff;
    const int S = 2 * F; /* Granite's shared expert */
    const float ws = 4.0f / (float)H;
    const float wx = 8 * ws; /* expert gate/up: pre-activations of order 1, where SiLU is far from linear and a
                              * gate/up mix-up shows (silu(a) b ~ a silu(b) for small a, b) */
    const int EF = F / 4; /* ERNIE's experts */
    const int vocab = ernie ? tiny_hf_tokenizer_spm(dir, "Ernie4_5_Tokenizer", NULL, 0) : tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    cJSON *top = tiny_cfg_new(packed    ? "Qwen3MoeForCausalLM"
                              : ernie   ? "Ernie4_5_MoeForCausalLM"
                              : olmoe   ? "OlmoeForCausalLM"
                              : gshared ? "GraniteMoeSharedForCausalLM"
                              : granite ? "GraniteMoeForCausalLM"
                                        : "Qwen3VLMoeForConditionalGeneration"),
          *c = top;
    cJSON_AddStringToObject(top, "model_type", packed ? "qwen3_moe" : ernie ? "ernie4_5_moe" : olmoe ? "olmoe" : gshared ? "granitemoeshared" : granite ? "granitemoe"
                                                                                                     : "qwen3_vl_moe");
    cJSON_AddStringToObject(top, "torch_dtype", tiny_hf_torch_dtype(s));
    if (qvl) {
        c = cJSON_AddObjectToObject(top, "text_config");
        cJSON_AddStringToObject(c, "model_type", "qwen3_vl_moe_text");
    }
    tiny_cfg_nums(c, "vocab_size", (double)vocab, "hidden_size", (double)H, "intermediate_size", (double)(qvl ? 4 * F : F),
         "num_hidden_layers", (double)s->n_layer, "num_attention_heads", (double)s->n_head, "num_key_value_heads",
         (double)s->n_head_kv, "max_position_embeddings", 256.0, NULL);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddBoolToObject(top, "tie_word_embeddings", s->tied);
    if (packed) {
        tiny_cfg_nums(c, "head_dim", (double)hd, "rms_norm_eps", 1e-6, "rope_theta", 1000000.0, "num_experts", (double)E,
             "num_experts_per_tok", 2.0, "moe_intermediate_size", (double)F, "decoder_sparse_step", 1.0, NULL);
        cJSON_AddBoolToObject(c, "norm_topk_prob", 1);
        cJSON_AddArrayToObject(c, "mlp_only_layers");
        cJSON_AddBoolToObject(c, "attention_bias", 0);
    } else if (ernie) {
        tiny_cfg_nums(c, "head_dim", (double)hd, "rms_norm_eps", 1e-5, "rope_theta", 500000.0, "moe_num_experts", (double)E,
             "moe_k", 2.0, "moe_layer_start_index", 1.0, "moe_layer_end_index", (double)(s->n_layer - 1),
             "moe_layer_interval", 1.0, "moe_intermediate_size", (double)EF, "moe_num_shared_experts", 2.0,
             "moe_capacity", 0.0, "pad_token_id", 0.0, "num_nextn_predict_layers", 1.0, NULL);
        cJSON_AddBoolToObject(c, "use_bias", 0);
        cJSON_AddStringToObject(c, "moe_gate", "topk");
        cJSON_AddBoolToObject(c, "moe_use_aux_free", 1);
    } else if (olmoe) {
        tiny_cfg_nums(c, "rms_norm_eps", 1e-5, "rope_theta", 10000.0, "num_experts", (double)E, "num_experts_per_tok", 2.0,
             "router_aux_loss_coef", 0.01, NULL);
        cJSON_AddBoolToObject(c, "norm_topk_prob", 0);
        cJSON_AddNullToObject(c, "clip_qkv");
        cJSON_AddNullToObject(c, "rope_scaling");
        cJSON_AddBoolToObject(c, "attention_bias", 0);
    } else if (granite) {
        tiny_cfg_nums(c, "rms_norm_eps", 1e-6, "rope_theta", 10000.0, "num_local_experts", (double)E, "num_experts_per_tok", 2.0,
             "attention_multiplier", 0.015625, "embedding_multiplier", 12.0, "residual_multiplier", 0.22,
             "logits_scaling", 6.0, NULL);
        if (gshared) tiny_cfg_nums(c, "shared_intermediate_size", (double)S, NULL);
        cJSON_AddBoolToObject(c, "attention_bias", 0);
    } else {
        tiny_cfg_nums(c, "head_dim", (double)hd, "rms_norm_eps", 1e-6, "rope_theta", 5000000.0, "num_experts", (double)E,
             "num_experts_per_tok", 2.0, "moe_intermediate_size", (double)F, "decoder_sparse_step", 1.0, NULL);
        cJSON_AddBoolToObject(c, "norm_topk_prob", 1);
        cJSON_AddArrayToObject(c, "mlp_only_layers");
        cJSON_AddBoolToObject(c, "attention_bias", 0);
        tiny_cfg_qwen3vl_rope(c, hd);
        tiny_cfg_qwen3vl_vision(top, "qwen3_vl_moe", 27, 8, 8, H);
    }
    tiny_cfg_nums(c, "bos_token_id", (double)(ernie ? 1 : vocab - 3), "eos_token_id", (double)(ernie ? 2 : vocab - 1), NULL);
    if (tiny_hf_json(dir, "config.json", top)) return -1;

    tiny_tlist l = {0};
    const char *M = qvl ? "model.language_model." : "model.";
    if (qvl) {
        tiny_tlist_add_qwen3vl_vision(&l, H);
    }
    for (int i = 0; i < s->n_layer; i++) {
        tiny_tlist_add_attn(&l, M, i, H, qd, kd, ws);
        if (olmoe || qvl || packed) { /* OLMoE: over the whole projection; Qwen3(-VL)-MoE: per head */
            tiny_tlist_add(&l, olmoe ? qd : hd, 0, 0, 0.1f, 1.0f, "%slayers.%d.self_attn.q_norm.weight", M, i);
            tiny_tlist_add(&l, olmoe ? kd : hd, 0, 0, 0.1f, 1.0f, "%slayers.%d.self_attn.k_norm.weight", M, i);
        }
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.post_attention_layernorm.weight", M, i);
        if (ernie && i == 0) { /* moe_layer_start_index 1: a dense layer first */
            tiny_tlist_add(&l, F, H, 0, wx, 0, "%slayers.%d.mlp.gate_proj.weight", M, i);
            tiny_tlist_add(&l, F, H, 0, wx, 0, "%slayers.%d.mlp.up_proj.weight", M, i);
            tiny_tlist_add(&l, H, F, 0, ws, 0, "%slayers.%d.mlp.down_proj.weight", M, i);
        } else if (ernie) {
            tiny_tlist_add(&l, E, H, 0, ws * 4, 0, "%slayers.%d.mlp.gate.weight", M, i);
            /* Ernie4_5_MoeStatics: [1, E], of the order of the routing probabilities it shifts */
            tiny_tlist_add(&l, 1, E, 0, 0.1f, 0, "%slayers.%d.mlp.moe_statics.e_score_correction_bias", M, i);
            for (int e = 0; e < E; e++) {
                tiny_tlist_add(&l, EF, H, 0, wx, 0, "%slayers.%d.mlp.experts.%d.gate_proj.weight", M, i, e);
                tiny_tlist_add(&l, EF, H, 0, wx, 0, "%slayers.%d.mlp.experts.%d.up_proj.weight", M, i, e);
                tiny_tlist_add(&l, H, EF, 0, ws, 0, "%slayers.%d.mlp.experts.%d.down_proj.weight", M, i, e);
            }
            tiny_tlist_add(&l, 2 * EF, H, 0, wx, 0, "%slayers.%d.mlp.shared_experts.gate_proj.weight", M, i);
            tiny_tlist_add(&l, 2 * EF, H, 0, wx, 0, "%slayers.%d.mlp.shared_experts.up_proj.weight", M, i);
            tiny_tlist_add(&l, H, 2 * EF, 0, ws, 0, "%slayers.%d.mlp.shared_experts.down_proj.weight", M, i);
        } else if (olmoe) {
            tiny_tlist_add(&l, E, H, 0, ws * 4, 0, "%slayers.%d.mlp.gate.weight", M, i);
            for (int e = 0; e < E; e++) {
                tiny_tlist_add(&l, F, H, 0, wx, 0, "%slayers.%d.mlp.experts.%d.gate_proj.weight", M, i, e);
                tiny_tlist_add(&l, F, H, 0, wx, 0, "%slayers.%d.mlp.experts.%d.up_proj.weight", M, i, e);
                tiny_tlist_add(&l, H, F, 0, ws, 0, "%slayers.%d.mlp.experts.%d.down_proj.weight", M, i, e);
            }
        } else if (granite) {
            tiny_tlist_add(&l, E, H, 0, ws * 4, 0, "%slayers.%d.block_sparse_moe.router.layer.weight", M, i);
            tiny_tlist_add(&l, E, 2 * F, H, wx, 0, "%slayers.%d.block_sparse_moe.input_linear.weight", M, i);
            tiny_tlist_add(&l, E, H, F, ws, 0, "%slayers.%d.block_sparse_moe.output_linear.weight", M, i);
            if (gshared) {
                tiny_tlist_add(&l, 2 * S, H, 0, wx, 0, "%slayers.%d.shared_mlp.input_linear.weight", M, i);
                tiny_tlist_add(&l, H, S, 0, ws, 0, "%slayers.%d.shared_mlp.output_linear.weight", M, i);
            }
        } else if (packed) {
            tiny_tlist_add(&l, E, H, 0, ws * 4, 0, "%slayers.%d.mlp.gate.weight", M, i);
            tiny_tlist_add(&l, E, 2 * F, H, wx, 0, "%slayers.%d.mlp.experts.gate_up_proj", M, i);
            tiny_tlist_add(&l, E, H, F, ws, 0, "%slayers.%d.mlp.experts.down_proj", M, i);
        } else {
            tiny_tlist_add(&l, E, H, 0, ws * 4, 0, "%slayers.%d.mlp.gate.weight", M, i);
            tiny_tlist_add(&l, E, H, 2 * F, wx, 0, "%slayers.%d.mlp.experts.gate_up_proj", M, i);
            tiny_tlist_add(&l, E, F, H, ws, 0, "%slayers.%d.mlp.experts.down_proj", M, i);
        }
    }
    if (ernie) { /* ERNIE-4.5-21B-A3B-PT's multi-token-prediction block (num_nextn_predict_layers 1), unused */
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.mtp_emb_norm.0.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.mtp_hidden_norm.0.weight");
        tiny_tlist_add(&l, H, 2 * H, 0, ws, 0, "model.mtp_linear_proj.0.weight");
        tiny_tlist_add(&l, qd, H, 0, ws, 0, "model.mtp_block.0.self_attn.q_proj.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.mtp_block.0.input_layernorm.weight");
    }
    tiny_tlist_add(&l, vocab, H, 0, granite ? 0.1f : 1.0f, 0, "%sembed_tokens.weight", M);
    tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%snorm.weight", M);
    if (!s->tied) tiny_tlist_add(&l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    int rc = tiny_hf_emit(dir, s, l.t, l.n);
    free(l.t);
    return rc;
}
