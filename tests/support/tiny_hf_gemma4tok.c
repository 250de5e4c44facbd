/* tiny_hf_gemma4tok.c - a small tokenizer in the layout of Gemma's tokenizer.json (the layout of the real
 * Gemma tokenizer in $QK_TOKENIZERS_DIR/gemma, with Gemma 4's extra tokens), for the tiny Gemma 4 checkpoints
 * and the Gemma 4 tokenizer tests. Test support only.
 *
 * The structure Gemma4Model.set_vocab (gguf-py LlamaHfVocab) expects and Gemma's files have:
 *   normalizer Replace " " -> U+2581, no pre_tokenizer, a TemplateProcessing post_processor that adds <bos>,
 *   decoder Sequence [Replace U+2581 -> " ", ByteFallback, Fuse],
 *   model BPE with byte_fallback, unk_token <unk>, fuse_unk, merges as [left, right] pairs;
 *   ids: <pad> <eos> <bos> <unk> <mask>, the turn / tool / channel / image / audio tokens, newline runs
 *   (as Gemma's ids 108..), the 256 byte tokens <0x00>..<0xFF>, single characters, an ordinary "</s>", then
 *   merge results;
 *   every special token also in added_tokens (special, not normalized), as Gemma's files list them.
 * The merges are learnt here, SentencePiece-like, from a fixed text: the most frequent adjacent pair first
 * (ties: the smaller concatenation), never across a newline, U+2581 only at the start of a piece (runs of
 * U+2581 merge with each other), newline runs only with newline runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

const char *const tiny_gemma4_specials[TINY_GEMMA4_N_SPECIAL] = {
    "<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>", "<|turn>", "<turn|>",
    "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", "<|tool_response>", "<tool_response|>", "<|\"|>",
    "<|image>", "<image|>", "<|image|>", "<|audio>", "<audio|>", "<|audio|>", "<unused0>", "<unused1>",
};

#define SP "\xe2\x96\x81" /* U+2581 */
#define N_NL 8            /* newline runs "\n" .. 8 x "\n" */
#define N_LEARNT 100

static const char k_corpus[] =
    "The quick brown fox jumps over the lazy dog. Hello world! Hello, how are you today?\n"
    "This is a test of the tokenizer: numbers 123 4567 and 3.14159, words like tokenization, tokenizer, token.\n"
    "int main(void) { return 0; }  // a comment\n"
    "    for (int i = 0; i < n; i++) printf(\"%d\\n\", i);\n"
    "def hello(name):\n    return f\"Hello {name}\"\n\n"
    "The weather is nice. There are three things: the sea, the sky and the sun. They went there together.\n"
    "I'm sure you'll see what we've done; it's what they'd do. Don't stop!\n"
    "https://example.com/path?query=value&other=1 user@example.org\n"
    "Gemma models are lightweight, state-of-the-art open models. Let's translate this into another language.\n";

typedef struct {
    char **tok; /* token texts by id */
    int n, cap;
} tlist;

static int tl_find(const tlist *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->tok[i], s)) return i;
    return -1;
}

static int tl_add(tlist *l, const char *s) {
    int k = tl_find(l, s);
    if (k >= 0) return k;
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 1024;
        char **nt = realloc(l->tok, (size_t)nc * sizeof *nt);
        if (!nt) return -1;
        l->tok = nt, l->cap = nc;
    }
    l->tok[l->n] = strdup(s);
    return l->tok[l->n] ? l->n++ : -1;
}

static int utf8_len(unsigned char c) { return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2; }

static bool all_of(const char *s, const char *unit) {
    size_t u = strlen(unit);
    if (!*s) return false;
    for (; *s; s += u)
        if (strncmp(s, unit, u)) return false;
    return true;
}

/* may a and b be merged? */
static bool mergeable(const char *a, const char *b) {
    if (strlen(a) + strlen(b) > 24) return false;
    bool a_nl = strchr(a, '\n') != NULL, b_nl = strchr(b, '\n') != NULL;
    if (a_nl || b_nl) return false; /* newline runs have their own merges */
    if (strstr(b, SP)) return all_of(a, SP) && all_of(b, SP);
    return true;
}

int tiny_hf_tokenizer_gemma4(const char *dir) {
    tlist v = {0};
    int rc = -1;
    cJSON *merges = cJSON_CreateArray();
    char **seq = NULL;
    int nseq = 0;
    for (int i = 0; i < TINY_GEMMA4_N_SPECIAL; i++)
        if (tl_add(&v, tiny_gemma4_specials[i]) != i) goto out;
    char nl[N_NL + 1] = "";
    for (int k = 1; k <= N_NL; k++) {
        nl[k - 1] = '\n', nl[k] = '\0';
        if (tl_add(&v, nl) < 0) goto out;
    }
    for (int b = 0; b < 256; b++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", b);
        if (tl_add(&v, t) < 0) goto out;
    }
    /* single characters: U+2581, printable ASCII, a few others (anything else falls back to bytes) */
    if (tl_add(&v, SP) < 0) goto out;
    for (int c = 0x21; c < 0x7f; c++) {
        char t[2] = {(char)c, 0};
        if (tl_add(&v, t) < 0) goto out;
    }
    static const char *const extra[] = {"\xc3\xa9", "\xc3\xbc", "\xc3\xb1", "\xe2\x80\x99", "\xe2\x80\x94",
                                        "\xe4\xb8\x96", "\xe7\x95\x8c", "\xd0\xb4"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (tl_add(&v, extra[i]) < 0) goto out;
    /* an ordinary (not added) "</s>", as Gemma's vocabularies have one (llama.cpp marks every "</s>" an
     * end-of-generation control token, and for gemma4 takes that back when "<|tool_response>" exists) */
    if (tl_add(&v, "</s>") < 0) goto out;
    /* newline runs: every split of a run of up to N_NL, shorter runs first (so any run up to N_NL merges whole) */
    for (int total = 2; total <= N_NL; total++)
        for (int left = 1; left < total; left++) {
            char a[N_NL + 1], b[N_NL + 1];
            memset(a, '\n', (size_t)left), a[left] = '\0';
            memset(b, '\n', (size_t)(total - left)), b[total - left] = '\0';
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateString(a));
            cJSON_AddItemToArray(pair, cJSON_CreateString(b));
            cJSON_AddItemToArray(merges, pair);
        }
    /* the corpus as symbols (characters, spaces as U+2581; newline: a barrier) */
    size_t clen = strlen(k_corpus);
    seq = calloc(clen + 1, sizeof *seq);
    if (!seq) goto out;
    for (size_t i = 0; i < clen;) {
        int l = utf8_len((unsigned char)k_corpus[i]);
        char t[8] = "";
        if (k_corpus[i] == ' ') strcpy(t, SP);
        else memcpy(t, k_corpus + i, (size_t)l);
        if (!(seq[nseq++] = strdup(t))) goto out;
        i += (size_t)l;
    }
    for (int m = 0; m < N_LEARNT; m++) {
        /* count pairs (quadratic, the text is small) */
        int best = -1, best_n = 0;
        char best_cat[64] = "";
        for (int i = 0; i + 1 < nseq; i++) {
            if (!mergeable(seq[i], seq[i + 1])) continue;
            char cat[64];
            snprintf(cat, sizeof cat, "%s%s", seq[i], seq[i + 1]);
            int cnt = 0;
            for (int j = 0; j + 1 < nseq; j++)
                if (!strcmp(seq[j], seq[i]) && !strcmp(seq[j + 1], seq[i + 1])) cnt++;
            if (cnt > best_n || (cnt == best_n && strcmp(cat, best_cat) < 0)) best = i, best_n = cnt, strcpy(best_cat, cat);
        }
        if (best < 0 || best_n < 2) break;
        char *a = strdup(seq[best]), *b = strdup(seq[best + 1]);
        if (!a || !b) {
            free(a), free(b);
            goto out;
        }
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(a));
        cJSON_AddItemToArray(pair, cJSON_CreateString(b));
        cJSON_AddItemToArray(merges, pair);
        if (tl_add(&v, best_cat) < 0) {
            free(a), free(b);
            goto out;
        }
        int o = 0;
        for (int i = 0; i < nseq; i++) {
            if (i + 1 < nseq && !strcmp(seq[i], a) && !strcmp(seq[i + 1], b)) {
                free(seq[i]), free(seq[i + 1]);
                seq[o++] = strdup(best_cat);
                i++;
            } else {
                seq[o++] = seq[i];
            }
        }
        nseq = o;
        free(a), free(b);
    }

    cJSON *added, *j = tiny_tokenizer_json(&added);
    for (int i = 0; i < TINY_GEMMA4_N_SPECIAL; i++) tiny_added_token(added, i, tiny_gemma4_specials[i], 0);
    cJSON *norm = cJSON_AddObjectToObject(j, "normalizer");
    cJSON_AddStringToObject(norm, "type", "Replace");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(norm, "pattern"), "String", " ");
    cJSON_AddStringToObject(norm, "content", SP);
    cJSON_AddNullToObject(j, "pre_tokenizer");
    cJSON *pp = cJSON_AddObjectToObject(j, "post_processor");
    cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
    for (int pair = 0; pair < 2; pair++) {
        cJSON *arr = cJSON_AddArrayToObject(pp, pair ? "pair" : "single");
        for (int part = 0; part <= pair; part++) {
            cJSON *st = cJSON_CreateObject(), *sq = cJSON_CreateObject();
            cJSON *sti = cJSON_AddObjectToObject(st, "SpecialToken"), *sqi = cJSON_AddObjectToObject(sq, "Sequence");
            cJSON_AddStringToObject(sti, "id", "<bos>");
            cJSON_AddNumberToObject(sti, "type_id", part);
            cJSON_AddStringToObject(sqi, "id", part ? "B" : "A");
            cJSON_AddNumberToObject(sqi, "type_id", part);
            cJSON_AddItemToArray(arr, st);
            cJSON_AddItemToArray(arr, sq);
        }
    }
    cJSON *spt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(pp, "special_tokens"), "<bos>");
    cJSON_AddStringToObject(spt, "id", "<bos>");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spt, "ids"), cJSON_CreateNumber(TINY_GEMMA4_BOS));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spt, "tokens"), cJSON_CreateString("<bos>"));
    cJSON *dec = cJSON_AddObjectToObject(j, "decoder");
    cJSON_AddStringToObject(dec, "type", "Sequence");
    cJSON *decs = cJSON_AddArrayToObject(dec, "decoders");
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "type", "Replace");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(rep, "pattern"), "String", SP);
    cJSON_AddStringToObject(rep, "content", " ");
    cJSON_AddItemToArray(decs, rep);
    cJSON *bf = cJSON_CreateObject(), *fu = cJSON_CreateObject();
    cJSON_AddStringToObject(bf, "type", "ByteFallback");
    cJSON_AddStringToObject(fu, "type", "Fuse");
    cJSON_AddItemToArray(decs, bf);
    cJSON_AddItemToArray(decs, fu);
    cJSON *model = tiny_bpe_model(j, true);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int i = 0; i < v.n; i++) cJSON_AddNumberToObject(vocab, v.tok[i], i);
    cJSON_AddItemToObject(model, "merges", merges);
    merges = NULL;
    if (tiny_hf_json(dir, "tokenizer.json", j)) goto out;

    cJSON *tc = cJSON_CreateObject();
    cJSON_AddBoolToObject(tc, "add_bos_token", 1);
    cJSON_AddBoolToObject(tc, "add_eos_token", 0);
    cJSON_AddStringToObject(tc, "bos_token", "<bos>");
    cJSON_AddStringToObject(tc, "eos_token", "<eos>");
    cJSON_AddStringToObject(tc, "unk_token", "<unk>");
    cJSON_AddStringToObject(tc, "pad_token", "<pad>");
    cJSON_AddStringToObject(tc, "mask_token", "<mask>");
    /* transformers 5's layout, as google/gemma-4-31B-it's tokenizer_config.json has it: the model-specific special
     * tokens as top-level "*_token" keys, then extra_special_tokens (<unused0> / <unused1> stay unnamed: added
     * tokens that are not special for transformers) */
    static const char *const named[][2] = {
        {"sot_token", "<|turn>"}, {"eot_token", "<turn|>"}, {"soc_token", "<|channel>"}, {"eoc_token", "<channel|>"},
        {"stc_token", "<|tool_call>"}, {"etc_token", "<tool_call|>"}, {"str_token", "<|tool_response>"},
        {"etr_token", "<tool_response|>"}, {"escape_token", "<|\"|>"}, {"boi_token", "<|image>"},
        {"eoi_token", "<image|>"}, {"image_token", "<|image|>"}, {"boa_token", "<|audio>"}, {"eoa_token", "<audio|>"},
        {"audio_token", "<|audio|>"}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) cJSON_AddStringToObject(tc, named[i][0], named[i][1]);
    cJSON *ext = cJSON_AddArrayToObject(tc, "extra_special_tokens");
    cJSON_AddItemToArray(ext, cJSON_CreateString("<start_of_turn>"));
    cJSON_AddItemToArray(ext, cJSON_CreateString("<end_of_turn>"));
    cJSON_AddBoolToObject(tc, "clean_up_tokenization_spaces", 0);
    cJSON_AddStringToObject(tc, "tokenizer_class", "GemmaTokenizer");
    cJSON_AddStringToObject(tc, "chat_template",
                            "{{ bos_token }}{% for m in messages %}<|turn>{{ m['role'] }}\n{{ m['content'] }}<turn|>\n"
                            "{% endfor %}{% if add_generation_prompt %}<|turn>model\n{% endif %}");
    if (tiny_hf_json(dir, "tokenizer_config.json", tc)) goto out;
    rc = v.n;
out:
    cJSON_Delete(merges);
    for (int i = 0; i < nseq; i++) free(seq[i]);
    free(seq);
    for (int i = 0; i < v.n; i++) free(v.tok[i]);
    free(v.tok);
    return rc;
}
