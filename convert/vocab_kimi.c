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
#include "vocab_tiktoken.h"

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
    qk_tt_source src;
    if (qk_tt_source_open(dir, "tiktoken.model", pre_override, "kimi-k2", &src, out, note, note_cap, err))
        return QK_FAIL;
    int rc = QK_FAIL;
    const uint64_t n = src.tt.n_tokens;
    if (vocab_size < n || vocab_size > n + KIMI_N_RESERVED) {
        qk_fail(err, "%s/config.json: vocab_size is %llu, but %s has %llu tokens and Kimi's tokenizer reserves %d "
                     "special ids after them (expected %llu..%llu)", dir, (unsigned long long)vocab_size, src.path,
                (unsigned long long)n, KIMI_N_RESERVED, (unsigned long long)n, (unsigned long long)n + KIMI_N_RESERVED);
        goto out;
    }
    const char *pre = pre_override ? pre_override : "kimi-k2";
    if (qk_tt_vocab_fill(&src, vocab_size, QK_TOKEN_CONTROL, pre, out, err)) goto out;
    const cJSON *atd = get(src.tcfg, "added_tokens_decoder");
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
    }
    if (qk_special_vocab_load(dir, NULL, src.tcfg, -1, out, err)) goto out;
    if (note_cap)
        snprintf(note, note_cap, "tiktoken.model (Kimi's tokenization_kimi.py): %llu tokens, %zu merges rebuilt as "
                 "llama.cpp's converter does (QwenModel.bpe); special tokens %llu..%llu (%zu named in "
                 "tokenizer_config.json, the rest reserved); pre %s",
                 (unsigned long long)n, src.tt.n_merges, (unsigned long long)n, (unsigned long long)vocab_size - 1,
                 named, pre);
    rc = QK_OK;
out:
    if (rc) qk_vocab_free(out);
    qk_tt_source_close(&src);
    return rc;
}
