/* The GGUF writer and reader against each other and against the real ggml,
 * for tensors (the KVs are formats/test_gguf_writer.c's): tensor infos, data
 * streamed in odd chunks with padding, a KV patched after the data; ggml reads
 * our files with identical KVs and tensor infos; ggml's own writer, given the
 * same content, produces the same bytes; files written by llama.cpp and
 * ollama are rewritten byte for byte (part "fixtures"). */
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "gguf.h"
#include "gguf_ggml.h"
#include "gguf_writer.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"

/* Builds a file with several tensor types and ranks (every KV type is
 * formats/test_gguf_writer.c's) and a KV patched after the data. */
static int write_sample(const char *path, qk_err *err) {
    qk_gguf_writer *w = qk_gguf_writer_new();
    int rc = QK_OK;
    rc |= qk_gguf_writer_add_str(w, "general.architecture", "llama", err);
    rc |= qk_gguf_writer_add_u64(w, "t.patched", 0, err);
    int64_t ne1[1] = {7}, ne2[2] = {64, 3}, ne3[3] = {32, 2, 2}, ne4[4] = {256, 1, 2, 2};
    rc |= qk_gguf_writer_add_tensor(w, "a.f32", QK_TYPE_F32, 1, ne1, err);
    rc |= qk_gguf_writer_add_tensor(w, "b.f16", QK_TYPE_F16, 2, ne2, err);
    rc |= qk_gguf_writer_add_tensor(w, "c.q8_0", QK_TYPE_Q8_0, 3, ne3, err);
    rc |= qk_gguf_writer_add_tensor(w, "d.q4_k", QK_TYPE_Q4_K, 4, ne4, err);
    if (rc != QK_OK || qk_gguf_writer_begin(w, path, err) != QK_OK) {
        qk_gguf_writer_free(w);
        return QK_FAIL;
    }
    /* stream data in odd-sized chunks so padding happens mid-chunk */
    const qk_gguf_meta *m = qk_gguf_writer_meta(w);
    uint64_t total = 0;
    for (uint64_t i = 0; i < m->n_tensors; i++) total += m->tensors[i].nbytes;
    unsigned char *data = malloc(total);
    for (uint64_t i = 0; i < total; i++) data[i] = (unsigned char)(i * 7 + 1);
    /* keep fp16 scales of q8_0/q4_k finite: ggml validates nothing on read, fine */
    for (uint64_t off = 0; off < total && rc == QK_OK;) {
        size_t k = total - off < 37 ? (size_t)(total - off) : 37;
        rc = qk_gguf_writer_write(w, data + off, k, err);
        off += k;
    }
    free(data);
    uint64_t v = 0x0123456789ABCDEFull;
    if (rc == QK_OK) rc = qk_gguf_writer_patch(w, "t.patched", &v, 8, err);
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, err);
    qk_gguf_writer_free(w);
    return rc;
}

static void test_write_read(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/sample.gguf", qk_test_tmpdir());
    qk_err err;
    CHECK_MSG(write_sample(path, &err) == QK_OK, "%s", err.msg);
    qk_gguf_file *f;
    CHECK_MSG(qk_gguf_open(path, &f, &err) == QK_OK, "%s", err.msg);
    if (!f) return;
    int64_t v;
    CHECK(qk_gguf_get_int(&f->meta, "t.patched", &v) && v == 0x0123456789ABCDEFll);
    CHECK_EQ_INT(f->meta.n_tensors, 4);
    CHECK_EQ_INT(f->meta.tensors[3].n_dims, 4);
    CHECK_EQ_INT(f->meta.tensors[3].nbytes, 4 * 144);
    CHECK_EQ_INT(f->meta.tensors[1].offset, 32); /* 7 floats = 28 bytes, padded */
    unsigned char b[4];
    CHECK(qk_gguf_read_tensor(f, &f->meta.tensors[0], 0, b, 4, &err) == QK_OK && b[0] == 1 && b[1] == 8);
    CHECK(qk_gguf_read_tensor(f, &f->meta.tensors[0], 26, b, 4, &err) == QK_FAIL);
    qk_gguf_close(f);
}

static void test_ggml_agrees_with_our_writer(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/sample2.gguf", qk_test_tmpdir());
    qk_err err;
    CHECK_MSG(write_sample(path, &err) == QK_OK, "%s", err.msg);
    gguf_ggml_agrees(path, true);
}

/* Rewrites a file through our reader and writer; returns true if identical. */
static bool rewrite_identical(const char *src, const char *dst) {
    qk_gguf_file *f;
    qk_err err;
    if (qk_gguf_open(src, &f, &err) != QK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return false;
    }
    qk_gguf_writer *w = qk_gguf_writer_new();
    qk_gguf_writer_set_alignment(w, f->meta.alignment);
    int rc = QK_OK;
    for (uint64_t i = 0; rc == QK_OK && i < f->meta.n_kv; i++) rc = qk_gguf_writer_add_kv(w, &f->meta.kv[i], &err);
    for (uint64_t i = 0; rc == QK_OK && i < f->meta.n_tensors; i++) {
        const qk_gguf_tensor *t = &f->meta.tensors[i];
        rc = qk_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, &err);
    }
    if (rc == QK_OK) rc = qk_gguf_writer_begin(w, dst, &err);
    unsigned char *buf = malloc(1 << 20);
    for (uint64_t i = 0; rc == QK_OK && i < f->meta.n_tensors; i++) {
        const qk_gguf_tensor *t = &f->meta.tensors[i];
        for (uint64_t off = 0; rc == QK_OK && off < t->nbytes;) {
            size_t k = t->nbytes - off < (1 << 20) ? (size_t)(t->nbytes - off) : (1 << 20);
            rc = qk_gguf_read_tensor(f, t, off, buf, k, &err);
            if (rc == QK_OK) rc = qk_gguf_writer_write(w, buf, k, &err);
            off += k;
        }
    }
    free(buf);
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, &err);
    if (rc != QK_OK) fprintf(stderr, "%s\n", err.msg);
    qk_gguf_writer_free(w);
    qk_gguf_close(f);
    if (rc != QK_OK) return false;
    size_t la, lb;
    unsigned char *a = qk_test_read_file(src, &la), *b = qk_test_read_file(dst, &lb);
    bool same = a && b && lb == la && memcmp(a, b, la) == 0;
    free(a), free(b);
    return same;
}

static void test_fixtures_roundtrip(void) {
    const char *dirs[] = {"gguf-by-others", "gguf-by-others/llama.cpp-vocab"};
    int n = 0;
    for (int d = 0; d < 2; d++) {
        const char *dir = qk_test_fixture(dirs[d]);
        if (!dir) return;
        char dirbuf[1024];
        snprintf(dirbuf, sizeof dirbuf, "%s", dir);
        DIR *dh = opendir(dirbuf);
        struct dirent *e;
        while (dh && (e = readdir(dh))) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 5, ".gguf") || strstr(e->d_name, "corrupted")) continue;
            char src[1400], dst[1400];
            snprintf(src, sizeof src, "%s/%s", dirbuf, e->d_name);
            snprintf(dst, sizeof dst, "%s/rt-%s", qk_test_tmpdir(), e->d_name);
            CHECK_MSG(rewrite_identical(src, dst), "round trip of %s", e->d_name);
            gguf_ggml_agrees(src, true);
            n++;
        }
        if (dh) closedir(dh);
    }
    CHECK(n >= 10);
}

static void test_writer_failures_leave_nothing(void) {
    char dir[600], path[700];
    qk_test_mkdir(dir, sizeof dir, "fail");
    snprintf(path, sizeof path, "%s/out.gguf", dir);
    qk_err err;
    qk_gguf_writer *w = qk_gguf_writer_new();
    int64_t ne[2] = {32, 4};
    CHECK(qk_gguf_writer_add_str(w, "general.architecture", "llama", &err) == QK_OK);
    CHECK(qk_gguf_writer_add_tensor(w, "w", QK_TYPE_F32, 2, ne, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_tensor(w, "odd", QK_TYPE_Q4_0, 1, (int64_t[]){33}, &err) == QK_FAIL);
    CHECK(qk_gguf_writer_begin(w, path, &err) == QK_OK);
    float x[16] = {0};
    CHECK(qk_gguf_writer_write(w, x, sizeof x, &err) == QK_OK);
    CHECK(qk_gguf_writer_finish(w, &err) == QK_FAIL); /* 64 of 512 bytes */
    CHECK_CONTAINS(err.msg, "tensor 'w' is incomplete (64 of 512 bytes written)");
    qk_gguf_writer_free(w); /* aborts */
    DIR *dh = opendir(dir);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(dh)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
    closedir(dh);
    CHECK_EQ_INT(entries, 0);
    /* destination folder missing: clear error before any work */
    w = qk_gguf_writer_new();
    CHECK(qk_gguf_writer_begin(w, "/nonexistent-dir/x.gguf", &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "does not exist");
    qk_gguf_writer_free(w);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_write_read);
    RUN(test_ggml_agrees_with_our_writer);
    RUN(test_writer_failures_leave_nothing);
    RUN_PART("fixtures", test_fixtures_roundtrip);
    return qk_test_summary();
}
