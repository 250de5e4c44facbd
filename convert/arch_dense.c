/* arch_dense.c - dense families whose tensors are the Llama layout, with
 * what each changes:
 * SmolLM3ForCausalLM -> "smollm3": Llama (Q/K un-permuted); llama.cpp skips
 *   rope on every 4th layer (n_no_rope_layer_step = 4, hard-coded), so the
 *   config's no_rope_layers must say exactly that.
 * GraniteForCausalLM -> "granite": Llama plus four multipliers
 *   (attention_multiplier -> attention.scale, embedding_multiplier ->
 *   embedding_scale, residual_multiplier -> residual_scale, logits_scaling ->
 *   logit_scale, which llama.cpp requires); head_dim is ignored as the
 *   converter pops it.
 * Olmo2ForCausalLM -> "olmo2": NeoX rope; no pre-norms: the attention and
 *   MLP outputs are normed (post_attention_norm, post_ffw_norm), and q/k
 *   are RMS-normed over their full width (attn_q_norm [n_head * head_dim]).
 * CohereForCausalLM (Command-R, Aya 23) -> "command-r": LayerNorm without
 *   bias (layer_norm_eps -> attention.layer_norm_epsilon), attention and MLP
 *   in parallel on the same normed input (no ffn_norm), rope on adjacent
 *   pairs as llama.cpp's (no permutation), tied embeddings, logits scaled by
 *   logit_scale; the context length is model_max_length when given (the
 *   converter's override of max_position_embeddings 8192).
 * Cohere2ForCausalLM (Command R7B) -> "cohere2": Command-R's layer plus
 *   3:1 sliding-window layers (attention.sliding_window), rope on the
 *   sliding layers only, as llama.cpp hard-codes (checked).
 * ExaoneForCausalLM (EXAONE 3.0 / 3.5) -> "exaone": the Llama computation
 *   under GPT-2-style names (transformer.wte, transformer.h.N.ln_1,
 *   attn.attention.*_proj, mlp.c_fc_0 / c_fc_1 / c_proj, transformer.ln_f),
 *   NeoX rope (no permutation), num_layers and layer_norm_epsilon for the
 *   usual keys (llama.cpp reads the latter as the RMS epsilon); llama3 rope
 *   scaling -> rope_freqs.weight.
 * PhiForCausalLM (Phi-1.5, Phi-2) -> "phi2": LayerNorm with bias
 *   (layer_norm_eps), attention (q/k/v/dense with biases) and MLP (fc1 ->
 *   ffn_up, GELU, fc2 -> ffn_down) in parallel on the same normed input,
 *   NeoX rope on the first partial_rotary_factor of each head, final
 *   LayerNorm and lm_head with biases.
 * Starcoder2ForCausalLM -> "starcoder2": LayerNorms with bias (norm_epsilon
 *   -> attention.layer_norm_epsilon), biases on q/k/v/o, c_fc / c_proj GELU
 *   MLP with biases, NeoX rope, tied embeddings.
 * StableLmForCausalLM (StableLM 2) -> "stablelm": LayerNorms with bias,
 *   q/k/v biases (use_qkv_bias), gated SiLU MLP, rope on the first
 *   partial_rotary_factor of each head; sequential blocks (llama.cpp runs a
 *   layer in parallel exactly when it has no ffn_norm, which the check ties
 *   to use_parallel_residual). */
#include <stdio.h>
#include <string.h>

#include "arch_priv.h"

/* SmolLM3Config: no_rope_layers[i] = 1 (rope) unless (i + 1) % no_rope_layer_interval == 0 */
static int smollm3_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *nr = cJSON_GetObjectItemCaseSensitive(ck->config, "no_rope_layers");
    int64_t interval = 4;
    if (!nr || cJSON_IsNull(nr)) {
        if (cJSON_GetObjectItemCaseSensitive(ck->config, "no_rope_layer_interval") &&
            (!qk_hf_cfg_int(ck->config, "no_rope_layer_interval", &interval) || interval != 4))
            return qk_fail(err, "%s/config.json: no_rope_layer_interval is not 4, which llama.cpp's smollm3 hard-codes",
                           ck->dir);
        return QK_OK;
    }
    if (!cJSON_IsArray(nr) || cJSON_GetArraySize(nr) != (int)p->n_layer)
        return qk_fail(err, "%s/config.json: no_rope_layers must list %u layers", ck->dir, p->n_layer);
    int i = 0;
    for (const cJSON *e = nr->child; e; e = e->next, i++) {
        const int want = (i + 1) % 4 != 0;
        if (!cJSON_IsNumber(e) || e->valueint != want)
            return qk_fail(err, "%s/config.json: no_rope_layers[%d] is not %d: llama.cpp's smollm3 skips rope exactly on "
                                "layers i with (i + 1) %% 4 == 0", ck->dir, i, want);
    }
    return QK_OK;
}

static const qk_kv_rule k_kvs_granite[] = {QK_KV_RULES_GRANITE, {NULL, NULL, 0, false}};


static const qk_kv_rule k_kvs_cohere[] = {
    {"logit_scale", "logit_scale", false, true},
    {"layer_norm_eps", "attention.layer_norm_epsilon", false, true},
    {NULL, NULL, false, false},
};
static const char *const k_req_cohere[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                           "attn_output.weight", "ffn_gate.weight", "ffn_up.weight",
                                           "ffn_down.weight", NULL};
static const qk_cfg_alias k_alias_cohere[] = {{"max_position_embeddings", "model_max_length"}, {NULL, NULL}};

static const qk_cfg_alias k_alias_exaone[] = {
    {"num_hidden_layers", "num_layers"}, {"rms_norm_eps", "layer_norm_epsilon"}, {NULL, NULL}};

/* ExaoneModel asserts the MLP's activation */
static int exaone_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    (void)p;
    const char *act = qk_hf_cfg_str(ck->config, "activation_function");
    if (!act || strcmp(act, "silu"))
        return qk_fail(err, "%s/config.json: activation_function is '%s', expected silu (llama.cpp's exaone)", ck->dir,
                       act ? act : "(absent)");
    return QK_OK;
}

static const char *const k_req_phi2[] = {"attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_k.weight",
                                         "attn_v.weight", "attn_output.weight", "attn_output.bias", "ffn_up.weight",
                                         "ffn_up.bias", "ffn_down.weight", "ffn_down.bias", NULL};
static const qk_kv_rule k_kvs_phi2[] = {
    {"layer_norm_eps", "attention.layer_norm_epsilon", false, true},
    {NULL, NULL, false, false},
};

static const char *const k_req_starcoder2[] = {"attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_k.weight",
                                               "attn_v.weight", "attn_output.weight", "attn_output.bias",
                                               "ffn_norm.weight", "ffn_norm.bias", "ffn_up.weight", "ffn_up.bias",
                                               "ffn_down.weight", "ffn_down.bias", NULL};
static const qk_cfg_alias k_alias_starcoder2[] = {{"layer_norm_eps", "norm_epsilon"}, {NULL, NULL}};
static const char *const k_req_stablelm[] = {"attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_k.weight",
                                             "attn_v.weight", "attn_output.weight", "ffn_gate.weight", "ffn_up.weight",
                                             "ffn_down.weight", NULL};

/* StableLM: llama.cpp runs the block in parallel exactly when the layer has no ffn_norm; a parallel-residual
 * checkpoint has no post_attention_layernorm, a sequential one must */
static int stablelm_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(ck->config, "use_parallel_residual");
    const bool parallel = !par || cJSON_IsTrue(par); /* the converter's default */
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const bool has = qk_plan_layer_tensor(p, l, "ffn_norm.weight") != NULL;
        if (has == parallel)
            return qk_fail(err, "%s: use_parallel_residual is %s but layer %u %s post_attention_layernorm", ck->dir,
                           parallel ? "true" : "false", l, has ? "has" : "lacks");
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck->config, "qk_layernorm")))
        return qk_fail(err, "%s/config.json: StableLM's qk_layernorm (per-head q/k norms) is not supported yet", ck->dir);
    return QK_OK;
}

static const qk_kv_rule k_kvs_cohere2[] = {
    {"logit_scale", "logit_scale", false, true},
    {"layer_norm_eps", "attention.layer_norm_epsilon", false, true},
    {"sliding_window", "attention.sliding_window", true, true},
    {NULL, NULL, false, false},
};

/* llama.cpp's cohere2 hard-codes the layer kinds (every 4th global, rope on the sliding ones only) and
 * rotates whole heads */
static int cohere2_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config, *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    int64_t pattern = 4;
    double pct = 1;
    if (qk_hf_cfg_num(c, "rotary_pct", &pct) && pct != 1)
        return qk_fail(err, "%s/config.json: rotary_pct %g is not 1 (llama.cpp's cohere2 rotates whole heads)", ck->dir, pct);
    if (cJSON_IsArray(lt)) {
        int i = 0;
        if (cJSON_GetArraySize(lt) != (int)p->n_layer)
            return qk_fail(err, "%s/config.json: layer_types lists %d layers, expected %u", ck->dir,
                           cJSON_GetArraySize(lt), p->n_layer);
        for (const cJSON *e = lt->child; e; e = e->next, i++) {
            const char *want = (i + 1) % 4 ? "sliding_attention" : "full_attention";
            if (!cJSON_IsString(e) || strcmp(e->valuestring, want))
                return qk_fail(err, "%s/config.json: layer_types[%d] is not '%s': llama.cpp's cohere2 makes every 4th "
                                    "layer global", ck->dir, i, want);
        }
    } else if (cJSON_GetObjectItemCaseSensitive(c, "sliding_window_pattern") &&
               (!qk_hf_cfg_int(c, "sliding_window_pattern", &pattern) || pattern != 4)) {
        return qk_fail(err, "%s/config.json: sliding_window_pattern is not 4, which llama.cpp's cohere2 assumes", ck->dir);
    }
    return QK_OK;
}

const qk_arch_desc qk_arch_family_dense[] = {
    {.hf = "SmolLM3ForCausalLM", .gguf = "smollm3", .family = "SmolLM3", .flags = QK_A_PERMUTE_QK, .kv = QK_KV_LLAMA,
     .required = qk_req_llama, .check = smollm3_check},
    {.hf = "GraniteForCausalLM", .pre = "refact", .gguf = "granite", .family = "Granite 3.x (dense)", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .required = qk_req_llama, .kvs = k_kvs_granite},
    {.hf = "Olmo2ForCausalLM", .gguf = "olmo2", .family = "OLMo 2", .kv = QK_KV_LLAMA, .names = QK_N_POST_NORMS,
     .required = qk_req_post_norms},
    {.hf = "CohereForCausalLM", .pre = "command-r", .gguf = "command-r", .family = "Command-R / Aya 23", .kv = QK_KV_LLAMA,
     .required = k_req_cohere, .kvs = k_kvs_cohere, .aliases = k_alias_cohere},
    {.hf = "Cohere2ForCausalLM", .pre = "command-r", .gguf = "cohere2", .family = "Command R7B (Cohere 2)", .kv = QK_KV_LLAMA,
     .required = k_req_cohere, .kvs = k_kvs_cohere2, .check = cohere2_check},
    {.hf = "ExaoneForCausalLM", .pre = "exaone", .gguf = "exaone", .family = "EXAONE 3.0 / 3.5", .kv = QK_KV_LLAMA,
     .names = QK_N_EXAONE, .layer_prefix = "transformer.h.",
     .required = qk_req_llama, .aliases = k_alias_exaone, .check = exaone_check},
    {.hf = "PhiForCausalLM", .gguf = "phi2", .family = "Phi-1.5 / Phi-2", .flags = QK_A_PARTIAL_ROPE,
     .kv = QK_KV_LLAMA, .names = QK_N_PHI2,
     .required = k_req_phi2, .kvs = k_kvs_phi2},
    {.hf = "Starcoder2ForCausalLM", .pre = "starcoder", .gguf = "starcoder2", .family = "StarCoder2", .kv = QK_KV_LLAMA,
     .names = QK_N_LLAMA | QK_N_LN_BIASES | QK_N_STARCODER2,
     .required = k_req_starcoder2, .kvs = k_kvs_phi2,
     .aliases = k_alias_starcoder2},
    {.hf = "StableLmForCausalLM", .pre = "stablelm2", .gguf = "stablelm", .family = "StableLM 2 / Zephyr", .flags = QK_A_PARTIAL_ROPE,
     .kv = QK_KV_LLAMA, .names = QK_N_LLAMA | QK_N_LN_BIASES, .required = k_req_stablelm,
     .kvs = k_kvs_phi2, .check = stablelm_check},
    {.hf = NULL},
};
