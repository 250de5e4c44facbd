/* Kimi K2's tokenizer on the DeepSeek-V3 architecture (convert/vocab_kimi.c): a tiny DeepSeek-V3 checkpoint in
 * Kimi K2's tokenizer layout (tiktoken.model holding the ranks of the tiny byte-level vocabulary, no
 * tokenizer.json, tokenizer_config.json naming tokenization_kimi in auto_map and two of the reserved special
 * tokens, config.json model_type kimi_k2) converts to what llama.cpp's converter writes (DeepseekV2Model.set_vocab,
 * kimi-k2): ranks' tokens, QwenModel.bpe merges, the reserved ids as control tokens, pre kimi-k2, config.json's
 * BOS/EOS, the chat template; llama.cpp loads it, parses its special tokens and computes the reference's logits.
 * That QwenModel.bpe's merges tokenize as tiktoken does is test_tokenize_parity's, on Llama 3's real ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_run.h"
#include "gguf.h"
#include "json_edit.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "tiktoken_write.h"
#include "tiny_hf.h"

/* the tiny byte-level vocabulary's 3 added tokens (its last ids) become Kimi's first special ids */
enum { N_SPECIAL = 3 };

static const char k_template[] = "{% for m in messages %}<|im_{{ m.role }}|>{{ m.content }}<|im_end|>{% endfor %}";

/* writes the folder; returns the vocabulary size (0 after a failed CHECK) */
static int kimi_dir(char *dir, size_t n) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "deepseek3", s.n_layer = 3, s.n_embd = 64, s.n_head = 4, s.n_head_kv = 4, s.n_ff = 128;
    convert_write_tiny(dir, n, "tiny-kimi", &s);
    char p[900], q[900];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    snprintf(q, sizeof q, "%s/tiktoken.model", dir);
    cJSON *tj = json_file_read(p);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tj, "model"), "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tj, "added_tokens");
    const int nv = cJSON_GetArraySize(vocab) + cJSON_GetArraySize(added);
    cJSON_Delete(tj);
    CHECK(nv > 256 + N_SPECIAL);
    CHECK(tiktoken_write_of_tokjson(p, q, 0) == 0); /* model.vocab: the ranks; added_tokens: the specials */
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    cJSON *t = cJSON_CreateObject();
    cJSON *am = cJSON_AddArrayToObject(cJSON_AddObjectToObject(t, "auto_map"), "AutoTokenizer");
    cJSON_AddItemToArray(am, cJSON_CreateString("tokenization_kimi.TikTokenTokenizer"));
    cJSON_AddItemToArray(am, cJSON_CreateNull());
    cJSON_AddStringToObject(t, "tokenizer_class", "TikTokenTokenizer");
    cJSON_AddStringToObject(t, "bos_token", "[BOS]");
    cJSON_AddStringToObject(t, "eos_token", "[EOS]");
    cJSON_AddStringToObject(t, "chat_template", k_template);
    cJSON *atd = cJSON_AddObjectToObject(t, "added_tokens_decoder");
    static const char *const named[2] = {"[BOS]", "[EOS]"}; /* the last id left unnamed: reserved */
    for (int i = 0; i < 2; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", nv - N_SPECIAL + i);
        cJSON *e = cJSON_AddObjectToObject(atd, id);
        cJSON_AddStringToObject(e, "content", named[i]);
        cJSON_AddBoolToObject(e, "special", 1);
    }
    CHECK(json_file_write(p, t, 0) == 0);
    cJSON_Delete(t);
    convert_edit_config(dir, "model_type", "\"kimi_k2\"");
    return nv;
}

static void test_kimi_tokenizer(void) {
    char dir[700], out[800], want[64];
    const int nv = kimi_dir(dir, sizeof dir), nr = nv - N_SPECIAL; /* ranks 0..nr-1, special ids nr.. */
    if (!nv) return;
    snprintf(out, sizeof out, "%s/tiny-kimi-f32.gguf", qk_test_tmpdir());
    logit_ref r;
    if (logit_ref_hf(&r, dir)) return;
    llama_run_model *m = logit_convert_load(dir, out, "f32", &r);
    if (m) {
        logit_ref_compare(&r, m, 1, 0, 2e-3, "kimi (deepseek2) f32");
        char v[256];
        CHECK(llama_run_meta(m, "tokenizer.ggml.pre", v, sizeof v) && !strcmp(v, "kimi-k2"));
        CHECK(llama_run_meta(m, "tokenizer.ggml.model", v, sizeof v) && !strcmp(v, "gpt2"));
        snprintf(want, sizeof want, "%d", nr); /* config.json's bos_token_id, eos_token_id */
        CHECK(llama_run_meta(m, "tokenizer.ggml.bos_token_id", v, sizeof v) && !strcmp(v, want));
        snprintf(want, sizeof want, "%d", nr + 1);
        CHECK(llama_run_meta(m, "tokenizer.ggml.eos_token_id", v, sizeof v) && !strcmp(v, want));
        CHECK(llama_run_meta(m, "tokenizer.chat_template", v, sizeof v) && !strcmp(v, k_template));
        /* the special tokens are control tokens llama.cpp parses as one id each */
        int32_t ids[64];
        char text[128];
        snprintf(text, sizeof text, "[BOS]hello<|reserved_token_%d|>[EOS]", nr + 2);
        const int n = llama_run_tokenize(m, text, strlen(text), false, true, ids, 64);
        CHECK_MSG(n >= 3 && ids[0] == nr && ids[n - 2] == nr + 2 && ids[n - 1] == nr + 1, "%d ids, first %d last %d", n,
                  n > 0 ? ids[0] : -1, n > 0 ? ids[n - 1] : -1);
        llama_run_free(m);
    }
    logit_ref_free(&r);
    qk_gguf_file *gf = gguf_open_checked(out);
    if (!gf) return;
    const qk_gguf_kv *types = qk_gguf_find(&gf->meta, "tokenizer.ggml.token_type");
    const qk_gguf_kv *merges = qk_gguf_find(&gf->meta, "tokenizer.ggml.merges");
    CHECK(types && types->n == (uint64_t)nv);
    for (uint64_t i = 0; types && i < types->n; i++) {
        int64_t t = -1;
        CHECK(qk_gguf_arr_int(types, i, &t));
        CHECK_MSG(t == (i < (uint64_t)nr ? 1 : 3), "token %llu has type %lld", (unsigned long long)i, (long long)t); /* normal, control */
    }
    const char *tb = convert_gguf_str_at(gf, "tokenizer.ggml.tokens", (uint64_t)nr);
    const char *tr = convert_gguf_str_at(gf, "tokenizer.ggml.tokens", (uint64_t)nr + 2);
    snprintf(want, sizeof want, "<|reserved_token_%d|>", nr + 2);
    CHECK(tb && !strcmp(tb, "[BOS]"));
    CHECK(tr && !strcmp(tr, want));
    const char *ta = convert_gguf_str_at(gf, "tokenizer.ggml.tokens", 'A'); /* rank = byte for the single bytes here */
    CHECK(ta && !strcmp(ta, "A"));
    /* every merge joins two tokens into one of a higher rank: QwenModel.bpe's pairs (the rule's equivalence with
     * tiktoken is test_tokenize_parity's, on Llama 3's real ranks) */
    CHECK(merges && merges->n > 0 && merges->n <= (uint64_t)nr - 256);
    for (uint64_t i = 0; merges && i < merges->n; i++) {
        const char *mg = ((const qk_gguf_str *)merges->data)[i].s, *sp = strchr(mg, ' ');
        char joined[128];
        snprintf(joined, sizeof joined, "%.*s%s", (int)(sp ? sp - mg : 0), mg, sp ? sp + 1 : "");
        int found = -1;
        for (int k = 256; k < nr && found < 0; k++)
            if (!strcmp(convert_gguf_str_at(gf, "tokenizer.ggml.tokens", (uint64_t)k), joined)) found = k;
        CHECK_MSG(sp && found >= 0, "merge '%s' makes no token", mg);
    }
    qk_gguf_close(gf);
}

static void test_kimi_refusals(void) {
    char dir[700], p[800], want[64];
    const int nv = kimi_dir(dir, sizeof dir);
    /* a vocabulary larger than the ranks plus Kimi's 256 reserved ids (40 ranks here, 297 ids): which ids are
     * special then depends on the tokenizer code's version (256 or 258 reserved), so it is refused, not guessed */
    snprintf(p, sizeof p, "%s/tiktoken.model", dir);
    size_t len;
    char *t = (char *)qk_test_read_file(p, &len);
    CHECK(t != NULL);
    if (!t) return;
    size_t keep = 0, lines = 0;
    while (keep < len && lines < 40) lines += t[keep++] == '\n';
    CHECK(qk_test_write_file(p, t, keep) == 0);
    free(t);
    snprintf(want, sizeof want, "vocab_size is %d, but", nv);
    convert_expect_refusal(dir, want);
    /* Kimi's files with another architecture: named */
    char other[700];
    snprintf(other, sizeof other, "%s/tiny-kimi-llama/hf", qk_test_tmpdir());
    tiny_hf_spec s;
    tiny_hf_default(&s);
    CHECK(tiny_hf_write(other, &s) == 0);
    char a[900], b[900];
    snprintf(a, sizeof a, "%s/tokenizer.json", other);
    snprintf(b, sizeof b, "%s/tiktoken.model", other);
    CHECK(tiktoken_write_of_tokjson(a, b, 3) == 0);
    CHECK(remove(a) == 0);
    convert_expect_refusal(other, "only a tiktoken.model");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    llama_ref_init_backend();
    RUN(test_kimi_tokenizer);
    RUN(test_kimi_refusals);
    return qk_test_summary();
}
