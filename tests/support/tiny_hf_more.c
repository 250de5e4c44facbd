/* tiny_hf_more.c - tiny checkpoints of the families whose published layouts
 * are not the Llama one with variations (see tiny_hf.h for the list): each
 * names, shapes and config keys as its public release on the Hugging Face
 * hub has them, scaled down. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

/* a [1, 1, n, n] causal-mask buffer, as GPT-2 / GPT-NeoX checkpoints carry them */
static void add_mask(tiny_tlist *l, int n, const char *fmt, int layer) {
    tiny_tlist_add(l, 1, 1, 0, 0.0f, 1.0f, fmt, layer);
    tdef *t = &l->t[l->n - 1];
    t->n_dims = 4, t->shape[2] = n, t->shape[3] = n;
}

/* key, bool (as int) pairs up to a NULL key */
static void addb(cJSON *c, ...) {
    va_list ap;
    va_start(ap, c);
    for (const char *k; (k = va_arg(ap, const char *));) cJSON_AddBoolToObject(c, k, va_arg(ap, int));
    va_end(ap);
}
/* Llama 3.1's rope scaling, its original context scaled down to 64 positions */
static void llama3_rope(cJSON *c, double factor) {
    cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling");
    tiny_cfg_nums(rs, "factor", factor, "high_freq_factor", 4.0, "low_freq_factor", 1.0, "original_max_position_embeddings",
         64.0, NULL);
    cJSON_AddStringToObject(rs, "rope_type", "llama3");
}

static cJSON *base_config(const char *hf_arch, const char *model_type, const tiny_hf_spec *s) {
    cJSON *c = tiny_cfg_new(hf_arch);
    cJSON_AddStringToObject(c, "model_type", model_type);
    cJSON_AddStringToObject(c, "torch_dtype", tiny_hf_torch_dtype(s));
    return c;
}
/* the Llama-named size keys most families share */
static void llama_sizes(cJSON *c, const tiny_hf_spec *s, int vocab) {
    tiny_cfg_nums(c, "vocab_size", (double)(vocab), "hidden_size", (double)(s->n_embd),
         "intermediate_size", (double)(s->n_ff), "num_hidden_layers", (double)(s->n_layer),
         "num_attention_heads", (double)(s->n_head), "num_key_value_heads", (double)(s->n_head_kv),
         "max_position_embeddings", 256.0, NULL);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
}

int tiny_hf_write_more(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    const bool ernie = !strcmp(a, "ernie4_5"), glm4 = !strcmp(a, "glm4"), internlm2 = !strcmp(a, "internlm2");
    const bool gpt2 = !strcmp(a, "gpt2"), neox = !strcmp(a, "gptneox");
    const bool exaone4_32b = !strcmp(a, "exaone4swa"); /* EXAONE 4.0 32B's layout: 3:1 sliding windows */
    const bool qwen3vl = !strcmp(a, "qwen3vl"), exaone4 = !strcmp(a, "exaone4") || exaone4_32b;
    const bool apertus = !strcmp(a, "apertus");
    if (!ernie && !glm4 && !internlm2 && !gpt2 && !neox && !qwen3vl && !exaone4 && !apertus) return 1;
    const bool llama_names = ernie || glm4 || qwen3vl || exaone4 || apertus;
    const int H = s->n_embd, hd = H / s->n_head, qd = hd * s->n_head, kd = hd * s->n_head_kv, F = s->n_ff;
    const float ws = 4.0f / (float)H;
    int vocab = ernie ? tiny_hf_tokenizer_spm(dir, "Ernie4_5_Tokenizer", NULL, 0)
              : internlm2 ? tiny_hf_tokenizer_spm(dir, "InternLM2Tokenizer", NULL, 0)
                          : tiny_hf_tokenizer_bpe(dir);
    if (glm4 && vocab >= 0) vocab = tiny_hf_tokenizer_add(dir, tiny_glm_tokens, 4); /* Glm4Model.set_vocab's */
    if (vocab < 0) return -1;
    const bool spm = ernie || internlm2;
    tiny_tlist l = {0};
    cJSON *c, *top = NULL;
    if (qwen3vl) {
        /* Qwen/Qwen3-VL-4B-Instruct: the Qwen3 text model in text_config (M-RoPE sections [24, 20, 20] of 64
         * half-dims, interleaved; scaled to head_dim / 2 here), the vision tower with deepstack mergers */
        top = base_config("Qwen3VLForConditionalGeneration", "qwen3_vl", s);
        c = cJSON_AddObjectToObject(top, "text_config");
        cJSON_AddStringToObject(c, "model_type", "qwen3_vl_text");
        llama_sizes(c, s, vocab);
        tiny_cfg_nums(c, "head_dim", (double)(hd), "rms_norm_eps", 1e-6, "rope_theta", 5000000.0, NULL);
        cJSON_AddBoolToObject(c, "attention_bias", 0);
        tiny_cfg_qwen3vl_rope(c, hd);
        cJSON_AddBoolToObject(top, "tie_word_embeddings", s->tied);
        tiny_cfg_qwen3vl_vision(top, "qwen3_vl", 6, 1, 2, H);
        tiny_tlist_add_qwen3vl_vision(&l, H);
    } else if (exaone4) {
        /* LGAI-EXAONE/EXAONE-4.0-1.2B: no pre-norms (post-attention / post-feed-forward norms on the outputs),
         * per-head q/k norms, llama3 rope scaling, no sliding window, tied */
        c = base_config("Exaone4ForCausalLM", "exaone4", s);
        llama_sizes(c, s, vocab);
        tiny_cfg_nums(c, "head_dim", (double)(hd), "rms_norm_eps", 1e-5, "rope_theta", 1000000.0, NULL);
        llama3_rope(c, 16.0);
        /* LGAI-EXAONE/EXAONE-4.0-32B: sliding_window 4096 (4 here), pattern "LLLG", every 4th layer global */
        if (exaone4_32b) cJSON_AddNumberToObject(c, "sliding_window", 4.0);
        else cJSON_AddNullToObject(c, "sliding_window");
        if (exaone4_32b) cJSON_AddStringToObject(c, "sliding_window_pattern", "LLLG");
        else cJSON_AddNullToObject(c, "sliding_window_pattern");
        cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
        for (int i = 0; i < s->n_layer; i++)
            cJSON_AddItemToArray(lt, cJSON_CreateString(exaone4_32b && (i + 1) % 4 ? "sliding_attention"
                                                                                   : "full_attention"));
    } else if (apertus) {
        /* swiss-ai/Apertus-8B-Instruct-2509: its own norm names, per-head q/k norms, an ungated xIELU MLP with
         * per-layer scalars, llama3 rope scaling */
        c = base_config("ApertusForCausalLM", "apertus", s);
        llama_sizes(c, s, vocab);
        cJSON_ReplaceItemInObjectCaseSensitive(c, "hidden_act", cJSON_CreateString("xielu"));
        tiny_cfg_nums(c, "rms_norm_eps", 1e-5, "rope_theta", 12000000.0, NULL);
        llama3_rope(c, 8.0);
        addb(c, "qk_norm", 1, "post_norm", 0, "attention_bias", 0, "mlp_bias", 0, NULL);
    } else if (ernie) {
        /* baidu/ERNIE-4.5-0.3B-PT: the Llama names, explicit head_dim, no biases, tied */
        c = base_config("Ernie4_5ForCausalLM", "ernie4_5", s);
        llama_sizes(c, s, vocab);
        tiny_cfg_nums(c, "head_dim", (double)(hd), "rms_norm_eps", 1e-5, "rope_theta", 500000.0, "pad_token_id", 0.0, NULL);
        addb(c, "use_bias", 0, "use_cache", 0, NULL);
    } else if (glm4) {
        /* zai-org/GLM-4-9B-0414: q/k/v biases, half of each head rotated, sandwich norms, fused gate_up */
        c = base_config("Glm4ForCausalLM", "glm4", s);
        llama_sizes(c, s, vocab);
        tiny_cfg_nums(c, "head_dim", (double)(hd), "partial_rotary_factor", 0.5, "rms_norm_eps", 1e-5, "rope_theta", 10000.0,
             "pad_token_id", (double)(vocab - 3), NULL);
        cJSON_AddBoolToObject(c, "attention_bias", 1);
    } else if (internlm2) {
        /* internlm/internlm2_5-7b-chat: InternLM's own names, fused wqkv in groups, dynamic NTK rope */
        c = base_config("InternLM2ForCausalLM", "internlm2", s);
        llama_sizes(c, s, vocab);
        tiny_cfg_nums(c, "rms_norm_eps", 1e-5, "rope_theta", 1000000.0, NULL);
        cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling");
        cJSON_AddStringToObject(rs, "type", "dynamic");
        cJSON_AddNumberToObject(rs, "factor", 2.0);
        cJSON_AddBoolToObject(c, "bias", 0);
        cJSON_AddStringToObject(c, "attn_implementation", "eager");
        cJSON *am = cJSON_AddObjectToObject(c, "auto_map");
        cJSON_AddStringToObject(am, "AutoConfig", "configuration_internlm2.InternLM2Config");
        cJSON_AddStringToObject(am, "AutoModelForCausalLM", "modeling_internlm2.InternLM2ForCausalLM");
    } else if (gpt2) {
        /* openai-community/gpt2: GPT-2's own keys, MLP 4x wide (n_inner null), tied */
        c = base_config("GPT2LMHeadModel", "gpt2", s);
        tiny_cfg_nums(c, "vocab_size", (double)(vocab), "n_embd", (double)(H), "n_head", (double)(s->n_head),
             "n_layer", (double)(s->n_layer), "n_ctx", 256.0, "n_positions", 256.0, NULL);
        cJSON_AddNullToObject(c, "n_inner");
        cJSON_AddStringToObject(c, "activation_function", "gelu_new");
        cJSON_AddNumberToObject(c, "layer_norm_epsilon", 1e-5);
        cJSON_AddBoolToObject(c, "scale_attn_weights", 1);
        tiny_cfg_nums(c, "attn_pdrop", 0.1, "resid_pdrop", 0.1, "embd_pdrop", 0.1, NULL);
    } else {
        /* EleutherAI/pythia-70m-deduped: a quarter of each head rotated, parallel residual, untied */
        c = base_config("GPTNeoXForCausalLM", "gpt_neox", s);
        tiny_cfg_nums(c, "vocab_size", (double)(vocab), "hidden_size", (double)(H), "intermediate_size", (double)(F),
             "num_hidden_layers", (double)(s->n_layer), "num_attention_heads", (double)(s->n_head),
             "max_position_embeddings", 256.0, "rotary_pct", 0.25, "rotary_emb_base", 10000.0,
             "layer_norm_eps", 1e-5, NULL);
        cJSON_AddStringToObject(c, "hidden_act", "gelu");
        cJSON_AddBoolToObject(c, "use_parallel_residual", 1);
        cJSON_AddBoolToObject(c, "tie_word_embeddings", 0);
    }
    tiny_cfg_nums(c, "bos_token_id", (double)(spm ? 1 : vocab - 3), "eos_token_id", (double)(spm ? 2 : vocab - 1), NULL);
    if (tiny_hf_json(dir, "config.json", top ? top : c)) return -1;

    for (int i = 0; i < s->n_layer; i++) {
        if (llama_names) {
            const char *P = qwen3vl ? "model.language_model.layers." : "model.layers.";
            if (!exaone4)
                tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.%s.weight", P, i, apertus ? "attention_layernorm" : "input_layernorm");
            if (qwen3vl || exaone4 || apertus) { /* per head */
                tiny_tlist_add(&l, hd, 0, 0, 0.1f, 1.0f, "%s%d.self_attn.q_norm.weight", P, i);
                tiny_tlist_add(&l, hd, 0, 0, 0.1f, 1.0f, "%s%d.self_attn.k_norm.weight", P, i);
            }
            if (exaone4) tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.post_feedforward_layernorm.weight", P, i);
            tiny_tlist_add(&l, qd, H, 0, ws, 0, "%s%d.self_attn.q_proj.weight", P, i);
            tiny_tlist_add(&l, kd, H, 0, ws, 0, "%s%d.self_attn.k_proj.weight", P, i);
            tiny_tlist_add(&l, kd, H, 0, ws, 0, "%s%d.self_attn.v_proj.weight", P, i);
            if (glm4) {
                tiny_tlist_add(&l, qd, 0, 0, 0.1f, 0, "%s%d.self_attn.q_proj.bias", P, i);
                tiny_tlist_add(&l, kd, 0, 0, 0.1f, 0, "%s%d.self_attn.k_proj.bias", P, i);
                tiny_tlist_add(&l, kd, 0, 0, 0.1f, 0, "%s%d.self_attn.v_proj.bias", P, i);
            }
            tiny_tlist_add(&l, H, qd, 0, ws, 0, "%s%d.self_attn.o_proj.weight", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.%s.weight", P, i,
                apertus ? "feedforward_layernorm" : "post_attention_layernorm");
            if (apertus) { /* XIELUActivation: alpha_p / alpha_n ([1], before softplus), beta / eps (0-D buffers) */
                tiny_tlist_add(&l, 1, 0, 0, 0.1f, 0.3f, "%s%d.mlp.act_fn.alpha_p", P, i);
                tiny_tlist_add(&l, 1, 0, 0, 0.1f, -0.2f, "%s%d.mlp.act_fn.alpha_n", P, i);
                tiny_tlist_add(&l, -1, 0, 0, 0.0f, 0.5f, "%s%d.mlp.act_fn.beta", P, i);
                tiny_tlist_add(&l, -1, 0, 0, 0.0f, -1e-6f, "%s%d.mlp.act_fn.eps", P, i);
            }
            if (glm4) {
                tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.post_self_attn_layernorm.weight", P, i);
                tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.post_mlp_layernorm.weight", P, i);
                tiny_tlist_add(&l, 2 * F, H, 0, ws, 0, "%s%d.mlp.gate_up_proj.weight", P, i);
            } else {
                if (!apertus) tiny_tlist_add(&l, F, H, 0, ws, 0, "%s%d.mlp.gate_proj.weight", P, i);
                tiny_tlist_add(&l, F, H, 0, ws, 0, "%s%d.mlp.up_proj.weight", P, i);
            }
            tiny_tlist_add(&l, H, F, 0, ws, 0, "%s%d.mlp.down_proj.weight", P, i);
        } else if (internlm2) {
            const char *P = "model.layers.";
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.attention_norm.weight", P, i);
            tiny_tlist_add(&l, qd + 2 * kd, H, 0, ws, 0, "%s%d.attention.wqkv.weight", P, i);
            tiny_tlist_add(&l, H, qd, 0, ws, 0, "%s%d.attention.wo.weight", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.ffn_norm.weight", P, i);
            tiny_tlist_add(&l, F, H, 0, ws, 0, "%s%d.feed_forward.w1.weight", P, i);
            tiny_tlist_add(&l, F, H, 0, ws, 0, "%s%d.feed_forward.w3.weight", P, i);
            tiny_tlist_add(&l, H, F, 0, ws, 0, "%s%d.feed_forward.w2.weight", P, i);
        } else if (gpt2) { /* Conv1D weights are [in, out] */
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "h.%d.ln_1.weight", i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "h.%d.ln_1.bias", i);
            add_mask(&l, 256, "h.%d.attn.bias", i);
            tiny_tlist_add(&l, H, 3 * H, 0, ws, 0, "h.%d.attn.c_attn.weight", i);
            tiny_tlist_add(&l, 3 * H, 0, 0, 0.1f, 0, "h.%d.attn.c_attn.bias", i);
            tiny_tlist_add(&l, H, H, 0, ws, 0, "h.%d.attn.c_proj.weight", i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "h.%d.attn.c_proj.bias", i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "h.%d.ln_2.weight", i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "h.%d.ln_2.bias", i);
            tiny_tlist_add(&l, H, 4 * H, 0, ws, 0, "h.%d.mlp.c_fc.weight", i);
            tiny_tlist_add(&l, 4 * H, 0, 0, 0.1f, 0, "h.%d.mlp.c_fc.bias", i);
            tiny_tlist_add(&l, 4 * H, H, 0, ws, 0, "h.%d.mlp.c_proj.weight", i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "h.%d.mlp.c_proj.bias", i);
        } else {
            const char *P = "gpt_neox.layers.";
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.input_layernorm.weight", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "%s%d.input_layernorm.bias", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%s%d.post_attention_layernorm.weight", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "%s%d.post_attention_layernorm.bias", P, i);
            add_mask(&l, 256, "gpt_neox.layers.%d.attention.bias", i);
            tiny_tlist_add(&l, -1, 0, 0, 0.0f, -1e4f, "%s%d.attention.masked_bias", P, i);
            tiny_tlist_add(&l, hd / 8, 0, 0, 0.0f, 0.01f, "%s%d.attention.rotary_emb.inv_freq", P, i);
            tiny_tlist_add(&l, 3 * H, H, 0, ws, 0, "%s%d.attention.query_key_value.weight", P, i); /* [head][q, k, v][dim] rows */
            tiny_tlist_add(&l, 3 * H, 0, 0, 0.1f, 0, "%s%d.attention.query_key_value.bias", P, i);
            tiny_tlist_add(&l, H, H, 0, ws, 0, "%s%d.attention.dense.weight", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "%s%d.attention.dense.bias", P, i);
            tiny_tlist_add(&l, F, H, 0, ws, 0, "%s%d.mlp.dense_h_to_4h.weight", P, i);
            tiny_tlist_add(&l, F, 0, 0, 0.1f, 0, "%s%d.mlp.dense_h_to_4h.bias", P, i);
            tiny_tlist_add(&l, H, F, 0, ws, 0, "%s%d.mlp.dense_4h_to_h.weight", P, i);
            tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "%s%d.mlp.dense_4h_to_h.bias", P, i);
        }
    }
    if (gpt2) {
        tiny_tlist_add(&l, vocab, H, 0, 1.0f, 0, "wte.weight");
        tiny_tlist_add(&l, 256, H, 0, 0.5f, 0, "wpe.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "ln_f.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "ln_f.bias");
    } else if (neox) {
        tiny_tlist_add(&l, vocab, H, 0, 1.0f, 0, "gpt_neox.embed_in.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "gpt_neox.final_layer_norm.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 0, "gpt_neox.final_layer_norm.bias");
        tiny_tlist_add(&l, vocab, H, 0, 0.1f, 0, "embed_out.weight");
    } else {
        const char *M = qwen3vl ? "model.language_model." : "model.";
        tiny_tlist_add(&l, vocab, H, 0, 1.0f, 0, "%s%s", M, internlm2 ? "tok_embeddings.weight" : "embed_tokens.weight");
        tiny_tlist_add(&l, H, 0, 0, 0.1f, 1.0f, "%snorm.weight", M);
        if (!s->tied) tiny_tlist_add(&l, vocab, H, 0, 0.1f, 0, internlm2 ? "output.weight" : "lm_head.weight");
    }
    int rc = tiny_hf_emit(dir, s, l.t, l.n);
    free(l.t);
    return rc;
}
