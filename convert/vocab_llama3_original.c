/* vocab_llama3_original.c - the tokenizer of Meta's original Llama 3 folder
 * (params.json, consolidated.*.pth, tokenizer.model = a tiktoken rank file):
 * the byte-level BPE vocabulary and merges of the rank file
 * (tiktoken_ranks.h, rebuilt as transformers' TikTokenConverter does), then
 * the 256 special tokens Meta's tokenizer code appends (llama3_special.h),
 * each a control token. What transformers' convert_llama_weights_to_hf.py
 * writes beside them for a base model is followed: BOS <|begin_of_text|>,
 * EOS <|end_of_text|>, no post-processor adding BOS (so no add_bos key;
 * llama.cpp adds BOS for llama-bpe by itself) and no chat template (the
 * script adds one only when told the model is an instruct one; the folder
 * does not say). The pre-tokenizer is llama-bpe: Meta's tokenizer.py splits
 * with exactly the regex llama.cpp names so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"
#include "llama3_special.h"
#include "tiktoken_ranks.h"
#include "tokenizer_json.h"
#include "vocab.h"

bool qk_vocab_tiktoken_model(const char *dir) {
    char path[4096];
    qk_err err;
    if (qk_path_join(path, sizeof path, dir, "tokenizer.model", &err) || !qk_file_exists(path)) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char buf[512];
    const size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* the sniff wants a whole first line: cut at the last newline read */
    size_t len = n;
    while (len && buf[len - 1] != '\n') len--;
    return qk_tiktoken_sniff(buf, len ? len : n);
}

/* params.json's vocab_size when it states one (> 0); 0 otherwise */
static uint64_t params_vocab(const cJSON *params) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "vocab_size");
    return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e15 ? (uint64_t)v->valuedouble : 0;
}

int qk_vocab_load_llama3_original(const char *dir, const char *pre_override, uint64_t vocab_size, qk_vocab *out,
                                  char *note, size_t note_cap, qk_err *err) {
    qk_vocab_init(out);
    if (note_cap) note[0] = 0;
    char path[4096];
    cJSON *params = NULL;
    qk_tiktoken tt;
    memset(&tt, 0, sizeof tt);
    int rc = QK_FAIL;
    if (pre_override && !qk_pre_known(pre_override)) {
        qk_fail(err, "%s: --pre-tokenizer '%s' is not a pre-tokenizer llama.cpp knows (Meta's Llama 3 tokenizer splits "
                     "as llama-bpe)", dir, pre_override);
        goto out;
    }
    if (qk_path_join(path, sizeof path, dir, "tokenizer.model", err)) goto out;
    if (qk_json_load(dir, "params.json", &params, err)) goto out;
    /* Llama 3.1 brought both the 3.1 special tokens and the scaled rope; 3.0's params.json has no use_scaled_rope */
    const cJSON *scaled = cJSON_GetObjectItemCaseSensitive(params, "use_scaled_rope");
    const qk_llama3_table table = cJSON_IsTrue(scaled) ? QK_LLAMA3_TABLE_31 : QK_LLAMA3_TABLE_30;
    if (qk_tiktoken_load(path, QK_TT_MERGES_HF, &tt, err)) goto out;
    const uint64_t pv = params_vocab(params), want = pv ? pv : vocab_size;
    const uint64_t have = (uint64_t)tt.n_tokens + QK_LLAMA3_N_SPECIAL;
    if (have != want) {
        qk_fail(err, "%s: %zu tokens + Llama 3's %d special tokens = %llu, but %s is %llu (expected them equal: is "
                     "this Meta's Llama 3 tokenizer.model of this model?)",
                path, tt.n_tokens, QK_LLAMA3_N_SPECIAL, (unsigned long long)have,
                pv ? "params.json vocab_size" : "the vocabulary of tok_embeddings.weight", (unsigned long long)want);
        goto out;
    }
    if (qk_vocab_alloc_tokens(out, (size_t)have, 0, 0.0f, QK_TOKEN_NORMAL, err)) goto out;
    for (size_t i = 0; i < tt.n_tokens; i++)
        if (qk_vocab_set_token(out, i, tt.tokens[i], strlen(tt.tokens[i]), err)) goto out;
    for (size_t i = 0; i < QK_LLAMA3_N_SPECIAL; i++) {
        char s[64];
        qk_llama3_special_text(table, i, s, sizeof s);
        if (qk_vocab_set_token(out, tt.n_tokens + i, s, strlen(s), err)) goto out;
        out->token_type[tt.n_tokens + i] = QK_TOKEN_CONTROL; /* added special tokens, as llama.cpp's converter types them */
    }
    for (size_t i = 0; i < tt.n_merges; i++)
        if (qk_vocab_add_merge(out, tt.merges[i], strlen(tt.merges[i]), err)) goto out;
    const char *pre = pre_override ? pre_override : "llama-bpe";
    if (qk_vocab_set_model(out, "gpt2", pre, err)) goto out;
    out->special[QK_SPECIAL_BOS] = (int64_t)tt.n_tokens;     /* <|begin_of_text|> */
    out->special[QK_SPECIAL_EOS] = (int64_t)tt.n_tokens + 1; /* <|end_of_text|> */
    if (note_cap)
        snprintf(note, note_cap, "tokenizer.model is a tiktoken rank file: %zu tokens, %zu merges rebuilt; special "
                 "tokens %zu..%llu from the %s table (params.json %s use_scaled_rope: true); BOS %zu, EOS %zu "
                 "<|end_of_text|> (a base model's, as transformers' converter sets); pre %s; no chat template (Meta's "
                 "folder has none)",
                 tt.n_tokens, tt.n_merges, tt.n_tokens, (unsigned long long)have - 1, qk_llama3_table_name(table),
                 table == QK_LLAMA3_TABLE_31 ? "has" : "has no", tt.n_tokens, tt.n_tokens + 1, pre);
    rc = QK_OK;
out:
    if (rc) qk_vocab_free(out);
    qk_tiktoken_free(&tt);
    cJSON_Delete(params);
    return rc;
}
