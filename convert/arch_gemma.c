/* arch_gemma.c - the Gemma family: norm weights stored as w - 1 (+1 here),
 * NeoX rope. GemmaForCausalLM -> "gemma", Gemma2ForCausalLM -> "gemma2"
 * (tied: lm_head dropped; post-attention / pre- and post-feed-forward norms;
 * soft-capping), Gemma3ForCausalLM -> "gemma3" (plus per-head q/k norms;
 * token_embd cut to the tokenizer's vocabulary), and
 * Gemma3ForConditionalGeneration (Gemma 3 4B/12B/27B) -> "gemma3": the text
 * model with Gemma3TextConfig's defaults, its SigLIP vision tower and
 * projector left out. */
#include "arch_priv.h"

static const char *const k_req_gemma2[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                           "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                           "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                           "post_attention_norm.weight", "post_ffw_norm.weight", NULL};
static const char *const k_req_gemma3[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                           "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                           "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                           "attn_q_norm.weight", "attn_k_norm.weight",
                                           "post_attention_norm.weight", "post_ffw_norm.weight", NULL};

/* Gemma3TextConfig's defaults (transformers), which AutoConfig gives the
 * converter for keys the released text_config leaves out */
static const qk_cfg_default k_gemma3_text_defaults[] = {
    {"vocab_size", "262208"}, {"hidden_size", "2304"}, {"intermediate_size", "9216"},
    {"num_hidden_layers", "26"}, {"num_attention_heads", "8"}, {"num_key_value_heads", "4"},
    {"head_dim", "256"}, {"max_position_embeddings", "131072"}, {"rms_norm_eps", "1e-6"},
    {"rope_theta", "1000000.0"}, {"rope_local_base_freq", "10000.0"}, {"query_pre_attn_scalar", "256"},
    {"sliding_window", "4096"}, {"final_logit_softcapping", "null"}, {"attn_logit_softcapping", "null"},
    {"hidden_activation", "\"gelu_pytorch_tanh\""}, {NULL, NULL},
};

const qk_arch_desc qk_arch_family_gemma[] = {
    {.hf = "GemmaForCausalLM", .gguf = "gemma", .family = "Gemma", .flags = QK_A_NORM_PLUS1 | QK_A_DROP_LM_HEAD,
     .kv = QK_KV_LLAMA, .required = qk_req_llama},
    {.hf = "Gemma2ForCausalLM", .gguf = "gemma2", .family = "Gemma 2", .flags = QK_A_NORM_PLUS1 | QK_A_DROP_LM_HEAD,
     .kv = QK_KV_LLAMA, .names = QK_N_POST_NORMS, .required = k_req_gemma2},
    {.hf = "Gemma3ForCausalLM", .gguf = "gemma3", .family = "Gemma 3 (1B, text)",
     .flags = QK_A_NORM_PLUS1 | QK_A_VOCAB_ROWS, .kv = QK_KV_GEMMA3, .names = QK_N_POST_NORMS,
     .required = k_req_gemma3, .head_dim_default = 256},
    {.hf = "Gemma3ForConditionalGeneration", .gguf = "gemma3", .family = "Gemma 3 (4B/12B/27B, text model)",
     .flags = QK_A_NORM_PLUS1 | QK_A_VOCAB_ROWS | QK_A_MULTIMODAL, .kv = QK_KV_GEMMA3, .names = QK_N_POST_NORMS,
     .required = k_req_gemma3, .defaults = k_gemma3_text_defaults, .head_dim_default = 256},
    {.hf = NULL},
};
