/* tiny_hf_nemotronh.c - tiny checkpoints of NVIDIA Nemotron-H in the published NemotronHForCausalLM layout (model_type
 * nemotron_h, bfloat16 in the releases), "nemotronh": config.json with the keys of nvidia/Nemotron-H-8B-Base-8K and
 * NVIDIA-Nemotron-Nano-9B-v2 (head_dim as Nano 2 has it, larger than hidden / heads; n_groups, mamba_num_heads,
 * mamba_head_dim, ssm_state_size, conv_kernel, expand, mlp_hidden_act relu2, mamba_hidden_act silu, both norm
 * epsilons, no rope keys), scaled down: hidden n_embd, n_groups 2 of mamba_num_heads 8 x mamba_head_dim 16 (an
 * inner size of 128), ssm_state_size 16, kernel 4; layers by hybrid_override_pattern, "M-M*-" repeated ("M" Mamba-2
 * backbone.layers.N.mixer.{in_proj [2 d_inner + 2 n_groups d_state + n_heads, H], conv1d [conv_dim, 1, 4] and its
 * bias, dt_bias, A_log, D, norm [d_inner], out_proj}; "*" mixer.{q,k,v,o}_proj with head_dim 32; "-" mixer.up_proj /
 * down_proj), each with backbone.layers.N.norm; backbone.embeddings, backbone.norm_f, lm_head (untied, as released);
 * the vocabulary padded to a multiple of 8 as the releases' 131072. "nemotronh_moe": Nemotron 3 Nano 30B-A3B's
 * layout, "MEM*E" repeated, its MoE keys (n_routed_experts 8 here, num_experts_per_tok 2, moe_intermediate_size,
 * moe_shared_expert_intermediate_size, routed_scaling_factor 2.5, norm_topk_prob, n_group / topk_group 1, norm_eps)
 * and "E" layers of mixer.gate (router) with e_score_correction_bias, mixer.experts.N.up_proj / down_proj and
 * mixer.shared_experts.up_proj / down_proj. o_proj is drawn 4x smaller than the other
 * projections: llama.cpp's attention rounds q, k and v to F16, which at full weight alone costs ~1e-4 of the logits
 * (the F32 file's tolerance); at this weight the attention still moves the logits by some 5%. Test support only. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

int tiny_hf_write_nemotronh(const char *dir, const tiny_hf_spec *s) {
    const bool moe = s->arch && !strcmp(s->arch, "nemotronh_moe");
    if (!moe && (!s->arch || strcmp(s->arch, "nemotronh"))) return 1;
    const int E = 8, topk = 2, FS = 2 * s->n_ff; /* experts, used, the shared expert's width */
    const int H = s->n_embd, nh = s->n_head, nkv = s->n_head_kv, hd = 32, F = s->n_ff;
    const int mh = 8, mdh = 16, di = mh * mdh, ng = 2, ds = 16, K = 4;
    const float ws = 4.0f / (float)H;
    const int n_tok = tiny_hf_tokenizer_bpe(dir);
    if (n_tok < 0 || s->n_layer > 64) return -1;
    const int vocab = (n_tok + 7) / 8 * 8;
    static const char cycle[] = "M-M*-", cycle_moe[] = "MEM*E"; /* Nano 2's "M-M-M*-..." / Nano 3's "MEMEM*E..." */
    char pat[65];
    for (int i = 0; i < s->n_layer; i++) pat[i] = (moe ? cycle_moe : cycle)[i % 5];
    pat[s->n_layer] = 0;
    cJSON *c = tiny_cfg_new("NemotronHForCausalLM");
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
    if (moe) { /* Nemotron 3 Nano 30B-A3B's keys (its RMS epsilon as norm_eps, rope_theta though it runs no rope) */
        cJSON_DeleteItemFromObject(c, "rms_norm_eps");
        tiny_cfg_nums(c, "moe_intermediate_size", (double)F, "moe_shared_expert_intermediate_size", (double)FS,
                      "n_group", 1.0, "n_routed_experts", (double)E, "n_shared_experts", 1.0, "norm_eps", 1e-5,
                      "num_experts_per_tok", (double)topk, "partial_rotary_factor", 1.0, "rope_theta", 10000.0,
                      "routed_scaling_factor", 2.5, "topk_group", 1.0, NULL);
        cJSON_AddBoolToObject(c, "norm_topk_prob", 1);
    }
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    tiny_cfg_bools(c, 0, "attention_bias", "mamba_proj_bias", "mlp_bias", "residual_in_fp32", "tie_word_embeddings",
                   "use_bias", NULL);
    tiny_cfg_bools(c, 1, "rescale_prenorm_residual", "use_cache", "use_conv_bias", "use_mamba_kernels", NULL);
    cJSON_AddNullToObject(c, "sliding_window");
    /* embeddings drawn larger than the layers' outputs (as Granite's embedding_multiplier makes them): each layer then
     * moves the residual less, and Q8_0's rounding in them stays within the tolerance */
    tiny_tlist *l = tiny_tlist_begin(dir, c, "backbone.", "embeddings.weight", "norm_f.weight", vocab, H, 0.5f, 1.0f);
    if (!l) return -1;
    const char *B = "backbone.";
    for (int i = 0; i < s->n_layer; i++) {
        char pfx[64];
        snprintf(pfx, sizeof pfx, "%slayers.%d.mixer.", B, i);
        tiny_tlist_add(l, H, 0, 0, 0.1f, 1.0f, "%slayers.%d.norm.weight", B, i);
        if (pat[i] == 'M') {
            tiny_tlist_add_mamba2(l, pfx, H, di, mh, ng, ds, K, true, ws);
        } else if (pat[i] == '*') {
            tiny_tlist_add_qkvo(l, pfx, H, nh * hd, nkv * hd, ws, 1.0f / (float)(nh * hd));
        } else if (pat[i] == 'E') {
            /* the router (float32 in the release), drawn small enough that the sigmoid scores stay off 0: llama.cpp
             * clamps the sum of the chosen scores at 6.1e-5 before normalizing, Hugging Face does not; its bias; the
             * experts, the shared one */
            tiny_tlist_add(l, E, H, 0, 0.25f, 0, "%slayers.%d.mixer.gate.weight", B, i);
            tiny_tlist_add(l, E, 0, 0, 0.3f, 0, "%slayers.%d.mixer.gate.e_score_correction_bias", B, i);
            for (int e = 0; e < E; e++) {
                tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mixer.experts.%d.up_proj.weight", B, i, e);
                tiny_tlist_add(l, H, F, 0, 4.0f / (float)F, 0, "%slayers.%d.mixer.experts.%d.down_proj.weight", B, i,
                               e);
            }
            tiny_tlist_add(l, FS, H, 0, ws, 0, "%slayers.%d.mixer.shared_experts.up_proj.weight", B, i);
            tiny_tlist_add(l, H, FS, 0, 4.0f / (float)FS, 0, "%slayers.%d.mixer.shared_experts.down_proj.weight", B, i);
        } else {
            tiny_tlist_add(l, F, H, 0, ws, 0, "%slayers.%d.mixer.up_proj.weight", B, i);
            tiny_tlist_add(l, H, F, 0, 4.0f / (float)F, 0, "%slayers.%d.mixer.down_proj.weight", B, i);
        }
    }
    tiny_tlist_add(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    return tiny_tlist_emit(dir, s, l);
}
