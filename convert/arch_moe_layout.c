/* arch_moe_layout.c - the mixture-of-experts tensor names and config checks
 * several families share (declared in arch_priv.h): one table per published
 * layout, so that a family using it points at it instead of carrying a copy. */
#include "arch_priv.h"

const qk_expert_rule qk_experts_mlp[] = {QK_EXPERTS_GATE_UP_DOWN("mlp.experts."), {NULL, NULL, NULL}};

const qk_expert_rule qk_experts_w123[] = {QK_EXPERTS_W123("block_sparse_moe.experts."), {NULL, NULL, NULL}};

const qk_fused_expert_rule qk_fused_experts_packed[] = {
    QK_FUSED_GATE_UP_DOWN("mlp.experts.", false),
    {NULL, NULL, 0, 0, false, false},
};


int qk_arch_moe_layer_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t l, int64_t lead,
                            const char *const *sparse, size_t n_sparse, const char *dense_what, qk_err *err) {
    const bool d = (int64_t)l < lead;
    const char *miss = qk_plan_layer_missing(p, l, d ? qk_req_dense_ffn : sparse, d ? 3u : n_sparse);
    return miss ? qk_fail(err, "%s: layer %u (%s) lacks blk.%u.%s", ck->dir, l, d ? dense_what : "MoE", l, miss)
                : QK_OK;
}

int qk_arch_qwen_moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, bool renorm, bool topk_default,
                           qk_err *err) {
    const cJSON *c = ck->config;
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(c, "mlp_only_layers");
    if (mo && !cJSON_IsNull(mo) && !(cJSON_IsArray(mo) && cJSON_GetArraySize(mo) == 0))
        return qk_fail(err, "%s/config.json: mlp_only_layers is not empty: llama.cpp's %s has no dense layers", ck->dir,
                       p->arch);
    int64_t step = 1;
    if (cJSON_GetObjectItemCaseSensitive(c, "decoder_sparse_step") &&
        (!qk_hf_cfg_int(c, "decoder_sparse_step", &step) || step != 1))
        return qk_fail(err, "%s/config.json: decoder_sparse_step is not 1: llama.cpp's %s makes every layer sparse",
                       ck->dir, p->arch);
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(c, "norm_topk_prob");
    const bool norm = nt ? cJSON_IsTrue(nt) : topk_default;
    if (norm != renorm)
        return qk_fail(err, "%s/config.json: norm_topk_prob is %s, but llama.cpp's %s %s the top-k expert weights",
                       ck->dir, norm ? "true" : "false", p->arch, renorm ? "renormalises" : "does not renormalise");
    return QK_OK;
}
