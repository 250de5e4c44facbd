#include "tiny_hf.h"
#include "tiny_hf_priv.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "float_formats.h"
#include "hf_forward.h"
#include "qk_test.h"

void tiny_hf_tmp(char *path, size_t n, const char *name) {
    tiny_hf_spec h;
    tiny_hf_default(&h);
    snprintf(path, n, "%s/%s", qk_test_tmpdir(), name);
    CHECK_MSG(tiny_hf_write(path, &h) == 0, "cannot write %s", path);
}

void tiny_hf_default(tiny_hf_spec *s) {
    *s = (tiny_hf_spec){2, 256, 4, 2, 512, false, "F32", 1, 1, "llama", 0, 0};
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

void tiny_added_token(cJSON *added, int id, const char *content, int rstrip) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "id", id);
    cJSON_AddStringToObject(t, "content", content);
    add_token_flags(t, rstrip);
    cJSON_AddItemToArray(added, t);
}

int tiny_hf_json(const char *dir, const char *name, cJSON *j) {
    char *s = cJSON_Print(j);
    int rc = write_text(dir, name, s);
    free(s);
    cJSON_Delete(j);
    return rc;
}

/* Returns the vocabulary size. */
int tiny_hf_tokenizer_bpe(const char *dir) {
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
    cJSON *added, *j = tiny_tokenizer_json(&added);
    const char *specials[3] = {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"};
    for (int k = 0; k < 3; k++) {
        tiny_added_token(added, id + k, specials[k], 0);
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
    cJSON *model = tiny_bpe_model(j, false);
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON_AddItemToObject(model, "merges", merges);
    if (tiny_hf_json(dir, "tokenizer.json", j)) return -1;

    cJSON *tc = cJSON_CreateObject();
    cJSON_AddStringToObject(tc, "bos_token", specials[0]);
    cJSON_AddStringToObject(tc, "eos_token", specials[2]);
    cJSON_AddBoolToObject(tc, "add_bos_token", 1);
    cJSON_AddStringToObject(tc, "tokenizer_class", "PreTrainedTokenizerFast");
    cJSON_AddStringToObject(tc, "chat_template",
                            "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|eot_id|>"
                            "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
    if (tiny_hf_json(dir, "tokenizer_config.json", tc)) return -1;
    cJSON *sm = cJSON_CreateObject();
    cJSON_AddStringToObject(sm, "bos_token", specials[0]);
    cJSON_AddStringToObject(sm, "eos_token", specials[2]);
    if (tiny_hf_json(dir, "special_tokens_map.json", sm)) return -1;
    cJSON *gc = cJSON_CreateObject();
    cJSON_AddNumberToObject(gc, "bos_token_id", bos);
    cJSON_AddNumberToObject(gc, "eos_token_id", eot);
    cJSON_AddNumberToObject(gc, "temperature", 0.6);
    cJSON_AddNumberToObject(gc, "top_p", 0.9);
    if (tiny_hf_json(dir, "generation_config.json", gc)) return -1;
    (void)eos;
    return eot + 1;
}

const char *const tiny_glm_tokens[4] = {"<|endoftext|>", "[gMASK]", "<|user|>", "<|observation|>"};

int tiny_hf_tokenizer_add(const char *dir, const char *const *texts, int n) {
    char p[1024];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    size_t len;
    char *t = (char *)qk_test_read_file(p, &len);
    cJSON *j = t ? cJSON_ParseWithLength(t, len) : NULL;
    free(t);
    cJSON *added = cJSON_GetObjectItemCaseSensitive(j, "added_tokens");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "model"), "vocab");
    if (!cJSON_IsArray(added) || !cJSON_IsObject(vocab)) {
        cJSON_Delete(j);
        return -1;
    }
    int id = cJSON_GetArraySize(vocab) + cJSON_GetArraySize(added);
    for (int k = 0; k < n; k++) tiny_added_token(added, id++, texts[k], 0);
    const int rc = tiny_hf_json(dir, "tokenizer.json", j);
    return rc ? -1 : id;
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
int tiny_hf_tokenizer_spm(const char *dir, const char *tokenizer_class, const char *const *added, int n_added) {
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
    if (tiny_hf_json(dir, "tokenizer_config.json", tc)) return -1;
    return n;
}


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
    /* the family files' writers: each writes its archs (0 / -1) and returns 1 for the others */
    static int (*const writers[])(const char *, const tiny_hf_spec *) = {
        tiny_hf_write_more,          tiny_hf_write_moe,       tiny_hf_write_hybrid,   tiny_hf_write_moe2,
        tiny_hf_write_llama4,        tiny_hf_write_qwen35,    tiny_hf_write_granitehybrid,
        tiny_hf_write_nemotronh,     tiny_hf_write_falconh1,  tiny_hf_write_mamba};
    for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++) {
        const int rc = writers[w](dir, s);
        if (rc <= 0) return rc;
    }
    const char *arch = s->arch ? s->arch : "llama";
    const bool qwen2moe = !strcmp(arch, "qwen2moe"), qwen3moe = !strcmp(arch, "qwen3moe");
    const bool seedoss = !strcmp(arch, "seedoss"); /* Seed-OSS: Qwen2's tensors (q/k/v biases) */
    const bool qwen2 = !strcmp(arch, "qwen2") || !strcmp(arch, "qwen2vl") || !strcmp(arch, "qwen25vl") || qwen2moe || seedoss;
    const bool qwen3 = !strcmp(arch, "qwen3") || qwen3moe;
    /* Qwen MoE: experts, their width, the shared expert's */
    const int n_qexp = s->n_expert > 0 ? s->n_expert : 8, qmoe_ff = s->n_ff_expert > 0 ? s->n_ff_expert : 64;
    const int qshared_ff = 128;
    const bool gemma = !strncmp(arch, "gemma", 5), gemma2 = !strcmp(arch, "gemma2");
    const bool gemma3 = !strcmp(arch, "gemma3") || !strcmp(arch, "gemma3cg");
    const bool mixtral = !strcmp(arch, "mixtral"), phimoe = !strcmp(arch, "phimoe");
    const bool phi3 = !strcmp(arch, "phi3") || phimoe; /* Phi-3.5-MoE: Phi-3's tokenizer and long-rope config */
    /* multimodal releases (the text model is converted): Gemma 3 4B+, Mistral Small 3.1 (their published
     * layout: language_model.model.*, text_config), Qwen2-VL (top-level config, model.* and visual.*),
     * Qwen2.5-VL as transformers >= 4.52 saves it (text_config, model.language_model.*, model.visual.*) */
    /* Ministral 3 (mistralai/Ministral-3-8B-Instruct-2512's layout): Mistral Small 3.1's with a text_config of
     * model_type ministral3, its rope only in rope_parameters (yarn, llama_4_scaling_beta); "ministral3text" is the
     * text-only Ministral3ForCausalLM (model.*, the text config at the top level) */
    const bool ministral3 = !strcmp(arch, "ministral3"), ministral3text = !strcmp(arch, "ministral3text");
    const bool gemma3cg = !strcmp(arch, "gemma3cg"), mistral3 = !strcmp(arch, "mistral3") || ministral3;
    const bool ministral = ministral3 || ministral3text;
    const bool qwen2vl = !strcmp(arch, "qwen2vl"), qwen25vl = !strcmp(arch, "qwen25vl");
    const bool nested = gemma3cg || mistral3 || qwen25vl; /* text_config */
    const bool phi2 = !strcmp(arch, "phi2"), starcoder2 = !strcmp(arch, "starcoder2"), stablelm = !strcmp(arch, "stablelm");
    const bool ln_bias = phi2 || starcoder2 || stablelm; /* LayerNorms with a bias */
    const bool norm_bias = ln_bias || phimoe;            /* norm biases (PhiMoE's LayerNorms keep rms_norm_eps) */
    const bool cohere2 = !strcmp(arch, "cohere2");
    const bool internlm3 = !strcmp(arch, "internlm3"), cohere = !strcmp(arch, "cohere") || cohere2, exaone = !strcmp(arch, "exaone");
    const bool smollm3 = !strcmp(arch, "smollm3"), granite = !strcmp(arch, "granite"), olmo3 = !strcmp(arch, "olmo3");
    const bool olmo2 = !strcmp(arch, "olmo2") || olmo3; /* OLMo 3: OLMo 2's tensors */
    const int n_exp = 4;
    /* Phi-3's chat tokens follow the 32000 pieces (llama.cpp looks <|endoftext|> up for models named phi3) */
    static const char *const phi3_added[] = {"<|endoftext|>", "<|assistant|>", "<|end|>", "<|user|>"};
    int vocab = gemma ? tiny_hf_tokenizer_spm(dir, NULL, NULL, 0)
              : phi3  ? tiny_hf_tokenizer_spm(dir, "LlamaTokenizer", phi3_added, 4)
              : internlm3 ? tiny_hf_tokenizer_spm(dir, "InternLM3Tokenizer", NULL, 0)
                      : tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    const int spm_pieces = vocab;
    /* Phi-3's vocab_size (32064) pads the 32011 tokens: the 4 added ones and 2 [PAD] rows here */
    if (phi3) vocab += 6;
    /* Gemma 3's head_dim (256) is below hidden / heads (1152 / 4): half of it here */
    /* Gemma 3 4B+ leave head_dim at Gemma3TextConfig's 256; Mistral Small's 128 is below hidden / heads */
    const int hd = gemma3cg ? 256 : gemma3 || mistral3 || ministral ? s->n_embd / s->n_head / 2 : s->n_embd / s->n_head;
    const int qd = hd * s->n_head, kd = hd * s->n_head_kv;
    cJSON *top = cJSON_CreateObject(), *cfg = nested ? cJSON_CreateObject() : top;
    const char *hf_arch = gemma3cg ? "Gemma3ForConditionalGeneration" : mistral3 ? "Mistral3ForConditionalGeneration"
                        : ministral3text ? "Ministral3ForCausalLM"
                        : qwen2vl ? "Qwen2VLForConditionalGeneration" : qwen25vl ? "Qwen2_5_VLForConditionalGeneration"
                        : qwen2moe ? "Qwen2MoeForCausalLM" : qwen3moe ? "Qwen3MoeForCausalLM"
                        : cohere2 ? "Cohere2ForCausalLM" : internlm3 ? "InternLM3ForCausalLM" : phi2 ? "PhiForCausalLM"
                        : starcoder2 ? "Starcoder2ForCausalLM" : stablelm ? "StableLmForCausalLM" : exaone ? "ExaoneForCausalLM" : cohere ? "CohereForCausalLM" : smollm3 ? "SmolLM3ForCausalLM" : granite ? "GraniteForCausalLM" : olmo3 ? "Olmo3ForCausalLM" : olmo2 ? "Olmo2ForCausalLM" : seedoss ? "SeedOssForCausalLM"
                        : qwen2 ? "Qwen2ForCausalLM" : qwen3 ? "Qwen3ForCausalLM" : gemma2 ? "Gemma2ForCausalLM"
                        : gemma3 ? "Gemma3ForCausalLM" : gemma ? "GemmaForCausalLM" : mixtral ? "MixtralForCausalLM"
                        : phimoe ? "PhiMoEForCausalLM" : phi3 ? "Phi3ForCausalLM" : !strcmp(arch, "mistral") ? "MistralForCausalLM" : "LlamaForCausalLM";
    cJSON *archs = cJSON_AddArrayToObject(top, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(hf_arch));
    cJSON_AddStringToObject(top, "model_type", phi2 ? "phi" : gemma3cg ? "gemma3" : qwen2vl ? "qwen2_vl" : qwen25vl ? "qwen2_5_vl" :
                            mistral3 ? "mistral3" : ministral3text ? "ministral3" :
                            qwen2moe ? "qwen2_moe" : qwen3moe ? "qwen3_moe" : gemma3 ? "gemma3_text" : seedoss ? "seed_oss" : arch);
    if (nested) {
        cJSON_AddItemToObject(top, "text_config", cfg);
        cJSON_AddStringToObject(cfg, "model_type", gemma3cg ? "gemma3_text" : ministral3 ? "ministral3" : mistral3 ? "mistral"
                                                                                                     : "qwen2_5_vl_text");
        cJSON *vc = cJSON_AddObjectToObject(top, "vision_config");
        cJSON_AddNumberToObject(vc, "hidden_size", 16);
        cJSON_AddStringToObject(vc, "model_type", gemma3cg ? "siglip_vision_model" : mistral3 ? "pixtral" : "qwen2_5_vl");
    }
    if (mistral3 || ministral3text) {
        cJSON_AddNumberToObject(cfg, "head_dim", hd);
        cJSON_AddNullToObject(cfg, "sliding_window");
    }
    if (mistral3) {
        cJSON_AddNumberToObject(top, "image_token_index", 10);
        cJSON_AddStringToObject(top, "projector_hidden_act", "gelu");
    }
    if (ministral) {
        /* Ministral-3-8B-Instruct-2512's text_config: rope_theta only in rope_parameters; factor 16 over an
         * original context of 4 (16384 there) so that the 12-token test prompt crosses it twice and the
         * llama-4 query scaling 1 + 0.1 ln(1 + floor(pos / 4)) acts; max_position_embeddings = factor x 4 */
        cJSON_AddNumberToObject(cfg, "attention_dropout", 0.0);
        cJSON_AddNumberToObject(cfg, "initializer_range", 0.02);
        cJSON_AddBoolToObject(cfg, "use_cache", 1);
        cJSON_AddItemToObject(cfg, "rope_parameters",
                              cJSON_Parse("{\"beta_fast\": 32.0, \"beta_slow\": 1.0, \"factor\": 16.0, "
                                          "\"llama_4_scaling_beta\": 0.1, \"mscale\": 1.0, \"mscale_all_dim\": 1.0, "
                                          "\"original_max_position_embeddings\": 4, \"rope_theta\": 1000000.0, "
                                          "\"rope_type\": \"yarn\", \"type\": \"yarn\"}"));
    }
    if (ministral3) {
        cJSON_AddBoolToObject(top, "multimodal_projector_bias", 0);
        cJSON_AddNumberToObject(top, "spatial_merge_size", 2);
        cJSON_AddNumberToObject(top, "vision_feature_layer", -1);
    }
    if (smollm3) {
        /* HuggingFaceTB/SmolLM3-3B: rope skipped on every 4th layer, listed per layer */
        cJSON *nr = cJSON_AddArrayToObject(cfg, "no_rope_layers");
        for (int l = 0; l < s->n_layer; l++) cJSON_AddItemToArray(nr, cJSON_CreateNumber((l + 1) % 4 != 0));
        cJSON_AddNumberToObject(cfg, "no_rope_layer_interval", 4);
        cJSON_AddBoolToObject(cfg, "use_sliding_window", 0);
        cJSON_AddNullToObject(cfg, "sliding_window");
        tiny_cfg_bools(cfg, 0, "attention_bias", "mlp_bias", NULL);
    }
    if (granite) {
        /* ibm-granite/granite-3.3-2b-instruct's multipliers */
        tiny_cfg_nums(cfg, "attention_multiplier", 0.015625, "embedding_multiplier", 12.0, "residual_multiplier", 0.22,
                      "logits_scaling", 8.0, NULL);
        tiny_cfg_bools(cfg, 0, "attention_bias", "mlp_bias", NULL);
    }
    if (olmo2) cJSON_AddBoolToObject(cfg, "attention_bias", 0);
    if (olmo3) { /* allenai/Olmo-3-7B-Instruct: 3 of 4 layers sliding (4096 there, 4 here) */
        cJSON_AddNumberToObject(cfg, "sliding_window", 4);
        cJSON *lt = cJSON_AddArrayToObject(cfg, "layer_types");
        for (int l = 0; l < s->n_layer; l++)
            cJSON_AddItemToArray(lt, cJSON_CreateString((l + 1) % 4 ? "sliding_attention" : "full_attention"));
        cJSON_AddNullToObject(cfg, "rope_scaling");
    }
    if (seedoss) { /* ByteDance-Seed/Seed-OSS-36B-Instruct */
        cJSON_AddBoolToObject(cfg, "attention_bias", 1);
        cJSON_AddBoolToObject(cfg, "attention_out_bias", 0);
        cJSON_AddBoolToObject(cfg, "mlp_bias", 0);
        cJSON_AddNumberToObject(cfg, "head_dim", hd);
    }
    if (starcoder2) { /* bigcode/starcoder2-3b */
        cJSON_AddNumberToObject(cfg, "norm_epsilon", 1e-5);
        cJSON_AddBoolToObject(cfg, "use_bias", 1);
        cJSON_AddNumberToObject(cfg, "sliding_window", 4096);
    }
    if (stablelm) { /* stabilityai/stablelm-2-1_6b */
        cJSON_AddNumberToObject(cfg, "layer_norm_eps", 1e-5);
        cJSON_AddNumberToObject(cfg, "partial_rotary_factor", 0.25);
        cJSON_AddBoolToObject(cfg, "use_qkv_bias", 1);
        cJSON_AddBoolToObject(cfg, "use_parallel_residual", 0);
        cJSON_AddBoolToObject(cfg, "qk_layernorm", 0);
    }
    if (phi2) { /* microsoft/phi-2: 40% of each head rotated, LayerNorm, GELU (tanh) */
        cJSON_AddNumberToObject(cfg, "partial_rotary_factor", 0.4);
        cJSON_AddNumberToObject(cfg, "layer_norm_eps", 1e-5);
        cJSON_AddBoolToObject(cfg, "qk_layernorm", 0);
        cJSON_AddNullToObject(cfg, "rope_scaling");
    }
    if (exaone) { /* LGAI-EXAONE/EXAONE-3.5-2.4B-Instruct: its own key names, llama3 rope scaling */
        cJSON_AddStringToObject(cfg, "activation_function", "silu");
        cJSON_AddNumberToObject(cfg, "layer_norm_epsilon", 1e-5);
        cJSON_AddNumberToObject(cfg, "head_dim", hd);
        cJSON *rs = cJSON_AddObjectToObject(cfg, "rope_scaling");
        cJSON_AddNumberToObject(rs, "factor", 8.0);
        cJSON_AddNumberToObject(rs, "high_freq_factor", 4.0);
        cJSON_AddNumberToObject(rs, "low_freq_factor", 1.0);
        cJSON_AddNumberToObject(rs, "original_max_position_embeddings", 64);
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
    }
    if (cohere) { /* CohereLabs/c4ai-command-r-v01 */
        cJSON_AddNumberToObject(cfg, "layer_norm_eps", 1e-5);
        cJSON_AddNumberToObject(cfg, "logit_scale", 0.0625);
        if (!cohere2) cJSON_AddNumberToObject(cfg, "model_max_length", 131072);
        if (cohere2) { /* CohereLabs/c4ai-command-r7b-12-2024: every 4th layer global without rope; window 4 here */
            cJSON_AddNumberToObject(cfg, "sliding_window", 4);
            cJSON_AddNumberToObject(cfg, "sliding_window_pattern", 4);
            cJSON_AddNumberToObject(cfg, "rotary_pct", 1.0);
        }
        cJSON_AddBoolToObject(cfg, "use_qk_norm", 0);
        cJSON_AddBoolToObject(cfg, "attention_bias", 0);
    }
    if (internlm3) { /* internlm/internlm3-8b-instruct: dynamic NTK rope x6, no biases, explicit head_dim */
        cJSON_AddNumberToObject(cfg, "head_dim", hd);
        cJSON_AddBoolToObject(cfg, "qkv_bias", 0);
        cJSON_AddBoolToObject(cfg, "bias", 0);
        cJSON *rs = cJSON_AddObjectToObject(cfg, "rope_scaling");
        cJSON_AddNumberToObject(rs, "factor", 6.0);
        cJSON_AddStringToObject(rs, "rope_type", "dynamic");
    }
    if (qwen2moe || qwen3moe) {
        /* Qwen/Qwen3-30B-A3B (128 experts, 8 used, renormalised) and Qwen1.5-MoE-A2.7B (60 experts, 4 used, a
         * shared expert, not renormalised), scaled down */
        cJSON_AddNumberToObject(cfg, "num_experts", n_qexp);
        cJSON_AddNumberToObject(cfg, "num_experts_per_tok", 2);
        cJSON_AddNumberToObject(cfg, "moe_intermediate_size", qmoe_ff);
        if (qwen2moe) cJSON_AddNumberToObject(cfg, "shared_expert_intermediate_size", qshared_ff);
        cJSON_AddBoolToObject(cfg, "norm_topk_prob", qwen3moe);
        cJSON_AddNumberToObject(cfg, "decoder_sparse_step", 1);
        cJSON_AddArrayToObject(cfg, "mlp_only_layers");
        cJSON_AddBoolToObject(cfg, "use_sliding_window", 0);
        cJSON_AddBoolToObject(cfg, "output_router_logits", 0);
    }
    if (qwen2vl || qwen25vl) {
        /* Qwen2-VL-2B's rope: M-RoPE sections [16, 24, 24] of 64 half-dims, scaled to head_dim / 2 */
        cJSON *rs = cJSON_AddObjectToObject(cfg, "rope_scaling");
        cJSON_AddStringToObject(rs, "type", "mrope");
        cJSON *ms = cJSON_AddArrayToObject(rs, "mrope_section");
        const int q = hd / 2 / 8;
        cJSON_AddItemToArray(ms, cJSON_CreateNumber(2 * q));
        cJSON_AddItemToArray(ms, cJSON_CreateNumber(3 * q));
        cJSON_AddItemToArray(ms, cJSON_CreateNumber(hd / 2 - 5 * q));
        cJSON_AddBoolToObject(cfg, "use_sliding_window", 0);
        cJSON_AddNumberToObject(cfg, "sliding_window", 32768);
        cJSON_AddNumberToObject(cfg, "max_window_layers", 28);
        if (!qwen25vl) {
            cJSON *vc = cJSON_AddObjectToObject(top, "vision_config");
            cJSON_AddNumberToObject(vc, "embed_dim", 16);
        }
    }
    if (qwen3 || gemma) cJSON_AddNumberToObject(cfg, "head_dim", hd);
    if (mixtral || phimoe) {
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
        cJSON_AddBoolToObject(cfg, "attention_bias", phimoe);
        cJSON *rs = cJSON_AddObjectToObject(cfg, "rope_scaling");
        if (phimoe) { /* microsoft/Phi-3.5-MoE-instruct: biases everywhere, SparseMixer's jitter, its own mscales */
            cJSON_AddBoolToObject(cfg, "lm_head_bias", 1);
            cJSON_AddNumberToObject(cfg, "router_jitter_noise", 0.01);
            cJSON_AddNumberToObject(cfg, "input_jitter_noise", 0.01);
            cJSON_AddNumberToObject(rs, "short_mscale", 1.243163121016122);
            cJSON_AddNumberToObject(rs, "long_mscale", 1.243163121016122);
            cJSON_AddNumberToObject(rs, "original_max_position_embeddings", 512);
        }
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
    cJSON_AddNumberToObject(cfg, exaone ? "num_layers" : "num_hidden_layers", s->n_layer);
    cJSON_AddNumberToObject(cfg, "num_attention_heads", s->n_head);
    if (phi2) cJSON_AddNullToObject(cfg, "num_key_value_heads");
    else cJSON_AddNumberToObject(cfg, "num_key_value_heads", s->n_head_kv);
    cJSON_AddNumberToObject(cfg, "max_position_embeddings", phi3 ? 16384 : gemma3 ? 32768 : ministral ? 64 : 256);
    if (!cohere && !exaone && !ln_bias) cJSON_AddNumberToObject(cfg, "rms_norm_eps", gemma3 ? 1e-6 : 1e-5);
    if (!ministral)
        cJSON_AddNumberToObject(cfg, "rope_theta", gemma3 ? 1000000.0 : mistral3 ? 1000000000.0 : cohere ? 8000000.0 : 10000.0);
    if (!exaone) cJSON_AddStringToObject(cfg, "hidden_act", phi2 ? "gelu_new" : starcoder2 ? "gelu_pytorch_tanh" : "silu");
    cJSON_AddBoolToObject(cfg, "tie_word_embeddings", gemma || s->tied);
    cJSON_AddNumberToObject(top, "bos_token_id", gemma || phi3 || internlm3 ? 1 : vocab - 3);
    cJSON_AddNumberToObject(top, "eos_token_id", phi3 ? spm_pieces : gemma || internlm3 ? 2 : vocab - 1);
    cJSON_AddStringToObject(top, ministral ? "dtype" : "torch_dtype", tiny_hf_torch_dtype(s));
    if (gemma3cg) {
        /* google/gemma-3-4b-it's text_config names only hidden_size, intermediate_size, num_hidden_layers,
         * rope_scaling and sliding_window (vocab_size too here, to keep the model tiny): the rest are
         * Gemma3TextConfig's defaults (8 heads, 4 kv heads, head_dim 256, eps 1e-6, rope 1e6 / 1e4 ...) */
        static const char *const gone[] = {"num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
                                           "rope_theta", "rope_local_base_freq", "query_pre_attn_scalar",
                                           "max_position_embeddings", "hidden_act", "hidden_activation",
                                           "attn_logit_softcapping", "final_logit_softcapping", "sliding_window_pattern",
                                           "attention_bias", "tie_word_embeddings"};
        for (size_t k = 0; k < sizeof gone / sizeof gone[0]; k++) cJSON_DeleteItemFromObjectCaseSensitive(cfg, gone[k]);
    }
    if (tiny_hf_json(dir, "config.json", top)) return -1;

    /* per layer: the dense tensors, and 3 per expert for the MoE families */
    tdef *t = calloc(16 + (size_t)s->n_layer * (64 + 3 * (size_t)n_qexp), sizeof *t);
    if (!t) return -1;
    int n = 0;
#define ADD(nd, a, b, sc, of, ...)                                              \
    do {                                                                        \
        snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__);                      \
        t[n].n_dims = nd, t[n].shape[0] = a, t[n].shape[1] = b;                  \
        t[n].scale = sc, t[n].offset = of;                                       \
        n++;                                                                    \
    } while (0)
    const float ws_vis = 0.25f;
    /* the language model's prefix in each published layout */
    const char *M = gemma3cg || mistral3 ? "language_model.model." : qwen25vl ? "model.language_model." : "model.";
    ADD(2, vocab, s->n_embd, 1.0f, 0, "%sembed_tokens.weight", M);
    ADD(1, s->n_embd, 1, 0.1f, gemma ? 0.0f : 1.0f, "%s%s.weight", M, phi2 ? "final_layernorm" : "norm");
    if (norm_bias) ADD(1, s->n_embd, 1, 0.1f, 0, "%s%s.bias", M, phi2 ? "final_layernorm" : "norm");
    if (!s->tied && !gemma) ADD(2, vocab, s->n_embd, 0.1f, 0, "%slm_head.weight", mistral3 ? "language_model." : "");
    if (phi2 || phimoe) ADD(1, vocab, 1, 0.1f, 0, "lm_head.bias");
    /* a few tensors of each vision side (left out by convert) */
    if (gemma3cg) {
        ADD(2, 16, 16, ws_vis, 0, "vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight");
        ADD(1, 16, 1, 0.1f, 1.0f, "vision_tower.vision_model.post_layernorm.weight");
        ADD(2, 16, s->n_embd, ws_vis, 0, "multi_modal_projector.mm_input_projection_weight");
        ADD(1, 16, 1, 0.1f, 0, "multi_modal_projector.mm_soft_emb_norm.weight");
    } else if (mistral3) {
        ADD(2, 16, 16, ws_vis, 0, "vision_tower.transformer.layers.0.attention.q_proj.weight");
        ADD(1, 16, 1, 0.1f, 1.0f, "vision_tower.ln_pre.weight");
        ADD(2, s->n_embd, 16, ws_vis, 0, "multi_modal_projector.linear_1.weight");
        ADD(1, 16, 1, 0.1f, 1.0f, "multi_modal_projector.norm.weight");
    } else if (qwen2vl || qwen25vl) {
        ADD(2, 48, 16, ws_vis, 0, "%svisual.blocks.0.attn.qkv.weight", qwen25vl ? "model." : "");
        ADD(1, 16, 1, 0.1f, 1.0f, "%svisual.merger.ln_q.weight", qwen25vl ? "model." : "");
    }
    const float ws = 1.0f / (float)s->n_embd * 4.0f;
    /* Ministral 3: sharper attention (q.k x 36), so that its query scaling moves the logits beyond the F32
     * tolerance (the reference without it: 2.5e-3 of the largest logit from llama.cpp's F32 logits, 1.4e-4 with
     * the default weights, against 2.6e-5 with it) */
    const float wqk = ministral ? ws * 6.0f : ws;
    const float norm_center = gemma ? 0.0f : 1.0f; /* Gemma's RMSNorm multiplies by (1 + w) */
    for (int l = 0; l < s->n_layer; l++) {
        if (!olmo2) ADD(1, s->n_embd, 1, 0.1f, norm_center, "%slayers.%d.input_layernorm.weight", M, l);
        if (norm_bias) ADD(1, s->n_embd, 1, 0.1f, 0, "%slayers.%d.input_layernorm.bias", M, l);
        if (phi3 && !phimoe) {
            ADD(2, qd + 2 * kd, s->n_embd, ws, 0, "%slayers.%d.self_attn.qkv_proj.weight", M, l);
        } else {
            ADD(2, qd, s->n_embd, wqk, 0, "%slayers.%d.self_attn.q_proj.weight", M, l);
            ADD(2, kd, s->n_embd, wqk, 0, "%slayers.%d.self_attn.k_proj.weight", M, l);
            ADD(2, kd, s->n_embd, ws, 0, "%slayers.%d.self_attn.v_proj.weight", M, l);
        }
        ADD(2, s->n_embd, qd, ws, 0, "%slayers.%d.self_attn.%s.weight", M, l, phi2 ? "dense" : "o_proj");
        if (phi2 || starcoder2 || phimoe)
            ADD(1, s->n_embd, 1, 0.1f, 0, "%slayers.%d.self_attn.%s.bias", M, l, phi2 ? "dense" : "o_proj");
        if (qwen2 || ln_bias || phimoe) {
            ADD(1, s->n_embd, 1, 0.1f, 0, "%slayers.%d.self_attn.q_proj.bias", M, l);
            ADD(1, hd * s->n_head_kv, 1, 0.1f, 0, "%slayers.%d.self_attn.k_proj.bias", M, l);
            ADD(1, hd * s->n_head_kv, 1, 0.1f, 0, "%slayers.%d.self_attn.v_proj.bias", M, l);
        }
        if (olmo2) { /* OLMo 2's q/k norms span all heads */
            ADD(1, qd, 1, 0.1f, 1.0f, "%slayers.%d.self_attn.q_norm.weight", M, l);
            ADD(1, kd, 1, 0.1f, 1.0f, "%slayers.%d.self_attn.k_norm.weight", M, l);
        }
        if (qwen3 || gemma3) {
            ADD(1, hd, 1, 0.1f, norm_center, "%slayers.%d.self_attn.q_norm.weight", M, l);
            ADD(1, hd, 1, 0.1f, norm_center, "%slayers.%d.self_attn.k_norm.weight", M, l);
        }
        if (!cohere && !phi2) ADD(1, s->n_embd, 1, 0.1f, norm_center, "%slayers.%d.post_attention_layernorm.weight", M, l);
        if (starcoder2 || stablelm || phimoe)
            ADD(1, s->n_embd, 1, 0.1f, 0, "%slayers.%d.post_attention_layernorm.bias", M, l);
        if (olmo2) ADD(1, s->n_embd, 1, 0.1f, norm_center, "%slayers.%d.post_feedforward_layernorm.weight", M, l);
        if (gemma2 || gemma3) {
            ADD(1, s->n_embd, 1, 0.1f, norm_center, "%slayers.%d.pre_feedforward_layernorm.weight", M, l);
            ADD(1, s->n_embd, 1, 0.1f, norm_center, "%slayers.%d.post_feedforward_layernorm.weight", M, l);
        }
        if (mixtral || phimoe) {
            ADD(2, n_exp, s->n_embd, ws * 4, 0, "%slayers.%d.block_sparse_moe.gate.weight", M, l);
            for (int e = 0; e < n_exp; e++) {
                ADD(2, s->n_ff, s->n_embd, ws, 0, "%slayers.%d.block_sparse_moe.experts.%d.w1.weight", M, l, e);
                ADD(2, s->n_embd, s->n_ff, ws, 0, "%slayers.%d.block_sparse_moe.experts.%d.w2.weight", M, l, e);
                ADD(2, s->n_ff, s->n_embd, ws, 0, "%slayers.%d.block_sparse_moe.experts.%d.w3.weight", M, l, e);
            }
        } else if (qwen2moe || qwen3moe) {
            ADD(2, n_qexp, s->n_embd, ws * 4, 0, "%slayers.%d.mlp.gate.weight", M, l);
            for (int e = 0; e < n_qexp; e++) {
                ADD(2, qmoe_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.experts.%d.gate_proj.weight", M, l, e);
                ADD(2, qmoe_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.experts.%d.up_proj.weight", M, l, e);
                ADD(2, s->n_embd, qmoe_ff, ws, 0, "%slayers.%d.mlp.experts.%d.down_proj.weight", M, l, e);
            }
            if (qwen2moe) {
                ADD(2, qshared_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.shared_expert.gate_proj.weight", M, l);
                ADD(2, qshared_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.shared_expert.up_proj.weight", M, l);
                ADD(2, s->n_embd, qshared_ff, ws, 0, "%slayers.%d.mlp.shared_expert.down_proj.weight", M, l);
                ADD(2, 1, s->n_embd, ws * 4, 0, "%slayers.%d.mlp.shared_expert_gate.weight", M, l);
            }
        } else if (phi2 || starcoder2) {
            const char *f1 = phi2 ? "fc1" : "c_fc", *f2 = phi2 ? "fc2" : "c_proj";
            ADD(2, s->n_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.%s.weight", M, l, f1);
            ADD(1, s->n_ff, 1, 0.1f, 0, "%slayers.%d.mlp.%s.bias", M, l, f1);
            ADD(2, s->n_embd, s->n_ff, ws, 0, "%slayers.%d.mlp.%s.weight", M, l, f2);
            ADD(1, s->n_embd, 1, 0.1f, 0, "%slayers.%d.mlp.%s.bias", M, l, f2);
        } else if (phi3) {
            ADD(2, 2 * s->n_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.gate_up_proj.weight", M, l);
            ADD(2, s->n_embd, s->n_ff, ws, 0, "%slayers.%d.mlp.down_proj.weight", M, l);
        } else {
            ADD(2, s->n_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.gate_proj.weight", M, l);
            ADD(2, s->n_ff, s->n_embd, ws, 0, "%slayers.%d.mlp.up_proj.weight", M, l);
            ADD(2, s->n_embd, s->n_ff, ws, 0, "%slayers.%d.mlp.down_proj.weight", M, l);
        }
    }
#undef ADD
    for (int i = 0; exaone && i < n; i++) { /* EXAONE 3's module names */
        char x[96];
        hf_forward_exaone_name(t[i].name, x, sizeof x);
        snprintf(t[i].name, sizeof t[i].name, "%s", x);
    }
    int rc = tiny_hf_emit(dir, s, t, n);
    free(t);
    if (rc) fprintf(stderr, "tiny_hf_write(%s) failed\n", dir);
    return rc;
}

/* Writes the tensors t[0..n) as model.safetensors (or s->shards shards and an index), values
 * offset + scale * N(0, 1) from a per-tensor seed, in s->dtype. */
int tiny_hf_emit(const char *dir, const tiny_hf_spec *s, const tdef *t, int n) {
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
            uint64_t nel = 1;
            for (int d = 0; d < t[i].n_dims; d++) nel *= (uint64_t)t[i].shape[d];
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
            uint64_t nel = 1;
            for (int d = 0; d < t[i].n_dims; d++) nel *= (uint64_t)t[i].shape[d];
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
        rc = tiny_hf_json(dir, "model.safetensors.index.json", idx);
    } else {
        cJSON_Delete(wmap);
    }
    return rc;
}

tiny_tlist *tiny_tlist_new(const char *M, const char *emb, const char *norm, int vocab, int H, float emb_scale,
                           float norm_offset) {
    tiny_tlist *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    tiny_tlist_add(l, vocab, H, 0, emb_scale, 0, "%s%s", M, emb);
    tiny_tlist_add(l, H, 0, 0, 0.1f, norm_offset, "%s%s", M, norm);
    return l;
}

tiny_tlist *tiny_tlist_begin(const char *dir, cJSON *cfg, const char *M, const char *emb, const char *norm, int vocab,
                             int H, float emb_scale, float norm_offset) {
    if (tiny_hf_json(dir, "config.json", cfg)) return NULL;
    return tiny_tlist_new(M, emb, norm, vocab, H, emb_scale, norm_offset);
}

int tiny_tlist_emit(const char *dir, const tiny_hf_spec *s, tiny_tlist *l) {
    const int rc = tiny_hf_emit(dir, s, l->t, l->n);
    free(l->t), free(l);
    return rc;
}

void tiny_tlist_add(tiny_tlist *l, int64_t a, int64_t b, int64_t c, float scale, float offset, const char *fmt, ...) {
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 64;
        tdef *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) return;
        l->t = t, l->cap = cap;
    }
    tdef *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->n_dims = a < 0 ? 0 : c ? 3 : b ? 2 : 1; /* a < 0: a 0-D scalar */
    t->shape[0] = a, t->shape[1] = b, t->shape[2] = c, t->scale = scale, t->offset = offset;
}

void tiny_tlist_add_attn(tiny_tlist *l, const char *M, int i, int H, int qd, int kd, float ws) {
    tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.input_layernorm.weight", M, i);
    char pfx[128];
    snprintf(pfx, sizeof pfx, "%slayers.%d.self_attn.", M, i);
    tiny_tlist_add_qkvo(l, pfx, H, qd, kd, ws, ws);
}

void tiny_tlist_add_qkvo(tiny_tlist *l, const char *pfx, int H, int qd, int kd, float ws, float o_scale) {
    tiny_tlist_add(l, qd, H, 0, ws, 0, "%sq_proj.weight", pfx);
    tiny_tlist_add(l, kd, H, 0, ws, 0, "%sk_proj.weight", pfx);
    tiny_tlist_add(l, kd, H, 0, ws, 0, "%sv_proj.weight", pfx);
    tiny_tlist_add(l, H, qd, 0, o_scale, 0, "%so_proj.weight", pfx);
}

void tiny_tlist_add_mamba2(tiny_tlist *l, const char *pfx, int H, int di, int nh, int ng, int ds, int K, bool norm,
                           float ws) {
    const int cd = di + 2 * ng * ds;
    tiny_tlist_add(l, di + cd + nh, H, 0, ws, 0, "%sin_proj.weight", pfx);
    tiny_tlist_add(l, cd, 1, K, 0.5f, 0, "%sconv1d.weight", pfx);
    tiny_tlist_add(l, cd, 0, 0, 0.1f, 0, "%sconv1d.bias", pfx);
    tiny_tlist_add(l, nh, 0, 0, 0.5f, -1.0f, "%sdt_bias", pfx);
    tiny_tlist_add(l, nh, 0, 0, 0.5f, 0.5f, "%sA_log", pfx);
    tiny_tlist_add(l, nh, 0, 0, 0.2f, 1.0f, "%sD", pfx);
    if (norm) tiny_tlist_add(l, di, 0, 0, 0.1f, 1.0f, "%snorm.weight", pfx);
    tiny_tlist_add(l, H, di, 0, 4.0f / (float)di, 0, "%sout_proj.weight", pfx);
}

void tiny_cfg_nums(cJSON *c, ...) {
    va_list ap;
    va_start(ap, c);
    for (const char *k; (k = va_arg(ap, const char *));) cJSON_AddNumberToObject(c, k, va_arg(ap, double));
    va_end(ap);
}

void tiny_cfg_bools(cJSON *c, int value, ...) {
    va_list ap;
    va_start(ap, value);
    for (const char *k; (k = va_arg(ap, const char *));) cJSON_AddBoolToObject(c, k, value);
    va_end(ap);
}

cJSON *tiny_tokenizer_json(cJSON **added) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "version", "1.0");
    cJSON_AddNullToObject(j, "truncation");
    cJSON_AddNullToObject(j, "padding");
    *added = cJSON_AddArrayToObject(j, "added_tokens");
    return j;
}

cJSON *tiny_bpe_model(cJSON *j, bool sp) {
    cJSON *model = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    if (sp) {
        cJSON_AddStringToObject(model, "unk_token", "<unk>");
        cJSON_AddNullToObject(model, "continuing_subword_prefix");
        cJSON_AddNullToObject(model, "end_of_word_suffix");
    } else {
        cJSON_AddNullToObject(model, "unk_token");
    }
    tiny_cfg_bools(model, sp, "fuse_unk", "byte_fallback", NULL);
    cJSON_AddBoolToObject(model, "ignore_merges", !sp);
    return model;
}

cJSON *tiny_cfg_new(const char *cls) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "architectures"), cJSON_CreateString(cls));
    return c;
}

const char *tiny_hf_torch_dtype(const tiny_hf_spec *s) {
    return !strcmp(s->dtype, "BF16") ? "bfloat16" : !strcmp(s->dtype, "F16") ? "float16" : "float32";
}

void tiny_cfg_qwen3vl_rope(cJSON *c, int hd) {
    cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling");
    cJSON_AddBoolToObject(rs, "mrope_interleaved", 1);
    cJSON *ms = cJSON_AddArrayToObject(rs, "mrope_section");
    const int q = hd / 2 * 5 / 16; /* 20 of 64 */
    cJSON_AddItemToArray(ms, cJSON_CreateNumber(hd / 2 - 2 * q));
    cJSON_AddItemToArray(ms, cJSON_CreateNumber(q));
    cJSON_AddItemToArray(ms, cJSON_CreateNumber(q));
    cJSON_AddStringToObject(rs, "rope_type", "default");
}

void tiny_cfg_qwen3vl_vision(cJSON *top, const char *vision_type, int depth, int deep0, int step, int H) {
    cJSON *vc = cJSON_AddObjectToObject(top, "vision_config");
    cJSON *di = cJSON_AddArrayToObject(vc, "deepstack_visual_indexes");
    for (int k = 0; k < 3; k++) cJSON_AddItemToArray(di, cJSON_CreateNumber(deep0 + step * k));
    tiny_cfg_nums(vc, "depth", (double)depth, "hidden_size", 16.0, "out_hidden_size", (double)H, NULL);
    cJSON_AddStringToObject(vc, "model_type", vision_type);
    tiny_cfg_nums(top, "image_token_id", 10.0, "video_token_id", 11.0, NULL);
}

void tiny_tlist_add_qwen3vl_vision(tiny_tlist *l, int H) {
    tiny_tlist_add(l, 48, 16, 0, 0.25f, 0, "model.visual.blocks.0.attn.qkv.weight");
    tiny_tlist_add(l, 16, 0, 0, 0.1f, 1.0f, "model.visual.merger.norm.weight");
    tiny_tlist_add(l, H, 16, 0, 0.25f, 0, "model.visual.deepstack_merger_list.0.linear_fc2.weight");
}
