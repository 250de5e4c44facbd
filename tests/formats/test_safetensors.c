/* The safetensors parser (formats/safetensors.c) on files built here byte by
 * byte: a good file of every dtype family (shapes, offsets, metadata, values
 * widened to float32 exactly, raw reads, range errors), then one bad file per
 * check the format needs (file too short, header length past the file or
 * huge, truncated data and header, invalid JSON, invalid UTF-8, wrong shape
 * of entries, unknown dtype, bad/overlapping/out-of-range offsets, shape x
 * dtype size mismatch, element-count overflow, duplicates), each rejected
 * with its own message; and every truncation of the good file. Part
 * "fixtures": the real stories260K checkpoints (written by the Python
 * safetensors library), every tensor equal to an independent minimal reader. */
#include <math.h>

#include "hf_safetensors_min.h"
#include "fixture_copy.h"
#include "qk_test.h"
#include "safetensors.h"
#include "tensor_rows.h" /* qk_st_read_f32: the widening reader lives in quantize/ */

/* Writes u64 LE len(json) | json | data (n bytes) to tmpdir/name; returns the path (static). */
static const char *put_file(const char *name, const char *json, uint64_t hdr_len, const void *data, size_t n) {
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", qk_test_tmpdir(), name);
    const size_t jl = strlen(json);
    unsigned char *b = malloc(8 + jl + n + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(hdr_len >> (8 * i));
    memcpy(b + 8, json, jl);
    if (n) memcpy(b + 8 + jl, data, n);
    CHECK(qk_test_write_file(path, b, 8 + jl + n) == 0);
    free(b);
    return path;
}

/* Opens a file made of json + n data bytes (header length = strlen(json)). */
static int open_json(const char *json, const void *data, size_t n, qk_st_file **f, qk_err *err) {
    return qk_st_open(put_file("t.safetensors", json, strlen(json), data, n), f, err);
}

#define GOOD_JSON                                                                                                      \
    "{\"__metadata__\": {\"format\": \"pt\", \"note\": \"h\\u00e9\"},"                                                 \
    " \"w.f32\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]},"                                 \
    " \"w.f16\": {\"dtype\": \"F16\", \"shape\": [4], \"data_offsets\": [24, 32]},"                                    \
    " \"w.bf16\": {\"dtype\": \"BF16\", \"shape\": [1, 2], \"data_offsets\": [32, 36]},"                               \
    " \"w.i64\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [36, 44]},"                                    \
    " \"w.f8\": {\"dtype\": \"F8_E4M3\", \"shape\": [3], \"data_offsets\": [44, 47]},"                                 \
    " \"w.f64\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [47, 55]},"                                    \
    " \"w.empty\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [55, 55]},"                               \
    " \"w.scalar\": {\"dtype\": \"U8\", \"shape\": [], \"data_offsets\": [55, 56]}}"

/* The data section of GOOD_JSON (56 bytes), little-endian. */
static void good_data(unsigned char d[56]) {
    const float f[6] = {1.0f, -2.5f, 0.0f, 3.25f, -0.0f, 1e-3f};
    memcpy(d, f, 24);
    const uint16_t h[4] = {0x3c00 /* 1.0 */, 0xc000 /* -2.0 */, 0x0001 /* 2^-24 */, 0x7c00 /* inf */};
    memcpy(d + 24, h, 8);
    const uint16_t bf[2] = {0x3fc0 /* 1.5 */, 0xc120 /* -10.0 */};
    memcpy(d + 32, bf, 4);
    const int64_t i = -7;
    memcpy(d + 36, &i, 8);
    d[44] = 0x38, d[45] = 0xb8, d[46] = 0x7e; /* e4m3: 1.0, -1.0, 448 */
    const double g = 0.1;
    memcpy(d + 47, &g, 8);
    d[55] = 42;
}

static void test_good_file(void) {
    unsigned char d[56];
    good_data(d);
    qk_st_file *f = NULL;
    qk_err err;
    CHECK_MSG(open_json(GOOD_JSON, d, sizeof d, &f, &err) == QK_OK, "%s", err.msg);
    if (!f) return;
    CHECK_EQ_INT(f->n_tensors, 8);
    CHECK_EQ_INT(f->data_start, 8 + strlen(GOOD_JSON));
    CHECK_EQ_INT(f->n_meta, 2);
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], "note")) CHECK_STR(f->meta_values[i], "h\xc3\xa9");
    for (size_t i = 1; i < f->n_tensors; i++) CHECK(strcmp(f->tensors[i - 1].name, f->tensors[i].name) < 0);
    const qk_st_tensor *t = qk_st_find(f, "w.f32");
    CHECK(t && t->dtype == QK_ST_F32 && t->n_dims == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->n_elements == 6);
    CHECK(t && t->begin == 0 && t->end == 24);
    CHECK(qk_st_find(f, "absent") == NULL);
    float v[8];
    CHECK(t && qk_st_read_f32(f, t, 0, 6, v, &err) == QK_OK && v[1] == -2.5f && v[5] == 1e-3f && signbit(v[4]));
    CHECK(t && qk_st_read_f32(f, t, 3, 2, v, &err) == QK_OK && v[0] == 3.25f); /* a slice */
    t = qk_st_find(f, "w.f16");
    CHECK(t && qk_st_read_f32(f, t, 0, 4, v, &err) == QK_OK && v[0] == 1.0f && v[1] == -2.0f &&
          v[2] == ldexpf(1.0f, -24) && isinf(v[3]));
    t = qk_st_find(f, "w.bf16");
    CHECK(t && t->n_elements == 2 && qk_st_read_f32(f, t, 0, 2, v, &err) == QK_OK && v[0] == 1.5f && v[1] == -10.0f);
    t = qk_st_find(f, "w.f8");
    CHECK(t && qk_st_read_f32(f, t, 0, 3, v, &err) == QK_OK && v[0] == 1.0f && v[1] == -1.0f && v[2] == 448.0f);
    t = qk_st_find(f, "w.f64");
    CHECK(t && qk_st_read_f32(f, t, 0, 1, v, &err) == QK_OK && v[0] == 0.1f);
    t = qk_st_find(f, "w.empty");
    CHECK(t && t->n_elements == 0 && t->begin == t->end);
    t = qk_st_find(f, "w.scalar");
    CHECK(t && t->n_dims == 0 && t->n_elements == 1);
    /* raw bytes; integer tensors are not floats */
    t = qk_st_find(f, "w.i64");
    int64_t iv = 0;
    CHECK(t && qk_st_read_raw(f, t, 0, 8, &iv, &err) == QK_OK && iv == -7);
    CHECK(t && qk_st_read_f32(f, t, 0, 1, v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "expected a float type");
    /* reads outside a tensor */
    t = qk_st_find(f, "w.f32");
    CHECK(t && qk_st_read_f32(f, t, 5, 2, v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "out of range");
    CHECK(t && qk_st_read_f32(f, t, UINT64_MAX, 2, v, &err) == QK_FAIL);
    CHECK(t && qk_st_read_raw(f, t, 20, 8, v, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "outside its 24 bytes");
    CHECK(t && qk_st_read_raw(f, t, 24, 0, v, &err) == QK_OK);
    qk_st_close(f);
    /* an empty header object is a valid file with no tensors */
    CHECK(open_json("{}", NULL, 0, &f, &err) == QK_OK && f && f->n_tensors == 0);
    qk_st_close(f);
}

/* One bad input: json (+ n data bytes) must be rejected with `msg` in the error. */
static void bad(const char *json, size_t n, const char *msg) {
    static unsigned char zeros[4096];
    qk_st_file *f = (qk_st_file *)1;
    qk_err err = {{0}};
    const int rc = open_json(json, zeros, n, &f, &err);
    CHECK_MSG(rc == QK_FAIL && f == NULL, "accepted: %s", json);
    CHECK_MSG(strstr(err.msg, msg) != NULL, "'%s' lacks '%s' (header %s)", err.msg, msg, json);
    CHECK_MSG(strstr(err.msg, "t.safetensors") != NULL, "'%s' does not name the file", err.msg);
}

#define T(body) "{\"t\": {" body "}}"

/* One bad header per check: (JSON, data bytes after it, expected message part). */
static const struct {
    const char *json;
    size_t data;
    const char *msg;
} k_bad[] = {
    /* the JSON itself */
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", 4, "not valid JSON"}, /* cut */
    {"[1, 2]", 0, "not a JSON object"},
    {"{\"t\": 5}", 0, "entry is not an object"},
    {"{\"t\xff\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1, "UTF-8"},
    {"{\"__metadata__\": {\"k\": \"\xc3\"}}", 0, "UTF-8"}, /* a cut two-byte sequence */
    {"{\"__metadata__\": {\"k\": \"\xed\xa0\x80\"}}", 0, "UTF-8"}, /* an encoded surrogate */
    {"{\"__metadata__\": [1]}", 0, "__metadata__ is not an object"},
    {"{\"__metadata__\": {\"k\": 1}}", 0, "value of 'k' is not a string"},
    {"{\"__metadata__\": {}, \"__metadata__\": {}}", 0, "appears twice"},
    /* dtype */
    {T("\"shape\": [1], \"data_offsets\": [0, 4]"), 4, "dtype missing"},
    {T("\"dtype\": 4, \"shape\": [1], \"data_offsets\": [0, 4]"), 4, "dtype missing or not a string"},
    {T("\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]"), 4, "unsupported dtype 'F33'"},
    {T("\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]"), 4, "unsupported dtype 'f32'"},
    /* shape */
    {T("\"dtype\": \"F32\", \"data_offsets\": [0, 4]"), 4, "shape missing"},
    {T("\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]"), 4, "shape[0] is not a non-negative integer"},
    {T("\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]"), 4, "shape[0] is not"},
    {T("\"dtype\": \"F32\", \"shape\": [1, \"2\"], \"data_offsets\": [0, 8]"), 8, "shape[1] is not"},
    {T("\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]"), 4, "9 dimensions, at most 8"},
    {T("\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296, 4294967296], \"data_offsets\": [0, 1]"), 1,
     "element count overflows"},
    /* offsets */
    {T("\"dtype\": \"F32\", \"shape\": [1]"), 4, "data_offsets must be"},
    {T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]"), 4, "data_offsets must be"},
    {T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]"), 8, "data_offsets must be"},
    {T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]"), 4, "data_offsets must be"},
    {T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 1e300]"), 4, "data_offsets must be"},
    {T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]"), 8, "begin 8 > end 4"},
    {T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]"), 6, "past the 6 bytes of data"},
    {T("\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]"), 7, "truncated file?"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
     " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", 24, "'a' and 'b' overlap"},
    {"{\"a\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]},"
     " \"b\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [3, 5]}}", 8, "overlap"}, /* b inside a */
    /* shape x dtype size */
    {T("\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]"), 20,
     "20 bytes for 6 elements of F32, expected 24"},
    {T("\"dtype\": \"BF16\", \"shape\": [3], \"data_offsets\": [0, 4]"), 4, "expected 6"},
    /* 2^62 elements x 8 bytes overflow */
    {T("\"dtype\": \"F64\", \"shape\": [2147483648, 2147483648], \"data_offsets\": [0, 8]"), 8, "expected 0"},
    /* duplicates */
    {"{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
     " \"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2, "tensor 'a' appears twice"},
};

static void test_bad_headers(void) {
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) bad(k_bad[i].json, k_bad[i].data, k_bad[i].msg);
}

/* The 8-byte header length against the file and the 100 MB limit. */
static void test_header_length(void) {
    qk_st_file *f = NULL;
    qk_err err;
    const char *p = put_file("short.safetensors", "", 0, "abc", 3); /* 8 + 3 bytes: length 0, then garbage */
    CHECK(qk_st_open(p, &f, &err) == QK_FAIL); /* "" is not JSON */
    CHECK_CONTAINS(err.msg, "not valid JSON");
    char path[700];
    snprintf(path, sizeof path, "%s/tiny.safetensors", qk_test_tmpdir());
    CHECK(qk_test_write_file(path, "\x02\0\0\0", 4) == 0);
    CHECK(qk_st_open(path, &f, &err) == QK_FAIL && f == NULL);
    CHECK_CONTAINS(err.msg, "too short to be a safetensors file (4 bytes)");
    CHECK(qk_st_open(put_file("past.safetensors", "{}", 3, NULL, 0), &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "header length 3 is larger than the file");
    CHECK(qk_st_open(put_file("huge.safetensors", "{}", UINT64_MAX, NULL, 0), &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "the 100 MB limit");
    CHECK(qk_st_open(put_file("limit.safetensors", "{}", QK_ST_MAX_HEADER + 1ull, NULL, 0), &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "the 100 MB limit");
    CHECK(qk_st_open(put_file("shorter.safetensors", "{}  ", 2, NULL, 0), &f, &err) == QK_OK); /* 2 bytes of data */
    CHECK(f && f->data_start == 10);
    qk_st_close(f);
    snprintf(path, sizeof path, "%s", qk_test_tmpdir()); /* a folder */
    CHECK(qk_st_open(path, &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not a regular file");
    CHECK(qk_st_open("/nonexistent/x.safetensors", &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "cannot open");
}

/* Every proper prefix of the good file fails cleanly with nothing allocated
 * (ASan watches), except the cuts that still hold whole tensors: none, since
 * the last tensor ends at the last byte. */
static void test_every_truncation(void) {
    unsigned char d[56];
    good_data(d);
    const char *p = put_file("full.safetensors", GOOD_JSON, strlen(GOOD_JSON), d, sizeof d);
    size_t len = 0;
    unsigned char *full = qk_test_read_file(p, &len);
    CHECK(full && len == 8 + strlen(GOOD_JSON) + 56);
    if (!full) return;
    char cut_path[700];
    snprintf(cut_path, sizeof cut_path, "%s/cut.safetensors", qk_test_tmpdir());
    int accepted = 0;
    for (size_t cut = 0; cut < len; cut++) {
        CHECK(qk_test_write_file(cut_path, full, cut) == 0);
        qk_st_file *f = NULL;
        qk_err err;
        if (qk_st_open(cut_path, &f, &err) == QK_OK) accepted++, qk_st_close(f);
    }
    CHECK_EQ_INT(accepted, 0);
    free(full);
}

/* (fixtures) real files written by the safetensors library: every tensor
 * equals what the independent minimal reader (tests/support) reads. */
static void test_real_checkpoints(void) {
    char base[1024];
    if (!fixture_copy(base, sizeof base, "stories260K")) return;
    static const char *const sub[2] = {"hf", "hf-bf16"};
    for (int k = 0; k < 2; k++) {
        char path[1200], e[512];
        snprintf(path, sizeof path, "%s/%s/model.safetensors", base, sub[k]);
        qk_st_file *f = NULL;
        qk_err err;
        CHECK_MSG(qk_st_open(path, &f, &err) == QK_OK, "%s", err.msg);
        hf_st_min *ref = hf_st_min_open(path, e, sizeof e);
        CHECK_MSG(ref != NULL, "%s", e);
        if (!f || !ref) {
            qk_st_close(f), hf_st_min_close(ref);
            continue;
        }
        CHECK_EQ_INT(f->n_tensors, hf_st_min_count(ref));
        CHECK(qk_st_find(f, "model.embed_tokens.weight") != NULL);
        size_t compared = 0;
        for (size_t i = 0; i < f->n_tensors; i++) {
            const qk_st_tensor *t = &f->tensors[i];
            CHECK(t->dtype == (k ? QK_ST_BF16 : QK_ST_F32));
            int64_t shape[8];
            int nd = 0;
            const float *want = hf_st_min_get(ref, t->name, shape, &nd);
            CHECK_MSG(want != NULL, "%s", t->name);
            if (!want) continue;
            CHECK_EQ_INT(nd, t->n_dims);
            for (int dd = 0; dd < nd && dd < t->n_dims; dd++) CHECK_EQ_INT(shape[dd], t->shape[dd]);
            float *got = malloc(sizeof(float) * (t->n_elements ? t->n_elements : 1));
            CHECK(qk_st_read_f32(f, t, 0, t->n_elements, got, &err) == QK_OK);
            CHECK_MSG(memcmp(got, want, sizeof(float) * t->n_elements) == 0, "%s/%s differs", sub[k], t->name);
            free(got);
            compared++;
        }
        CHECK(compared > 10);
        qk_st_close(f);
        hf_st_min_close(ref);
    }
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_good_file);
    RUN(test_bad_headers);
    RUN(test_header_length);
    RUN(test_every_truncation);
    RUN_PART("fixtures", test_real_checkpoints);
    return qk_test_summary();
}
