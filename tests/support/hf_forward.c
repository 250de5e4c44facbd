/* hf_forward.c - reference forward pass of Hugging Face decoder models; see
 * hf_forward.h. Each block below names the transformers code it follows. */
#include "hf_forward.h"
#include "hf_forward_family.h"
#include "hf_forward_moe2.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    A_LLAMA, A_MISTRAL, A_QWEN2, A_QWEN3, A_GEMMA, A_GEMMA2, A_GEMMA3, A_PHI3, A_MIXTRAL,
    A_SMOLLM3, A_GRANITE, A_OLMO2, A_QWEN2MOE, A_QWEN3MOE, A_COHERE, A_EXAONE, A_PHI,
    A_STARCODER2, A_STABLELM, A_COHERE2,
    A_OLMOE, A_GRANITEMOE, A_QWEN3VLMOE, A_ERNIE45MOE, /* hf_forward's MoE families beyond Qwen / Mixtral (moe_more_*) */
    A_GPTOSS, /* modeling_gpt_oss.py: sinks, biases, 3-D or MXFP4 experts (hf_forward_moe2.c) */
    A_DEEPSEEK, /* modeling_deepseek_v3.py / _v2.py: MLA, dense lead layers, shared experts (end of file) */
    A_GLM4MOE,  /* modeling_glm4_moe.py: GQA with biases, partial NeoX rope, DeepSeek-V3's routing (end of file) */
    A_PHIMOE,   /* modeling_phimoe.py: LayerNorms with biases, q/k/v/o and lm_head biases, SparseMixer top-2 routing */
    /* loaded by more_tensors (end of file), each from its own published names */
    A_ERNIE4_5, A_GLM4, A_INTERNLM2, A_GPT2, A_GPTNEOX, A_EXAONE4, A_APERTUS
} arch_t;

typedef enum { ACT_SILU, ACT_GELU_TANH, ACT_GELU_ERF, ACT_RELU, ACT_XIELU } act_t;

/* y = W x (+ b); W is [out][in] as in torch.nn.Linear. */
typedef struct {
    const float *w, *b;
    int out, in;
} linear_t;

typedef struct {
    int rot_dim;        /* rotated leading dims of each head (even) */
    float *inv_freq;    /* rot_dim / 2, float32 as HF keeps them */
    float attn_factor;  /* multiplies cos and sin (longrope) */
} rope_t;

typedef struct {
    /* Norm weights: in = before attention, attn_out = on the attention
     * output (Gemma2/3), ffn_in = before the MLP, ffn_out = on the MLP
     * output (Gemma2/3). NULL when the architecture has none. */
    const float *norm_in, *norm_attn_out, *norm_ffn_in, *norm_ffn_out;
    const float *q_norm, *k_norm; /* per head, head_dim (Qwen3, Gemma3) */
    const float *norm_in_b, *norm_ffn_in_b; /* LayerNorm biases (Phi-2, StarCoder2, StableLM) */
    linear_t q, k, v, o;
    linear_t qkv;            /* fused q/k/v rows (GPT-2, GPT-NeoX, InternLM 2), laid out as m->qkv_layout says */
    linear_t gate, up, down; /* dense MLP */
    linear_t router;         /* Mixtral */
    linear_t *w1, *w2, *w3;  /* experts: gate, down, up */
    linear_t sh_gate, sh_up, sh_down, sh_router; /* Qwen2-MoE's shared expert and its sigmoid gate (1 x hidden) */
    const float *sel_bias;   /* ERNIE 4.5 MoE: added to the routing probabilities to choose the experts only */
    const rope_t *rope;   /* NULL: no rotary embedding on this layer (SmolLM3's NoPE layers) */
    double xielu[4];      /* Apertus: softplus(alpha_p), beta + softplus(alpha_n), beta, eps of this layer's xIELU */
    int window; /* 0: full causal; else attend to the last `window` positions */
    const float *sinks; /* gpt-oss: per head, a logit joining the softmax's denominator only */
    /* DeepSeek MLA: q_a (q_lora) with its norm, q_b (or q for a plain q_proj); kv_a [rank + rope], its norm, kv_b */
    linear_t q_a, q_b, kv_a, kv_b;
    const float *q_a_norm, *kv_a_norm, *e_bias; /* e_bias: V3's e_score_correction_bias */
    float *kcache, *vcache; /* [cap][n_kv * head_dim] */
} layer_t;

struct hf_model {
    arch_t arch;
    char model_type[32];
    int vocab, hidden, n_layer, n_head, n_kv, head_dim, inter;
    int n_expert, top_k;
    int moe_norm;         /* renormalise the top-k routing weights (Mixtral, norm_topk_prob) */
    int moe_topk_softmax; /* gpt-oss: top-k of the router logits, softmax over those k */
    double sparsemixer_eps; /* PhiMoE: > 0 SparseMixer's top-2 routing with this jitter epsilon */
    /* "phimoe:llama.cpp": PhiMoE as llama.cpp's phimoe graph computes it (RMSNorm plus bias, softmax top-2
     * renormalised, the converter's long-rope attention factor), to tell conversion errors from the graph's
     * known differences */
    int phimoe_llamacpp;
    double oai_limit;     /* gpt-oss's expert activation: > 0 the clamp (alpha 1.702) */
    double route_margin;  /* the last token's smallest gap between a chosen and an unchosen router logit */
    struct ds_cfg *ds;    /* DeepSeek's sizes and routing (end of file) */
    int inter_max;        /* the widest MLP (scratch size) */
    double eps;
    int gemma_norm;       /* RMSNorm scales by (1 + w) */
    act_t act;
    float embed_scale;    /* Gemma: sqrt(hidden) as float32; else 1 */
    double attn_scale;    /* multiplies q.k */
    double attn_softcap;  /* 0 = none */
    double final_softcap; /* 0 = none */
    float residual_mult;  /* Granite: the block outputs are scaled before the residual add; else 1 */
    float logits_div;     /* Granite: logits / logits_scaling; else 1 */
    int qk_norm_full;     /* OLMo 2: q/k RMS-normed over all heads at once */
    int parallel;         /* Cohere: attention and MLP both read the block's normed input, both added */
    int rope_interleaved; /* Cohere: rope rotates adjacent pairs (2i, 2i+1) */
    float logit_mult;     /* Cohere: logits * logit_scale; else 1 */
    /* Ministral 3: the roped queries times 1 + l4_beta ln(1 + floor(pos / l4_orig)) (_get_llama_4_attn_scale);
     * l4_orig 0: none */
    double l4_beta;
    int l4_orig;
    const float *embed, *lm_head, *norm_final;
    const float *pos_embed; /* GPT-2: learned positions [n_pos][hidden], added to the token embedding */
    int n_pos;
    int qkv_layout;         /* QKV_* of the fused projection */
    const double *xielu;    /* the running layer's xIELU parameters (ACT_XIELU) */
    float *qkv_buf;
    const float *norm_final_b, *lm_head_b; /* Phi-2: final LayerNorm and lm_head biases */
    layer_t *layers;
    rope_t rope_global, rope_local;
    int cap, n_past;
    /* scratch */
    float *x, *h, *q, *k, *v, *att, *a, *g, *u, *f, *f2;
    double *scores;
    void **allocs;
    int n_allocs, cap_allocs;
    char err[512];
    const hf_family *fam; /* a family computed by its own file (hf_forward_family.h) */
    void *fm;             /* its model */
};

/* ---------- small helpers ---------- */

void hf_set_err(char *err, size_t n, const char *fmt, ...) {
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static void *track(hf_model *m, void *p) {
    if (!p) return NULL;
    if (m->n_allocs == m->cap_allocs) {
        int nc = m->cap_allocs ? m->cap_allocs * 2 : 64;
        void **na = realloc(m->allocs, (size_t)nc * sizeof *na);
        if (!na) { free(p); return NULL; }
        m->allocs = na;
        m->cap_allocs = nc;
    }
    m->allocs[m->n_allocs++] = p;
    return p;
}

static void *zalloc(hf_model *m, size_t n) { return track(m, calloc(n ? n : 1, 1)); }

/* JSON accessors: a missing key or JSON null yields the default. */
static const cJSON *jget(const cJSON *o, const char *k) {
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
    return (v && !cJSON_IsNull(v)) ? v : NULL;
}
static double jnum(const cJSON *o, const char *k, double def) {
    const cJSON *v = jget(o, k);
    return (v && cJSON_IsNumber(v)) ? v->valuedouble : def;
}
/* For keys where an explicit null means "off" (softcaps, sliding_window)
 * while a missing key takes the config class's default. */
static double jnum_null(const cJSON *o, const char *k, double def, double if_null) {
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
    if (!v) return def;
    if (cJSON_IsNull(v)) return if_null;
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}
static int jbool(const cJSON *o, const char *k, int def) {
    const cJSON *v = jget(o, k);
    return (v && cJSON_IsBool(v)) ? cJSON_IsTrue(v) : def;
}
static const char *jstr(const cJSON *o, const char *k, const char *def) {
    const cJSON *v = jget(o, k);
    return (v && cJSON_IsString(v)) ? v->valuestring : def;
}

static float gelu_tanh(float x) {
    double xd = x;
    return (float)(0.5 * xd * (1.0 + tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd))));
}

static float activate(act_t a, float x) {
    switch (a) {
    case ACT_SILU: return (float)((double)x / (1.0 + exp(-(double)x)));
    case ACT_GELU_TANH: return gelu_tanh(x);
    case ACT_GELU_ERF: return (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
    case ACT_RELU: return x > 0 ? x : 0.0f;
    case ACT_XIELU: return x; /* needs the layer's parameters: see xielu() */
    }
    return x;
}

/* The model's norm; kind 0: LlamaRMSNorm, w * (x / sqrt(mean(x^2) + eps));
 * kind 1: GemmaRMSNorm, which computes the normalised x in float32 and
 * multiplies by (1 + w) before casting back; kind 2: CohereLayerNorm, w *
 * (x - mean) / sqrt(var + eps), no bias. */
enum { NORM_RMS = 0, NORM_GEMMA = 1, NORM_LAYER = 2 };
static void rmsnorm(float *out, const float *x, const float *w, int n, double eps, int gemma) {
    if (gemma == NORM_LAYER) {
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += x[i];
        mean /= n;
        for (int i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
        double r = 1.0 / sqrt(var / n + eps);
        for (int i = 0; i < n; i++) out[i] = w[i] * (float)(((double)x[i] - mean) * r);
        return;
    }
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) {
        float xn = (float)(x[i] * r);
        out[i] = gemma ? xn * (1.0f + w[i]) : w[i] * xn;
    }
}

static void matvec(const linear_t *l, const float *x, float *y) {
    for (int o = 0; o < l->out; o++) {
        const float *row = l->w + (size_t)o * l->in;
        double s = 0;
        for (int i = 0; i < l->in; i++) s += (double)row[i] * x[i];
        if (l->b) s += l->b[o];
        y[o] = (float)s;
    }
}

/* Cohere's rotary embedding: frequencies repeat_interleave'd, rotate_half
 * on adjacent pairs: (x[2i], x[2i+1]) rotated by angle i. */
static void apply_rope_interleaved(float *v, const rope_t *r, int pos) {
    for (int i = 0; i < r->rot_dim / 2; i++) {
        float ang = r->inv_freq[i] * (float)pos;
        float c = (float)cos((double)ang) * r->attn_factor, s = (float)sin((double)ang) * r->attn_factor;
        float x1 = v[2 * i], x2 = v[2 * i + 1];
        v[2 * i] = (float)((double)x1 * c - (double)x2 * s);
        v[2 * i + 1] = (float)((double)x2 * c + (double)x1 * s);
    }
}

/* HF apply_rotary_pos_emb with rotate_half: the first rot_dim dims of a head
 * are split in halves (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin); the rest
 * pass through (partial rotary). Angles are float32 inv_freq * position, as
 * in HF's rotary embedding; cos/sin are rounded to float32 then scaled. */
static void apply_rope(float *v, const rope_t *r, int pos) {
    int half = r->rot_dim / 2;
    for (int i = 0; i < half; i++) {
        float ang = r->inv_freq[i] * (float)pos;
        float c = (float)cos((double)ang) * r->attn_factor;
        float s = (float)sin((double)ang) * r->attn_factor;
        float x1 = v[i], x2 = v[i + half];
        v[i] = (float)((double)x1 * c - (double)x2 * s);
        v[i + half] = (float)((double)x2 * c + (double)x1 * s);
    }
}

/* ---------- rotary frequencies (transformers modeling_rope_utils) ---------- */

/* rope_type default / linear / dynamic / llama3 / longrope for one layer
 * kind. `scaling` is the rope_scaling object (NULL for none); `cfg` the
 * (text) config for longrope's original_max_position_embeddings. */
static int rope_init(hf_model *m, rope_t *r, int rot_dim, double base, const cJSON *scaling,
                     const cJSON *cfg, char *err, size_t errlen) {
    r->rot_dim = rot_dim;
    r->attn_factor = 1.0f;
    int half = rot_dim / 2;
    r->inv_freq = zalloc(m, (size_t)(half ? half : 1) * sizeof(float));
    if (!r->inv_freq) { hf_set_err(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < half; i++) {
        float expo = (float)(2 * i) / (float)rot_dim;
        float p = (float)pow(base, (double)expo);
        r->inv_freq[i] = 1.0f / p;
    }
    const char *type = scaling ? jstr(scaling, "rope_type", jstr(scaling, "type", "default")) : "default";
    if (!strcmp(type, "default") || !strcmp(type, "mrope")) return 0; /* Qwen2-VL's config renames mrope to default */
    if (!strcmp(type, "linear")) {
        double factor = jnum(scaling, "factor", 1.0);
        for (int i = 0; i < half; i++) r->inv_freq[i] = (float)(r->inv_freq[i] / factor);
        return 0;
    }
    if (!strcmp(type, "dynamic")) {
        /* Dynamic NTK only changes the frequencies for sequences longer
         * than max_position_embeddings; shorter ones use the defaults. */
        return 0;
    }
    if (!strcmp(type, "llama3")) {
        double factor = jnum(scaling, "factor", 8.0);
        double lo = jnum(scaling, "low_freq_factor", 1.0);
        double hi = jnum(scaling, "high_freq_factor", 4.0);
        double old = jnum(scaling, "original_max_position_embeddings", 8192.0);
        double lo_wl = old / lo, hi_wl = old / hi;
        for (int i = 0; i < half; i++) {
            double f = r->inv_freq[i];
            double wl = 2.0 * M_PI / f;
            double fl = wl > lo_wl ? f / factor : f;
            if (!(wl < hi_wl) && !(wl > lo_wl)) {
                double smooth = (old / wl - lo) / (hi - lo);
                fl = (1.0 - smooth) * fl / factor + smooth * fl;
            }
            r->inv_freq[i] = (float)fl;
        }
        return 0;
    }
    if (!strcmp(type, "longrope") || !strcmp(type, "su")) {
        /* Phi3: factor from max_position_embeddings / original_max_position_
         * embeddings when the config has the latter; sequences within the
         * original context use short_factor (the only case tests run). */
        double omax = jnum(cfg, "original_max_position_embeddings", 0);
        double factor = jnum(scaling, "factor", 1.0);
        if (omax > 0) factor = jnum(cfg, "max_position_embeddings", omax) / omax;
        else omax = jnum(cfg, "max_position_embeddings", 2048);
        double af = jnum(scaling, "attention_factor", -1);
        if (af < 0) af = factor <= 1.0 ? 1.0 : sqrt(1.0 + log(factor) / log(omax));
        /* PhimoeRotaryEmbedding: the config's short_mscale multiplies cos and sin within the original context */
        if (m->arch == A_PHIMOE && !m->phimoe_llamacpp && jget(scaling, "short_mscale"))
            af = jnum(scaling, "short_mscale", 1.0);
        r->attn_factor = (float)af;
        const cJSON *sf = jget(scaling, "short_factor");
        if (!sf || !cJSON_IsArray(sf) || cJSON_GetArraySize(sf) != half) {
            hf_set_err(err, errlen, "rope_scaling longrope: short_factor must be an array of %d numbers", half);
            return -1;
        }
        for (int i = 0; i < half; i++) {
            const cJSON *e = cJSON_GetArrayItem(sf, i);
            if (!cJSON_IsNumber(e)) { hf_set_err(err, errlen, "rope_scaling longrope: short_factor[%d] is not a number", i); return -1; }
            float p = (float)pow(base, (double)((float)(2 * i) / (float)rot_dim));
            r->inv_freq[i] = 1.0f / ((float)e->valuedouble * p);
        }
        return 0;
    }
    if (!strcmp(type, "yarn")) { /* modeling_rope_utils._compute_yarn_parameters */
        double factor = jnum(scaling, "factor", 1.0);
        double omax = jnum(scaling, "original_max_position_embeddings", 0);
        if (omax <= 0) omax = jnum(cfg, "max_position_embeddings", 2048);
        double bf = jnum(scaling, "beta_fast", 32), bs = jnum(scaling, "beta_slow", 1);
        if (bf == 0) bf = 32;
        if (bs == 0) bs = 1;
        if (jget(scaling, "attention_factor")) {
            hf_set_err(err, errlen, "rope_scaling yarn: attention_factor is not supported by the reference");
            return -1;
        }
        /* get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) when both are set (DeepSeek), else
         * get_mscale(factor) */
        const double ms = jnum(scaling, "mscale", 0), ma = jnum(scaling, "mscale_all_dim", 0);
        r->attn_factor = (float)(factor <= 1 ? 1.0 : ms != 0 && ma != 0 ? (0.1 * ms * log(factor) + 1.0) / (0.1 * ma * log(factor) + 1.0)
                                                                       : 0.1 * log(factor) + 1.0);
        double lo = rot_dim * log(omax / (bf * 2 * M_PI)) / (2 * log(base));
        double hi = rot_dim * log(omax / (bs * 2 * M_PI)) / (2 * log(base));
        if (jbool(scaling, "truncate", 1)) lo = floor(lo), hi = ceil(hi);
        if (lo < 0) lo = 0;
        if (hi > rot_dim - 1) hi = rot_dim - 1;
        if (lo == hi) hi += 0.001;
        for (int i = 0; i < half; i++) {
            float p = (float)pow(base, (double)((float)(2 * i) / (float)rot_dim));
            float extra = 1.0f / p, inter = 1.0f / ((float)factor * p);
            float ramp = (float)(((float)i - lo) / (hi - lo));
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            float ef = 1.0f - ramp;
            r->inv_freq[i] = inter * (1.0f - ef) + extra * ef;
        }
        return 0;
    }
    hf_set_err(err, errlen, "rope_scaling type '%s' is not supported by the reference (default, linear, dynamic, llama3, longrope, yarn are)", type);
    return -1;
}

/* ---------- weight loading ---------- */

int hf_forward_exaone_name(const char *name, char *out, size_t n) {
    static const char *const map[][2] = {
        {"input_layernorm.weight", "ln_1.weight"}, {"post_attention_layernorm.weight", "ln_2.weight"},
        {"self_attn.q_proj.weight", "attn.attention.q_proj.weight"},
        {"self_attn.k_proj.weight", "attn.attention.k_proj.weight"},
        {"self_attn.v_proj.weight", "attn.attention.v_proj.weight"},
        {"self_attn.o_proj.weight", "attn.attention.out_proj.weight"},
        {"mlp.gate_proj.weight", "mlp.c_fc_0.weight"}, {"mlp.up_proj.weight", "mlp.c_fc_1.weight"},
        {"mlp.down_proj.weight", "mlp.c_proj.weight"},
    };
    if (!strcmp(name, "model.embed_tokens.weight")) return snprintf(out, n, "transformer.wte.weight"), 0;
    if (!strcmp(name, "model.norm.weight")) return snprintf(out, n, "transformer.ln_f.weight"), 0;
    int layer, off = 0;
    if (sscanf(name, "model.layers.%d.%n", &layer, &off) == 1 && off > 0)
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(name + off, map[i][0])) return snprintf(out, n, "transformer.h.%d.%s", layer, map[i][1]), 0;
    snprintf(out, n, "%s", name);
    return -1;
}

typedef struct {
    hf_model *m;
    hf_tensor_get get;
    void *ctx;
    const char *prefix;
    char *err;
    size_t errlen;
} loader_t;

/* Copies tensor `name` (with shape [d0] or [d0, d1]; d1 < 0 means 1-D) into
 * model-owned memory. Missing: NULL, with an error only if required. */
static float *take(loader_t *L, const char *name, int64_t d0, int64_t d1, int required, int *failed) {
    int64_t shape[8] = {0};
    int nd = 0;
    char xname[320];
    if (L->m->arch == A_EXAONE) { /* modeling_exaone.py's names for the same modules */
        hf_forward_exaone_name(name, xname, sizeof xname);
        name = xname;
    }
    const float *p = L->get(L->ctx, name, shape, &nd);
    if (!p) {
        if (required) {
            hf_set_err(L->err, L->errlen, "tensor '%s' is missing from the checkpoint", name);
            *failed = 1;
        }
        return NULL;
    }
    int want_nd = d1 < 0 ? 1 : 2;
    if (nd != want_nd || shape[0] != d0 || (want_nd == 2 && shape[1] != d1)) {
        hf_set_err(L->err, L->errlen, "tensor '%s' has shape [%lld%s%lld] (%d dims), expected [%lld%s%lld]", name,
                (long long)shape[0], nd > 1 ? ", " : "", nd > 1 ? (long long)shape[1] : 0LL, nd,
                (long long)d0, want_nd == 2 ? ", " : "", want_nd == 2 ? (long long)d1 : 0LL);
        *failed = 1;
        return NULL;
    }
    size_t n = (size_t)d0 * (size_t)(d1 < 0 ? 1 : d1);
    float *c = zalloc(L->m, n * sizeof(float));
    if (!c) { hf_set_err(L->err, L->errlen, "out of memory for '%s'", name); *failed = 1; return NULL; }
    memcpy(c, p, n * sizeof(float));
    return c;
}

/* full = L's prefix and the name fmt formats */
static void full_name(const loader_t *L, char *full, size_t n, const char *fmt, va_list ap) {
    char name[256];
    vsnprintf(name, sizeof name, fmt, ap);
    snprintf(full, n, "%s%s", L->prefix, name);
}

static float *takef(loader_t *L, int required, int *failed, int64_t d0, int64_t d1, const char *fmt, ...) {
    char full[320];
    va_list ap;
    va_start(ap, fmt);
    full_name(L, full, sizeof full, fmt, ap);
    va_end(ap);
    return take(L, full, d0, d1, required, failed);
}

static void lin_set(linear_t *l, const float *w, const float *b, int out, int in) {
    l->w = w; l->b = b; l->out = out; l->in = in;
}

/* "layers.<i>.<module>.weight" [out, in] and, when bias, "<module>.bias"
 * [out] into *lin; nothing is read once *failed is set. */
static void take_lin(loader_t *L, int *failed, linear_t *lin, int i, const char *module, int out, int in, int bias) {
    const float *w = *failed ? NULL : takef(L, 1, failed, out, in, "layers.%d.%s.weight", i, module);
    const float *b = !*failed && bias ? takef(L, 1, failed, out, -1, "layers.%d.%s.bias", i, module) : NULL;
    lin_set(lin, w, b, out, in);
}

/* A sparse-MoE block's router "layers.<i>.<block>.gate.weight" and its E
 * experts "layers.<i>.<block>.experts.<e>.<name>.weight", names = {gate, up,
 * down} (-> w1, w3, w2) of width I. -1 when out of memory (error set). */
static int take_experts(loader_t *L, layer_t *l, int *failed, int i, int E, int H, int I, const char *block,
                        const char *const names[3]) {
    lin_set(&l->router, takef(L, 1, failed, E, H, "layers.%d.%s.gate.weight", i, block), NULL, E, H);
    l->w1 = zalloc(L->m, (size_t)E * sizeof(linear_t));
    l->w2 = zalloc(L->m, (size_t)E * sizeof(linear_t));
    l->w3 = zalloc(L->m, (size_t)E * sizeof(linear_t));
    if (!l->w1 || !l->w2 || !l->w3) { hf_set_err(L->err, L->errlen, "out of memory"); return -1; }
    for (int e = 0; e < E && !*failed; e++) {
        char module[3][96];
        for (int k = 0; k < 3; k++) snprintf(module[k], sizeof module[k], "%s.experts.%d.%s", block, e, names[k]);
        take_lin(L, failed, &l->w1[e], i, module[0], I, H, 0);
        take_lin(L, failed, &l->w3[e], i, module[1], I, H, 0);
        take_lin(L, failed, &l->w2[e], i, module[2], H, I, 0);
    }
    return 0;
}

/* ---------- OLMoE, Granite MoE (Shared), Qwen3-VL-MoE ----------
 * modeling_olmoe.py (OlmoeSparseMoeBlock: Qwen's expert names, softmax then
 * top-k, renormalised only with norm_topk_prob), modeling_granitemoe.py /
 * modeling_granitemoeshared.py (GraniteMoeTopKGating: softmax over the top-k
 * logits, which is the renormalised top-k of the softmax; experts as 3-D
 * ParallelExperts weights, input_linear [E, 2 I, H] whose output chunk(2)
 * gives act(gate) * up, output_linear [E, H, I]; the shared_mlp added
 * ungated), modeling_qwen3_vl_moe.py (Qwen3VLMoeTextExperts: x @
 * gate_up_proj[e] with gate_up_proj [E, H, 2 I], chunk(2) -> gate, up; @
 * down_proj[e] [E, I, H]; the top-k renormalised). */

/* A 3-D tensor "<prefix><name>" of shape [d0, d1, d2], copied. */
static float *take3(loader_t *L, int *failed, int64_t d0, int64_t d1, int64_t d2, const char *fmt, ...) {
    char full[320];
    va_list ap;
    va_start(ap, fmt);
    full_name(L, full, sizeof full, fmt, ap);
    va_end(ap);
    int64_t shape[8] = {0};
    int nd = 0;
    const float *p = L->get(L->ctx, full, shape, &nd);
    if (!p) {
        hf_set_err(L->err, L->errlen, "tensor '%s' is missing from the checkpoint", full);
        *failed = 1;
        return NULL;
    }
    if (nd != 3 || shape[0] != d0 || shape[1] != d1 || shape[2] != d2) {
        hf_set_err(L->err, L->errlen, "tensor '%s' has shape [%lld, %lld, %lld] (%d dims), expected [%lld, %lld, %lld]",
                   full, (long long)shape[0], (long long)shape[1], (long long)shape[2], nd, (long long)d0,
                   (long long)d1, (long long)d2);
        *failed = 1;
        return NULL;
    }
    const size_t n = (size_t)d0 * (size_t)d1 * (size_t)d2;
    float *c = zalloc(L->m, n * sizeof(float));
    if (!c) { hf_set_err(L->err, L->errlen, "out of memory for '%s'", full); *failed = 1; return NULL; }
    memcpy(c, p, n * sizeof(float));
    return c;
}

/* src [rows][cols] (a slice of cols columns starting at col0 out of ld) -> a new [cols][rows] */
static float *transposed(hf_model *m, const float *src, int rows, int ld, int col0, int cols) {
    float *t = zalloc(m, (size_t)rows * (size_t)cols * sizeof(float));
    for (int r = 0; t && r < rows; r++)
        for (int c = 0; c < cols; c++) t[(size_t)c * rows + r] = src[(size_t)r * ld + col0 + c];
    return t;
}

/* transformers 5's Qwen2MoeExperts / Qwen3MoeExperts: the router and gate_up_proj [E, 2 I, H] (F.linear, then
 * chunk(2): gate, up), down_proj [E, H, I]; 0 leaving l->w1 unset when the layer has per-expert tensors */
static int moe_more_packed(loader_t *L, layer_t *l, int *failed, int i, int I) {
    hf_model *m = L->m;
    const int E = m->n_expert, H = m->hidden;
    char full[320];
    int64_t shape[8];
    int nd;
    snprintf(full, sizeof full, "%slayers.%d.mlp.experts.gate_up_proj", L->prefix, i);
    if (!L->get(L->ctx, full, shape, &nd)) return 0;
    lin_set(&l->router, takef(L, 1, failed, E, H, "layers.%d.mlp.gate.weight", i), NULL, E, H);
    const float *gu = *failed ? NULL : take3(L, failed, E, 2 * I, H, "layers.%d.mlp.experts.gate_up_proj", i);
    const float *dn = *failed ? NULL : take3(L, failed, E, H, I, "layers.%d.mlp.experts.down_proj", i);
    if (*failed) return 0;
    l->w1 = zalloc(m, (size_t)E * sizeof(linear_t));
    l->w2 = zalloc(m, (size_t)E * sizeof(linear_t));
    l->w3 = zalloc(m, (size_t)E * sizeof(linear_t));
    if (!l->w1 || !l->w2 || !l->w3) { hf_set_err(L->err, L->errlen, "out of memory"); return -1; }
    for (int e = 0; e < E; e++) {
        lin_set(&l->w1[e], gu + (size_t)e * 2 * I * H, NULL, I, H);
        lin_set(&l->w3[e], gu + ((size_t)e * 2 * I + I) * H, NULL, I, H);
        lin_set(&l->w2[e], dn + (size_t)e * H * I, NULL, H, I);
    }
    return 0;
}

static int moe_more_config(hf_model *m, const cJSON *cfg, char *err, size_t errlen) {
    const arch_t A = m->arch;
    if (A == A_ERNIE45MOE) { /* Ernie4_5_MoeConfig: 64 experts, 6 used, 2 shared of moe_intermediate_size each */
        m->n_expert = (int)jnum(cfg, "moe_num_experts", 64);
        m->top_k = (int)jnum(cfg, "moe_k", 6);
        m->moe_norm = 1;
        m->rope_interleaved = 1; /* as ERNIE 4.5: rotate_half on (2i, 2i+1) */
        const int mi = (int)jnum(cfg, "moe_intermediate_size", 1536), ns = (int)jnum(cfg, "moe_num_shared_experts", 2);
        const int step = (int)jnum(cfg, "moe_layer_interval", 1);
        if (mi <= 0 || mi > 1 << 20 || ns < 0 || ns > 64 || step <= 0 || m->n_expert <= 0 || m->n_expert > 256 ||
            m->top_k <= 0 || m->top_k > m->n_expert) {
            hf_set_err(err, errlen, "config: bad ERNIE MoE sizes (experts %d, k %d, width %d, shared %d, interval %d)",
                       m->n_expert, m->top_k, mi, ns, step);
            return -1;
        }
        if (mi > m->inter_max) m->inter_max = mi;
        if (mi * ns > m->inter_max) m->inter_max = mi * ns;
        return 0;
    }
    /* OlmoeConfig: 64 experts, 8 used; GraniteMoeConfig: 8, 2; Qwen3VLMoeTextConfig: 60, 4 */
    m->n_expert = (int)jnum(cfg, A == A_GRANITEMOE ? "num_local_experts" : "num_experts",
                            A == A_OLMOE ? 64 : A == A_GRANITEMOE ? 8 : 60);
    m->top_k = (int)jnum(cfg, "num_experts_per_tok", A == A_OLMOE ? 8 : A == A_GRANITEMOE ? 2 : 4);
    m->moe_norm = A == A_OLMOE ? jbool(cfg, "norm_topk_prob", 0) : 1;
    if (A == A_QWEN3VLMOE && !jbool(cfg, "norm_topk_prob", 1)) {
        hf_set_err(err, errlen, "config: Qwen3-VL-MoE with norm_topk_prob false is not supported by the reference");
        return -1;
    }
    if (A == A_OLMOE && jget(cfg, "clip_qkv") && !cJSON_IsNull(jget(cfg, "clip_qkv"))) {
        hf_set_err(err, errlen, "config: OLMoE's clip_qkv is not supported by the reference");
        return -1;
    }
    const int mi = A == A_QWEN3VLMOE ? (int)jnum(cfg, "moe_intermediate_size", 0) : m->inter;
    const int si = A == A_GRANITEMOE ? (int)jnum(cfg, "shared_intermediate_size", 0) : 0;
    if (mi <= 0 || mi > 1 << 20 || si < 0 || si > 1 << 20 || m->n_expert <= 0 || m->n_expert > 256 ||
        m->top_k <= 0 || m->top_k > m->n_expert) {
        hf_set_err(err, errlen, "config: bad experts %d / top-k %d / widths %d, %d", m->n_expert, m->top_k, mi, si);
        return -1;
    }
    if (mi > m->inter_max) m->inter_max = mi;
    if (si > m->inter_max) m->inter_max = si;
    return 0;
}

static int moe_more_tensors(loader_t *L, layer_t *l, int *failed, int i, const cJSON *cfg) {
    hf_model *m = L->m;
    const int E = m->n_expert, H = m->hidden;
    if (m->arch == A_OLMOE) {
        static const char *const names[3] = {"gate_proj", "up_proj", "down_proj"};
        return take_experts(L, l, failed, i, E, H, m->inter, "mlp", names);
    }
    if (m->arch == A_ERNIE45MOE) { /* Ernie4_5_MoeDecoderLayer: sparse when (i + 1) % interval == 0 and start <= i <= end */
        const int step = (int)jnum(cfg, "moe_layer_interval", 1), start = (int)jnum(cfg, "moe_layer_start_index", 0);
        int end = (int)jnum(cfg, "moe_layer_end_index", -1);
        if (end == -1) end = m->n_layer - 1;
        if (!((i + 1) % step == 0 && i >= start && i <= end)) {
            take_lin(L, failed, &l->gate, i, "mlp.gate_proj", m->inter, H, 0);
            take_lin(L, failed, &l->up, i, "mlp.up_proj", m->inter, H, 0);
            take_lin(L, failed, &l->down, i, "mlp.down_proj", H, m->inter, 0);
            return 0;
        }
        static const char *const names[3] = {"gate_proj", "up_proj", "down_proj"};
        const int MI = (int)jnum(cfg, "moe_intermediate_size", 1536), SI = MI * (int)jnum(cfg, "moe_num_shared_experts", 2);
        if (take_experts(L, l, failed, i, E, H, MI, "mlp", names) || *failed) return *failed ? 0 : -1;
        l->sel_bias = takef(L, 1, failed, 1, E, "layers.%d.mlp.moe_statics.e_score_correction_bias", i);
        if (SI > 0) {
            take_lin(L, failed, &l->sh_gate, i, "mlp.shared_experts.gate_proj", SI, H, 0);
            take_lin(L, failed, &l->sh_up, i, "mlp.shared_experts.up_proj", SI, H, 0);
            take_lin(L, failed, &l->sh_down, i, "mlp.shared_experts.down_proj", H, SI, 0);
        }
        return 0;
    }
    l->w1 = zalloc(m, (size_t)E * sizeof(linear_t));
    l->w2 = zalloc(m, (size_t)E * sizeof(linear_t));
    l->w3 = zalloc(m, (size_t)E * sizeof(linear_t));
    if (!l->w1 || !l->w2 || !l->w3) { hf_set_err(L->err, L->errlen, "out of memory"); return -1; }
    if (m->arch == A_GRANITEMOE) {
        const int I = m->inter, S = (int)jnum(cfg, "shared_intermediate_size", 0);
        lin_set(&l->router, takef(L, 1, failed, E, H, "layers.%d.block_sparse_moe.router.layer.weight", i), NULL, E, H);
        const float *in = *failed ? NULL : take3(L, failed, E, 2 * I, H, "layers.%d.block_sparse_moe.input_linear.weight", i);
        const float *out = *failed ? NULL : take3(L, failed, E, H, I, "layers.%d.block_sparse_moe.output_linear.weight", i);
        if (*failed) return 0;
        for (int e = 0; e < E; e++) {
            lin_set(&l->w1[e], in + (size_t)e * 2 * I * H, NULL, I, H);
            lin_set(&l->w3[e], in + ((size_t)e * 2 * I + I) * H, NULL, I, H);
            lin_set(&l->w2[e], out + (size_t)e * H * I, NULL, H, I);
        }
        if (S > 0) { /* GraniteMoeSharedMLP: input_linear [2 S, H] -> chunk(2): act(gate) * up; output_linear */
            const float *gu = takef(L, 1, failed, 2 * S, H, "layers.%d.shared_mlp.input_linear.weight", i);
            if (*failed) return 0;
            lin_set(&l->sh_gate, gu, NULL, S, H);
            lin_set(&l->sh_up, gu + (size_t)S * H, NULL, S, H);
            take_lin(L, failed, &l->sh_down, i, "shared_mlp.output_linear", H, S, 0);
        }
        return 0;
    }
    const int I = (int)jnum(cfg, "moe_intermediate_size", 0);
    lin_set(&l->router, takef(L, 1, failed, E, H, "layers.%d.mlp.gate.weight", i), NULL, E, H);
    const float *gu = *failed ? NULL : take3(L, failed, E, H, 2 * I, "layers.%d.mlp.experts.gate_up_proj", i);
    const float *dn = *failed ? NULL : take3(L, failed, E, I, H, "layers.%d.mlp.experts.down_proj", i);
    if (*failed) return 0;
    for (int e = 0; e < E; e++) { /* x @ W: as nn.Linear weights, W transposed */
        const float *g = transposed(m, gu + (size_t)e * H * 2 * I, H, 2 * I, 0, I);
        const float *u = transposed(m, gu + (size_t)e * H * 2 * I, H, 2 * I, I, I);
        const float *d = transposed(m, dn + (size_t)e * I * H, I, H, 0, H);
        if (!g || !u || !d) { hf_set_err(L->err, L->errlen, "out of memory"); return -1; }
        lin_set(&l->w1[e], g, NULL, I, H);
        lin_set(&l->w3[e], u, NULL, I, H);
        lin_set(&l->w2[e], d, NULL, H, I);
    }
    return 0;
}

/* ---------- config ---------- */

static int parse_arch(const char *t, arch_t *a) {
    static const struct { const char *n; arch_t a; } tab[] = {
        {"llama", A_LLAMA}, {"mistral", A_MISTRAL}, {"qwen2", A_QWEN2}, {"qwen3", A_QWEN3},
        {"ministral3", A_MISTRAL}, /* modeling_ministral3.py: Mistral's layer, yarn rope, llama-4 query scaling */
        {"gemma", A_GEMMA}, {"gemma2", A_GEMMA2}, {"gemma3_text", A_GEMMA3}, {"gemma3", A_GEMMA3},
        {"phi3", A_PHI3}, {"mixtral", A_MIXTRAL}, {"phimoe", A_PHIMOE}, {"phimoe:llama.cpp", A_PHIMOE}, {"smollm3", A_SMOLLM3}, {"granite", A_GRANITE}, {"olmo2", A_OLMO2},
        {"internlm3", A_LLAMA}, {"cohere", A_COHERE}, {"exaone", A_EXAONE}, {"phi", A_PHI},
        {"starcoder2", A_STARCODER2}, {"stablelm", A_STABLELM}, {"cohere2", A_COHERE2}, /* modeling_internlm3.py: Llama with optional qkv_bias / bias (o_proj), both off */
        {"qwen2_moe", A_QWEN2MOE}, {"qwen3_moe", A_QWEN3MOE},
        {"olmoe", A_OLMOE}, {"granitemoe", A_GRANITEMOE}, {"granitemoeshared", A_GRANITEMOE},
        {"qwen3_vl_moe", A_QWEN3VLMOE}, {"qwen3_vl_moe_text", A_QWEN3VLMOE}, {"ernie4_5_moe", A_ERNIE45MOE},
        {"qwen2_moe", A_QWEN2MOE}, {"qwen3_moe", A_QWEN3MOE}, {"gpt_oss", A_GPTOSS},
        {"deepseek_v3", A_DEEPSEEK}, {"deepseek_v2", A_DEEPSEEK}, {"kimi_k2", A_DEEPSEEK}, /* Kimi K2: V3's model */ {"glm4_moe", A_GLM4MOE},
        {"ernie4_5", A_ERNIE4_5}, {"glm4", A_GLM4}, {"internlm2", A_INTERNLM2}, {"gpt2", A_GPT2}, {"gpt_neox", A_GPTNEOX},
        {"exaone4", A_EXAONE4}, {"apertus", A_APERTUS}, {"olmo3", A_OLMO2}, /* modeling_olmo3.py: OLMo 2's layer, windows by layer_types */
        {"seed_oss", A_QWEN2}, /* modeling_seed_oss.py: q/k/v biases (attention_bias), none on o_proj */
        /* Qwen3-VL's language model is Qwen3's; text positions only: every interleaved M-RoPE section sees the
         * same position, which is plain rotate-half rope */
        {"qwen3_vl", A_QWEN3}, {"qwen3_vl_text", A_QWEN3},
        /* Qwen2-VL / Qwen2.5-VL's language model is Qwen2's; with text only, every M-RoPE section sees the
         * same position, which is plain rotate-half rope */
        {"qwen2_vl", A_QWEN2}, {"qwen2_5_vl", A_QWEN2}, {"qwen2_vl_text", A_QWEN2}, {"qwen2_5_vl_text", A_QWEN2},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(t, tab[i].n)) { *a = tab[i].a; return 0; }
    return -1;
}

static int parse_act(const char *s, act_t *a) {
    if (!strcmp(s, "silu") || !strcmp(s, "swish")) *a = ACT_SILU;
    else if (!strcmp(s, "gelu_pytorch_tanh") || !strcmp(s, "gelu_new")) *a = ACT_GELU_TANH;
    else if (!strcmp(s, "gelu")) *a = ACT_GELU_ERF;
    else if (!strcmp(s, "relu")) *a = ACT_RELU;
    else if (!strcmp(s, "xielu")) *a = ACT_XIELU;
    else return -1;
    return 0;
}

/* Rope parameters of one attention kind. transformers < 4.56 keeps them
 * at the top level (rope_theta, rope_scaling); newer versions put them in
 * rope_parameters, which Gemma3 splits per layer kind. */
static int layer_rope(hf_model *m, rope_t *r, const cJSON *cfg, int rot_dim, int local, char *err, size_t errlen) {
    const cJSON *rp = jget(cfg, "rope_parameters");
    if (rp && cJSON_IsObject(rp)) {
        const cJSON *kind = jget(rp, local ? "sliding_attention" : "full_attention");
        if (kind) rp = kind;
        double base = jnum(rp, "rope_theta", jnum(cfg, "rope_theta", 10000.0));
        const char *type = jstr(rp, "rope_type", jstr(rp, "type", "default"));
        return rope_init(m, r, rot_dim, base, strcmp(type, "default") ? rp : NULL, cfg, err, errlen);
    }
    if (local) {
        /* Gemma3's sliding layers: rope_local_base_freq, no scaling. */
        return rope_init(m, r, rot_dim, jnum(cfg, "rope_local_base_freq", 10000.0), NULL, cfg, err, errlen);
    }
    double def_theta = m->arch == A_GEMMA3 ? 1000000.0 : 10000.0;
    const cJSON *sc = jget(cfg, "rope_scaling");
    return rope_init(m, r, rot_dim, jnum(cfg, "rope_theta", def_theta), sc, cfg, err, errlen);
}

static int alloc_scratch(hf_model *m) {
    int qd = m->n_head * m->head_dim, kd = m->n_kv * m->head_dim;
    int big = m->hidden > qd ? m->hidden : qd;
    m->x = zalloc(m, (size_t)m->hidden * 4);
    m->h = zalloc(m, (size_t)m->hidden * 4);
    m->q = zalloc(m, (size_t)qd * 4);
    m->k = zalloc(m, (size_t)kd * 4);
    m->v = zalloc(m, (size_t)kd * 4);
    m->att = zalloc(m, (size_t)qd * 4);
    m->a = zalloc(m, (size_t)big * 4);
    m->g = zalloc(m, (size_t)m->inter_max * 4);
    m->u = zalloc(m, (size_t)m->inter_max * 4);
    m->f = zalloc(m, (size_t)m->hidden * 4);
    m->f2 = zalloc(m, (size_t)m->hidden * 4);
    return (m->x && m->h && m->q && m->k && m->v && m->att && m->a && m->g && m->u && m->f && m->f2) ? 0 : -1;
}

static void more_config(cJSON *cfg, arch_t a);
static int ds_load(loader_t *L, const cJSON *cfg);
static int glm_load(loader_t *L, const cJSON *cfg);
static void ds_qkv(hf_model *m, layer_t *l, int pos);
static void ds_moe(hf_model *m, layer_t *l, const float *x, float *out);
static void more_setup(hf_model *m, const cJSON *cfg);
static int more_tensors(loader_t *L, const cJSON *cfg);
static void split_qkv(hf_model *m, const layer_t *l);
static int more_xielu(loader_t *L, const char *pre, layer_t *l);
static float xielu(const double *p, float x);

hf_model *hf_forward_load_json(const char *config_json, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    hf_set_err(err, errlen, "ok");
    cJSON *root = cJSON_Parse(config_json);
    if (!root || !cJSON_IsObject(root)) {
        hf_set_err(err, errlen, "config: not a JSON object");
        cJSON_Delete(root);
        return NULL;
    }
    hf_model *m = calloc(1, sizeof *m);
    if (!m) { cJSON_Delete(root); hf_set_err(err, errlen, "out of memory"); return NULL; }
    int failed = 0;
    const cJSON *cfg = root;
    const char *mt = jstr(root, "model_type", NULL);
    if (!mt) { hf_set_err(err, errlen, "config: no model_type"); goto fail; }
    /* multimodal releases: the language model's config is text_config, with its own model_type */
    if (jget(root, "text_config") && cJSON_IsObject(jget(root, "text_config"))) {
        cfg = jget(root, "text_config");
        mt = jstr(cfg, "model_type", mt);
    }
    if ((m->fam = hf_family_for(mt))) {
        if (!(m->fm = m->fam->load(cfg, get, ctx, err, errlen))) goto fail;
        snprintf(m->model_type, sizeof m->model_type, "%s", mt);
        m->vocab = m->fam->vocab(m->fm);
        cJSON_Delete(root);
        return m;
    }
    if (parse_arch(mt, &m->arch)) {
        hf_set_err(err, errlen, "config: model_type '%s' is not supported by the reference", mt);
        goto fail;
    }
    snprintf(m->model_type, sizeof m->model_type, "%s", mt);
    arch_t A = m->arch;
    m->phimoe_llamacpp = !strcmp(mt, "phimoe:llama.cpp");
    more_config((cJSON *)cfg, A); /* the family's own key names under the Llama ones */
    int gemma = A == A_GEMMA || A == A_GEMMA2 || A == A_GEMMA3;

    /* Gemma3TextConfig's defaults (Gemma 3 4B+'s text_config leaves most keys out) */
    const int g3 = A == A_GEMMA3;
    m->vocab = (int)jnum(cfg, "vocab_size", g3 ? 262208 : 0);
    m->hidden = (int)jnum(cfg, "hidden_size", g3 ? 2304 : 0);
    m->n_layer = (int)jnum(cfg, "num_hidden_layers", jnum(cfg, "num_layers", g3 ? 26 : 0)); /* EXAONE: num_layers */
    m->n_head = (int)jnum(cfg, "num_attention_heads", g3 ? 8 : 0);
    m->n_kv = (int)jnum(cfg, "num_key_value_heads", g3 ? 4 : m->n_head);
    m->inter = (int)jnum(cfg, "intermediate_size", g3 ? 9216 : 0);
    if (m->vocab <= 0 || m->hidden <= 0 || m->n_layer <= 0 || m->n_head <= 0 || m->n_kv <= 0 ||
        m->inter <= 0 || m->n_head % m->n_kv || m->hidden > 65536 || m->inter > 1 << 20 ||
        m->vocab > 1 << 24 || m->n_layer > 1024 || m->n_head > 1024) {
        hf_set_err(err, errlen, "config: bad sizes (vocab %d hidden %d layers %d heads %d kv %d inter %d)",
                m->vocab, m->hidden, m->n_layer, m->n_head, m->n_kv, m->inter);
        goto fail;
    }
    /* head_dim: config value, else hidden / heads (Gemma 256, Qwen3 128 are
     * the config classes' defaults when the key is absent). */
    int hd_def = gemma ? 256 : A == A_QWEN3 ? 128 : m->hidden / m->n_head;
    m->head_dim = (int)jnum(cfg, "head_dim", hd_def);
    if (A == A_DEEPSEEK) { /* the cache's heads: q/k of nope + rope dims (v padded to it), one k and v per head */
        m->head_dim = (int)jnum(cfg, "qk_nope_head_dim", 128) + (int)jnum(cfg, "qk_rope_head_dim", 64);
        m->n_kv = m->n_head;
    }
    if (m->head_dim <= 0 || m->head_dim > 4096 || m->head_dim % 2) {
        hf_set_err(err, errlen, "config: bad head_dim %d", m->head_dim);
        goto fail;
    }
    m->eps = jnum(cfg, "rms_norm_eps", gemma || A == A_QWEN2 || A == A_QWEN3 || A == A_LLAMA ? 1e-6 : 1e-5);
    m->gemma_norm = gemma;
    const char *act = gemma ? jstr(cfg, "hidden_activation", "gelu_pytorch_tanh")
                    : A == A_EXAONE ? jstr(cfg, "activation_function", "silu") : jstr(cfg, "hidden_act", "silu");
    if (A == A_EXAONE) m->eps = jnum(cfg, "layer_norm_epsilon", 1e-5);
    if (parse_act(act, &m->act)) { hf_set_err(err, errlen, "config: activation '%s' not supported", act); goto fail; }
    /* Gemma scales embeddings by sqrt(hidden) cast to the model dtype
     * (float32 here; a bf16 model would use the bf16-rounded value). */
    m->embed_scale = gemma ? (float)sqrt((double)m->hidden) : 1.0f;
    double qpas = jnum(cfg, "query_pre_attn_scalar", 256);
    m->attn_scale = (A == A_GEMMA2 || A == A_GEMMA3) ? 1.0 / sqrt(qpas) : 1.0 / sqrt((double)m->head_dim);
    m->residual_mult = 1.0f, m->logits_div = 1.0f;
    if (A == A_GRANITE || A == A_GRANITEMOE) { /* GraniteConfig's multipliers (modeling_granite.py) */
        m->embed_scale = (float)jnum(cfg, "embedding_multiplier", 1.0);
        m->attn_scale = jnum(cfg, "attention_multiplier", 1.0);
        m->residual_mult = (float)jnum(cfg, "residual_multiplier", 1.0);
        m->logits_div = (float)jnum(cfg, "logits_scaling", 1.0);
    }
    m->qk_norm_full = A == A_OLMO2 || A == A_OLMOE;
    if (!strcmp(mt, "ministral3")) { /* Ministral3Attention reads both from rope_parameters */
        const cJSON *rp = jget(cfg, "rope_parameters");
        m->l4_beta = jnum(rp, "llama_4_scaling_beta", 0);
        m->l4_orig = (int)jnum(rp, "original_max_position_embeddings", 0);
        if (m->l4_orig <= 0) {
            hf_set_err(err, errlen, "config: ministral3 without rope_parameters.original_max_position_embeddings");
            goto fail;
        }
    }
    m->logit_mult = 1.0f;
    if (A == A_PHI) { /* modeling_phi.py: LayerNorm with bias, parallel attention + fc1/gelu/fc2 */
        m->gemma_norm = NORM_LAYER;
        m->eps = jnum(cfg, "layer_norm_eps", 1e-5);
        m->parallel = 1;
        if (jbool(cfg, "qk_layernorm", 0)) {
            hf_set_err(err, errlen, "config: qk_layernorm is not supported by the reference");
            goto fail;
        }
    }
    if (A == A_STARCODER2 || A == A_STABLELM) { /* LayerNorm with bias, sequential blocks */
        m->gemma_norm = NORM_LAYER;
        m->eps = A == A_STARCODER2 ? jnum(cfg, "norm_epsilon", 1e-5) : jnum(cfg, "layer_norm_eps", 1e-5);
        if (A == A_STABLELM && (jbool(cfg, "use_parallel_residual", 0) || jbool(cfg, "qk_layernorm", 0))) {
            hf_set_err(err, errlen, "config: StableLM's parallel residual / qk_layernorm are not supported by the reference");
            goto fail;
        }
    }
    if (A == A_PHIMOE) { /* PhimoeDecoderLayer: nn.LayerNorm(eps = rms_norm_eps) with biases; PhimoeSparseMoeBlock */
        m->gemma_norm = m->phimoe_llamacpp ? NORM_RMS : NORM_LAYER;
        m->n_expert = (int)jnum(cfg, "num_local_experts", 16);
        m->top_k = (int)jnum(cfg, "num_experts_per_tok", 2);
        m->moe_norm = 1; /* llama.cpp's renormalised softmax (the variant); SparseMixer sets its own weights */
        m->sparsemixer_eps = m->phimoe_llamacpp ? 0 : jnum(cfg, "router_jitter_noise", 0.01);
        if (m->n_expert <= 1 || m->n_expert > 256 || m->top_k != 2) {
            hf_set_err(err, errlen, "config: PhiMoE needs 2 of 2..256 experts (SparseMixer is top-2), got %d of %d",
                       m->top_k, m->n_expert);
            goto fail;
        }
        if (!m->phimoe_llamacpp && m->sparsemixer_eps <= 0) {
            hf_set_err(err, errlen, "config: router_jitter_noise must be > 0 for SparseMixer");
            goto fail;
        }
    }
    if (A == A_COHERE || A == A_COHERE2) { /* modeling_cohere.py, modeling_cohere2.py */
        m->gemma_norm = NORM_LAYER;
        m->eps = jnum(cfg, "layer_norm_eps", 1e-5);
        m->parallel = m->rope_interleaved = 1;
        m->logit_mult = (float)jnum(cfg, "logit_scale", 0.0625);
        if (jbool(cfg, "use_qk_norm", 0)) {
            hf_set_err(err, errlen, "config: use_qk_norm is not supported by the reference");
            goto fail;
        }
    }
    if (A >= A_ERNIE4_5) more_setup(m, cfg);
    if (A == A_GEMMA2) {
        m->attn_softcap = jnum_null(cfg, "attn_logit_softcapping", 50.0, 0);
        m->final_softcap = jnum_null(cfg, "final_logit_softcapping", 30.0, 0);
    } else if (A == A_GEMMA3) {
        m->attn_softcap = jnum(cfg, "attn_logit_softcapping", 0);
        m->final_softcap = jnum(cfg, "final_logit_softcapping", 0);
    }
    m->inter_max = m->inter;
    if ((A == A_OLMOE || A == A_GRANITEMOE || A == A_QWEN3VLMOE || A == A_ERNIE45MOE) && moe_more_config(m, cfg, err, errlen))
        goto fail;
    if (A == A_MIXTRAL || A == A_QWEN2MOE || A == A_QWEN3MOE) {
        const int qm = A != A_MIXTRAL;
        m->n_expert = (int)jnum(cfg, qm ? "num_experts" : "num_local_experts", qm ? 60 : 8);
        m->top_k = (int)jnum(cfg, "num_experts_per_tok", qm ? 4 : 2);
        m->moe_norm = qm ? jbool(cfg, "norm_topk_prob", 0) : 1;
        int mi = (int)jnum(cfg, "moe_intermediate_size", 0), si = (int)jnum(cfg, "shared_expert_intermediate_size", 0);
        if (qm && (mi <= 0 || mi > 1 << 20 || si < 0 || si > 1 << 20)) {
            hf_set_err(err, errlen, "config: bad moe_intermediate_size %d / shared_expert_intermediate_size %d", mi, si);
            goto fail;
        }
        if (mi > m->inter_max) m->inter_max = mi;
        if (si > m->inter_max) m->inter_max = si;
        if (m->n_expert <= 0 || m->n_expert > 256 || m->top_k <= 0 || m->top_k > m->n_expert) {
            hf_set_err(err, errlen, "config: bad experts %d / top-k %d", m->n_expert, m->top_k);
            goto fail;
        }
    }

    if (A == A_GPTOSS) { /* GptOssConfig: num_local_experts, num_experts_per_tok, swiglu_limit */
        m->n_expert = (int)jnum(cfg, "num_local_experts", 128);
        m->top_k = (int)jnum(cfg, "num_experts_per_tok", 4);
        m->moe_topk_softmax = 1;
        m->oai_limit = jnum(cfg, "swiglu_limit", 7.0);
        if (m->n_expert <= 0 || m->n_expert > 256 || m->top_k <= 0 || m->top_k > m->n_expert) {
            hf_set_err(err, errlen, "config: bad experts %d / top-k %d", m->n_expert, m->top_k);
            goto fail;
        }
    }
    /* Rotary: dim = int(head_dim * partial_rotary_factor). */
    double prf = jnum(cfg, "partial_rotary_factor", 1.0);
    int rot_dim = A == A_DEEPSEEK ? (int)jnum(cfg, "qk_rope_head_dim", 64) : (int)(m->head_dim * prf);
    if (rot_dim <= 0 || rot_dim > m->head_dim || rot_dim % 2) {
        hf_set_err(err, errlen, "config: bad rotary dim %d (head_dim %d, partial_rotary_factor %g)", rot_dim, m->head_dim, prf);
        goto fail;
    }
    if (layer_rope(m, &m->rope_global, cfg, rot_dim, 0, err, errlen)) goto fail;
    if (A == A_GEMMA3 && layer_rope(m, &m->rope_local, cfg, rot_dim, 1, err, errlen)) goto fail;

    m->layers = zalloc(m, (size_t)m->n_layer * sizeof(layer_t));
    if (!m->layers) { hf_set_err(err, errlen, "out of memory"); goto fail; }

    /* Sliding windows: layer_types when given, else each class's rule. */
    int sw = (int)jnum_null(cfg, "sliding_window",
                            A == A_GEMMA2 || A == A_GEMMA3 || A == A_MISTRAL || A == A_EXAONE4 ? 4096 : 0, 0);
    const cJSON *lt = jget(cfg, "layer_types");
    if (lt && (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != m->n_layer)) {
        hf_set_err(err, errlen, "config: layer_types must list %d layers", m->n_layer);
        goto fail;
    }
    int pattern = (int)jnum(cfg, "sliding_window_pattern", A == A_COHERE2 || A == A_EXAONE4 ? 4 : 6);
    int use_sw = jbool(cfg, "use_sliding_window", 0);
    int mwl = (int)jnum(cfg, "max_window_layers", 0);
    for (int i = 0; i < m->n_layer; i++) {
        int sliding;
        if (lt) {
            const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(lt, i));
            sliding = s && !strcmp(s, "sliding_attention");
        } else if (A == A_MISTRAL || A == A_MIXTRAL || A == A_PHI3) {
            sliding = 1;
        } else if (A == A_QWEN2 || A == A_QWEN3) {
            sliding = use_sw && i >= mwl;
        } else if (A == A_GEMMA2 || A == A_GPTOSS) {
            sliding = i % 2 == 0;
        } else if (A == A_GEMMA3 || A == A_COHERE2 || A == A_EXAONE4) {
            sliding = pattern > 0 ? (i + 1) % pattern != 0 : 0;
        } else {
            sliding = 0;
        }
        if ((A == A_QWEN2 || A == A_QWEN3) && !use_sw) sliding = 0;
        m->layers[i].window = sliding && sw > 0 ? sw : 0;
        m->layers[i].rope = (A == A_GEMMA3 && sliding) ? &m->rope_local : &m->rope_global;
        if (A == A_COHERE2 && !sliding) m->layers[i].rope = NULL; /* Cohere2Attention: rope on sliding layers only */
        /* Exaone4Attention: with a sliding_window set, rope on the sliding layers only (global NoPE) */
        if (A == A_EXAONE4 && sw > 0 && !sliding) m->layers[i].rope = NULL;
        if (A == A_SMOLLM3) { /* SmolLM3Attention.use_rope = no_rope_layers[i] */
            const cJSON *nr = jget(cfg, "no_rope_layers");
            int interval = (int)jnum(cfg, "no_rope_layer_interval", 4);
            int use = interval > 0 ? (i + 1) % interval != 0 : 1;
            if (nr) {
                const cJSON *e = cJSON_GetArrayItem(nr, i);
                use = e && cJSON_IsNumber(e) ? e->valueint : 1;
            }
            if (!use) m->layers[i].rope = NULL;
        }
    }

    /* Tensors. */
    loader_t L = {m, get, ctx, "model.", err, errlen};
    if (A == A_DEEPSEEK || A == A_GLM4MOE) {
        if ((A == A_DEEPSEEK ? ds_load : glm_load)(&L, cfg)) goto fail;
        goto loaded;
    }
    if (A >= A_ERNIE4_5) {
        if (more_tensors(&L, cfg)) goto fail;
        goto loaded;
    }
    static const char *prefixes[] = {"model.", "language_model.model.", "model.language_model."};
    int H = m->hidden, hd = m->head_dim, qd = m->n_head * hd, kd = m->n_kv * hd, I = m->inter;
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0] && !m->embed; p++) {
        L.prefix = prefixes[p];
        m->embed = takef(&L, 0, &failed, m->vocab, H, "embed_tokens.weight");
        if (failed) goto fail;
    }
    if (!m->embed) { hf_set_err(err, errlen, "tensor 'model.embed_tokens.weight' is missing from the checkpoint"); goto fail; }
    if (A == A_PHI) {
        m->norm_final = takef(&L, 1, &failed, H, -1, "final_layernorm.weight");
        if (!failed) m->norm_final_b = takef(&L, 1, &failed, H, -1, "final_layernorm.bias");
    } else {
        m->norm_final = takef(&L, 1, &failed, H, -1, "norm.weight");
        if (!failed && (A == A_STARCODER2 || A == A_STABLELM || A == A_PHIMOE))
            m->norm_final_b = takef(&L, 1, &failed, H, -1, "norm.bias");
    }
    if (failed) goto fail;
    /* tie_word_embeddings (default true for Gemma, false otherwise) uses the
     * embedding as lm_head; a checkpoint without lm_head.weight is treated
     * as tied too (what converters do). */
    int tied = jbool(root, "tie_word_embeddings", jbool(cfg, "tie_word_embeddings", gemma || A == A_COHERE || A == A_COHERE2));
    if (!tied) {
        loader_t L2 = L;
        L2.prefix = "";
        m->lm_head = take(&L2, "lm_head.weight", m->vocab, H, 0, &failed);
        if (!failed && (A == A_PHI || (A == A_PHIMOE && jbool(cfg, "lm_head_bias", 0))))
            m->lm_head_b = take(&L2, "lm_head.bias", m->vocab, -1, 1, &failed);
        if (!m->lm_head && !failed) m->lm_head = take(&L2, "language_model.lm_head.weight", m->vocab, H, 0, &failed);
        if (failed) goto fail;
    }
    if (!m->lm_head) m->lm_head = m->embed;

    const int qwen2_bias = A == A_QWEN2 || A == A_QWEN2MOE; /* q/k/v biases, none on o_proj */
    int attn_bias = qwen2_bias || A == A_PHI ? 1 : A == A_STARCODER2 ? jbool(cfg, "use_bias", 1)
                  : A == A_STABLELM ? jbool(cfg, "use_qkv_bias", 0) : jbool(cfg, "attention_bias", A == A_GPTOSS);
    const int o_bias = attn_bias && !qwen2_bias && A != A_STABLELM; /* StableLM: q/k/v only */
    int mlp_bias = A == A_LLAMA ? jbool(cfg, "mlp_bias", 0) : 0;
    for (int i = 0; i < m->n_layer; i++) {
        layer_t *l = &m->layers[i];
        const char *ffn_in = (A == A_GEMMA2 || A == A_GEMMA3) ? "pre_feedforward_layernorm" : "post_attention_layernorm";
        const int post_norms = A == A_GEMMA2 || A == A_GEMMA3 || A == A_OLMO2;
        if (A != A_OLMO2) { /* Olmo2DecoderLayer has no pre-norms */
            l->norm_in = takef(&L, 1, &failed, H, -1, "layers.%d.input_layernorm.weight", i);
            if (!failed && (A == A_PHI || A == A_STARCODER2 || A == A_STABLELM || A == A_PHIMOE))
                l->norm_in_b = takef(&L, 1, &failed, H, -1, "layers.%d.input_layernorm.bias", i);
            if (!failed && (A == A_STARCODER2 || A == A_STABLELM || A == A_PHIMOE))
                l->norm_ffn_in_b = takef(&L, 1, &failed, H, -1, "layers.%d.post_attention_layernorm.bias", i);
            if (!failed && A != A_COHERE && A != A_COHERE2 && A != A_PHI) l->norm_ffn_in = takef(&L, 1, &failed, H, -1, "layers.%d.%s.weight", i, ffn_in);
        }
        if (!failed && (A == A_OLMO2 || A == A_OLMOE)) { /* Olmo2Attention / OlmoeAttention: q_norm / k_norm over the whole projection */
            l->q_norm = takef(&L, 1, &failed, qd, -1, "layers.%d.self_attn.q_norm.weight", i);
            if (!failed) l->k_norm = takef(&L, 1, &failed, kd, -1, "layers.%d.self_attn.k_norm.weight", i);
        }
        if (!failed && post_norms) {
            l->norm_attn_out = takef(&L, 1, &failed, H, -1, "layers.%d.post_attention_layernorm.weight", i);
            if (!failed) l->norm_ffn_out = takef(&L, 1, &failed, H, -1, "layers.%d.post_feedforward_layernorm.weight", i);
        }
        if (!failed && (A == A_QWEN3 || A == A_QWEN3MOE || A == A_QWEN3VLMOE || A == A_GEMMA3)) {
            l->q_norm = takef(&L, 1, &failed, hd, -1, "layers.%d.self_attn.q_norm.weight", i);
            if (!failed) l->k_norm = takef(&L, 1, &failed, hd, -1, "layers.%d.self_attn.k_norm.weight", i);
        }
        if (failed) goto fail;
        if (A == A_PHI3) {
            /* Phi3Attention: qkv_proj rows are [q | k | v]; Phi3MLP:
             * gate_up_proj rows are [gate | up] (chunk(2) -> gate first). */
            const float *qkv = takef(&L, 1, &failed, qd + 2 * kd, H, "layers.%d.self_attn.qkv_proj.weight", i);
            if (failed) goto fail;
            lin_set(&l->q, qkv, NULL, qd, H);
            lin_set(&l->k, qkv + (size_t)qd * H, NULL, kd, H);
            lin_set(&l->v, qkv + (size_t)(qd + kd) * H, NULL, kd, H);
            const float *gu = takef(&L, 1, &failed, 2 * I, H, "layers.%d.mlp.gate_up_proj.weight", i);
            if (failed) goto fail;
            lin_set(&l->gate, gu, NULL, I, H);
            lin_set(&l->up, gu + (size_t)I * H, NULL, I, H);
        } else {
            take_lin(&L, &failed, &l->q, i, "self_attn.q_proj", qd, H, attn_bias);
            take_lin(&L, &failed, &l->k, i, "self_attn.k_proj", kd, H, attn_bias);
            take_lin(&L, &failed, &l->v, i, "self_attn.v_proj", kd, H, attn_bias);
            if (failed) goto fail;
        }
        {
            /* Qwen2 has biases on q/k/v only; attention_bias elsewhere covers o_proj too; Phi calls it dense */
            take_lin(&L, &failed, &l->o, i, A == A_PHI ? "self_attn.dense" : "self_attn.o_proj", H, qd, o_bias);
            if (failed) goto fail;
        }
        if (A == A_MIXTRAL || A == A_PHIMOE) {
            static const char *const names[3] = {"w1", "w3", "w2"};
            if (take_experts(&L, l, &failed, i, m->n_expert, H, I, "block_sparse_moe", names)) goto fail;
            if (failed) goto fail;
        } else if (A == A_OLMOE || A == A_GRANITEMOE || A == A_QWEN3VLMOE || A == A_ERNIE45MOE) {
            if (moe_more_tensors(&L, l, &failed, i, cfg) || failed) goto fail;
        } else if (A == A_QWEN2MOE || A == A_QWEN3MOE) {
            /* Qwen2MoeSparseMoeBlock / Qwen3MoeSparseMoeBlock: gate (router), experts.E.{gate,up,down}_proj,
             * Qwen2-MoE's shared_expert and shared_expert_gate */
            static const char *const names[3] = {"gate_proj", "up_proj", "down_proj"};
            const int MI = (int)jnum(cfg, "moe_intermediate_size", 0);
            if (moe_more_packed(&L, l, &failed, i, MI) < 0 || failed) goto fail;
            if (!l->w1 && take_experts(&L, l, &failed, i, m->n_expert, H, MI, "mlp", names)) goto fail;
            if (!failed && A == A_QWEN2MOE) {
                int SI = (int)jnum(cfg, "shared_expert_intermediate_size", 0);
                take_lin(&L, &failed, &l->sh_gate, i, "mlp.shared_expert.gate_proj", SI, H, 0);
                take_lin(&L, &failed, &l->sh_up, i, "mlp.shared_expert.up_proj", SI, H, 0);
                take_lin(&L, &failed, &l->sh_down, i, "mlp.shared_expert.down_proj", H, SI, 0);
                take_lin(&L, &failed, &l->sh_router, i, "mlp.shared_expert_gate", 1, H, 0);
            }
            if (failed) goto fail;
        } else if (A == A_GPTOSS) {
            /* GptOssMLP: router (weight and bias) and the experts, with their biases; GptOssAttention's sinks */
            l->sinks = takef(&L, 1, &failed, m->n_head, -1, "layers.%d.self_attn.sinks", i);
            if (!failed) take_lin(&L, &failed, &l->router, i, "mlp.router", m->n_expert, H, 1);
            if (failed) goto fail;
            char pre[64];
            snprintf(pre, sizeof pre, "%slayers.%d.", L.prefix, i);
            float *w[6];
            const int E = m->n_expert;
            if (hf_gptoss_experts(get, ctx, pre, E, H, I, &w[0], &w[1], &w[2], &w[3], &w[4], &w[5], err, errlen)) goto fail;
            for (int k = 0; k < 6; k++) track(m, w[k]);
            l->w1 = zalloc(m, (size_t)E * sizeof(linear_t));
            l->w2 = zalloc(m, (size_t)E * sizeof(linear_t));
            l->w3 = zalloc(m, (size_t)E * sizeof(linear_t));
            if (!l->w1 || !l->w2 || !l->w3) { hf_set_err(err, errlen, "out of memory"); goto fail; }
            for (int e = 0; e < E; e++) {
                lin_set(&l->w1[e], w[0] + (size_t)e * I * H, w[3] + (size_t)e * I, I, H);
                lin_set(&l->w3[e], w[1] + (size_t)e * I * H, w[4] + (size_t)e * I, I, H);
                lin_set(&l->w2[e], w[2] + (size_t)e * H * I, w[5] + (size_t)e * H, H, I);
            }
        } else if (A == A_PHI || A == A_STARCODER2) {
            /* PhiMLP: fc2(act(fc1(x))); Starcoder2MLP: c_proj(act(c_fc(x))); with biases */
            take_lin(&L, &failed, &l->up, i, A == A_PHI ? "mlp.fc1" : "mlp.c_fc", I, H, 1);
            take_lin(&L, &failed, &l->down, i, A == A_PHI ? "mlp.fc2" : "mlp.c_proj", H, I, 1);
            if (failed) goto fail;
        } else {
            if (A != A_PHI3) {
                take_lin(&L, &failed, &l->gate, i, "mlp.gate_proj", I, H, mlp_bias);
                take_lin(&L, &failed, &l->up, i, "mlp.up_proj", I, H, mlp_bias);
                if (failed) goto fail;
            }
            take_lin(&L, &failed, &l->down, i, "mlp.down_proj", H, I, mlp_bias);
            if (failed) goto fail;
        }
    }
loaded:
    if (alloc_scratch(m)) { hf_set_err(err, errlen, "out of memory"); goto fail; }
    cJSON_Delete(root);
    return m;
fail:
    cJSON_Delete(root);
    hf_forward_free(m);
    return NULL;
}

hf_model *hf_forward_load(const char *path, hf_tensor_get get, void *ctx, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { hf_set_err(err, errlen, "%s: cannot open", path); return NULL; }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            if (cap > (16u << 20)) { fclose(f); free(buf); hf_set_err(err, errlen, "%s: larger than 16 MiB", path); return NULL; }
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) { fclose(f); free(buf); hf_set_err(err, errlen, "out of memory"); return NULL; }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, 4096, f);
        len += r;
        if (r < 4096) break;
    }
    fclose(f);
    buf[len] = 0;
    hf_model *m = hf_forward_load_json(buf, get, ctx, err, errlen);
    if (!m && err && errlen) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", err);
        hf_set_err(err, errlen, "%s: %s", path, tmp);
    }
    free(buf);
    return m;
}

void hf_forward_free(hf_model *m) {
    if (!m) return;
    if (m->fam) m->fam->free(m->fm);
    if (m->layers)
        for (int i = 0; i < m->n_layer; i++) {
            free(m->layers[i].kcache);
            free(m->layers[i].vcache);
        }
    for (int i = 0; i < m->n_allocs; i++) free(m->allocs[i]);
    free(m->allocs);
    free(m->scores);
    free(m);
}

int hf_forward_vocab(const hf_model *m) { return m->vocab; }
const char *hf_forward_model_type(const hf_model *m) { return m->model_type; }
const char *hf_forward_error(const hf_model *m) { return m->err; }
int hf_forward_n_past(const hf_model *m) { return m->n_past; }
double hf_forward_route_margin(const hf_model *m) {
    return m->fam && m->fam->route_margin ? m->fam->route_margin(m->fm) : m->route_margin;
}
void hf_forward_reset(hf_model *m) { m->n_past = 0; }

int hf_forward_rope_inv_freq(const hf_model *m, int layer, double *out, int max, double *attn_factor) {
    if (layer < 0 || layer >= m->n_layer) return -1;
    const rope_t *r = m->layers[layer].rope;
    if (!r) return 0; /* a NoPE layer */
    int n = r->rot_dim / 2;
    if (n > max) n = max;
    for (int i = 0; i < n; i++) out[i] = r->inv_freq[i];
    if (attn_factor) *attn_factor = r->attn_factor;
    return n;
}

int hf_forward_layer_window(const hf_model *m, int layer) {
    if (layer < 0 || layer >= m->n_layer) return -1;
    return m->layers[layer].window;
}

/* ---------- the forward pass ---------- */

static int grow_cache(hf_model *m) {
    int nc = m->cap ? m->cap * 2 : 64;
    size_t kd = (size_t)m->n_kv * m->head_dim;
    for (int i = 0; i < m->n_layer; i++) {
        layer_t *l = &m->layers[i];
        float *k = realloc(l->kcache, (size_t)nc * kd * sizeof(float));
        if (!k) return -1;
        l->kcache = k;
        float *v = realloc(l->vcache, (size_t)nc * kd * sizeof(float));
        if (!v) return -1;
        l->vcache = v;
    }
    double *s = realloc(m->scores, (size_t)nc * sizeof(double));
    if (!s) return -1;
    m->scores = s;
    m->cap = nc;
    return 0;
}

/* Eager attention for one query position over cached keys: scores =
 * q.k * scaling, optional tanh softcap (Gemma2), causal / sliding mask,
 * softmax (float32 in HF; double here), weighted sum of v. Query head h
 * reads kv head h / (n_head / n_kv) (repeat_kv). */
static void attention(hf_model *m, layer_t *l, int pos) {
    int hd = m->head_dim, kd = m->n_kv * hd, rep = m->n_head / m->n_kv;
    int start = 0;
    if (l->window > 0 && pos - l->window + 1 > 0) start = pos - l->window + 1;
    for (int h = 0; h < m->n_head; h++) {
        const float *q = m->q + (size_t)h * hd;
        int kvh = h / rep;
        double mx = -INFINITY;
        for (int j = start; j <= pos; j++) {
            const float *k = l->kcache + (size_t)j * kd + (size_t)kvh * hd;
            double s = 0;
            for (int d = 0; d < hd; d++) s += (double)q[d] * k[d];
            s *= m->attn_scale;
            if (m->attn_softcap > 0) s = tanh(s / m->attn_softcap) * m->attn_softcap;
            m->scores[j] = s;
            if (s > mx) mx = s;
        }
        if (l->sinks && l->sinks[h] > mx) mx = l->sinks[h];
        double sum = l->sinks ? exp(l->sinks[h] - mx) : 0; /* gpt-oss: the sink's column, dropped after the softmax */
        for (int j = start; j <= pos; j++) {
            m->scores[j] = exp(m->scores[j] - mx);
            sum += m->scores[j];
        }
        float *out = m->att + (size_t)h * hd;
        for (int d = 0; d < hd; d++) {
            double acc = 0;
            for (int j = start; j <= pos; j++)
                acc += m->scores[j] / sum * l->vcache[(size_t)j * kd + (size_t)kvh * hd + d];
            out[d] = (float)acc;
        }
    }
}

/* down(act(gate(x)) * up(x)) into out. */
static void mlp(hf_model *m, const linear_t *gate, const linear_t *up, const linear_t *down, const float *x, float *out) {
    if (!gate->w) { /* not gated (Phi-2): down(act(up(x))) */
        matvec(up, x, m->u);
        for (int i = 0; i < up->out; i++) m->u[i] = m->act == ACT_XIELU ? xielu(m->xielu, m->u[i]) : activate(m->act, m->u[i]);
        matvec(down, m->u, out);
        return;
    }
    matvec(gate, x, m->g);
    matvec(up, x, m->u);
    if (m->oai_limit > 0) { /* GptOssExperts: gate clamped above, up clamped both ways, (up + 1) * gate * sigmoid(1.702 gate) */
        const float lim = (float)m->oai_limit;
        for (int i = 0; i < gate->out; i++) {
            const float g = m->g[i] > lim ? lim : m->g[i], u = m->u[i] > lim ? lim : m->u[i] < -lim ? -lim : m->u[i];
            m->g[i] = (u + 1.0f) * (float)(g / (1.0 + exp(-1.702 * g)));
        }
        matvec(down, m->g, out);
        return;
    }
    for (int i = 0; i < gate->out; i++) m->g[i] = activate(m->act, m->g[i]) * m->u[i];
    matvec(down, m->g, out);
}

/* MixtralSparseMoeBlock: softmax over router logits (float32), top-k,
 * renormalise the k weights to sum 1, weighted sum of the experts. Ties go
 * to the lower expert index (torch.topk's order on ties is unspecified). */
static void moe(hf_model *m, layer_t *l, const float *x, float *out) {
    int E = m->n_expert;
    float logits[256];
    double p[256];
    int chosen[256];
    matvec(&l->router, x, logits);
    if (m->sparsemixer_eps > 0) { /* modeling_phimoe.py sparsemixer (eval): two masked softmaxes */
        int idx[2], excl = -1;
        float w[2];
        const float lim = (float)(2 * m->sparsemixer_eps);
        for (int k = 0; k < 2; k++) {
            int best = -1;
            for (int e = 0; e < E; e++)
                if (e != excl && (best < 0 || logits[e] > logits[best])) best = e;
            /* scores far below the maximum relative to their size are masked; the top-1 expert is out of the
             * second round (scattered to -inf) */
            const float thr = logits[best];
            double sum = 0;
            for (int e = 0; e < E; e++) {
                const float factor = fabsf(logits[e]) > thr ? fabsf(logits[e]) : thr;
                if (e == excl || (thr - logits[e]) / factor > lim) continue;
                sum += exp((double)logits[e] - thr);
            }
            idx[k] = best, w[k] = (float)(1.0 / sum), excl = best;
        }
        for (int i = 0; i < m->hidden; i++) out[i] = 0;
        for (int k = 0; k < 2; k++) {
            mlp(m, &l->w1[idx[k]], &l->w3[idx[k]], &l->w2[idx[k]], x, m->f2);
            for (int i = 0; i < m->hidden; i++) out[i] += m->f2[i] * w[k];
        }
        return;
    }
    if (m->moe_topk_softmax) { /* GptOssTopKRouter: top-k of the logits, softmax over them */
        int idx[256], chosen[256] = {0};
        for (int k = 0; k < m->top_k; k++) {
            int best = -1;
            for (int e = 0; e < E; e++)
                if (!chosen[e] && (best < 0 || logits[e] > logits[best])) best = e;
            chosen[best] = 1, idx[k] = best;
        }
        for (int e = 0; e < E; e++)
            if (!chosen[e] && logits[idx[m->top_k - 1]] - logits[e] < m->route_margin)
                m->route_margin = logits[idx[m->top_k - 1]] - logits[e];
        double wmx = logits[idx[0]], ws = 0, w[256];
        for (int k = 0; k < m->top_k; k++) ws += w[k] = exp(logits[idx[k]] - wmx);
        for (int i = 0; i < m->hidden; i++) out[i] = 0;
        for (int k = 0; k < m->top_k; k++) {
            const float wk = (float)(w[k] / ws);
            mlp(m, &l->w1[idx[k]], &l->w3[idx[k]], &l->w2[idx[k]], x, m->f2);
            for (int i = 0; i < m->hidden; i++) out[i] += m->f2[i] * wk;
        }
        return;
    }
    double mx = -INFINITY, sum = 0;
    for (int e = 0; e < E; e++) if (logits[e] > mx) mx = logits[e];
    for (int e = 0; e < E; e++) { p[e] = exp(logits[e] - mx); sum += p[e]; }
    for (int e = 0; e < E; e++) { p[e] = (float)(p[e] / sum); chosen[e] = 0; } /* softmax in float32 */
    int idx[256];
    double wsum = 0;
    for (int k = 0; k < m->top_k; k++) {
        int best = -1;
        for (int e = 0; e < E; e++) /* the choice on p + bias in float32 (Ernie4_5_MoeStatics), the weight p */
            if (!chosen[e] && (best < 0 || (l->sel_bias ? (float)(p[e] + l->sel_bias[e]) > (float)(p[best] + l->sel_bias[best])
                                                        : p[e] > p[best])))
                best = e;
        chosen[best] = 1;
        idx[k] = best;
        wsum += p[best];
    }
    for (int i = 0; i < m->hidden; i++) out[i] = 0;
    for (int k = 0; k < m->top_k; k++) {
        int e = idx[k];
        float w = m->moe_norm ? (float)(p[e] / wsum) : (float)p[e];
        mlp(m, &l->w1[e], &l->w3[e], &l->w2[e], x, m->f2);
        for (int i = 0; i < m->hidden; i++) out[i] += m->f2[i] * w;
    }
    if (l->sh_up.w) { /* Qwen2-MoE: + sigmoid(shared_expert_gate(x)) * shared_expert(x); Granite: + shared_mlp(x) */
        float gl = 0, sg = 1.0f;
        if (l->sh_router.w) matvec(&l->sh_router, x, &gl), sg = (float)(1.0 / (1.0 + exp(-(double)gl)));
        mlp(m, &l->sh_gate, &l->sh_up, &l->sh_down, x, m->f2);
        for (int i = 0; i < m->hidden; i++) out[i] += m->f2[i] * sg;
    }
}

int hf_forward_next(hf_model *m, int32_t token, float *logits) {
    if (token < 0 || token >= m->vocab) { /* m->vocab: a family's own (fam->vocab) too */
        snprintf(m->err, sizeof m->err, "token id %d out of range (vocab %d)", (int)token, m->vocab);
        return -1;
    }
    if (m->fam) {
        if (m->fam->next(m->fm, token, m->n_past, logits, m->err, sizeof m->err)) return -1;
        m->n_past++;
        return 0;
    }
    if (m->n_past == m->cap && grow_cache(m)) {
        snprintf(m->err, sizeof m->err, "out of memory for the KV cache (%d positions)", m->cap * 2);
        return -1;
    }
    int H = m->hidden, hd = m->head_dim, kd = m->n_kv * hd, pos = m->n_past;
    m->route_margin = INFINITY;
    const float *e = m->embed + (size_t)token * H;
    for (int i = 0; i < H; i++) m->x[i] = e[i] * m->embed_scale;
    if (m->pos_embed) { /* GPT-2: wte + wpe */
        if (pos >= m->n_pos) {
            snprintf(m->err, sizeof m->err, "position %d beyond the %d learned positions", pos, m->n_pos);
            return -1;
        }
        for (int i = 0; i < H; i++) m->x[i] += m->pos_embed[(size_t)pos * H + i];
    }

    for (int li = 0; li < m->n_layer; li++) {
        layer_t *l = &m->layers[li];
        if (l->norm_in) rmsnorm(m->h, m->x, l->norm_in, H, m->eps, m->gemma_norm);
        else memcpy(m->h, m->x, (size_t)H * sizeof(float));
        for (int i = 0; l->norm_in_b && i < H; i++) m->h[i] += l->norm_in_b[i];
        if (m->ds && l->kv_a.w) {
            ds_qkv(m, l, pos); /* q, k, v of every head, rope applied */
        } else if (l->qkv.w) {
            split_qkv(m, l);
        } else {
            matvec(&l->q, m->h, m->q);
            matvec(&l->k, m->h, m->k);
            matvec(&l->v, m->h, m->v);
        }
        if (m->qk_norm_full) { /* OLMo 2: one RMSNorm over all heads */
            rmsnorm(m->q, m->q, l->q_norm, m->n_head * hd, m->eps, 0);
            rmsnorm(m->k, m->k, l->k_norm, kd, m->eps, 0);
        } else {
            /* Qwen3 / Gemma3: per-head RMSNorm of q and k before rope. */
            for (int h = 0; l->q_norm && h < m->n_head; h++)
                rmsnorm(m->q + (size_t)h * hd, m->q + (size_t)h * hd, l->q_norm, hd, m->eps, m->gemma_norm);
            for (int h = 0; l->k_norm && h < m->n_kv; h++)
                rmsnorm(m->k + (size_t)h * hd, m->k + (size_t)h * hd, l->k_norm, hd, m->eps, m->gemma_norm);
        }
        void (*rope)(float *, const rope_t *, int) = m->rope_interleaved ? apply_rope_interleaved : apply_rope;
        for (int h = 0; l->rope && h < m->n_head; h++) rope(m->q + (size_t)h * hd, l->rope, pos);
        for (int h = 0; l->rope && h < m->n_kv; h++) rope(m->k + (size_t)h * hd, l->rope, pos);
        if (m->l4_orig > 0) { /* float32, as the scale tensor is cast to the queries' dtype */
            const float sc = (float)(1.0 + m->l4_beta * log(1.0 + floor((double)pos / m->l4_orig)));
            for (int i = 0; i < m->n_head * hd; i++) m->q[i] *= sc;
        }
        memcpy(l->kcache + (size_t)pos * kd, m->k, (size_t)kd * sizeof(float));
        memcpy(l->vcache + (size_t)pos * kd, m->v, (size_t)kd * sizeof(float));
        attention(m, l, pos);
        if (m->ds && l->kv_a.w) { /* the heads' v parts (v_head_dim of head_dim) side by side for o_proj */
            const int vd = l->o.in / m->n_head;
            for (int h = 0; h < m->n_head; h++) memmove(m->att + (size_t)h * vd, m->att + (size_t)h * hd, (size_t)vd * sizeof(float));
        }
        matvec(&l->o, m->att, m->a);
        if (l->norm_attn_out) rmsnorm(m->a, m->a, l->norm_attn_out, H, m->eps, m->gemma_norm);
        if (m->parallel) { /* CohereDecoderLayer: x + attn(norm(x)) + mlp(norm(x)) */
            if (l->norm_ffn_in) { /* GPT-NeoX: the MLP's own norm of the same x */
                rmsnorm(m->h, m->x, l->norm_ffn_in, H, m->eps, m->gemma_norm);
                for (int i = 0; l->norm_ffn_in_b && i < H; i++) m->h[i] += l->norm_ffn_in_b[i];
            }
            mlp(m, &l->gate, &l->up, &l->down, m->h, m->f);
            for (int i = 0; i < H; i++) m->x[i] += m->a[i] + m->f[i];
            continue;
        }
        for (int i = 0; i < H; i++) m->x[i] += m->a[i] * m->residual_mult;

        if (l->norm_ffn_in) rmsnorm(m->h, m->x, l->norm_ffn_in, H, m->eps, m->gemma_norm);
        else memcpy(m->h, m->x, (size_t)H * sizeof(float));
        for (int i = 0; l->norm_ffn_in_b && i < H; i++) m->h[i] += l->norm_ffn_in_b[i];
        m->xielu = l->xielu;
        if (m->ds && l->w1) ds_moe(m, l, m->h, m->f);
        else if (m->n_expert && !m->ds && l->w1) moe(m, l, m->h, m->f); /* ERNIE 4.5 MoE: its leading layers are dense */
        else mlp(m, &l->gate, &l->up, &l->down, m->h, m->f);
        if (l->norm_ffn_out) rmsnorm(m->f, m->f, l->norm_ffn_out, H, m->eps, m->gemma_norm);
        for (int i = 0; i < H; i++) m->x[i] += m->f[i] * m->residual_mult;
    }
    m->n_past++;
    if (!logits) return 0;
    rmsnorm(m->h, m->x, m->norm_final, H, m->eps, m->gemma_norm);
    for (int i = 0; m->norm_final_b && i < H; i++) m->h[i] += m->norm_final_b[i];
    linear_t head = {m->lm_head, m->lm_head_b, m->vocab, H};
    matvec(&head, m->h, logits);
    if (m->logit_mult != 1.0f)
        for (int i = 0; i < m->vocab; i++) logits[i] *= m->logit_mult;
    if (m->logits_div != 1.0f)
        for (int i = 0; i < m->vocab; i++) logits[i] /= m->logits_div;
    if (m->final_softcap > 0)
        for (int i = 0; i < m->vocab; i++)
            logits[i] = (float)(tanh(logits[i] / m->final_softcap) * m->final_softcap);
    return 0;
}

int hf_forward_logits(hf_model *m, const int32_t *tokens, int n, float *logits) {
    hf_forward_reset(m);
    for (int i = 0; i < n; i++)
        if (hf_forward_next(m, tokens[i], logits ? logits + (size_t)i * m->vocab : NULL)) return -1;
    return 0;
}

/* ---------- ERNIE 4.5, GLM-4, InternLM 2, GPT-2, GPT-NeoX ----------
 * Each family read from its own published names (modeling_ernie4_5.py,
 * modeling_glm4.py, InternLM's modeling_internlm2.py, modeling_gpt2.py,
 * modeling_gpt_neox.py); the math is the shared step above plus learned
 * positions (GPT-2), fused q/k/v in three layouts, and the second norm of
 * GPT-NeoX's parallel block. */

enum { QKV_CAT, QKV_PER_HEAD, QKV_GROUPED };

/* The family's config keys under the names the loader reads (cfg is the
 * loader's own parsed copy). */
static void cfg_alias(cJSON *c, const char *key, const char *from, double def) {
    if (jget(c, key)) return;
    const cJSON *v = jget(c, from);
    cJSON_DeleteItemFromObjectCaseSensitive(c, key); /* an explicit null */
    if (v) cJSON_AddItemToObject(c, key, cJSON_Duplicate(v, 1));
    else cJSON_AddNumberToObject(c, key, def);
}

static void more_config(cJSON *cfg, arch_t a) {
    if (a == A_GPT2) { /* GPT2Config: n_embd, n_layer, n_head, n_inner (None: 4 n_embd), layer_norm_epsilon */
        cfg_alias(cfg, "hidden_size", "n_embd", 768);
        cfg_alias(cfg, "num_hidden_layers", "n_layer", 12);
        cfg_alias(cfg, "num_attention_heads", "n_head", 12);
        cfg_alias(cfg, "intermediate_size", "n_inner", 4 * jnum(cfg, "hidden_size", 768));
        cfg_alias(cfg, "layer_norm_eps", "layer_norm_epsilon", 1e-5);
        cfg_alias(cfg, "max_position_embeddings", "n_positions", 1024);
        if (!jget(cfg, "hidden_act")) cJSON_AddStringToObject(cfg, "hidden_act", jstr(cfg, "activation_function", "gelu_new"));
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "tie_word_embeddings"); /* GPT2LMHeadModel always ties */
        cJSON_AddBoolToObject(cfg, "tie_word_embeddings", 1);
    } else if (a == A_GPTNEOX) { /* GPTNeoXConfig: rotary_pct, rotary_emb_base */
        cfg_alias(cfg, "partial_rotary_factor", "rotary_pct", 0.25);
        cfg_alias(cfg, "rope_theta", "rotary_emb_base", 10000);
    } else if (a == A_GLM4 || a == A_GLM4MOE) { /* Glm4Config's / Glm4MoeConfig's default */
        cfg_alias(cfg, "partial_rotary_factor", "partial_rotary_factor", 0.5);
    }
}

static void more_setup(hf_model *m, const cJSON *cfg) {
    const arch_t A = m->arch;
    m->rope_interleaved = A == A_ERNIE4_5 || A == A_GLM4; /* rotate_half on (2i, 2i+1), cos/sin repeat_interleave'd */
    m->eps = jnum(cfg, "rms_norm_eps", A == A_INTERNLM2 ? 1e-6 : 1e-5);
    if (A == A_GPT2 || A == A_GPTNEOX) {
        m->gemma_norm = NORM_LAYER;
        m->eps = jnum(cfg, "layer_norm_eps", 1e-5);
        m->parallel = A == A_GPTNEOX && jbool(cfg, "use_parallel_residual", 1);
    }
}

/* Where each family keeps its tensors: names after the layer prefix, without
 * .weight / .bias; NULL: the family has none. */
typedef struct {
    arch_t a;
    const char *embed, *pos, *norm_f, *lm_head, *layer;
    const char *ln1, *ln2, *post_attn, *post_mlp;
    const char *q, *k, *v, *qkv, *o, *gate, *up, *gate_up, *down;
    const char *q_norm, *k_norm; /* per head */
    int qkv_layout, ln_bias, conv1d;
    const char *bias_key; /* config switch of the attention biases; "" = always */
    int o_bias, mlp_bias; /* the switch also covers o / the MLP */
} fam_names;

static const fam_names k_fams[] = {
    {A_ERNIE4_5, "model.embed_tokens", NULL, "model.norm", "lm_head", "model.layers.%d.", "input_layernorm",
     "post_attention_layernorm", NULL, NULL, "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", NULL,
     "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", NULL, "mlp.down_proj", NULL, NULL, 0, 0, 0, "use_bias", 1, 1},
    {A_GLM4, "model.embed_tokens", NULL, "model.norm", "lm_head", "model.layers.%d.", "input_layernorm",
     "post_attention_layernorm", "post_self_attn_layernorm", "post_mlp_layernorm", "self_attn.q_proj",
     "self_attn.k_proj", "self_attn.v_proj", NULL, "self_attn.o_proj", NULL, NULL, "mlp.gate_up_proj",
     "mlp.down_proj", NULL, NULL, 0, 0, 0, "attention_bias", 0, 0},
    {A_INTERNLM2, "model.tok_embeddings", NULL, "model.norm", "output", "model.layers.%d.", "attention_norm",
     "ffn_norm", NULL, NULL, NULL, NULL, NULL, "attention.wqkv", "attention.wo", "feed_forward.w1",
     "feed_forward.w3", NULL, "feed_forward.w2", NULL, NULL, QKV_GROUPED, 0, 0, "bias", 1, 0},
    {A_GPT2, "wte", "wpe", "ln_f", "lm_head", "h.%d.", "ln_1", "ln_2", NULL, NULL, NULL, NULL, NULL, "attn.c_attn",
     "attn.c_proj", NULL, "mlp.c_fc", NULL, "mlp.c_proj", NULL, NULL, QKV_CAT, 1, 1, "", 1, 1},
    {A_GPTNEOX, "gpt_neox.embed_in", NULL, "gpt_neox.final_layer_norm", "embed_out", "gpt_neox.layers.%d.",
     "input_layernorm", "post_attention_layernorm", NULL, NULL, NULL, NULL, NULL, "attention.query_key_value",
     "attention.dense", NULL, "mlp.dense_h_to_4h", NULL, "mlp.dense_4h_to_h", NULL, NULL, QKV_PER_HEAD, 1, 0,
     "attention_bias", 1, 1},
    /* modeling_exaone4.py: no pre-norms, outputs normed (as OLMo 2), per-head q/k norms */
    {A_EXAONE4, "model.embed_tokens", NULL, "model.norm", "lm_head", "model.layers.%d.", NULL, NULL,
     "post_attention_layernorm", "post_feedforward_layernorm", "self_attn.q_proj", "self_attn.k_proj",
     "self_attn.v_proj", NULL, "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", NULL, "mlp.down_proj",
     "self_attn.q_norm", "self_attn.k_norm", 0, 0, 0, "attention_bias", 1, 0},
    /* modeling_apertus.py: its norm names, per-head q/k norms, an ungated xIELU MLP */
    {A_APERTUS, "model.embed_tokens", NULL, "model.norm", "lm_head", "model.layers.%d.", "attention_layernorm",
     "feedforward_layernorm", NULL, NULL, "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", NULL,
     "self_attn.o_proj", NULL, "mlp.up_proj", NULL, "mlp.down_proj", "self_attn.q_norm", "self_attn.k_norm", 0, 0,
     0, "attention_bias", 1, 0},
};

/* prefix + name + suffix of a tensor, [d0] (d1 < 0) or [d0, d1]; conv1d: stored [d1, d0] (GPT-2's Conv1D),
 * transposed here. NULL name: nothing (no error). */
static float *more_take(loader_t *L, const char *pre, const char *name, const char *suf, int64_t d0, int64_t d1,
                        int conv1d, int required, int *failed) {
    if (!name || *failed) return NULL;
    char full[320];
    snprintf(full, sizeof full, "%s%s%s", pre, name, suf);
    if (!conv1d || d1 < 0) return take(L, full, d0, d1, required, failed);
    const float *s = take(L, full, d1, d0, required, failed);
    float *t = s ? zalloc(L->m, (size_t)d0 * (size_t)d1 * sizeof(float)) : NULL;
    if (s && !t) { hf_set_err(L->err, L->errlen, "out of memory"); *failed = 1; }
    for (int64_t r = 0; t && r < d0; r++)
        for (int64_t c = 0; c < d1; c++) t[r * d1 + c] = s[c * d0 + r];
    return t;
}

static void more_lin(loader_t *L, const fam_names *f, const char *pre, const char *name, linear_t *lin, int out,
                     int in, int bias, int *failed) {
    const float *w = more_take(L, pre, name, ".weight", out, in, f->conv1d, 1, failed);
    const float *b = bias ? more_take(L, pre, name, ".bias", out, -1, 0, 1, failed) : NULL;
    lin_set(lin, w, b, out, in);
}

static int more_tensors(loader_t *L, const cJSON *cfg) {
    hf_model *m = L->m;
    const fam_names *f = k_fams;
    while (f->a != m->arch) f++;
    int failed = 0;
    const int H = m->hidden, hd = m->head_dim, qd = m->n_head * hd, kd = m->n_kv * hd, I = m->inter;
    const int bias = !*f->bias_key || jbool(cfg, f->bias_key, m->arch == A_GPTNEOX);
    const int mlp_bias = f->mlp_bias && (bias || m->arch == A_GPTNEOX); /* GPTNeoXMLP's Linear layers always have one */
    m->embed = more_take(L, f->embed, "", ".weight", m->vocab, H, 0, 1, &failed);
    if (f->pos) {
        m->n_pos = (int)jnum(cfg, "max_position_embeddings", 1024);
        m->pos_embed = more_take(L, f->pos, "", ".weight", m->n_pos, H, 0, 1, &failed);
    }
    m->norm_final = more_take(L, f->norm_f, "", ".weight", H, -1, 0, 1, &failed);
    if (f->ln_bias) m->norm_final_b = more_take(L, f->norm_f, "", ".bias", H, -1, 0, 1, &failed);
    if (!jbool(cfg, "tie_word_embeddings", 0)) m->lm_head = more_take(L, f->lm_head, "", ".weight", m->vocab, H, 0, 0, &failed);
    if (!m->lm_head) m->lm_head = m->embed;
    m->qkv_layout = f->qkv_layout;
    if (f->qkv && !(m->qkv_buf = zalloc(m, (size_t)(qd + 2 * kd) * sizeof(float)))) return -1;
    for (int i = 0; i < m->n_layer && !failed; i++) {
        layer_t *l = &m->layers[i];
        char pre[64];
        snprintf(pre, sizeof pre, f->layer, i);
        l->norm_in = more_take(L, pre, f->ln1, ".weight", H, -1, 0, 1, &failed);
        l->norm_ffn_in = more_take(L, pre, f->ln2, ".weight", H, -1, 0, 1, &failed);
        if (f->ln_bias) {
            l->norm_in_b = more_take(L, pre, f->ln1, ".bias", H, -1, 0, 1, &failed);
            l->norm_ffn_in_b = more_take(L, pre, f->ln2, ".bias", H, -1, 0, 1, &failed);
        }
        l->norm_attn_out = more_take(L, pre, f->post_attn, ".weight", H, -1, 0, 1, &failed);
        l->norm_ffn_out = more_take(L, pre, f->post_mlp, ".weight", H, -1, 0, 1, &failed);
        l->q_norm = more_take(L, pre, f->q_norm, ".weight", hd, -1, 0, 1, &failed);
        l->k_norm = more_take(L, pre, f->k_norm, ".weight", hd, -1, 0, 1, &failed);
        if (f->qkv) {
            more_lin(L, f, pre, f->qkv, &l->qkv, qd + 2 * kd, H, bias, &failed);
        } else {
            more_lin(L, f, pre, f->q, &l->q, qd, H, bias, &failed);
            more_lin(L, f, pre, f->k, &l->k, kd, H, bias, &failed);
            more_lin(L, f, pre, f->v, &l->v, kd, H, bias, &failed);
        }
        more_lin(L, f, pre, f->o, &l->o, H, qd, bias && f->o_bias, &failed);
        if (f->gate_up) { /* [gate | up] rows, chunk(2) */
            const float *gu = more_take(L, pre, f->gate_up, ".weight", 2 * I, H, 0, 1, &failed);
            lin_set(&l->gate, gu, NULL, I, H);
            lin_set(&l->up, gu ? gu + (size_t)I * H : NULL, NULL, I, H);
        } else {
            if (f->gate) more_lin(L, f, pre, f->gate, &l->gate, I, H, mlp_bias, &failed);
            more_lin(L, f, pre, f->up, &l->up, I, H, mlp_bias, &failed);
        }
        more_lin(L, f, pre, f->down, &l->down, H, I, mlp_bias, &failed);
        if (m->arch == A_GPT2) l->rope = NULL; /* learned absolute positions instead */
        if (m->arch == A_APERTUS && more_xielu(L, pre, l)) failed = 1;
    }
    return failed ? -1 : 0;
}

/* The fused projection's rows as q, k and v: [q | k | v] (GPT-2's c_attn
 * split), [head][q, k, v][dim] (GPT-NeoX's view(..., heads, 3 * dim)), or
 * [kv head][its q heads..., k, v][dim] (InternLM 2's rearrange). */
static void split_qkv(hf_model *m, const layer_t *l) {
    const int hd = m->head_dim, qd = m->n_head * hd, kd = m->n_kv * hd, rep = m->n_head / m->n_kv;
    const float *b = m->qkv_buf;
    matvec(&l->qkv, m->h, m->qkv_buf);
    const size_t row = (size_t)hd * sizeof(float);
    if (m->qkv_layout == QKV_CAT) {
        memcpy(m->q, b, (size_t)qd * sizeof(float));
        memcpy(m->k, b + qd, (size_t)kd * sizeof(float));
        memcpy(m->v, b + qd + kd, (size_t)kd * sizeof(float));
        return;
    }
    for (int g = 0; g < m->n_kv; g++) { /* per head: rep = 1 */
        const float *gb = b + (size_t)g * (rep + 2) * hd;
        for (int j = 0; j < rep; j++) memcpy(m->q + (size_t)(g * rep + j) * hd, gb + (size_t)j * hd, row);
        memcpy(m->k + (size_t)g * hd, gb + (size_t)rep * hd, row);
        memcpy(m->v + (size_t)g * hd, gb + (size_t)(rep + 1) * hd, row);
    }
}

/* XIELUActivation's parameters: alpha_p and alpha_n are stored before
 * softplus, beta and eps as they are (one value each, [1] or 0-D). */
static int more_xielu(loader_t *L, const char *pre, layer_t *l) {
    static const char *const names[4] = {"alpha_p", "alpha_n", "beta", "eps"};
    double raw[4];
    for (int k = 0; k < 4; k++) {
        char nm[320];
        int64_t shape[8] = {0};
        int nd = 0;
        snprintf(nm, sizeof nm, "%smlp.act_fn.%s", pre, names[k]);
        const float *v = L->get(L->ctx, nm, shape, &nd);
        if (!v || nd > 1 || (nd == 1 && shape[0] != 1)) {
            hf_set_err(L->err, L->errlen, "tensor '%s' is %s (one value expected)", nm, v ? "not a single value" : "missing");
            return -1;
        }
        raw[k] = v[0];
    }
    const double sp_p = log1p(exp(raw[0])), sp_n = log1p(exp(raw[1]));
    l->xielu[0] = sp_p, l->xielu[1] = raw[2] + sp_n, l->xielu[2] = raw[2], l->xielu[3] = raw[3];
    return 0;
}

/* xIELU: alpha_p x^2 + beta x for x > 0, else (expm1(min(x, eps)) - x) alpha_n + beta x */
static float xielu(const double *p, float x) {
    const double xd = x;
    return (float)(xd > 0 ? p[0] * xd * xd + p[2] * xd : (expm1(fmin(xd, p[3])) - xd) * p[1] + p[2] * xd);
}

/* ---------- DeepSeek V2 / V3 (modeling_deepseek_v2.py, modeling_deepseek_v3.py) ----------
 * MLA as HF computes it (no absorption): q = q_b(norm(q_a(x))) (or q_proj),
 * per head [nope | rope]; kv_a(x) = [c (kv_lora_rank) | k_pe (rope, shared)];
 * kv_b(norm(c)) per head [k_nope | v]; rope on adjacent pairs of q_pe and k_pe
 * (V2's complex rotation, V3's rope_interleave: the same rotation up to an
 * order of the dimensions q and k share); scores over nope + rope dims times
 * qk_head_dim^-0.5 (times mscale^2 under YaRN with mscale_all_dim). The
 * cache holds k and v per head, v padded to the qk head size.
 * MoE: router logits (float32); scores softmax (V2) or sigmoid (V3); for the
 * choice V3 adds e_score_correction_bias and, with n_group > 1, keeps the
 * topk_group groups with the largest sum of their top two; top-k; weights =
 * the unbiased scores of the chosen, renormalised when norm_topk_prob, times
 * routed_scaling_factor; plus the shared experts (one MLP of
 * n_shared_experts x moe_intermediate_size). */
struct ds_cfg {
    int nope, rope, vd, q_lora, kv_lora, lead, sigmoid, n_group, topk_group, norm;
    double scale;
    float *ca, *qa, *kv; /* scratch: kv_a output, q_a output, kv_b output */
};

/* DeepSeek's and GLM-4.5's embedding, final norm and lm_head (the embedding
 * when tie_word_embeddings): 0, or -1 with the reason in L's err */
static int ds_glm_ends(loader_t *L, const cJSON *cfg, int H) {
    hf_model *m = L->m;
    int failed = 0;
    m->embed = takef(L, 1, &failed, m->vocab, H, "embed_tokens.weight");
    if (!failed) m->norm_final = takef(L, 1, &failed, H, -1, "norm.weight");
    if (failed) return -1;
    if (jbool(cfg, "tie_word_embeddings", 0)) {
        m->lm_head = m->embed;
        return 0;
    }
    loader_t L2 = *L;
    L2.prefix = ""; /* lm_head sits outside the model. prefix */
    m->lm_head = take(&L2, "lm_head.weight", m->vocab, H, 1, &failed);
    return failed ? -1 : 0;
}

/* Layer i's feed-forward in DeepSeek's layout (GLM-4.5 shares it): a dense
 * SwiGLU MLP, or E routed experts of width MI, the router's
 * e_score_correction_bias (e_bias: -1 none, else whether it is required)
 * and NS shared experts. -1 when take_experts gives up, else 0 (failed set
 * on a missing tensor). */
static int ds_glm_ffn(loader_t *L, layer_t *l, int *failed, int i, int dense, int E, int H, int MI, int NS,
                      int e_bias) {
    hf_model *m = L->m;
    if (dense) {
        take_lin(L, failed, &l->gate, i, "mlp.gate_proj", m->inter, H, 0);
        take_lin(L, failed, &l->up, i, "mlp.up_proj", m->inter, H, 0);
        take_lin(L, failed, &l->down, i, "mlp.down_proj", H, m->inter, 0);
        return 0;
    }
    static const char *const names[3] = {"gate_proj", "up_proj", "down_proj"};
    if (take_experts(L, l, failed, i, E, H, MI, "mlp", names)) return -1;
    if (!*failed && e_bias >= 0)
        l->e_bias = takef(L, e_bias, failed, E, -1, "layers.%d.mlp.gate.e_score_correction_bias", i);
    if (!*failed && NS > 0) {
        take_lin(L, failed, &l->sh_gate, i, "mlp.shared_experts.gate_proj", MI * NS, H, 0);
        take_lin(L, failed, &l->sh_up, i, "mlp.shared_experts.up_proj", MI * NS, H, 0);
        take_lin(L, failed, &l->sh_down, i, "mlp.shared_experts.down_proj", H, MI * NS, 0);
    }
    return 0;
}

/* The model's zeroed ds_cfg (DeepSeek V2 / V3 and GLM-4.5 both keep their settings there), or NULL with the reason
 * in L's err */
static struct ds_cfg *ds_cfg_new(loader_t *L) {
    struct ds_cfg *d = zalloc(L->m, sizeof *d);
    if (!d) hf_set_err(L->err, L->errlen, "out of memory");
    return L->m->ds = d;
}

static int ds_load(loader_t *L, const cJSON *cfg) {
    hf_model *m = L->m;
    int failed = 0;
    struct ds_cfg *d = ds_cfg_new(L);
    if (!d) return -1;
    d->nope = (int)jnum(cfg, "qk_nope_head_dim", 128), d->rope = (int)jnum(cfg, "qk_rope_head_dim", 64);
    d->vd = (int)jnum(cfg, "v_head_dim", 128), d->kv_lora = (int)jnum(cfg, "kv_lora_rank", 512);
    const cJSON *ql = jget(cfg, "q_lora_rank");
    d->q_lora = ql && cJSON_IsNumber(ql) ? ql->valueint : 0;
    d->lead = (int)jnum(cfg, "first_k_dense_replace", 0);
    d->sigmoid = !strcmp(jstr(cfg, "scoring_func", "softmax"), "sigmoid");
    d->n_group = (int)jnum(cfg, "n_group", 1), d->topk_group = (int)jnum(cfg, "topk_group", 1);
    d->norm = jbool(cfg, "norm_topk_prob", 0);
    d->scale = jnum(cfg, "routed_scaling_factor", 1.0);
    const int H = m->hidden, NH = m->n_head, qk = d->nope + d->rope, E = (int)jnum(cfg, "n_routed_experts", 0);
    const int MI = (int)jnum(cfg, "moe_intermediate_size", 0), NS = (int)jnum(cfg, "n_shared_experts", 0);
    if (d->vd > qk || E <= 0 || E > 256 || MI <= 0 || d->n_group < 1 || E % d->n_group) {
        hf_set_err(L->err, L->errlen, "config: DeepSeek sizes not supported by the reference (v %d > qk %d, %d experts)",
                   d->vd, qk, E);
        return -1;
    }
    m->n_expert = E, m->top_k = (int)jnum(cfg, "num_experts_per_tok", 2);
    if (MI * (NS > 1 ? NS : 1) > m->inter_max) m->inter_max = MI * (NS > 1 ? NS : 1);
    m->attn_scale = 1.0 / sqrt((double)qk);
    const cJSON *rs = jget(cfg, "rope_scaling");
    if (rs && cJSON_IsObject(rs) && !strcmp(jstr(rs, "rope_type", jstr(rs, "type", "default")), "yarn")) {
        const double f = jnum(rs, "factor", 1), ma = jnum(rs, "mscale_all_dim", 0);
        if (ma > 0 && f > 1) { const double ms = 0.1 * ma * log(f) + 1.0; m->attn_scale *= ms * ms; }
    }
    d->ca = zalloc(m, (size_t)(d->kv_lora + d->rope) * sizeof(float));
    d->qa = zalloc(m, (size_t)(d->q_lora > 0 ? d->q_lora : 1) * sizeof(float));
    d->kv = zalloc(m, (size_t)NH * (d->nope + d->vd) * sizeof(float));
    if (!d->ca || !d->qa || !d->kv) { hf_set_err(L->err, L->errlen, "out of memory"); return -1; }
    if (ds_glm_ends(L, cfg, H)) return -1;
    for (int i = 0; i < m->n_layer && !failed; i++) {
        layer_t *l = &m->layers[i];
        l->rope = NULL; /* applied by ds_qkv to the rope part of each head */
        l->norm_in = takef(L, 1, &failed, H, -1, "layers.%d.input_layernorm.weight", i);
        if (!failed) l->norm_ffn_in = takef(L, 1, &failed, H, -1, "layers.%d.post_attention_layernorm.weight", i);
        if (d->q_lora > 0) {
            take_lin(L, &failed, &l->q_a, i, "self_attn.q_a_proj", d->q_lora, H, 0);
            if (!failed) l->q_a_norm = takef(L, 1, &failed, d->q_lora, -1, "layers.%d.self_attn.q_a_layernorm.weight", i);
            take_lin(L, &failed, &l->q_b, i, "self_attn.q_b_proj", NH * qk, d->q_lora, 0);
        } else {
            take_lin(L, &failed, &l->q_b, i, "self_attn.q_proj", NH * qk, H, 0);
        }
        take_lin(L, &failed, &l->kv_a, i, "self_attn.kv_a_proj_with_mqa", d->kv_lora + d->rope, H, 0);
        if (!failed) l->kv_a_norm = takef(L, 1, &failed, d->kv_lora, -1, "layers.%d.self_attn.kv_a_layernorm.weight", i);
        take_lin(L, &failed, &l->kv_b, i, "self_attn.kv_b_proj", NH * (d->nope + d->vd), d->kv_lora, 0);
        take_lin(L, &failed, &l->o, i, "self_attn.o_proj", H, NH * d->vd, 0);
        if (failed) break;
        if (ds_glm_ffn(L, l, &failed, i, i < d->lead, E, H, MI, NS, d->sigmoid ? 0 : -1)) return -1;
    }
    return failed ? -1 : 0;
}

static void ds_qkv(hf_model *m, layer_t *l, int pos) {
    const struct ds_cfg *d = m->ds;
    const int hd = m->head_dim, qk = d->nope + d->rope;
    if (l->q_a.w) {
        matvec(&l->q_a, m->h, d->qa);
        rmsnorm(d->qa, d->qa, l->q_a_norm, d->q_lora, m->eps, 0);
        matvec(&l->q_b, d->qa, m->q);
    } else {
        matvec(&l->q_b, m->h, m->q);
    }
    matvec(&l->kv_a, m->h, d->ca);
    float *kpe = d->ca + d->kv_lora;
    rmsnorm(d->ca, d->ca, l->kv_a_norm, d->kv_lora, m->eps, 0);
    apply_rope_interleaved(kpe, &m->rope_global, pos);
    float *kv = d->kv; /* [n_head][nope + v] */
    matvec(&l->kv_b, d->ca, kv);
    for (int h = 0; h < m->n_head; h++) {
        apply_rope_interleaved(m->q + (size_t)h * qk + d->nope, &m->rope_global, pos);
        float *k = m->k + (size_t)h * hd, *v = m->v + (size_t)h * hd;
        memcpy(k, kv + (size_t)h * (d->nope + d->vd), (size_t)d->nope * sizeof(float));
        memcpy(k + d->nope, kpe, (size_t)d->rope * sizeof(float));
        memcpy(v, kv + (size_t)h * (d->nope + d->vd) + d->nope, (size_t)d->vd * sizeof(float));
        for (int j = d->vd; j < hd; j++) v[j] = 0;
    }
}

static void ds_moe(hf_model *m, layer_t *l, const float *x, float *out) {
    const struct ds_cfg *d = m->ds;
    const int E = m->n_expert;
    float logits[256];
    double sc[256], ch[256];
    int chosen[256] = {0}, idx[256];
    matvec(&l->router, x, logits);
    if (d->sigmoid) {
        for (int e = 0; e < E; e++) sc[e] = (float)(1.0 / (1.0 + exp(-(double)logits[e])));
    } else {
        double mx = -INFINITY, sum = 0;
        for (int e = 0; e < E; e++) mx = fmax(mx, logits[e]);
        for (int e = 0; e < E; e++) sum += sc[e] = exp(logits[e] - mx);
        for (int e = 0; e < E; e++) sc[e] = (float)(sc[e] / sum);
    }
    for (int e = 0; e < E; e++) ch[e] = sc[e] + (l->e_bias ? l->e_bias[e] : 0.0f);
    if (d->n_group > 1 && d->topk_group < d->n_group) { /* groups ranked by the sum of their top two */
        const int per = E / d->n_group;
        double gs[256];
        int keep[256] = {0};
        for (int g = 0; g < d->n_group; g++) {
            double a = -INFINITY, b = -INFINITY;
            for (int j = 0; j < per; j++) {
                const double v = ch[g * per + j];
                if (v > a) b = a, a = v;
                else if (v > b) b = v;
            }
            gs[g] = a + (per > 1 ? b : 0);
        }
        for (int k = 0; k < d->topk_group; k++) {
            int best = -1;
            for (int g = 0; g < d->n_group; g++)
                if (!keep[g] && (best < 0 || gs[g] > gs[best])) best = g;
            keep[best] = 1;
        }
        for (int e = 0; e < E; e++)
            if (!keep[e / per]) ch[e] = 0.0; /* masked_fill(~mask, 0.0) */
    }
    double wsum = 0;
    for (int k = 0; k < m->top_k; k++) {
        int best = -1;
        for (int e = 0; e < E; e++)
            if (!chosen[e] && (best < 0 || ch[e] > ch[best])) best = e;
        chosen[best] = 1, idx[k] = best, wsum += sc[best];
    }
    for (int e = 0; e < E; e++)
        if (!chosen[e] && ch[idx[m->top_k - 1]] - ch[e] < m->route_margin) m->route_margin = ch[idx[m->top_k - 1]] - ch[e];
    for (int i = 0; i < m->hidden; i++) out[i] = 0;
    for (int k = 0; k < m->top_k; k++) {
        const int e = idx[k];
        const float w = (float)((d->norm ? sc[e] / (wsum + 1e-20) : sc[e]) * d->scale);
        mlp(m, &l->w1[e], &l->w3[e], &l->w2[e], x, m->f2);
        for (int i = 0; i < m->hidden; i++) out[i] += m->f2[i] * w;
    }
    if (l->sh_gate.w) {
        mlp(m, &l->sh_gate, &l->sh_up, &l->sh_down, x, m->f2);
        for (int i = 0; i < m->hidden; i++) out[i] += m->f2[i];
    }
}

/* GLM-4.5 (modeling_glm4_moe.py): Glm4MoeAttention (q/k/v biases with attention_bias, per-head q/k RMS norms with
 * use_qk_norm, partial rotate-half rope), dense MLPs in the first first_k_dense_replace layers, then
 * Glm4MoeTopkRouter (V3's: sigmoid, correction bias, groups by top-two sums, norm_topk_prob, routed scale) and
 * the shared experts. The MTP layers after num_hidden_layers are not part of the logits. */
static int glm_load(loader_t *L, const cJSON *cfg) {
    hf_model *m = L->m;
    int failed = 0;
    struct ds_cfg *d = ds_cfg_new(L);
    if (!d) return -1;
    d->sigmoid = 1, d->lead = (int)jnum(cfg, "first_k_dense_replace", 1);
    d->n_group = (int)jnum(cfg, "n_group", 1), d->topk_group = (int)jnum(cfg, "topk_group", 1);
    d->norm = jbool(cfg, "norm_topk_prob", 1), d->scale = jnum(cfg, "routed_scaling_factor", 1.0);
    const int H = m->hidden, hd = m->head_dim, qd = m->n_head * hd, kd = m->n_kv * hd;
    const int E = (int)jnum(cfg, "n_routed_experts", 128), MI = (int)jnum(cfg, "moe_intermediate_size", 0);
    const int NS = (int)jnum(cfg, "n_shared_experts", 1);
    if (E <= 0 || E > 256 || MI <= 0 || d->n_group < 1 || E % d->n_group) {
        hf_set_err(L->err, L->errlen, "config: GLM-4.5 sizes not supported by the reference (%d experts of %d)", E, MI);
        return -1;
    }
    m->n_expert = E, m->top_k = (int)jnum(cfg, "num_experts_per_tok", 8);
    if (MI * (NS > 1 ? NS : 1) > m->inter_max) m->inter_max = MI * (NS > 1 ? NS : 1);
    const int bias = jbool(cfg, "attention_bias", 0), qk_norm = jbool(cfg, "use_qk_norm", 0);
    if (ds_glm_ends(L, cfg, H)) return -1;
    for (int i = 0; i < m->n_layer && !failed; i++) {
        layer_t *l = &m->layers[i];
        l->norm_in = takef(L, 1, &failed, H, -1, "layers.%d.input_layernorm.weight", i);
        if (!failed) l->norm_ffn_in = takef(L, 1, &failed, H, -1, "layers.%d.post_attention_layernorm.weight", i);
        take_lin(L, &failed, &l->q, i, "self_attn.q_proj", qd, H, bias);
        take_lin(L, &failed, &l->k, i, "self_attn.k_proj", kd, H, bias);
        take_lin(L, &failed, &l->v, i, "self_attn.v_proj", kd, H, bias);
        take_lin(L, &failed, &l->o, i, "self_attn.o_proj", H, qd, 0);
        if (!failed && qk_norm) {
            l->q_norm = takef(L, 1, &failed, hd, -1, "layers.%d.self_attn.q_norm.weight", i);
            if (!failed) l->k_norm = takef(L, 1, &failed, hd, -1, "layers.%d.self_attn.k_norm.weight", i);
        }
        if (failed) break;
        if (ds_glm_ffn(L, l, &failed, i, i < d->lead, E, H, MI, NS, 1)) return -1;
    }
    return failed ? -1 : 0;
}

double hf_rel_err(const float *a, const float *b, size_t n) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)a[i] - b[i]));
        mb = fmax(mb, fabs((double)b[i]));
    }
    return mb > 0 ? md / mb : md;
}
