/* tiny_hf_moe2.c - tiny checkpoints of the MoE families of branch moe2,
 * in their published layouts, scaled down:
 *   "gptoss": GptOssForCausalLM as the dequantized ("BF16") release has it:
 *     experts as 3-D mlp.experts.gate_up_proj [E, H, 2I] (gate / up
 *     interleaved in the columns) and down_proj [E, I, H], with biases;
 *     attention sinks, q/k/v/o biases, router bias; layer_types alternating
 *     sliding (a window of 4) / full; YaRN rope; head_dim 32 (wider than
 *     hidden / heads, as gpt-oss's 64 of 2880 / 64 is narrower).
 *   "gptoss_mxfp4": the same model as openai/gpt-oss-20b publishes it: the
 *     expert weights as MXFP4 *_blocks (U8 [E, R, C/32, 16]) and *_scales
 *     (U8 [E, R, C/32]), quantization_config.quant_method "mxfp4"; random
 *     nibbles and scales (so a block's scale need not be the one a
 *     quantizer would choose).
 * Test support only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny_hf_priv.h"

typedef struct {
    char name[128];
    const char *dtype; /* "F32", "BF16", "U8" */
    int nd;
    int64_t shape[4];
    unsigned char *data;
    size_t nbytes;
} item;

typedef struct {
    item *it;
    int n, cap;
    uint64_t rng;
    const char *fdtype; /* float tensors: "F32" or "BF16" */
} ilist;

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0; }
static float normal(uint64_t *s) { return (float)(sqrt(-2.0 * log(unif(s))) * cos(2 * M_PI * unif(s))); }

static item *push(ilist *l, const char *name, const char *dtype, int nd, const int64_t *shape) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->it = realloc(l->it, (size_t)l->cap * sizeof *l->it);
    }
    item *t = &l->it[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype, t->nd = nd;
    size_t n = 1;
    for (int i = 0; i < nd; i++) t->shape[i] = shape[i], n *= (size_t)shape[i];
    t->nbytes = n * (!strcmp(dtype, "F32") ? 4 : !strcmp(dtype, "BF16") ? 2 : 1);
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    return t;
}

/* a float tensor of offset + scale * N(0, 1) values */
static void addf(ilist *l, const char *name, float scale, float offset, int nd, int64_t a, int64_t b, int64_t c) {
    const int64_t shape[3] = {a, b, c};
    item *t = push(l, name, l->fdtype, nd, shape);
    const size_t n = t->nbytes / (!strcmp(l->fdtype, "F32") ? 4 : 2);
    for (size_t i = 0; i < n; i++) {
        float v = offset + scale * normal(&l->rng);
        if (!strcmp(l->fdtype, "F32")) {
            memcpy(t->data + 4 * i, &v, 4);
        } else { /* BF16, round to nearest even */
            uint32_t u;
            memcpy(&u, &v, 4);
            u += 0x7FFF + ((u >> 16) & 1);
            t->data[2 * i] = (unsigned char)(u >> 16), t->data[2 * i + 1] = (unsigned char)(u >> 24);
        }
    }
}

/* layer i's two norms, q/k/v projections with biases and o_proj's weight, as gpt-oss and GLM-4.5 store them
 * (in this order: the random stream, and so every value after, follows it) */
static void add_norms_biased_qkv(ilist *l, int i, int H, int NH, int NKV, int HD, float ws) {
    char nm[128];
#define N(fmt) (snprintf(nm, sizeof nm, "model.layers.%d." fmt, i), nm)
    addf(l, N("input_layernorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
    addf(l, N("post_attention_layernorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
    addf(l, N("self_attn.q_proj.weight"), ws, 0, 2, NH * HD, H, 0);
    addf(l, N("self_attn.q_proj.bias"), ws, 0, 1, NH * HD, 0, 0);
    addf(l, N("self_attn.k_proj.weight"), ws, 0, 2, NKV * HD, H, 0);
    addf(l, N("self_attn.k_proj.bias"), ws, 0, 1, NKV * HD, 0, 0);
    addf(l, N("self_attn.v_proj.weight"), ws, 0, 2, NKV * HD, H, 0);
    addf(l, N("self_attn.v_proj.bias"), ws, 0, 1, NKV * HD, 0, 0);
    addf(l, N("self_attn.o_proj.weight"), ws, 0, 2, H, NH * HD, 0);
#undef N
}

/* layer i's feed-forward in DeepSeek's layout (GLM-4.5 shares it): a dense SwiGLU MLP of width I, or the router,
 * its e_score_correction_bias (positive and spread: the choice mostly from the bias, the inputs still move it),
 * E experts of width MI one by one and the shared experts of width SI */
static void add_deepseek_ffn(ilist *l, int i, bool dense, int I, int H, int E, int MI, int SI, bool bias, float ws) {
    char nm[128];
#define N(fmt) (snprintf(nm, sizeof nm, "model.layers.%d." fmt, i), nm)
    if (dense) {
        addf(l, N("mlp.gate_proj.weight"), ws, 0, 2, I, H, 0);
        addf(l, N("mlp.up_proj.weight"), ws, 0, 2, I, H, 0);
        addf(l, N("mlp.down_proj.weight"), ws, 0, 2, H, I, 0);
        return;
    }
    addf(l, N("mlp.gate.weight"), 0.15f, 0, 2, E, H, 0);
    if (bias) addf(l, N("mlp.gate.e_score_correction_bias"), 0.3f, 1.0f, 1, E, 0, 0);
    static const char *const proj[3] = {"gate_proj", "up_proj", "down_proj"};
    for (int e = 0; e < E; e++)
        for (int k = 0; k < 3; k++) {
            snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.%d.%s.weight", i, e, proj[k]);
            addf(l, nm, ws, 0, 2, k < 2 ? MI : H, k < 2 ? H : MI, 0);
        }
    addf(l, N("mlp.shared_experts.gate_proj.weight"), ws, 0, 2, SI, H, 0);
    addf(l, N("mlp.shared_experts.up_proj.weight"), ws, 0, 2, SI, H, 0);
    addf(l, N("mlp.shared_experts.down_proj.weight"), ws, 0, 2, H, SI, 0);
#undef N
}

/* MXFP4 blocks [E, R, C/32, 16] (random bytes) and scales [E, R, C/32] (2^-5 .. 2^-2) */
static void add_mxfp4(ilist *l, const char *base, int64_t E, int64_t R, int64_t C) {
    char nm[128];
    const int64_t bs[4] = {E, R, C / 32, 16}, ss[3] = {E, R, C / 32};
    snprintf(nm, sizeof nm, "%s_blocks", base);
    item *b = push(l, nm, "U8", 4, bs);
    for (size_t i = 0; i < b->nbytes; i++) b->data[i] = (unsigned char)next_u64(&l->rng);
    snprintf(nm, sizeof nm, "%s_scales", base);
    item *s = push(l, nm, "U8", 3, ss);
    for (size_t i = 0; i < s->nbytes; i++) s->data[i] = (unsigned char)(122 + next_u64(&l->rng) % 4);
}

static int emit(const char *dir, const ilist *l) {
    cJSON *h = cJSON_CreateObject();
    size_t off = 0;
    for (int i = 0; i < l->n; i++) {
        const item *t = &l->it[i];
        cJSON *e = cJSON_AddObjectToObject(h, t->name);
        cJSON_AddStringToObject(e, "dtype", t->dtype);
        cJSON *sh = cJSON_AddArrayToObject(e, "shape");
        for (int k = 0; k < t->nd; k++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->shape[k]));
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + t->nbytes)));
        off += t->nbytes;
    }
    char *js = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hl = strlen(js), padded = (hl + 7) / 8 * 8;
    char path[1200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    int rc = f ? 0 : -1;
    unsigned char len[8];
    for (int k = 0; k < 8; k++) len[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    if (f) {
        rc |= fwrite(len, 1, 8, f) != 8;
        rc |= fwrite(js, 1, hl, f) != hl;
        for (size_t k = hl; k < padded; k++) rc |= fputc(' ', f) == EOF;
        for (int i = 0; i < l->n; i++) rc |= fwrite(l->it[i].data, 1, l->it[i].nbytes, f) != l->it[i].nbytes;
        rc |= fclose(f) != 0;
    }
    free(js);
    if (rc) fprintf(stderr, "tiny_hf_moe2: cannot write %s\n", path);
    return rc ? -1 : 0;
}

/* the final norm and, with vocab V > 0, an untied lm_head; the list written to dir (emit) and freed */
static int finish(const char *dir, ilist *l, int H, int V, float ws) {
    addf(l, "model.norm.weight", 0.1f, 1.0f, 1, H, 0, 0);
    if (V > 0) addf(l, "lm_head.weight", ws, 0, 2, V, H, 0);
    const int rc = emit(dir, l);
    for (int i = 0; i < l->n; i++) free(l->it[i].data);
    free(l->it);
    return rc;
}

static int write_gptoss(const char *dir, const tiny_hf_spec *s, bool mxfp4) {
    const int V = tiny_hf_tokenizer_bpe(dir);
    if (V < 0) return -1;
    const int H = s->n_embd, L = s->n_layer, NH = s->n_head, NKV = s->n_head_kv, HD = 32, I = s->n_ff, E = 4;
    cJSON *c = tiny_cfg_new("GptOssForCausalLM");
    cJSON_AddStringToObject(c, "model_type", "gpt_oss");
    const struct { const char *k; double v; } nums[] = {
        {"vocab_size", V}, {"hidden_size", H}, {"intermediate_size", I}, {"num_hidden_layers", L},
        {"num_attention_heads", NH}, {"num_key_value_heads", NKV}, {"head_dim", HD}, {"num_local_experts", E},
        {"num_experts_per_tok", 2}, {"experts_per_token", 2}, {"rms_norm_eps", 1e-5}, {"rope_theta", 150000},
        {"sliding_window", 4}, {"max_position_embeddings", 256}, {"swiglu_limit", 7.0}, {"initial_context_length", 64},
        {"router_aux_loss_coef", 0.9}, {"bos_token_id", V - 3}, {"eos_token_id", V - 2}, {"pad_token_id", V - 2},
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) cJSON_AddNumberToObject(c, nums[k].k, nums[k].v);
    cJSON_AddBoolToObject(c, "attention_bias", 1);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tied);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddStringToObject(c, "torch_dtype", "bfloat16");
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < L; i++) cJSON_AddItemToArray(lt, cJSON_CreateString(i % 2 ? "full_attention" : "sliding_attention"));
    cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling"); /* gpt-oss-20b's, its original context scaled to 64 */
    cJSON_AddStringToObject(rs, "rope_type", "yarn");
    cJSON_AddNumberToObject(rs, "factor", 32.0);
    cJSON_AddNumberToObject(rs, "beta_fast", 32.0);
    cJSON_AddNumberToObject(rs, "beta_slow", 1.0);
    cJSON_AddNumberToObject(rs, "original_max_position_embeddings", 64);
    if (mxfp4) {
        cJSON *q = cJSON_AddObjectToObject(c, "quantization_config");
        cJSON_AddStringToObject(q, "quant_method", "mxfp4");
        cJSON *mods = cJSON_AddArrayToObject(q, "modules_to_not_convert");
        const char *const keep[] = {"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"};
        for (size_t k = 0; k < 4; k++) cJSON_AddItemToArray(mods, cJSON_CreateString(keep[k]));
    }
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    ilist l = {.rng = s->seed * 7919 + (mxfp4 ? 2 : 1), .fdtype = s->dtype && !strcmp(s->dtype, "BF16") ? "BF16" : "F32"};
    const float ws = 0.1f;
    char nm[128];
    addf(&l, "model.embed_tokens.weight", 1.0f, 0, 2, V, H, 0);
    for (int i = 0; i < L; i++) {
#define N(fmt) (snprintf(nm, sizeof nm, "model.layers.%d." fmt, i), nm)
        add_norms_biased_qkv(&l, i, H, NH, NKV, HD, ws);
        addf(&l, N("self_attn.o_proj.bias"), ws, 0, 1, H, 0, 0);
        addf(&l, N("self_attn.sinks"), 1.0f, 0, 1, NH, 0, 0);
        /* the routing mostly from the bias: a choice between near-tied experts flips under any rounding (a
         * discontinuity the test steps around by the reference's routing margin); the inputs still move it */
        addf(&l, N("mlp.router.weight"), 0.15f, 0, 2, E, H, 0);
        addf(&l, N("mlp.router.bias"), 1.5f, 0, 1, E, 0, 0);
        if (mxfp4) {
            add_mxfp4(&l, N("mlp.experts.gate_up_proj"), E, 2 * I, H);
            add_mxfp4(&l, N("mlp.experts.down_proj"), E, H, I);
        } else {
            addf(&l, N("mlp.experts.gate_up_proj"), 0.2f, 0, 3, E, H, 2 * I);
            addf(&l, N("mlp.experts.down_proj"), ws, 0, 3, E, I, H);
        }
        addf(&l, N("mlp.experts.gate_up_proj_bias"), 1.0f, 0, 2, E, 2 * I, 0); /* with the weights: some pass +-7 */
        addf(&l, N("mlp.experts.down_proj_bias"), ws, 0, 2, E, H, 0);
#undef N
    }
    return finish(dir, &l, H, s->tied ? 0 : V, ws);
}

/* DeepSeek V3 (v3) or V2 (softmax scoring, no correction bias, no groups), scaled down: q_lora 48 (plain_q: a
 * q_proj, as DeepSeek-V2-Lite, which llama.cpp accepts only at 26 or 27 layers), kv_lora 32,
 * heads of 32 nope + 16 rope dims and 24 v dims, layer 0 dense (128 wide), the rest 8 experts of 32 (2 used) plus one
 * shared expert; V3: sigmoid scoring with e_score_correction_bias, 2 groups of which 1 is used, routed scale 2.5,
 * norm_topk_prob; and one multi-token-prediction layer after the last (left out by the converter). */
static int write_deepseek(const char *dir, const tiny_hf_spec *s, bool v3, bool plain_q) {
    const int V = tiny_hf_tokenizer_bpe(dir);
    if (V < 0) return -1;
    const int H = s->n_embd, L = s->n_layer, NH = s->n_head, QL = 48, KL = 32, NOPE = 32, ROPE = 16, VD = 24;
    const int I = s->n_ff, MI = 32, E = 8, NS = 1;
    cJSON *c = tiny_cfg_new(v3 ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM");
    cJSON_AddStringToObject(c, "model_type", v3 ? "deepseek_v3" : "deepseek_v2");
    const struct { const char *k; double v; } nums[] = {
        {"vocab_size", V}, {"hidden_size", H}, {"intermediate_size", I}, {"moe_intermediate_size", MI},
        {"num_hidden_layers", L}, {"num_attention_heads", NH}, {"num_key_value_heads", NH}, {"n_shared_experts", NS},
        {"n_routed_experts", E}, {"num_experts_per_tok", 2}, {"routed_scaling_factor", v3 ? 2.5 : 2.0},
        {"kv_lora_rank", KL}, {"qk_rope_head_dim", ROPE}, {"v_head_dim", VD},
        {"qk_nope_head_dim", NOPE}, {"n_group", v3 ? 2 : 1}, {"topk_group", 1}, {"first_k_dense_replace", 1},
        {"rms_norm_eps", 1e-6}, {"rope_theta", 10000}, {"max_position_embeddings", 256},
        {"num_nextn_predict_layers", 1}, {"bos_token_id", V - 3}, {"eos_token_id", V - 2},
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) cJSON_AddNumberToObject(c, nums[k].k, nums[k].v);
    if (plain_q) cJSON_AddNullToObject(c, "q_lora_rank"); /* DeepSeek-V2-Lite: a plain q_proj */
    else cJSON_AddNumberToObject(c, "q_lora_rank", QL);
    cJSON_AddStringToObject(c, "topk_method", v3 ? "noaux_tc" : "greedy");
    cJSON_AddStringToObject(c, "scoring_func", v3 ? "sigmoid" : "softmax");
    cJSON_AddBoolToObject(c, "norm_topk_prob", v3);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", 0);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    /* YaRN as both releases configure it (V3: mscale 1, V2: 0.707, each equal to mscale_all_dim), scaled down */
    cJSON *rs = cJSON_AddObjectToObject(c, "rope_scaling");
    cJSON_AddStringToObject(rs, "type", "yarn");
    const double msc = v3 ? 1.0 : 0.707;
    const struct { const char *k; double v; } ys[] = {{"factor", 8.0}, {"beta_fast", 32}, {"beta_slow", 1},
                                                       {"mscale", msc}, {"mscale_all_dim", msc},
                                                       {"original_max_position_embeddings", 64}};
    for (size_t k = 0; k < sizeof ys / sizeof ys[0]; k++) cJSON_AddNumberToObject(rs, ys[k].k, ys[k].v);
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    ilist l = {.rng = s->seed * 104729 + (v3 ? 3 : 4), .fdtype = s->dtype && !strcmp(s->dtype, "BF16") ? "BF16" : "F32"};
    const float ws = 0.1f;
    char nm[128];
    addf(&l, "model.embed_tokens.weight", 1.0f, 0, 2, V, H, 0);
    for (int i = 0; i <= L; i++) { /* layer L: the MTP layer, a few of its tensors */
#define N(fmt) (snprintf(nm, sizeof nm, "model.layers.%d." fmt, i), nm)
        addf(&l, N("input_layernorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
        if (i == L) {
            addf(&l, N("enorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
            addf(&l, N("eh_proj.weight"), ws, 0, 2, H, 2 * H, 0);
            break;
        }
        addf(&l, N("post_attention_layernorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
        if (plain_q) {
            addf(&l, N("self_attn.q_proj.weight"), ws, 0, 2, NH * (NOPE + ROPE), H, 0);
        } else {
            addf(&l, N("self_attn.q_a_proj.weight"), ws, 0, 2, QL, H, 0);
            addf(&l, N("self_attn.q_a_layernorm.weight"), 0.1f, 1.0f, 1, QL, 0, 0);
            addf(&l, N("self_attn.q_b_proj.weight"), 0.15f, 0, 2, NH * (NOPE + ROPE), QL, 0);
        }
        addf(&l, N("self_attn.kv_a_proj_with_mqa.weight"), ws, 0, 2, KL + ROPE, H, 0);
        addf(&l, N("self_attn.kv_a_layernorm.weight"), 0.1f, 1.0f, 1, KL, 0, 0);
        addf(&l, N("self_attn.kv_b_proj.weight"), 0.15f, 0, 2, NH * (NOPE + VD), KL, 0);
        addf(&l, N("self_attn.o_proj.weight"), ws, 0, 2, H, NH * VD, 0);
        add_deepseek_ffn(&l, i, i == 0, I, H, E, MI, MI * NS, v3, ws);
#undef N
    }
    return finish(dir, &l, H, V, ws);
}

/* GLM-4.5 scaled down: head_dim 32 (q wider than hidden), half of it rotated, q/k/v biases and q/k norms, layer 0
 * dense, then 8 experts of 32 (2 used, 2 groups of which 1) plus a shared one, and one MTP layer after the last:
 * a whole layer plus eh_proj, enorm, hnorm, shared_head.{norm,head}. */
static int write_glm4moe(const char *dir, const tiny_hf_spec *s) {
    const int V = tiny_hf_tokenizer_bpe(dir) < 0 ? -1 : tiny_hf_tokenizer_add(dir, tiny_glm_tokens, 4); /* _set_vocab_glm's */
    if (V < 0) return -1;
    const int H = s->n_embd, L = s->n_layer, NH = s->n_head, NKV = s->n_head_kv, HD = 32, I = s->n_ff, MI = 32, E = 8;
    cJSON *c = tiny_cfg_new("Glm4MoeForCausalLM");
    cJSON_AddStringToObject(c, "model_type", "glm4_moe");
    const struct { const char *k; double v; } nums[] = {
        {"vocab_size", V}, {"hidden_size", H}, {"intermediate_size", I}, {"moe_intermediate_size", MI},
        {"num_hidden_layers", L}, {"num_attention_heads", NH}, {"num_key_value_heads", NKV}, {"head_dim", HD},
        {"partial_rotary_factor", 0.5}, {"n_routed_experts", E}, {"num_experts_per_tok", 2}, {"n_shared_experts", 1},
        {"first_k_dense_replace", 1}, {"n_group", 2}, {"topk_group", 1}, {"routed_scaling_factor", 2.5},
        {"num_nextn_predict_layers", 1}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000}, {"max_position_embeddings", 256},
        {"pad_token_id", V - 2}, {"eos_token_id", V - 2},
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) cJSON_AddNumberToObject(c, nums[k].k, nums[k].v);
    cJSON_AddBoolToObject(c, "attention_bias", 1);
    cJSON_AddBoolToObject(c, "use_qk_norm", 1);
    cJSON_AddBoolToObject(c, "norm_topk_prob", 1);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", 0);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    if (tiny_hf_json(dir, "config.json", c)) return -1;

    ilist l = {.rng = s->seed * 15485863 + 5, .fdtype = s->dtype && !strcmp(s->dtype, "BF16") ? "BF16" : "F32"};
    const float ws = 0.1f;
    char nm[128];
    addf(&l, "model.embed_tokens.weight", 1.0f, 0, 2, V, H, 0);
    for (int i = 0; i <= L; i++) { /* layer L: the MTP layer */
#define N(fmt) (snprintf(nm, sizeof nm, "model.layers.%d." fmt, i), nm)
        add_norms_biased_qkv(&l, i, H, NH, NKV, HD, ws);
        addf(&l, N("self_attn.q_norm.weight"), 0.1f, 1.0f, 1, HD, 0, 0);
        addf(&l, N("self_attn.k_norm.weight"), 0.1f, 1.0f, 1, HD, 0, 0);
        add_deepseek_ffn(&l, i, i == 0, I, H, E, MI, MI, true, ws);
        if (i == L) {
            addf(&l, N("eh_proj.weight"), ws, 0, 2, H, 2 * H, 0);
            addf(&l, N("enorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
            addf(&l, N("hnorm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
            addf(&l, N("shared_head.norm.weight"), 0.1f, 1.0f, 1, H, 0, 0);
            addf(&l, N("shared_head.head.weight"), ws, 0, 2, V, H, 0);
        }
#undef N
    }
    return finish(dir, &l, H, V, ws);
}

int tiny_hf_write_moe2(const char *dir, const tiny_hf_spec *s) {
    const char *arch = s->arch ? s->arch : "llama";
    if (!strcmp(arch, "gptoss")) return write_gptoss(dir, s, false);
    if (!strcmp(arch, "gptoss_mxfp4")) return write_gptoss(dir, s, true);
    if (!strcmp(arch, "deepseek3")) return write_deepseek(dir, s, true, false);
    if (!strcmp(arch, "deepseek2")) return write_deepseek(dir, s, false, false);
    if (!strcmp(arch, "deepseek2lite")) return write_deepseek(dir, s, false, true); /* give it 26 or 27 layers */
    if (!strcmp(arch, "glm4moe")) return write_glm4moe(dir, s);
    return 1;
}
