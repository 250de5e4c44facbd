/* arch_mamba2.c - the Mamba-2 mixer as GraniteHybridModel (conversion/granite.py) and the classes derived from it
 * (NemotronHModel, conversion/nemotron.py) write it, shared by arch_granitehybrid.c and arch_nemotronh.c:
 *   in_proj ([z | xBC | dt] rows) -> ssm_in, conv1d ([channels, 1, K], squeezed, kept F32) -> ssm_conv1d, its bias
 *   -> ssm_conv1d.bias, dt_bias -> ssm_dt.bias, A_log -> ssm_a = -exp(A_log) as [n_heads, 1] (ggml {1, n_heads}),
 *   D -> ssm_d likewise, norm (d_inner) -> ssm_norm reshaped [n_groups, d_inner / n_groups], out_proj -> ssm_out;
 * the sizes as the converter finds them (find_hparam: a key, then "mamba_" + the key) and its five ssm.* KVs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_priv.h"

bool qk_mamba2_hparam(const cJSON *c, const char *const *keys, int64_t *v) {
    for (int pass = 0; pass < 2; pass++)
        for (const char *const *k = keys; *k; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", pass ? "mamba_" : "", *k);
            if (cJSON_GetObjectItemCaseSensitive(c, name)) return qk_hf_cfg_int(c, name, v);
        }
    return false;
}

int qk_mamba2_dims_of(const qk_hf_checkpoint *ck, bool inner_by_heads, qk_mamba2_dims *d, qk_err *err) {
    static const char *const k_embd[] = {"mamba_head_dim", "hidden_size", "d_model", NULL};
    static const char *const k_conv[] = {"conv_kernel", "d_conv", NULL};
    static const char *const k_state[] = {"state_size", "d_state", "state_dim", "ssm_state_size", NULL};
    static const char *const k_group[] = {"n_groups", "num_groups", NULL};
    static const char *const k_heads[] = {"n_heads", "num_heads", NULL};
    static const char *const k_expand[] = {"expand", "num_heads", NULL};
    static const char *const k_dhead[] = {"d_head", NULL};
    const char *const *lists[] = {k_embd, k_conv, k_state, k_group, k_heads, inner_by_heads ? k_heads : k_expand};
    static const char *const what[] = {"hidden_size (or mamba_head_dim)", "conv_kernel (or mamba_d_conv)",
                                       "ssm_state_size (or mamba_d_state)", "n_groups (or mamba_n_groups)",
                                       "mamba_n_heads (or mamba_num_heads)", "mamba_expand"};
    int64_t v[6];
    for (int i = 0; i < 6; i++)
        if (!qk_mamba2_hparam(ck->config, lists[i], &v[i]) || v[i] <= 0 || v[i] > ((int64_t)1 << 20))
            return qk_fail(err, "%s/config.json: '%s' should be a positive integer (at most 2^20)", ck->dir,
                           what[i == 5 && inner_by_heads ? 4 : i]);
    d->d_model = v[0], d->d_conv = v[1], d->d_state = v[2], d->n_group = v[3], d->n_head = v[4], d->expand = v[5];
    d->d_inner = v[5] * v[0]; /* the converter's d_model: mamba_head_dim if given, else hidden_size */
    if (!qk_mamba2_hparam(ck->config, k_dhead, &d->d_head) || d->d_head <= 0) d->d_head = 0;
    if (!qk_hf_cfg_int(ck->config, "hidden_size", &d->n_embd) || d->n_embd <= 0)
        return qk_fail(err, "%s/config.json: 'hidden_size' should be a positive integer", ck->dir);
    if (d->d_inner % d->n_group || d->n_head % d->n_group)
        return qk_fail(err, "%s/config.json: the inner size %lld and %lld heads do not split into %lld groups", ck->dir,
                       (long long)d->d_inner, (long long)d->n_head, (long long)d->n_group);
    return QK_OK;
}

qk_conv_tensor *qk_plan_layer_src(qk_conv_plan *p, int layer, const char *gguf, const qk_hf_tensor *src, int64_t ne0,
                                  int64_t ne1) {
    qk_conv_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "blk.%d.%s", layer, gguf);
    t->src = src;
    t->n_dims = ne1 ? 2 : 1;
    t->ne[0] = ne0, t->ne[1] = ne1 ? ne1 : 1, t->ne[2] = t->ne[3] = 1;
    /* the converter's F32 set: 1-D, *_norm.weight, SSM_CONV1D, names not ending in .weight (ssm_a, ssm_d) */
    t->keep_f32 =
        t->n_dims == 1 || strstr(gguf, "_norm.weight") || strstr(gguf, "ssm_conv1d") || !strstr(gguf, ".weight");
    p->n_params += (uint64_t)t->ne[0] * (uint64_t)t->ne[1];
    return t;
}

int qk_shape_check(const qk_hf_checkpoint *ck, const qk_st_tensor *s, int n, int64_t a, int64_t b, int64_t c,
                   qk_err *err) {
    const int64_t want[3] = {a, b, c};
    bool ok = s->n_dims == n;
    for (int i = 0; ok && i < n; i++) ok = s->shape[i] == want[i];
    if (ok) return QK_OK;
    char sh[96];
    int k = snprintf(sh, sizeof sh, "%lld", (long long)a);
    for (int i = 1; i < n && k > 0 && k < (int)sizeof sh; i++)
        k += snprintf(sh + k, sizeof sh - (size_t)k, ", %lld", (long long)want[i]);
    return qk_fail(err, "%s: tensor '%s' should be [%s] for the config's sizes", ck->dir, s->name, sh);
}

int qk_mamba2_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *w,
                     const qk_mamba2_dims *d, qk_conv_plan *p, qk_err *err) {
    const qk_st_tensor *s = src->t;
    if (qk_float_check(ck, s, err)) return QK_FAIL;
    const int64_t conv_dim = d->d_inner + 2 * d->n_group * d->d_state;
#define SHAPE(n, a, b, c)                                                                                             \
    if (qk_shape_check(ck, s, n, a, b, c, err)) return QK_FAIL;
    if (!strcmp(w, "in_proj.weight")) {
        SHAPE(2, d->d_inner + conv_dim + d->n_head, d->n_embd, 0);
        qk_plan_layer_src(p, layer, "ssm_in.weight", src, d->n_embd, s->shape[0]);
    } else if (!strcmp(w, "conv1d.weight")) {
        SHAPE(3, conv_dim, 1, d->d_conv);
        qk_plan_layer_src(p, layer, "ssm_conv1d.weight", src, d->d_conv, conv_dim); /* squeezed */
    } else if (!strcmp(w, "conv1d.bias")) {
        SHAPE(1, conv_dim, 0, 0);
        qk_plan_layer_src(p, layer, "ssm_conv1d.bias", src, conv_dim, 0);
    } else if (!strcmp(w, "dt_bias")) {
        SHAPE(1, d->n_head, 0, 0);
        qk_plan_layer_src(p, layer, "ssm_dt.bias", src, d->n_head, 0);
    } else if (!strcmp(w, "A_log") || !strcmp(w, "D")) {
        SHAPE(1, d->n_head, 0, 0);
        qk_plan_layer_src(p, layer, w[0] == 'A' ? "ssm_a" : "ssm_d", src, 1, d->n_head)->neg_exp = w[0] == 'A';
    } else if (!strcmp(w, "norm.weight")) {
        SHAPE(1, d->d_inner, 0, 0);
        qk_plan_layer_src(p, layer, "ssm_norm.weight", src, d->d_inner / d->n_group, d->n_group);
    } else if (!strcmp(w, "out_proj.weight")) {
        SHAPE(2, d->n_embd, d->d_inner, 0);
        qk_plan_layer_src(p, layer, "ssm_out.weight", src, d->d_inner, d->n_embd);
    } else {
        return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor: llama.cpp's Mamba-2 "
                            "has no in/out projection biases)", ck->dir, s->name, p->hf_arch);
    }
#undef SHAPE
    return 1;
}

int qk_mamba2_kvs(qk_gguf_writer *w, const qk_conv_plan *p, const qk_mamba2_dims *d, qk_err *err) {
    static const char *const keys[] = {"ssm.conv_kernel", "ssm.state_size", "ssm.group_count", "ssm.inner_size",
                                       "ssm.time_step_rank"};
    const int64_t v[] = {d->d_conv, d->d_state, d->n_group, d->d_inner, d->n_head};
    int rc = QK_OK;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) rc |= qk_arch_kv_u32(w, p, keys[i], (uint32_t)v[i], err);
    return rc ? QK_FAIL : QK_OK;
}

int qk_mamba2_check_dt_limit(const qk_hf_checkpoint *ck, qk_err *err) {
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(ck->config, "time_step_limit");
    if (!cJSON_IsArray(tl) || cJSON_GetArraySize(tl) != 2) return QK_OK;
    const cJSON *lo = cJSON_GetArrayItem(tl, 0), *hi = cJSON_GetArrayItem(tl, 1);
    if (!cJSON_IsNumber(lo) || lo->valuedouble > 0 || (cJSON_IsNumber(hi) && isfinite(hi->valuedouble)))
        return qk_fail(err, "%s/config.json: time_step_limit clamps dt, which llama.cpp's Mamba-2 does not (expected "
                            "[0.0, inf])", ck->dir);
    return QK_OK;
}
