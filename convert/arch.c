/* arch.c - decoder-only architectures that share the Llama layout:
 * LlamaForCausalLM and MistralForCausalLM -> "llama" (Q/K un-permuted),
 * Qwen2ForCausalLM -> "qwen2" (q/k/v biases, NeoX RoPE: no permutation),
 * Qwen3ForCausalLM -> "qwen3" (per-head q/k RMS norms, NeoX RoPE),
 * MixtralForCausalLM -> "llama" with experts stacked into ffn_{gate,down,up}_exps
 * (w1, w2, w3 of block_sparse_moe.experts.E; the router stays F32),
 * GemmaForCausalLM -> "gemma", Gemma2ForCausalLM -> "gemma2" (norm weights
 * stored as w - 1, so +1 here; tied embeddings, lm_head dropped; Gemma 2's
 * extra post-attention/pre- and post-feed-forward norms and soft-capping),
 * Gemma3ForCausalLM (model_type gemma3_text) -> "gemma3" (Gemma 2's norms
 * plus per-head q/k norms, all +1; lm_head kept if a checkpoint has one;
 * token_embd cut to the tokenizer's vocabulary),
 * Phi3ForCausalLM -> "phi3" (fused qkv_proj -> attn_qkv and gate_up_proj ->
 * ffn_up, kept fused as llama.cpp's phi3 graph splits them; long-rope factor
 * tensors generated from config.json, see arch_hparams.c).
 *
 * HF name                                   GGUF name
 * model.embed_tokens.weight                 token_embd.weight
 * model.norm.weight                         output_norm.weight
 * lm_head.weight                            output.weight (absent when tied)
 * model.layers.N.input_layernorm.weight     blk.N.attn_norm.weight
 * model.layers.N.self_attn.{q,k,v,o}_proj   blk.N.attn_{q,k,v,output}   (q, k rows un-permuted)
 * model.layers.N.self_attn.qkv_proj         blk.N.attn_qkv              (Phi3)
 * model.layers.N.post_attention_layernorm   blk.N.ffn_norm (Gemma 2/3: blk.N.post_attention_norm)
 * model.layers.N.pre_feedforward_layernorm  blk.N.ffn_norm              (Gemma 2/3)
 * model.layers.N.post_feedforward_layernorm blk.N.post_ffw_norm         (Gemma 2/3)
 * model.layers.N.mlp.{gate,up,down}_proj    blk.N.ffn_{gate,up,down}
 * model.layers.N.mlp.gate_up_proj           blk.N.ffn_up                (Phi3: [gate | up] rows)
 * HF's Llama checkpoints order q/k rows for rotate-half RoPE; llama.cpp's
 * "llama" graph rotates adjacent pairs, so the converter undoes the
 * permutation (n_head for q, n_head_kv for k), weights and biases alike.
 */
#include "arch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_priv.h"
#include "json_file.h"
#include "ggml_types.h"
#include "sentencepiece_model.h"

static const qk_arch_desc k_archs[] = {
    /* hf, gguf, permute_qk, gemma_norm, drop_lm_head, post_norms, qk_norms, fused, vocab_rows, kv */
    {"LlamaForCausalLM", "llama", true, false, false, false, false, false, false, QK_KV_LLAMA},
    {"MistralForCausalLM", "llama", true, false, false, false, false, false, false, QK_KV_LLAMA},
    {"MixtralForCausalLM", "llama", true, false, false, false, false, false, false, QK_KV_LLAMA},
    {"Qwen2ForCausalLM", "qwen2", false, false, false, false, false, false, false, QK_KV_LLAMA},
    {"Qwen3ForCausalLM", "qwen3", false, false, false, false, true, false, false, QK_KV_LLAMA},
    {"GemmaForCausalLM", "gemma", false, true, true, false, false, false, false, QK_KV_LLAMA},
    {"Gemma2ForCausalLM", "gemma2", false, true, true, true, false, false, false, QK_KV_LLAMA},
    {"Gemma3ForCausalLM", "gemma3", false, true, false, true, true, false, true, QK_KV_GEMMA3},
    {"Phi3ForCausalLM", "phi3", false, false, false, false, false, true, false, QK_KV_PHI3},
};

static const char *k_supported =
    "LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GemmaForCausalLM, "
    "Gemma2ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM";

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

enum { ANY = 0, FUSED_ONLY = 1, UNFUSED_ONLY = 2 };

static const struct {
    const char *hf, *gguf;
    int permute; /* 1 = q (n_head), 2 = k (n_head_kv) */
    int fused;   /* ANY, FUSED_ONLY (Phi3's fused projections), UNFUSED_ONLY */
} k_layer_map[] = {
    {"input_layernorm.weight", "attn_norm.weight", 0, ANY},
    {"self_attn.q_proj.weight", "attn_q.weight", 1, ANY},
    {"self_attn.k_proj.weight", "attn_k.weight", 2, ANY},
    {"self_attn.v_proj.weight", "attn_v.weight", 0, ANY},
    {"self_attn.qkv_proj.weight", "attn_qkv.weight", 0, FUSED_ONLY},
    {"self_attn.o_proj.weight", "attn_output.weight", 0, ANY},
    {"self_attn.q_proj.bias", "attn_q.bias", 1, ANY},
    {"self_attn.k_proj.bias", "attn_k.bias", 2, ANY},
    {"self_attn.v_proj.bias", "attn_v.bias", 0, ANY},
    {"self_attn.o_proj.bias", "attn_output.bias", 0, ANY},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", 0, ANY},
    {"self_attn.k_norm.weight", "attn_k_norm.weight", 0, ANY},
    {"post_attention_layernorm.weight", "ffn_norm.weight", 0, ANY}, /* Gemma 2/3: post_attention_norm (below) */
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight", 0, ANY},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight", 0, ANY},
    {"mlp.gate_proj.weight", "ffn_gate.weight", 0, UNFUSED_ONLY},
    {"mlp.up_proj.weight", "ffn_up.weight", 0, UNFUSED_ONLY},
    {"mlp.gate_up_proj.weight", "ffn_up.weight", 0, FUSED_ONLY},
    {"mlp.down_proj.weight", "ffn_down.weight", 0, ANY},
    {"mlp.router.weight", "ffn_gate_inp.weight", 0, ANY}, /* Mixtral's block_sparse_moe.gate */
};

/* Gemma3Model.modify_tensors keeps the first n_vocab_real rows of the
 * embedding: the sentencepiece vocabulary's length (config vocab_size, else
 * the model's piece count), else tokenizer.json's vocab + added_tokens. */
static int gemma3_vocab_rows(const qk_hf_checkpoint *ck, int64_t *rows, qk_err *err) {
    char path[4096];
    if (qk_path_join(path, sizeof path, ck->dir, "tokenizer.model", err)) return QK_FAIL;
    if (qk_file_exists(path)) {
        if (qk_hf_cfg_int(ck->config, "vocab_size", rows) && *rows > 0) return QK_OK;
        qk_spm_model m;
        memset(&m, 0, sizeof m);
        if (qk_spm_load(path, &m, err)) return QK_FAIL;
        *rows = (int64_t)m.n_pieces;
        qk_spm_free(&m);
        return QK_OK;
    }
    cJSON *tj = NULL;
    if (qk_json_load(ck->dir, "tokenizer.json", &tj, err)) return QK_FAIL;
    if (!tj) return qk_fail(err, "%s: no tokenizer.model or tokenizer.json (Gemma3 cuts token_embd to the vocabulary)", ck->dir);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tj, "model");
    const cJSON *vocab = cJSON_IsObject(model) ? cJSON_GetObjectItemCaseSensitive(model, "vocab") : NULL;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tj, "added_tokens");
    int rc = QK_OK;
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(added))
        rc = qk_fail(err, "%s/tokenizer.json: expected a model.vocab object and an added_tokens list", ck->dir);
    else
        *rows = (int64_t)cJSON_GetArraySize(vocab) + cJSON_GetArraySize(added);
    cJSON_Delete(tj);
    return rc;
}

static const qk_conv_tensor *find_tensor(const qk_conv_plan *p, const char *name) {
    for (size_t i = 0; i < p->n_tensors; i++)
        if (!strcmp(p->tensors[i].name, name)) return &p->tensors[i];
    return NULL;
}

/* Every tensor llama.cpp's graph of the architecture needs, per layer. */
static int check_required(const qk_hf_checkpoint *ck, const qk_arch_desc *ad, const qk_conv_plan *p, qk_err *err) {
    if (!find_tensor(p, "output_norm.weight")) return qk_fail(err, "%s: tensor 'model.norm.weight' is missing", ck->dir);
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const char *req[16];
        int n = 0;
        req[n++] = "attn_norm.weight", req[n++] = "attn_output.weight", req[n++] = "ffn_norm.weight";
        if (ad->fused) {
            req[n++] = "attn_qkv.weight", req[n++] = "ffn_up.weight", req[n++] = "ffn_down.weight";
        } else {
            req[n++] = "attn_q.weight", req[n++] = "attn_k.weight", req[n++] = "attn_v.weight";
            if (!p->n_expert) req[n++] = "ffn_gate.weight", req[n++] = "ffn_up.weight", req[n++] = "ffn_down.weight";
        }
        if (ad->qk_norms) req[n++] = "attn_q_norm.weight", req[n++] = "attn_k_norm.weight";
        if (ad->post_norms) req[n++] = "post_attention_norm.weight", req[n++] = "post_ffw_norm.weight";
        for (int r = 0; r < n; r++) {
            char nm[64];
            snprintf(nm, sizeof nm, "blk.%u.%s", l, req[r]);
            if (!find_tensor(p, nm))
                return qk_fail(err, "%s: layer %u lacks the tensor for %s (%s needs it)", ck->dir, l, nm, ad->hf);
        }
        for (int q = 0; p->n_expert && q < 3; q++) {
            static const char *ex[3] = {"ffn_gate_exps.weight", "ffn_down_exps.weight", "ffn_up_exps.weight"};
            char nm[64];
            snprintf(nm, sizeof nm, "blk.%u.%s", l, ex[q]);
            const qk_conv_tensor *st = find_tensor(p, nm);
            if (!st) return qk_fail(err, "%s: layer %u has no experts for %s", ck->dir, l, nm);
            for (int e = 0; e < st->n_experts; e++)
                if (!st->experts[e]) return qk_fail(err, "%s: layer %u lacks expert %d of %s", ck->dir, l, e, nm);
        }
    }
    return QK_OK;
}

int qk_arch_plan(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err) {
    memset(p, 0, sizeof *p);
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(ck->config, "architectures");
    const char *hf = cJSON_IsArray(archs) && cJSON_IsString(archs->child) ? archs->child->valuestring : NULL;
    if (!hf) return qk_fail(err, "%s/config.json: no 'architectures' list; supported: %s", ck->dir, k_supported);
    const qk_arch_desc *ad = NULL;
    for (size_t i = 0; i < sizeof k_archs / sizeof k_archs[0]; i++)
        if (!strcmp(hf, k_archs[i].hf)) ad = &k_archs[i];
    if (!ad) return qk_fail(err, "%s: architecture '%s' is not supported yet; supported: %s", ck->dir, hf, k_supported);
    p->hf_arch = hf;
    p->arch = ad->gguf;
    p->desc = ad;
    int64_t n_layer, n_embd, n_head, n_ff, n_head_kv = 0, vocab = 0, head_dim = 0;
    if (need_int(ck->config, "num_hidden_layers", &n_layer, err) || need_int(ck->config, "hidden_size", &n_embd, err) ||
        need_int(ck->config, "num_attention_heads", &n_head, err) ||
        need_int(ck->config, "intermediate_size", &n_ff, err))
        return qk_fail_prefix(err, "%s", ck->dir);
    if (!qk_hf_cfg_int(ck->config, "num_key_value_heads", &n_head_kv) || n_head_kv <= 0) n_head_kv = n_head;
    qk_hf_cfg_int(ck->config, "vocab_size", &vocab);
    if (!qk_hf_cfg_int(ck->config, "head_dim", &head_dim) || head_dim <= 0)
        head_dim = ad->kv == QK_KV_GEMMA3 ? 256 : n_embd / n_head; /* Gemma3TextConfig's default */
    if (n_layer > 100000 || n_head > 100000 || n_head_kv > n_head || n_head % n_head_kv || head_dim % 2 ||
        head_dim > 65536)
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

    p->tensors = calloc(ck->n_tensors + 2, sizeof *p->tensors);
    if (!p->tensors) return qk_fail(err, "out of memory");
    /* generated tensors first (rope_freqs, rope_factors_long/short) */
    if (qk_arch_generated(ck, ad, head_dim, p, err)) return QK_FAIL;
    bool have_embd = false;
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const qk_hf_tensor *src = &ck->tensors[i];
        const char *n = src->t->name;
        if (strstr(n, "rotary_emb.inv_freq")) continue; /* recomputed by llama.cpp */
        qk_conv_tensor *t = &p->tensors[p->n_tensors];
        int permute = 0;
        int layer = -1, consumed = 0;
        bool embd = false;
        if (!strcmp(n, "model.embed_tokens.weight")) {
            snprintf(t->name, sizeof t->name, "token_embd.weight");
            have_embd = embd = true;
        } else if (!strcmp(n, "model.norm.weight")) {
            snprintf(t->name, sizeof t->name, "output_norm.weight");
        } else if (!strcmp(n, "lm_head.weight") && ad->drop_lm_head) {
            continue; /* llama.cpp's Gemma reuses token_embd; the converter drops lm_head */
        } else if (!strcmp(n, "lm_head.weight")) {
            snprintf(t->name, sizeof t->name, "output.weight");
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
            while (k < sizeof k_layer_map / sizeof k_layer_map[0] &&
                   (strcmp(rest, k_layer_map[k].hf) || k_layer_map[k].fused == (ad->fused ? UNFUSED_ONLY : FUSED_ONLY)))
                k++;
            if (k == sizeof k_layer_map / sizeof k_layer_map[0])
                return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, n, hf);
            const char *gg = k_layer_map[k].gguf;
            if (ad->post_norms && !strcmp(rest, "post_attention_layernorm.weight")) gg = "post_attention_norm.weight";
            snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, gg);
            if (find_tensor(p, t->name))
                return qk_fail(err, "%s: tensor '%s' maps to %s, which another tensor already gave", ck->dir, n, t->name);
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
        if (ad->gemma_norm && nl >= 11 && !strcmp(n + nl - 11, "norm.weight")) t->add = 1.0f;
        if (permute) {
            if (t->ne[1] % permute || (t->ne[1] / permute) % 2)
                return qk_fail(err, "%s: tensor '%s' has %lld rows, not a multiple of 2 x %d heads", ck->dir, n,
                               (long long)t->ne[1], permute);
            t->permute_heads = permute;
        }
        uint64_t n_el = src->t->n_elements;
        if (embd && ad->vocab_rows && t->n_dims == 2) {
            int64_t rows;
            if (gemma3_vocab_rows(ck, &rows, err)) return QK_FAIL;
            if (rows > 0 && rows < t->ne[1]) { /* data_torch[:n_vocab_real]: the first rows */
                t->ne[1] = rows;
                n_el = (uint64_t)rows * (uint64_t)t->ne[0];
            }
        }
        p->n_params += n_el;
        p->n_tensors++;
    }
    if (!have_embd) return qk_fail(err, "%s: tensor 'model.embed_tokens.weight' is missing", ck->dir);
    return check_required(ck, ad, p, err);
}
