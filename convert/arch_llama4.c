/* arch_llama4.c - Llama 4's text model:
 * Llama4ForConditionalGeneration (Scout 17B-16E, Maverick 17B-128E; the
 * language model under language_model.model., its config in text_config,
 * the vision tower and projector left out) and Llama4ForCausalLM -> "llama4",
 * as convert_hf_to_gguf.py's Llama4Model writes it:
 *   - no Q/K permutation (Llama 4 ropes adjacent pairs, as llama.cpp does);
 *   - intermediate_size_mlp is the dense layers' width (feed_forward_length),
 *     intermediate_size the experts' and the shared expert's
 *     (expert_feed_forward_length); interleave_moe_layer_step written;
 *   - every step-th layer sparse: feed_forward.router -> ffn_gate_inp, the
 *     experts fused and stored transposed, feed_forward.experts.gate_up_proj
 *     [E, H, 2 I] -> ffn_gate_exps / ffn_up_exps (columns [0, I) / [I, 2 I)),
 *     down_proj [E, I, H] -> ffn_down_exps, the shared expert
 *     feed_forward.shared_expert.* -> ffn_*_shexp; the others dense
 *     (feed_forward.{gate,up,down}_proj);
 *   - "llama3" rope scaling as rope_freqs (the shared generator).
 * llama.cpp's graph hard-codes the rest, which the config must therefore say:
 * a NoPE layer with full attention every 4th layer, the others roped with
 * chunked attention over 8192 tokens, attention temperature tuning on the NoPE
 * layers (floor 8192, scale 0.1), the L2 norm of q/k on roped layers exactly
 * when there are not 128 experts (Maverick has none), sigmoid routing of the
 * top-k router logits applied to the experts' input, SiLU, no biases. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_priv.h"

static const qk_fused_expert_rule k_fused_llama4[] = {
    QK_FUSED_GATE_UP_DOWN("feed_forward.experts.", true),
    {NULL, NULL, 0, 0, false, false},
};
static const char *const k_req_llama4[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                           "attn_output.weight", "ffn_norm.weight", NULL};
/* Llama4Model.__init__: intermediate_size_moe = intermediate_size, intermediate_size = intermediate_size_mlp */
static const qk_cfg_alias k_alias_llama4[] = {
    {"intermediate_size_moe", "intermediate_size"},
    {"intermediate_size", "intermediate_size_mlp"},
    {NULL, NULL},
};
static const qk_kv_rule k_kvs_llama4[] = {
    {"interleave_moe_layer_step", "interleave_moe_layer_step", QK_KVR_U32, true},
    {"intermediate_size_moe", "expert_feed_forward_length", QK_KVR_U32, true},
    {NULL, NULL, 0, false},
};

/* a config number that must be `want` when present (absent: the config class's default, which is `want`) */
static int num_is(const qk_hf_checkpoint *ck, const char *key, double want, const char *why, qk_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ck->config, key);
    if (!v || cJSON_IsNull(v)) return QK_OK;
    if (!cJSON_IsNumber(v) || fabs(v->valuedouble - want) > 1e-9 * fabs(want))
        return qk_fail(err, "%s/config.json: %s is not %g: llama.cpp's llama4 hard-codes %s", ck->dir, key, want, why);
    return QK_OK;
}

static int llama4_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    if (p->n_expert == 0)
        return qk_fail(err, "%s/config.json: num_local_experts is 0: llama.cpp's llama4 needs experts", ck->dir);
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "intermediate_size_mlp")))
        return qk_fail(err, "%s/config.json: intermediate_size_mlp (the dense layers' width) is missing", ck->dir);
    int64_t step = 0;
    if (!qk_hf_cfg_int(c, "interleave_moe_layer_step", &step) || step < 1 || step > (int64_t)p->n_layer)
        return qk_fail(err, "%s/config.json: interleave_moe_layer_step is not a number of layers from 1 to %u", ck->dir,
                       p->n_layer);
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(c, "moe_layers");
    if (ml && !cJSON_IsNull(ml)) { /* Llama4TextConfig's explicit list: it must be llama.cpp's every step-th layer */
        int k = 0;
        bool ok = cJSON_IsArray(ml);
        for (uint32_t l = 0; ok && l < p->n_layer; l++)
            if ((l + 1) % step == 0) {
                const cJSON *e = cJSON_GetArrayItem(ml, k++);
                ok = cJSON_IsNumber(e) && e->valuedouble == (double)l;
            }
        if (!ok || k != cJSON_GetArraySize(ml))
            return qk_fail(err, "%s/config.json: moe_layers is not every %lld-th layer, the only pattern llama.cpp's "
                                "llama4 loads (from interleave_moe_layer_step)", ck->dir, (long long)step);
    }
    if (num_is(ck, "no_rope_layer_interval", 4, "a NoPE layer every 4th layer", err) ||
        num_is(ck, "attention_chunk_size", 8192, "chunked attention over 8192 tokens", err) ||
        num_is(ck, "floor_scale", 8192, "the attention temperature's floor 8192", err) ||
        num_is(ck, "attn_scale", 0.1, "the attention temperature's scale 0.1", err))
        return QK_FAIL;
    const cJSON *nr = cJSON_GetObjectItemCaseSensitive(c, "no_rope_layers");
    if (nr && !cJSON_IsNull(nr) && !(cJSON_IsArray(nr) && cJSON_GetArraySize(nr) == 0)) { /* [] : the default */
        bool ok = cJSON_IsArray(nr) && cJSON_GetArraySize(nr) == (int)p->n_layer;
        for (uint32_t l = 0; ok && l < p->n_layer; l++) {
            const cJSON *e = cJSON_GetArrayItem(nr, (int)l);
            ok = cJSON_IsNumber(e) && e->valuedouble == ((l + 1) % 4 != 0 ? 1 : 0);
        }
        if (!ok)
            return qk_fail(err, "%s/config.json: no_rope_layers is not rope everywhere but every 4th layer (1, 1, 1, 0, "
                                "...), the pattern llama.cpp's llama4 hard-codes", ck->dir);
    }
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    if (lt && !cJSON_IsNull(lt)) {
        bool ok = cJSON_IsArray(lt) && cJSON_GetArraySize(lt) == (int)p->n_layer;
        for (uint32_t l = 0; ok && l < p->n_layer; l++) {
            const cJSON *e = cJSON_GetArrayItem(lt, (int)l);
            ok = cJSON_IsString(e) && !strcmp(e->valuestring, (l + 1) % 4 ? "chunked_attention" : "full_attention");
        }
        if (!ok)
            return qk_fail(err, "%s/config.json: layer_types is not chunked attention with a full-attention layer every "
                                "4th, the pattern llama.cpp's llama4 hard-codes", ck->dir);
    }
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(c, "attn_temperature_tuning");
    if (tt && !cJSON_IsNull(tt) && (cJSON_IsFalse(tt) || (cJSON_IsNumber(tt) && tt->valuedouble == 0)))
        return qk_fail(err, "%s/config.json: attn_temperature_tuning is off, but llama.cpp's llama4 always scales the "
                            "NoPE layers' queries", ck->dir);
    const cJSON *qn = cJSON_GetObjectItemCaseSensitive(c, "use_qk_norm");
    const bool qk_norm = !qn || cJSON_IsNull(qn) || cJSON_IsTrue(qn); /* Llama4TextConfig's default: true */
    if (qk_norm != (p->n_expert != 128))
        return qk_fail(err, "%s/config.json: use_qk_norm is %s with %u experts, but llama.cpp's llama4 L2-normalises q "
                            "and k exactly when there are not 128 experts", ck->dir, qk_norm ? "true" : "false",
                       p->n_expert);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "attention_bias")))
        return qk_fail(err, "%s/config.json: attention_bias is true, but llama.cpp's llama4 has no attention biases",
                       ck->dir);
    const char *act = qk_hf_cfg_str(c, "hidden_act");
    if (act && strcmp(act, "silu"))
        return qk_fail(err, "%s/config.json: hidden_act is '%s', but llama.cpp's llama4 uses silu", ck->dir, act);
    for (uint32_t l = 0; l < p->n_layer; l++) {
        static const char *const sparse[] = {"ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight",
                                             "ffn_down_exps.weight", "ffn_gate_shexp.weight", "ffn_up_shexp.weight",
                                             "ffn_down_shexp.weight"};
        const bool moe = (l + 1) % step == 0;
        const char *miss = qk_plan_layer_missing(p, l, moe ? sparse : qk_req_dense_ffn, moe ? 7 : 3);
        if (miss)
            return qk_fail(err, "%s: layer %u lacks blk.%u.%s (a %s layer by interleave_moe_layer_step %lld)", ck->dir,
                           l, l, miss, moe ? "sparse" : "dense", (long long)step);
        if (qk_plan_layer_tensor(p, l, moe ? "ffn_gate.weight" : "ffn_gate_inp.weight"))
            return qk_fail(err, "%s: layer %u is %s by interleave_moe_layer_step %lld, but has %s tensors", ck->dir, l,
                           moe ? "sparse" : "dense", (long long)step, moe ? "dense MLP" : "router");
    }
    return QK_OK;
}

const qk_arch_desc qk_arch_family_llama4[] = {
    {.hf = "Llama4ForConditionalGeneration", .gguf = "llama4", .family = "Llama 4 (text model: Scout, Maverick)",
     .flags = QK_A_MULTIMODAL, .kv = QK_KV_LLAMA, .names = QK_N_LLAMA4 | QK_N_FFN_PROJ, .required = k_req_llama4,
     .fused_experts = k_fused_llama4, .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok",
     .aliases = k_alias_llama4, .kvs = k_kvs_llama4, .check = llama4_check,
     .moe_step_key = "interleave_moe_layer_step"},
    {.hf = "Llama4ForCausalLM", .gguf = "llama4", .family = "Llama 4 (text only)", .kv = QK_KV_LLAMA,
     .names = QK_N_LLAMA4 | QK_N_FFN_PROJ, .required = k_req_llama4, .fused_experts = k_fused_llama4,
     .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok", .aliases = k_alias_llama4,
     .kvs = k_kvs_llama4, .check = llama4_check, .moe_step_key = "interleave_moe_layer_step"},
    {.hf = NULL},
};
