/* arch_more.c - dense families added after the first registry:
 * Ernie4_5ForCausalLM (ERNIE 4.5 0.3B) -> "ernie4_5": the Llama layout and
 *   computation, with rope on adjacent pairs in Hugging Face's model too
 *   (cos/sin repeat_interleave'd), which is llama.cpp's "normal" rope: no
 *   Q/K permutation, as the converter writes them.
 * Glm4ForCausalLM (GLM-4-0414) -> "glm4": q/k/v biases, rope on adjacent
 *   pairs of the first partial_rotary_factor (Glm4Config's 0.5 when absent)
 *   of each head (rope.dimension_count = int(head_dim * factor)), sandwich
 *   norms: post_self_attn_layernorm -> post_attention_norm,
 *   post_attention_layernorm -> ffn_norm, post_mlp_layernorm ->
 *   post_ffw_norm; mlp.gate_up_proj kept fused as ffn_up ([gate | up] rows,
 *   which llama.cpp's SwiGLU splits), split projections refused.
 * InternLM2ForCausalLM (InternLM 2 / 2.5) -> "internlm2": InternLM's names
 *   (tok_embeddings, attention_norm, attention.wo, feed_forward.w1/w3/w2,
 *   ffn_norm, output); attention.wqkv ([kv head][its q heads, k, v][dim]
 *   rows) split into attn_q / attn_k / attn_v with q and k un-permuted, as
 *   the converter does; dynamic NTK rope (past the trained context only) not
 *   carried.
 * GPT2LMHeadModel -> "gpt2": LayerNorms with bias, learned positions
 *   (wpe -> position_embd), Conv1D weights stored [in, out] written
 *   transposed, c_attn kept fused as attn_qkv ([q | k | v]), GELU MLP, tied
 *   head; the causal-mask buffers (attn.bias, attn.masked_bias) dropped;
 *   "transformer." is optional (openai-community/gpt2 has bare names);
 *   feed_forward_length 4 x n_embd unless n_inner says otherwise.
 * GPTNeoXForCausalLM (Pythia, GPT-NeoX-20B) -> "gptneox": query_key_value
 *   rows ([head][q, k, v][dim]) reordered to [q | k | v] and kept fused,
 *   NeoX rope on the first rotary_pct of each head, parallel residual (its
 *   bool KV, default true), LayerNorms with bias, untied embed_out.
 * Qwen3VLForConditionalGeneration (Qwen3-VL 2B-32B) -> "qwen3vl": the
 *   Qwen3 text model (per-head q/k norms) in text_config, under
 *   model.language_model.; rope_scaling.mrope_section -> rope.dimension_sections
 *   (interleaved M-RoPE; with text only every section sees the same
 *   position); n_deepstack_layers from the vision config; the vision tower
 *   and its deepstack mergers (model.visual.) left out.
 * Exaone4ForCausalLM (EXAONE 4.0 1.2B and 32B) -> "exaone4": no pre-norms,
 *   the attention and MLP outputs normed (post_attention_norm,
 *   post_ffw_norm), per-head q/k norms, NeoX rope with llama3 scaling ->
 *   rope_freqs.weight; the 32B's 3:1 sliding-window layers (global ones
 *   without rope) as arch_exaone4.c writes and checks them.
 * Olmo3ForCausalLM (OLMo 3) -> "olmo2": OLMo 2's layer, plus sliding-window
 *   attention on the layers layer_types marks (attention.sliding_window and
 *   attention.sliding_window_pattern, a bool per layer, as Olmo2Model
 *   writes them); rope scaling, which llama.cpp applies to the global
 *   layers only, is refused for now.
 * SeedOssForCausalLM (Seed-OSS) -> "seed_oss": q/k/v biases, NeoX rope,
 *   post_attention_layernorm (the MLP's input norm) -> post_attention_norm,
 *   as the converter's tensor map names it.
 * ApertusForCausalLM (Apertus) -> "apertus": attention_layernorm ->
 *   attn_norm, feedforward_layernorm -> ffn_norm, per-head q/k norms, NeoX
 *   rope (no permutation: the converter's undo_permute is off) with llama3
 *   scaling -> rope_freqs.weight, an ungated MLP (up, down) with the xIELU
 *   activation whose per-layer scalars (mlp.act_fn.alpha_n / alpha_p / beta /
 *   eps) become the xielu.* f32 arrays, as the converter's .item() reads them. */
#include <string.h>

#include "arch_priv.h"

static const char *const k_req_glm4[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                         "attn_output.weight", "post_attention_norm.weight", "ffn_norm.weight",
                                         "ffn_up.weight", "ffn_down.weight", "post_ffw_norm.weight", NULL};
static const qk_cfg_default k_glm4_defaults[] = {{"partial_rotary_factor", "0.5"}, {NULL, NULL}};

/* InternLM 2's fused wqkv, split in three (its other names: QK_N_INTERNLM2, QK_N_META_FFN) */
static const qk_name_rule k_rules_internlm2[] = {
    {"attention.wqkv.weight", "attn_q.weight", QK_PERM_Q | QK_X_QKV_GROUPED},
    {"attention.wqkv.bias", "attn_q.bias", QK_PERM_Q | QK_X_QKV_GROUPED},
    {NULL, NULL, 0},
};
/* GPT-2's Conv1D weights, stored [in, out], and its causal-mask buffers (its other names: QK_N_GPT2) */
static const qk_name_rule k_rules_gpt2[] = {
    {"attn.c_attn.weight", "attn_qkv.weight", QK_X_TRANSPOSE},
    {"attn.c_proj.weight", "attn_output.weight", QK_X_TRANSPOSE},
    {"mlp.c_fc.weight", "ffn_up.weight", QK_X_TRANSPOSE},
    {"mlp.c_proj.weight", "ffn_down.weight", QK_X_TRANSPOSE},
    {"attn.bias", "", 0},
    {"attn.masked_bias", "", 0},
    {NULL, NULL, 0},
};
/* GPT-NeoX's per-head fused query_key_value, and its buffers (its other names: QK_N_NEOX) */
static const qk_name_rule k_rules_neox[] = {
    {"attention.query_key_value.weight", "attn_qkv.weight", QK_X_QKV_PER_HEAD},
    {"attention.query_key_value.bias", "attn_qkv.bias", QK_X_QKV_PER_HEAD},
    {"attention.bias", "", 0},
    {"attention.masked_bias", "", 0},
    {NULL, NULL, 0},
};
static const char *const k_req_ln_qkv[] = {"attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "attn_qkv.bias",
                                           "attn_output.weight", "attn_output.bias", "ffn_norm.weight",
                                           "ffn_norm.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight",
                                           "ffn_down.bias", NULL};
static const qk_cfg_alias k_alias_gpt2[] = {
    {"hidden_size", "n_embd"}, {"num_hidden_layers", "n_layer"}, {"num_attention_heads", "n_head"},
    {"max_position_embeddings", "n_ctx"}, {"intermediate_size", "n_inner"}, {"layer_norm_eps", "layer_norm_epsilon"},
    {NULL, NULL},
};
static const qk_cfg_alias k_alias_neox[] = {
    {"partial_rotary_factor", "rotary_pct"}, {"rope_theta", "rotary_emb_base"}, {NULL, NULL},
};
static const qk_kv_rule k_kvs_gpt2[] = {
    {"layer_norm_eps", "attention.layer_norm_epsilon", QK_KVR_F32, true},
    {NULL, NULL, 0, false},
};
static const qk_kv_rule k_kvs_neox[] = {
    {"use_parallel_residual", "use_parallel_residual", QK_KVR_BOOL_TRUE, false},
    {"layer_norm_eps", "attention.layer_norm_epsilon", QK_KVR_F32, true},
    {NULL, NULL, 0, false},
};

static const char *const k_req_qwen3vl[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                            "attn_output.weight", "attn_q_norm.weight", "attn_k_norm.weight",
                                            "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                            NULL};
static const qk_kv_rule k_kvs_qwen3vl[] = {
    {"vision_config.deepstack_visual_indexes", "n_deepstack_layers", QK_KVR_COUNT, false},
    {NULL, NULL, 0, false},
};

static const qk_kv_rule k_kvs_olmo3[] = {
    {"sliding_window", "attention.sliding_window", QK_KVR_U32, true},
    {"layer_types", "attention.sliding_window_pattern", QK_KVR_SWA_PATTERN, false},
    {NULL, NULL, 0, false},
};
/* llama.cpp's olmo2 reads the window pattern as a period (4 unless a u32 says otherwise): the bool list the
 * converter writes is not what it follows, so layer_types must be that period's pattern. Rope scaling,
 * which both apply to the global layers only, is not covered by the tests yet. */
static int olmo3_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ck->config, "rope_scaling");
    if (rs && !cJSON_IsNull(rs))
        return qk_fail(err, "%s/config.json: OLMo 3 rope_scaling is not supported yet (plain rope is)", ck->dir);
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(ck->config, "layer_types");
    if (!cJSON_IsArray(lt)) return QK_OK; /* the converter's default is that pattern */
    if (cJSON_GetArraySize(lt) != (int)p->n_layer)
        return qk_fail(err, "%s/config.json: layer_types lists %d layers, expected %u", ck->dir, cJSON_GetArraySize(lt),
                       p->n_layer);
    int i = 0;
    for (const cJSON *e = lt->child; e; e = e->next, i++) {
        const char *want = (i + 1) % 4 ? "sliding_attention" : "full_attention";
        if (!cJSON_IsString(e) || strcmp(e->valuestring, want))
            return qk_fail(err, "%s/config.json: layer_types[%d] is not '%s': llama.cpp's olmo2 makes every 4th layer "
                                "global", ck->dir, i, want);
    }
    return QK_OK;
}
static const char *const k_req_seed_oss[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                             "attn_output.weight", "post_attention_norm.weight", "ffn_gate.weight",
                                             "ffn_up.weight", "ffn_down.weight", NULL};

static const qk_name_rule k_rules_apertus[] = {
    {"mlp.act_fn.alpha_n", "", 0}, /* -> xielu.* KVs */
    {"mlp.act_fn.alpha_p", "", 0},
    {"mlp.act_fn.beta", "", 0},
    {"mlp.act_fn.eps", "", 0},
    {NULL, NULL, 0},
};
static const char *const k_req_apertus[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                            "attn_output.weight", "attn_q_norm.weight", "attn_k_norm.weight",
                                            "ffn_norm.weight", "ffn_up.weight", "ffn_down.weight", NULL};
static const qk_kv_rule k_kvs_apertus[] = {
    {"mlp.act_fn.alpha_n", "xielu.alpha_n", QK_KVR_LAYER_F32, false},
    {"mlp.act_fn.alpha_p", "xielu.alpha_p", QK_KVR_LAYER_F32, false},
    {"mlp.act_fn.beta", "xielu.beta", QK_KVR_LAYER_F32, false},
    {"mlp.act_fn.eps", "xielu.eps", QK_KVR_LAYER_F32, false},
    {NULL, NULL, 0, false},
};

const qk_arch_desc qk_arch_family_more[] = {
    {.hf = "Ernie4_5ForCausalLM", .gguf = "ernie4_5", .family = "ERNIE 4.5 (dense)", .kv = QK_KV_LLAMA,
     .required = qk_req_llama},
    {.hf = "Glm4ForCausalLM", .pre = "glm4", .gguf = "glm4", .family = "GLM-4 (0414)", .flags = QK_A_PARTIAL_ROPE_HD,
     .kv = QK_KV_LLAMA, .names = QK_N_GLM4, .rules = qk_rules_fused_gate_up, .required = k_req_glm4, .defaults = k_glm4_defaults},
    {.hf = "InternLM2ForCausalLM", .gguf = "internlm2", .family = "InternLM 2 / 2.5", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .names = QK_N_INTERNLM2 | QK_N_META_FFN,
     .rules = k_rules_internlm2, .required = qk_req_llama,
     .rope_plain = "dynamic"},
    {.hf = "GPT2LMHeadModel", .gguf = "gpt2", .family = "GPT-2", .kv = QK_KV_LLAMA, .names = QK_N_GPT2, .rules = k_rules_gpt2,
     .layer_prefix = "h.", .strip_prefix = "transformer.", .required = k_req_ln_qkv,
     .aliases = k_alias_gpt2, .ff_per_hidden = 4, .kvs = k_kvs_gpt2},
    {.hf = "GPTNeoXForCausalLM", .gguf = "gptneox", .family = "GPT-NeoX / Pythia", .flags = QK_A_PARTIAL_ROPE_HD,
     .kv = QK_KV_LLAMA, .names = QK_N_NEOX, .rules = k_rules_neox, .layer_prefix = "gpt_neox.layers.",
     .required = k_req_ln_qkv, .aliases = k_alias_neox, .kvs = k_kvs_neox},
    {.hf = "Qwen3VLForConditionalGeneration", .gguf = "qwen3vl", .family = "Qwen3-VL (text model)",
     .flags = QK_A_MULTIMODAL, .kv = QK_KV_LLAMA, .required = k_req_qwen3vl, .mrope_key = "mrope_section",
     .kvs = k_kvs_qwen3vl},
    {.hf = "Exaone4ForCausalLM", .gguf = "exaone4", .family = "EXAONE 4.0", .kv = QK_KV_LLAMA,
     .names = QK_N_POST_NORMS, .required = qk_req_post_norms, .check = qk_arch_exaone4_check,
     .extra_kvs = qk_arch_exaone4_kvs},
    {.hf = "Olmo3ForCausalLM", .gguf = "olmo2", .family = "OLMo 3", .kv = QK_KV_LLAMA, .names = QK_N_POST_NORMS,
     .required = qk_req_post_norms, .kvs = k_kvs_olmo3, .check = olmo3_check},
    {.hf = "SeedOssForCausalLM", .gguf = "seed_oss", .family = "Seed-OSS", .kv = QK_KV_LLAMA,
     .names = QK_N_POST_NORMS, .required = k_req_seed_oss},
    {.hf = "ApertusForCausalLM", .gguf = "apertus", .family = "Apertus", .kv = QK_KV_LLAMA, .names = QK_N_APERTUS, .rules = k_rules_apertus,
     .required = k_req_apertus, .kvs = k_kvs_apertus},
    {.hf = NULL},
};
