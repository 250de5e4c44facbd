/* arch_granitehybrid.c - IBM Granite 4.0 (GraniteMoeHybridForCausalLM, model_type granitemoehybrid) as
 * GraniteHybridModel (conversion/granite.py) writes it: the hybrids (granite-4.0-h-tiny / -h-small with experts,
 * -h-micro / -h-1b / -h-350m without) -> "granitehybrid", Mamba-2 layers and attention layers as config.json's
 * layer_types lists them ("mamba" / "attention"), each followed by Granite MoE's experts plus a shared MLP, or by
 * the shared MLP alone when num_local_experts is 0; the same class without a Mamba layer (granite-4.0-micro / -1b /
 * -350m) -> "granite" (gh_arch_of, as GraniteHybridModel.__init__ switches model_arch), with rope.
 *
 * Tensors:
 *   every layer: input_layernorm -> attn_norm, post_attention_layernorm -> ffn_norm;
 *   Mamba-2 layers (Mamba2Model.modify_tensors): mamba.in_proj ([z | xBC | dt] rows) -> ssm_in, mamba.conv1d
 *   ([channels, 1, K], squeezed, F32) -> ssm_conv1d, its bias -> ssm_conv1d.bias, mamba.dt_bias -> ssm_dt.bias,
 *   mamba.A_log -> ssm_a = -exp(A_log) as [n_heads, 1] (ggml {1, n_heads}), mamba.D -> ssm_d likewise,
 *   mamba.norm (d_inner) -> ssm_norm reshaped [n_groups, d_inner / n_groups], mamba.out_proj -> ssm_out;
 *   attention layers: self_attn.q/k/v/o_proj, q and k un-permuted (LlamaModel's undo_permute: llama.cpp's rope
 *   pairs for the all-attention model; for the hybrids, which run no rope, it leaves q.k unchanged);
 *   with experts, Granite MoE's layout (QK_N_GRANITEMOE / qk_fused_experts_granitemoe: the router, input_linear
 *   split into ffn_gate_exps / ffn_up_exps, output_linear, the shared MLP as ffn_*_shexp); without,
 *   shared_mlp.input_linear [2 S, H] split into ffn_gate / ffn_up and output_linear -> ffn_down
 *   (GraniteMoeModel.modify_tensors' has_experts switch).
 * KVs, in the converter's order: TextModel's (block_count, context_length, embedding_length, feed_forward_length =
 *   intermediate_size, head_count, head_count_kv, rope.freq_base, the RMS epsilon, expert counts even when 0, the
 *   file type), LlamaModel's vocab_size and rope.dimension_count, GraniteModel's attention.scale, embedding_scale,
 *   residual_scale, logit_scale, GraniteMoeModel's expert_shared_feed_forward_length, then ssm.conv_kernel,
 *   ssm.state_size, ssm.group_count, ssm.inner_size, ssm.time_step_rank (written for "granite" too) and
 *   rope.scaling.finetuned (true iff there is no Mamba layer: Granite's rope switch); the converter overwrites
 *   head_count_kv in place with a per-layer array (0 on Mamba layers, which is how llama.cpp tells them), a hybrid's
 *   context_length with 2^20 and rope.dimension_count with attn_rotary_emb when given, so all keep their places.
 * Refused, because llama.cpp computes otherwise: for the hybrids mamba_expand other than 2 (its loader asserts
 *   d_inner = 2 n_embd), mamba_n_groups other than 1 (HF's gated RMSNorm spans the whole d_inner, llama.cpp's each
 *   group), position_embedding_type "rope" (no rope in llama.cpp's Granite 4.0-H path) and a vocab_size not a
 *   multiple of 8 (the converter pads it); without Mamba layers anything but "rope", and experts (the converter's
 *   "granitemoe"); a hidden_act other than silu, a rope_scaling type (TextModel would write its KVs), layer_types
 *   missing or holding another kind, and a dense model whose shared_intermediate_size differs from
 *   intermediate_size (llama.cpp sizes ffn_gate by the latter). */
#include <string.h>

#include "arch_priv.h"

static const char *const k_req_gh[] = {"attn_norm.weight", "ffn_norm.weight", NULL};
static const char *const k_req_mamba[] = {"ssm_in.weight",   "ssm_conv1d.weight", "ssm_conv1d.bias", "ssm_dt.bias",
                                          "ssm_a",           "ssm_d",             "ssm_norm.weight", "ssm_out.weight",
                                          NULL};
static const char *const k_req_attn[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                         NULL};
static const char *const k_req_moe[] = {"ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight",
                                        "ffn_down_exps.weight", NULL};
static const char *const k_req_shexp[] = {"ffn_gate_shexp.weight", "ffn_up_shexp.weight", "ffn_down_shexp.weight",
                                          NULL};

/* a model with Mamba layers: "granitehybrid"; without, the converter writes "granite" (gh_arch_of) */
static bool is_hybrid(const qk_conv_plan *p) { return !strcmp(p->arch, "granitehybrid"); }

/* The SSM sizes the converter writes (required by its find_hparam even without Mamba layers); for a hybrid (p) what
 * llama.cpp's graph needs of them too */
static int dims_of(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_mamba2_dims *d, qk_err *err) {
    if (qk_mamba2_dims_of(ck, false, d, err)) return QK_FAIL;
    if (!d->d_head)
        return qk_fail(err, "%s/config.json: 'mamba_d_head' should be a positive integer (at most 2^20)", ck->dir);
    if (is_hybrid(p) && d->expand != 2)
        return qk_fail(err, "%s/config.json: mamba_expand is %lld, but llama.cpp's granitehybrid needs an inner size of "
                            "2 x hidden_size", ck->dir, (long long)d->expand);
    if (is_hybrid(p) && d->n_group != 1)
        return qk_fail(err, "%s/config.json: mamba_n_groups is %lld: Hugging Face's gated RMSNorm spans the whole inner "
                            "size while llama.cpp normalizes each group, so only 1 group converts faithfully", ck->dir,
                       (long long)d->n_group);
    if (d->n_head * d->d_head != d->d_inner)
        return qk_fail(err, "%s/config.json: mamba_n_heads %lld x mamba_d_head %lld is not the inner size %lld", ck->dir,
                       (long long)d->n_head, (long long)d->d_head, (long long)d->d_inner);
    return QK_OK;
}

/* layer_types[il] is "mamba" (true) or "attention" (false); QK_FAIL for anything else */
static int layer_is_mamba(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t il, bool *mamba, qk_err *err) {
    return qk_arch_layer_kind(ck, p, il, "mamba", "attention", mamba, err);
}

static int gh_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                           qk_conv_plan *p, qk_err *err) {
    const bool mamba = !strncmp(rest, "mamba.", 6), shared = !p->n_expert && !strncmp(rest, "shared_mlp.", 11);
    if (!mamba && !shared) return 0;
    const qk_st_tensor *s = src->t;
#define SHAPE(n, a, b, c)                                                                                             \
    if (qk_shape_check(ck, s, n, a, b, c, err)) return QK_FAIL;
    if (shared) { /* no experts: the shared MLP is the layer's MLP, [gate | up] split in two */
        if (qk_float_check(ck, s, err)) return QK_FAIL;
        int64_t S = 0, H = 0;
        qk_hf_cfg_int(ck->config, "hidden_size", &H);
        if (!qk_hf_cfg_int(ck->config, "shared_intermediate_size", &S) || S <= 0)
            return qk_fail(err, "%s/config.json: 'shared_intermediate_size' should be a positive integer", ck->dir);
        if (!strcmp(rest, "shared_mlp.input_linear.weight")) {
            SHAPE(2, 2 * S, H, 0);
            for (int part = 0; part < 2; part++) {
                qk_conv_tensor *t = qk_plan_layer_src(p, layer, part ? "ffn_up.weight" : "ffn_gate.weight", src, H, S);
                t->fused_rows = 2 * S, t->fused_row0 = part * S;
            }
            return 1;
        }
        if (!strcmp(rest, "shared_mlp.output_linear.weight")) {
            SHAPE(2, H, S, 0);
            qk_plan_layer_src(p, layer, "ffn_down.weight", src, S, H);
            return 1;
        }
        return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, s->name,
                       p->hf_arch);
    }
    qk_mamba2_dims d;
    if (dims_of(ck, p, &d, err)) return QK_FAIL;
#undef SHAPE
    return qk_mamba2_tensor(ck, src, layer, rest + 6, &d, p, err);
}

static int gh_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    qk_mamba2_dims d;
    if (dims_of(ck, p, &d, err)) return QK_FAIL;
    const char *act = qk_hf_cfg_str(c, "hidden_act");
    if (act && strcmp(act, "silu"))
        return qk_fail(err, "%s/config.json: hidden_act '%s': llama.cpp's granitehybrid uses SiLU", ck->dir, act);
    const char *pe = qk_hf_cfg_str(c, "position_embedding_type");
    const bool hybrid = is_hybrid(p), rope = pe && !strcmp(pe, "rope");
    if (hybrid && rope)
        return qk_fail(err, "%s/config.json: position_embedding_type 'rope': the converter writes Granite 4.0-H without "
                            "rope (rope.scaling.finetuned false), so only 'nope' converts faithfully", ck->dir);
    if (!hybrid && !rope)
        return qk_fail(err, "%s/config.json: position_embedding_type '%s' without Mamba layers: the converter writes "
                            "llama.cpp's granite with rope (rope.scaling.finetuned true), as only 'rope' runs", ck->dir,
                       pe ? pe : "null");
    if (strcmp(p->arch, "granitehybrid") && strcmp(p->arch, "granite"))
        return qk_fail(err, "%s/config.json: no Mamba layer and num_experts_per_tok set: the converter writes llama.cpp's "
                            "%s, which is not supported for %s (the dense all-attention Granite 4.0 is)", ck->dir,
                       p->arch, p->hf_arch);
    qk_rope_view rv; /* TextModel would write rope.scaling.* KVs for a scaled rope this model does not run */
    qk_rope_view_init(c, &rv);
    if (rv.type && strcmp(rv.type, "default"))
        return qk_fail(err, "%s/config.json: rope scaling '%s' is not supported for Granite 4.0-H (it runs no rope; "
                            "expected rope_scaling null)", ck->dir, rv.type);
    int64_t vocab = 0, ff = 0, S = 0;
    if (!qk_hf_cfg_int(c, "vocab_size", &vocab) || vocab <= 0 || (hybrid && vocab % 8))
        return qk_fail(err, "%s/config.json: vocab_size %lld is not a multiple of 8, to which the converter pads the "
                            "vocabulary (not supported)", ck->dir, (long long)vocab);
    if (!qk_hf_cfg_int(c, "intermediate_size", &ff) || ff <= 0)
        return qk_fail(err, "%s/config.json: 'intermediate_size' should be a positive integer", ck->dir);
    const bool shexp = qk_hf_cfg_int(c, "shared_intermediate_size", &S) && S > 0;
    if (!p->n_expert && S != ff)
        return qk_fail(err, "%s/config.json: without experts the shared MLP is %lld wide, but llama.cpp sizes ffn_gate "
                            "by feed_forward_length = intermediate_size %lld", ck->dir, (long long)S, (long long)ff);
    if (qk_arch_granitemoe_check(ck, p, err)) return QK_FAIL;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        bool m = false;
        if (layer_is_mamba(ck, p, l, &m, err)) return QK_FAIL;
        const char *const *lists[3] = {m ? k_req_mamba : k_req_attn, p->n_expert ? k_req_moe : qk_req_dense_ffn,
                                       p->n_expert && shexp ? k_req_shexp : NULL};
        for (int li = 0; li < 3 && lists[li]; li++)
            if (qk_plan_layer_need(ck, p, l, m ? "Mamba" : "attention", lists[li], err)) return QK_FAIL;
        const char *extra = qk_plan_layer_extra(p, l, m ? k_req_attn : k_req_mamba, SIZE_MAX);
        if (extra)
            return qk_fail(err, "%s: %s layer %u (layer_types) has a tensor for blk.%u.%s", ck->dir,
                           m ? "Mamba" : "attention", l, l, extra);
    }
    return QK_OK;
}

static int gh_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                  qk_err *err) {
    const cJSON *c = ck->config;
    qk_mamba2_dims d;
    if (dims_of(ck, p, &d, err)) return QK_FAIL;
    int32_t kv[1024];
    if (qk_arch_kv_heads_by_layer(ck, p, layer_is_mamba, kv, err)) return QK_FAIL;
    int64_t v;
    double x;
    /* context_length: written, then overwritten in place with 2^20 (no rope) in a hybrid */
    const int64_t ctx = is_hybrid(p) ? 1 << 20 : qk_hf_cfg_int_or(c, "max_position_embeddings", QK_KV_ABSENT);
    const qk_text_sizes s = {.n_ctx = ctx, .n_embd = d.n_embd,
                             .n_ff = qk_hf_cfg_int_or(c, "intermediate_size", QK_KV_ABSENT), .head_count_kv = kv};
    int rc = qk_arch_text_size_kvs(w, p, &s, err);
    qk_rope_view rv; /* rope_parameters' rope_theta, else the top-level one */
    qk_rope_view_init(c, &rv);
    if (rv.has_theta) rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)rv.theta, err);
    if (qk_hf_cfg_num(c, "rms_norm_eps", &x))
        rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)x, err);
    /* TextModel writes the counts whenever the config has them, 0 included (the dense releases) */
    if (qk_hf_cfg_int(c, "num_local_experts", &v)) rc |= qk_arch_kv_u32(w, p, "expert_count", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "num_experts_per_tok", &v))
        rc |= qk_arch_kv_u32(w, p, "expert_used_count", (uint32_t)v, err);
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    rc |= qk_arch_kv_u32(w, p, "vocab_size", (uint32_t)p->vocab_size, err);
    /* LlamaModel's hidden / heads (GraniteModel dropped head_dim), overwritten in place by attn_rotary_emb */
    if (!qk_hf_cfg_int(c, "attn_rotary_emb", &v) || v <= 0) v = d.n_embd / p->n_head;
    rc |= qk_arch_kv_u32(w, p, "rope.dimension_count", (uint32_t)v, err);
    /* GraniteModel's multipliers, GraniteMoeModel's shared width (written when present and non-zero) */
    static const qk_kv_rule k_mult[] = {QK_KV_RULES_GRANITE, {NULL, NULL, 0, false}};
    rc |= qk_arch_kv_rules(ck, p, k_mult, w, err);
    if (qk_hf_cfg_int(c, "shared_intermediate_size", &v) && v > 0)
        rc |= qk_arch_kv_u32(w, p, "expert_shared_feed_forward_length", (uint32_t)v, err);
    /* GraniteHybridModel */
    rc |= qk_mamba2_kvs(w, p, &d, err);
    rc |= qk_arch_kv_bool(w, p, "rope.scaling.finetuned", !is_hybrid(p), err); /* rope iff no Mamba layer */
    return rc ? QK_FAIL : QK_OK;
}

/* GraniteHybridModel.__init__: without Mamba layers the model is llama.cpp's granite, or granitemoe when
 * num_experts_per_tok is set */
static const char *gh_arch_of(const cJSON *cfg) {
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(cfg, "layer_types");
    if (!cJSON_IsArray(lt) || !cJSON_GetArraySize(lt)) return "granitehybrid"; /* refused by the check */
    for (const cJSON *e = lt->child; e; e = e->next)
        if (!cJSON_IsString(e) || strcmp(e->valuestring, "attention")) return "granitehybrid";
    double k = 0;
    return qk_hf_cfg_num(cfg, "num_experts_per_tok", &k) && k != 0 ? "granitemoe" : "granite";
}

const qk_arch_desc qk_arch_family_granitehybrid[] = {
    {.hf = "GraniteMoeHybridForCausalLM", .gguf = "granitehybrid",
     .family = "Granite 4.0 / 4.0-H (Mamba-2 hybrid, MoE or dense; all-attention as granite)",
     .flags = QK_A_PERMUTE_QK | QK_A_EXPERTS_OPTIONAL, .kv = QK_KV_OWN, .names = QK_N_GRANITEMOE,
     .required = k_req_gh, .fused_experts = qk_fused_experts_granitemoe, .n_expert_key = "num_local_experts",
     .n_used_key = "num_experts_per_tok", .check = gh_check, .write_kvs = gh_kvs, .layer_tensor = gh_layer_tensor,
     .arch_of = gh_arch_of},
    {.hf = NULL},
};
