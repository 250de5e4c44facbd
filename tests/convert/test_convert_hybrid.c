/* test_convert_hybrid.c - the refusals of the families whose layers differ
 * from each other (LFM2, LFM2-MoE, Gemma 4): a checkpoint
 * whose config and tensors disagree, or that llama.cpp's graph cannot run,
 * is refused with a message naming the folder, the key or tensor and what
 * was expected, and nothing is written; and LFM2's per-layer KV head
 * counts, which llama.cpp's run cannot check. (That the well-formed tiny LFM2
 * converts and computes the reference's logits in llama.cpp is
 * test_convert's test_families_match_reference.) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert_run.h"
#include "convert_variant.h"
#include "gguf.h"
#include "gguf_checked.h"
#include "json_edit.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf.h"

/* the sizes of the checkpoints: LFM2 with 4 layers, Gemma 4 (E2B layout too) with 6; tied embeddings but for the text
 * model of Gemma 4 (gemma4text), which has an lm_head of its own */
static void hybrid_spec(tiny_hf_spec *s, const char *arch) {
    tiny_hf_default(s);
    s->arch = arch, s->tied = strcmp(arch, "gemma4text") != 0;
    if (!strcmp(arch, "lfm2")) s->n_layer = 4;
    else if (!strcmp(arch, "lfm2moe")) s->n_layer = 4, s->n_ff = 64;
    else s->n_layer = 6, s->n_embd = 128, s->n_ff = 256;
}

/* LFM2-MoE: what llama.cpp's lfm2moe computes differently, and config / tensor disagreements */
static void test_lfm2moe_bad_input(void) {
    refusal_edit_table("test_convert_hybrid", "bad-lfm2moe", hybrid_spec);
}


static void test_lfm2_bad_input(void) {
    refusal_edit_table("test_convert_hybrid", "bad-lfm2", hybrid_spec);
}

/* lfm2.attention.head_count_kv of the file at path: per layer, the KV heads
 * on the attention layer (layer 2 of the 4) and 0 on the convolution layers, as
 * convert_hf_to_gguf's LFM2Model writes it (llama.cpp reads the count of
 * the layer it builds; a wrong one on a conv layer goes unnoticed there) */
static void check_lfm2_head_counts(const char *path) {
    tiny_hf_spec s;
    hybrid_spec(&s, "lfm2");
    qk_gguf_file *gf = gguf_open_checked(path);
    if (!gf) return;
    const qk_gguf_kv *hk = qk_gguf_find(&gf->meta, "lfm2.attention.head_count_kv");
    CHECK(hk && hk->type == QK_GGUF_ARRAY && hk->n == 4);
    for (uint64_t k = 0; hk && hk->type == QK_GGUF_ARRAY && k < hk->n && k < 4; k++) {
        int64_t v = -1;
        CHECK(qk_gguf_arr_int(hk, k, &v));
        CHECK_MSG(v == (k == 2 ? s.n_head_kv : 0), "head_count_kv[%llu] %lld", (unsigned long long)k, (long long)v);
    }
    qk_gguf_close(gf);
}

/* LFM2's first releases list the attention layers in full_attn_idxs instead of layer_types: the same file */
static void test_lfm2_full_attn_idxs(void) {
    convert_variant v;
    if (convert_variant_start(&v, "lfm2-idxs", hybrid_spec, "lfm2", "q8_0", 2)) return;
    check_lfm2_head_counts(v.a);
    convert_edit_file(v.config, "\"layer_types\":\t[\"conv\", \"conv\", \"full_attention\", \"conv\"]",
                      "\"full_attn_idxs\":\t[2]");
    if (!convert_variant_converts(&v)) CHECK(qk_test_same_bytes(v.a, v.b));
    /* an index past the last layer is refused */
    convert_edit_file(v.config, "\"full_attn_idxs\":\t[2]", "\"full_attn_idxs\":\t[4]");
    convert_variant_refused(&v, "full_attn_idxs holds something other than a layer number below 4");
}

/* Gemma 4: what the registry does not carry yet (the MoE block) and configs that disagree with the tensors are
 * refused by name */
static void test_gemma4_bad_input(void) {
    refusal_edit_table("test_convert_hybrid", "bad-gemma4", hybrid_spec);
}

/* Gemma4TextConfig's defaults stand in for keys a config leaves out (layer_types: five sliding, then global;
 * rope_parameters: proportional 0.25 at 1e6 globally, default 1e4 sliding; scalars from the defaults table): the
 * tiny checkpoint writes exactly those, so leaving them out gives the same file */
static void test_gemma4_config_defaults(void) {
    convert_variant v;
    if (convert_variant_start(&v, "g4-defaults", hybrid_spec, "gemma4", "q8_0", 2)) return;
    cJSON *top = json_file_read(v.config);
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
    CHECK(json_file_write(v.config, top, 0) == 0);
    if (!convert_variant_converts(&v)) CHECK(qk_test_same_bytes(v.a, v.b));
    /* hidden_size_per_layer_input defaults to 256 (per-layer embeddings): a config leaving it out needs them */
    cJSON_DeleteItemFromObjectCaseSensitive(tc, "hidden_size_per_layer_input");
    CHECK(json_file_write(v.config, top, 0) == 0);
    convert_variant_refused(&v, "hidden_size_per_layer_input is 256 but the checkpoint lacks "
                                "per_layer_token_embd.weight");
    cJSON_Delete(top);
}

/* the E2B layout's own refusals */
static void test_gemma4e_bad_input(void) {
    refusal_edit_table("test_convert_hybrid", "bad-gemma4e", hybrid_spec);
}

/* num_global_key_value_heads without attention_k_eq_v: Hugging Face ignores it, the reference converter writes it */
static void test_gemma4_kv_heads_ambiguous(void) {
    convert_variant v;
    if (convert_variant_start(&v, "g4-kv", hybrid_spec, "gemma4text", "q8_0", 2)) return;
    convert_edit_file(v.config, "\"num_global_key_value_heads\":\tnull", "\"num_global_key_value_heads\":\t1");
    convert_variant_refused(&v, "num_global_key_value_heads (1) differs from num_key_value_heads (2) but "
                                "attention_k_eq_v is false");
    /* K = V declared while the global layers carry a v_proj */
    convert_edit_file(v.config, "\"num_global_key_value_heads\":\t1", "\"num_global_key_value_heads\":\tnull");
    convert_edit_file(v.config, "\"attention_k_eq_v\":\tfalse", "\"attention_k_eq_v\":\ttrue");
    convert_variant_refused(&v, "global layer 5 has a v_proj, but attention_k_eq_v is true");
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
        char dir[700], p[900], name[32];
        snprintf(name, sizeof name, "refused-%zu", c);
        tiny_hf_spec s;
        hybrid_spec(&s, "lfm2");
        convert_write_tiny(dir, sizeof dir, name, &s);
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
