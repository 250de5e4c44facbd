/* vocab_kimi.c - Kimi K2's tokenizer (moonshotai/Kimi-K2-*: tiktoken.model,
 * a tiktoken rank file read by the model's own tokenization_kimi.py, named
 * in tokenizer_config.json's auto_map; no tokenizer.json), as llama.cpp's
 * converter writes it (DeepseekV2Model.set_vocab, its "kimi-k2" branch):
 *   - ids 0..n-1: the n ranks' tokens (GPT-2 byte text), normal;
 *   - ids n..n+255: TikTokenTokenizer's special tokens, each the
 *     added_tokens_decoder content for its id, else "<|reserved_token_ID|>",
 *     all control tokens;
 *   - any id up to vocab_size beyond those: "[PADID]", unused;
 *   - merges rebuilt by QwenModel.bpe (tiktoken_ranks.h, QK_TT_MERGES_QWEN);
 *   - model gpt2, pre "kimi-k2" (what the converter's hash of the model's
 *     own tokenization names; llama.cpp splits with Kimi's Han-aware regex);
 *   - SpecialVocab without tokenizer.json: tokenizer_config.json's chat
 *     template and add_*_token flags, config.json's token ids.
 * Some releases of tokenization_kimi.py reserve 258 ids instead of 256; the
 * two differ only for ids past n + 256, so a vocab_size beyond n + 256 is
 * refused rather than guessed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"
#include "special_tokens.h"
#include "tiktoken_ranks.h"
#include "tokenizer_json.h"
#include "vocab.h"

#define KIMI_N_RESERVED 256

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

bool qk_vocab_is_kimi(const char *dir) {
    char path[4096];
    qk_err err;
    if (qk_path_join(path, sizeof path, dir, "tiktoken.model", &err) || !qk_file_exists(path)) return false;
    if (qk_path_join(path, sizeof path, dir, "tokenizer.json", &err) || qk_file_exists(path)) return false;
    cJSON *tcfg = NULL;
    if (qk_json_load(dir, "tokenizer_config.json", &tcfg, &err) || !tcfg) return false;
    const cJSON *at = get(get(tcfg, "auto_map"), "AutoTokenizer");
    const cJSON *cls = cJSON_IsArray(at) ? cJSON_GetArrayItem(at, 0) : at;
    const bool kimi = cJSON_IsString(cls) && !strncmp(cls->valuestring, "tokenization_kimi.", 18);
    cJSON_Delete(tcfg);
    return kimi;
}

int qk_vocab_load_kimi(const char *dir, const char *pre_override, uint64_t vocab_size, qk_vocab *out, char *note,
                       size_t note_cap, qk_err *err) {
    qk_vocab_init(out);
    if (note_cap) note[0] = 0;
    char path[4096];
    cJSON *tcfg = NULL;
    qk_tiktoken tt;
    memset(&tt, 0, sizeof tt);
    int rc = QK_FAIL;
    if (pre_override && !qk_pre_known(pre_override)) {
        qk_fail(err, "%s: --pre-tokenizer '%s' is not a pre-tokenizer llama.cpp knows (Kimi's tokenizer splits as "
                     "kimi-k2)", dir, pre_override);
        goto out;
    }
    if (qk_path_join(path, sizeof path, dir, "tiktoken.model", err)) goto out;
    if (qk_json_load(dir, "tokenizer_config.json", &tcfg, err)) goto out;
    if (qk_tiktoken_load(path, QK_TT_MERGES_QWEN, &tt, err)) goto out;
    const uint64_t n = tt.n_tokens;
    if (vocab_size < n || vocab_size > n + KIMI_N_RESERVED) {
        qk_fail(err, "%s/config.json: vocab_size is %llu, but %s has %llu tokens and Kimi's tokenizer reserves %d "
                     "special ids after them (expected %llu..%llu)", dir, (unsigned long long)vocab_size, path,
                (unsigned long long)n, KIMI_N_RESERVED, (unsigned long long)n, (unsigned long long)n + KIMI_N_RESERVED);
        goto out;
    }
    if (qk_vocab_alloc_tokens(out, (size_t)vocab_size, 0, 0.0f, QK_TOKEN_NORMAL, err)) goto out;
    for (size_t i = 0; i < n; i++)
        if (qk_vocab_set_token(out, i, tt.tokens[i], strlen(tt.tokens[i]), err)) goto out;
    const cJSON *atd = get(tcfg, "added_tokens_decoder");
    if (atd && !cJSON_IsObject(atd)) {
        qk_fail(err, "%s/tokenizer_config.json: added_tokens_decoder is not an object", dir);
        goto out;
    }
    size_t named = 0;
    for (uint64_t id = n; id < vocab_size; id++) {
        char key[32], text[64];
        snprintf(key, sizeof key, "%llu", (unsigned long long)id);
        const cJSON *c = get(get(atd, key), "content");
        if (get(atd, key) && !cJSON_IsString(c)) {
            qk_fail(err, "%s/tokenizer_config.json: added_tokens_decoder[\"%s\"] has no string \"content\"", dir, key);
            goto out;
        }
        const char *s = cJSON_IsString(c) ? c->valuestring : text;
        if (!cJSON_IsString(c)) snprintf(text, sizeof text, "<|reserved_token_%llu|>", (unsigned long long)id);
        named += cJSON_IsString(c);
        if (qk_vocab_set_token(out, (size_t)id, s, strlen(s), err)) goto out;
        out->token_type[id] = QK_TOKEN_CONTROL;
    }
    for (size_t i = 0; i < tt.n_merges; i++)
        if (qk_vocab_add_merge(out, tt.merges[i], strlen(tt.merges[i]), err)) goto out;
    const char *pre = pre_override ? pre_override : "kimi-k2";
    if (qk_vocab_set_model(out, "gpt2", pre, err)) goto out;
    if (qk_special_vocab_load(dir, NULL, tcfg, -1, out, err)) goto out;
    if (note_cap)
        snprintf(note, note_cap, "tiktoken.model (Kimi's tokenization_kimi.py): %llu tokens, %zu merges rebuilt as "
                 "llama.cpp's converter does (QwenModel.bpe); special tokens %llu..%llu (%zu named in "
                 "tokenizer_config.json, the rest reserved); pre %s",
                 (unsigned long long)n, tt.n_merges, (unsigned long long)n, (unsigned long long)vocab_size - 1, named,
                 pre);
    rc = QK_OK;
out:
    if (rc) qk_vocab_free(out);
    qk_tiktoken_free(&tt);
    cJSON_Delete(tcfg);
    return rc;
}
