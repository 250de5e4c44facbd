#include "tiny_hf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "float_formats.h"
#include "qk_test.h"

void tiny_hf_default(tiny_hf_spec *s) {
    *s = (tiny_hf_spec){2, 256, 4, 2, 512, false, "F32", 1, 1, "llama"};
}

/* GPT-2's byte -> printable unicode mapping, as UTF-8. */
static void byte_to_unicode(int b, char out[4]) {
    int cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) {
        cp = b;
    } else {
        int n = 0;
        for (int k = 0; k < b; k++)
            if (!((k >= 33 && k <= 126) || (k >= 161 && k <= 172) || (k >= 174 && k <= 255))) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) out[0] = (char)cp, out[1] = 0;
    else out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
}

static const char *k_merges[][2] = {
    {"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"e", "r"}, {"a", "n"}, {"o", "n"}, {"Ġ", "a"},
    {"r", "e"}, {"e", "s"}, {"Ġ", "s"}, {"o", "r"}, {"Ġ", "w"}, {"e", "n"}, {"a", "t"}, {"i", "s"},
    {"Ġ", "o"}, {"Ġ", "b"}, {"e", "d"}, {"Ġ", "c"}, {"in", "g"}, {"Ġ", "h"}, {"o", "u"}, {"Ġ", "f"},
    {"Ġa", "n"}, {"Ġan", "d"}, {"Ġ", "m"}, {"l", "l"}, {"Ġ", "d"}, {"a", "r"}, {"Ġ", "l"}, {"i", "t"},
    {"Ġo", "n"}, {"Ġt", "o"}, {"Ġw", "as"}, {"a", "s"}, {"Ġ", "p"}, {"Ġs", "t"}, {"Ġ", "1"}, {"1", "2"},
};
#define N_MERGES (int)(sizeof k_merges / sizeof k_merges[0])
#define RX_LLAMA3 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static int write_text(const char *dir, const char *name, const char *text) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return qk_test_write_file(p, text, strlen(text));
}

/* An added token's flags as Hugging Face writes them: special, never split
 * or normalized; rstrip as given. */
static void add_token_flags(cJSON *t, int rstrip) {
    cJSON_AddBoolToObject(t, "single_word", 0);
    cJSON_AddBoolToObject(t, "lstrip", 0);
    cJSON_AddBoolToObject(t, "rstrip", rstrip);
    cJSON_AddBoolToObject(t, "normalized", 0);
    cJSON_AddBoolToObject(t, "special", 1);
}

static int write_json(const char *dir, const char *name, cJSON *j) {
    char *s = cJSON_Print(j);
    int rc = write_text(dir, name, s);
    free(s);
    cJSON_Delete(j);
    return rc;
}

/* Returns the vocabulary size. */
static int write_tokenizer(const char *dir) {
    cJSON *vocab = cJSON_CreateObject();
    int id = 0;
    for (int b = 0; b < 256; b++) {
        char u[4];
        byte_to_unicode(b, u);
        cJSON_AddNumberToObject(vocab, u, id++);
    }
    cJSON *merges = cJSON_CreateArray();
    for (int m = 0; m < N_MERGES; m++) {
        char tok[32], pair[32];
        snprintf(tok, sizeof tok, "%s%s", k_merges[m][0], k_merges[m][1]);
        snprintf(pair, sizeof pair, "%s %s", k_merges[m][0], k_merges[m][1]);
        if (!cJSON_GetObjectItemCaseSensitive(vocab, tok)) cJSON_AddNumberToObject(vocab, tok, id++);
        cJSON_AddItemToArray(merges, cJSON_CreateString(pair));
    }
    const int bos = id, eos = id + 1, eot = id + 2;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "version", "1.0");
    cJSON_AddNullToObject(j, "truncation");
    cJSON_AddNullToObject(j, "padding");
    cJSON *added = cJSON_AddArrayToObject(j, "added_tokens");
    const char *specials[3] = {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"};
    for (int k = 0; k < 3; k++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "id", id + k);
        cJSON_AddStringToObject(t, "content", specials[k]);
        add_token_flags(t, 0);
        cJSON_AddItemToArray(added, t);
    }
    cJSON_AddNullToObject(j, "normalizer");
    cJSON *pre = cJSON_AddObjectToObject(j, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON *seq = cJSON_AddArrayToObject(pre, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON *pat = cJSON_AddObjectToObject(split, "pattern");
    cJSON_AddStringToObject(pat, "Regex", RX_LLAMA3);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(seq, split);
    cJSON *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", 0);
    cJSON_AddBoolToObject(bl, "trim_offsets", 1);
    cJSON_AddBoolToObject(bl, "use_regex", 0);
    cJSON_AddItemToArray(seq, bl);
    cJSON *dec = cJSON_AddObjectToObject(j, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON_AddBoolToObject(dec, "add_prefix_space", 1);
    cJSON_AddBoolToObject(dec, "trim_offsets", 1);
    cJSON_AddBoolToObject(dec, "use_regex", 1);
    cJSON *model = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON_AddBoolToObject(model, "ignore_merges", 1);
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON_AddItemToObject(model, "merges", merges);
    if (write_json(dir, "tokenizer.json", j)) return -1;

    cJSON *tc = cJSON_CreateObject();
    cJSON_AddStringToObject(tc, "bos_token", specials[0]);
    cJSON_AddStringToObject(tc, "eos_token", specials[2]);
    cJSON_AddBoolToObject(tc, "add_bos_token", 1);
    cJSON_AddStringToObject(tc, "tokenizer_class", "PreTrainedTokenizerFast");
    cJSON_AddStringToObject(tc, "chat_template",
                            "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|eot_id|>"
                            "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
    if (write_json(dir, "tokenizer_config.json", tc)) return -1;
    cJSON *sm = cJSON_CreateObject();
    cJSON_AddStringToObject(sm, "bos_token", specials[0]);
    cJSON_AddStringToObject(sm, "eos_token", specials[2]);
    if (write_json(dir, "special_tokens_map.json", sm)) return -1;
    cJSON *gc = cJSON_CreateObject();
    cJSON_AddNumberToObject(gc, "bos_token_id", bos);
    cJSON_AddNumberToObject(gc, "eos_token_id", eot);
    cJSON_AddNumberToObject(gc, "temperature", 0.6);
    cJSON_AddNumberToObject(gc, "top_p", 0.9);
    if (write_json(dir, "generation_config.json", gc)) return -1;
    (void)eos;
    return eot + 1;
}

/* ---- a small SentencePiece tokenizer.model (protobuf), for the Gemma family ---- */
typedef struct { unsigned char *p; size_t n, cap; } pb;
static void pb_put(pb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) { b->cap = (b->n + n) * 2 + 64; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void pb_varint(pb *b, uint64_t v) {
    do {
        unsigned char c = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v) c |= 0x80;
        pb_put(b, &c, 1);
    } while (v);
}
static void pb_bytes(pb *b, int field, const void *d, size_t n) {
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    pb_put(b, d, n);
}
static void pb_int(pb *b, int field, uint64_t v) { pb_varint(b, (uint64_t)field << 3); pb_varint(b, v); }

/* Writes tokenizer.model: <unk> <s> </s>, 256 byte pieces, a few words; returns the piece count.
 * tokenizer_class (may be NULL) goes to tokenizer_config.json, and so do the n_added special tokens
 * `added` (ids after the pieces, in added_tokens_decoder, as Phi-3 has its chat tokens). */
static int write_spm(const char *dir, const char *tokenizer_class, const char *const *added, int n_added) {
#define SP "\xe2\x96\x81" /* U+2581, SentencePiece's space */
    static const char *words[] = {SP "the", SP "a", SP "cat", SP "sat", "e", "t", SP};
#undef SP
    pb model = {0};
    int n = 0;
    for (int i = 0; i < 3 + 256 + (int)(sizeof words / sizeof words[0]); i++, n++) {
        char text[32];
        int type;
        float score = 0;
        if (i == 0) snprintf(text, sizeof text, "<unk>"), type = 2;
        else if (i == 1) snprintf(text, sizeof text, "<s>"), type = 3;
        else if (i == 2) snprintf(text, sizeof text, "</s>"), type = 3;
        else if (i < 259) snprintf(text, sizeof text, "<0x%02X>", i - 3), type = 6;
        else snprintf(text, sizeof text, "%s", words[i - 259]), type = 1, score = -(float)(i - 259);
        pb piece = {0};
        pb_bytes(&piece, 1, text, strlen(text));
        pb_varint(&piece, 2 << 3 | 5);
        pb_put(&piece, &score, 4);
        pb_int(&piece, 3, (uint64_t)type);
        pb_bytes(&model, 1, piece.p, piece.n);
        free(piece.p);
    }
    pb trainer = {0};
    pb_int(&trainer, 3, 2);  /* model_type BPE */
    pb_int(&trainer, 35, 1); /* byte_fallback */
    pb_int(&trainer, 40, 0); /* unk_id */
    pb_int(&trainer, 41, 1); /* bos_id */
    pb_int(&trainer, 42, 2); /* eos_id */
    pb_bytes(&model, 2, trainer.p, trainer.n);
    pb norm = {0};
    pb_bytes(&norm, 1, "identity", 8);
    pb_int(&norm, 3, 0); /* add_dummy_prefix */
    pb_bytes(&model, 3, norm.p, norm.n);
    char p[4200];
    snprintf(p, sizeof p, "%s/tokenizer.model", dir);
    int rc = qk_test_write_file(p, model.p, model.n);
    free(model.p), free(trainer.p), free(norm.p);
    if (rc) return -1;
    cJSON *tc = cJSON_CreateObject();
    cJSON_AddStringToObject(tc, "bos_token", "<s>");
    cJSON_AddStringToObject(tc, "eos_token", "</s>");
    cJSON_AddStringToObject(tc, "unk_token", "<unk>");
    cJSON_AddBoolToObject(tc, "add_bos_token", 1);
    if (tokenizer_class) cJSON_AddStringToObject(tc, "tokenizer_class", tokenizer_class);
    if (n_added) {
        cJSON *atd = cJSON_AddObjectToObject(tc, "added_tokens_decoder");
        for (int k = 0; k < n_added; k++) {
            char id[16];
            snprintf(id, sizeof id, "%d", n + k);
            cJSON *e = cJSON_AddObjectToObject(atd, id);
            cJSON_AddStringToObject(e, "content", added[k]);
            add_token_flags(e, 1);
        }
    }
    if (write_json(dir, "tokenizer_config.json", tc)) return -1;
    return n;
}

typedef struct {
    char name[96];
    int n_dims;
    int64_t shape[2];
    float scale, offset;
} tdef;

static void mkdir_p(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

int tiny_hf_write(const char *dir, const tiny_hf_spec *s) {
    mkdir_p(dir);
    const char *arch = s->arch ? s->arch : "llama";
    const bool qwen2 = !strcmp(arch, "qwen2"), qwen3 = !strcmp(arch, "qwen3");
    const bool gemma = !strncmp(arch, "gemma", 5), gemma2 = !strcmp(arch, "gemma2"), gemma3 = !strcmp(arch, "gemma3");
    const bool mixtral = !strcmp(arch, "mixtral"), phi3 = !strcmp(arch, "phi3");
    const int n_exp = 4;
    /* Phi-3's chat tokens follow the 32000 pieces (llama.cpp looks <|endoftext|> up for models named phi3) */
    static const char *const phi3_added[] = {"<|endoftext|>", "<|assistant|>", "<|end|>", "<|user|>"};
    int vocab = gemma ? write_spm(dir, NULL, NULL, 0)
              : phi3  ? write_spm(dir, "LlamaTokenizer", phi3_added, 4)
                      : write_tokenizer(dir);
    if (vocab < 0) return -1;
    const int spm_pieces = vocab;
    /* Phi-3's vocab_size (32064) pads the 32011 tokens: the 4 added ones and 2 [PAD] rows here */
    if (phi3) vocab += 6;
    /* Gemma 3's head_dim (256) is below hidden / heads (1152 / 4): half of it here */
    const int hd = gemma3 ? s->n_embd / s->n_head / 2 : s->n_embd / s->n_head;
    const int qd = hd * s->n_head, kd = hd * s->n_head_kv;
    cJSON *cfg = cJSON_CreateObject();
    const char *hf_arch = qwen2 ? "Qwen2ForCausalLM" : qwen3 ? "Qwen3ForCausalLM" : gemma2 ? "Gemma2ForCausalLM"
                        : gemma3 ? "Gemma3ForCausalLM" : gemma ? "GemmaForCausalLM" : mixtral ? "MixtralForCausalLM"
                        : phi3 ? "Phi3ForCausalLM" : !strcmp(arch, "mistral") ? "MistralForCausalLM" : "LlamaForCausalLM";
    cJSON *archs = cJSON_AddArrayToObject(cfg, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(hf_arch));
    cJSON_AddStringToObject(cfg, "model_type", gemma3 ? "gemma3_text" : arch);
    if (qwen3 || gemma) cJSON_AddNumberToObject(cfg, "head_dim", hd);
    if (mixtral) {
        cJSON_AddNumberToObject(cfg, "num_local_experts", n_exp);
        cJSON_AddNumberToObject(cfg, "num_experts_per_tok", 2);
    }
    if (gemma) cJSON_AddStringToObject(cfg, "hidden_activation", "gelu_pytorch_tanh");
    if (gemma2) {
        /* llama.cpp scales attention by 1/sqrt(head_dim): keep the HF scalar equal */
        cJSON_AddNumberToObject(cfg, "query_pre_attn_scalar", s->n_embd / s->n_head);
        cJSON_AddNumberToObject(cfg, "attn_logit_softcapping", 50.0);
        cJSON_AddNumberToObject(cfg, "final_logit_softcapping", 30.0);
        cJSON_AddNumberToObject(cfg, "sliding_window", 4096);
    }
    if (gemma3) {
        /* google/gemma-3-1b-it's config.json scaled down: query_pre_attn_scalar = head_dim (llama.cpp scales by
         * 1/sqrt(head_dim)), every 6th layer global with rope_theta and (as the 4B and larger) linear scaling 8,
         * the others sliding with the local base; a window of 4 (512 there) so a 12-token prompt crosses it */
        cJSON_AddNumberToObject(cfg, "query_pre_attn_scalar", hd);
        cJSON_AddNullToObject(cfg, "attn_logit_softcapping");
        cJSON_AddNullToObject(cfg, "final_logit_softcapping");
        cJSON_AddNumberToObject(cfg, "sliding_window", 4);
        cJSON_AddNumberToObject(cfg, "sliding_window_pattern", 6);
        cJSON_AddNumberToObject(cfg, "rope_local_base_freq", 10000.0);
        cJSON *rs = cJSON_AddObjectToObject(cfg, "rope_scaling");
        cJSON_AddNumberToObject(rs, "factor", 8.0);
        cJSON_AddStringToObject(rs, "rope_type", "linear");
        cJSON_AddBoolToObject(cfg, "attention_bias", 0);
    }
    if (phi3) {
        /* microsoft/Phi-3-mini-128k-instruct's config.json scaled down: 32x the original context through
         * long-rope (the short factors apply within the original 512, which covers llama.cpp's 256-token test
         * context; the long ones beyond), a sliding window of twice the context */
        cJSON_AddNumberToObject(cfg, "original_max_position_embeddings", 512);
        cJSON_AddNumberToObject(cfg, "sliding_window", 32768);
        cJSON_AddBoolToObject(cfg, "attention_bias", 0);
        cJSON *rs = cJSON_AddObjectToObject(cfg, "rope_scaling");
        cJSON *lf = cJSON_AddArrayToObject(rs, "long_factor"), *sf = cJSON_AddArrayToObject(rs, "short_factor");
        for (int i = 0; i < hd / 2; i++) {
            double x = (double)i / (hd / 2 - 1);
            cJSON_AddItemToArray(lf, cJSON_CreateNumber(1.0 + 47.0 * x * x));
            cJSON_AddItemToArray(sf, cJSON_CreateNumber(1.0 + 1.5 * x * x * x));
        }
        cJSON_AddStringToObject(rs, "type", "longrope");
    }
    cJSON_AddNumberToObject(cfg, "vocab_size", vocab);
    cJSON_AddNumberToObject(cfg, "hidden_size", s->n_embd);
    cJSON_AddNumberToObject(cfg, "intermediate_size", s->n_ff);
    cJSON_AddNumberToObject(cfg, "num_hidden_layers", s->n_layer);
    cJSON_AddNumberToObject(cfg, "num_attention_heads", s->n_head);
    cJSON_AddNumberToObject(cfg, "num_key_value_heads", s->n_head_kv);
    cJSON_AddNumberToObject(cfg, "max_position_embeddings", phi3 ? 16384 : gemma3 ? 32768 : 256);
    cJSON_AddNumberToObject(cfg, "rms_norm_eps", gemma3 ? 1e-6 : 1e-5);
    cJSON_AddNumberToObject(cfg, "rope_theta", gemma3 ? 1000000.0 : 10000.0);
    cJSON_AddStringToObject(cfg, "hidden_act", "silu");
    cJSON_AddBoolToObject(cfg, "tie_word_embeddings", gemma || s->tied);
    cJSON_AddNumberToObject(cfg, "bos_token_id", gemma || phi3 ? 1 : vocab - 3);
    cJSON_AddNumberToObject(cfg, "eos_token_id", phi3 ? spm_pieces : gemma ? 2 : vocab - 1);
    cJSON_AddStringToObject(cfg, "torch_dtype", !strcmp(s->dtype, "BF16") ? "bfloat16" : !strcmp(s->dtype, "F16") ? "float16" : "float32");
    if (write_json(dir, "config.json", cfg)) return -1;

    tdef *t = calloc(16 + (size_t)s->n_layer * 32, sizeof *t);
    int n = 0;
#define ADD(nd, a, b, sc, of, ...)                                              \
    do {                                                                        \
        snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__);                      \
        t[n].n_dims = nd, t[n].shape[0] = a, t[n].shape[1] = b;                  \
        t[n].scale = sc, t[n].offset = of;                                       \
        n++;                                                                    \
    } while (0)
    ADD(2, vocab, s->n_embd, 1.0f, 0, "model.embed_tokens.weight");
    ADD(1, s->n_embd, 1, 0.1f, gemma ? 0.0f : 1.0f, "model.norm.weight");
    if (!s->tied && !gemma) ADD(2, vocab, s->n_embd, 0.1f, 0, "lm_head.weight");
    const float ws = 1.0f / (float)s->n_embd * 4.0f;
    const float norm_center = gemma ? 0.0f : 1.0f; /* Gemma's RMSNorm multiplies by (1 + w) */
    for (int l = 0; l < s->n_layer; l++) {
        ADD(1, s->n_embd, 1, 0.1f, norm_center, "model.layers.%d.input_layernorm.weight", l);
        if (phi3) {
            ADD(2, qd + 2 * kd, s->n_embd, ws, 0, "model.layers.%d.self_attn.qkv_proj.weight", l);
        } else {
            ADD(2, qd, s->n_embd, ws, 0, "model.layers.%d.self_attn.q_proj.weight", l);
            ADD(2, kd, s->n_embd, ws, 0, "model.layers.%d.self_attn.k_proj.weight", l);
            ADD(2, kd, s->n_embd, ws, 0, "model.layers.%d.self_attn.v_proj.weight", l);
        }
        ADD(2, s->n_embd, qd, ws, 0, "model.layers.%d.self_attn.o_proj.weight", l);
        if (qwen2) {
            ADD(1, s->n_embd, 1, 0.1f, 0, "model.layers.%d.self_attn.q_proj.bias", l);
            ADD(1, hd * s->n_head_kv, 1, 0.1f, 0, "model.layers.%d.self_attn.k_proj.bias", l);
            ADD(1, hd * s->n_head_kv, 1, 0.1f, 0, "model.layers.%d.self_attn.v_proj.bias", l);
        }
        if (qwen3 || gemma3) {
            ADD(1, hd, 1, 0.1f, norm_center, "model.layers.%d.self_attn.q_norm.weight", l);
            ADD(1, hd, 1, 0.1f, norm_center, "model.layers.%d.self_attn.k_norm.weight", l);
        }
        ADD(1, s->n_embd, 1, 0.1f, norm_center, "model.layers.%d.post_attention_layernorm.weight", l);
        if (gemma2 || gemma3) {
            ADD(1, s->n_embd, 1, 0.1f, norm_center, "model.layers.%d.pre_feedforward_layernorm.weight", l);
            ADD(1, s->n_embd, 1, 0.1f, norm_center, "model.layers.%d.post_feedforward_layernorm.weight", l);
        }
        if (mixtral) {
            ADD(2, n_exp, s->n_embd, ws * 4, 0, "model.layers.%d.block_sparse_moe.gate.weight", l);
            for (int e = 0; e < n_exp; e++) {
                ADD(2, s->n_ff, s->n_embd, ws, 0, "model.layers.%d.block_sparse_moe.experts.%d.w1.weight", l, e);
                ADD(2, s->n_embd, s->n_ff, ws, 0, "model.layers.%d.block_sparse_moe.experts.%d.w2.weight", l, e);
                ADD(2, s->n_ff, s->n_embd, ws, 0, "model.layers.%d.block_sparse_moe.experts.%d.w3.weight", l, e);
            }
        } else if (phi3) {
            ADD(2, 2 * s->n_ff, s->n_embd, ws, 0, "model.layers.%d.mlp.gate_up_proj.weight", l);
            ADD(2, s->n_embd, s->n_ff, ws, 0, "model.layers.%d.mlp.down_proj.weight", l);
        } else {
            ADD(2, s->n_ff, s->n_embd, ws, 0, "model.layers.%d.mlp.gate_proj.weight", l);
            ADD(2, s->n_ff, s->n_embd, ws, 0, "model.layers.%d.mlp.up_proj.weight", l);
            ADD(2, s->n_embd, s->n_ff, ws, 0, "model.layers.%d.mlp.down_proj.weight", l);
        }
    }
#undef ADD
    const size_t es = !strcmp(s->dtype, "F32") ? 4 : 2;
    const int shards = s->shards > 1 ? s->shards : 1;
    cJSON *wmap = cJSON_CreateObject();
    qk_rng rng = {s->seed * 2654435761u + 17};
    int rc = 0;
    for (int sh = 0; sh < shards && !rc; sh++) {
        char fname[64];
        if (shards == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", sh + 1, shards);
        cJSON *hdr = cJSON_CreateObject();
        cJSON *meta = cJSON_AddObjectToObject(hdr, "__metadata__");
        cJSON_AddStringToObject(meta, "format", "pt");
        uint64_t off = 0;
        for (int i = sh; i < n; i += shards) {
            uint64_t nel = (uint64_t)t[i].shape[0] * (uint64_t)(t[i].n_dims == 2 ? t[i].shape[1] : 1);
            cJSON *e = cJSON_AddObjectToObject(hdr, t[i].name);
            cJSON_AddStringToObject(e, "dtype", s->dtype);
            cJSON *shp = cJSON_AddArrayToObject(e, "shape");
            for (int d = 0; d < t[i].n_dims; d++) cJSON_AddItemToArray(shp, cJSON_CreateNumber((double)t[i].shape[d]));
            cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
            cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
            cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + nel * es)));
            off += nel * es;
            cJSON_AddStringToObject(wmap, t[i].name, fname);
        }
        char *h = cJSON_PrintUnformatted(hdr);
        cJSON_Delete(hdr);
        size_t hl = strlen(h);
        size_t pad = (8 - hl % 8) % 8;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, fname);
        FILE *f = fopen(p, "wb");
        if (!f) {
            free(h);
            rc = -1;
            break;
        }
        uint64_t total = hl + pad;
        unsigned char lb[8];
        for (int k = 0; k < 8; k++) lb[k] = (unsigned char)(total >> (8 * k));
        fwrite(lb, 1, 8, f);
        fwrite(h, 1, hl, f);
        for (size_t k = 0; k < pad; k++) fputc(' ', f);
        free(h);
        for (int i = sh; i < n; i += shards) {
            uint64_t nel = (uint64_t)t[i].shape[0] * (uint64_t)(t[i].n_dims == 2 ? t[i].shape[1] : 1);
            rng.s = s->seed * 2654435761u + 17 + (uint64_t)i * 7919; /* per tensor: independent of sharding */
            for (uint64_t k = 0; k < nel; k++) {
                float v = t[i].offset + t[i].scale * qk_rng_gauss(&rng);
                if (es == 4) {
                    fwrite(&v, 4, 1, f);
                } else {
                    uint16_t hv = !strcmp(s->dtype, "F16") ? qk_fp32_to_fp16(v) : qk_fp32_to_bf16(v);
                    fwrite(&hv, 2, 1, f);
                }
            }
        }
        if (fclose(f)) rc = -1;
    }
    if (!rc && shards > 1) {
        cJSON *idx = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(idx, "metadata");
        cJSON_AddNumberToObject(md, "total_size", 0);
        cJSON_AddItemToObject(idx, "weight_map", wmap);
        rc = write_json(dir, "model.safetensors.index.json", idx);
    } else {
        cJSON_Delete(wmap);
    }
    free(t);
    if (rc) fprintf(stderr, "tiny_hf_write(%s) failed\n", dir);
    return rc;
}
