#include "model_facts.h"

#include <stdio.h>
#include <string.h>

static bool get_u32_or_first(const qk_gguf_meta *meta, const char *arch, const char *suffix, uint32_t *out) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    const qk_gguf_kv *kv = qk_gguf_find(meta, key);
    if (!kv) return false;
    int64_t v;
    if (kv->type == QK_GGUF_ARRAY) {
        if (!qk_gguf_arr_int(kv, 0, &v)) return false;
    } else if (!qk_gguf_get_int(meta, key, &v)) {
        return false;
    }
    if (v < 0 || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

int qk_model_facts(const qk_gguf_meta *meta, const qk_mix_tensor *tensors, size_t n, qk_mix_model *m, qk_err *err) {
    memset(m, 0, sizeof *m);
    const char *arch = qk_gguf_get_str(meta, "general.architecture");
    if (!arch) return qk_fail(err, "the model has no general.architecture string");
    m->arch = arch;
    if (!get_u32_or_first(meta, arch, "block_count", &m->n_layer))
        return qk_fail(err, "the model has no %s.block_count", arch);
    get_u32_or_first(meta, arch, "nextn_predict_layers", &m->n_layer_nextn);
    get_u32_or_first(meta, arch, "attention.head_count", &m->n_head);
    if (!get_u32_or_first(meta, arch, "attention.head_count_kv", &m->n_head_kv)) m->n_head_kv = m->n_head;
    get_u32_or_first(meta, arch, "expert_count", &m->n_expert);
    m->tensors = tensors;
    m->n_tensors = n;
    return QK_OK;
}

uint32_t qk_ggml_n_dims(const int64_t ne[4]) {
    for (int d = 3; d >= 1; d--)
        if (ne[d] != 1) return (uint32_t)d + 1;
    return 1;
}
