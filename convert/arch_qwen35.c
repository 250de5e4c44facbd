/* arch_qwen35.c - Qwen 3.5 / 3.6 (Qwen3_5ForCausalLM / Qwen3_5ForConditionalGeneration -> "qwen35", the MoE
 * releases Qwen3_5MoeForCausalLM / Qwen3_5MoeForConditionalGeneration -> "qwen35moe"): a hybrid of gated
 * DeltaNet ("linear attention") layers and gated full-attention layers, every full_attention_interval-th layer
 * (1-based) the attention one, as llama.cpp derives them; the text model of the multimodal releases (their
 * text_config, "language_model." dropped, the vision tower left out).
 *
 * Tensors, as Qwen3_5TextModel / Qwen3_5MoeTextModel (conversion/qwen.py) write them:
 *   every layer: input_layernorm -> attn_norm, post_attention_layernorm -> post_attention_norm (both stored
 *   w - 1: +1, as every "*norm.weight" but linear_attn.norm); the final model.norm +1 too;
 *   attention layers: self_attn.q_proj ([n_head][query | gate][head_dim] rows, kept whole) -> attn_q, k_proj,
 *   v_proj, o_proj -> attn_k / attn_v / attn_output, q_norm / k_norm (+1) -> attn_q_norm / attn_k_norm;
 *   DeltaNet layers (linear_attn.*): in_proj_qkv -> attn_qkv, in_proj_z -> attn_gate, in_proj_a -> ssm_alpha,
 *   in_proj_b -> ssm_beta, conv1d ([channels, 1, K], squeezed, F32) -> ssm_conv1d, A_log -> ssm_a as -exp(A_log)
 *   (F32), dt_bias -> ssm_dt.bias, norm -> ssm_norm (no +1), out_proj -> ssm_out. When the value heads outnumber
 *   the key heads, _LinearAttentionVReorderBase reorders the value heads from grouped by key head
 *   [k0: v0..v(r-1), k1: ...] to tiled [v0 of k0, v0 of k1, ..., v1 of k0, ...]: the value rows of in_proj_qkv
 *   and of the conv1d channels, the rows of in_proj_z / in_proj_a / in_proj_b, the elements of A_log / dt_bias
 *   and the columns of out_proj (arch_qwen35_rows below);
 *   dense MLP: mlp.gate_proj / up_proj / down_proj -> ffn_gate / ffn_up / ffn_down;
 *   MoE: mlp.gate -> ffn_gate_inp, experts per expert (mlp.experts.E.*) or packed (gate_up_proj [E, 2 I, H],
 *   down_proj [E, H, I]), the shared expert mlp.shared_expert.* -> ffn_*_shexp behind its sigmoid gate
 *   mlp.shared_expert_gate -> ffn_gate_inp_shexp.
 * KVs: TextModel's (block_count, context_length, embedding_length, feed_forward_length when given, head counts,
 *   rope.dimension_sections from mrope_section, rope.freq_base, the RMS epsilon, expert counts, key/value
 *   length), Qwen2MoeModel's expert(_shared)_feed_forward_length, Qwen3NextModel's ssm.conv_kernel,
 *   ssm.state_size, ssm.group_count, ssm.time_step_rank, ssm.inner_size, full_attention_interval,
 *   rope.dimension_count = int(head_dim * partial_rotary_factor), and the M-RoPE mixin's default sections
 *   [11, 11, 10, 0] when the config has none.
 * Multi-token-prediction weights (mtp.*) are left out and counted: the converter's --no-mtp output (by default
 *   it appends them as an extra layer with nextn_predict_layers, which llama.cpp only runs for speculative
 *   decoding).
 * Qwen3NextForCausalLM (Qwen3-Next-80B-A3B) -> "qwen3next": the same layers as Qwen3NextModel writes them,
 *   with two fused DeltaNet projections: in_proj_qkvz (rows per key head [q, k, its value heads' v, their z])
 *   split into attn_qkv [all q | all k | all v] and attn_gate [all z], in_proj_ba -> ssm_ba as stored; no
 *   value-head reorder (Qwen3NextModel is not the reordering base, llama.cpp's qwen3next repeats the key heads
 *   interleaved); the config at the top level, experts one by one, no M-RoPE sections.
 * Refused: what llama.cpp's graph cannot reproduce: key and value head sizes that differ (it takes both from
 *   ssm.state_size), value heads not a multiple of key heads, a layer_types list other than the interval's
 *   pattern, attn_output_gate false, a hidden_act other than silu, rope scaling other than the default; for the
 *   MoE models dense layers (mlp_only_layers, decoder_sparse_step) and norm_topk_prob false. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_priv.h"
#include "tensor_rows.h"

static const char *const k_req_qwen35[] = {"attn_norm.weight", "post_attention_norm.weight", NULL};

static const char *const k_req_attn[] = {"attn_q.weight",      "attn_k.weight",      "attn_v.weight",
                                         "attn_output.weight", "attn_q_norm.weight", "attn_k_norm.weight", NULL};
static const char *const k_req_linear[] = {"attn_qkv.weight",   "attn_gate.weight",  "ssm_conv1d.weight",
                                           "ssm_dt.bias",       "ssm_a",             "ssm_beta.weight",
                                           "ssm_alpha.weight",  "ssm_norm.weight",   "ssm_out.weight", NULL};
static const char *const k_req_linear_next[] = {"attn_qkv.weight", "attn_gate.weight", "ssm_conv1d.weight",
                                                "ssm_dt.bias",     "ssm_a",            "ssm_ba.weight",
                                                "ssm_norm.weight", "ssm_out.weight",   NULL};
static const char *const k_req_dense[] = {"ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", NULL};
static const char *const k_req_moe[] = {"ffn_gate_inp.weight",       "ffn_gate_exps.weight",  "ffn_up_exps.weight",
                                        "ffn_down_exps.weight",      "ffn_gate_inp_shexp.weight",
                                        "ffn_gate_shexp.weight",     "ffn_up_shexp.weight",   "ffn_down_shexp.weight",
                                        NULL};

/* Qwen3_5TextConfig / Qwen3_5MoeTextConfig defaults (transformers) for keys a config may leave out */
static const qk_cfg_default k_qwen35_defaults[] = {
    {"full_attention_interval", "4"}, {"linear_conv_kernel_dim", "4"}, {"rms_norm_eps", "1e-6"},
    {NULL, NULL},
};

typedef struct {
    int64_t n_embd, kh, vh, kd, vd, conv_k, interval;
} qwen35_dims;

static int dims_of(const qk_hf_checkpoint *ck, qwen35_dims *d, qk_err *err) {
    const cJSON *c = ck->config;
    static const char *const keys[] = {"hidden_size", "linear_num_key_heads", "linear_num_value_heads",
                                       "linear_key_head_dim", "linear_value_head_dim", "linear_conv_kernel_dim",
                                       "full_attention_interval"};
    int64_t *dst[] = {&d->n_embd, &d->kh, &d->vh, &d->kd, &d->vd, &d->conv_k, &d->interval};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!qk_hf_cfg_int(c, keys[i], dst[i]) || *dst[i] <= 0 || *dst[i] > ((int64_t)1 << 20))
            return qk_fail(err, "%s/config.json: '%s' should be a positive integer (at most 2^20)", ck->dir, keys[i]);
    if (d->vh % d->kh)
        return qk_fail(err, "%s/config.json: linear_num_value_heads %lld is not a multiple of linear_num_key_heads "
                            "%lld (llama.cpp repeats the key heads)", ck->dir, (long long)d->vh, (long long)d->kh);
    if (d->kd != d->vd)
        return qk_fail(err, "%s/config.json: linear_key_head_dim %lld differs from linear_value_head_dim %lld: "
                            "llama.cpp takes both from ssm.state_size", ck->dir, (long long)d->kd, (long long)d->vd);
    return QK_OK;
}

/* layer il (0-based) is full attention: llama.cpp's (il + 1) % full_attention_interval == 0 */
static bool is_attn_layer(const qwen35_dims *d, uint32_t il) { return (il + 1) % (uint64_t)d->interval == 0; }

/* ---- the DeltaNet tensors (layer_tensor) ---- */

enum { R_ROWS = 1, R_COLS = 2, R_NEGEXP = 3, R_QKV = 4, R_Z = 5 };

/* the grouped -> tiled value-head reorder: output index o of a span of vh heads of size hd comes from */
static int64_t vreorder(int64_t o, int64_t kh, int64_t rep, int64_t hd) {
    const int64_t x = o % hd, h = o / hd, j = h / kh, g = h % kh;
    return (g * rep + j) * hd + x;
}

/* a tensor of this file: x3d_part = first row/column/element the reorder applies to, x3d_stride = the head size
 * of the reorder, map_hd = key heads, map_rep = value heads per key head (1: no reorder), row_map unused */
static qk_conv_tensor *lin_new(qk_conv_plan *p, int layer, const char *gguf,
                               const qk_hf_tensor *src, int kind, int64_t first, int64_t hd, const qwen35_dims *d) {
    qk_conv_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, gguf);
    t->src = src;
    t->x3d = QK_X3_QWEN35;
    t->x3d_part = (int)first;
    t->x3d_stride = (int)hd;
    t->fused_row0 = kind;
    t->map_hd = d->kh, t->map_rep = d->vh / d->kh;
    const qk_st_tensor *s = src->t;
    if (s->n_dims == 1) {
        t->n_dims = 1, t->ne[0] = s->shape[0], t->ne[1] = 1;
    } else {
        t->n_dims = 2, t->ne[0] = s->shape[s->n_dims - 1], t->ne[1] = s->shape[0];
    }
    t->ne[2] = t->ne[3] = 1;
    t->keep_f32 = t->n_dims == 1 || strstr(gguf, "ssm_conv1d") != NULL;
    p->n_params += (uint64_t)t->ne[0] * (uint64_t)t->ne[1];
    return t;
}

static int qwen35_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                               qk_conv_plan *p, qk_err *err) {
    if (strncmp(rest, "linear_attn.", 12)) return 0;
    qwen35_dims d;
    if (dims_of(ck, &d, err)) return QK_FAIL;
    const char *w = rest + 12;
    const qk_st_tensor *s = src->t;
    const int64_t kdim = d.kh * d.kd, vdim = d.vh * d.vd, conv_dim = 2 * kdim + vdim;
    if (qk_float_check(ck, s, err)) return QK_FAIL;
    /* Qwen3-Next: no value-head reorder (Qwen3NextModel is not the reordering base); its fused projections */
    const bool next = !strcmp(p->arch, "qwen3next");
    if (next) d.vh = d.kh; /* map_rep 1 below: every tensor keeps HF's grouped order */
#define SHAPE2(a, b)                                                                                                  \
    if (s->n_dims != 2 || s->shape[0] != (a) || s->shape[1] != (b))                                                   \
        return qk_fail(err, "%s: tensor '%s' should be [%lld, %lld] for the config's linear-attention sizes", ck->dir, \
                       s->name, (long long)(a), (long long)(b));
#define SHAPE1(a)                                                                                                     \
    if (s->n_dims != 1 || s->shape[0] != (a))                                                                         \
        return qk_fail(err, "%s: tensor '%s' should be [%lld] (linear_num_value_heads)", ck->dir, s->name,            \
                       (long long)(a));
    if (next && !strcmp(w, "in_proj_qkvz.weight")) {
        /* rows per key head [q, k, v (its value heads), z (likewise)] -> attn_qkv [all q | all k | all v] and
         * attn_gate [all z] (Qwen3NextModel.modify_tensors) */
        SHAPE2(conv_dim + vdim, d.n_embd);
        qk_conv_tensor *t = lin_new(p, layer, "attn_qkv.weight", src, R_QKV, 0, d.vd, &d);
        t->ne[1] = conv_dim;
        t = lin_new(p, layer, "attn_gate.weight", src, R_Z, 0, d.vd, &d);
        t->ne[1] = vdim;
        p->n_params -= (uint64_t)d.n_embd * (uint64_t)(conv_dim + vdim); /* counted once, not twice */
    } else if (next && !strcmp(w, "in_proj_ba.weight")) {
        SHAPE2(2 * vdim / d.vd, d.n_embd);
        lin_new(p, layer, "ssm_ba.weight", src, R_ROWS, 0, 1, &d);
    } else if (!next && !strcmp(w, "in_proj_qkv.weight")) {
        SHAPE2(conv_dim, d.n_embd);
        lin_new(p, layer, "attn_qkv.weight", src, R_ROWS, 2 * kdim, d.vd, &d);
    } else if (!next && !strcmp(w, "in_proj_z.weight")) {
        SHAPE2(vdim, d.n_embd);
        lin_new(p, layer, "attn_gate.weight", src, R_ROWS, 0, d.vd, &d);
    } else if (!next && !strcmp(w, "in_proj_a.weight")) {
        SHAPE2(d.vh, d.n_embd);
        lin_new(p, layer, "ssm_alpha.weight", src, R_ROWS, 0, 1, &d);
    } else if (!next && !strcmp(w, "in_proj_b.weight")) {
        SHAPE2(d.vh, d.n_embd);
        lin_new(p, layer, "ssm_beta.weight", src, R_ROWS, 0, 1, &d);
    } else if (!strcmp(w, "conv1d.weight")) {
        if (s->n_dims != 3 || s->shape[0] != conv_dim || s->shape[1] != 1 || s->shape[2] != d.conv_k)
            return qk_fail(err, "%s: tensor '%s' should be [%lld, 1, %lld] (a depthwise Conv1d over q, k, v)", ck->dir,
                           s->name, (long long)conv_dim, (long long)d.conv_k);
        qk_conv_tensor *t = lin_new(p, layer, "ssm_conv1d.weight", src, R_ROWS, 2 * kdim, d.vd, &d);
        t->ne[0] = d.conv_k, t->ne[1] = conv_dim, t->n_dims = 2; /* squeezed */
    } else if (!strcmp(w, "A_log")) {
        SHAPE1(vdim / d.vd);
        lin_new(p, layer, "ssm_a", src, R_NEGEXP, 0, 1, &d);
    } else if (!strcmp(w, "dt_bias")) {
        SHAPE1(vdim / d.vd);
        lin_new(p, layer, "ssm_dt.bias", src, R_ROWS, 0, 1, &d);
    } else if (!strcmp(w, "norm.weight")) {
        SHAPE1(d.vd);
        qk_conv_tensor *t = lin_new(p, layer, "ssm_norm.weight", src, R_ROWS, 0, 1, &d);
        t->map_rep = 1; /* per head dimension: nothing to reorder */
    } else if (!strcmp(w, "out_proj.weight")) {
        SHAPE2(d.n_embd, vdim);
        lin_new(p, layer, "ssm_out.weight", src, R_COLS, 0, d.vd, &d);
    } else {
        return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor)", ck->dir, s->name,
                       p->hf_arch);
    }
#undef SHAPE1
#undef SHAPE2
    return 1;
}

int qk_arch_qwen35_rows(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, int64_t row0, int64_t nrows, float *dst,
                        qk_err *err) {
    const qk_st_file *f = ck->files[t->src->file];
    const qk_st_tensor *st = t->src->t;
    const int64_t ne0 = t->ne[0], first = t->x3d_part, hd = t->x3d_stride, kh = t->map_hd, rep = t->map_rep;
    const int kind = (int)t->fused_row0;
    if (t->n_dims == 1) { /* one row of elements, reordered from `first` on */
        float *buf = malloc((size_t)ne0 * sizeof *buf);
        if (!buf) return qk_fail(err, "out of memory");
        int rc = qk_st_read_f32(f, st, 0, (uint64_t)ne0, buf, err);
        for (int64_t i = 0; rc == QK_OK && i < ne0; i++) {
            const int64_t s = i < first || rep == 1 ? i : first + vreorder(i - first, kh, rep, hd);
            dst[i] = kind == R_NEGEXP ? -expf(buf[s]) : buf[s];
        }
        free(buf);
        return rc;
    }
    if (kind == R_COLS) { /* each row read whole, its columns gathered */
        float *buf = malloc((size_t)ne0 * sizeof *buf);
        if (!buf) return qk_fail(err, "out of memory");
        int rc = QK_OK;
        for (int64_t r = 0; rc == QK_OK && r < nrows; r++) {
            rc = qk_st_read_f32(f, st, (uint64_t)((row0 + r) * ne0), (uint64_t)ne0, buf, err);
            for (int64_t i = 0; rc == QK_OK && i < ne0; i++)
                dst[r * ne0 + i] = buf[i < first || rep == 1 ? i : first + vreorder(i - first, kh, rep, hd)];
        }
        free(buf);
        return rc;
    }
    if (kind == R_QKV || kind == R_Z) { /* Qwen3-Next's in_proj_qkvz: per key head W = [q kd, k kd, v vw, z vw] */
        const int64_t W = st->shape[0] / kh;
        const int64_t vwz = kind == R_Z ? t->ne[1] / kh : W - t->ne[1] / kh, kdd = (W - 2 * vwz) / 2;
        for (int64_t r = 0; r < nrows; r++) {
            const int64_t o = row0 + r;
            int64_t s;
            if (kind == R_Z) s = (o / vwz) * W + 2 * kdd + vwz + o % vwz;
            else if (o < kh * kdd) s = (o / kdd) * W + o % kdd;
            else if (o < 2 * kh * kdd) s = ((o - kh * kdd) / kdd) * W + kdd + (o - kh * kdd) % kdd;
            else s = ((o - 2 * kh * kdd) / vwz) * W + 2 * kdd + (o - 2 * kh * kdd) % vwz;
            if (qk_st_read_f32(f, st, (uint64_t)(s * ne0), (uint64_t)ne0, dst + r * ne0, err)) return QK_FAIL;
        }
        return QK_OK;
    }
    for (int64_t r = 0; r < nrows; r++) { /* R_ROWS: row by row from its source row */
        const int64_t o = row0 + r, s = o < first || rep == 1 ? o : first + vreorder(o - first, kh, rep, hd);
        if (qk_st_read_f32(f, st, (uint64_t)(s * ne0), (uint64_t)ne0, dst + r * ne0, err)) return QK_FAIL;
    }
    return QK_OK;
}

/* ---- checks and KVs ---- */

/* rope_parameters (transformers 5), else rope_scaling */
static const cJSON *rope_obj(const cJSON *c) {
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "rope_parameters");
    if (!cJSON_IsObject(r)) r = cJSON_GetObjectItemCaseSensitive(c, "rope_scaling");
    return cJSON_IsObject(r) ? r : NULL;
}

static int qwen35_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    qwen35_dims d;
    if (dims_of(ck, &d, err)) return QK_FAIL;
    const bool moe = p->n_expert > 0;
    const char *act = qk_hf_cfg_str(c, "hidden_act");
    if (act && strcmp(act, "silu"))
        return qk_fail(err, "%s/config.json: hidden_act '%s': llama.cpp's %s uses SiLU", ck->dir, act, p->arch);
    const cJSON *gate = cJSON_GetObjectItemCaseSensitive(c, "attn_output_gate");
    if (cJSON_IsFalse(gate))
        return qk_fail(err, "%s/config.json: attn_output_gate is false, but llama.cpp's %s always gates the attention "
                            "output", ck->dir, p->arch);
    const cJSON *rp = rope_obj(c);
    const char *rt = rp ? qk_hf_cfg_str(rp, "rope_type") : NULL;
    if (rp && !rt) rt = qk_hf_cfg_str(rp, "type");
    if (rt && strcmp(rt, "default"))
        return qk_fail(err, "%s/config.json: rope type '%s' is not supported for %s (the default M-RoPE is)", ck->dir, rt,
                       p->arch);
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    if (lt && !cJSON_IsNull(lt)) {
        if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != (int)p->n_layer)
            return qk_fail(err, "%s/config.json: 'layer_types' should list %u layers", ck->dir, p->n_layer);
        for (uint32_t i = 0; i < p->n_layer; i++) {
            const cJSON *e = cJSON_GetArrayItem(lt, (int)i);
            const char *want = is_attn_layer(&d, i) ? "full_attention" : "linear_attention";
            if (!cJSON_IsString(e) || strcmp(e->valuestring, want))
                return qk_fail(err, "%s/config.json: layer_types[%u] is %s, but llama.cpp makes every %lld-th layer "
                                    "full attention (full_attention_interval), so it must be '%s'", ck->dir, i,
                               cJSON_IsString(e) ? e->valuestring : "not a string", (long long)d.interval, want);
        }
    }
    if (moe && qk_arch_qwen_moe_check(ck, p, true, true, err)) return QK_FAIL;
    const bool next = !strcmp(p->arch, "qwen3next");
    const char *const *req_linear = next ? k_req_linear_next : k_req_linear;
    bool any_attn = false;
    for (uint32_t l = 0; l < p->n_layer; l++) {
        const bool attn = is_attn_layer(&d, l);
        any_attn |= attn;
        const char *const *lists[2] = {attn ? k_req_attn : req_linear, moe ? k_req_moe : k_req_dense};
        for (int li = 0; li < 2; li++) {
            const char *miss = qk_plan_layer_missing(p, l, lists[li], SIZE_MAX);
            if (miss)
                return qk_fail(err, "%s: layer %u (%s) lacks the tensor for blk.%u.%s", ck->dir, l,
                               attn ? "full attention" : "linear attention", l, miss);
        }
        const char *extra = qk_plan_layer_extra(p, l, attn ? req_linear : k_req_attn, SIZE_MAX);
        if (extra)
            return qk_fail(err, "%s: layer %u (%s by full_attention_interval %lld) has a tensor for blk.%u.%s", ck->dir,
                           l, attn ? "full attention" : "linear attention", (long long)d.interval, l, extra);
        const qk_conv_tensor *q = qk_plan_layer_tensor(p, l, "attn_q.weight");
        if (q && q->ne[1] != 2 * (int64_t)p->n_head * (q->ne[1] / (2 * (int64_t)p->n_head)))
            return qk_fail(err, "%s: layer %u's q_proj has %lld rows, not query and gate for %u heads", ck->dir, l,
                           (long long)q->ne[1], p->n_head);
    }
    if (!any_attn)
        return qk_fail(err, "%s/config.json: full_attention_interval %lld leaves no full-attention layer in %u layers",
                       ck->dir, (long long)d.interval, p->n_layer);
    return QK_OK;
}

static int qwen35_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                      qk_err *err) {
    const cJSON *c = ck->config;
    qwen35_dims d;
    if (dims_of(ck, &d, err)) return QK_FAIL;
    int64_t v, head_dim = 0;
    double x;
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    const cJSON *rp = rope_obj(c);
    const cJSON *ms = rp ? cJSON_GetObjectItemCaseSensitive(rp, "mrope_section") : NULL;
    int32_t sect[4] = {11, 11, 10, 0}; /* _Qwen35MRopeMixin's default */
    if (ms) {
        if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) > 4)
            return qk_fail(err, "%s/config.json: mrope_section should be a list of at most 4 integers", ck->dir);
        int i = 0;
        memset(sect, 0, sizeof sect);
        for (const cJSON *e = ms->child; e; e = e->next, i++) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 65536)
                return qk_fail(err, "%s/config.json: mrope_section[%d] is not a non-negative integer", ck->dir, i);
            sect[i] = (int32_t)e->valuedouble;
        }
    }
    const qk_text_sizes s = {.n_ctx = qk_hf_cfg_int_or(c, "max_position_embeddings", QK_KV_ABSENT),
                             .n_embd = d.n_embd, .n_ff = qk_hf_cfg_int_or(c, "intermediate_size", QK_KV_ABSENT)};
    int rc = qk_arch_text_size_kvs(w, p, &s, err);
    if (ms) rc |= qk_arch_kv_arr(w, p, "rope.dimension_sections", QK_GGUF_I32, sect, 4, err);
    if (rv.has_theta) rc |= qk_arch_kv_f32(w, p, "rope.freq_base", (float)rv.theta, err);
    if (qk_hf_cfg_num(c, "rms_norm_eps", &x)) rc |= qk_arch_kv_f32(w, p, "attention.layer_norm_rms_epsilon", (float)x, err);
    if (p->n_expert) {
        int64_t used = 0;
        qk_hf_cfg_int(c, "num_experts_per_tok", &used);
        rc |= qk_arch_kv_u32(w, p, "expert_count", p->n_expert, err);
        rc |= qk_arch_kv_u32(w, p, "expert_used_count", (uint32_t)used, err);
    }
    if (qk_hf_cfg_int(c, "head_dim", &head_dim) && head_dim > 0) {
        rc |= qk_arch_kv_u32(w, p, "attention.key_length", (uint32_t)head_dim, err);
        rc |= qk_arch_kv_u32(w, p, "attention.value_length", (uint32_t)head_dim, err);
    } else {
        head_dim = d.n_embd / p->n_head;
    }
    rc |= qk_gguf_writer_add_u32(w, "general.file_type", file_type, err);
    if (p->vocab_size) rc |= qk_arch_kv_u32(w, p, "vocab_size", (uint32_t)p->vocab_size, err);
    /* Qwen2MoeModel */
    if (qk_hf_cfg_int(c, "moe_intermediate_size", &v))
        rc |= qk_arch_kv_u32(w, p, "expert_feed_forward_length", (uint32_t)v, err);
    if (qk_hf_cfg_int(c, "shared_expert_intermediate_size", &v))
        rc |= qk_arch_kv_u32(w, p, "expert_shared_feed_forward_length", (uint32_t)v, err);
    /* Qwen3NextModel */
    rc |= qk_arch_kv_u32(w, p, "ssm.conv_kernel", (uint32_t)d.conv_k, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.state_size", (uint32_t)d.kd, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.group_count", (uint32_t)d.kh, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.time_step_rank", (uint32_t)d.vh, err);
    rc |= qk_arch_kv_u32(w, p, "ssm.inner_size", (uint32_t)(d.vd * d.vh), err);
    rc |= qk_arch_kv_u32(w, p, "full_attention_interval", (uint32_t)d.interval, err);
    const double prf = rp && qk_hf_cfg_num(rp, "partial_rotary_factor", &x) ? x
                       : qk_hf_cfg_num(c, "partial_rotary_factor", &x)      ? x
                                                                            : 0.25;
    rc |= qk_arch_kv_u32(w, p, "rope.dimension_count", (uint32_t)(int64_t)((double)head_dim * prf), err);
    /* _Qwen35MRopeMixin */
    if (!ms && strcmp(p->arch, "qwen3next")) /* Qwen3NextModel has no M-RoPE mixin */
        rc |= qk_arch_kv_arr(w, p, "rope.dimension_sections", QK_GGUF_I32, sect, 4, err);
    return rc ? QK_FAIL : QK_OK;
}

#define QWEN35_DENSE(name)                                                                                            \
    {.hf = name, .gguf = "qwen35", .family = "Qwen 3.5 / 3.6 (dense hybrid, text model)",                             \
     .flags = QK_A_MULTIMODAL | QK_A_NORM_PLUS1 | QK_A_MTP_LEFT_OUT, .kv = QK_KV_OWN, .names = QK_N_POST_NORMS | QK_N_ROUTER | QK_N_QWEN_MOE,   \
     .required = k_req_qwen35, .defaults = k_qwen35_defaults,                      \
     .check = qwen35_check, .write_kvs = qwen35_kvs, .layer_tensor = qwen35_layer_tensor}
#define QWEN35_MOE(name)                                                                                              \
    {.hf = name, .gguf = "qwen35moe", .family = "Qwen 3.5 / 3.6 MoE (hybrid, text model)",                            \
     .flags = QK_A_MULTIMODAL | QK_A_NORM_PLUS1 | QK_A_MTP_LEFT_OUT, .kv = QK_KV_OWN, .names = QK_N_POST_NORMS | QK_N_ROUTER | QK_N_QWEN_MOE,   \
     .required = k_req_qwen35, .experts = qk_experts_mlp,                          \
     .fused_experts = qk_fused_experts_packed, .n_expert_key = "num_experts", .n_used_key = "num_experts_per_tok",    \
     .defaults = k_qwen35_defaults, .check = qwen35_check, .write_kvs = qwen35_kvs, .layer_tensor = qwen35_layer_tensor}

const qk_arch_desc qk_arch_family_qwen35[] = {
    QWEN35_MOE("Qwen3_5MoeForConditionalGeneration"),
    QWEN35_MOE("Qwen3_5MoeForCausalLM"),
    QWEN35_DENSE("Qwen3_5ForConditionalGeneration"),
    QWEN35_DENSE("Qwen3_5ForCausalLM"),
    {.hf = "Qwen3NextForCausalLM", .gguf = "qwen3next", .family = "Qwen3-Next (80B-A3B; hybrid MoE)",
     .flags = QK_A_NORM_PLUS1 | QK_A_MTP_LEFT_OUT, .kv = QK_KV_OWN, .names = QK_N_POST_NORMS | QK_N_ROUTER | QK_N_QWEN_MOE,
     .required = k_req_qwen35, .experts = qk_experts_mlp,
     .fused_experts = qk_fused_experts_packed, .n_expert_key = "num_experts",
     .n_used_key = "num_experts_per_tok", .defaults = k_qwen35_defaults, .check = qwen35_check,
     .write_kvs = qwen35_kvs, .layer_tensor = qwen35_layer_tensor},
    {.hf = NULL},
};
