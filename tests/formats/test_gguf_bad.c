/* One handcrafted bad GGUF per check of the safe-parser checklist
 * (docs: llamacpp.md §8): each is rejected with its own message, from a
 * buffer and from a file, with no crash and no allocation sized by the lie. */
#include "gguf.h"
#include "gguf_build.h"
#include "qk_test.h"

static void header(gb_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_bytes(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}

/* A valid one-tensor file with a configurable tail, for tensor-info cases. */
static void tensor_file(gb_buf *b, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type,
                        uint64_t offset, size_t data_bytes) {
    header(b, 3, 1, 1);
    gb_str(b, "general.architecture");
    gb_u32(b, 8);
    gb_str(b, "llama");
    gb_str(b, name);
    gb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gb_u64(b, (uint64_t)ne[d]);
    gb_u32(b, type);
    gb_u64(b, offset);
    gb_pad(b, 32);
    static const unsigned char z[4096];
    while (data_bytes) {
        size_t k = data_bytes < sizeof z ? data_bytes : sizeof z;
        gb_bytes(b, z, k);
        data_bytes -= k;
    }
}

static void expect_reject(gb_buf *b, const char *needle) {
    qk_gguf_meta m;
    qk_err err = {{0}};
    int rc = qk_gguf_parse_buffer(b->p, b->len, b->len, "bad.gguf", &m, &err);
    CHECK_MSG(rc == QK_FAIL, "accepted, expected '%s'", needle);
    if (rc == QK_OK) qk_gguf_meta_free(&m);
    CHECK_CONTAINS(err.msg, needle);
    CHECK_CONTAINS(err.msg, "bad.gguf");
    /* the same through the file reader */
    char path[600];
    snprintf(path, sizeof path, "%s/bad.gguf", qk_test_tmpdir());
    CHECK(qk_test_write_file(path, b->p, b->len) == 0);
    qk_gguf_file *f = NULL;
    qk_err ferr = {{0}};
    CHECK(qk_gguf_open(path, &f, &ferr) == QK_FAIL);
    qk_gguf_close(f);
    CHECK_CONTAINS(ferr.msg, needle);
    gb_free(b);
}

static void kv_file(gb_buf *b, const char *key, uint32_t type) {
    header(b, 3, 0, 1);
    gb_str(b, key);
    gb_u32(b, type);
}

static void test_header_checks(void) {
    gb_buf b = {0};
    gb_bytes(&b, "GGUX", 4), gb_u32(&b, 3), gb_u64(&b, 0), gb_u64(&b, 0);
    expect_reject(&b, "not a GGUF file");
    header(&b, 1, 0, 0);
    expect_reject(&b, "version 1 is obsolete");
    header(&b, 4, 0, 0);
    expect_reject(&b, "unsupported GGUF version 4");
    header(&b, 0x03000000u, 0, 0);
    expect_reject(&b, "big-endian");
    gb_bytes(&b, "GGUF", 4), gb_u32(&b, 3);
    expect_reject(&b, "truncated while reading the tensor count");
}

static void test_count_checks(void) {
    gb_buf b = {0};
    header(&b, 3, 0, 1ull << 40);
    expect_reject(&b, "key-value count 1099511627776 cannot fit");
    header(&b, 3, UINT64_MAX, 0);
    expect_reject(&b, "tensor count");
}

static void test_string_checks(void) {
    gb_buf b = {0};
    header(&b, 3, 0, 1);
    gb_u64(&b, 70000000000ull); /* the corrupted-fixture lie: ~7e10 bytes */
    gb_bytes(&b, "0123456789abcdefghij", 20);
    expect_reject(&b, "the key of key-value 0 has length 70000000000, more than the limit");
    header(&b, 3, 0, 1);
    gb_u64(&b, 100);
    gb_bytes(&b, "abcdefghijklmnopqrstuvwxyz", 26);
    expect_reject(&b, "has length 100 but only 26 bytes remain");
    header(&b, 3, 0, 1);
    gb_str(&b, "");
    gb_u32(&b, 4), gb_u32(&b, 1);
    expect_reject(&b, "empty key");
    header(&b, 3, 0, 1);
    gb_u64(&b, 3), gb_bytes(&b, "a\0b", 3);
    gb_u32(&b, 4), gb_u32(&b, 1);
    expect_reject(&b, "NUL byte");
}

static void test_kv_checks(void) {
    gb_buf b = {0};
    header(&b, 3, 0, 2);
    gb_str(&b, "a.b"), gb_u32(&b, 4), gb_u32(&b, 1);
    gb_str(&b, "a.b"), gb_u32(&b, 4), gb_u32(&b, 2);
    expect_reject(&b, "key 'a.b' appears more than once");
    kv_file(&b, "x", 13), gb_u32(&b, 0);
    expect_reject(&b, "invalid value type 13");
    kv_file(&b, "x", 9), gb_u32(&b, 9), gb_u64(&b, 1);
    expect_reject(&b, "nested arrays");
    kv_file(&b, "x", 9), gb_u32(&b, 77), gb_u64(&b, 1);
    expect_reject(&b, "invalid array element type 77");
    kv_file(&b, "x", 9), gb_u32(&b, 10), gb_u64(&b, 1ull << 61), gb_u64(&b, 0);
    expect_reject(&b, "values of type u64 need more than");
    kv_file(&b, "x", 9), gb_u32(&b, 8), gb_u64(&b, 1ull << 62), gb_str(&b, "tok");
    expect_reject(&b, "strings cannot fit");
    kv_file(&b, "x", 7), gb_bytes(&b, "\x02", 1);
    expect_reject(&b, "bool value 2, expected 0 or 1");
    kv_file(&b, "x", 9), gb_u32(&b, 8), gb_u64(&b, 2), gb_str(&b, "ok"), gb_u64(&b, 1u << 31);
    expect_reject(&b, "element 1");
}

static void test_alignment_checks(void) {
    gb_buf b = {0};
    kv_file(&b, "general.alignment", 5), gb_u32(&b, 32);
    expect_reject(&b, "general.alignment has type i32, expected u32");
    kv_file(&b, "general.alignment", 4), gb_u32(&b, 48);
    expect_reject(&b, "general.alignment is 48");
    kv_file(&b, "general.alignment", 4), gb_u32(&b, 0);
    expect_reject(&b, "general.alignment is 0");
    kv_file(&b, "general.alignment", 4), gb_u32(&b, 1u << 21);
    expect_reject(&b, "general.alignment is 2097152");
}

static void test_tensor_checks(void) {
    /* One tensor info per check: name, n_dims, ne, type, offset, data bytes after the header, message. */
    static const struct {
        const char *name;
        uint32_t n_dims;
        int64_t ne[5];
        uint32_t type;
        uint64_t offset;
        size_t data;
        const char *msg;
    } cases[] = {
        {"this.tensor.name.is.far.too.long.for.ggml.which.allows.63.bytes.x", 2, {32, 2}, 0, 0, 256,
         "expected 1..63 bytes"},
        {"t", 5, {32, 2, 1, 1, 1}, 0, 0, 256, "5 dimensions, at most 4"},
        {"t", 2, {32, -1}, 0, 0, 256, "is negative"},
        {"t", 3, {1ll << 32, 1ll << 32, 4}, 0, 0, 0, "element count overflows"},
        {"t", 2, {1ll << 61, 2}, 0, 0, 0, "byte size overflows"},
        /* one F32 row of 2^62 + 1 values: 4 * ne0 wraps to 4 bytes (found by the
         * imatrix_gguf fuzzer: a tiny tensor claiming a huge shape) */
        {"t", 2, {(1ll << 62) + 1, 1}, 0, 0, 0, "row of 4611686018427387905 f32 values overflows 64 bits"},
        {"t", 2, {32, 2}, 4, 0, 256, "unknown or removed ggml type 4"},
        {"t", 2, {32, 2}, 99, 0, 256, "unknown or removed ggml type 99"},
        {"t", 2, {33, 2}, 2, 0, 256, "row length 33 is not a multiple of q4_0's block size 32"},
        {"t", 2, {32, 2}, 0, 32, 512, "data offset 32, expected 0"},
        {"t", 2, {32, 2}, 0, 0, 100, "the tensor data needs the file to be"},
    };
    gb_buf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tensor_file(&b, cases[i].name, cases[i].n_dims, cases[i].ne, cases[i].type, cases[i].offset, cases[i].data);
        expect_reject(&b, cases[i].msg);
    }
}

static void test_truncated_data_message(void) {
    gb_buf b = {0};
    int64_t ne[2] = {32, 2};
    tensor_file(&b, "t", 2, ne, 0, 0, 100); /* needs 256 bytes of data */
    qk_gguf_meta m;
    qk_err err;
    CHECK(qk_gguf_parse_buffer(b.p, b.len, b.len, "t.gguf", &m, &err) == QK_FAIL);
    char want[128];
    snprintf(want, sizeof want, "needs the file to be %zu bytes, have %zu", b.len - 100 + 256, b.len);
    CHECK_CONTAINS(err.msg, want);
    gb_free(&b);
}

static void test_duplicate_tensor(void) {
    gb_buf b = {0};
    header(&b, 3, 2, 0);
    for (int i = 0; i < 2; i++) {
        gb_str(&b, "w"), gb_u32(&b, 1), gb_u64(&b, 8), gb_u32(&b, 0), gb_u64(&b, (uint64_t)i * 32);
    }
    gb_pad(&b, 32);
    static const unsigned char z[64];
    gb_bytes(&b, z, 64);
    expect_reject(&b, "tensor 'w' appears more than once");
}

static void test_every_truncation_of_a_good_file(void) {
    gb_buf b = {0};
    int64_t ne[2] = {32, 2};
    tensor_file(&b, "blk.0.attn_q.weight", 2, ne, 8 /* q8_0 */, 0, 68);
    qk_gguf_meta m;
    qk_err err;
    CHECK_MSG(qk_gguf_parse_buffer(b.p, b.len, b.len, "good.gguf", &m, &err) == QK_OK, "%s", err.msg);
    qk_gguf_meta_free(&m);
    int accepted = 0;
    for (size_t n = 0; n < b.len; n++) {
        if (qk_gguf_parse_buffer(b.p, n, n, "cut.gguf", &m, &err) == QK_OK) {
            accepted++;
            qk_gguf_meta_free(&m);
        }
    }
    CHECK_EQ_INT(accepted, 0);
    gb_free(&b);
}

static void test_corrupted_fixture(void) {
    const char *p = qk_test_fixture("gguf-by-others/ggml-vocab-llama-spm.corrupted.gguf");
    if (!p) return;
    qk_gguf_file *f = NULL;
    qk_err err;
    CHECK(qk_gguf_open(p, &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "corrupted.gguf");
    fprintf(stderr, "corrupted fixture: %s\n", err.msg);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_header_checks);
    RUN(test_count_checks);
    RUN(test_string_checks);
    RUN(test_kv_checks);
    RUN(test_alignment_checks);
    RUN(test_tensor_checks);
    RUN(test_truncated_data_message);
    RUN(test_duplicate_tensor);
    RUN(test_every_truncation_of_a_good_file);
    RUN_PART("fixtures", test_corrupted_fixture);
    return qk_test_summary();
}
