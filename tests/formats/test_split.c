/* split and merge: shards in gguf-split's layout that llama.cpp loads as a
 * set and computes with exactly as with the single file; verify checks the
 * set; merge restores every tensor byte for byte. */
#include "gguf.h"
#include "gguf_compare.h"
#include "gguf_writer.h"
#include "gguf_set.h"
#include <unistd.h>
#include "llama_ref.h"
#include "llama_run.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "split.h"
#include "tiny_gguf.h"
#include "verify.h"

static void test_split_merge(void) {
    const char *dir = qk_test_tmpdir();
    char in[600], q[600], prefix[600], first[700], merged[600];
    snprintf(in, sizeof in, "%s/in.gguf", dir);
    snprintf(q, sizeof q, "%s/q.gguf", dir);
    snprintf(prefix, sizeof prefix, "%s/part", dir);
    snprintf(merged, sizeof merged, "%s/merged.gguf", dir);
    tiny_gguf_spec s = {3, 256, 4, 2, 512, 300, 0, false, QK_TYPE_F16, 21};
    CHECK(tiny_gguf_write(in, &s) == 0);
    qk_quantize_opts o = tiny_quantize_opts(15);
    qk_quantize_report rep;
    qk_err err;
    CHECK(qk_quantize_model(in, q, &o, &rep, &err) == QK_OK);
    qk_quantize_report_free(&rep);

    qk_split_opts so = {.max_tensors = 7};
    uint32_t n = 0;
    CHECK_MSG(qk_split_model(q, prefix, &so, &n, &err) == QK_OK, "%s", err.msg);
    CHECK(n == 5); /* 30 tensors / 7 */
    qk_split_path(first, sizeof first, prefix, 1, n);
    qk_verify_opts vo = {0};
    qk_verify_report vr;
    qk_verify_gguf(first, &vo, &vr);
    for (size_t i = 0; i < vr.n_problems; i++) fprintf(stderr, "  %s\n", vr.problems[i]);
    CHECK_EQ_INT(vr.n_problems, 0);
    CHECK_EQ_INT(vr.n_shards, n);
    CHECK(vr.integrity_present && vr.integrity_ok);
    qk_verify_report_free(&vr);

    /* llama.cpp loads the set from its first shard and computes the same logits */
    llama_ref_init_backend();
    llama_run_model *a = llama_run_load(q, false), *b = llama_run_load(first, false);
    CHECK_MSG(a && b, "%s", llama_run_error());
    if (a && b) {
        int32_t t[4] = {1, 300 - 5, 260, 270};
        int nv = llama_run_n_vocab(a);
        float *la = malloc((size_t)nv * 4 * 4), *lb = malloc((size_t)nv * 4 * 4);
        CHECK(llama_run_logits(a, t, 4, la) && llama_run_logits(b, t, 4, lb));
        CHECK(memcmp(la, lb, (size_t)nv * 4 * 4) == 0);
        free(la), free(lb);
    }
    llama_run_free(a), llama_run_free(b);

    /* size-based split: every shard's tensor data within the limit unless one tensor is larger */
    snprintf(prefix, sizeof prefix, "%s/sz", dir);
    so = (qk_split_opts){.max_bytes = 200000};
    CHECK(qk_split_model(q, prefix, &so, &n, &err) == QK_OK);
    CHECK(n >= 2);

    /* merge restores every tensor */
    CHECK_MSG(qk_merge_model(first, merged, "merge (test)", &err) == QK_OK, "%s", err.msg);
    CHECK(gguf_same_tensors(q, merged, "merged vs whole"));
    qk_gguf_file *fm = gguf_open_checked(merged);
    if (fm) CHECK(qk_gguf_find(&fm->meta, "split.count") == NULL);
    qk_gguf_close(fm);

    /* a missing shard is named */
    char p3[700];
    snprintf(prefix, sizeof prefix, "%s/part", dir);
    qk_split_path(p3, sizeof p3, prefix, 3, 5);
    unlink(p3);
    qk_gguf_set set;
    CHECK(qk_gguf_set_open(first, &set, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "part-00003-of-00005.gguf");
}

/* An input with general.alignment = 256: only the first shard carries that key
 * (as gguf-split's), so the others must be padded to the default 32, or our
 * own reader (and llama.cpp's) finds their data truncated. Found by the
 * gguf_split fuzzer. */
static void test_split_nondefault_alignment(void) {
    const char *dir = qk_test_tmpdir();
    char in[600], prefix[600], first[700], merged[600];
    snprintf(in, sizeof in, "%s/align64.gguf", dir);
    snprintf(prefix, sizeof prefix, "%s/a64", dir);
    snprintf(merged, sizeof merged, "%s/a64-merged.gguf", dir);
    qk_err err;
    qk_gguf_writer *w = qk_gguf_writer_new();
    qk_gguf_writer_set_alignment(w, 256);
    CHECK(qk_gguf_writer_add_u32(w, "general.alignment", 256, &err) == QK_OK);
    float data[3][5];
    for (int t = 0; t < 3; t++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", t);
        int64_t ne[4] = {5, 1, 1, 1};
        CHECK(qk_gguf_writer_add_tensor(w, name, QK_TYPE_F32, 1, ne, &err) == QK_OK);
        for (int i = 0; i < 5; i++) data[t][i] = (float)(t * 10 + i);
    }
    CHECK_MSG(qk_gguf_writer_begin(w, in, &err) == QK_OK, "%s", err.msg);
    for (int t = 0; t < 3; t++) CHECK(qk_gguf_writer_write(w, data[t], sizeof data[t], &err) == QK_OK);
    CHECK_MSG(qk_gguf_writer_finish(w, &err) == QK_OK, "%s", err.msg);
    qk_gguf_writer_free(w);

    qk_split_opts so = {.max_tensors = 1};
    uint32_t n = 0;
    CHECK_MSG(qk_split_model(in, prefix, &so, &n, &err) == QK_OK, "%s", err.msg);
    CHECK_EQ_INT(n, 3);
    qk_split_path(first, sizeof first, prefix, 1, n);
    qk_gguf_set set;
    CHECK_MSG(qk_gguf_set_open(first, &set, &err) == QK_OK, "%s", err.msg);
    if (set.n_tensors == 3) {
        for (uint64_t i = 0; i < 3; i++) {
            float got[5];
            CHECK(qk_gguf_read_tensor(qk_gguf_set_file(&set, i), qk_gguf_set_tensor(&set, i), 0, got, sizeof got,
                                      &err) == QK_OK);
            CHECK(memcmp(got, data[i], sizeof got) == 0);
        }
        qk_gguf_set_close(&set);
    }
    CHECK_MSG(qk_merge_model(first, merged, "merge (test)", &err) == QK_OK, "%s", err.msg);
}

int main(void) {
    RUN(test_split_merge);
    RUN(test_split_nondefault_alignment);
    return qk_test_summary();
}
