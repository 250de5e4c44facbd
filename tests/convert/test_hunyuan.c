/* Hunyuan MoE (HunYuanMoEV1ForCausalLM -> hunyuan-moe; convert/arch_hunyuan.c, convert/vocab_hunyuan.c) end to
 * end against the real llama.cpp, on a tiny checkpoint in Hunyuan-A13B's published layout: config.json with its
 * key names (per-layer moe_topk / moe_intermediate_size / num_shared_expert lists, the NTK-alpha "dynamic" rope
 * of alpha 1000 on 128-wide heads, tied embeddings, config.json's BOS 1), BF16 safetensors under its tensor
 * names (mlp.gate.wg, mlp.shared_mlp.*, per-expert mlp.experts.E.*, self_attn.query_layernorm / key_layernorm),
 * hy.tiktoken with A13B's 127957 ranks (bytes, then byte pairs, then byte triples) and tokenizer_config.json
 * naming tokenization_hy. What is checked:
 *   - llama.cpp's logits on the F32 / F16 / Q8_0 files against support/hf_forward_hunyuan.c (the HF model:
 *     q/k norms after the rope, softmax top-k renormalised, the shared MLP added);
 *   - HunYuanMoEModel's KVs (the alpha-scaled rope base, rope scaling none / 1, the 256K context, the expert
 *     widths and counts from the lists) and what TextModel does not write;
 *   - the vocabulary: tokenization_hy.py's 210 special tokens at 127957.., control; BOS forced to 127959;
 *     llama.cpp parses the special tokens and splits text by the ranks as tiktoken would;
 *   - refusals where the converter asserts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_model.h"
#include "convert_plan.h"
#include "convert_run.h"
#include "gguf.h"
#include "json_edit.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "logit_match.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf_priv.h"

enum { H = 128, N_LAYER = 2, N_EXPERT = 4, TOPK = 2, FF = 64, N_RANKS = 127957, VOCAB = 128167 };
#define HY_BOS 127959

static const char k_template[] = "{% for m in messages %}<|startoftext|>{{ m.content }}<|extra_0|>{% endfor %}";

/* the rank file: 256 single bytes (rank = byte), then every pair (a, b) at 256 + 256 a + b, then triples (0, b, c)
 * in order up to 127957 ranks */
/* Hunyuan-A13B-Instruct's config.json, its sizes scaled down (one 128-wide head: the converter's NTK-alpha
 * assertions want 128; the per-layer lists for 2 layers; 4 experts, 2 used) */
static const char k_config[] =
    "{\"architectures\": [\"HunYuanMoEV1ForCausalLM\"], \"model_type\": \"hunyuan_v1_moe\", \"attention_bias\": false,"
    " \"attention_head_dim\": 128, \"head_dim\": 128, \"bos_token_id\": 1, \"eos_token_id\": 127960,"
    " \"pad_token_id\": 127961, \"hidden_act\": \"silu\", \"hidden_size\": 128, \"intermediate_size\": 64,"
    " \"max_position_embeddings\": 32768, \"moe_intermediate_size\": [64, 64], \"moe_topk\": [2, 2],"
    " \"num_experts\": 4, \"num_shared_expert\": [1, 1], \"num_attention_heads\": 1, \"num_key_value_heads\": 1,"
    " \"num_hidden_layers\": 2, \"rms_norm_eps\": 1e-05, \"rope_scaling\": {\"alpha\": 1000.0, \"beta_fast\": 32,"
    " \"beta_slow\": 1, \"factor\": 1.0, \"mscale\": 1.0, \"mscale_all_dim\": 1.0, \"type\": \"dynamic\"},"
    " \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, \"use_cla\": false, \"use_qk_norm\": true,"
    " \"vocab_size\": 128167, \"torch_dtype\": \"bfloat16\"}";

/* tokenizer_config.json as the release has it (tokenization_hy's class; its first special tokens) */
static const char k_tokenizer_config[] =
    "{\"auto_map\": {\"AutoTokenizer\": [\"tokenization_hy.HYTokenizer\", null]}, \"tokenizer_class\": \"HYTokenizer\","
    " \"bos_token\": \"<|startoftext|>\", \"eos_token\": \"<|eos|>\", \"pad_token\": \"<|pad|>\","
    " \"added_tokens_decoder\": {\"127957\": {\"content\": \"<|endoftext|>\", \"special\": true},"
    " \"127958\": {\"content\": \"<|startoftext|>\", \"special\": true},"
    " \"127959\": {\"content\": \"<|bos|>\", \"special\": true}, \"127960\": {\"content\": \"<|eos|>\", \"special\": true},"
    " \"127961\": {\"content\": \"<|pad|>\", \"special\": true},"
    " \"127962\": {\"content\": \"<|extra_0|>\", \"special\": true}}}";

static int write_ranks(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int r = 0; r < N_RANKS; r++) {
        unsigned char t[3];
        int n;
        if (r < 256) t[0] = (unsigned char)r, n = 1;
        else if (r < 256 + 65536) t[0] = (unsigned char)((r - 256) >> 8), t[1] = (unsigned char)(r - 256), n = 2;
        else t[0] = 0, t[1] = (unsigned char)((r - 65792) >> 8), t[2] = (unsigned char)(r - 65792), n = 3;
        const uint32_t w = (uint32_t)t[0] << 16 | (n > 1 ? (uint32_t)t[1] << 8 : 0) | (n > 2 ? t[2] : 0);
        char s[5] = {b64[w >> 18], b64[(w >> 12) & 63], n > 1 ? b64[(w >> 6) & 63] : '=', n > 2 ? b64[w & 63] : '=', 0};
        fprintf(f, "%s %d\n", s, r);
    }
    return fclose(f);
}

/* the folder (with an lm_head.weight beside the tied embedding when lm_head) */
static int hunyuan_dir_as(char *dir, size_t n, bool lm_head) {
    char base[700];
    qk_test_mkdir(base, sizeof base, lm_head ? "tiny-hunyuan-lm-head" : "tiny-hunyuan");
    snprintf(dir, n, "%s", base);
    cJSON *c = cJSON_Parse(k_config);
    CHECK(c != NULL);
    CHECK(tiny_hf_json(dir, "config.json", c) == 0);

    cJSON *t = cJSON_Parse(k_tokenizer_config);
    CHECK(t != NULL);
    cJSON_AddStringToObject(t, "chat_template", k_template);
    CHECK(tiny_hf_json(dir, "tokenizer_config.json", t) == 0);
    char p[900];
    snprintf(p, sizeof p, "%s/hy.tiktoken", dir);
    CHECK(write_ranks(p) == 0);

    tiny_tlist l = {0};
    tiny_tlist_add(&l, VOCAB, H, 0, 1.0f, 0, "model.embed_tokens.weight");
    for (int i = 0; i < N_LAYER; i++) {
        tiny_tlist_add_attn(&l, "model.", i, H, H, H, 0.09f);
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.layers.%d.self_attn.query_layernorm.weight", i);
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.layers.%d.self_attn.key_layernorm.weight", i);
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.layers.%d.post_attention_layernorm.weight", i);
        tiny_tlist_add(&l, N_EXPERT, H, 0, 0.3f, 0, "model.layers.%d.mlp.gate.wg.weight", i);
        tiny_tlist_add(&l, FF, H, 0, 0.09f, 0, "model.layers.%d.mlp.shared_mlp.gate_proj.weight", i);
        tiny_tlist_add(&l, FF, H, 0, 0.09f, 0, "model.layers.%d.mlp.shared_mlp.up_proj.weight", i);
        tiny_tlist_add(&l, H, FF, 0, 0.12f, 0, "model.layers.%d.mlp.shared_mlp.down_proj.weight", i);
        for (int e = 0; e < N_EXPERT; e++) {
            tiny_tlist_add(&l, FF, H, 0, 0.09f, 0, "model.layers.%d.mlp.experts.%d.gate_proj.weight", i, e);
            tiny_tlist_add(&l, FF, H, 0, 0.09f, 0, "model.layers.%d.mlp.experts.%d.up_proj.weight", i, e);
            tiny_tlist_add(&l, H, FF, 0, 0.12f, 0, "model.layers.%d.mlp.experts.%d.down_proj.weight", i, e);
        }
    }
    tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "model.norm.weight");
    if (lm_head) tiny_tlist_add(&l, VOCAB, H, 0, 1.0f, 0, "lm_head.weight");
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.dtype = "BF16", s.seed = 7;
    const int rc = tiny_hf_emit(dir, &s, l.t, l.n);
    free(l.t);
    CHECK(rc == 0);
    return rc;
}

static int hunyuan_dir(char *dir, size_t n) { return hunyuan_dir_as(dir, n, false); }

/* a dry run's plan: its tensor count and parameters */
static void plan_of(const char *dir, size_t *n_tensors, uint64_t *n_params) {
    qk_convert_report rep;
    *n_tensors = 0, *n_params = 0;
    if (convert_plan(dir, "f16", &rep) != QK_OK) return;
    *n_tensors = rep.n_tensors, *n_params = rep.n_params;
    qk_convert_report_free(&rep);
}

/* HunYuanMoEModel.modify_tensors skips lm_head.weight when tie_word_embeddings; untied, it is the output */
static void test_tied_lm_head(void) {
    char tied[800], with[800];
    if (hunyuan_dir(tied, sizeof tied) || hunyuan_dir_as(with, sizeof with, true)) return;
    size_t n0, n1, n2;
    uint64_t p0, p1, p2;
    plan_of(tied, &n0, &p0);
    plan_of(with, &n1, &p1);
    CHECK_MSG(n1 == n0 && p1 == p0, "tied with an lm_head: %zu tensors / %llu parameters, without %zu / %llu", n1,
              (unsigned long long)p1, n0, (unsigned long long)p0);
    convert_edit_config(with, "tie_word_embeddings", "false");
    plan_of(with, &n2, &p2);
    CHECK_MSG(n2 == n0 + 1 && p2 == p0 + (uint64_t)VOCAB * H, "untied: %zu tensors / %llu parameters", n2,
              (unsigned long long)p2);
}

static void test_logits_and_kvs(void) {
    char dir[800], out[900];
    if (hunyuan_dir(dir, sizeof dir)) return;
    logit_ref want;
    if (logit_ref_hf(&want, dir)) return;
    logit_ref_check_margins(&want, 0.02, "hunyuan");
    static const struct { const char *type; double tol; } cases[] = {{"f32", 1e-4}, {"f16", 1e-2}, {"q8_0", 5e-2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* F32 with K and V in F32 too: llama.cpp's F16 cache alone is ~4e-4 of the largest logit here */
        double e;
        llama_run_model *m = logit_check_type(&want, dir, "hunyuan-moe", cases[c].type, cases[c].tol, 0.02, &e);
        if (!m) continue;
        snprintf(out, sizeof out, "%s/tiny-hunyuan-moe-%s.gguf", qk_test_tmpdir(), cases[c].type);
        fprintf(stderr, "  (hunyuan-moe %s: %.3e)\n", cases[c].type, e); /* F32's is below the 6 decimals above */
        if (c == 0) {
            char v[64];
            const float base = (float)(10000.0 * pow(1000.0, 128.0 / 126.0)); /* as float32: 11158840 */
            CHECK(llama_run_meta(m, "hunyuan-moe.rope.freq_base", v, sizeof v));
            CHECK_MSG((float)atof(v) == base, "freq_base %s, want %.1f", v, (double)base);
            convert_check_kv(m, "hunyuan-moe.context_length", "262144");
            convert_check_kv(m, "hunyuan-moe.rope.scaling.original_context_length", "262144");
            convert_check_kv(m, "hunyuan-moe.rope.scaling.type", "none");
            convert_check_kv(m, "hunyuan-moe.expert_count", "4");
            convert_check_kv(m, "hunyuan-moe.expert_used_count", "2");
            convert_check_kv(m, "hunyuan-moe.expert_shared_count", "1");
            convert_check_kv(m, "hunyuan-moe.expert_feed_forward_length", "64");
            convert_check_kv(m, "hunyuan-moe.expert_shared_feed_forward_length", "64");
            convert_check_kv(m, "hunyuan-moe.attention.key_length", "128");
            /* TextModel's keys (no rope.dimension_count, no vocab_size; context_length and freq_base set again in
             * their places), then HunYuanMoEModel's */
            static const char *const order[] = {
                "block_count", "context_length", "embedding_length", "feed_forward_length", "attention.head_count",
                "attention.head_count_kv", "rope.freq_base", "attention.layer_norm_rms_epsilon", "expert_count",
                "attention.key_length", "attention.value_length", "general.file_type",
                "expert_shared_feed_forward_length", "expert_feed_forward_length", "expert_used_count",
                "expert_shared_count", "rope.scaling.type", "rope.scaling.factor",
                "rope.scaling.original_context_length"};
            convert_check_kv_order(out, "hunyuan-moe", order, sizeof order / sizeof order[0], "hunyuan-moe KVs");
        }
        llama_run_free(m);
    }
    logit_ref_free(&want);
}

static void test_vocabulary(void) {
    char dir[800], out[900];
    if (hunyuan_dir(dir, sizeof dir)) return;
    snprintf(out, sizeof out, "%s/tiny-hunyuan-vocab.gguf", qk_test_tmpdir());
    qk_err err;
    CHECK_MSG(convert_run(dir, out, "q8_0", 2, &err) == QK_OK, "%s", err.msg);
    llama_run_model *m = llama_run_load(out, false);
    CHECK_MSG(m != NULL, "%s", llama_run_error());
    if (m) {
        convert_check_kv(m, "tokenizer.ggml.model", "gpt2");
        convert_check_kv(m, "tokenizer.ggml.pre", "hunyuan");
        convert_check_kv(m, "tokenizer.ggml.bos_token_id", "127959"); /* forced, not config.json's 1 */
        convert_check_kv(m, "tokenizer.ggml.eos_token_id", "127960"); /* config.json's */
        convert_check_kv(m, "tokenizer.ggml.padding_token_id", "127961");
        char tmpl[256];
        CHECK(llama_run_meta(m, "tokenizer.chat_template", tmpl, sizeof tmpl) && !strcmp(tmpl, k_template));
        /* special tokens parse to one id each; "hello" splits as tiktoken merges these ranks: (e, l) has the lowest
         * pair rank, then (l, o); no 3-byte token starts with 'h' or 'e' */
        static const char text[] = "<|bos|>hello<|extra_3|><|eos|>";
        const int32_t want[] = {HY_BOS, 'h', 256 + 256 * 'e' + 'l', 256 + 256 * 'l' + 'o', 127965, 127960};
        int32_t ids[32];
        const int n = llama_run_tokenize(m, text, strlen(text), false, true, ids, 32);
        CHECK_EQ_INT(n, 6);
        for (int i = 0; i < 6 && n == 6; i++) CHECK_MSG(ids[i] == want[i], "token %d is %d, want %d", i, ids[i], want[i]);
        llama_run_free(m);
    }
    qk_gguf_file *gf = gguf_open_checked(out);
    if (!gf) return;
    const qk_gguf_kv *types = qk_gguf_find(&gf->meta, "tokenizer.ggml.token_type");
    CHECK(types && types->n == VOCAB);
    for (uint64_t i = 0; types && i < types->n; i++) {
        int64_t ty = -1;
        CHECK(qk_gguf_arr_int(types, i, &ty));
        if (ty != (i < N_RANKS ? 1 : 3)) { /* normal, control */
            CHECK_MSG(0, "token %llu has type %lld", (unsigned long long)i, (long long)ty);
            break;
        }
    }
    static const struct { uint64_t id; const char *text; } sp[] = {
        {127957, "<|endoftext|>"}, {127958, "<|startoftext|>"}, {127959, "<|bos|>"}, {127961, "<|pad|>"},
        {127962, "<|extra_0|>"}, {128166, "<|extra_204|>"}, {'A', "A"}, {256 + 256 * 'a' + 'b', "ab"}};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        const char *s = convert_gguf_str_at(gf, "tokenizer.ggml.tokens", sp[i].id);
        CHECK_MSG(s && !strcmp(s, sp[i].text), "token %llu is %s, want %s", (unsigned long long)sp[i].id,
                  s ? s : "(none)", sp[i].text);
    }
    const qk_gguf_kv *merges = qk_gguf_find(&gf->meta, "tokenizer.ggml.merges");
    CHECK(merges && merges->n == N_RANKS - 256); /* every pair and triple is one merge of two lower ranks */
    qk_gguf_close(gf);
}

static void test_refusals(void) {
    char dir[800];
    if (hunyuan_dir(dir, sizeof dir)) return;
    refusal_config_table_in("test_hunyuan", "hunyuan", dir);
    /* another tokenization_hy.py: tokenizer_config.json naming a special id otherwise */
    char p[900];
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    cJSON *t = json_file_read(p);
    cJSON *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "added_tokens_decoder"), "127959");
    cJSON_ReplaceItemInObjectCaseSensitive(e, "content", cJSON_CreateString("<|startoftext|>"));
    CHECK(json_file_write(p, t, 0) == 0);
    cJSON_Delete(t);
    convert_expect_dry_refusal(dir, "another special token table", "added_tokens_decoder[\"127959\"] is not <|bos|>");
    /* the dense sibling stays refused by name */
    convert_edit_config(dir, "architectures", "[\"HunYuanDenseV1ForCausalLM\"]");
    convert_expect_dry_refusal(dir, "Hunyuan dense", "Hunyuan dense (Hunyuan-0.5B..7B, llama.cpp arch hunyuan-dense) is "
                                                     "not supported yet");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    llama_ref_init_backend();
    RUN(test_refusals);
    RUN(test_tied_lm_head);
    RUN(test_logits_and_kvs);
    RUN(test_vocabulary);
    return qk_test_summary();
}
