#include "tensor_rows.h"

#include <stdlib.h>
#include <string.h>

#include "float_formats.h"
#include "ggml_types.h"

int qk_st_read_f32(const qk_st_file *f, const qk_st_tensor *t, uint64_t elem0, uint64_t n, float *dst, qk_err *err) {
    if (!qk_st_dtype_is_float(t->dtype))
        return qk_fail(err, "%s: tensor '%s' has dtype %s, expected a float type", f->path, t->name,
                       qk_st_dtype_name(t->dtype));
    if (elem0 > t->n_elements || n > t->n_elements - elem0)
        return qk_fail(err, "%s: tensor '%s': elements %llu..%llu out of range", f->path, t->name,
                       (unsigned long long)elem0, (unsigned long long)(elem0 + n));
    const size_t es = qk_st_dtype_size(t->dtype);
    if (t->dtype == QK_ST_F32) return qk_st_read_raw(f, t, elem0 * 4, (size_t)n * 4, dst, err);
    /* convert in place from the back: narrower types read into the tail */
    unsigned char *raw = (unsigned char *)dst;
    if (es == 8) {
        enum { CH = 4096 };
        double buf[CH];
        for (uint64_t i = 0; i < n; i += CH) {
            size_t k = n - i < CH ? (size_t)(n - i) : CH;
            if (qk_st_read_raw(f, t, (elem0 + i) * 8, k * 8, buf, err)) return QK_FAIL;
            for (size_t j = 0; j < k; j++) dst[i + j] = (float)buf[j];
        }
        return QK_OK;
    }
    unsigned char *tail = raw + n * 4 - n * es;
    if (qk_st_read_raw(f, t, elem0 * es, (size_t)(n * es), tail, err)) return QK_FAIL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (t->dtype == QK_ST_F16 || t->dtype == QK_ST_BF16) {
        /* the SIMD row converters (F16: exact, signaling NaNs quieted as
         * ggml's to_float does), a bounded chunk at a time through a small
         * buffer: elements [i, i + k) of dst end before tail byte 2(n + i + k),
         * so no unread tail byte is overwritten */
        const qk_kernel *k = qk_kernel_active(t->dtype == QK_ST_F16 ? QK_TYPE_F16 : QK_TYPE_BF16);
        enum { CH = 4096 };
        uint16_t buf[CH];
        for (uint64_t i = 0; i < n; i += CH) {
            size_t c = n - i < CH ? (size_t)(n - i) : CH;
            memcpy(buf, tail + i * 2, c * 2);
            k->dequantize(buf, dst + i, (int64_t)c);
        }
        return QK_OK;
    }
#endif
    for (uint64_t i = 0; i < n; i++) { /* front to back: dst[i] never overwrites unread tail bytes */
        const unsigned char *p = tail + i * es;
        float v;
        switch (t->dtype) {
        case QK_ST_F16: v = qk_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); break;
        case QK_ST_BF16: v = qk_bf16_to_fp32((uint16_t)(p[0] | p[1] << 8)); break;
        case QK_ST_F8_E4M3: v = qk_f8_e4m3_to_fp32(p[0]); break;
        default: v = qk_f8_e5m2_to_fp32(p[0]); break;
        }
        dst[i] = v;
    }
    return QK_OK;
}

qk_gguf_rows qk_gguf_rows_of(const qk_gguf_file *f, const qk_gguf_tensor *t) {
    qk_gguf_rows r = {f, t, qk_kernel_active((qk_type)t->type), 0, false};
    qk_row_size(t->type, t->ne[0], &r.row_bytes); /* the reader checked the tensor's shape */
    return r;
}

void qk_gguf_rows_hint(void *rows, int64_t row0, int64_t nrows, qk_advice advice) {
    const qk_gguf_rows *s = rows;
    if (advice == QK_ADVISE_DONE && !s->drop_behind) return;
    qk_gguf_advise(s->f, s->t, (uint64_t)row0 * s->row_bytes, (uint64_t)nrows * s->row_bytes, advice);
}

int qk_gguf_rows_read(void *rows, int64_t row0, int64_t nrows, float *dst, qk_err *err) {
    const qk_gguf_rows *s = rows;
    if (!s->kernel || !s->kernel->dequantize) {
        const qk_type_info *ti = qk_type_get(s->t->type);
        return qk_fail(err, "tensor '%s': quantkit cannot read type %s", s->t->name, ti ? ti->name : "?");
    }
    size_t n = (size_t)(s->row_bytes * (uint64_t)nrows);
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) return qk_fail(err, "tensor '%s': out of memory", s->t->name);
    int rc = qk_gguf_read_tensor(s->f, s->t, (uint64_t)row0 * s->row_bytes, buf, n, err);
    if (rc == QK_OK) {
        const int64_t ne0 = s->t->ne[0];
        for (int64_t r = 0; r < nrows; r++) s->kernel->dequantize(buf + (size_t)r * s->row_bytes, dst + r * ne0, ne0);
    }
    free(buf);
    return rc;
}

int qk_gguf_rows_read_raw(void *rows, uint64_t off, size_t n, void *dst, qk_err *err) {
    const qk_gguf_rows *s = rows;
    return qk_gguf_read_tensor(s->f, s->t, off, dst, n, err);
}
