/* arch_moe.c - mixture-of-experts families whose experts arrive as
 * per-expert 2-D tensors, stacked by the registry's expert rules into 3-D
 * ffn_{gate,up,down}_exps (row by row from the shards, never whole in
 * memory):
 * Qwen3MoeForCausalLM -> "qwen3moe": Qwen3's attention (per-head q/k norms,
 *   NeoX rope), every layer sparse: mlp.gate (router, F32) -> ffn_gate_inp,
 *   mlp.experts.E.{gate,up,down}_proj -> ffn_{gate,up,down}_exps,
 *   moe_intermediate_size -> expert_feed_forward_length. llama.cpp's graph
 *   hard-codes softmax routing with the top-k weights renormalised, so
 *   norm_topk_prob must be true and no layer may be dense (mlp_only_layers,
 *   decoder_sparse_step).
 * Qwen2MoeForCausalLM -> "qwen2moe": Qwen2's attention (q/k/v biases) and
 *   the same experts plus a shared expert (mlp.shared_expert.* ->
 *   ffn_*_shexp) behind a sigmoid gate (mlp.shared_expert_gate ->
 *   ffn_gate_inp_shexp); llama.cpp does not renormalise the top-k weights
 *   here, so norm_topk_prob must be false.
 * Both also take transformers 5's packed experts (mlp.experts.gate_up_proj
 *   [E, 2 I, H] split into gate / up, mlp.experts.down_proj [E, H, I]), as
 *   Qwen2MoeModel.modify_tensors does, through the fused expert rules. */
#include "arch_priv.h"

static const char *const k_req_qwen3moe[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                             "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                             "attn_q_norm.weight", "attn_k_norm.weight", "ffn_gate_inp.weight", NULL};
static const char *const k_req_qwen2moe[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                             "attn_q.weight", "attn_k.weight", "attn_v.weight", "ffn_gate_inp.weight",
                                             "ffn_gate_inp_shexp.weight", "ffn_gate_shexp.weight",
                                             "ffn_up_shexp.weight", "ffn_down_shexp.weight", NULL};

static const qk_kv_rule k_kvs_qwen3moe[] = {
    {"moe_intermediate_size", "expert_feed_forward_length", true, true},
    {NULL, NULL, false, false},
};
static const qk_kv_rule k_kvs_qwen2moe[] = {
    {"moe_intermediate_size", "expert_feed_forward_length", true, true},
    {"shared_expert_intermediate_size", "expert_shared_feed_forward_length", true, true},
    {NULL, NULL, false, false},
};

/* every layer sparse; the config classes' default of norm_topk_prob is false */
static int qwen3moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    return qk_arch_qwen_moe_check(ck, p, true, false, err);
}
static int qwen2moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    return qk_arch_qwen_moe_check(ck, p, false, false, err);
}

const qk_arch_desc qk_arch_family_moe[] = {
    {.hf = "Qwen3MoeForCausalLM", .gguf = "qwen3moe", .family = "Qwen3-MoE (30B-A3B, 235B-A22B)", .kv = QK_KV_LLAMA,
     .names = QK_N_ROUTER | QK_N_QWEN_MOE, .required = k_req_qwen3moe, .experts = qk_experts_mlp,
     .fused_experts = qk_fused_experts_packed, .n_expert_key = "num_experts",
     .n_used_key = "num_experts_per_tok", .kvs = k_kvs_qwen3moe, .check = qwen3moe_check},
    {.hf = "Qwen2MoeForCausalLM", .gguf = "qwen2moe", .family = "Qwen1.5-MoE / Qwen2-MoE", .kv = QK_KV_LLAMA,
     .names = QK_N_ROUTER | QK_N_QWEN_MOE, .required = k_req_qwen2moe, .experts = qk_experts_mlp,
     .fused_experts = qk_fused_experts_packed, .n_expert_key = "num_experts",
     .n_used_key = "num_experts_per_tok", .kvs = k_kvs_qwen2moe, .check = qwen2moe_check},
    {.hf = NULL},
};
