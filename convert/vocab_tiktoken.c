/* vocab_tiktoken.c - see vocab_tiktoken.h. */
#include "vocab_tiktoken.h"

#include <string.h>

#include "json_file.h"
#include "tokenizer_json.h"

int qk_tt_source_open(const char *dir, const char *file, const char *pre_override, const char *family_pre,
                      qk_tt_source *s, qk_vocab *out, char *note, size_t note_cap, qk_err *err) {
    qk_vocab_init(out);
    if (note_cap) note[0] = 0;
    memset(s, 0, sizeof *s);
    if (pre_override && !qk_pre_known(pre_override))
        return qk_fail(err, "%s: --pre-tokenizer '%s' is not a pre-tokenizer llama.cpp knows (this tokenizer splits "
                            "as %s)", dir, pre_override, family_pre);
    if (qk_path_join(s->path, sizeof s->path, dir, file, err)) return QK_FAIL;
    if (qk_json_load(dir, "tokenizer_config.json", &s->tcfg, err)) return QK_FAIL;
    if (qk_tiktoken_load(s->path, QK_TT_MERGES_QWEN, &s->tt, err)) {
        qk_tt_source_close(s);
        return QK_FAIL;
    }
    return QK_OK;
}

void qk_tt_source_close(qk_tt_source *s) {
    qk_tiktoken_free(&s->tt);
    cJSON_Delete(s->tcfg);
    s->tcfg = NULL;
}

int qk_tt_vocab_fill(const qk_tt_source *s, uint64_t vocab_size, int32_t fill_type, const char *pre, qk_vocab *out,
                     qk_err *err) {
    qk_vocab_init(out);
    int rc = vocab_size < s->tt.n_tokens
                 ? qk_fail(err, "vocab_size %llu is below the %zu tokens of %s", (unsigned long long)vocab_size,
                           s->tt.n_tokens, s->path)
                 : qk_vocab_alloc_tokens(out, (size_t)vocab_size, 0, 0.0f, fill_type, err);
    for (size_t i = 0; rc == QK_OK && i < s->tt.n_tokens; i++) {
        rc = qk_vocab_set_token(out, i, s->tt.tokens[i], strlen(s->tt.tokens[i]), err);
        if (rc == QK_OK) out->token_type[i] = QK_TOKEN_NORMAL;
    }
    for (size_t i = 0; rc == QK_OK && i < s->tt.n_merges; i++)
        rc = qk_vocab_add_merge(out, s->tt.merges[i], strlen(s->tt.merges[i]), err);
    if (rc == QK_OK) rc = qk_vocab_set_model(out, "gpt2", pre, err);
    if (rc) qk_vocab_free(out);
    return rc;
}
