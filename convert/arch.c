/* arch.c - decoder-only architectures that share the Llama layout:
 * LlamaForCausalLM and MistralForCausalLM -> "llama" (Q/K un-permuted),
 * Qwen2ForCausalLM -> "qwen2" (q/k/v biases, NeoX RoPE: no permutation),
 * Qwen3ForCausalLM -> "qwen3" (per-head q/k RMS norms, NeoX RoPE),
 * MixtralForCausalLM -> "llama" with experts stacked into ffn_{gate,down,up}_exps
 * (w1, w2, w3 of block_sparse_moe.experts.E; the router stays F32),
 * GemmaForCausalLM -> "gemma", Gemma2ForCausalLM -> "gemma2" (norm weights
 * stored as w - 1, so +1 here; tied embeddings, lm_head dropped; Gemma 2's
 * extra post-attention/pre- and post-feed-forward norms and soft-capping).
 *
 * HF name                                   GGUF name
 * model.embed_tokens.weight                 token_embd.weight
 * model.norm.weight                         output_norm.weight
 * lm_head.weight                            output.weight (absent when tied)
 * model.layers.N.input_layernorm.weight     blk.N.attn_norm.weight
 * model.layers.N.self_attn.{q,k,v,o}_proj   blk.N.attn_{q,k,v,output}   (q, k rows un-permuted)
 * model.layers.N.post_attention_layernorm   blk.N.ffn_norm
 * model.layers.N.mlp.{gate,up,down}_proj    blk.N.ffn_{gate,up,down}
 * HF's Llama checkpoints order q/k rows for rotate-half RoPE; llama.cpp's
 * "llama" graph rotates adjacent pairs, so the converter undoes the
 * permutation (n_head for q, n_head_kv for k), weights and biases alike.
 */
#include "arch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtypes.h"

typedef struct {
    const char *hf, *gguf;
    bool permute_qk; /* HF rotate-half rows -> llama.cpp's adjacent pairs ("llama" graph only) */
    bool gemma;      /* norm weights +1, lm_head dropped, head_dim keys */
} arch_desc;

static const arch_desc k_archs[] = {
    {"LlamaForCausalLM", "llama", true, false},
    {"MistralForCausalLM", "llama", true, false},
    {"MixtralForCausalLM", "llama", true, false},
    {"Qwen2ForCausalLM", "qwen2", false, false},
    {"Qwen3ForCausalLM", "qwen3", false, false},
    {"GemmaForCausalLM", "gemma", false, true},
    {"Gemma2ForCausalLM", "gemma2", false, true},
};

static const char *k_supported =
    "LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GemmaForCausalLM, Gemma2ForCausalLM";

const char *qk_arch_supported_list(void) { return k_supported; }

void qk_arch_plan_free(qk_conv_plan *p) {
    for (size_t i = 0; p->tensors && i < p->n_tensors; i++) free(p->tensors[i].generated), free(p->tensors[i].experts);
    free(p->tensors);
    memset(p, 0, sizeof *p);
}

static int need_int(const cJSON *cfg, const char *key, int64_t *out, qk_err *err) {
    if (!qk_hf_cfg_int(cfg, key, out) || *out <= 0)
        return qk_fail(err, "config.json: '%s' is missing or not a positive integer", key);
    return QK_OK;
}

static const struct {
    const char *hf, *gguf;
    int permute; /* 1 = q (n_head), 2 = k (n_head_kv) */
} k_layer_map[] = {
    {"input_layernorm.weight", "attn_norm.weight", 0},
    {"self_attn.q_proj.weight", "attn_q.weight", 1},
    {"self_attn.k_proj.weight", "attn_k.weight", 2},
    {"self_attn.v_proj.weight", "attn_v.weight", 0},
    {"self_attn.o_proj.weight", "attn_output.weight", 0},
    {"self_attn.q_proj.bias", "attn_q.bias", 1},
    {"self_attn.k_proj.bias", "attn_k.bias", 2},
    {"self_attn.v_proj.bias", "attn_v.bias", 0},
    {"self_attn.o_proj.bias", "attn_output.bias", 0},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", 0},
    {"self_attn.k_norm.weight", "attn_k_norm.weight", 0},
    {"post_attention_layernorm.weight", "ffn_norm.weight", 0}, /* Gemma 2: post_attention_norm (below) */
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight", 0},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight", 0},
    {"mlp.gate_proj.weight", "ffn_gate.weight", 0},
    {"mlp.up_proj.weight", "ffn_up.weight", 0},
    {"mlp.down_proj.weight", "ffn_down.weight", 0},
    {"mlp.router.weight", "ffn_gate_inp.weight", 0}, /* Mixtral's block_sparse_moe.gate */
};

/* Llama 3.1 "llama3" rope scaling: per-frequency factors, as the converter
 * computes them (generate_extra_tensors). */
static float *llama3_rope_freqs(const cJSON *rs, double base, int64_t dim, qk_err *err) {
    double factor = 8, low = 1, high = 4, orig = 8192;
    qk_hf_cfg_num(rs, "factor", &factor);
    qk_hf_cfg_num(rs, "low_freq_factor", &low);
    qk_hf_cfg_num(rs, "high_freq_factor", &high);
    qk_hf_cfg_num(rs, "original_max_position_embeddings", &orig);
    float *out = malloc((size_t)(dim / 2) * sizeof *out);
    if (!out) {
        qk_fail(err, "out of memory");
        return NULL;
    }
    const double low_wl = orig / low, high_wl = orig / high;
    for (int64_t i = 0; i < dim / 2; i++) {
        double freq = 1.0 / pow(base, (double)(2 * i) / (double)dim);
        double wl = 2 * M_PI / freq;
        double f;
        if (wl < high_wl) f = 1;
        else if (wl > low_wl) f = factor;
        else {
            double smooth = (orig / wl - low) / (high - low);
            f = 1 / ((1 - smooth) / factor + smooth);
        }
        out[i] = (float)f;
    }
    return out;
}

int qk_arch_plan(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    memset(p, 0, sizeof *p);
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(ck->config, "architectures");
    const char *hf = cJSON_IsArray(archs) && cJSON_IsString(archs->child) ? archs->child->valuestring : NULL;
    if (!hf) return qk_fail(err, "%s/config.json: no 'architectures' list; supported: %s", ck->dir, k_supported);
    const arch_desc *ad = NULL;
    for (size_t i = 0; i < sizeof k_archs / sizeof k_archs[0]; i++)
        if (!strcmp(hf, k_archs[i].hf)) ad = &k_archs[i];
    if (!ad) return qk_fail(err, "%s: architecture '%s' is not supported yet; supported: %s", ck->dir, hf, k_supported);
    p->hf_arch = hf;
    p->arch = ad->gguf;
    int64_t n_layer, n_embd, n_head, n_ff, n_head_kv = 0, vocab = 0, head_dim = 0;
    if (need_int(ck->config, "num_hidden_layers", &n_layer, err) || need_int(ck->config, "hidden_size", &n_embd, err) ||
        need_int(ck->config, "num_attention_heads", &n_head, err) ||
        need_int(ck->config, "intermediate_size", &n_ff, err))
        return qk_fail_prefix(err, "%s", ck->dir);
    if (!qk_hf_cfg_int(ck->config, "num_key_value_heads", &n_head_kv) || n_head_kv <= 0) n_head_kv = n_head;
    qk_hf_cfg_int(ck->config, "vocab_size", &vocab);
    if (!qk_hf_cfg_int(ck->config, "head_dim", &head_dim) || head_dim <= 0) head_dim = n_embd / n_head;
    if (n_layer > 100000 || n_head > 100000 || n_head_kv > n_head || n_head % n_head_kv || head_dim % 2)
        return qk_fail(err, "%s/config.json: inconsistent head counts (heads %lld, kv heads %lld, head_dim %lld)",
                       ck->dir, (long long)n_head, (long long)n_head_kv, (long long)head_dim);
    p->n_layer = (uint32_t)n_layer, p->n_head = (uint32_t)n_head, p->n_head_kv = (uint32_t)n_head_kv;
    p->vocab_size = (uint64_t)(vocab > 0 ? vocab : 0);
    int64_t n_expert = 0, n_used = 0;
    if (!strcmp(hf, "MixtralForCausalLM")) {
        if (need_int(ck->config, "num_local_experts", &n_expert, err) ||
            need_int(ck->config, "num_experts_per_tok", &n_used, err))
            return qk_fail_prefix(err, "%s", ck->dir);
        if (n_expert > 256 || n_used > n_expert)
            return qk_fail(err, "%s/config.json: %lld experts with %lld used is out of range", ck->dir,
                           (long long)n_expert, (long long)n_used);
        p->n_expert = (uint32_t)n_expert;
    }

    p->tensors = calloc(ck->n_tensors + 1, sizeof *p->tensors);
    if (!p->tensors) return qk_fail(err, "out of memory");
    /* generated: rope_freqs for llama3 rope scaling */
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ck->config, "rope_scaling");
    if (cJSON_IsObject(rs)) {
        const char *rt = qk_hf_cfg_str(rs, "rope_type");
        if (!rt) rt = qk_hf_cfg_str(rs, "type");
        if (rt && !strcmp(rt, "llama3")) {
            double base = 10000;
            qk_hf_cfg_num(ck->config, "rope_theta", &base);
            qk_conv_tensor *t = &p->tensors[p->n_tensors++];
            snprintf(t->name, sizeof t->name, "rope_freqs.weight");
            t->n_dims = 1, t->ne[0] = head_dim / 2, t->ne[1] = t->ne[2] = t->ne[3] = 1;
            t->keep_f32 = true;
            if (!(t->generated = llama3_rope_freqs(rs, base, head_dim, err))) return QK_FAIL;
        } else if (rt && strcmp(rt, "default")) {
            return qk_fail(err, "%s/config.json: rope_scaling type '%s' is not supported yet (llama3 is)", ck->dir, rt);
        }
    }
    bool have_embd = false, have_out = false;
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const qk_hf_tensor *src = &ck->tensors[i];
        const char *n = src->t->name;
        if (strstr(n, "rotary_emb.inv_freq")) continue; /* recomputed by llama.cpp */
        qk_conv_tensor *t = &p->tensors[p->n_tensors];
        int permute = 0;
        int layer = -1, consumed = 0;
        if (!strcmp(n, "model.embed_tokens.weight")) {
            snprintf(t->name, sizeof t->name, "token_embd.weight");
            have_embd = true;
        } else if (!strcmp(n, "model.norm.weight")) {
            snprintf(t->name, sizeof t->name, "output_norm.weight");
        } else if (!strcmp(n, "lm_head.weight") && ad->gemma) {
            continue; /* llama.cpp's Gemma reuses token_embd; the converter drops lm_head */
        } else if (!strcmp(n, "lm_head.weight")) {
            snprintf(t->name, sizeof t->name, "output.weight");
            have_out = true;
        } else if (sscanf(n, "model.layers.%d.%n", &layer, &consumed) == 1 && consumed > 0 && layer >= 0 &&
                   layer < n_layer) {
            const char *rest = n + consumed;
            int e = -1, wn = 0, c2 = 0;
            if (p->n_expert && sscanf(rest, "block_sparse_moe.experts.%d.w%d.weight%n", &e, &wn, &c2) == 2 &&
                rest[c2] == 0 && e >= 0 && e < (int)p->n_expert && wn >= 1 && wn <= 3) {
                static const char *stacked[4] = {"", "ffn_gate_exps.weight", "ffn_down_exps.weight", "ffn_up_exps.weight"};
                char nm[64];
                snprintf(nm, sizeof nm, "blk.%d.%s", layer, stacked[wn]);
                qk_conv_tensor *st = NULL;
                for (size_t q = 0; q < p->n_tensors && !st; q++)
                    if (!strcmp(p->tensors[q].name, nm)) st = &p->tensors[q];
                if (src->t->n_dims != 2)
                    return qk_fail(err, "%s: expert tensor '%s' is not 2-D", ck->dir, n);
                if (!st) {
                    st = t;
                    snprintf(st->name, sizeof st->name, "%s", nm);
                    st->experts = calloc(p->n_expert, sizeof *st->experts);
                    if (!st->experts) return qk_fail(err, "out of memory");
                    st->n_experts = (int)p->n_expert;
                    st->n_dims = 3;
                    st->ne[0] = src->t->shape[1], st->ne[1] = src->t->shape[0], st->ne[2] = p->n_expert, st->ne[3] = 1;
                    p->n_tensors++;
                } else if (st->ne[0] != src->t->shape[1] || st->ne[1] != src->t->shape[0]) {
                    return qk_fail(err, "%s: expert tensor '%s' has another shape than expert 0's", ck->dir, n);
                }
                if (st->experts[e]) return qk_fail(err, "%s: expert tensor '%s' appears twice", ck->dir, n);
                st->experts[e] = src;
                p->n_params += src->t->n_elements;
                continue;
            }
            if (p->n_expert && !strcmp(rest, "block_sparse_moe.gate.weight")) rest = "mlp.router.weight";
            size_t k = 0;
            while (k < sizeof k_layer_map / sizeof k_layer_map[0] && strcmp(rest, k_layer_map[k].hf)) k++;
            if (k == sizeof k_layer_map / sizeof k_layer_map[0])
                return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, n, hf);
            const char *gg = k_layer_map[k].gguf;
            if (!strcmp(p->arch, "gemma2") && !strcmp(rest, "post_attention_layernorm.weight")) gg = "post_attention_norm.weight";
            snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, gg);
            if (ad->permute_qk)
                permute = k_layer_map[k].permute == 1 ? (int)n_head : k_layer_map[k].permute == 2 ? (int)n_head_kv : 0;
        } else {
            return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, n, hf);
        }
        if (src->t->n_dims < 1 || src->t->n_dims > 2)
            return qk_fail(err, "%s: tensor '%s' has %d dimensions, expected 1 or 2", ck->dir, n, src->t->n_dims);
        if (!qk_st_dtype_is_float(src->t->dtype))
            return qk_fail(err, "%s: tensor '%s' has dtype %s, expected a float type", ck->dir, n,
                           qk_st_dtype_name(src->t->dtype));
        t->src = src;
        t->n_dims = (uint32_t)src->t->n_dims;
        t->ne[0] = src->t->shape[src->t->n_dims - 1];
        t->ne[1] = src->t->n_dims == 2 ? src->t->shape[0] : 1;
        t->ne[2] = t->ne[3] = 1;
        t->keep_f32 = t->n_dims == 1 || strstr(t->name, "_norm.weight") || !strstr(t->name, ".weight") ||
                      strstr(t->name, "ffn_gate_inp");
        size_t nl = strlen(n);
        if (ad->gemma && nl >= 11 && !strcmp(n + nl - 11, "norm.weight")) t->add = 1.0f;
        if (permute) {
            if (t->ne[1] % permute || (t->ne[1] / permute) % 2)
                return qk_fail(err, "%s: tensor '%s' has %lld rows, not a multiple of 2 x %d heads", ck->dir, n,
                               (long long)t->ne[1], permute);
            t->permute_heads = permute;
        }
        p->n_params += src->t->n_elements;
        p->n_tensors++;
    }
    if (!have_embd) return qk_fail(err, "%s: tensor 'model.embed_tokens.weight' is missing", ck->dir);
    (void)have_out;
    for (int64_t l = 0; l < n_layer; l++) {
        static const char *req[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                    "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight",
                                    "ffn_down.weight"};
        for (size_t r = 0; r < sizeof req / sizeof req[0]; r++) {
            if (p->n_expert && !strncmp(req[r], "ffn_", 4) && strcmp(req[r], "ffn_norm.weight")) continue;
            char nm[64];
            snprintf(nm, sizeof nm, "blk.%lld.%s", (long long)l, req[r]);
            bool found = false;
            for (size_t i = 0; i < p->n_tensors && !found; i++) found = !strcmp(p->tensors[i].name, nm);
            if (!found) return qk_fail(err, "%s: layer %lld lacks the tensor for %s", ck->dir, (long long)l, nm);
        }
        for (int q = 0; p->n_expert && q < 3; q++) {
            static const char *ex[3] = {"ffn_gate_exps.weight", "ffn_down_exps.weight", "ffn_up_exps.weight"};
            char nm[64];
            snprintf(nm, sizeof nm, "blk.%lld.%s", (long long)l, ex[q]);
            const qk_conv_tensor *st = NULL;
            for (size_t i = 0; i < p->n_tensors && !st; i++)
                if (!strcmp(p->tensors[i].name, nm)) st = &p->tensors[i];
            if (!st) return qk_fail(err, "%s: layer %lld has no experts for %s", ck->dir, (long long)l, nm);
            for (int e = 0; e < st->n_experts; e++)
                if (!st->experts[e])
                    return qk_fail(err, "%s: layer %lld lacks expert %d of %s", ck->dir, (long long)l, e, nm);
        }
        if (!strcmp(p->arch, "qwen3"))
            for (int q = 0; q < 2; q++) {
                char nm[64];
                snprintf(nm, sizeof nm, "blk.%lld.attn_%c_norm.weight", (long long)l, q ? 'k' : 'q');
                bool found = false;
                for (size_t i = 0; i < p->n_tensors && !found; i++) found = !strcmp(p->tensors[i].name, nm);
                if (!found) return qk_fail(err, "%s: layer %lld lacks %s (Qwen3 needs q/k norms)", ck->dir, (long long)l, nm);
            }
    }
    return QK_OK;
}

int qk_arch_add_hparams(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                        qk_err *err) {
    const cJSON *c = ck->config;
    char k[96];
#define KEY(suffix) (snprintf(k, sizeof k, "%s.%s", p->arch, suffix), k)
    int64_t v;
    double d;
    int rc = QK_OK;
    rc |= qk_gguf_writer_add_u32(w, KEY("block_count"), p->n_layer, err);
    if (qk_hf_cfg_int(c, "max_position_embeddings", &v)) rc |= qk_gguf_writer_add_u32(w, KEY("context_length"), (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "hidden_size", &v)) rc |= qk_gguf_writer_add_u32(w, KEY("embedding_length"), (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "intermediate_size", &v)) rc |= qk_gguf_writer_add_u32(w, KEY("feed_forward_length"), (uint32_t)v, err);
    rc |= qk_gguf_writer_add_u32(w, KEY("attention.head_count"), p->n_head, err);
    rc |= qk_gguf_writer_add_u32(w, KEY("attention.head_count_kv"), p->n_head_kv, err);
    if (qk_hf_cfg_num(c, "rope_theta", &d)) rc |= qk_gguf_writer_add_f32(w, KEY("rope.freq_base"), (float)d, err);
    if (qk_hf_cfg_num(c, "rms_norm_eps", &d))
        rc |= qk_gguf_writer_add_f32(w, KEY("attention.layer_norm_rms_epsilon"), (float)d, err);
    if (p->n_expert) {
        int64_t used = 0;
        qk_hf_cfg_int(c, "num_experts_per_tok", &used);
        rc |= qk_gguf_writer_add_u32(w, KEY("expert_count"), p->n_expert, err);
        rc |= qk_gguf_writer_add_u32(w, KEY("expert_used_count"), (uint32_t)used, err);
    }
    if (!strcmp(p->arch, "gemma2")) {
        if (qk_hf_cfg_num(c, "attn_logit_softcapping", &d)) rc |= qk_gguf_writer_add_f32(w, KEY("attn_logit_softcapping"), (float)d, err);
        if (qk_hf_cfg_num(c, "final_logit_softcapping", &d)) rc |= qk_gguf_writer_add_f32(w, KEY("final_logit_softcapping"), (float)d, err);
        if (qk_hf_cfg_int(c, "sliding_window", &v)) rc |= qk_gguf_writer_add_u32(w, KEY("attention.sliding_window"), (uint32_t)v, err);
    }
    int64_t head_dim = 0;
    if (qk_hf_cfg_int(c, "head_dim", &head_dim) && head_dim > 0) {
        rc |= qk_gguf_writer_add_u32(w, KEY("attention.key_length"), (uint32_t)head_dim, err);
        rc |= qk_gguf_writer_add_u32(w, KEY("attention.value_length"), (uint32_t)head_dim, err);
    }
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    if (p->vocab_size) rc |= qk_gguf_writer_add_u32(w, KEY("vocab_size"), (uint32_t)p->vocab_size, err);
    int64_t n_embd = 0;
    qk_hf_cfg_int(c, "hidden_size", &n_embd);
    rc |= qk_gguf_writer_add_u32(w, KEY("rope.dimension_count"),
                                 (uint32_t)(head_dim > 0 ? head_dim : n_embd / p->n_head), err);
#undef KEY
    return rc ? QK_FAIL : QK_OK;
}
