/* tiny_hf_hybrid.c - tiny checkpoints of the hybrid families (layers of
 * different kinds): "lfm2" (LiquidAI/LFM2-350M's layout: gated short-conv
 * layers and attention layers listed by layer_types, q/k layernorms,
 * feed_forward.w1/w3/w2, embedding_norm as the final norm, tied). Names,
 * shapes and config keys as the public release has them, scaled down. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

typedef struct {
    tdef t[160];
    int n;
} hlist;

/* Appends a tensor of shape [a] (b == 0, c == 0), [a, b] (c == 0) or [a, b, c]. */
static void add3(hlist *l, int64_t a, int64_t b, int64_t c, float scale, float offset, const char *fmt, ...) {
    if (l->n == (int)(sizeof l->t / sizeof l->t[0])) return; /* tiny_hf_emit then misses a tensor: the test fails */
    tdef *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->n_dims = c ? 3 : b ? 2 : 1;
    t->shape[0] = a, t->shape[1] = b, t->shape[2] = c, t->scale = scale, t->offset = offset;
}

/* LFM2's layer kinds for n layers: LFM2-350M's pattern (conv, conv, attention, ...) from its start */
static bool lfm2_conv(int i) { return i % 3 != 2; }

int tiny_hf_write_hybrid(const char *dir, const tiny_hf_spec *s) {
    const char *a = s->arch ? s->arch : "";
    if (strcmp(a, "lfm2")) return 1;
    const int H = s->n_embd, hd = H / s->n_head, kd = hd * s->n_head_kv, F = s->n_ff, L = 3;
    const float ws = 4.0f / (float)H;
    const int vocab = tiny_hf_tokenizer_bpe(dir);
    if (vocab < 0) return -1;
    /* LiquidAI/LFM2-350M's config.json: block_ff_dim = intermediate_size before LFM2's 2/3 adjustment */
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "architectures"), cJSON_CreateString("Lfm2ForCausalLM"));
    cJSON_AddStringToObject(c, "model_type", "lfm2");
    cJSON_AddStringToObject(c, "torch_dtype",
                            !strcmp(s->dtype, "BF16") ? "bfloat16" : !strcmp(s->dtype, "F16") ? "float16" : "float32");
    const double ff_cfg = (double)F * 3 / 2;
    cJSON_AddNumberToObject(c, "vocab_size", vocab);
    cJSON_AddNumberToObject(c, "hidden_size", H);
    cJSON_AddNumberToObject(c, "block_dim", H);
    cJSON_AddNumberToObject(c, "conv_dim", H);
    cJSON_AddNumberToObject(c, "conv_dim_out", H);
    cJSON_AddNumberToObject(c, "intermediate_size", ff_cfg);
    cJSON_AddNumberToObject(c, "block_ff_dim", ff_cfg);
    cJSON_AddBoolToObject(c, "block_auto_adjust_ff_dim", 1);
    cJSON_AddNumberToObject(c, "block_ffn_dim_multiplier", 1.0);
    cJSON_AddNumberToObject(c, "block_multiple_of", 256);
    cJSON_AddBoolToObject(c, "block_use_swiglu", 1);
    cJSON_AddNumberToObject(c, "num_hidden_layers", s->n_layer);
    cJSON_AddNumberToObject(c, "num_attention_heads", s->n_head);
    cJSON_AddNumberToObject(c, "num_heads", s->n_head);
    cJSON_AddNumberToObject(c, "num_key_value_heads", s->n_head_kv);
    cJSON_AddNumberToObject(c, "max_position_embeddings", 128000);
    cJSON_AddNumberToObject(c, "norm_eps", 1e-5);
    cJSON_AddNumberToObject(c, "block_norm_eps", 1e-5);
    cJSON_AddNumberToObject(c, "conv_L_cache", L);
    cJSON_AddBoolToObject(c, "conv_bias", 0);
    cJSON_AddNumberToObject(c, "rope_theta", 1000000.0);
    cJSON_AddNumberToObject(c, "theta", 1000000.0);
    cJSON_AddBoolToObject(c, "tie_embedding", s->tied);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    cJSON_AddBoolToObject(c, "use_pos_enc", 1);
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < s->n_layer; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(lfm2_conv(i) ? "conv" : "full_attention"));
    cJSON_AddNumberToObject(c, "bos_token_id", vocab - 3);
    cJSON_AddNumberToObject(c, "eos_token_id", vocab - 1);
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    hlist *l = calloc(1, sizeof *l);
    if (!l) return -1;
    add3(l, vocab, H, 0, 1.0f, 0, "model.embed_tokens.weight");
    add3(l, H, 0, 0, 0.1f, 1.0f, "model.embedding_norm.weight");
    for (int i = 0; i < s->n_layer; i++) {
        const char *P = "model.layers.";
        add3(l, H, 0, 0, 0.1f, 1.0f, "%s%d.operator_norm.weight", P, i);
        add3(l, H, 0, 0, 0.1f, 1.0f, "%s%d.ffn_norm.weight", P, i);
        if (lfm2_conv(i)) {
            add3(l, 3 * H, H, 0, ws, 0, "%s%d.conv.in_proj.weight", P, i); /* [B | C | x] */
            add3(l, H, 1, L, 0.5f, 0, "%s%d.conv.conv.weight", P, i);      /* depthwise Conv1d */
            add3(l, H, H, 0, ws, 0, "%s%d.conv.out_proj.weight", P, i);
        } else {
            add3(l, H, H, 0, ws, 0, "%s%d.self_attn.q_proj.weight", P, i);
            add3(l, kd, H, 0, ws, 0, "%s%d.self_attn.k_proj.weight", P, i);
            add3(l, kd, H, 0, ws, 0, "%s%d.self_attn.v_proj.weight", P, i);
            add3(l, H, H, 0, ws, 0, "%s%d.self_attn.out_proj.weight", P, i);
            add3(l, hd, 0, 0, 0.1f, 1.0f, "%s%d.self_attn.q_layernorm.weight", P, i);
            add3(l, hd, 0, 0, 0.1f, 1.0f, "%s%d.self_attn.k_layernorm.weight", P, i);
        }
        add3(l, F, H, 0, ws, 0, "%s%d.feed_forward.w1.weight", P, i);
        add3(l, F, H, 0, ws, 0, "%s%d.feed_forward.w3.weight", P, i);
        add3(l, H, F, 0, ws, 0, "%s%d.feed_forward.w2.weight", P, i);
    }
    if (!s->tied) add3(l, vocab, H, 0, 0.1f, 0, "lm_head.weight");
    const int rc = tiny_hf_emit(dir, s, l->t, l->n);
    free(l);
    return rc;
}
