/* arch_kv.c - the architecture KVs a family's writer adds, keyed
 * "<p->arch>.<suffix>" (llama.cpp's LLM_KV names), as qk_gguf_writer_add_*
 * adds them: one place builds the key. */
#include <stdio.h>

#include "arch_priv.h"

/* "<arch>.<suffix>" in k[cap] (cut as the writers' 96-byte buffers always cut it) */
static const char *key_of(char *k, size_t cap, const char *arch, const char *suffix) {
    snprintf(k, cap, "%s.%s", arch, suffix);
    return k;
}

int qk_arch_kv_u32(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, uint32_t v, qk_err *err) {
    char k[96];
    return qk_gguf_writer_add_u32(w, key_of(k, sizeof k, p->arch, suffix), v, err);
}

int qk_arch_kv_f32(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, float v, qk_err *err) {
    char k[96];
    return qk_gguf_writer_add_f32(w, key_of(k, sizeof k, p->arch, suffix), v, err);
}

int qk_arch_kv_bool(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, bool v, qk_err *err) {
    char k[96];
    return qk_gguf_writer_add_bool(w, key_of(k, sizeof k, p->arch, suffix), v, err);
}

int qk_arch_kv_str(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, const char *v, qk_err *err) {
    char k[96];
    return qk_gguf_writer_add_str(w, key_of(k, sizeof k, p->arch, suffix), v, err);
}

int qk_arch_kv_arr(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, uint32_t type, const void *data,
                   uint64_t n, qk_err *err) {
    char k[96];
    return qk_gguf_writer_add_arr(w, key_of(k, sizeof k, p->arch, suffix), type, data, n, err);
}

int qk_arch_text_size_kvs(qk_gguf_writer *w, const qk_conv_plan *p, const qk_text_sizes *s, qk_err *err) {
    int rc = QK_OK;
    rc |= qk_arch_kv_u32(w, p, "block_count", p->n_layer, err);
    if (s->n_ctx != QK_KV_ABSENT) rc |= qk_arch_kv_u32(w, p, "context_length", (uint32_t)s->n_ctx, err);
    if (s->n_embd != QK_KV_ABSENT) rc |= qk_arch_kv_u32(w, p, "embedding_length", (uint32_t)s->n_embd, err);
    if (s->ff_per_layer)
        rc |= qk_arch_kv_arr(w, p, "feed_forward_length", QK_GGUF_I32, s->ff_per_layer, p->n_layer, err);
    else if (s->n_ff != QK_KV_ABSENT)
        rc |= qk_arch_kv_u32(w, p, "feed_forward_length", (uint32_t)s->n_ff, err);
    rc |= qk_arch_kv_u32(w, p, "attention.head_count", p->n_head, err);
    if (s->head_count_kv)
        rc |= qk_arch_kv_arr(w, p, "attention.head_count_kv", QK_GGUF_I32, s->head_count_kv, p->n_layer, err);
    else
        rc |= qk_arch_kv_u32(w, p, "attention.head_count_kv", p->n_head_kv, err);
    return rc ? QK_FAIL : QK_OK;
}

int qk_arch_kv_heads_by_layer(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_layer_test not_attention,
                              int32_t kv[1024], qk_err *err) {
    if (p->n_layer > 1024) return qk_fail(err, "%s/config.json: more than 1024 layers", ck->dir);
    for (uint32_t i = 0; i < p->n_layer; i++) {
        bool other = false;
        if (not_attention(ck, p, i, &other, err)) return QK_FAIL;
        kv[i] = other ? 0 : (int32_t)p->n_head_kv;
    }
    return QK_OK;
}
