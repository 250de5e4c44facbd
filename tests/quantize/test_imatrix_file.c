/* The importance-matrix parsers (quantize/imatrix.c, quantize/imatrix_file.c):
 * the legacy .dat format from bytes (good files, replacement of repeated
 * names, the optional trailer; every bad count/length and every truncation
 * rejected) and from a file; the GGUF imatrix normalization (sums / rounded
 * counts per expert, the three required keys) from tensors, and from a file
 * written exactly as llama-imatrix writes it, by the real ggml (gguf API):
 * values, datasets, chunk count and size; GGUF files missing a key, with a
 * wrong key type or cut short are rejected (never read as legacy). */
#include <math.h>

#include "ggml_types.h"
#include "imatrix.h"
#include "imatrix_file.h"
#include "llama_ref.h"
#include "qk_test.h"

/* ---- the legacy .dat parser and the GGUF imatrix normalization, from bytes ---- */

typedef struct { unsigned char b[4096]; size_t n; } wbuf;
static void w32(wbuf *w, int32_t v) { memcpy(w->b + w->n, &v, 4); w->n += 4; }
static void wf(wbuf *w, float v) { memcpy(w->b + w->n, &v, 4); w->n += 4; }
static void wstr(wbuf *w, const char *s, int32_t len) { w32(w, len); memcpy(w->b + w->n, s, (size_t)len); w->n += (size_t)len; }

static void test_dat_good(void) {
    wbuf w = {{0}, 0};
    w32(&w, 3);
    wstr(&w, "blk.0.ffn_down.weight", 21); w32(&w, 4); w32(&w, 2); wf(&w, 8.0f); wf(&w, 2.0f);
    wstr(&w, "a\0hidden", 8); w32(&w, 0); w32(&w, 1); wf(&w, 3.0f);      /* name cut at NUL; ncall 0 keeps values */
    wstr(&w, "blk.0.ffn_down.weight", 21); w32(&w, 2); w32(&w, 3); wf(&w, 1); wf(&w, 2); wf(&w, 4); /* replaces */
    w32(&w, 77); wstr(&w, "wiki.txt", 8);
    qk_imatrix im;
    qk_err err;
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "x.dat", &im, &err) == QK_OK);
    CHECK_EQ_INT(im.n_entries, 2);
    CHECK_STR(im.entries[0].name, "a");
    CHECK(im.entries[0].n == 1 && im.entries[0].values[0] == 3.0f);
    const qk_imatrix_entry *e = qk_imatrix_find(&im, "blk.0.ffn_down.weight");
    CHECK(e && e->n == 3 && e->values[0] == 0.5f && e->values[2] == 2.0f);
    CHECK_EQ_INT(im.chunk_count, 77);
    CHECK(im.n_datasets == 1 && strcmp(im.datasets[0], "wiki.txt") == 0);
    qk_imatrix_kv kv;
    qk_imatrix_kv_get(&im, "/tmp/imatrix.dat", &kv);
    CHECK(kv.present && kv.entries_count == 2 && kv.has_chunks_count && kv.chunks_count == 77);
    CHECK_STR(kv.dataset, "wiki.txt");
    CHECK_STR(kv.file, "/tmp/imatrix.dat");
    const float *v;
    CHECK(qk_imatrix_for_tensor(&im, "blk.0.ffn_down.weight", 3, 1, false, &v, &err) == QK_OK && v == e->values);
    CHECK(qk_imatrix_for_tensor(&im, "blk.0.ffn_down.weight", 4, 1, false, &v, &err) == QK_FAIL);
    CHECK(qk_imatrix_for_tensor(&im, "blk.9.x", 4, 1, false, &v, &err) == QK_OK && v == NULL);
    CHECK(qk_imatrix_for_tensor(&im, "blk.9.x", 4, 1, true, &v, &err) == QK_FAIL);
    /* filters */
    const char *ex[] = {"ffn_down"};
    CHECK(qk_imatrix_filter(&im, NULL, 0, ex, 1, &err) == QK_OK);
    CHECK_EQ_INT(im.n_entries, 1);
    CHECK(qk_imatrix_filter(&im, ex, 1, ex, 1, &err) == QK_FAIL);
    CHECK(qk_imatrix_filter(&im, ex, 1, NULL, 0, &err) == QK_OK);
    CHECK_EQ_INT(im.n_entries, 0);
    qk_imatrix_kv_get(&im, "f", &kv);
    CHECK(!kv.present);
    qk_imatrix_free(&im);

    /* no trailer; partial trailer keeps the partial count */
    wbuf w2 = {{0}, 0};
    w32(&w2, 1); wstr(&w2, "t", 1); w32(&w2, 1); w32(&w2, 1); wf(&w2, NAN);
    CHECK(qk_imatrix_parse_dat(w2.b, w2.n, "y", &im, &err) == QK_OK);
    CHECK_EQ_INT(im.chunk_count, 0);
    CHECK(qk_imatrix_check_finite(&im, &err) == QK_FAIL);
    qk_imatrix_free(&im);
    w2.b[w2.n++] = 5;
    CHECK(qk_imatrix_parse_dat(w2.b, w2.n, "y", &im, &err) == QK_OK);
    CHECK_EQ_INT(im.chunk_count, 5);
    CHECK_EQ_INT(im.n_datasets, 0);
    qk_imatrix_free(&im);
}

static void test_dat_bad(void) {
    qk_imatrix im;
    qk_err err;
    wbuf w = {{0}, 0};
    CHECK(qk_imatrix_parse_dat(w.b, 0, "e", &im, &err) == QK_FAIL);
    w32(&w, 0);
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "e", &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "entry count");
    w.n = 0; w32(&w, 1); w32(&w, -1);
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "e", &im, &err) == QK_FAIL);
    w.n = 0; w32(&w, 1); w32(&w, 0x7fffffff);
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "e", &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "past the end");
    w.n = 0; w32(&w, 1); wstr(&w, "n", 1); w32(&w, 1); w32(&w, 0);
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "e", &im, &err) == QK_FAIL);
    w.n = 0; w32(&w, 1); wstr(&w, "n", 1); w32(&w, 1); w32(&w, 0x40000000); wf(&w, 1);
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "e", &im, &err) == QK_FAIL);
    w.n = 0; w32(&w, 2); wstr(&w, "n", 1); w32(&w, 1); w32(&w, 1); wf(&w, 1);
    CHECK(qk_imatrix_parse_dat(w.b, w.n, "e", &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "truncated");
    /* every truncation of a good file fails cleanly or parses as a prefix */
    wbuf g = {{0}, 0};
    w32(&g, 2); wstr(&g, "aa", 2); w32(&g, 1); w32(&g, 2); wf(&g, 1); wf(&g, 2);
    wstr(&g, "bb", 2); w32(&g, 1); w32(&g, 1); wf(&g, 3);
    for (size_t cut = 0; cut < g.n; cut++) {
        CHECK(qk_imatrix_parse_dat(g.b, cut, "cut", &im, &err) == QK_FAIL);
        CHECK(im.n_entries == 0 && im.entries == NULL);
    }
    CHECK(qk_imatrix_parse_dat(g.b, g.n, "cut", &im, &err) == QK_OK);
    qk_imatrix_free(&im);
}

static void test_gguf_imatrix(void) {
    float sums[6] = {2, 4, 6, 10, 20, 30}; /* ne = [3, 2]: two experts */
    float counts[2] = {2.4f, 0.0f};        /* lround -> 2; 0 -> 1.0 */
    float s2[2] = {9, 9}, c2[1] = {3};
    qk_imatrix_gguf_tensor t[] = {
        {"blk.0.ffn_down_exps.weight.in_sum2", QK_TYPE_F32, sums, 6},
        {"blk.0.attn_q.weight.counts", QK_TYPE_F32, c2, 1},
        {"blk.0.ffn_down_exps.weight.counts", QK_TYPE_F32, counts, 2},
        {"blk.0.attn_q.weight.in_sum2", QK_TYPE_F32, s2, 2},
        {"unrelated", QK_TYPE_F16, NULL, 4},
    };
    const char *ds[] = {"calib.txt", "more.txt"};
    qk_imatrix_gguf_meta meta = {true, ds, 2, true, true, 100, true, true, 512};
    qk_imatrix im;
    qk_err err;
    CHECK(qk_imatrix_from_gguf(t, 5, &meta, "i.gguf", &im, &err) == QK_OK);
    CHECK_EQ_INT(im.n_entries, 2);
    CHECK_STR(im.entries[0].name, "blk.0.attn_q.weight");
    CHECK(im.entries[0].values[0] == 3.0f && im.entries[0].values[1] == 3.0f);
    const qk_imatrix_entry *e = &im.entries[1];
    CHECK(e->n == 6 && e->values[0] == 1.0f && e->values[2] == 3.0f && e->values[3] == 1.0f && e->values[5] == 1.0f);
    qk_imatrix_kv kv;
    qk_imatrix_kv_get(&im, "i.gguf", &kv);
    CHECK(kv.present && kv.entries_count == 2 && kv.chunks_count == 100);
    CHECK_STR(kv.dataset, "calib.txt");
    qk_imatrix_free(&im);
    meta.has_chunk_size = false;
    CHECK(qk_imatrix_from_gguf(t, 5, &meta, "i.gguf", &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "metadata");
    meta.has_chunk_size = true;
    CHECK(qk_imatrix_from_gguf(t, 3, &meta, "i.gguf", &im, &err) == QK_FAIL); /* attn_q lacks in_sum2 */
    CHECK_CONTAINS(err.msg, "blk.0.attn_q.weight");
    t[3].type = QK_TYPE_F16;
    CHECK(qk_imatrix_from_gguf(t, 5, &meta, "i.gguf", &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "F32");
}

/* ---- files ---- */

static const char *tmp_path(const char *name) {
    static char p[700];
    snprintf(p, sizeof p, "%s/%s", qk_test_tmpdir(), name);
    return p;
}

static void test_dat_file(void) {
    wbuf w = {{0}, 0};
    w32(&w, 2);
    wstr(&w, "blk.0.attn_q.weight", 19); w32(&w, 2); w32(&w, 2); wf(&w, 4.0f); wf(&w, 6.0f);
    wstr(&w, "output.weight", 13); w32(&w, 1); w32(&w, 1); wf(&w, 0.5f);
    w32(&w, 10); wstr(&w, "calib.txt", 9);
    const char *p = tmp_path("im.dat");
    CHECK(qk_test_write_file(p, w.b, w.n) == 0);
    qk_imatrix im;
    qk_err err;
    CHECK_MSG(qk_imatrix_load(p, &im, &err) == QK_OK, "%s", err.msg);
    CHECK(im.is_legacy);
    CHECK_EQ_INT(im.n_entries, 2);
    const qk_imatrix_entry *e = qk_imatrix_find(&im, "blk.0.attn_q.weight");
    CHECK(e && e->n == 2 && e->values[0] == 2.0f && e->values[1] == 3.0f);
    CHECK_EQ_INT(im.chunk_count, 10);
    CHECK(im.n_datasets == 1 && !strcmp(im.datasets[0], "calib.txt"));
    qk_imatrix_free(&im);
    /* a file that does not parse names itself */
    CHECK(qk_test_write_file(p, w.b, 9) == 0);
    CHECK(qk_imatrix_load(p, &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, p);
    CHECK(qk_test_write_file(p, "", 0) == 0);
    CHECK(qk_imatrix_load(p, &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "too short");
    CHECK(qk_imatrix_load("/nonexistent/im.dat", &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "cannot open imatrix file");
}

/* The ggml / gguf functions the harness does not declare. */
static struct ggml_tensor *(*p_ggml_new_tensor)(struct ggml_context *, int, int, const int64_t *);
static struct ggml_tensor *(*p_ggml_set_name)(struct ggml_tensor *, const char *);
static void *(*p_ggml_get_data)(const struct ggml_tensor *);
static void (*p_gguf_set_val_str)(struct gguf_context *, const char *, const char *);
static void (*p_gguf_set_val_u32)(struct gguf_context *, const char *, uint32_t);
static void (*p_gguf_set_val_i32)(struct gguf_context *, const char *, int32_t);
static void (*p_gguf_set_arr_str)(struct gguf_context *, const char *, const char **, size_t);

static const llama_ref *ggml_syms(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) return NULL;
    *(void **)&p_ggml_new_tensor = llama_ref_sym("ggml_new_tensor");
    *(void **)&p_ggml_set_name = llama_ref_sym("ggml_set_name");
    *(void **)&p_ggml_get_data = llama_ref_sym("ggml_get_data");
    *(void **)&p_gguf_set_val_str = llama_ref_sym("gguf_set_val_str");
    *(void **)&p_gguf_set_val_u32 = llama_ref_sym("gguf_set_val_u32");
    *(void **)&p_gguf_set_val_i32 = llama_ref_sym("gguf_set_val_i32");
    *(void **)&p_gguf_set_arr_str = llama_ref_sym("gguf_set_arr_str");
    const bool ok = p_ggml_new_tensor && p_ggml_set_name && p_ggml_get_data && p_gguf_set_val_str &&
                    p_gguf_set_val_u32 && p_gguf_set_val_i32 && p_gguf_set_arr_str;
    CHECK_MSG(ok, "ggml/gguf symbols missing from the pinned llama.cpp");
    return ok ? r : NULL;
}

enum { KEYS_ALL = 0, KEYS_NO_CHUNK_SIZE = 1, KEYS_CHUNK_COUNT_I32 = 2 };

/* Writes an imatrix as llama-imatrix's save_imatrix does (gguf_set_* on a
 * ggml context, <name>.in_sum2 [n/nmat, nmat] and <name>.counts [1, nmat],
 * F32): attn_q with one matrix, ffn_down_exps with two experts. */
static bool write_ggml_imatrix(const llama_ref *r, const char *path, int keys) {
    struct ref_ggml_init_params ip = {1 << 20, NULL, false};
    struct ggml_context *ctx = r->ggml_init(ip);
    struct gguf_context *g = r->gguf_init_empty();
    if (!ctx || !g) return false;
    const char *ds[2] = {"wiki.train.raw", "code.txt"};
    p_gguf_set_val_str(g, "general.type", "imatrix");
    p_gguf_set_arr_str(g, "imatrix.datasets", ds, 2);
    if (keys == KEYS_CHUNK_COUNT_I32) p_gguf_set_val_i32(g, "imatrix.chunk_count", 100);
    else p_gguf_set_val_u32(g, "imatrix.chunk_count", 100);
    if (keys != KEYS_NO_CHUNK_SIZE) p_gguf_set_val_u32(g, "imatrix.chunk_size", 512);
    static const struct {
        const char *name;
        int64_t ne0, nmat;
        float sums[6], counts[2];
    } t[] = {
        {"blk.0.attn_q.weight", 3, 1, {30, 60, 90}, {10.4f}},           /* lround(10.4) = 10 */
        {"blk.0.ffn_down_exps.weight", 3, 2, {2, 4, 6, 7, 8, 9}, {2.5f, 0}}, /* 2.5 -> 3; 0 -> 1.0 */
    };
    for (size_t i = 0; i < 2; i++) {
        char name[128];
        const int64_t ne_s[2] = {t[i].ne0, t[i].nmat}, ne_c[2] = {1, t[i].nmat};
        struct ggml_tensor *s = p_ggml_new_tensor(ctx, QK_TYPE_F32, 2, ne_s);
        struct ggml_tensor *c = p_ggml_new_tensor(ctx, QK_TYPE_F32, 2, ne_c);
        snprintf(name, sizeof name, "%s.in_sum2", t[i].name);
        p_ggml_set_name(s, name);
        snprintf(name, sizeof name, "%s.counts", t[i].name);
        p_ggml_set_name(c, name);
        memcpy(p_ggml_get_data(s), t[i].sums, sizeof(float) * (size_t)(t[i].ne0 * t[i].nmat));
        memcpy(p_ggml_get_data(c), t[i].counts, sizeof(float) * (size_t)t[i].nmat);
        r->gguf_add_tensor(g, s);
        r->gguf_add_tensor(g, c);
    }
    const bool ok = r->gguf_write_to_file(g, path, false);
    r->gguf_free(g);
    r->ggml_free(ctx);
    return ok;
}

static void test_gguf_file_written_by_ggml(void) {
    const llama_ref *r = ggml_syms();
    if (!r) return;
    const char *p = tmp_path("im.gguf");
    CHECK(write_ggml_imatrix(r, p, KEYS_ALL));
    qk_imatrix im;
    qk_err err;
    CHECK_MSG(qk_imatrix_load(p, &im, &err) == QK_OK, "%s", err.msg);
    CHECK(!im.is_legacy);
    CHECK_EQ_INT(im.n_entries, 2);
    const qk_imatrix_entry *e = qk_imatrix_find(&im, "blk.0.attn_q.weight");
    CHECK(e && e->n == 3 && e->values[0] == 3.0f && e->values[1] == 6.0f && e->values[2] == 9.0f);
    e = qk_imatrix_find(&im, "blk.0.ffn_down_exps.weight");
    CHECK(e && e->n == 6);
    if (e && e->n == 6) {
        const float want[6] = {2.0f / 3, 4.0f / 3, 2.0f, 1.0f, 1.0f, 1.0f};
        for (int i = 0; i < 6; i++)
            CHECK_MSG(e->values[i] == want[i], "value %d: %g, expected %g", i, e->values[i], want[i]);
    }
    CHECK_EQ_INT(im.chunk_count, 100);
    CHECK_EQ_INT(im.chunk_size, 512);
    CHECK(im.n_datasets == 2 && !strcmp(im.datasets[0], "wiki.train.raw") && !strcmp(im.datasets[1], "code.txt"));
    qk_imatrix_free(&im);
}

static void test_gguf_file_bad(void) {
    const llama_ref *r = ggml_syms();
    if (!r) return;
    qk_imatrix im;
    qk_err err;
    const char *p = tmp_path("nosize.gguf");
    CHECK(write_ggml_imatrix(r, p, KEYS_NO_CHUNK_SIZE));
    CHECK(qk_imatrix_load(p, &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "missing imatrix metadata");
    p = tmp_path("i32.gguf");
    CHECK(write_ggml_imatrix(r, p, KEYS_CHUNK_COUNT_I32));
    CHECK(qk_imatrix_load(p, &im, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "imatrix.chunk_count is not a u32");
    /* a GGUF cut short is a bad GGUF, not a legacy file */
    const char *good = tmp_path("whole.gguf");
    CHECK(write_ggml_imatrix(r, good, KEYS_ALL));
    size_t len = 0;
    unsigned char *b = qk_test_read_file(good, &len);
    CHECK(b && len > 64);
    if (!b) return;
    p = tmp_path("cut.gguf");
    for (size_t cut = 4; cut < len; cut += (cut < 128 ? 1 : 37)) {
        CHECK(qk_test_write_file(p, b, cut) == 0);
        CHECK_MSG(qk_imatrix_load(p, &im, &err) == QK_FAIL, "cut at %zu accepted", cut);
        CHECK_MSG(strstr(err.msg, "cut.gguf") != NULL, "%s", err.msg);
    }
    free(b);
}

int main(void) {
    RUN(test_dat_good);
    RUN(test_dat_bad);
    RUN(test_gguf_imatrix);
    RUN(test_dat_file);
    RUN(test_gguf_file_written_by_ggml);
    RUN(test_gguf_file_bad);
    return qk_test_summary();
}
