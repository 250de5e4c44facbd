/* hf_forward_llama4.c - see hf_forward_llama4.h. */
#include "hf_forward_llama4.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_forward.h"
#include "hf_safetensors_min.h"
#include "qk_test.h"

typedef struct {
    hf_st_min *st;
    const char *pre; /* "model." or "language_model.model." */
    char *err;
    size_t errlen;
} src;

/* a copy of tensor <pre><name> with exactly n elements, or NULL (err set) */
static float *get(src *s, const char *name, size_t n, bool whole) {
    char nm[256];
    snprintf(nm, sizeof nm, "%s%s", whole ? "" : s->pre, name);
    int64_t shape[8];
    int nd = 0;
    const float *p = hf_st_min_get(s->st, nm, shape, &nd);
    if (!p) {
        hf_set_err(s->err, s->errlen, "tensor '%s' is missing", nm);
        return NULL;
    }
    size_t cnt = 1;
    for (int i = 0; i < nd; i++) cnt *= (size_t)shape[i];
    if (cnt != n) {
        hf_set_err(s->err, s->errlen, "tensor '%s' has %zu values, expected %zu", nm, cnt, n);
        return NULL;
    }
    float *c = malloc(n * sizeof *c);
    if (c) memcpy(c, p, n * sizeof *c);
    return c;
}

static double num(const cJSON *c, const char *k, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* y[o] = sum_i W[o][i] x[i], W row-major [rows][cols] */
static void matvec(const float *w, const double *x, int rows, int cols, double *y) {
    for (int o = 0; o < rows; o++) {
        double a = 0;
        for (int i = 0; i < cols; i++) a += (double)w[(size_t)o * cols + i] * x[i];
        y[o] = a;
    }
}

static void rmsnorm(const double *x, const float *w, int n, double eps, double *y) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * r * (w ? (double)w[i] : 1.0);
}

static double silu(double x) { return x / (1.0 + exp(-x)); }

/* y = down(silu(gate(h)) * up(h)) of width I (a SwiGLU MLP: the shared expert, the dense layers); g, u: I scratch */
static void swiglu(const float *gate, const float *up, const float *down, const double *h, int I, int H, double *g,
                   double *u, double *y) {
    matvec(gate, h, I, H, g);
    matvec(up, h, I, H, u);
    for (int i = 0; i < I; i++) u[i] *= silu(g[i]);
    matvec(down, u, H, I, y);
}

float *hf_llama4_logits(const char *dir, const int32_t *tokens, int n, int *vocab_out, double *margin, char *err,
                        size_t errlen) {
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    size_t len = 0;
    char *txt = (char *)qk_test_read_file(path, &len);
    cJSON *top = txt ? cJSON_ParseWithLength(txt, len) : NULL;
    free(txt);
    if (!top) {
        hf_set_err(err, errlen, "%s: unreadable", path);
        return NULL;
    }
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(top, "text_config");
    const cJSON *c = cJSON_IsObject(tc) ? tc : top;
    const int V = (int)num(c, "vocab_size", 0), H = (int)num(c, "hidden_size", 0), L = (int)num(c, "num_hidden_layers", 0);
    const int NH = (int)num(c, "num_attention_heads", 0), NKV = (int)num(c, "num_key_value_heads", NH);
    const int HD = (int)num(c, "head_dim", H / (NH ? NH : 1)), E = (int)num(c, "num_local_experts", 0);
    const int K = (int)num(c, "num_experts_per_tok", 1), I = (int)num(c, "intermediate_size", 0);
    const int IM = (int)num(c, "intermediate_size_mlp", 0), step = (int)num(c, "interleave_moe_layer_step", 1);
    const double eps = num(c, "rms_norm_eps", 1e-5), theta = num(c, "rope_theta", 500000);
    const double floor_scale = num(c, "floor_scale", 8192), attn_scale = num(c, "attn_scale", 0.1);
    const int chunk = (int)num(c, "attention_chunk_size", 8192);
    const cJSON *qn = cJSON_GetObjectItemCaseSensitive(c, "use_qk_norm");
    const bool qk_norm = !qn || cJSON_IsTrue(qn);
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(c, "attn_temperature_tuning");
    const bool temp = !tt || cJSON_IsTrue(tt) || (cJSON_IsNumber(tt) && tt->valuedouble != 0);
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(c, "tie_word_embeddings");
    if (!tie) tie = cJSON_GetObjectItemCaseSensitive(top, "tie_word_embeddings");
    const bool tied = cJSON_IsTrue(tie);
    if (V <= 0 || H <= 0 || L <= 0 || NH <= 0 || NKV <= 0 || NH % NKV || HD <= 0 || HD % 2 || E <= 0 || K < 1 ||
        K > E || E > 4096 || I <= 0 || IM <= 0 || step < 1) {
        hf_set_err(err, errlen, "%s: not a Llama 4 text config this reference reads", path);
        cJSON_Delete(top);
        return NULL;
    }
    /* inv_freq, with _compute_llama3_parameters when rope_scaling says llama3 */
    double *inv = malloc((size_t)HD / 2 * sizeof *inv);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(c, "rope_scaling");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    const bool l3 = cJSON_IsString(rt) && !strcmp(rt->valuestring, "llama3");
    const double factor = num(rs, "factor", 8), lf = num(rs, "low_freq_factor", 1), hf = num(rs, "high_freq_factor", 4);
    const double octx = num(rs, "original_max_position_embeddings", 8192);
    for (int i = 0; i < HD / 2; i++) {
        double f = 1.0 / pow(theta, (double)(2 * i) / HD);
        if (l3) {
            const double wl = 2 * M_PI / f;
            if (wl > octx / lf) f /= factor;
            else if (!(wl < octx / hf)) { /* the medium band: smoothed */
                const double sm = (octx / wl - lf) / (hf - lf);
                f = (1 - sm) * f / factor + sm * f;
            }
        }
        inv[i] = f;
    }
    char file[1024];
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    src s = {.st = hf_st_min_open(file, err, errlen), .pre = tc ? "language_model.model." : "model.", .err = err,
             .errlen = errlen};
    float *out = NULL;
    const int QD = NH * HD, KD = NKV * HD;
    double *x = calloc((size_t)n * H, sizeof *x), *h = malloc((size_t)H * sizeof *h);
    double *q = malloc((size_t)n * QD * sizeof *q), *k = malloc((size_t)n * KD * sizeof *k);
    double *v = malloc((size_t)n * KD * sizeof *v), *att = malloc((size_t)QD * sizeof *att);
    double *sc = malloc((size_t)n * sizeof *sc), *o = malloc((size_t)H * sizeof *o);
    const int W = IM > I ? IM : I;
    double *g = malloc((size_t)2 * W * sizeof *g), *u = malloc((size_t)W * sizeof *u), *y = malloc((size_t)H * sizeof *y);
    double *rl = malloc((size_t)E * sizeof *rl), *hx = malloc((size_t)H * sizeof *hx);
    double *worst = malloc((size_t)n * sizeof *worst);
    for (int t = 0; worst && t < n; t++) worst[t] = INFINITY;
    if (!s.st || !worst) goto done;
    float *emb = get(&s, "embed_tokens.weight", (size_t)V * H, false);
    if (!emb) goto done;
    for (int t = 0; t < n; t++) {
        if (tokens[t] < 0 || tokens[t] >= V) {
            hf_set_err(err, errlen, "token %d out of range", tokens[t]);
            free(emb);
            goto done;
        }
        for (int j = 0; j < H; j++) x[(size_t)t * H + j] = emb[(size_t)tokens[t] * H + j];
    }
    for (int l = 0; l < L; l++) {
        char nm[160];
#define T(var, what, cnt) \
    float *var = (snprintf(nm, sizeof nm, "layers.%d.%s", l, what), get(&s, nm, (size_t)(cnt), false))
        T(ln1, "input_layernorm.weight", H);
        T(wq, "self_attn.q_proj.weight", (size_t)QD * H);
        T(wk, "self_attn.k_proj.weight", (size_t)KD * H);
        T(wv, "self_attn.v_proj.weight", (size_t)KD * H);
        T(wo, "self_attn.o_proj.weight", (size_t)H * QD);
        T(ln2, "post_attention_layernorm.weight", H);
        if (!ln1 || !wq || !wk || !wv || !wo || !ln2) goto layer_fail;
        const bool rope = (l + 1) % 4 != 0; /* Llama4TextConfig's default no_rope_layers */
        for (int t = 0; t < n; t++) {
            rmsnorm(x + (size_t)t * H, ln1, H, eps, h);
            matvec(wq, h, QD, H, q + (size_t)t * QD);
            matvec(wk, h, KD, H, k + (size_t)t * KD);
            matvec(wv, h, KD, H, v + (size_t)t * KD);
            for (int hh = 0; hh < NH + NKV; hh++) {
                double *z = hh < NH ? q + (size_t)t * QD + hh * HD : k + (size_t)t * KD + (hh - NH) * HD;
                if (rope) {
                    for (int i = 0; i < HD / 2; i++) { /* (z[2i] + i z[2i+1]) * e^(i t f) */
                        const double a = t * inv[i], cs = cos(a), sn = sin(a), re = z[2 * i], im = z[2 * i + 1];
                        z[2 * i] = re * cs - im * sn, z[2 * i + 1] = re * sn + im * cs;
                    }
                    if (qk_norm) rmsnorm(z, NULL, HD, eps, z);
                } else if (temp && hh < NH) {
                    const double sc2 = log1p(floor((t + 1.0) / floor_scale)) * attn_scale + 1.0;
                    for (int i = 0; i < HD; i++) z[i] *= sc2;
                }
            }
        }
        for (int t = 0; t < n; t++) {
            for (int hh = 0; hh < NH; hh++) {
                const int kvh = hh / (NH / NKV);
                const double *qq = q + (size_t)t * QD + hh * HD;
                double mx = -INFINITY;
                int j0 = rope ? t / chunk * chunk : 0;
                for (int j = j0; j <= t; j++) {
                    double d = 0;
                    for (int i = 0; i < HD; i++) d += qq[i] * k[(size_t)j * KD + kvh * HD + i];
                    sc[j] = d / sqrt((double)HD);
                    mx = fmax(mx, sc[j]);
                }
                double sum = 0;
                for (int j = j0; j <= t; j++) sum += sc[j] = exp(sc[j] - mx);
                for (int i = 0; i < HD; i++) {
                    double a = 0;
                    for (int j = j0; j <= t; j++) a += sc[j] * v[(size_t)j * KD + kvh * HD + i];
                    att[hh * HD + i] = a / sum;
                }
            }
            matvec(wo, att, H, QD, o);
            for (int j = 0; j < H; j++) x[(size_t)t * H + j] += o[j];
        }
        const bool moe = (l + 1) % step == 0;
        if (moe) {
            T(wr, "feed_forward.router.weight", (size_t)E * H);
            T(gu, "feed_forward.experts.gate_up_proj", (size_t)E * H * 2 * I);
            T(dn, "feed_forward.experts.down_proj", (size_t)E * I * H);
            T(sg, "feed_forward.shared_expert.gate_proj.weight", (size_t)I * H);
            T(su, "feed_forward.shared_expert.up_proj.weight", (size_t)I * H);
            T(sd, "feed_forward.shared_expert.down_proj.weight", (size_t)H * I);
            const bool ok = wr && gu && dn && sg && su && sd;
            for (int t = 0; ok && t < n; t++) {
                rmsnorm(x + (size_t)t * H, ln2, H, eps, h);
                /* shared expert */
                swiglu(sg, su, sd, h, I, H, g, u, y);
                /* Llama4Router: top-k of the logits, sigmoid of the chosen ones */
                matvec(wr, h, E, H, rl);
                bool chosen[4096] = {0};
                double last = INFINITY;
                for (int r = 0; r < K; r++) {
                    int b = -1;
                    for (int e = 0; e < E; e++)
                        if (!chosen[e] && (b < 0 || rl[e] > rl[b])) b = e;
                    chosen[b] = true;
                    last = rl[b];
                    const double w = 1.0 / (1.0 + exp(-rl[b]));
                    for (int j = 0; j < H; j++) hx[j] = h[j] * w; /* routed_in = hidden * score */
                    for (int i = 0; i < 2 * I; i++) { /* hx @ gate_up_proj[b] */
                        double a = 0;
                        for (int j = 0; j < H; j++) a += hx[j] * gu[((size_t)b * H + j) * 2 * I + i];
                        g[i] = a;
                    }
                    for (int i = 0; i < I; i++) u[i] = g[I + i] * silu(g[i]);
                    for (int j = 0; j < H; j++) {
                        double a = 0;
                        for (int i = 0; i < I; i++) a += u[i] * dn[((size_t)b * I + i) * H + j];
                        y[j] += a;
                    }
                }
                for (int e = 0; e < E; e++)
                    if (!chosen[e]) worst[t] = fmin(worst[t], last - rl[e]);
                for (int j = 0; j < H; j++) x[(size_t)t * H + j] += y[j];
            }
            free(wr), free(gu), free(dn), free(sg), free(su), free(sd);
            if (!ok) goto layer_fail;
        } else {
            T(fg, "feed_forward.gate_proj.weight", (size_t)IM * H);
            T(fu, "feed_forward.up_proj.weight", (size_t)IM * H);
            T(fd, "feed_forward.down_proj.weight", (size_t)H * IM);
            const bool ok = fg && fu && fd;
            for (int t = 0; ok && t < n; t++) {
                rmsnorm(x + (size_t)t * H, ln2, H, eps, h);
                swiglu(fg, fu, fd, h, IM, H, g, u, y);
                for (int j = 0; j < H; j++) x[(size_t)t * H + j] += y[j];
            }
            free(fg), free(fu), free(fd);
            if (!ok) goto layer_fail;
        }
        free(ln1), free(wq), free(wk), free(wv), free(wo), free(ln2);
        continue;
    layer_fail:
        free(ln1), free(wq), free(wk), free(wv), free(wo), free(ln2), free(emb);
        goto done;
#undef T
    }
    {
        float *fn = get(&s, "norm.weight", (size_t)H, false);
        float *lm = tied ? emb : get(&s, tc ? "language_model.lm_head.weight" : "lm_head.weight", (size_t)V * H, true);
        if (fn && lm && (out = malloc((size_t)n * V * sizeof *out)))
            for (int t = 0; t < n; t++) {
                rmsnorm(x + (size_t)t * H, fn, H, eps, h);
                for (int r = 0; r < V; r++) {
                    double a = 0;
                    for (int j = 0; j < H; j++) a += (double)lm[(size_t)r * H + j] * h[j];
                    out[(size_t)t * V + r] = (float)a;
                }
            }
        free(fn);
        if (lm != emb) free(lm);
        free(emb);
    }
done:
    if (s.st) hf_st_min_close(s.st);
    free(inv), free(x), free(h), free(q), free(k), free(v), free(att), free(sc), free(o), free(g), free(u), free(y),
        free(rl), free(hx);
    cJSON_Delete(top);
    if (out) {
        *vocab_out = V;
        if (margin) memcpy(margin, worst, (size_t)n * sizeof *margin);
    }
    free(worst);
    return out;
}
