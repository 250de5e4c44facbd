/* The streaming engine: output equals a direct whole-tensor conversion for
 * any thread count and chunk size, experts never straddle items, copies and
 * errors propagate. */
#include "float_formats.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "tensor_pipeline.h"

typedef struct { const float *data; int64_t ne0; int fail_row; } src_t;

static int read_rows(void *ctx, int64_t row0, int64_t nrows, float *dst, qk_err *err) {
    src_t *s = ctx;
    if (s->fail_row >= 0 && row0 <= s->fail_row && s->fail_row < row0 + nrows)
        return qk_fail(err, "read error at row %d", s->fail_row);
    memcpy(dst, s->data + row0 * s->ne0, (size_t)(nrows * s->ne0) * sizeof(float));
    return QK_OK;
}

static int read_raw(void *ctx, uint64_t off, size_t n, void *dst, qk_err *err) {
    (void)err;
    memcpy(dst, (const unsigned char *)((src_t *)ctx)->data + off, n);
    return QK_OK;
}

typedef struct { unsigned char *buf; size_t len, cap; } sink_t;

static int sink(void *ctx, const void *data, size_t n, qk_err *err) {
    sink_t *s = ctx;
    if (s->len + n > s->cap) return qk_fail(err, "sink overflow");
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return QK_OK;
}

/* A row-local stand-in quantizer for 32-wide rows of a 36-byte row type
 * (Q8_1's size): it records the first imatrix weight it was given for each
 * row, so the test can see which expert slice each row got. */
static size_t probe_quantize(const float *src, void *dst, int64_t nrows, int64_t n, const float *im) {
    (void)src, (void)n;
    unsigned char *o = dst;
    for (int64_t r = 0; r < nrows; r++) {
        float w = im ? im[0] : -1.0f;
        memset(o + r * 36, 0, 36);
        memcpy(o + r * 36, &w, 4);
    }
    return (size_t)nrows * 36;
}

static void test_experts_get_their_imatrix_slice(void) {
    /* ne = [32 cols, 300 rows per expert, 3 experts]: row r must see slice r/300 */
    enum { W = 32, NE1 = 300, NE2 = 3 };
    static float xw[W * NE1 * NE2];
    for (int i = 0; i < W * NE1 * NE2; i++) xw[i] = 1.0f;
    float imw[W * NE2];
    for (int e = 0; e < NE2; e++)
        for (int i = 0; i < W; i++) imw[e * W + i] = (float)(e + 1);
    static unsigned char outw[36 * NE1 * NE2];
    src_t srcw = {xw, W, -1};
    for (int threads = 1; threads <= 3; threads++) {
        qk_tensor_job jw = {.name = "exps", .ne = {W, NE1, NE2, 1}, .out_type = QK_TYPE_Q8_1,
                            .quantize = probe_quantize, .imatrix = imw, .read_rows = read_rows, .src_ctx = &srcw};
        qk_pipeline_opts o = {.n_threads = threads, .chunk_bytes = 4096};
        sink_t s = {outw, 0, sizeof outw};
        qk_err err;
        CHECK(qk_tensor_job_run(&jw, &o, sink, &s, &err) == QK_OK);
        int bad = 0;
        for (int row = 0; row < NE1 * NE2; row++) {
            float got;
            memcpy(&got, outw + (size_t)row * 36, 4);
            bad += got != (float)(row / NE1 + 1);
        }
        CHECK_EQ_INT(bad, 0);
    }
}

static void test_f16_any_threads_and_chunks(void) {
    enum { NE0 = 96, ROWS = 517 };
    static float x[NE0 * ROWS];
    qk_rng r = {42};
    for (int i = 0; i < NE0 * ROWS; i++) x[i] = qk_rng_gauss(&r);
    static uint16_t want[NE0 * ROWS];
    qk_fp32_to_fp16_row(x, want, NE0 * ROWS);
    static unsigned char out[NE0 * ROWS * 2];
    src_t src = {x, NE0, -1};
    for (int threads = 1; threads <= 4; threads++) {
        for (size_t chunk = 1000; chunk <= 1000000; chunk *= 10) {
            qk_tensor_job job = {.name = "t", .ne = {NE0, ROWS, 1, 1}, .out_type = QK_TYPE_F16,
                                 .read_rows = read_rows, .src_ctx = &src};
            qk_pipeline_opts o = {.n_threads = threads, .chunk_bytes = chunk};
            sink_t s = {out, 0, sizeof out};
            qk_err err;
            CHECK(qk_tensor_job_run(&job, &o, sink, &s, &err) == QK_OK);
            CHECK_EQ_INT(s.len, sizeof out);
            CHECK_MSG(memcmp(out, want, sizeof out) == 0, "threads %d chunk %zu", threads, chunk);
        }
    }
}

static void test_raw_copy_and_errors(void) {
    enum { NE0 = 64, ROWS = 40 };
    static float x[NE0 * ROWS];
    for (int i = 0; i < NE0 * ROWS; i++) x[i] = (float)i;
    static unsigned char out[NE0 * ROWS * 4];
    src_t src = {x, NE0, -1};
    qk_tensor_job job = {.name = "copy", .ne = {NE0, ROWS, 1, 1}, .out_type = QK_TYPE_F32,
                         .read_raw = read_raw, .src_ctx = &src};
    qk_pipeline_opts o = {.n_threads = 2, .chunk_bytes = 1000};
    sink_t s = {out, 0, sizeof out};
    qk_err err;
    CHECK(qk_tensor_job_run(&job, &o, sink, &s, &err) == QK_OK);
    CHECK(memcmp(out, x, sizeof out) == 0);

    src.fail_row = 33;
    qk_tensor_job bad = {.name = "t", .ne = {NE0, ROWS, 1, 1}, .out_type = QK_TYPE_F16,
                         .read_rows = read_rows, .src_ctx = &src};
    s.len = 0;
    CHECK(qk_tensor_job_run(&bad, &o, sink, &s, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "read error at row 33");

    qk_tensor_job odd = {.name = "odd", .ne = {33, 2, 1, 1}, .out_type = QK_TYPE_Q4_0,
                         .read_rows = read_rows, .src_ctx = &src};
    uint64_t nb;
    CHECK(qk_tensor_job_out_bytes(&odd, &nb, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not a multiple of q4_0's block size 32");
}

/* Advice: every row is announced (WILLNEED) once, before any worker reads
 * it, and released (DONE) once, after it was read; the output is the same
 * as without advice. */
enum { H_NE0 = 4096, H_ROWS = 100 }; /* 4 rows an item, 8 a chunk: 13 chunks */
typedef struct {
    src_t src;
    int willneed[H_ROWS], done[H_ROWS], read[H_ROWS];
    int read_before_hint, done_before_read, out_of_order;
    int64_t next_hint;
} hint_src;

static int hinted_read(void *ctx, int64_t row0, int64_t nrows, float *dst, qk_err *err) {
    hint_src *h = ctx;
    for (int64_t r = row0; r < row0 + nrows; r++) {
        h->read_before_hint += !h->willneed[r];
        __atomic_add_fetch(&h->read[r], 1, __ATOMIC_SEQ_CST);
    }
    return read_rows(&h->src, row0, nrows, dst, err);
}

static void hint(void *ctx, int64_t row0, int64_t nrows, qk_advice advice) {
    hint_src *h = ctx;
    for (int64_t r = row0; r < row0 + nrows; r++) {
        if (advice == QK_ADVISE_WILLNEED) {
            h->willneed[r]++;
        } else {
            h->done[r]++;
            h->done_before_read += !h->read[r];
        }
    }
    if (advice == QK_ADVISE_WILLNEED) {
        h->out_of_order += row0 != h->next_hint;
        h->next_hint = row0 + nrows;
    }
}

static void test_read_advice(void) {
    static float x[H_NE0 * H_ROWS];
    qk_rng r = {7};
    for (int i = 0; i < H_NE0 * H_ROWS; i++) x[i] = qk_rng_gauss(&r);
    static unsigned char plain[H_NE0 * H_ROWS * 2], advised[H_NE0 * H_ROWS * 2];
    for (int threads = 1; threads <= 3; threads++) {
        static hint_src h;
        memset(&h, 0, sizeof h);
        h.src = (src_t){x, H_NE0, -1};
        qk_pipeline_opts o = {.n_threads = threads, .chunk_bytes = 20000};
        qk_err err;
        qk_tensor_job job = {.name = "t", .ne = {H_NE0, H_ROWS, 1, 1}, .out_type = QK_TYPE_F16,
                             .read_rows = read_rows, .src_ctx = &h.src};
        sink_t s = {plain, 0, sizeof plain};
        CHECK(qk_tensor_job_run(&job, &o, sink, &s, &err) == QK_OK);
        job.read_rows = hinted_read, job.hint = hint, job.src_ctx = &h;
        s = (sink_t){advised, 0, sizeof advised};
        CHECK(qk_tensor_job_run(&job, &o, sink, &s, &err) == QK_OK);
        CHECK(memcmp(plain, advised, sizeof plain) == 0);
        int bad = 0;
        for (int row = 0; row < H_ROWS; row++) bad += h.willneed[row] != 1 || h.done[row] != 1 || h.read[row] != 1;
        CHECK_MSG(bad == 0, "threads %d: %d rows not hinted, released and read exactly once", threads, bad);
        CHECK_EQ_INT(h.read_before_hint, 0);
        CHECK_EQ_INT(h.done_before_read, 0);
        CHECK_EQ_INT(h.out_of_order, 0);
    }
}

/* A failing write (the sink runs on the write-behind thread) fails the job
 * with the sink's message. */
typedef struct { int calls, fail_at; } failing_sink;

static int fail_sink(void *ctx, const void *data, size_t n, qk_err *err) {
    (void)data, (void)n;
    failing_sink *f = ctx;
    if (f->calls++ == f->fail_at) return qk_fail(err, "no space left at write %d", f->fail_at);
    return QK_OK;
}

static void test_write_failure(void) {
    enum { NE0 = 16384, ROWS = 40 }; /* one row an item, two a chunk: 20 writes */
    static float x[NE0 * ROWS];
    src_t src = {x, NE0, -1};
    for (int fail_at = 0; fail_at < 4; fail_at++) {
        failing_sink f = {0, fail_at};
        qk_tensor_job job = {.name = "t", .ne = {NE0, ROWS, 1, 1}, .out_type = QK_TYPE_F16,
                             .read_rows = read_rows, .src_ctx = &src};
        qk_pipeline_opts o = {.n_threads = 2, .chunk_bytes = 8192};
        qk_err err = {0};
        CHECK(qk_tensor_job_run(&job, &o, fail_sink, &f, &err) == QK_FAIL);
        CHECK_CONTAINS(err.msg, "no space left at write");
        CHECK(f.calls == fail_at + 1);
        qk_tensor_job raw = {.name = "copy", .ne = {NE0, ROWS, 1, 1}, .out_type = QK_TYPE_F32,
                             .read_raw = read_raw, .src_ctx = &src};
        f = (failing_sink){0, fail_at};
        CHECK(qk_tensor_job_run(&raw, &o, fail_sink, &f, &err) == QK_FAIL);
        CHECK(f.calls == fail_at + 1);
    }
}

int main(void) {
    RUN(test_f16_any_threads_and_chunks);
    RUN(test_experts_get_their_imatrix_slice);
    RUN(test_raw_copy_and_errors);
    RUN(test_read_advice);
    RUN(test_write_failure);
    return qk_test_summary();
}
