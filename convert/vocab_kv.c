#include "vocab_kv.h"

#include <stdio.h>
#include <stdlib.h>

static int add_tri(qk_gguf_writer *w, const char *key, qk_tri t, qk_err *err) {
    return t == QK_TRI_UNSET ? QK_OK : qk_gguf_writer_add_bool(w, key, t == QK_TRI_TRUE, err);
}

int qk_vocab_add_kvs(qk_gguf_writer *w, const qk_vocab *v, qk_err *err) {
    if (qk_gguf_writer_add_str(w, "tokenizer.ggml.model", v->model, err)) return QK_FAIL;
    if (v->pre && qk_gguf_writer_add_str(w, "tokenizer.ggml.pre", v->pre, err)) return QK_FAIL;
    uint64_t *lens = malloc((v->n_tokens ? v->n_tokens : 1) * sizeof *lens);
    if (!lens) return qk_fail(err, "out of memory");
    for (size_t i = 0; i < v->n_tokens; i++) lens[i] = v->token_len[i];
    int rc = qk_gguf_writer_add_arr_strn(w, "tokenizer.ggml.tokens", (const char *const *)v->tokens, lens, v->n_tokens, err);
    free(lens);
    if (rc) return QK_FAIL;
    if (v->scores && qk_gguf_writer_add_arr(w, "tokenizer.ggml.scores", QK_GGUF_F32, v->scores, v->n_tokens, err))
        return QK_FAIL;
    if (qk_gguf_writer_add_arr(w, "tokenizer.ggml.token_type", QK_GGUF_I32, v->token_type, v->n_tokens, err))
        return QK_FAIL;
    if (v->n_merges &&
        qk_gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", (const char *const *)v->merges, v->n_merges, err))
        return QK_FAIL;
    for (int r = 0; r < QK_SPECIAL_COUNT; r++) {
        const char *key = qk_special_key(r);
        if (key && v->special[r] >= 0 && qk_gguf_writer_add_u32(w, key, (uint32_t)v->special[r], err)) return QK_FAIL;
    }
    if (add_tri(w, "tokenizer.ggml.add_bos_token", v->add_bos, err) ||
        add_tri(w, "tokenizer.ggml.add_sep_token", v->add_sep, err) ||
        add_tri(w, "tokenizer.ggml.add_eos_token", v->add_eos, err) ||
        add_tri(w, "tokenizer.ggml.add_space_prefix", v->add_space_prefix, err) ||
        add_tri(w, "tokenizer.ggml.normalizer_lowercase", v->normalizer_lowercase, err) ||
        add_tri(w, "tokenizer.ggml.normalizer_strip_accents", v->normalizer_strip_accents, err))
        return QK_FAIL;
    if (v->chat_template && qk_gguf_writer_add_str(w, "tokenizer.chat_template", v->chat_template, err)) return QK_FAIL;
    if (v->n_named_templates) {
        const char **names = malloc(v->n_named_templates * sizeof *names);
        if (!names) return qk_fail(err, "out of memory");
        for (size_t i = 0; i < v->n_named_templates; i++) {
            char key[256];
            snprintf(key, sizeof key, "tokenizer.chat_template.%s", v->named_templates[i].name);
            names[i] = v->named_templates[i].name;
            if (qk_gguf_writer_add_str(w, key, v->named_templates[i].text, err)) {
                free(names);
                return QK_FAIL;
            }
        }
        rc = qk_gguf_writer_add_arr_str(w, "tokenizer.chat_templates", names, v->n_named_templates, err);
        free(names);
        if (rc) return QK_FAIL;
    }
    return QK_OK;
}
