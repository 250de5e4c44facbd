/* vocab_hunyuan.c - Hunyuan-A13B's tokenizer (hy.tiktoken, a tiktoken rank
 * file read by the model's own tokenization_hy.py; no tokenizer.json), as
 * llama.cpp's converter writes it (HunYuanMoEModel.set_vocab):
 *   - ids 0..127956: the ranks' tokens (GPT-2 byte text), normal; merges
 *     rebuilt by QwenModel.bpe (vocab_tiktoken.h);
 *   - ids 127957..128166: tokenization_hy.py's SPECIAL_TOKENS, at ids fixed
 *     in its code: <|endoftext|>, <|startoftext|>, <|bos|>, <|eos|>,
 *     <|pad|>, then <|extra_0|> .. <|extra_204|>, all control tokens. Its
 *     tiktoken Encoding asserts the ranks plus those 210 make the whole
 *     vocabulary, and the converter that config.json's vocab_size is it: a
 *     folder whose counts differ is refused, as Python fails on it (and a
 *     tokenizer_config.json naming one of those ids otherwise, a different
 *     tokenization_hy.py, too);
 *   - model gpt2, pre "hunyuan" (the converter's hash of that tokenizer);
 *   - SpecialVocab without tokenizer.json (tokenizer_config.json's chat
 *     template and add_*_token flags, config.json's token ids), then BOS
 *     forced to 127959 (<|bos|>): A13B's config.json says 1. */
#include <stdio.h>
#include <string.h>

#include "special_tokens.h"
#include "vocab_tiktoken.h"

#define HY_SPECIAL_START 127957
#define HY_N_EXTRA 205
#define HY_N_SPECIAL (5 + HY_N_EXTRA)
#define HY_BOS (HY_SPECIAL_START + 2)

static void special_text(int i, char *s, size_t n) {
    static const char *const named[5] = {"<|endoftext|>", "<|startoftext|>", "<|bos|>", "<|eos|>", "<|pad|>"};
    if (i < 5) snprintf(s, n, "%s", named[i]);
    else snprintf(s, n, "<|extra_%d|>", i - 5);
}

/* QK_FAIL when tokenizer_config.json's added_tokens_decoder gives one of the special ids another text */
static int check_decoder(const char *dir, const cJSON *tcfg, qk_err *err) {
    const cJSON *atd = cJSON_IsObject(tcfg) ? cJSON_GetObjectItemCaseSensitive(tcfg, "added_tokens_decoder") : NULL;
    for (int i = 0; cJSON_IsObject(atd) && i < HY_N_SPECIAL; i++) {
        char key[16], want[32];
        snprintf(key, sizeof key, "%d", HY_SPECIAL_START + i);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(atd, key);
        const cJSON *c = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "content") : NULL;
        special_text(i, want, sizeof want);
        if (e && !(cJSON_IsString(c) && !strcmp(c->valuestring, want)))
            return qk_fail(err, "%s/tokenizer_config.json: added_tokens_decoder[\"%s\"] is not %s, the special token "
                                "Hunyuan-A13B's tokenization_hy.py puts there (another tokenizer code?)", dir, key, want);
    }
    return QK_OK;
}

/* QK_FAIL unless the rank file and config.json's vocab_size are A13B's counts */
static int check_counts(const qk_tt_source *src, uint64_t vocab_size, qk_err *err) {
    if (src->tt.n_tokens == HY_SPECIAL_START && vocab_size == HY_SPECIAL_START + HY_N_SPECIAL) return QK_OK;
    return qk_fail(err, "%s: %zu tokens and config.json vocab_size %llu; Hunyuan-A13B's tokenization_hy.py asserts "
                        "%d tokens plus its %d special tokens at fixed ids %d..%d, and the converter that vocab_size "
                        "is their %d", src->path, src->tt.n_tokens, (unsigned long long)vocab_size, HY_SPECIAL_START,
                   HY_N_SPECIAL, HY_SPECIAL_START, HY_SPECIAL_START + HY_N_SPECIAL - 1, HY_SPECIAL_START + HY_N_SPECIAL);
}

int qk_vocab_load_hunyuan(const char *dir, const char *pre_override, uint64_t vocab_size, qk_vocab *out, char *note,
                          size_t note_cap, qk_err *err) {
    qk_tt_source src;
    if (qk_tt_source_open(dir, "hy.tiktoken", pre_override, "hunyuan", &src, out, note, note_cap, err))
        return QK_FAIL;
    const char *pre = pre_override ? pre_override : "hunyuan";
    int rc = check_counts(&src, vocab_size, err);
    if (rc == QK_OK) rc = check_decoder(dir, src.tcfg, err);
    if (rc == QK_OK) rc = qk_tt_vocab_fill(&src, vocab_size, QK_TOKEN_CONTROL, pre, out, err);
    for (int i = 0; rc == QK_OK && i < HY_N_SPECIAL; i++) {
        char s[32];
        special_text(i, s, sizeof s);
        rc = qk_vocab_set_token(out, (size_t)(HY_SPECIAL_START + i), s, strlen(s), err);
    }
    if (rc == QK_OK) rc = qk_special_vocab_load(dir, NULL, src.tcfg, -1, out, err);
    if (rc == QK_OK) {
        out->special[QK_SPECIAL_BOS] = HY_BOS; /* the converter's "FIX for BOS token" */
        if (note_cap)
            snprintf(note, note_cap, "hy.tiktoken (Hunyuan's tokenization_hy.py): %zu tokens, %zu merges rebuilt as "
                     "llama.cpp's converter does (QwenModel.bpe); special tokens %d..%d (<|endoftext|> .. "
                     "<|extra_%d|>); BOS %d <|bos|> as the converter forces it; pre %s",
                     src.tt.n_tokens, src.tt.n_merges, HY_SPECIAL_START, HY_SPECIAL_START + HY_N_SPECIAL - 1,
                     HY_N_EXTRA - 1, HY_BOS, pre);
    } else {
        qk_vocab_free(out);
    }
    qk_tt_source_close(&src);
    return rc;
}
