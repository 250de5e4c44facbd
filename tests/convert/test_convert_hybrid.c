/* test_convert_hybrid.c - the refusals of the families whose layers differ
 * from each other (LFM2, LFM2-MoE, Gemma 4): a checkpoint
 * whose config and tensors disagree, or that llama.cpp's graph cannot run,
 * is refused with a message naming the folder, the key or tensor and what
 * was expected, and nothing is written. (That the well-formed tiny LFM2
 * converts and computes the reference's logits in llama.cpp is
 * test_convert's test_families_match_reference.) */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert_run.h"
#include "json_edit.h"
#include "qk_test.h"
#include "tiny_hf.h"

/* the sizes of the bad-input checkpoints: LFM2 with 4 layers, Gemma 4 (E2B layout too) with 6 */
static void hybrid_spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->tied = true;
    if (!strcmp(arch, "lfm2")) s->n_layer = 4;
    else if (!strcmp(arch, "lfm2moe")) s->n_layer = 4, s->n_ff = 64;
    else s->n_layer = 6, s->n_embd = 128, s->n_ff = 256;
}

/* LFM2-MoE: what llama.cpp's lfm2moe computes differently, and config / tensor disagreements */
static void test_lfm2moe_bad_input(void) {
    static const convert_edit_case cases[] = {
        {"lfm2moe", "config.json", "\"use_expert_bias\":\ttrue", "\"use_expert_bias\":\tfalse",
         "use_expert_bias is not true: llama.cpp's lfm2moe needs each sparse layer's expert_bias"},
        {"lfm2moe", "config.json", "\"norm_topk_prob\":\ttrue", "\"norm_topk_prob\":\tfalse",
         "norm_topk_prob is not true"},
        {"lfm2moe", "config.json", "\"routed_scaling_factor\":\t1", "\"routed_scaling_factor\":\t2.5",
         "routed_scaling_factor is 2.5: llama.cpp's lfm2moe does not scale"},
        {"lfm2moe", "config.json", "\"num_dense_layers\":\t1", "\"num_dense_layers\":\t2",
         "dense layer 1 lacks the tensor for blk.1.ffn_gate.weight"},
        {"lfm2moe", "config.json", "\"num_dense_layers\":\t1", "\"num_dense_layers\":\t0",
         "sparse layer 0 lacks the tensor for blk.0.ffn_gate_inp.weight"},
        {"lfm2moe", "config.json", "\"moe_intermediate_size\":\t64", "\"moe_intermediate_size\":\t32",
         "layer 1's experts are 64 wide, but moe_intermediate_size is 32"},
        {"lfm2moe", "config.json", "\"intermediate_size\":\t128", "\"intermediate_size\":\t256",
         "layer 0's feed_forward.w1.weight has 128 rows, but the config's feed-forward length (intermediate_size) "
         "is 256"},
        {"lfm2moe", "model.safetensors", "layers.2.feed_forward.expert_bias", "layers.2.feed_forward.expert_biaz",
         "unexpected tensor 'model.layers.2.feed_forward.expert_biaz'"},
        {"lfm2moe", "model.safetensors", "layers.3.feed_forward.experts.5.w3", "layers.3.feed_forward.experts.9.w3",
         "expert"},
    };
    convert_expect_edit_refusals("bad-lfm2moe", cases, sizeof cases / sizeof cases[0], hybrid_spec);
}

static void test_lfm2_bad_input(void) {
    static const convert_edit_case cases[] = {
        {"lfm2", "config.json", "\"conv_L_cache\":\t3", "\"conv_L_cache\":\t4",
         "layer 0's conv.conv.weight has a kernel of 3, but conv_L_cache is 4"},
        {"lfm2", "config.json", "\"conv_L_cache\":\t3", "\"conv_L_cache\":\t1",
         "'conv_L_cache' should be an integer in 2..64"},
        {"lfm2", "config.json", "\"full_attention\"", "\"attention\"",
         "layer_types[2] is attention, expected 'conv' or 'full_attention'"},
        {"lfm2", "config.json", "[\"conv\"", "[\"full_attention\"",
         "attention layer 0 lacks the tensor for blk.0.attn_q.weight"},
        {"lfm2", "config.json", "\"full_attention\"", "\"conv\"",
         "conv layer 2 lacks the tensor for blk.2.shortconv.in_proj.weight"},
        /* neither layer_types nor full_attn_idxs: every layer attention (Lfm2Config's default), which the tensors are not */
        {"lfm2", "config.json", "\"layer_types\"", "\"layer_typez\"",
         "attention layer 0 lacks the tensor for blk.0.attn_q.weight"},
        {"lfm2", "config.json", "\"layer_types\":\t[", "\"layer_types\":\t[\"conv\", ",
         "'layer_types' should list 4 layers"},
        {"lfm2", "config.json", "\"block_ff_dim\":\t768", "\"block_ff_dim\":\t1152",
         "layer 0's feed_forward.w1.weight has 512 rows, but the config's feed-forward length (block_ff_dim adjusted "
         "as LFM2 does) is 768"},
        {"lfm2", "config.json", "\"rope_theta\":\t1000000,",
         "\"rope_scaling\":\t{\"rope_type\": \"yarn\", \"factor\": 4},",
         "rope_scaling type 'yarn' is not supported"},
        {"lfm2", "config.json", "\"rope_theta\":\t1000000,",
         "\"rope_scaling\":\t{\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, "
         "\"original_max_position_embeddings\": 64},",
         "LFM2 rope scaling 'llama3' is not supported (plain rope is)"},
        {"lfm2", "config.json", "\"conv_bias\":\tfalse", "\"is_causal\":\tfalse", "is_causal is false"},
        {"lfm2", "config.json", "\"block_auto_adjust_ff_dim\":\ttrue", "\"block_auto_adjust_ff_dim\":\t\"yes\"",
         "'block_auto_adjust_ff_dim' is not a bool"},
        {"lfm2", "model.safetensors", "layers.1.conv.conv.weight", "layers.1.conv.conx.weight",
         "unexpected tensor 'model.layers.1.conv.conx.weight' for Lfm2ForCausalLM"},
        {"lfm2", "model.safetensors", "model.embedding_norm.weight", "model.embedding_norx.weight",
         "unexpected tensor 'model.embedding_norx.weight'"},
        {"lfm2", "model.safetensors", "layers.2.self_attn.k_layernorm.weight", "layers.2.self_attn.rotary_emb.inv_freq",
         "attention layer 2 lacks the tensor for blk.2.attn_k_norm.weight"},
    };
    convert_expect_edit_refusals("bad-lfm2", cases, sizeof cases / sizeof cases[0], hybrid_spec);
}

/* LFM2's first releases list the attention layers in full_attn_idxs instead of layer_types: the same file */
static void test_lfm2_full_attn_idxs(void) {
    char dir[700], a[800], b[800], p[900];
    snprintf(dir, sizeof dir, "%s/lfm2-idxs/hf", qk_test_tmpdir());
    snprintf(a, sizeof a, "%s/lfm2-types.gguf", qk_test_tmpdir());
    snprintf(b, sizeof b, "%s/lfm2-idxs.gguf", qk_test_tmpdir());
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "lfm2", s.n_layer = 4, s.tied = true;
    CHECK(tiny_hf_write(dir, &s) == 0);
    qk_err err;
    CHECK_MSG(convert_run(dir, a, "q8_0", 2, &err) == QK_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/config.json", dir);
    convert_edit_file(p, "\"layer_types\":\t[\"conv\", \"conv\", \"full_attention\", \"conv\"]", "\"full_attn_idxs\":\t[2]");
    CHECK_MSG(convert_run(dir, b, "q8_0", 2, &err) == QK_OK, "%s", err.msg);
    size_t la = 0, lb = 0;
    unsigned char *x = qk_test_read_file(a, &la), *y = qk_test_read_file(b, &lb);
    CHECK(x && y && la == lb && !memcmp(x, y, la));
    free(x), free(y);
    /* an index past the last layer is refused */
    convert_edit_file(p, "\"full_attn_idxs\":\t[2]", "\"full_attn_idxs\":\t[4]");
    CHECK(convert_run(dir, b, "q8_0", 2, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "full_attn_idxs holds something other than a layer number below 4");
}

/* Gemma 4: what the registry does not carry yet (the MoE block) and configs that disagree with the tensors are
 * refused by name */
static void test_gemma4_bad_input(void) {
    static const convert_edit_case cases[] = {
        {"gemma4", "config.json", "\"hidden_size_per_layer_input\":\t0", "\"hidden_size_per_layer_input\":\t8",
         "hidden_size_per_layer_input is 8 but the checkpoint lacks per_layer_token_embd.weight"},
        /* llama.cpp takes the shared KV from the last two non-shared layers: global, then sliding */
        {"gemma4", "config.json", "\"num_kv_shared_layers\":\t0", "\"num_kv_shared_layers\":\t2",
         "with num_kv_shared_layers 2, layer 3 must be global and layer 2 sliding"},
        {"gemma4", "config.json", "\"enable_moe_block\":\tfalse", "\"enable_moe_block\":\ttrue",
         "'enable_moe_block' is set: the MoE block (Gemma 4 26B-A4B) not supported yet"},
        {"gemma4", "config.json", "\"attention_k_eq_v\":\ttrue", "\"attention_k_eq_v\":\tfalse",
         "num_global_key_value_heads (1) differs from num_key_value_heads (2) but attention_k_eq_v is false"},
        {"gemma4", "config.json", "\"global_head_dim\":\t64", "\"global_head_dim\":\t32",
         "global layer 5: blk.5.attn_q.weight has 256 rows, expected 128 (head size 32, 1 kv heads)"},
        {"gemma4", "config.json", "\"num_global_key_value_heads\":\t1", "\"num_global_key_value_heads\":\t2",
         "global layer 5: blk.5.attn_k.weight has 64 rows, expected 128 (head size 64, 2 kv heads)"},
        {"gemma4", "config.json", "\"proportional\"", "\"default\"",
         "rope_parameters.full_attention.rope_type is 'default', expected 'proportional'"},
        {"gemma4", "config.json", "\"sliding_window\":\t4", "\"sliding_window\":\t0",
         "'sliding_window' is missing or not a positive integer"},
        {"gemma4", "config.json", "\"full_attention\"]", "\"global\"]",
         "layer_types[5] is global, expected 'sliding_attention' or 'full_attention'"},
        /* Gemma4Model.set_vocab reads tokenizer.json with LlamaHfVocab, which takes only SentencePiece-style BPE */
        {"gemma4", "tokenizer.json", "\"byte_fallback\":\ttrue", "\"byte_fallback\":\tfalse",
         "not a SentencePiece-style BPE tokenizer (model.byte_fallback false/absent, decoder type Sequence"},
        {"gemma4", "tokenizer.json", "\"merges\":\t[", "\"merges\":\t[], \"mergez\": [",
         "model.merges is empty and there is no merges.txt: llama.cpp's 'gemma4' tokenizer model needs "
         "tokenizer.ggml.merges"},
        {"gemma4", "model.safetensors", "layers.5.layer_scalar", "layers.5.layer_scalaz",
         "unexpected tensor 'model.layers.5.layer_scalaz' for Gemma4ForConditionalGeneration"},
        {"gemma4", "model.safetensors", "layers.2.self_attn.k_norm.weight", "layers.2.self_attn.rotary_emb.inv_freq",
         "layer 2 lacks the tensor for blk.2.attn_k_norm.weight"},
    };
    convert_expect_edit_refusals("bad-gemma4", cases, sizeof cases / sizeof cases[0], hybrid_spec);
}

/* Gemma4TextConfig's defaults stand in for keys a config leaves out (layer_types: five sliding, then global;
 * rope_parameters: proportional 0.25 at 1e6 globally, default 1e4 sliding; scalars from the defaults table): the
 * tiny checkpoint writes exactly those, so leaving them out gives the same file */
static void test_gemma4_config_defaults(void) {
    char dir[700], a[800], b[800], p[900];
    snprintf(dir, sizeof dir, "%s/g4-defaults/hf", qk_test_tmpdir());
    snprintf(a, sizeof a, "%s/g4-explicit.gguf", qk_test_tmpdir());
    snprintf(b, sizeof b, "%s/g4-defaults.gguf", qk_test_tmpdir());
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "gemma4", s.n_layer = 6, s.n_embd = 128, s.n_ff = 256, s.tied = true;
    CHECK(tiny_hf_write(dir, &s) == 0);
    qk_err err;
    CHECK_MSG(convert_run(dir, a, "q8_0", 2, &err) == QK_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/config.json", dir);
    cJSON *top = json_file_read(p);
    cJSON *tc = cJSON_GetObjectItemCaseSensitive(top, "text_config");
    CHECK(tc != NULL);
    if (!tc) {
        cJSON_Delete(top);
        return;
    }
    static const char *const gone[] = {"layer_types", "rope_parameters", "rms_norm_eps", "attention_bias",
                                       "enable_moe_block", "num_kv_shared_layers", "use_double_wide_mlp"};
    for (size_t k = 0; k < sizeof gone / sizeof gone[0]; k++) {
        CHECK_MSG(cJSON_GetObjectItemCaseSensitive(tc, gone[k]) != NULL, "the tiny config has no %s", gone[k]);
        cJSON_DeleteItemFromObjectCaseSensitive(tc, gone[k]);
    }
    CHECK(json_file_write(p, top, 0) == 0);
    CHECK_MSG(convert_run(dir, b, "q8_0", 2, &err) == QK_OK, "%s", err.msg);
    size_t la = 0, lb = 0;
    unsigned char *x = qk_test_read_file(a, &la), *y = qk_test_read_file(b, &lb);
    CHECK(x && y && la == lb && !memcmp(x, y, la));
    free(x), free(y);
    /* hidden_size_per_layer_input defaults to 256 (per-layer embeddings): a config leaving it out needs them */
    cJSON_DeleteItemFromObjectCaseSensitive(tc, "hidden_size_per_layer_input");
    CHECK(json_file_write(p, top, 0) == 0);
    CHECK(convert_run(dir, b, "q8_0", 2, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "hidden_size_per_layer_input is 256 but the checkpoint lacks per_layer_token_embd.weight");
    cJSON_Delete(top);
}

/* the E2B layout's own refusals */
static void test_gemma4e_bad_input(void) {
    static const convert_edit_case cases[] = {
        {"gemma4e", "config.json", "\"use_double_wide_mlp\":\ttrue", "\"use_double_wide_mlp\":\tfalse",
         "layer 4's mlp.gate_proj has 512 rows, expected 256 (intermediate_size)"},
        {"gemma4e", "config.json", "\"num_kv_shared_layers\":\t2", "\"num_kv_shared_layers\":\t1",
         "with num_kv_shared_layers 1, layer 4 must be global and layer 3 sliding"},
        {"gemma4e", "model.safetensors", "layers.3.per_layer_projection.weight", "layers.3.rotary_emb.inv_freq",
         "hidden_size_per_layer_input is 16 but layer 3 lacks the tensor for blk.3.proj.weight"},
        {"gemma4e", "model.safetensors", "layers.1.self_attn.k_norm.weight", "layers.1.rotary_emb.inv_freq.x",
         "layer 1 lacks the tensor for blk.1.attn_k_norm.weight"},
    };
    convert_expect_edit_refusals("bad-gemma4e", cases, sizeof cases / sizeof cases[0], hybrid_spec);
}

/* num_global_key_value_heads without attention_k_eq_v: Hugging Face ignores it, the reference converter writes it */
static void test_gemma4_kv_heads_ambiguous(void) {
    char dir[700], out[800], p[900];
    snprintf(dir, sizeof dir, "%s/g4-kv/hf", qk_test_tmpdir());
    snprintf(out, sizeof out, "%s/g4-kv.gguf", qk_test_tmpdir());
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "gemma4text", s.n_layer = 6, s.n_embd = 128, s.n_ff = 256;
    CHECK(tiny_hf_write(dir, &s) == 0);
    qk_err err;
    CHECK_MSG(convert_run(dir, out, "q8_0", 2, &err) == QK_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/config.json", dir);
    convert_edit_file(p, "\"num_global_key_value_heads\":\tnull", "\"num_global_key_value_heads\":\t1");
    CHECK(convert_run(dir, out, "q8_0", 2, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "num_global_key_value_heads (1) differs from num_key_value_heads (2) but attention_k_eq_v "
                            "is false");
    /* K = V declared while the global layers carry a v_proj */
    convert_edit_file(p, "\"num_global_key_value_heads\":\t1", "\"num_global_key_value_heads\":\tnull");
    convert_edit_file(p, "\"attention_k_eq_v\":\tfalse", "\"attention_k_eq_v\":\ttrue");
    CHECK(convert_run(dir, out, "q8_0", 2, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "global layer 5 has a v_proj, but attention_k_eq_v is true");
}

/* architectures the registry knows it cannot express are refused with what is missing */
static void test_known_refusals(void) {
    static const struct {
        const char *cls, *want;
    } cases[] = {
        {"Gemma3nForConditionalGeneration", "Gemma 3n (llama.cpp arch gemma3n) is not supported: its text model needs "
                                            "AltUp"},
        {"Gemma3nForCausalLM", "AltUp, LAuReL, per-layer token embeddings, KV sharing and activation sparsity"},
        {"Gemma4UnifiedForConditionalGeneration", "Gemma 4 Unified is not supported"},
        /* the state-space hybrids (issue 17) */
        {"NemotronHPuzzleForCausalLM", "Nemotron-H Puzzle (llama.cpp arch nemotron_h_moe) is not supported yet"},
        {"BambaForCausalLM", "Bamba (llama.cpp arch granitehybrid with rope) is not supported yet"},
        {"KimiLinearForCausalLM", "Kimi Linear (llama.cpp arch kimi-linear) is not supported yet"},
        {"Plamo2ForCausalLM", "PLaMo 2 (llama.cpp arch plamo2) is not supported yet"},
        {"MiniMaxText01ForCausalLM", "MiniMax-Text-01 (llama.cpp arch minimax01) is not supported yet"},
        {"RwkvHybridForCausalLM", "ARWKV-7 (RwkvHybridForCausalLM, llama.cpp arch arwkv7) is not supported yet"},
        {"Qwen4ExpForCausalLM", "Qwen4Exp (llama.cpp arch qwen4exp) is not supported yet"},
        {"DeepseekV32ForCausalLM", "DeepSeek V3.2 (llama.cpp arch deepseek32) is not supported yet"},
    };
    char out_dir[700], out[800];
    qk_test_mkdir(out_dir, sizeof out_dir, "refused-out");
    snprintf(out, sizeof out, "%s/x.gguf", out_dir);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dir[700], p[900];
        snprintf(dir, sizeof dir, "%s/refused-%zu/hf", qk_test_tmpdir(), c);
        tiny_hf_spec s;
        tiny_hf_default(&s);
        s.arch = "lfm2", s.n_layer = 4, s.tied = true;
        CHECK(tiny_hf_write(dir, &s) == 0);
        snprintf(p, sizeof p, "%s/config.json", dir);
        char to[128];
        snprintf(to, sizeof to, "\"%s\"", cases[c].cls);
        convert_edit_file(p, "\"Lfm2ForCausalLM\"", to);
        qk_err err;
        CHECK_MSG(convert_run(dir, out, "q8_0", 2, &err) == QK_FAIL, "%s converted", cases[c].cls);
        CHECK_CONTAINS(err.msg, cases[c].want);
        CHECK_CONTAINS(err.msg, cases[c].cls);
        CHECK_EQ_INT(qk_test_count_entries(out_dir), 0);
    }
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_lfm2_bad_input);
    RUN(test_lfm2_full_attn_idxs);
    RUN(test_lfm2moe_bad_input);
    RUN(test_gemma4_bad_input);
    RUN(test_gemma4_config_defaults);
    RUN(test_gemma4_kv_heads_ambiguous);
    RUN(test_gemma4e_bad_input);
    RUN(test_known_refusals);
    return qk_test_summary();
}
