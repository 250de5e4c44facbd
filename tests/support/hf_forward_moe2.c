/* hf_forward_moe2.c - see hf_forward_moe2.h. */
#include "hf_forward_moe2.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* transformers' FP4_VALUES (e2m1) */
static const float k_fp4[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

/* A tensor as a malloc'd float copy of exactly the given shape (n dims); NULL if absent (missing = 1) or wrong. */
static float *grab(hf_tensor_get get, void *ctx, const char *name, int n, const int64_t *want, int *missing, char *err,
                   size_t errlen) {
    int64_t shape[8] = {0};
    int nd = 0;
    const float *p = get(ctx, name, shape, &nd);
    *missing = !p;
    if (!p) return NULL;
    size_t cnt = 1;
    int ok = nd == n;
    for (int i = 0; ok && i < n; i++) ok = shape[i] == want[i], cnt *= (size_t)want[i];
    if (!ok) {
        hf_set_err(err, errlen, "tensor '%s' has %d dims of another shape than expected", name, nd);
        return NULL;
    }
    float *c = malloc(cnt * sizeof *c);
    if (c) memcpy(c, p, cnt * sizeof *c);
    else hf_set_err(err, errlen, "out of memory for '%s'", name);
    return c;
}

/* <pre>mlp.experts.<base> as W [E][A][B] (used as x @ W[e]): the float tensor, or the MXFP4 pair dequantized
 * ([E][B][A] there, transposed back). */
static float *expert_matrix(hf_tensor_get get, void *ctx, const char *pre, const char *base, int E, int A, int B,
                            char *err, size_t errlen) {
    char nm[320];
    int missing;
    snprintf(nm, sizeof nm, "%smlp.experts.%s", pre, base);
    const int64_t full[3] = {E, A, B};
    float *w = grab(get, ctx, nm, 3, full, &missing, err, errlen);
    if (w || !missing) return w;
    if (A % 32) {
        hf_set_err(err, errlen, "'%s' is missing and %d columns cannot be MXFP4", nm, A);
        return NULL;
    }
    const int nb = A / 32;
    const int64_t bs[4] = {E, B, nb, 16}, ss[3] = {E, B, nb};
    snprintf(nm, sizeof nm, "%smlp.experts.%s_blocks", pre, base);
    float *blocks = grab(get, ctx, nm, 4, bs, &missing, err, errlen); /* U8 values as floats */
    if (!blocks) {
        if (missing) hf_set_err(err, errlen, "tensor '%s' (or its float form) is missing", nm);
        return NULL;
    }
    snprintf(nm, sizeof nm, "%smlp.experts.%s_scales", pre, base);
    float *scales = grab(get, ctx, nm, 3, ss, &missing, err, errlen);
    if (!scales) {
        if (missing) hf_set_err(err, errlen, "tensor '%s' is missing", nm);
        free(blocks);
        return NULL;
    }
    w = malloc((size_t)E * A * B * sizeof *w);
    if (!w) hf_set_err(err, errlen, "out of memory");
    for (int e = 0; w && e < E; e++)
        for (int r = 0; r < B; r++)
            for (int b = 0; b < nb; b++) {
                const size_t row = ((size_t)e * B + r) * nb + b;
                const int ex = (int)scales[row] - 127;
                for (int j = 0; j < 16; j++) {
                    const unsigned x = (unsigned)blocks[row * 16 + j];
                    const int c = b * 32 + 2 * j;
                    w[((size_t)e * A + c) * B + r] = ldexpf(k_fp4[x & 15], ex);
                    w[((size_t)e * A + c + 1) * B + r] = ldexpf(k_fp4[x >> 4], ex);
                }
            }
    free(blocks), free(scales);
    return w;
}

int hf_gptoss_experts(hf_tensor_get get, void *ctx, const char *pre, int E, int H, int I, float **gate, float **up,
                      float **down, float **gate_b, float **up_b, float **down_b, char *err, size_t errlen) {
    *gate = *up = *down = *gate_b = *up_b = *down_b = NULL;
    float *gu = expert_matrix(get, ctx, pre, "gate_up_proj", E, H, 2 * I, err, errlen);
    float *dn = gu ? expert_matrix(get, ctx, pre, "down_proj", E, I, H, err, errlen) : NULL;
    char nm[320];
    int missing;
    const int64_t gbs[2] = {E, 2 * I}, dbs[2] = {E, H};
    snprintf(nm, sizeof nm, "%smlp.experts.gate_up_proj_bias", pre);
    float *gub = dn ? grab(get, ctx, nm, 2, gbs, &missing, err, errlen) : NULL;
    if (dn && !gub && missing) hf_set_err(err, errlen, "tensor '%s' is missing", nm);
    snprintf(nm, sizeof nm, "%smlp.experts.down_proj_bias", pre);
    float *db = gub ? grab(get, ctx, nm, 2, dbs, &missing, err, errlen) : NULL;
    if (gub && !db && missing) hf_set_err(err, errlen, "tensor '%s' is missing", nm);
    int rc = -1;
    if (db) {
        *gate = malloc((size_t)E * I * H * sizeof(float)), *up = malloc((size_t)E * I * H * sizeof(float));
        *down = malloc((size_t)E * H * I * sizeof(float));
        *gate_b = malloc((size_t)E * I * sizeof(float)), *up_b = malloc((size_t)E * I * sizeof(float));
        *down_b = db, db = NULL;
        if (*gate && *up && *down && *gate_b && *up_b) {
            for (int e = 0; e < E; e++) {
                for (int i = 0; i < I; i++) {
                    for (int h = 0; h < H; h++) { /* gate_up[e][h][2i (+1)] */
                        (*gate)[((size_t)e * I + i) * H + h] = gu[((size_t)e * H + h) * 2 * I + 2 * i];
                        (*up)[((size_t)e * I + i) * H + h] = gu[((size_t)e * H + h) * 2 * I + 2 * i + 1];
                    }
                    (*gate_b)[(size_t)e * I + i] = gub[(size_t)e * 2 * I + 2 * i];
                    (*up_b)[(size_t)e * I + i] = gub[(size_t)e * 2 * I + 2 * i + 1];
                }
                for (int h = 0; h < H; h++)
                    for (int i = 0; i < I; i++) (*down)[((size_t)e * H + h) * I + i] = dn[((size_t)e * I + i) * H + h];
            }
            rc = 0;
        } else {
            hf_set_err(err, errlen, "out of memory");
        }
    }
    free(gu), free(dn), free(gub), free(db);
    if (rc) {
        free(*gate), free(*up), free(*down), free(*gate_b), free(*up_b), free(*down_b);
        *gate = *up = *down = *gate_b = *up_b = *down_b = NULL;
    }
    return rc;
}
