/* tensor_map.c - one map from each GGUF tensor to the Hugging Face names
 * that become it, across the registry's families (arch_priv.h), as
 * llama.cpp's gguf-py tensor_mapping.py keeps one: a family's description
 * says which naming conventions (QK_N_*) its checkpoints use and keeps for
 * itself only what is really its own (qk_arch_desc.rules / globals:
 * re-laid-out tensors, names it refuses or skips).
 *
 * A row is one fact {GGUF name, HF name, a convention spelling it so}
 * (a name several conventions share has a row for each). QK_N_ANY rows (transformers' Llama names) every family reads, after its own rules
 * and its conventions' rows, so that a convention can give one of those
 * names another meaning (Gemma 2's post_attention_layernorm). A name is
 * looked for in table order; rows are grouped by GGUF tensor. */
#include <string.h>

#include "arch_priv.h"

/* mlp.{gate,up}_proj refused by a family that keeps them fused (mlp.gate_up_proj: GLM-4, Phi-3) */
const qk_name_rule qk_rules_fused_gate_up[] = {
    {"mlp.gate_proj.weight", NULL, 0},
    {"mlp.up_proj.weight", NULL, 0},
    {NULL, NULL, 0},
};

/* what llama.cpp's graph needs in every layer: the Llama layout, and a dense layer's MLP */
const char *const qk_req_llama[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                    "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                    "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", NULL};
/* OLMo 2's layout (OLMo 3, EXAONE 4): norms after attention and MLP, not before; q / k norms */
const char *const qk_req_post_norms[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                         "attn_q_norm.weight", "attn_k_norm.weight", "post_attention_norm.weight",
                                         "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                         "post_ffw_norm.weight", NULL};
const char *const qk_req_dense_ffn[] = {"ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", NULL};

/* layer tensors: "<layer prefix>N.<hf>" -> "blk.N.<gguf>"; attn_q / attn_k un-permuted (QK_A_PERMUTE_QK) */
const qk_tensor_name qk_layer_names[] = {
    {"attn_norm.weight", "input_layernorm.weight", QK_N_ANY},
    {"attn_norm.weight", "attention_norm.weight", QK_N_META},
    {"attn_norm.weight", "attention_norm.weight", QK_N_INTERNLM2},
    {"attn_norm.weight", "ln_1.weight", QK_N_EXAONE},
    {"attn_norm.weight", "ln_1.weight", QK_N_GPT2},
    {"attn_norm.weight", "operator_norm.weight", QK_N_LFM2},
    {"attn_norm.weight", "norm.weight", QK_N_MAMBA},
    {"attn_norm.weight", "norm.weight", QK_N_NEMOTRONH},
    {"attn_norm.weight", "attention_layernorm.weight", QK_N_APERTUS},
    {"attn_norm.bias", "input_layernorm.bias", QK_N_LN_BIASES},
    {"attn_norm.bias", "input_layernorm.bias", QK_N_PHI2},
    {"attn_norm.bias", "input_layernorm.bias", QK_N_NEOX},
    {"attn_norm.bias", "ln_1.bias", QK_N_GPT2},

    {"attn_q.weight", "self_attn.q_proj.weight", QK_N_ANY},
    {"attn_q.weight", "attention.wq.weight", QK_N_META},
    {"attn_q.weight", "attn.attention.q_proj.weight", QK_N_EXAONE},
    {"attn_q.weight", "mixer.q_proj.weight", QK_N_NEMOTRONH},
    {"attn_q.bias", "self_attn.q_proj.bias", QK_N_ANY},
    {"attn_k.weight", "self_attn.k_proj.weight", QK_N_ANY},
    {"attn_k.weight", "attention.wk.weight", QK_N_META},
    {"attn_k.weight", "attn.attention.k_proj.weight", QK_N_EXAONE},
    {"attn_k.weight", "mixer.k_proj.weight", QK_N_NEMOTRONH},
    {"attn_k.bias", "self_attn.k_proj.bias", QK_N_ANY},
    {"attn_v.weight", "self_attn.v_proj.weight", QK_N_ANY},
    {"attn_v.weight", "attention.wv.weight", QK_N_META},
    {"attn_v.weight", "attn.attention.v_proj.weight", QK_N_EXAONE},
    {"attn_v.weight", "mixer.v_proj.weight", QK_N_NEMOTRONH},
    {"attn_v.bias", "self_attn.v_proj.bias", QK_N_ANY},
    {"attn_qkv.weight", "self_attn.qkv_proj.weight", QK_N_PHI3},
    {"attn_qkv.bias", "attn.c_attn.bias", QK_N_GPT2},
    {"attn_output.weight", "self_attn.o_proj.weight", QK_N_ANY},
    {"attn_output.weight", "attention.wo.weight", QK_N_META},
    {"attn_output.weight", "attention.wo.weight", QK_N_INTERNLM2},
    {"attn_output.weight", "attn.attention.out_proj.weight", QK_N_EXAONE},
    {"attn_output.weight", "self_attn.out_proj.weight", QK_N_LFM2},
    {"attn_output.weight", "mixer.o_proj.weight", QK_N_NEMOTRONH},
    {"attn_output.weight", "self_attn.dense.weight", QK_N_PHI2},
    {"attn_output.weight", "attention.dense.weight", QK_N_NEOX},
    {"attn_output.bias", "self_attn.o_proj.bias", QK_N_ANY},
    {"attn_output.bias", "attention.wo.bias", QK_N_INTERNLM2},
    {"attn_output.bias", "self_attn.dense.bias", QK_N_PHI2},
    {"attn_output.bias", "attention.dense.bias", QK_N_NEOX},
    {"attn_output.bias", "attn.c_proj.bias", QK_N_GPT2},
    {"attn_q_norm.weight", "self_attn.q_norm.weight", QK_N_ANY},
    {"attn_q_norm.weight", "self_attn.q_layernorm.weight", QK_N_LFM2},
    {"attn_q_norm.weight", "self_attn.query_layernorm.weight", QK_N_HUNYUAN},
    {"attn_k_norm.weight", "self_attn.k_norm.weight", QK_N_ANY},
    {"attn_k_norm.weight", "self_attn.k_layernorm.weight", QK_N_LFM2},
    {"attn_k_norm.weight", "self_attn.key_layernorm.weight", QK_N_HUNYUAN},
    {"attn_sinks.weight", "self_attn.sinks", QK_N_GPTOSS},
    /* DeepSeek's multi-head latent attention (q_proj without q_lora_rank: the Llama name) */
    {"attn_q_a.weight", "self_attn.q_a_proj.weight", QK_N_DEEPSEEK},
    {"attn_q_a_norm.weight", "self_attn.q_a_layernorm.weight", QK_N_DEEPSEEK},
    {"attn_q_b.weight", "self_attn.q_b_proj.weight", QK_N_DEEPSEEK},
    {"attn_kv_a_mqa.weight", "self_attn.kv_a_proj_with_mqa.weight", QK_N_DEEPSEEK},
    {"attn_kv_a_norm.weight", "self_attn.kv_a_layernorm.weight", QK_N_DEEPSEEK},

    {"post_attention_norm.weight", "post_attention_layernorm.weight", QK_N_POST_NORMS},
    {"post_attention_norm.weight", "post_self_attn_layernorm.weight", QK_N_GLM4},
    {"ffn_norm.weight", "post_attention_layernorm.weight", QK_N_ANY},
    {"ffn_norm.weight", "pre_feedforward_layernorm.weight", QK_N_ANY},
    {"ffn_norm.weight", "ffn_norm.weight", QK_N_META_FFN},
    {"ffn_norm.weight", "ln_2.weight", QK_N_EXAONE},
    {"ffn_norm.weight", "ln_2.weight", QK_N_GPT2},
    {"ffn_norm.weight", "pre_ff_layernorm.weight", QK_N_JAMBA},
    {"ffn_norm.weight", "feedforward_layernorm.weight", QK_N_APERTUS},
    {"ffn_norm", "pre_ff_layernorm.weight", QK_N_FALCONH1}, /* without ".weight", as the converter names it */
    {"ffn_norm.bias", "post_attention_layernorm.bias", QK_N_LN_BIASES},
    {"ffn_norm.bias", "post_attention_layernorm.bias", QK_N_NEOX},
    {"ffn_norm.bias", "ln_2.bias", QK_N_GPT2},
    {"post_ffw_norm.weight", "post_feedforward_layernorm.weight", QK_N_ANY},
    {"post_ffw_norm.weight", "post_mlp_layernorm.weight", QK_N_GLM4},

    {"ffn_gate.weight", "mlp.gate_proj.weight", QK_N_ANY},
    {"ffn_gate.weight", "feed_forward.w1.weight", QK_N_META_FFN},
    {"ffn_gate.weight", "feed_forward.gate_proj.weight", QK_N_FFN_PROJ},
    {"ffn_gate.weight", "mlp.c_fc_0.weight", QK_N_EXAONE},
    {"ffn_up.weight", "mlp.up_proj.weight", QK_N_ANY},
    {"ffn_up.weight", "feed_forward.w3.weight", QK_N_META_FFN},
    {"ffn_up.weight", "feed_forward.up_proj.weight", QK_N_FFN_PROJ},
    {"ffn_up.weight", "mlp.c_fc_1.weight", QK_N_EXAONE},
    {"ffn_up.weight", "mlp.gate_up_proj.weight", QK_N_GLM4}, /* [gate | up], kept fused */
    {"ffn_up.weight", "mlp.gate_up_proj.weight", QK_N_PHI3},
    {"ffn_up.weight", "mlp.fc1.weight", QK_N_PHI2},
    {"ffn_up.weight", "mlp.c_fc.weight", QK_N_STARCODER2},
    {"ffn_up.weight", "mlp.dense_h_to_4h.weight", QK_N_NEOX},
    {"ffn_up.weight", "mixer.up_proj.weight", QK_N_NEMOTRONH},
    {"ffn_up.bias", "mlp.fc1.bias", QK_N_PHI2},
    {"ffn_up.bias", "mlp.c_fc.bias", QK_N_STARCODER2},
    {"ffn_up.bias", "mlp.c_fc.bias", QK_N_GPT2},
    {"ffn_up.bias", "mlp.dense_h_to_4h.bias", QK_N_NEOX},
    {"ffn_down.weight", "mlp.down_proj.weight", QK_N_ANY},
    {"ffn_down.weight", "feed_forward.w2.weight", QK_N_META_FFN},
    {"ffn_down.weight", "feed_forward.down_proj.weight", QK_N_FFN_PROJ},
    {"ffn_down.weight", "mlp.c_proj.weight", QK_N_EXAONE},
    {"ffn_down.weight", "mlp.c_proj.weight", QK_N_STARCODER2},
    {"ffn_down.weight", "mlp.fc2.weight", QK_N_PHI2},
    {"ffn_down.weight", "mlp.dense_4h_to_h.weight", QK_N_NEOX},
    {"ffn_down.weight", "mixer.down_proj.weight", QK_N_NEMOTRONH},
    {"ffn_down.bias", "mlp.fc2.bias", QK_N_PHI2},
    {"ffn_down.bias", "mlp.c_proj.bias", QK_N_STARCODER2},
    {"ffn_down.bias", "mlp.c_proj.bias", QK_N_GPT2},
    {"ffn_down.bias", "mlp.dense_4h_to_h.bias", QK_N_NEOX},

    /* mixtures of experts: the router, its selection bias, the shared experts (the experts: qk_expert_rule) */
    {"ffn_gate_inp.weight", "mlp.gate.weight", QK_N_ROUTER},
    {"ffn_gate_inp.weight", "block_sparse_moe.gate.weight", QK_N_MIXTRAL},
    {"ffn_gate_inp.weight", "block_sparse_moe.router.layer.weight", QK_N_GRANITEMOE},
    {"ffn_gate_inp.weight", "mlp.gate.wg.weight", QK_N_HUNYUAN},
    {"ffn_gate_inp.weight", "feed_forward.router.weight", QK_N_JAMBA},
    {"ffn_gate_inp.weight", "feed_forward.router.weight", QK_N_LLAMA4},
    {"ffn_gate_inp.weight", "feed_forward.gate.weight", QK_N_LFM2MOE},
    {"ffn_gate_inp.weight", "mlp.router.weight", QK_N_GPTOSS},
    {"ffn_gate_inp.weight", "mixer.gate.weight", QK_N_NEMOTRONH},
    {"ffn_gate_inp.bias", "mlp.router.bias", QK_N_GPTOSS},
    {"exp_probs_b.bias", "mlp.gate.e_score_correction_bias", QK_N_SCORE_BIAS},
    {"exp_probs_b.bias", "mlp.moe_statics.e_score_correction_bias", QK_N_ERNIE},
    {"exp_probs_b.bias", "feed_forward.expert_bias", QK_N_LFM2MOE},
    {"exp_probs_b.bias", "mixer.gate.e_score_correction_bias", QK_N_NEMOTRONH},
    {"ffn_down_exps.bias", "mlp.experts.down_proj_bias", QK_N_GPTOSS},
    {"ffn_gate_inp_shexp.weight", "mlp.shared_expert_gate.weight", QK_N_QWEN_MOE},
    {"ffn_gate_shexp.weight", "mlp.shared_experts.gate_proj.weight", QK_N_SHARED_EXPERTS},
    {"ffn_gate_shexp.weight", "mlp.shared_expert.gate_proj.weight", QK_N_QWEN_MOE},
    {"ffn_gate_shexp.weight", "mlp.shared_mlp.gate_proj.weight", QK_N_HUNYUAN},
    {"ffn_gate_shexp.weight", "feed_forward.shared_expert.gate_proj.weight", QK_N_LLAMA4},
    {"ffn_up_shexp.weight", "mlp.shared_experts.up_proj.weight", QK_N_SHARED_EXPERTS},
    {"ffn_up_shexp.weight", "mlp.shared_expert.up_proj.weight", QK_N_QWEN_MOE},
    {"ffn_up_shexp.weight", "mlp.shared_mlp.up_proj.weight", QK_N_HUNYUAN},
    {"ffn_up_shexp.weight", "feed_forward.shared_expert.up_proj.weight", QK_N_LLAMA4},
    {"ffn_up_shexp.weight", "mixer.shared_experts.up_proj.weight", QK_N_NEMOTRONH},
    {"ffn_down_shexp.weight", "mlp.shared_experts.down_proj.weight", QK_N_SHARED_EXPERTS},
    {"ffn_down_shexp.weight", "mlp.shared_expert.down_proj.weight", QK_N_QWEN_MOE},
    {"ffn_down_shexp.weight", "mlp.shared_mlp.down_proj.weight", QK_N_HUNYUAN},
    {"ffn_down_shexp.weight", "feed_forward.shared_expert.down_proj.weight", QK_N_LLAMA4},
    {"ffn_down_shexp.weight", "shared_mlp.output_linear.weight", QK_N_GRANITEMOE},
    {"ffn_down_shexp.weight", "mixer.shared_experts.down_proj.weight", QK_N_NEMOTRONH},

    /* LFM2's short convolution (its conv.conv.weight is squeezed: the family's own rule) */
    {"shortconv.in_proj.weight", "conv.in_proj.weight", QK_N_LFM2},
    {"shortconv.out_proj.weight", "conv.out_proj.weight", QK_N_LFM2},
    /* Gemma 4's layer scale and per-layer embeddings (E2B / E4B) */
    {"layer_output_scale.weight", "layer_scalar", QK_N_GEMMA4},
    {"inp_gate.weight", "per_layer_input_gate.weight", QK_N_GEMMA4},
    {"proj.weight", "per_layer_projection.weight", QK_N_GEMMA4},
    {"post_norm.weight", "post_per_layer_input_norm.weight", QK_N_GEMMA4},
    /* GLM-4.5's multi-token-prediction ("nextn") layers */
    {"nextn.eh_proj.weight", "eh_proj.weight", QK_N_GLM4MOE},
    {"nextn.enorm.weight", "enorm.weight", QK_N_GLM4MOE},
    {"nextn.hnorm.weight", "hnorm.weight", QK_N_GLM4MOE},
    {"nextn.shared_head_head.weight", "shared_head.head.weight", QK_N_GLM4MOE},
    {"nextn.shared_head_norm.weight", "shared_head.norm.weight", QK_N_GLM4MOE},
    {"nextn.embed_tokens.weight", "embed_tokens.weight", QK_N_GLM4MOE},
    {NULL, NULL, 0},
};

/* whole names outside the layers (after qk_arch_desc.strip_prefix) */
const qk_tensor_name qk_global_names[] = {
    {"token_embd.weight", "model.embed_tokens.weight", QK_N_LLAMA},
    {"token_embd.weight", "model.embed_tokens.weight", QK_N_PHI2},
    {"token_embd.weight", "model.embed_tokens.weight", QK_N_FALCONH1},
    {"token_embd.weight", "model.embed_tokens.weight", QK_N_JAMBA},
    {"token_embd.weight", "model.embed_tokens.weight", QK_N_LFM2},
    {"token_embd.weight", "transformer.wte.weight", QK_N_EXAONE},
    {"token_embd.weight", "wte.weight", QK_N_GPT2},
    {"token_embd.weight", "gpt_neox.embed_in.weight", QK_N_NEOX},
    {"token_embd.weight", "tok_embeddings.weight", QK_N_META},
    {"token_embd.weight", "model.tok_embeddings.weight", QK_N_INTERNLM2},
    {"token_embd.weight", "backbone.embeddings.weight", QK_N_MAMBA},
    {"token_embd.weight", "backbone.embeddings.weight", QK_N_NEMOTRONH},
    {"token_embd.weight", "backbone.embedding.weight", QK_N_MAMBA}, /* mamba_ssm's checkpoints */
    {"position_embd.weight", "wpe.weight", QK_N_GPT2},
    {"token_embd_norm.weight", "model.embedding_norm.weight", QK_N_LFM2}, /* LFM2's final norm */
    {"output_norm.weight", "model.norm.weight", QK_N_LLAMA},
    {"output_norm.weight", "model.norm.weight", QK_N_INTERNLM2},
    {"output_norm.weight", "model.final_layernorm.weight", QK_N_PHI2},
    {"output_norm.weight", "model.final_layernorm.weight", QK_N_FALCONH1},
    {"output_norm.weight", "model.final_layernorm.weight", QK_N_JAMBA},
    {"output_norm.weight", "transformer.ln_f.weight", QK_N_EXAONE},
    {"output_norm.weight", "ln_f.weight", QK_N_GPT2},
    {"output_norm.weight", "gpt_neox.final_layer_norm.weight", QK_N_NEOX},
    {"output_norm.weight", "norm.weight", QK_N_META},
    {"output_norm.weight", "backbone.norm_f.weight", QK_N_MAMBA},
    {"output_norm.weight", "backbone.norm_f.weight", QK_N_NEMOTRONH},
    {"output_norm.bias", "model.norm.bias", QK_N_LN_BIASES},
    {"output_norm.bias", "model.final_layernorm.bias", QK_N_PHI2},
    {"output_norm.bias", "ln_f.bias", QK_N_GPT2},
    {"output_norm.bias", "gpt_neox.final_layer_norm.bias", QK_N_NEOX},
    {"output.weight", "lm_head.weight", QK_N_LLAMA},
    {"output.weight", "lm_head.weight", QK_N_PHI2},
    {"output.weight", "lm_head.weight", QK_N_FALCONH1},
    {"output.weight", "lm_head.weight", QK_N_JAMBA},
    {"output.weight", "lm_head.weight", QK_N_LFM2},
    {"output.weight", "lm_head.weight", QK_N_EXAONE},
    {"output.weight", "lm_head.weight", QK_N_GPT2},
    {"output.weight", "lm_head.weight", QK_N_MAMBA},
    {"output.weight", "lm_head.weight", QK_N_NEMOTRONH},
    {"output.weight", "output.weight", QK_N_META},
    {"output.weight", "output.weight", QK_N_INTERNLM2},
    {"output.weight", "embed_out.weight", QK_N_NEOX},
    {"output.bias", "lm_head.bias", QK_N_PHI2},
    {"output.bias", "lm_head.bias", QK_N_PHIMOE},
    /* Gemma 4's per-layer embeddings */
    {"per_layer_token_embd.weight", "model.embed_tokens_per_layer.weight", QK_N_GEMMA4},
    {"per_layer_model_proj.weight", "model.per_layer_model_projection.weight", QK_N_GEMMA4},
    {"per_layer_proj_norm.weight", "model.per_layer_projection_norm.weight", QK_N_GEMMA4},
    {NULL, NULL, 0},
};

const qk_tensor_name *qk_tensor_map_find(const qk_tensor_name *map, uint64_t names, bool by_gguf, const char *name) {
    for (const qk_tensor_name *t = map; t->gguf; t++)
        if ((t->names & names) && !strcmp(by_gguf ? t->gguf : t->hf, name)) return t;
    return NULL;
}

/* the first rule of the family's own table whose hf (by_gguf: gguf) name is name; NULL: none */
static const qk_name_rule *own_rule(const qk_name_rule *r, bool by_gguf, const char *name) {
    for (; r && r->hf; r++) {
        const char *key = by_gguf ? r->gguf : r->hf;
        if (key && !strcmp(key, name)) return r;
    }
    return NULL;
}

bool qk_arch_layer_name(const qk_arch_desc *ad, const char *rest, qk_name_rule *out) {
    const qk_name_rule *own = own_rule(ad->rules, false, rest);
    if (own) {
        *out = *own;
        return true;
    }
    const qk_tensor_name *t = qk_tensor_map_find(qk_layer_names, ad->names & ~QK_N_ANY, false, rest);
    if (!t) t = qk_tensor_map_find(qk_layer_names, QK_N_ANY, false, rest);
    if (!t) return false;
    const bool q = !strncmp(t->gguf, "attn_q.", 7), k = !strncmp(t->gguf, "attn_k.", 7);
    *out = (qk_name_rule){t->hf, t->gguf, q ? QK_PERM_Q : k ? QK_PERM_K : QK_PERM_NONE};
    return true;
}

bool qk_arch_global_name(const qk_arch_desc *ad, bool by_gguf, const char *name, qk_name_rule *out) {
    const qk_name_rule *own = own_rule(ad->globals, by_gguf, name);
    if (own) {
        *out = *own;
        return true;
    }
    /* a family naming none of its global tensors its own way reads Llama's */
    uint64_t names = ad->names;
    const qk_tensor_name *t = qk_global_names;
    while (t->gguf && !(t->names & names & ~QK_N_LLAMA)) t++;
    if (!t->gguf) names |= QK_N_LLAMA;
    if (!(t = qk_tensor_map_find(qk_global_names, names, by_gguf, name))) return false;
    *out = (qk_name_rule){t->hf, t->gguf, QK_PERM_NONE};
    return true;
}
