/* The GGUF writer and reader against each other and against the real ggml:
 * every KV type round-trips; ggml reads our files with identical KVs and
 * tensor infos; ggml's own writer, given the same content, produces the same
 * bytes; files written by llama.cpp and ollama are rewritten byte for byte. */
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"

/* Builds a file exercising every KV type and several tensor types/ranks. */
static int write_sample(const char *path, qk_err *err) {
    qk_gguf_writer *w = qk_gguf_writer_new();
    int rc = QK_OK;
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -5000000000ll;
    uint64_t u64 = 18000000000000000000ull;
    double f64 = 3.141592653589793;
    rc |= qk_gguf_writer_add_str(w, "general.architecture", "llama", err);
    rc |= qk_gguf_writer_add_scalar(w, "t.u8", QK_GGUF_U8, &u8, err);
    rc |= qk_gguf_writer_add_scalar(w, "t.i8", QK_GGUF_I8, &i8, err);
    rc |= qk_gguf_writer_add_scalar(w, "t.u16", QK_GGUF_U16, &u16, err);
    rc |= qk_gguf_writer_add_scalar(w, "t.i16", QK_GGUF_I16, &i16, err);
    rc |= qk_gguf_writer_add_u32(w, "t.u32", 4000000000u, err);
    rc |= qk_gguf_writer_add_i32(w, "t.i32", -2000000000, err);
    rc |= qk_gguf_writer_add_f32(w, "t.f32", 1.5f, err);
    rc |= qk_gguf_writer_add_bool(w, "t.bool", true, err);
    rc |= qk_gguf_writer_add_str(w, "t.str", "héllo wörld ✓", err);
    rc |= qk_gguf_writer_add_scalar(w, "t.u64", QK_GGUF_U64, &u64, err);
    rc |= qk_gguf_writer_add_scalar(w, "t.i64", QK_GGUF_I64, &i64, err);
    rc |= qk_gguf_writer_add_scalar(w, "t.f64", QK_GGUF_F64, &f64, err);
    float fa[5] = {0.5f, -1.0f, 2.25f, 0.0f, 1e-30f};
    int32_t ia[3] = {1, -2, 3};
    rc |= qk_gguf_writer_add_arr(w, "t.arr_f32", QK_GGUF_F32, fa, 5, err);
    rc |= qk_gguf_writer_add_arr(w, "t.arr_i32", QK_GGUF_I32, ia, 3, err);
    rc |= qk_gguf_writer_add_arr(w, "t.arr_empty", QK_GGUF_U8, NULL, 0, err);
    const char *sa[4] = {"<s>", "</s>", "", "▁the"};
    rc |= qk_gguf_writer_add_arr_str(w, "t.arr_str", sa, 4, err);
    rc |= qk_gguf_writer_add_arr_str(w, "t.arr_str_empty", NULL, 0, err);
    rc |= qk_gguf_writer_add_u64(w, "t.patched", 0, err);
    int64_t ne1[1] = {7}, ne2[2] = {64, 3}, ne3[3] = {32, 2, 2}, ne4[4] = {256, 1, 2, 1};
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
    double d;
    CHECK(qk_gguf_get_int(&f->meta, "t.u8", &v) && v == 200);
    CHECK(qk_gguf_get_int(&f->meta, "t.i16", &v) && v == -30000);
    CHECK(qk_gguf_get_int(&f->meta, "t.u32", &v) && v == 4000000000ll);
    CHECK(qk_gguf_get_int(&f->meta, "t.i64", &v) && v == -5000000000ll);
    CHECK(!qk_gguf_get_int(&f->meta, "t.u64", &v)); /* above INT64_MAX */
    CHECK(qk_gguf_get_int(&f->meta, "t.patched", &v) && v == 0x0123456789ABCDEFll);
    CHECK(qk_gguf_get_float(&f->meta, "t.f64", &d) && d == 3.141592653589793);
    CHECK_STR(qk_gguf_get_str(&f->meta, "t.str"), "héllo wörld ✓");
    const qk_gguf_kv *sa = qk_gguf_find(&f->meta, "t.arr_str");
    CHECK(sa && sa->n == 4 && !strcmp(((qk_gguf_str *)sa->data)[3].s, "▁the"));
    CHECK_EQ_INT(f->meta.n_tensors, 4);
    CHECK_EQ_INT(f->meta.tensors[3].n_dims, 4);
    CHECK_EQ_INT(f->meta.tensors[3].nbytes, 2 * 144);
    CHECK_EQ_INT(f->meta.tensors[1].offset, 32); /* 7 floats = 28 bytes, padded */
    unsigned char b[4];
    CHECK(qk_gguf_read_tensor(f, &f->meta.tensors[0], 0, b, 4, &err) == QK_OK && b[0] == 1 && b[1] == 8);
    CHECK(qk_gguf_read_tensor(f, &f->meta.tensors[0], 26, b, 4, &err) == QK_FAIL);
    qk_gguf_close(f);
}

/* Compares one KV between our reader and ggml's context. */
static void compare_kv(const llama_ref *r, struct gguf_context *g, const qk_gguf_kv *kv) {
    int64_t id = r->gguf_find_key(g, kv->key);
    CHECK_MSG(id >= 0, "ggml lacks key %s", kv->key);
    if (id < 0) return;
    CHECK_MSG((uint32_t)r->gguf_get_kv_type(g, id) == kv->type, "type of %s", kv->key);
    if (kv->type == QK_GGUF_STRING) {
        CHECK_STR(r->gguf_get_val_str(g, id), ((qk_gguf_str *)kv->data)->s);
    } else if (kv->type == QK_GGUF_ARRAY) {
        CHECK_MSG((uint32_t)r->gguf_get_arr_type(g, id) == kv->arr_type, "arr type of %s", kv->key);
        CHECK_MSG(r->gguf_get_arr_n(g, id) == kv->n, "arr n of %s", kv->key);
        if (kv->arr_type == QK_GGUF_STRING) {
            for (uint64_t i = 0; i < kv->n && i < r->gguf_get_arr_n(g, id); i++)
                CHECK_STR(r->gguf_get_arr_str(g, id, i), ((qk_gguf_str *)kv->data)[i].s);
        } else if (kv->n) {
            CHECK(memcmp(r->gguf_get_arr_data(g, id), kv->data, kv->n * qk_gguf_type_size(kv->arr_type)) == 0);
        }
    } else {
        CHECK_MSG(memcmp(r->gguf_get_val_data(g, id), kv->data, qk_gguf_type_size(kv->type)) == 0, "value of %s",
                  kv->key);
    }
}

/* ggml reads `path` with the same KVs and tensors we read; then ggml's own
 * writer reproduces the file byte for byte. */
static void ggml_agrees(const char *path, bool ggml_rewrite) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    qk_gguf_file *f;
    qk_err err;
    CHECK_MSG(qk_gguf_open(path, &f, &err) == QK_OK, "%s", err.msg);
    if (!f) return;
    struct ggml_context *gctx = NULL;
    struct ref_gguf_init_params ip = {.no_alloc = false, .ctx = &gctx};
    struct gguf_context *g = r->gguf_init_from_file(path, ip);
    CHECK_MSG(g != NULL, "ggml rejects %s", path);
    if (!g) { qk_gguf_close(f); return; }
    CHECK_EQ_INT(r->gguf_get_n_kv(g), f->meta.n_kv);
    CHECK_EQ_INT(r->gguf_get_n_tensors(g), f->meta.n_tensors);
    CHECK_EQ_INT(r->gguf_get_data_offset(g), f->meta.data_offset);
    for (uint64_t i = 0; i < f->meta.n_kv; i++) {
        CHECK_STR(r->gguf_get_key(g, (int64_t)i), f->meta.kv[i].key);
        compare_kv(r, g, &f->meta.kv[i]);
    }
    for (uint64_t i = 0; i < f->meta.n_tensors; i++) {
        const qk_gguf_tensor *t = &f->meta.tensors[i];
        CHECK_STR(r->gguf_get_tensor_name(g, (int64_t)i), t->name);
        CHECK_EQ_INT(r->gguf_get_tensor_type(g, (int64_t)i), t->type);
        CHECK_EQ_INT(r->gguf_get_tensor_offset(g, (int64_t)i), t->offset);
        CHECK_EQ_INT(r->gguf_get_tensor_size(g, (int64_t)i), t->nbytes);
        const int64_t *ne = r->gguf_get_tensor_ne(g, (int64_t)i);
        for (int d = 0; d < 4; d++) CHECK_EQ_INT(ne[d], t->ne[d]);
    }
    /* ggml writes the same content; it drops trailing 1-dims (ggml_n_dims),
     * so byte identity is expected when our n_dims has none. */
    bool trailing_ones = false;
    for (uint64_t i = 0; i < f->meta.n_tensors; i++)
        if (f->meta.tensors[i].n_dims > 1 && f->meta.tensors[i].ne[f->meta.tensors[i].n_dims - 1] == 1)
            trailing_ones = true;
    if (ggml_rewrite && !trailing_ones) {
        struct gguf_context *o = r->gguf_init_empty();
        r->gguf_set_kv(o, g);
        for (struct ggml_tensor *t = r->ggml_get_first_tensor(gctx); t; t = r->ggml_get_next_tensor(gctx, t))
            r->gguf_add_tensor(o, t);
        char out[700];
        snprintf(out, sizeof out, "%s.ggml", path);
        CHECK(r->gguf_write_to_file(o, out, false));
        size_t la, lb;
        unsigned char *a = qk_test_read_file(path, &la), *b = qk_test_read_file(out, &lb);
        CHECK_MSG(a && b && la == lb && memcmp(a, b, la) == 0, "ggml's rewrite of %s differs (%zu vs %zu bytes)",
                  path, la, lb);
        free(a), free(b);
        r->gguf_free(o);
    }
    r->gguf_free(g);
    r->ggml_free(gctx);
    qk_gguf_close(f);
}

static void test_ggml_agrees_with_our_writer(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/sample2.gguf", qk_test_tmpdir());
    qk_err err;
    CHECK_MSG(write_sample(path, &err) == QK_OK, "%s", err.msg);
    ggml_agrees(path, true);
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
            ggml_agrees(src, false);
            n++;
        }
        if (dh) closedir(dh);
    }
    CHECK(n >= 10);
}

static void test_writer_failures_leave_nothing(void) {
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/fail", qk_test_tmpdir());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/out.gguf", dir);
    qk_err err;
    qk_gguf_writer *w = qk_gguf_writer_new();
    int64_t ne[2] = {32, 4};
    CHECK(qk_gguf_writer_add_str(w, "general.architecture", "llama", &err) == QK_OK);
    CHECK(qk_gguf_writer_add_str(w, "general.architecture", "x", &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "declared twice");
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
