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
