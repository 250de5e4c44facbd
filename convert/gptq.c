#include "gptq.h"
#include "str_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_rows.h"

int qk_gptq_read_config(const char *dir, const cJSON *q, qk_gptq_config *cfg, qk_err *err) {
    int64_t bits = 0;
    if (!qk_hf_cfg_int(q, "bits", &bits))
        return qk_fail(err, "%s/config.json: quantization_config (gptq) has no integer 'bits'", dir);
    if (bits == 3)
        return qk_fail(err, "%s/config.json: 3-bit GPTQ weights are not supported (llama.cpp's converter refuses them "
                            "too); convert the original float checkpoint", dir);
    if (bits != 2 && bits != 4 && bits != 8)
        return qk_fail(err, "%s/config.json: quantization_config.bits is %lld, expected 2, 4 or 8 for GPTQ", dir,
                       (long long)bits);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(q, "checkpoint_format");
    int off = 1;
    if (f && !cJSON_IsNull(f)) {
        if (!cJSON_IsString(f) || (strcmp(f->valuestring, "gptq") && strcmp(f->valuestring, "gptq_v2")))
            return qk_fail(err, "%s/config.json: quantization_config.checkpoint_format '%s' is not supported, expected "
                                "\"gptq\" or \"gptq_v2\"", dir, cJSON_IsString(f) ? f->valuestring : "(not a string)");
        off = !strcmp(f->valuestring, "gptq");
    }
    cfg->bits = (int)bits;
    cfg->zero_offset = off;
    return QK_OK;
}

bool qk_gptq_is_part(const qk_hf_checkpoint *ck, const char *name) {
    static const char *const sfx[3] = {".qzeros", ".scales", ".g_idx"};
    for (int i = 0; i < 3; i++) {
        if (!qk_str_ends_with(name, sfx[i])) continue;
        char nm[512];
        const size_t base = strlen(name) - strlen(sfx[i]);
        return snprintf(nm, sizeof nm, "%.*s.qweight", (int)base, name) < (int)sizeof nm && qk_hf_find(ck, nm);
    }
    return false;
}

static const qk_hf_tensor *sibling(const qk_hf_checkpoint *ck, const char *qweight, const char *suffix) {
    char nm[512];
    const size_t base = strlen(qweight) - strlen(".qweight");
    if (snprintf(nm, sizeof nm, "%.*s%s", (int)base, qweight, suffix) >= (int)sizeof nm) return NULL;
    return qk_hf_find(ck, nm);
}

int qk_gptq_bind(const qk_hf_checkpoint *ck, const qk_hf_tensor *qw, qk_gptq_config cfg, qk_gptq *g, qk_err *err) {
    memset(g, 0, sizeof *g);
    const char *n = qw->t->name;
    static const char *const sfx[3] = {".qzeros", ".scales", ".g_idx"};
    const qk_hf_tensor *part[3];
    for (int i = 0; i < 3; i++)
        if (!(part[i] = sibling(ck, n, sfx[i])))
            return qk_fail(err, "%s: GPTQ tensor '%s' has no %s beside it", ck->dir, n, sfx[i] + 1);
    const qk_st_tensor *w = qw->t, *z = part[0]->t, *s = part[1]->t, *gi = part[2]->t;
    const int64_t pack = 32 / cfg.bits;
    if (w->dtype != QK_ST_I32 || z->dtype != QK_ST_I32 || gi->dtype != QK_ST_I32)
        return qk_fail(err, "%s: GPTQ layer '%s': qweight, qzeros and g_idx must be I32 (they are %s, %s, %s)", ck->dir,
                       n, qk_st_dtype_name(w->dtype), qk_st_dtype_name(z->dtype), qk_st_dtype_name(gi->dtype));
    if (!qk_st_dtype_is_float(s->dtype))
        return qk_fail(err, "%s: GPTQ scales of '%s' have dtype %s, expected a float type", ck->dir, n,
                       qk_st_dtype_name(s->dtype));
    if (w->n_dims != 2 || z->n_dims != 2 || s->n_dims != 2 || gi->n_dims != 1)
        return qk_fail(err, "%s: GPTQ layer '%s': expected 2-D qweight, qzeros, scales and 1-D g_idx", ck->dir, n);
    const int64_t P = w->shape[0], O = w->shape[1], G = s->shape[0];
    if (P < 1 || O < 1 || G < 1 || P > INT64_MAX / pack)
        return qk_fail(err, "%s: GPTQ qweight '%s' has an empty or absurd shape", ck->dir, n);
    const int64_t in = P * pack;
    if (s->shape[1] != O || z->shape[0] != G || z->shape[1] * pack != O || gi->shape[0] != in)
        return qk_fail(err,
                       "%s: GPTQ layer '%s': shapes do not fit %d-bit packing (qweight %lld x %lld -> %lld inputs x "
                       "%lld outputs; expected scales %lld x %lld, qzeros %lld x %lld, g_idx %lld; got scales %lld x "
                       "%lld, qzeros %lld x %lld, g_idx %lld)",
                       ck->dir, n, cfg.bits, (long long)P, (long long)O, (long long)in, (long long)O, (long long)G,
                       (long long)O, (long long)G, (long long)(O / pack), (long long)in, (long long)s->shape[0],
                       (long long)s->shape[1], (long long)z->shape[0], (long long)z->shape[1], (long long)gi->shape[0]);
    *g = (qk_gptq){.qweight = qw, .qzeros = part[0], .scales = part[1], .g_idx = part[2], .cfg = cfg,
                   .rows = O, .cols = in, .groups = G};
    return QK_OK;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Raw int32 values [e0, e0 + n) of t, as host uint32. */
static int read_u32(const qk_hf_checkpoint *ck, const qk_hf_tensor *t, int64_t e0, int64_t n, uint32_t *dst,
                    qk_err *err) {
    if (qk_st_read_raw(ck->files[t->file], t->t, (uint64_t)e0 * 4, (size_t)n * 4, dst, err)) return QK_FAIL;
    for (int64_t i = 0; i < n; i++) dst[i] = le32((const uint8_t *)&dst[i]);
    return QK_OK;
}

/* Bounded memory: at most this many qweight words in one chunk. */
#define GPTQ_CHUNK_WORDS (1 << 21)

int qk_gptq_read_rows(const qk_hf_checkpoint *ck, const qk_gptq *g, const int64_t *src_rows, int64_t n, float *dst,
                      qk_err *err) {
    const int bits = g->cfg.bits, pack = 32 / bits;
    const uint32_t maxq = (1u << bits) - 1;
    const int64_t in = g->cols, P = in / pack, O = g->rows, G = g->groups, ZO = O / pack;
    int64_t span_max = GPTQ_CHUNK_WORDS / P;
    if (span_max < 1) span_max = 1;
    uint32_t *gidx = malloc((size_t)in * 4);
    uint32_t *qw = malloc((size_t)(P * (span_max < O ? span_max : O)) * 4);
    float *sc = malloc((size_t)(G * (span_max < O ? span_max : O)) * 4);
    uint32_t *zz = malloc((size_t)(G * (span_max / pack + 2 < ZO ? span_max / pack + 2 : ZO)) * 4);
    int rc = QK_OK;
    if (!gidx || !qw || !sc || !zz) {
        rc = qk_fail(err, "out of memory");
        goto done;
    }
    if ((rc = read_u32(ck, g->g_idx, 0, in, gidx, err))) goto done;
    for (int64_t k = 0; k < in; k++)
        if (gidx[k] >= (uint64_t)G) {
            rc = qk_fail(err, "%s: GPTQ '%s': g_idx[%lld] is %d, expected a group in [0, %lld)", ck->dir,
                         g->g_idx->t->name, (long long)k, (int32_t)gidx[k], (long long)G);
            goto done;
        }
    for (int64_t i = 0; i < n;) {
        /* a chunk of requested rows whose source rows lie within span_max columns */
        int64_t lo = src_rows[i], hi = src_rows[i], j = i;
        while (j < n) {
            const int64_t a = src_rows[j] < lo ? src_rows[j] : lo, b = src_rows[j] > hi ? src_rows[j] : hi;
            if (b - a + 1 > span_max) break;
            lo = a, hi = b, j++;
        }
        if (lo < 0 || hi >= O) {
            rc = qk_fail(err, "%s: GPTQ '%s': row %lld out of range [0, %lld)", ck->dir, g->qweight->t->name,
                         (long long)(lo < 0 ? lo : hi), (long long)O);
            goto done;
        }
        const int64_t span = hi - lo + 1, z0 = lo / pack, zspan = hi / pack - z0 + 1;
        for (int64_t p = 0; p < P && rc == QK_OK; p++) rc = read_u32(ck, g->qweight, p * O + lo, span, qw + p * span, err);
        for (int64_t q = 0; q < G && rc == QK_OK; q++) {
            rc = read_u32(ck, g->qzeros, q * ZO + z0, zspan, zz + q * zspan, err);
            if (rc == QK_OK)
                rc = qk_st_read_f32(ck->files[g->scales->file], g->scales->t, (uint64_t)(q * O + lo), (uint64_t)span,
                                    sc + q * span, err);
        }
        if (rc) goto done;
        for (; i < j; i++) {
            const int64_t o = src_rows[i] - lo, zc = src_rows[i] / pack - z0;
            const int zs = (int)(src_rows[i] % pack) * bits;
            float *row = dst + i * in;
            for (int64_t k = 0; k < in; k++) {
                const uint32_t grp = gidx[k];
                const int32_t q = (int32_t)((qw[(k / pack) * span + o] >> ((k % pack) * bits)) & maxq);
                const int32_t z = (int32_t)((zz[grp * zspan + zc] >> zs) & maxq) + g->cfg.zero_offset;
                row[k] = sc[grp * span + o] * (float)(q - z);
            }
        }
    }
done:
    free(gidx), free(qw), free(sc), free(zz);
    return rc;
}
