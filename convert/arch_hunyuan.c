/* arch_hunyuan.c - HunYuanMoEV1ForCausalLM (Tencent's Hunyuan-A13B) ->
 * "hunyuan-moe", as the pinned converter's HunYuanMoEModel writes it:
 *   - the Llama layer without Q/K permutation (llama.cpp ropes it NeoX-style,
 *     as HF's rotate-half), per-head q/k RMS norms self_attn.query_layernorm /
 *     key_layernorm -> attn_q_norm / attn_k_norm (both HF and llama.cpp apply
 *     them after the rope);
 *   - every layer sparse: the router mlp.gate.wg -> ffn_gate_inp, the experts
 *     mlp.experts.E.{gate,up,down}_proj stacked, one ungated shared MLP
 *     mlp.shared_mlp.{gate,up,down}_proj -> ffn_*_shexp added to them; softmax
 *     routing with the top-k weights renormalised, as both compute it;
 *   - the KVs: TextModel's (no rope.dimension_count, no vocab_size: llama.cpp
 *     takes the head size), then expert_shared_feed_forward_length =
 *     intermediate_size and the first entries of the per-layer lists
 *     moe_intermediate_size, moe_topk, num_shared_expert (which the converter
 *     asserts uniform); for the "dynamic" (NTK-alpha) rope the base
 *     rope_theta x alpha^(d / (d - 2)), rope.scaling none / factor 1 and a 256K
 *     original and trained context, under the converter's assertions (alpha
 *     1000, rope_theta 10000, d = hidden / heads = 128, max_position_embeddings
 *     32K or 256K), refused otherwise as it refuses;
 *   - lm_head dropped when tie_word_embeddings.
 * The vocabulary (hy.tiktoken) is vocab_hunyuan.c's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_priv.h"


/* llama_model_hunyuan_moe::load_arch_tensors: all of them in every layer */
static const char *const k_req_hunyuan[] = {
    "attn_norm.weight",     "attn_q.weight",         "attn_k.weight",         "attn_v.weight",
    "attn_output.weight",   "attn_q_norm.weight",    "attn_k_norm.weight",    "ffn_norm.weight",
    "ffn_gate_inp.weight",  "ffn_gate_shexp.weight", "ffn_up_shexp.weight",   "ffn_down_shexp.weight",
    NULL};

/* HunYuan's NTK-alpha rope: 256K context, whatever max_position_embeddings says (the converter's constant) */
#define HY_DYN_CTX (256u * 1024u)

/* The first entry of the per-layer list key, which the converter asserts every entry equals (indexing it: a
 * number there fails in Python too). */
static int uniform_list(const qk_hf_checkpoint *ck, const char *key, int64_t *v, qk_err *err) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ck->config, key);
    const int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    const cJSON *e0 = n ? cJSON_GetArrayItem(a, 0) : NULL;
    if (!cJSON_IsNumber(e0) || e0->valuedouble != floor(e0->valuedouble) || e0->valuedouble <= 0 ||
        e0->valuedouble > 4294967295.0)
        return qk_fail(err, "%s/config.json: '%s' is not a list of positive integers (HunYuanMoEModel reads it per "
                            "layer)", ck->dir, key);
    for (int i = 1; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(e) || e->valuedouble != e0->valuedouble)
            return qk_fail(err, "%s/config.json: '%s' differs between layers (entry %d); llama.cpp's hunyuan-moe and "
                                "the converter take one value for all", ck->dir, key, i);
    }
    *v = (int64_t)e0->valuedouble;
    return QK_OK;
}

/* The converter's NTK-alpha rope: whether the config asks for it, and then its alpha, base and head size, each
 * checked against the converter's assertions. */
static int dynamic_rope(const qk_hf_checkpoint *ck, const qk_conv_plan *p, bool *dyn, double *base_out,
                        qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    *dyn = rv.type && !strcmp(rv.type, "dynamic");
    /* llama3 passes the common rope check (rope_freqs), but TextModel-based HunYuanMoEModel generates none */
    if (rv.type && !*dyn && strcmp(rv.type, "default"))
        return qk_fail(err, "%s/config.json: rope type '%s': HunYuanMoEModel converts the default and the dynamic "
                            "(NTK-alpha) rope only", ck->dir, rv.type);
    if (!*dyn) return QK_OK;
    double alpha = 1000, base = rv.has_theta ? rv.theta : 10000.0;
    qk_hf_cfg_num(rv.full, "alpha", &alpha);
    int64_t hidden = 0, ctx = 0;
    qk_hf_cfg_int(ck->config, "hidden_size", &hidden);
    qk_hf_cfg_int(ck->config, "max_position_embeddings", &ctx);
    const int64_t dim = hidden / p->n_head;
    if (alpha != 1000 || base != 10000.0 || dim != 128 || (ctx != 32 * 1024 && ctx != (int64_t)HY_DYN_CTX))
        return qk_fail(err, "%s/config.json: dynamic (NTK-alpha) rope with alpha %g, rope_theta %g, head size %lld and "
                            "max_position_embeddings %lld: the converter asserts alpha 1000, rope_theta 10000, head "
                            "size 128 and 32K or 256K positions (its 256K context is a constant for those)",
                       ck->dir, alpha, base, (long long)dim, (long long)ctx);
    /* Python: base * (alpha ** (dim / (dim - 2))) in double */
    *base_out = base * pow(alpha, (double)dim / (double)(dim - 2));
    return QK_OK;
}

static int hunyuan_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    int64_t ff = 0, moe_ff = 0, topk = 0, shared = 0;
    if (uniform_list(ck, "moe_intermediate_size", &moe_ff, err) || uniform_list(ck, "moe_topk", &topk, err) ||
        uniform_list(ck, "num_shared_expert", &shared, err))
        return QK_FAIL;
    if (!qk_hf_cfg_int(c, "intermediate_size", &ff) || ff != moe_ff)
        return qk_fail(err, "%s/config.json: moe_intermediate_size %lld is not intermediate_size %lld: llama.cpp's "
                            "hunyuan-moe sizes its experts by feed_forward_length (intermediate_size)",
                       ck->dir, (long long)moe_ff, (long long)ff);
    if (topk > p->n_expert)
        return qk_fail(err, "%s/config.json: moe_topk %lld of %u experts", ck->dir, (long long)topk, p->n_expert);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "use_cla")))
        return qk_fail(err, "%s/config.json: use_cla is true: cross-layer attention (layers sharing keys and values) "
                            "is not in llama.cpp's hunyuan-moe", ck->dir);
    bool dyn;
    double base;
    if (dynamic_rope(ck, p, &dyn, &base, err)) return QK_FAIL;
    /* the shared MLP as wide as llama.cpp reads it (expert_shared_feed_forward_length = intermediate_size): a release
     * whose shared MLP is num_shared_expert x wider would not load */
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const qk_conv_tensor *t = qk_plan_layer_tensor(p, l, "ffn_up_shexp.weight");
        if (t && t->ne[1] != ff)
            return qk_fail(err, "%s: blk.%u.ffn_up_shexp.weight is %lld wide; llama.cpp's hunyuan-moe reads the shared "
                                "MLP as intermediate_size (%lld) wide", ck->dir, l, (long long)t->ne[1], (long long)ff);
    }
    return QK_OK;
}

/* HunYuanMoEModel.set_gguf_parameters after TextModel's (add_llama_like) */
static int hunyuan_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    char k[96];
#define KEY(suffix) (snprintf(k, sizeof k, "%s.%s", p->arch, suffix), k)
    /* TextModel writes neither (LlamaModel does) */
    qk_gguf_writer_remove_kv(w, KEY("rope.dimension_count"));
    qk_gguf_writer_remove_kv(w, KEY("vocab_size"));
    int64_t ff = 0, moe_ff = 0, topk = 0, shared = 0;
    qk_hf_cfg_int(ck->config, "intermediate_size", &ff);
    if (uniform_list(ck, "moe_intermediate_size", &moe_ff, err) || uniform_list(ck, "moe_topk", &topk, err) ||
        uniform_list(ck, "num_shared_expert", &shared, err))
        return QK_FAIL;
    bool dyn;
    double base = 0;
    if (dynamic_rope(ck, p, &dyn, &base, err)) return QK_FAIL;
    int rc = qk_gguf_writer_add_u32(w, KEY("expert_shared_feed_forward_length"), (uint32_t)ff, err);
    rc |= qk_gguf_writer_add_u32(w, KEY("expert_feed_forward_length"), (uint32_t)moe_ff, err);
    /* TextModel writes expert_used_count only from num_experts_per_tok (the common writer's 0 without it): here,
     * after the expert widths, moe_topk[0] */
    qk_gguf_writer_remove_kv(w, KEY("expert_used_count"));
    rc |= qk_gguf_writer_add_u32(w, KEY("expert_used_count"), (uint32_t)topk, err);
    rc |= qk_gguf_writer_add_u32(w, KEY("expert_shared_count"), (uint32_t)shared, err);
    if (dyn) { /* the two keys TextModel wrote are set again, in their places (GGUFWriter's overwrite) */
        const float fb = (float)base;
        const uint32_t ctx = HY_DYN_CTX;
        rc |= qk_gguf_writer_set_scalar(w, KEY("rope.freq_base"), QK_GGUF_F32, &fb, err);
        rc |= qk_gguf_writer_add_str(w, KEY("rope.scaling.type"), "none", err);
        rc |= qk_gguf_writer_add_f32(w, KEY("rope.scaling.factor"), 1.0f, err);
        rc |= qk_gguf_writer_add_u32(w, KEY("rope.scaling.original_context_length"), HY_DYN_CTX, err);
        rc |= qk_gguf_writer_set_scalar(w, KEY("context_length"), QK_GGUF_U32, &ctx, err);
    }
#undef KEY
    return rc ? QK_FAIL : QK_OK;
}

/* HunYuanMoEModel.modify_tensors skips lm_head.weight when tie_word_embeddings */
static int hunyuan_finish(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    (void)err;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck->config, "tie_word_embeddings"))) return QK_OK;
    for (size_t i = 0; i < p->n_tensors; i++)
        if (!strcmp(p->tensors[i].name, "output.weight")) {
            if (p->tensors[i].src) p->n_params -= p->tensors[i].src->t->n_elements;
            memmove(&p->tensors[i], &p->tensors[i + 1], (p->n_tensors - i - 1) * sizeof *p->tensors);
            memset(&p->tensors[--p->n_tensors], 0, sizeof *p->tensors);
            break;
        }
    return QK_OK;
}

const qk_arch_desc qk_arch_family_hunyuan[] = {
    {.hf = "HunYuanMoEV1ForCausalLM", .gguf = "hunyuan-moe", .family = "Hunyuan MoE (Hunyuan-A13B)",
     .pre = "hunyuan", .kv = QK_KV_LLAMA, .names = QK_N_HUNYUAN, .required = k_req_hunyuan,
     .experts = qk_experts_mlp, .n_expert_key = "num_experts", .n_used_key = NULL, .rope_plain = "dynamic",
     .check = hunyuan_check, .extra_kvs = hunyuan_kvs, .finish = hunyuan_finish},
    {.hf = NULL},
};
