/* arch_qwen.c - the Qwen family (NeoX rope: no Q/K permutation):
 * Qwen2ForCausalLM -> "qwen2" (q/k/v biases), Qwen3ForCausalLM -> "qwen3"
 * (per-head q/k RMS norms), Qwen2VLForConditionalGeneration and
 * Qwen2_5_VLForConditionalGeneration -> "qwen2vl": the Qwen2 text model,
 * rope_scaling.mrope_section written as rope.dimension_sections (padded to
 * 4), the vision tower ("visual.") left out. With text only, all M-RoPE
 * sections see the same position, as in Hugging Face's model. */
#include "arch_priv.h"

static const char *const k_req_qwen3[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                          "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                          "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                          "attn_q_norm.weight", "attn_k_norm.weight", NULL};

const qk_arch_desc qk_arch_family_qwen[] = {
    {.hf = "Qwen2ForCausalLM", .gguf = "qwen2", .family = "Qwen2 / Qwen2.5", .kv = QK_KV_LLAMA,
     .required = qk_req_llama},
    {.hf = "Qwen3ForCausalLM", .gguf = "qwen3", .family = "Qwen3", .kv = QK_KV_LLAMA, .required = k_req_qwen3},
    {.hf = "Qwen2VLForConditionalGeneration", .gguf = "qwen2vl", .family = "Qwen2-VL (text model)",
     .flags = QK_A_MULTIMODAL, .kv = QK_KV_LLAMA, .required = qk_req_llama, .mrope_key = "mrope_section"},
    {.hf = "Qwen2_5_VLForConditionalGeneration", .gguf = "qwen2vl", .family = "Qwen2.5-VL (text model)",
     .flags = QK_A_MULTIMODAL, .kv = QK_KV_LLAMA, .required = qk_req_llama, .mrope_key = "mrope_section"},
    {.hf = NULL},
};
