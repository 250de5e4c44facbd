/* convert, the MoE families of arch_moe_more.c (OLMoE, Granite MoE,
 * Qwen3-VL-MoE): what llama.cpp's graphs cannot compute as Hugging Face
 * does is refused with a message naming the checkpoint and the value, and
 * nothing is written; fused 3-D experts read from shards and with several
 * threads give the same file. (test_convert.c's
 * test_families_match_reference proves their logits against llama.cpp.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_run.h"
#include "gguf_compare.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "tiny_hf.h"

static tiny_hf_spec moe_spec(const char *arch, int n_head_kv, int shards) {
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = arch, s.n_head_kv = n_head_kv, s.n_ff = strcmp(arch, "ernie45moe") ? 64 : 128, s.shards = shards;
    if (!strcmp(arch, "ernie45moe")) s.n_layer = 3, s.tied = true;
    return s;
}

static void write_spec(const char *dir, const char *arch, int n_head_kv, int shards) {
    const tiny_hf_spec s = moe_spec(arch, n_head_kv, shards);
    CHECK(tiny_hf_write(dir, &s) == 0);
}

/* the bad-input checkpoints: one file, OLMoE with 4 kv heads, the others 2 */
static void bad_input_spec(tiny_hf_spec *s, const char *arch) { *s = moe_spec(arch, !strcmp(arch, "olmoe") ? 4 : 2, 1); }

static void test_moe_bad_input(void) {
    refusal_edit_table("test_convert_moe", "bad-moe", bad_input_spec);
}

/* The fused experts are read slice by slice wherever they sit: three shards
 * and three threads give the file one shard and one thread give. */
static void test_fused_experts_shards(void) {
    static const char *const archs[] = {"granitemoeshared", "qwen3vlmoe", "ernie45moe"};
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        char one[700], three[700], a[800], b[800];
        snprintf(one, sizeof one, "%s/shard1-%s/hf", qk_test_tmpdir(), archs[i]);
        snprintf(three, sizeof three, "%s/shard3-%s/hf", qk_test_tmpdir(), archs[i]);
        write_spec(one, archs[i], 2, 1);
        write_spec(three, archs[i], 2, 3);
        snprintf(a, sizeof a, "%s/shard1-%s.gguf", qk_test_tmpdir(), archs[i]);
        snprintf(b, sizeof b, "%s/shard3-%s.gguf", qk_test_tmpdir(), archs[i]);
        qk_err err;
        CHECK_MSG(convert_run(one, a, "q4_k_m", 1, &err) == QK_OK, "%s", err.msg);
        CHECK_MSG(convert_run(three, b, "q4_k_m", 3, &err) == QK_OK, "%s", err.msg);
        CHECK(gguf_same_tensors(a, b, archs[i]));
    }
}

/* A per-expert tensor for what a fused source already gave (the fused one in an earlier shard): refused by
 * name, not stacked into the fused tensor. */
static void test_fused_and_per_expert(void) {
    char dir[700], p[900];
    snprintf(dir, sizeof dir, "%s/mixed-experts/hf", qk_test_tmpdir());
    write_spec(dir, "qwen3moepacked", 2, 2); /* shard 1 holds layer 0's down_proj, shard 2 its q_proj */
    static const char *const files[] = {"model-00002-of-00002.safetensors", "model.safetensors.index.json"};
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[k]);
        convert_edit_file(p, "model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.experts.0.down_proj.weight");
    }
    convert_expect_refusal(dir, "tensor 'model.layers.0.mlp.experts.0.down_proj.weight' maps to "
                                "blk.0.ffn_down_exps.weight, which another tensor already gave");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_moe_bad_input);
    RUN(test_fused_experts_shards);
    RUN(test_fused_and_per_expert);
    return qk_test_summary();
}
