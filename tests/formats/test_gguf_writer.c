/* The GGUF KV writer (formats/gguf_writer.c): every value type as a scalar
 * and as an array, strings (empty, UTF-8, embedded NUL, 100 KB), written
 * as the GGUF v3 spec lays them out byte for byte (docs: llamacpp.md §1,
 * checked against bytes built here by hand), read back exactly by our reader
 * and by llama.cpp's gguf_init_from_file (whose own writer then reproduces
 * the file byte for byte); declaration and patch errors. Tensors are
 * formats/test_gguf_roundtrip.c's. */
#include <math.h>
#include <stdbool.h>

#include "gguf.h"
#include "gguf_build.h"
#include "gguf_ggml.h"
#include "gguf_writer.h"
#include "gguf_checked.h"
#include "qk_test.h"

/* One value of every scalar type and an array of every element type, in the
 * file order; the hand-built bytes of each KV (key, type, value) go to `b`.
 * With nul, also a string array whose first string holds a NUL byte (ggml
 * reads it, but its gguf_set_kv copies strings as C strings, so a file with
 * it cannot be rewritten by ggml byte for byte). */
static void declare_all(qk_gguf_writer *w, gb_buf *b, bool nul) {
    qk_err err;
    const uint8_t u8 = 200;
    const int8_t i8 = -100;
    const uint16_t u16 = 60000;
    const int16_t i16 = -30000;
    const uint32_t u32 = 4000000000u;
    const int32_t i32 = -2000000000;
    const float f32 = -1.5f;
    const uint8_t bo = 1;
    const uint64_t u64 = 18000000000000000000ull;
    const int64_t i64 = -5000000000ll;
    const double f64 = 3.141592653589793;
    const struct { const char *key; uint32_t type; const void *v; } scalars[] = {
        {"t.u8", QK_GGUF_U8, &u8},     {"t.i8", QK_GGUF_I8, &i8},     {"t.u16", QK_GGUF_U16, &u16},
        {"t.i16", QK_GGUF_I16, &i16},  {"t.u32", QK_GGUF_U32, &u32},  {"t.i32", QK_GGUF_I32, &i32},
        {"t.f32", QK_GGUF_F32, &f32},  {"t.bool", QK_GGUF_BOOL, &bo}, {"t.u64", QK_GGUF_U64, &u64},
        {"t.i64", QK_GGUF_I64, &i64},  {"t.f64", QK_GGUF_F64, &f64},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        CHECK_MSG(qk_gguf_writer_add_scalar(w, scalars[i].key, scalars[i].type, scalars[i].v, &err) == QK_OK, "%s",
                  err.msg);
        gb_str(b, scalars[i].key);
        gb_u32(b, scalars[i].type);
        gb_bytes(b, scalars[i].v, qk_gguf_type_size(scalars[i].type)); /* this host is little-endian, as GGUF */
    }
    /* the typed helpers are the same encodings */
    CHECK(qk_gguf_writer_add_u32(w, "h.u32", 7, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_i32(w, "h.i32", -7, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_u64(w, "h.u64", 1ull << 40, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_f32(w, "h.f32", 0.25f, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_bool(w, "h.bool", false, &err) == QK_OK);
    gb_str(b, "h.u32"), gb_u32(b, QK_GGUF_U32), gb_u32(b, 7);
    gb_str(b, "h.i32"), gb_u32(b, QK_GGUF_I32), gb_u32(b, (uint32_t)-7);
    gb_str(b, "h.u64"), gb_u32(b, QK_GGUF_U64), gb_u64(b, 1ull << 40);
    gb_str(b, "h.f32"), gb_u32(b, QK_GGUF_F32), gb_u32(b, 0x3e800000u);
    gb_str(b, "h.bool"), gb_u32(b, QK_GGUF_BOOL), gb_bytes(b, "\0", 1);

    /* strings: empty, UTF-8, long */
    static char big[100001];
    for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
    const char *strs[][2] = {{"s.empty", ""}, {"s.utf8", "héllo wörld ✓ ▁the"}, {"s.big", big}};
    for (size_t i = 0; i < 3; i++) {
        CHECK(qk_gguf_writer_add_str(w, strs[i][0], strs[i][1], &err) == QK_OK);
        gb_str(b, strs[i][0]), gb_u32(b, QK_GGUF_STRING), gb_str(b, strs[i][1]);
    }

    /* an array of every fixed-size element type (3 elements; one empty) */
    const uint8_t a_u8[3] = {0, 128, 255};
    const int8_t a_i8[3] = {-128, 0, 127};
    const uint16_t a_u16[3] = {0, 1, 65535};
    const int16_t a_i16[3] = {-32768, 0, 32767};
    const uint32_t a_u32[3] = {0, 1, 4294967295u};
    const int32_t a_i32[3] = {INT32_MIN, -1, INT32_MAX};
    const float a_f32[3] = {1e-30f, -0.0f, INFINITY};
    const uint8_t a_bool[3] = {1, 0, 1};
    const uint64_t a_u64[3] = {0, 1, UINT64_MAX};
    const int64_t a_i64[3] = {INT64_MIN, -1, INT64_MAX};
    const double a_f64[3] = {-2.5, 1e300, 5e-324};
    const struct { const char *key; uint32_t type; const void *v; uint64_t n; } arrs[] = {
        {"a.u8", QK_GGUF_U8, a_u8, 3},       {"a.i8", QK_GGUF_I8, a_i8, 3},     {"a.u16", QK_GGUF_U16, a_u16, 3},
        {"a.i16", QK_GGUF_I16, a_i16, 3},    {"a.u32", QK_GGUF_U32, a_u32, 3},  {"a.i32", QK_GGUF_I32, a_i32, 3},
        {"a.f32", QK_GGUF_F32, a_f32, 3},    {"a.bool", QK_GGUF_BOOL, a_bool, 3}, {"a.u64", QK_GGUF_U64, a_u64, 3},
        {"a.i64", QK_GGUF_I64, a_i64, 3},    {"a.f64", QK_GGUF_F64, a_f64, 3},  {"a.empty", QK_GGUF_U8, NULL, 0},
    };
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) {
        CHECK_MSG(qk_gguf_writer_add_arr(w, arrs[i].key, arrs[i].type, arrs[i].v, arrs[i].n, &err) == QK_OK, "%s",
                  err.msg);
        gb_str(b, arrs[i].key);
        gb_u32(b, QK_GGUF_ARRAY);
        gb_u32(b, arrs[i].type);
        gb_u64(b, arrs[i].n);
        gb_bytes(b, arrs[i].v, arrs[i].n * qk_gguf_type_size(arrs[i].type));
    }
    /* string arrays: plain, empty, and with explicit lengths (an embedded NUL) */
    const char *sa[4] = {"<s>", "</s>", "", "▁the"};
    CHECK(qk_gguf_writer_add_arr_str(w, "a.str", sa, 4, &err) == QK_OK);
    gb_str(b, "a.str"), gb_u32(b, QK_GGUF_ARRAY), gb_u32(b, QK_GGUF_STRING), gb_u64(b, 4);
    for (int i = 0; i < 4; i++) gb_str(b, sa[i]);
    CHECK(qk_gguf_writer_add_arr_str(w, "a.str_empty", NULL, 0, &err) == QK_OK);
    gb_str(b, "a.str_empty"), gb_u32(b, QK_GGUF_ARRAY), gb_u32(b, QK_GGUF_STRING), gb_u64(b, 0);
    if (nul) {
        const char *sn[2] = {"a\0b", "xyz"};
        const uint64_t ln[2] = {3, 2};
        CHECK(qk_gguf_writer_add_arr_strn(w, "a.strn", sn, ln, 2, &err) == QK_OK);
        gb_str(b, "a.strn"), gb_u32(b, QK_GGUF_ARRAY), gb_u32(b, QK_GGUF_STRING), gb_u64(b, 2);
        gb_u64(b, 3), gb_bytes(b, "a\0b", 3), gb_u64(b, 2), gb_bytes(b, "xy", 2);
    }
}

/* Writes the every-type file <tmpdir>/<name> (returned, static), with no tensor (and the NUL string)
 * or with one F32 tensor of 4 elements; the expected file bytes go to `want`. Without tensors
 * there is no data section and no padding after the KVs (as gguf-py writes
 * vocab-only files); with one, the data section starts at the next multiple
 * of 32 and the tensor is padded to 32 too. */
static const char *write_all(const char *name, bool with_tensor, gb_buf *want) {
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", qk_test_tmpdir(), name);
    qk_err err;
    gb_buf kvs = {0};
    qk_gguf_writer *w = qk_gguf_writer_new();
    declare_all(w, &kvs, !with_tensor);
    const float x[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    if (with_tensor) CHECK(qk_gguf_writer_add_tensor(w, "x", 0 /* F32 */, 1, (const int64_t[]){4}, &err) == QK_OK);
    gb_bytes(want, "GGUF", 4);
    gb_u32(want, 3);
    gb_u64(want, with_tensor ? 1 : 0);
    gb_u64(want, qk_gguf_writer_meta(w)->n_kv);
    gb_bytes(want, kvs.p, kvs.len);
    gb_free(&kvs);
    if (with_tensor) {
        gb_str(want, "x");
        gb_u32(want, 1);  /* n_dims */
        gb_u64(want, 4);  /* ne[0] */
        gb_u32(want, 0);  /* type F32 */
        gb_u64(want, 0);  /* offset in the data section */
        gb_pad(want, 32);
        CHECK_EQ_INT(qk_gguf_writer_header_size(w), want->len);
        gb_bytes(want, x, sizeof x);
        gb_pad(want, 32);
    } else {
        CHECK_EQ_INT(qk_gguf_writer_header_size(w), want->len);
    }
    CHECK_EQ_INT(qk_gguf_writer_file_size(w), want->len);
    CHECK_MSG(qk_gguf_writer_begin(w, path, &err) == QK_OK, "%s", err.msg);
    if (with_tensor) CHECK_MSG(qk_gguf_writer_write(w, x, sizeof x, &err) == QK_OK, "%s", err.msg);
    CHECK_MSG(qk_gguf_writer_finish(w, &err) == QK_OK, "%s", err.msg);
    qk_gguf_writer_free(w);
    return path;
}

static void test_bytes_follow_the_spec(void) {
    for (int with_tensor = 0; with_tensor < 2; with_tensor++) {
        gb_buf want = {0};
        const char *path = write_all(with_tensor ? "kv1.gguf" : "kv0.gguf", with_tensor, &want);
        size_t len = 0;
        unsigned char *got = qk_test_read_file(path, &len);
        CHECK(got != NULL);
        size_t first = 0;
        while (got && first < len && first < want.len && got[first] == want.p[first]) first++;
        CHECK_MSG(got && len == want.len && first == len, "%s tensor: %zu bytes, expected %zu; first difference at %zu",
                  with_tensor ? "one" : "no", len, want.len, first);
        free(got);
        gb_free(&want);
    }
}

/* Our reader gives back every KV exactly: order, type, count, bytes, strings
 * with their lengths (the NUL inside "a\0b" included). */
static void test_our_reader_round_trip(void) {
    gb_buf want = {0};
    const char *path = write_all("kv-read.gguf", false, &want);
    gb_free(&want);
    qk_gguf_writer *w = qk_gguf_writer_new(); /* the declarations, to compare with */
    gb_buf scratch = {0};
    declare_all(w, &scratch, true);
    gb_free(&scratch);
    const qk_gguf_meta *dm = qk_gguf_writer_meta(w);
    qk_gguf_file *f = gguf_open_checked(path);
    if (!f) {
        qk_gguf_writer_free(w);
        return;
    }
    CHECK_EQ_INT(f->meta.n_kv, dm->n_kv);
    CHECK_EQ_INT(f->meta.n_tensors, 0);
    for (uint64_t i = 0; i < f->meta.n_kv && i < dm->n_kv; i++) {
        const qk_gguf_kv *a = &dm->kv[i], *b = &f->meta.kv[i];
        CHECK_STR(b->key, a->key);
        CHECK_MSG(a->type == b->type && a->arr_type == b->arr_type && a->n == b->n, "%s: type/count", a->key);
        if (a->type != b->type || a->arr_type != b->arr_type || a->n != b->n) continue;
        if (a->type == QK_GGUF_STRING || a->arr_type == QK_GGUF_STRING) {
            const qk_gguf_str *sa = a->data, *sb = b->data;
            for (uint64_t k = 0; k < a->n; k++)
                CHECK_MSG(sa[k].len == sb[k].len && memcmp(sa[k].s, sb[k].s, sa[k].len) == 0, "%s[%llu]", a->key,
                          (unsigned long long)k);
        } else {
            const uint32_t t = a->type == QK_GGUF_ARRAY ? a->arr_type : a->type;
            CHECK_MSG(a->n == 0 || memcmp(a->data, b->data, a->n * qk_gguf_type_size(t)) == 0, "%s: value", a->key);
        }
    }
    /* the typed getters over the written values */
    int64_t v;
    double d;
    CHECK(qk_gguf_get_int(&f->meta, "t.u8", &v) && v == 200);
    CHECK(qk_gguf_get_int(&f->meta, "t.i16", &v) && v == -30000);
    CHECK(qk_gguf_get_int(&f->meta, "t.u32", &v) && v == 4000000000ll);
    CHECK(qk_gguf_get_int(&f->meta, "t.i64", &v) && v == -5000000000ll);
    CHECK(!qk_gguf_get_int(&f->meta, "t.u64", &v)); /* above INT64_MAX */
    CHECK(qk_gguf_get_float(&f->meta, "t.f64", &d) && d == 3.141592653589793);
    CHECK(qk_gguf_get_float(&f->meta, "h.f32", &d) && d == 0.25);
    CHECK_STR(qk_gguf_get_str(&f->meta, "s.utf8"), "héllo wörld ✓ ▁the");
    CHECK_STR(qk_gguf_get_str(&f->meta, "s.empty"), "");
    const qk_gguf_kv *sa = qk_gguf_find(&f->meta, "a.str");
    CHECK(sa && sa->n == 4 && !strcmp(((qk_gguf_str *)sa->data)[3].s, "▁the"));
    const qk_gguf_kv *ai = qk_gguf_find(&f->meta, "a.i64");
    CHECK(ai && qk_gguf_arr_int(ai, 0, &v) && v == INT64_MIN);
    qk_gguf_close(f);
    qk_gguf_writer_free(w);
}

/* llama.cpp's gguf_init_from_file reads the same KVs (with and without a
 * data section), and its writer given them writes our file again, byte for
 * byte (ggml always pads after the KVs, so only the file with a tensor). */
static void test_ggml_round_trip(void) {
    for (int with_tensor = 0; with_tensor < 2; with_tensor++) {
        gb_buf want = {0};
        gguf_ggml_agrees(write_all(with_tensor ? "kv-ggml1.gguf" : "kv-ggml0.gguf", with_tensor, &want), with_tensor);
        gb_free(&want);
    }
}

/* A fixed-size value rewritten after begin (integrity hashes do this) is what
 * both readers see; nothing else moves. */
static void test_patch(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/patch.gguf", qk_test_tmpdir());
    qk_err err;
    qk_gguf_writer *w = qk_gguf_writer_new();
    const uint64_t zero[4] = {0};
    CHECK(qk_gguf_writer_add_str(w, "general.architecture", "llama", &err) == QK_OK);
    CHECK(qk_gguf_writer_add_arr(w, "p.hash", QK_GGUF_U64, zero, 4, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_u32(w, "p.u32", 0, &err) == QK_OK);
    CHECK(qk_gguf_writer_patch(w, "p.u32", &zero, 4, &err) == QK_FAIL); /* before begin */
    CHECK_CONTAINS(err.msg, "before begin");
    CHECK(qk_gguf_writer_begin(w, path, &err) == QK_OK);
    CHECK(qk_gguf_writer_add_u32(w, "late", 1, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "before begin()");
    const uint64_t h[4] = {1, 2, 3, 0xfedcba9876543210ull};
    const uint32_t u = 0xdeadbeef;
    CHECK(qk_gguf_writer_patch(w, "p.hash", h, sizeof h, &err) == QK_OK);
    CHECK(qk_gguf_writer_patch(w, "p.u32", &u, 4, &err) == QK_OK);
    CHECK(qk_gguf_writer_patch(w, "p.u32", h, 8, &err) == QK_FAIL); /* wrong size */
    CHECK_CONTAINS(err.msg, "not a fixed-size value of 8 bytes");
    CHECK(qk_gguf_writer_patch(w, "general.architecture", "x", 1, &err) == QK_FAIL); /* a string */
    CHECK(qk_gguf_writer_patch(w, "absent", &u, 4, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "undeclared key 'absent'");
    CHECK_MSG(qk_gguf_writer_finish(w, &err) == QK_OK, "%s", err.msg);
    qk_gguf_writer_free(w);
    qk_gguf_file *f = gguf_open_checked(path);
    if (!f) return;
    const qk_gguf_kv *kv = qk_gguf_find(&f->meta, "p.hash");
    CHECK(kv && kv->n == 4 && memcmp(kv->data, h, sizeof h) == 0);
    int64_t v;
    CHECK(qk_gguf_get_int(&f->meta, "p.u32", &v) && v == 0xdeadbeef);
    qk_gguf_close(f);
    gguf_ggml_agrees(path, true);
}

static void test_declaration_errors(void) {
    qk_err err;
    qk_gguf_writer *w = qk_gguf_writer_new();
    CHECK(qk_gguf_writer_add_str(w, "k", "v", &err) == QK_OK);
    CHECK(qk_gguf_writer_add_u32(w, "k", 1, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "key 'k' declared twice");
    CHECK(qk_gguf_writer_add_u32(w, "", 1, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "empty key");
    const uint32_t one = 1;
    CHECK(qk_gguf_writer_add_scalar(w, "x", QK_GGUF_ARRAY, &one, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not a scalar type");
    CHECK(qk_gguf_writer_add_scalar(w, "x", QK_GGUF_TYPE_COUNT, &one, &err) == QK_FAIL);
    CHECK(qk_gguf_writer_add_arr(w, "x", QK_GGUF_STRING, &one, 1, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not fixed-size");
    CHECK(qk_gguf_writer_add_arr(w, "x", QK_GGUF_ARRAY, &one, 1, &err) == QK_FAIL);
    CHECK(qk_gguf_writer_add_arr(w, "x", 99, &one, 1, &err) == QK_FAIL);
    CHECK(qk_gguf_writer_add_arr(w, "x", QK_GGUF_U64, &one, UINT64_MAX / 4, &err) == QK_FAIL); /* size overflows */
    CHECK_EQ_INT(qk_gguf_writer_meta(w)->n_kv, 1); /* failures declare nothing */
    /* copied KVs keep every type (the reader's kv as the source) */
    qk_gguf_str s = {3, (char *)"a\0c"};
    qk_gguf_kv src = {.key = (char *)"copied", .type = QK_GGUF_STRING, .n = 1, .data = &s};
    CHECK(qk_gguf_writer_add_kv(w, &src, &err) == QK_OK);
    const qk_gguf_kv *c = qk_gguf_find(qk_gguf_writer_meta(w), "copied");
    CHECK(c && ((qk_gguf_str *)c->data)->len == 3 && !memcmp(((qk_gguf_str *)c->data)->s, "a\0c", 3));
    /* removal keeps the order of the rest; a removed key can be declared again, last */
    CHECK(qk_gguf_writer_add_u32(w, "z", 1, &err) == QK_OK);
    CHECK(qk_gguf_writer_remove_kv(w, "k"));
    CHECK(!qk_gguf_writer_remove_kv(w, "k"));
    CHECK(qk_gguf_writer_add_u32(w, "k", 2, &err) == QK_OK);
    const qk_gguf_meta *m = qk_gguf_writer_meta(w);
    CHECK(m->n_kv == 3 && !strcmp(m->kv[0].key, "copied") && !strcmp(m->kv[1].key, "z") && !strcmp(m->kv[2].key, "k"));
    /* set: a declared key keeps its place with the new type and value (GGUFWriter's overwrite), a new one is last */
    const float f = 2.5f;
    const uint32_t u = 9;
    CHECK(qk_gguf_writer_set_scalar(w, "z", QK_GGUF_F32, &f, &err) == QK_OK);
    CHECK(qk_gguf_writer_set_scalar(w, "new", QK_GGUF_U32, &u, &err) == QK_OK);
    CHECK(qk_gguf_writer_set_scalar(w, "copied", QK_GGUF_U32, &u, &err) == QK_OK);
    m = qk_gguf_writer_meta(w);
    CHECK(m->n_kv == 4 && !strcmp(m->kv[0].key, "copied") && !strcmp(m->kv[1].key, "z") && !strcmp(m->kv[2].key, "k") &&
          !strcmp(m->kv[3].key, "new"));
    CHECK(m->kv[1].type == QK_GGUF_F32 && *(const float *)m->kv[1].data == 2.5f);
    CHECK(m->kv[0].type == QK_GGUF_U32 && *(const uint32_t *)m->kv[0].data == 9);
    CHECK(qk_gguf_writer_set_scalar(w, "z", QK_GGUF_ARRAY, &u, &err) == QK_FAIL); /* not a scalar: z kept */
    CHECK(qk_gguf_writer_meta(w)->n_kv == 4 && qk_gguf_find(qk_gguf_writer_meta(w), "z"));
    qk_gguf_writer_free(w);
}

int main(void) {
    RUN(test_bytes_follow_the_spec);
    RUN(test_our_reader_round_trip);
    RUN(test_ggml_round_trip);
    RUN(test_patch);
    RUN(test_declaration_errors);
    return qk_test_summary();
}
