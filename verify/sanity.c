#include "sanity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float_formats.h"
#include "ggml_types.h"

/* Where a block keeps its fp16 scales: up to two offsets. */
static int scale_offsets(uint32_t type, int off[2]) {
    switch (type) {
    case QK_TYPE_Q4_0: case QK_TYPE_Q5_0: case QK_TYPE_Q8_0: case QK_TYPE_IQ4_NL: case QK_TYPE_IQ4_XS:
        off[0] = 0; return 1;
    case QK_TYPE_Q4_1: case QK_TYPE_Q5_1: case QK_TYPE_Q4_K: case QK_TYPE_Q5_K:
        off[0] = 0, off[1] = 2; return 2;
    case QK_TYPE_Q2_K: off[0] = 80, off[1] = 82; return 2;
    case QK_TYPE_Q3_K: off[0] = 108; return 1;
    case QK_TYPE_Q6_K: off[0] = 208; return 1;
    default: return 0;
    }
}

static bool f16_bad(const unsigned char *p) { return ((p[0] | p[1] << 8) & 0x7C00) == 0x7C00; }

int qk_sanity_count_nonfinite(const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t *bad, qk_err *err) {
    *bad = 0;
    const qk_type_info *ti = qk_type_get(t->type);
    int offs[2];
    int n_off = scale_offsets(t->type, offs);
    bool is_float = t->type == QK_TYPE_F32 || t->type == QK_TYPE_F16 || t->type == QK_TYPE_BF16;
    if (!ti || (!is_float && !n_off)) return QK_OK;
    const size_t unit = is_float ? ti->type_size : ti->type_size; /* element or block */
    enum { CH = 1 << 20 };
    size_t chunk = CH / unit * unit;
    unsigned char *buf = malloc(chunk);
    if (!buf) return qk_fail(err, "out of memory");
    for (uint64_t off = 0; off < t->nbytes;) {
        size_t n = t->nbytes - off < chunk ? (size_t)(t->nbytes - off) : chunk;
        if (qk_gguf_read_tensor(f, t, off, buf, n, err)) {
            free(buf);
            return QK_FAIL;
        }
        for (size_t i = 0; i + unit <= n; i += unit) {
            const unsigned char *p = buf + i;
            if (t->type == QK_TYPE_F32) {
                uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
                *bad += (u & 0x7F800000u) == 0x7F800000u;
            } else if (t->type == QK_TYPE_F16) {
                *bad += f16_bad(p);
            } else if (t->type == QK_TYPE_BF16) {
                *bad += ((p[0] | p[1] << 8) & 0x7F80) == 0x7F80;
            } else {
                for (int k = 0; k < n_off; k++) *bad += f16_bad(p + offs[k]);
            }
        }
        off += n;
    }
    free(buf);
    return QK_OK;
}
