/* arch_mamba1.c - the Mamba-1 mixer as MambaModel (conversion/mamba.py) and JambaModel (conversion/jamba.py) write
 * it, shared by arch_mamba.c and arch_jamba.c:
 *   in_proj ([x | z] rows) -> ssm_in, conv1d ([d_inner, 1, K], squeezed, kept F32) -> ssm_conv1d, its bias ->
 *   ssm_conv1d.bias, x_proj ([dt | B | C] rows) -> ssm_x, dt_proj -> ssm_dt (weight and bias), A_log [d_inner,
 *   d_state] -> ssm_a = -exp(A_log), D -> ssm_d, out_proj -> ssm_out; Jamba's RMS norms with weights on dt, B and
 *   C (dt_layernorm, b_layernorm, c_layernorm) -> ssm_dt_norm / ssm_b_norm / ssm_c_norm. */
#include <string.h>

#include "arch_priv.h"

int qk_mamba1_dims_check(const qk_hf_checkpoint *ck, const qk_mamba1_dims *d, qk_err *err) {
    const int64_t lim = (int64_t)1 << 20;
    if (d->d_model <= 0 || d->d_model > lim || d->d_conv <= 0 || d->d_conv > 64 || d->d_state <= 0 ||
        d->d_state > 4096 || d->dt_rank <= 0 || d->dt_rank > lim || d->d_inner <= 0 || d->d_inner > lim)
        return qk_fail(err, "%s/config.json: the Mamba sizes (hidden size, conv kernel, state size, time step rank, "
                            "inner size) should be positive integers in range", ck->dir);
    return QK_OK;
}

int qk_mamba1_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *w,
                     const qk_mamba1_dims *d, bool norms, qk_conv_plan *p, qk_err *err) {
    const qk_st_tensor *s = src->t;
    if (qk_float_check(ck, s, err)) return QK_FAIL;
    const int64_t H = d->d_model, di = d->d_inner, ds = d->d_state, r = d->dt_rank;
    /* one row per tensor: the HF name after the mixer's prefix, its shape, the GGUF name and ne */
    static const struct {
        const char *hf, *gguf;
        int n;      /* dims of the source */
        char shape; /* which sizes: see below */
        bool norm;  /* Jamba's dt / B / C norms */
    } k_map[] = {
        {"in_proj.weight", "ssm_in.weight", 2, 'i', false},   {"conv1d.weight", "ssm_conv1d.weight", 3, 'c', false},
        {"conv1d.bias", "ssm_conv1d.bias", 1, 'd', false},    {"x_proj.weight", "ssm_x.weight", 2, 'x', false},
        {"dt_proj.weight", "ssm_dt.weight", 2, 't', false},   {"dt_proj.bias", "ssm_dt.bias", 1, 'd', false},
        {"A_log", "ssm_a", 2, 'a', false},                    {"D", "ssm_d", 1, 'd', false},
        {"out_proj.weight", "ssm_out.weight", 2, 'o', false}, {"dt_layernorm.weight", "ssm_dt_norm.weight", 1, 'r', true},
        {"b_layernorm.weight", "ssm_b_norm.weight", 1, 's', true}, {"c_layernorm.weight", "ssm_c_norm.weight", 1, 's', true},
    };
    for (size_t i = 0; i < sizeof k_map / sizeof k_map[0]; i++) {
        if (strcmp(w, k_map[i].hf) || (k_map[i].norm && !norms)) continue;
        /* the source's shape, and the GGUF ne (ne0 the row length) */
        int64_t a = 0, b = 0, c = 0, ne0 = 0, ne1 = 0;
        switch (k_map[i].shape) {
        case 'i': a = 2 * di, b = H, ne0 = H, ne1 = 2 * di; break;
        case 'c': a = di, b = 1, c = d->d_conv, ne0 = d->d_conv, ne1 = di; break; /* squeezed */
        case 'd': a = di, ne0 = di; break;
        case 'x': a = r + 2 * ds, b = di, ne0 = di, ne1 = r + 2 * ds; break;
        case 't': a = di, b = r, ne0 = r, ne1 = di; break;
        case 'a': a = di, b = ds, ne0 = ds, ne1 = di; break;
        case 'o': a = H, b = di, ne0 = di, ne1 = H; break;
        case 'r': a = r, ne0 = r; break;
        default: a = ds, ne0 = ds; break;
        }
        if (qk_shape_check(ck, s, k_map[i].n, a, b, c, err)) return QK_FAIL;
        qk_plan_layer_src(p, layer, k_map[i].gguf, src, ne0, ne1)->neg_exp = k_map[i].shape == 'a';
        return 1;
    }
    return qk_fail(err, "%s: unexpected tensor '%s' for %s (not mapped to a llama.cpp tensor: llama.cpp's Mamba has "
                        "no in/out projection biases%s)", ck->dir, s->name, p->hf_arch,
                   norms ? "" : " and no dt / B / C norm weights");
}
