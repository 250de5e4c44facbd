/* tiny_hf_nemotronh.c - tiny checkpoints of NVIDIA Nemotron-H in the published NemotronHForCausalLM layout (model_type
 * nemotron_h, bfloat16 in the releases), "nemotronh": config.json with the keys of nvidia/Nemotron-H-8B-Base-8K and
 * NVIDIA-Nemotron-Nano-9B-v2 (head_dim as Nano 2 has it, larger than hidden / heads; n_groups, mamba_num_heads,
 * mamba_head_dim, ssm_state_size, conv_kernel, expand, mlp_hidden_act relu2, mamba_hidden_act silu, both norm
 * epsilons, no rope keys), scaled down: hidden n_embd, n_groups 2 of mamba_num_heads 8 x mamba_head_dim 16 (an
 * inner size of 128), ssm_state_size 16, kernel 4; layers by hybrid_override_pattern, "M-M*-" repeated ("M" Mamba-2
 * backbone.layers.N.mixer.{in_proj [2 d_inner + 2 n_groups d_state + n_heads, H], conv1d [conv_dim, 1, 4] and its
 * bias, dt_bias, A_log, D, norm [d_inner], out_proj}; "*" mixer.{q,k,v,o}_proj with head_dim 32; "-" mixer.up_proj /
 * down_proj), each with backbone.layers.N.norm; backbone.embeddings, backbone.norm_f, lm_head (untied, as released);
 * the vocabulary padded to a multiple of 8 as the releases' 131072. o_proj is drawn 4x smaller than the other
 * projections: llama.cpp's attention rounds q, k and v to F16, which at full weight alone costs ~1e-4 of the logits
 * (the F32 file's tolerance); at this weight the attention still moves the logits by some 5%. Test support only. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

int tiny_hf_write_nemotronh(const char *dir, const tiny_hf_spec *s) {
    if (!s->arch || strcmp(s->arch, "nemotronh")) return 1;
    const int H = s->n_embd, nh = s->n_head, nkv = s->n_head_kv, hd = 32, F = s->n_ff;
    const int mh = 8, mdh = 16, di = mh * mdh, ng = 2, ds = 16, K = 4;
    const float ws = 4.0f / (float)H;
    const int n_tok = tiny_hf_tokenizer_bpe(dir);
    if (n_tok < 0 || s->n_layer > 64) return -1;
    const int vocab = (n_tok + 7) / 8 * 8;
    static const char cycle[] = "M-M*-";
    char pat[65];
    for (int i = 0; i < s->n_layer; i++) pat[i] = cycle[i % 5];
    pat[s->n_layer] = 0;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "architectures"), cJSON_CreateString("NemotronHForCausalLM"));
    tiny_cfg_nums(c, "attention_dropout", 0.0, "bos_token_id", (double)(n_tok - 3), "chunk_size", 128.0,
                  "conv_kernel", (double)K, "eos_token_id", (double)(n_tok - 2), "expand", 2.0, "head_dim", (double)hd,
                  "hidden_dropout", 0.0, "hidden_size", (double)H, "initializer_range", 0.02,
                  "intermediate_size", (double)F, "layer_norm_epsilon", 1e-5, "mamba_head_dim", (double)mdh,
                  "mamba_num_heads", (double)mh, "max_position_embeddings", 131072.0, "n_groups", (double)ng,
                  "num_attention_heads", (double)nh, "num_hidden_layers", (double)s->n_layer,
                  "num_key_value_heads", (double)nkv, "num_logits_to_keep", 1.0, "pad_token_id", 0.0,
                  "rms_norm_eps", 1e-5, "ssm_state_size", (double)ds, "time_step_floor", 1e-4,
                  "time_step_max", 0.1, "time_step_min", 0.001, "vocab_size", (double)vocab, NULL);
    const char *const strs[][2] = {{"hybrid_override_pattern", pat}, {"mamba_hidden_act", "silu"},
                                   {"mlp_hidden_act", "relu2"},      {"model_type", "nemotron_h"},
                                   {"transformers_version", "4.48.0.dev0"}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) cJSON_AddStringToObject(c, strs[i][0], strs[i][1]);
    cJSON_AddStringToObject(c, "torch_dtype",
                            !strcmp(s->dtype, "BF16") ? "bfloat16" : !strcmp(s->dtype, "F16") ? "float16" : "float32");
    static const char *const off[] = {"attention_bias", "mamba_proj_bias", "mlp_bias", "residual_in_fp32",
                                      "tie_word_embeddings", "use_bias"};
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) cJSON_AddBoolToObject(c, off[i], 0);
    static const char *const on[] = {"rescale_prenorm_residual", "use_cache", "use_conv_bias", "use_mamba_kernels"};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) cJSON_AddBoolToObject(c, on[i], 1);
    cJSON_AddNullToObject(c, "sliding_window");
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    tiny_tlist *l = calloc(1, sizeof *l);
    if (!l) return -1;
    const char *B = "backbone.";
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "%sembeddings.weight", B);
    tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%snorm_f.weight", B);
    for (int i = 0; i < s->n_layer; i++) {
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.norm.weight", B, i);
        if (pat[i] == 'M') {
            char pfx[64];
            snprintf(pfx, sizeof pfx, "%slayers.%d.mixer.", B, i);
            tiny_tlist_add_mamba2(l, pfx, H, di, mh, ng, ds, K, true, ws);
        } else if (pat[i] == '*') {
            tiny_tlist_add(l, nh * hd, H, 0, ws, 0, "%slayers.%d.mixer.q_proj.weight", B, i);
            tiny_tlist_add(l, nkv * hd, H, 0, ws, 0, "%slayers.%d.mixer.k_proj.weight", B, i);
            tiny_tlist_add(l, nkv * hd, H, 0, ws, 0, "%slayers.%d.mixer.v_proj.weight", B, i);
            tiny_tlist_add(l, H, nh * hd, 0, 1.0f / (float)(nh * hd), 0, "%slayers.%d.mixer.o_proj.weight", B, i);
        } else {
            tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mixer.up_proj.weight", B, i);
            tiny_tlist_add(l, H, F, 0, 4.0f / (float)F, 0, "%slayers.%d.mixer.down_proj.weight", B, i);
        }
    }
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    const int rc = tiny_hf_emit(dir, s, l->t, l->n);
    free(l->t), free(l);
    return rc;
}
