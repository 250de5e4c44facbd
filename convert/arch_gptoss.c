/* arch_gptoss.c - GptOssForCausalLM -> "gpt-oss" (llama.cpp's
 * LLM_ARCH_OPENAI_MOE), as the pinned convert_hf_to_gguf.py's GptOssModel
 * writes it:
 *   - attention: q/k/v/o with biases, NeoX rope (no Q/K permutation),
 *     per-head attention sinks (self_attn.sinks -> attn_sinks.weight),
 *     post_attention_layernorm -> post_attention_norm; sliding windows on
 *     the even layers (llama.cpp's swa period 2: layer_types must say so);
 *   - router: mlp.router.{weight,bias} -> ffn_gate_inp.{weight,bias};
 *   - experts, as one 3-D tensor per projection:
 *       float (the dequantized "BF16" release): mlp.experts.gate_up_proj
 *       [E, H, 2I] (x @ W; gate = even columns, up = odd ones) ->
 *       ffn_gate_exps / ffn_up_exps [H, I, E], mlp.experts.down_proj [E, I, H]
 *       -> ffn_down_exps [I, H, E] (both transposed, as the converter does);
 *       MXFP4 (quantization_config.quant_method "mxfp4"):
 *       mlp.experts.{gate_up,down}_proj_{blocks,scales} (U8; blocks
 *       [E, R, nb, 16], element 2j in the low nibble of byte j, scales
 *       [E, R, nb] E8M0): the gate/up rows are the even/odd rows; written as
 *       ggml MXFP4 straight from the source bytes when the output type of the
 *       tensor is MXFP4 (the converter's repack_mxfp4: the scale byte, then
 *       byte k = element k | element k + 16 << 4), else dequantized exactly
 *       (fp4 e2m1 value x 2^(scale - 127), as transformers'
 *       convert_moe_packed_tensors);
 *       biases: gate_up_proj_bias [E, 2I] -> ffn_{gate,up}_exps.bias (even /
 *       odd), down_proj_bias [E, H] -> ffn_down_exps.bias;
 *   - KVs: TextModel's (YaRN rope scaling included), attention.sliding_window,
 *     expert_feed_forward_length = intermediate_size.
 * llama.cpp's graph hard-codes the swiglu variant (alpha 1.702, clamp 7.0),
 * softmax over the top-k router logits, and the swa period 2: a config
 * saying otherwise is refused.
 *
 * The 3-D expert transforms (QK_X3_*) live here; arch.c asks this file
 * through the description's layer_tensor hook and source_rows.c /
 * convert_model.c read through qk_arch_x3d_rows / qk_arch_x3d_mxfp4_raw. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_priv.h"
#include "str_util.h"
#include "tensor_rows.h"

/* ---- YaRN (TextModel.set_gguf_parameters) ---- */

int qk_arch_yarn_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    qk_rope_view rv;
    qk_rope_view_init(ck->config, &rv);
    double factor;
    if (!rv.type || strcmp(rv.type, "yarn") || !qk_hf_cfg_num(rv.full, "factor", &factor)) return QK_OK;
    if (!rv.has_orig_ctx)
        return qk_fail(err, "%s/config.json: yarn rope scaling without original_max_position_embeddings", ck->dir);
    int rc = qk_arch_kv_str(w, p, "rope.scaling.type", "yarn", err);
    if (rc == QK_OK) rc = qk_arch_kv_f32(w, p, "rope.scaling.factor", (float)factor, err);
    if (rc == QK_OK) rc = qk_arch_kv_u32(w, p, "rope.scaling.original_context_length", (uint32_t)rv.orig_ctx, err);
    double v;
    if (rc == QK_OK && qk_hf_cfg_num(rv.full, "beta_fast", &v))
        rc = qk_arch_kv_f32(w, p, "rope.scaling.yarn_beta_fast", (float)v, err);
    if (rc == QK_OK && qk_hf_cfg_num(rv.full, "beta_slow", &v))
        rc = qk_arch_kv_f32(w, p, "rope.scaling.yarn_beta_slow", (float)v, err);
    return rc;
}

/* ---- the 3-D expert sources ---- */

static qk_conv_tensor *x3d_new(qk_conv_plan *p, int layer, const char *gguf, const qk_hf_tensor *src, int kind,
                               int part, int stride) {
    qk_conv_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, gguf);
    t->src = src, t->x3d = kind, t->x3d_part = part, t->x3d_stride = stride;
    t->ne[2] = t->ne[3] = 1;
    t->keep_f32 = !strstr(gguf, ".weight");
    return t;
}

static int gptoss_layer_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                               qk_conv_plan *p, qk_err *err) {
    static const char *const k_gu[2] = {"ffn_gate_exps", "ffn_up_exps"};
    const qk_st_tensor *st = src->t;
    const char *n = st->name;
    const int64_t E = p->n_expert;
    if (!strncmp(rest, "mlp.experts.", 12)) rest += 12;
    else return 0;
    const bool gu = !strncmp(rest, "gate_up_proj", 12), down = !strncmp(rest, "down_proj", 9);
    if (!gu && !down) return 0;
    const char *suf = rest + (gu ? 12 : 9);
    if (!strcmp(suf, "_bias") && down) return 0; /* [E, H]: a plain 2-D tensor, by the name rules */
    if (!strcmp(suf, "_scales")) { /* read with its blocks */
        char nm[300];
        snprintf(nm, sizeof nm, "%.*s_blocks", (int)(strlen(n) - 7), n);
        if (!qk_hf_find(ck, nm)) return qk_fail(err, "%s: MXFP4 scales '%s' without their blocks '%s'", ck->dir, n, nm);
        return 1;
    }
    const int nout = gu ? 2 : 1, stride = gu ? 2 : 1;
    for (int k = 0; k < nout; k++) {
        char g[48];
        snprintf(g, sizeof g, "%s.%s", gu ? k_gu[k] : "ffn_down_exps", !strcmp(suf, "_bias") ? "bias" : "weight");
        if (qk_plan_layer_tensor(p, (uint32_t)layer, g))
            return qk_fail(err, "%s: '%s' gives blk.%d.%s, which another tensor already gave", ck->dir, n, layer, g);
    }
    if (!*suf) { /* float [E, A, B], used as x @ W[e] */
        if (!qk_st_dtype_is_float(st->dtype) || st->n_dims != 3 || st->shape[0] != E || st->shape[2] % stride)
            return qk_fail(err, "%s: expert tensor '%s' is %s %d-D, expected a float [%lld experts, in, %sout] tensor",
                           ck->dir, n, qk_st_dtype_name(st->dtype), st->n_dims, (long long)E, gu ? "2 x " : "");
        for (int k = 0; k < nout; k++) {
            qk_conv_tensor *t = x3d_new(p, layer, gu ? (k ? "ffn_up_exps.weight" : "ffn_gate_exps.weight")
                                                     : "ffn_down_exps.weight", src, QK_X3_COLS, k, stride);
            t->n_dims = 3, t->ne[0] = st->shape[1], t->ne[1] = st->shape[2] / stride, t->ne[2] = E;
        }
    } else if (!strcmp(suf, "_bias")) { /* gate_up_proj_bias [E, 2I] */
        if (!qk_st_dtype_is_float(st->dtype) || st->n_dims != 2 || st->shape[0] != E || st->shape[1] % 2)
            return qk_fail(err, "%s: expert bias '%s' is not a float [%lld experts, 2 x intermediate] tensor", ck->dir,
                           n, (long long)E);
        for (int k = 0; k < 2; k++) {
            qk_conv_tensor *t = x3d_new(p, layer, k ? "ffn_up_exps.bias" : "ffn_gate_exps.bias", src, QK_X3_BIAS, k, 2);
            t->n_dims = 2, t->ne[0] = st->shape[1] / 2, t->ne[1] = E;
        }
    } else if (!strcmp(suf, "_blocks")) {
        char nm[300];
        snprintf(nm, sizeof nm, "%.*s_scales", (int)(strlen(n) - 7), n);
        const qk_hf_tensor *sc = qk_hf_find(ck, nm);
        if (!sc) return qk_fail(err, "%s: MXFP4 blocks '%s' without their scales '%s'", ck->dir, n, nm);
        const qk_st_tensor *s = sc->t;
        if (st->dtype != QK_ST_U8 || st->n_dims != 4 || st->shape[0] != E || st->shape[3] != 16 || st->shape[1] % stride ||
            st->shape[2] < 1)
            return qk_fail(err, "%s: MXFP4 blocks '%s' are %s %d-D, expected U8 [%lld experts, rows, blocks, 16]", ck->dir,
                           n, qk_st_dtype_name(st->dtype), st->n_dims, (long long)E);
        if (s->dtype != QK_ST_U8 || s->n_dims != 3 || s->shape[0] != st->shape[0] || s->shape[1] != st->shape[1] ||
            s->shape[2] != st->shape[2])
            return qk_fail(err, "%s: MXFP4 scales '%s' are not U8 [%lld, %lld, %lld] (one per block of '%s')", ck->dir, nm,
                           (long long)st->shape[0], (long long)st->shape[1], (long long)st->shape[2], n);
        for (int k = 0; k < nout; k++) {
            qk_conv_tensor *t = x3d_new(p, layer, gu ? (k ? "ffn_up_exps.weight" : "ffn_gate_exps.weight")
                                                     : "ffn_down_exps.weight", src, QK_X3_MXFP4, k, stride);
            t->x3d_scales = sc;
            t->n_dims = 3, t->ne[0] = st->shape[2] * 32, t->ne[1] = st->shape[1] / stride, t->ne[2] = E;
        }
    } else {
        return 0;
    }
    for (int k = 0; k < nout; k++) {
        const qk_conv_tensor *t = &p->tensors[p->n_tensors - 1 - k];
        p->n_params += (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2];
    }
    return 1;
}

/* fp4 e2m1 */
static const float k_fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

/* the source row (in its [E * R] rows) of output row `row` */
static int64_t x3d_src_row(const qk_conv_tensor *t, int64_t row) {
    const int64_t e = row / t->ne[1], r = row % t->ne[1];
    return e * t->ne[1] * t->x3d_stride + r * t->x3d_stride + t->x3d_part;
}

int qk_arch_x3d_rows(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, int64_t row0, int64_t nrows, float *dst,
                     qk_err *err) {
    if (t->x3d == QK_X3_MLA_KB || t->x3d == QK_X3_MLA_VB) return qk_arch_mla_rows(ck, t, row0, nrows, dst, err);
    if (t->x3d == QK_X3_QWEN35) return qk_arch_qwen35_rows(ck, t, row0, nrows, dst, err);
    const qk_st_tensor *st = t->src->t;
    const qk_st_file *f = ck->files[t->src->file];
    const int64_t ne0 = t->ne[0];
    if (t->x3d == QK_X3_BIAS) { /* row e: elements part, part + 2, ... of source row e */
        const int64_t w = st->shape[1];
        float *buf = malloc((size_t)w * sizeof *buf);
        if (!buf) return qk_fail(err, "out of memory");
        int rc = QK_OK;
        for (int64_t r = 0; rc == QK_OK && r < nrows; r++) {
            rc = qk_st_read_f32(f, st, (uint64_t)((row0 + r) * w), (uint64_t)w, buf, err);
            for (int64_t i = 0; rc == QK_OK && i < ne0; i++) dst[r * ne0 + i] = buf[i * t->x3d_stride + t->x3d_part];
        }
        free(buf);
        return rc;
    }
    if (t->x3d == QK_X3_MXFP4) {
        const qk_st_tensor *sc = t->x3d_scales->t;
        const qk_st_file *fs = ck->files[t->x3d_scales->file];
        const int64_t nb = st->shape[2];
        unsigned char *buf = malloc((size_t)nb * 17);
        if (!buf) return qk_fail(err, "out of memory");
        int rc = QK_OK;
        for (int64_t r = 0; rc == QK_OK && r < nrows; r++) {
            const int64_t s = x3d_src_row(t, row0 + r);
            rc = qk_st_read_raw(f, st, (uint64_t)(s * nb * 16), (size_t)(nb * 16), buf, err);
            if (rc == QK_OK) rc = qk_st_read_raw(fs, sc, (uint64_t)(s * nb), (size_t)nb, buf + nb * 16, err);
            for (int64_t b = 0; rc == QK_OK && b < nb; b++) {
                const float scale = ldexpf(1.0f, (int)buf[nb * 16 + b] - 127);
                float *o = dst + r * ne0 + b * 32;
                for (int j = 0; j < 16; j++) {
                    const unsigned char x = buf[b * 16 + j];
                    o[2 * j] = k_fp4[x & 15] * scale, o[2 * j + 1] = k_fp4[x >> 4] * scale;
                }
            }
        }
        free(buf);
        return rc;
    }
    /* QK_X3_COLS: slice e is [A = ne0, B]; output row (e, r) is column r * stride + part. Per expert touched,
     * each source row a is read once over the columns the output rows need, then scattered. */
    const int64_t A = st->shape[1], B = st->shape[2];
    float *buf = malloc((size_t)B * sizeof *buf);
    if (!buf) return qk_fail(err, "out of memory");
    int rc = QK_OK;
    for (int64_t r = 0; rc == QK_OK && r < nrows;) {
        const int64_t row = row0 + r, e = row / t->ne[1], r0 = row % t->ne[1];
        int64_t k = t->ne[1] - r0;
        if (k > nrows - r) k = nrows - r;
        const int64_t c0 = r0 * t->x3d_stride + t->x3d_part, c1 = (r0 + k - 1) * t->x3d_stride + t->x3d_part + 1;
        for (int64_t a = 0; rc == QK_OK && a < A; a++) {
            rc = qk_st_read_f32(f, st, (uint64_t)((e * A + a) * B + c0), (uint64_t)(c1 - c0), buf, err);
            for (int64_t j = 0; rc == QK_OK && j < k; j++) dst[(r + j) * ne0 + a] = buf[j * t->x3d_stride];
        }
        r += k;
    }
    free(buf);
    return rc;
}

int qk_arch_x3d_mxfp4_raw(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, uint64_t off, size_t n, void *dst,
                          qk_err *err) {
    if (t->x3d != QK_X3_MXFP4) return qk_fail(err, "tensor '%s': not MXFP4 blocks in the source", t->name);
    const qk_st_tensor *st = t->src->t, *sc = t->x3d_scales->t;
    const qk_st_file *f = ck->files[t->src->file], *fs = ck->files[t->x3d_scales->file];
    const uint64_t nb = (uint64_t)st->shape[2], row_bytes = nb * 17;
    unsigned char *src = malloc((size_t)nb * 17), *row = malloc((size_t)row_bytes);
    int rc = src && row ? QK_OK : qk_fail(err, "out of memory");
    unsigned char *out = dst;
    for (uint64_t o = off; rc == QK_OK && o < off + n;) {
        const uint64_t r = o / row_bytes, in = o % row_bytes;
        const int64_t s = x3d_src_row(t, (int64_t)r);
        rc = qk_st_read_raw(f, st, (uint64_t)s * nb * 16, (size_t)(nb * 16), src, err);
        if (rc == QK_OK) rc = qk_st_read_raw(fs, sc, (uint64_t)s * nb, (size_t)nb, src + nb * 16, err);
        for (uint64_t b = 0; rc == QK_OK && b < nb; b++) {
            unsigned char *blk = row + b * 17;
            const unsigned char *q = src + b * 16;
            blk[0] = src[nb * 16 + b];
            for (int k = 0; k < 16; k++) { /* element k (byte k / 2) low, element k + 16 (byte 8 + k / 2) high */
                const unsigned lo = (q[k / 2] >> (4 * (k % 2))) & 15, hi = (q[8 + k / 2] >> (4 * (k % 2))) & 15;
                blk[1 + k] = (unsigned char)(lo | hi << 4);
            }
        }
        const uint64_t take = row_bytes - in < off + n - o ? row_bytes - in : off + n - o;
        if (rc == QK_OK) memcpy(out + (o - off), row + in, (size_t)take);
        o += take;
    }
    free(src), free(row);
    return rc;
}

/* ---- the family ---- */


static const qk_expert_rule k_experts_none[] = {{NULL, NULL, NULL}};

static const char *const k_req_gptoss[] = {
    "attn_norm.weight", "post_attention_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
    "attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.weight", "attn_output.bias", "attn_sinks.weight",
    "ffn_gate_inp.weight", "ffn_gate_inp.bias", "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight",
    "ffn_gate_exps.bias", "ffn_up_exps.bias", "ffn_down_exps.bias", NULL};

static const qk_kv_rule k_kvs_gptoss[] = {
    {"sliding_window", "attention.sliding_window", QK_KVR_U32, true},
    {"intermediate_size", "expert_feed_forward_length", QK_KVR_U32, true},
    {NULL, NULL, false, false},
};

static int gptoss_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config;
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    if (lt && !cJSON_IsNull(lt)) {
        if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != (int)p->n_layer)
            return qk_fail(err, "%s/config.json: layer_types is not a list of %u layer kinds", ck->dir, p->n_layer);
        for (uint32_t i = 0; i < p->n_layer; i++) {
            const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(lt, (int)i));
            const char *want = i % 2 == 0 ? "sliding_attention" : "full_attention";
            if (!s || strcmp(s, want))
                return qk_fail(err, "%s/config.json: layer_types[%u] is '%s', but llama.cpp's gpt-oss makes the even "
                                    "layers sliding and the odd ones full ('%s' expected)", ck->dir, i, s ? s : "?", want);
        }
    }
    double v;
    if (qk_hf_cfg_num(c, "swiglu_limit", &v) && v != 7.0)
        return qk_fail(err, "%s/config.json: swiglu_limit is %g, but llama.cpp's gpt-oss graph clamps at 7.0", ck->dir, v);
    qk_rope_view rv;
    qk_rope_view_init(c, &rv);
    if (rv.type && !strcmp(rv.type, "yarn")) {
        static const char *const unsupported[] = {"attention_factor", "extrapolation_factor", "mscale", "mscale_all_dim"};
        for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++)
            if (cJSON_GetObjectItemCaseSensitive(rv.full, unsupported[k]))
                return qk_fail(err, "%s/config.json: yarn rope scaling with %s: not reproduced by llama.cpp's gpt-oss "
                                    "(it derives the attention factor from the scaling factor)", ck->dir, unsupported[k]);
    }
    return QK_OK;
}

const qk_arch_desc qk_arch_family_gptoss[] = {
    {.hf = "GptOssForCausalLM", .gguf = "gpt-oss", .family = "gpt-oss (20B, 120B; MXFP4 or dequantized experts)",
     .flags = QK_A_ROPE_YARN | QK_A_MXFP4, .kv = QK_KV_LLAMA,
     .names = QK_N_GPTOSS | QK_N_POST_NORMS, .required = k_req_gptoss,
     .experts = k_experts_none, .n_expert_key = "num_local_experts", .n_used_key = "num_experts_per_tok",
     .kvs = k_kvs_gptoss, .check = gptoss_check, .layer_tensor = gptoss_layer_tensor},
    {.hf = NULL},
};
