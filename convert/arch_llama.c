/* arch_llama.c - the Llama family: LlamaForCausalLM (Llama 1-3, SmolLM 1/2,
 * Falcon 3 ...), MistralForCausalLM -> "llama" (Q/K rows
 * un-permuted: HF orders them for rotate-half rope, llama.cpp's "llama"
 * graph rotates adjacent pairs; llama3 rope scaling -> rope_freqs.weight);
 * MixtralForCausalLM -> "llama" with block_sparse_moe.experts.E.w1/w2/w3
 * stacked into ffn_gate/down/up_exps and the router (F32) as ffn_gate_inp;
 * InternLM3ForCausalLM -> "llama" (the Llama layout; dynamic NTK rope
 * scaling, which only acts past max_position_embeddings, is not carried);
 * Mistral3ForConditionalGeneration (Mistral Small 3.1/3.2) -> "mistral3",
 * the Llama text model inside (convert_hf_to_gguf.py's Ministral3Model), its
 * Pixtral vision tower and projector left out; the same class with a
 * text_config of model_type "ministral3" (Ministral 3 3B/8B/14B, Devstral
 * Small 2) and the text-only Ministral3ForCausalLM -> "mistral3" with
 * TextModel's YaRN keys, rope.scaling.yarn_log_multiplier = mscale_all_dim
 * and attention.temperature_scale = llama_4_scaling_beta (Ministral3Model:
 * llama.cpp multiplies the roped queries by 1 + beta ln(1 + floor(pos /
 * original_max_position_embeddings)), as modeling_ministral3.py does). */
#include <string.h>

#include "arch_priv.h"

static const char *const k_req_moe[] = {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                                        "attn_q.weight", "attn_k.weight", "attn_v.weight", NULL};

/* MistralConfig's defaults for keys Mistral3's text_config may leave out */
static const qk_cfg_default k_mistral_text_defaults[] = {
    {"rms_norm_eps", "1e-6"}, {"rope_theta", "10000.0"}, {"max_position_embeddings", "131072"},
    {"num_key_value_heads", "8"}, {NULL, NULL},
};

/* Ministral3Model.set_gguf_parameters after LlamaModel's (whose TextModel YaRN keys QK_A_ROPE_YARN writes) */
static int ministral3_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    double log_mul, beta;
    if (!qk_hf_cfg_num(rv.full, "mscale_all_dim", &log_mul) || !qk_hf_cfg_num(rv.full, "llama_4_scaling_beta", &beta))
        return qk_fail(err, "%s/config.json: a ministral3 text model's rope_parameters need mscale_all_dim and "
                            "llama_4_scaling_beta (the converter reads both)", ck->dir);
    int rc = qk_arch_kv_f32(w, p, "rope.scaling.yarn_log_multiplier", (float)log_mul, err);
    return rc == QK_OK ? qk_arch_kv_f32(w, p, "attention.temperature_scale", (float)beta, err) : rc;
}

/* What llama.cpp's mistral3 reproduces of a ministral3 text model's YaRN. The converter asserts yarn. llama.cpp
 * scales cos / sin by get_mscale(factor, 1) / get_mscale(factor, mscale_all_dim) (get_mscale(s, m) = 0.1 m ln s + 1;
 * by get_mscale(factor) when mscale_all_dim is 0), transformers by get_mscale(factor, mscale) / get_mscale(factor,
 * mscale_all_dim) when both are non-zero, else get_mscale(factor): the same unless mscale_all_dim is non-zero and
 * mscale is not 1. attention_factor and extrapolation_factor are not written by quantkit: refused. */
static int ministral3_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    (void)p;
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    double factor = 0, ms = 0, ma = 0;
    if (!rv.type || strcmp(rv.type, "yarn") || !qk_hf_cfg_num(rv.full, "factor", &factor))
        return qk_fail(err, "%s/config.json: a ministral3 text model needs rope_parameters of rope_type 'yarn' with a "
                            "factor (rope_type is '%s')", ck->dir, rv.type ? rv.type : "absent");
    static const char *const unsupported[] = {"attention_factor", "extrapolation_factor"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(rv.full, unsupported[i]))
            return qk_fail(err, "%s/config.json: yarn rope scaling with %s: not supported for ministral3", ck->dir,
                           unsupported[i]);
    qk_hf_cfg_num(rv.full, "mscale", &ms);
    qk_hf_cfg_num(rv.full, "mscale_all_dim", &ma);
    if (factor > 1 && ma != 0 && ms != 1)
        return qk_fail(err, "%s/config.json: yarn mscale %g with mscale_all_dim %g: llama.cpp's mistral3 takes "
                            "mscale as 1, which transformers does not", ck->dir, ms, ma);
    return QK_OK;
}

#define MINISTRAL3(cls, mt, fam, more_flags)                                                                           \
    {.hf = cls, .text_model_type = mt, .gguf = "mistral3", .family = fam,                                            \
     .flags = QK_A_PERMUTE_QK | QK_A_ROPE_YARN | (more_flags), .kv = QK_KV_LLAMA, .required = qk_req_llama,           \
     .check = ministral3_check, .extra_kvs = ministral3_kvs}

const qk_arch_desc qk_arch_family_llama[] = {
    {.hf = "LlamaForCausalLM", .gguf = "llama", .family = "Llama (also SmolLM 1/2, Falcon 3)",
     .flags = QK_A_PERMUTE_QK, .kv = QK_KV_LLAMA, .required = qk_req_llama},
    {.hf = "MistralForCausalLM", .gguf = "llama", .family = "Mistral", .flags = QK_A_PERMUTE_QK, .kv = QK_KV_LLAMA,
     .required = qk_req_llama},
    {.hf = "MixtralForCausalLM", .gguf = "llama", .family = "Mixtral (MoE)", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .names = QK_N_MIXTRAL, .required = k_req_moe, .experts = qk_experts_w123,
     .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok"},
    /* InternLM3Model: the Llama layout, Q/K un-permuted; its dynamic NTK rope acts only past the 32K context */
    {.hf = "InternLM3ForCausalLM", .gguf = "llama", .family = "InternLM 3", .flags = QK_A_PERMUTE_QK,
     .kv = QK_KV_LLAMA, .required = qk_req_llama, .rope_plain = "dynamic"},
    {.hf = "Mistral3ForConditionalGeneration", .text_model_type = "mistral", .gguf = "mistral3",
     .family = "Mistral Small 3.x (text model)", .flags = QK_A_PERMUTE_QK | QK_A_MULTIMODAL, .kv = QK_KV_LLAMA,
     .required = qk_req_llama, .defaults = k_mistral_text_defaults},
    MINISTRAL3("Mistral3ForConditionalGeneration", "ministral3", "Ministral 3 3B/8B/14B (text model)", QK_A_MULTIMODAL),
    MINISTRAL3("Ministral3ForCausalLM", "ministral3", "Ministral 3 (text-only checkpoint)", 0),
    {.hf = NULL},
};
