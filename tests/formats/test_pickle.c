/* Proves formats/pickle.c: torch's state-dict pickles (written here by the
 * format's rules, tests/support/torch_write.c) come back as tensor
 * descriptions, and every hostile pickle (code-running globals, a canary
 * that would create a file if anything were executed, objects, out-of-band
 * buffers, deep nesting, bad storages, absurd sizes, truncations) is refused
 * with one line naming the opcode offset and the global. */
#include <sys/stat.h>

#include "pickle.h"
#include "qk_test.h"
#include "torch_write.h"

static const tw_tensor k_good[] = {
    {"model.embed.weight", "0", "FloatStorage", 12, 0, 2, {3, 4}, {4, 1}, false},
    {"model.shared.a", "1", "HalfStorage", 100, 10, 2, {2, 5}, {5, 1}, true},
    {"model.shared.b", "1", "HalfStorage", 100, 40, 1, {60}, {1}, false},
    {"model.transposed", "2", "BFloat16Storage", 6, 0, 2, {3, 2}, {1, 3}, false},
    {"model.scalar", "3", "LongStorage", 1, 0, 0, {0}, {0}, false},
};

static void test_state_dict(void) {
    for (int od = 0; od < 2; od++) {
        size_t len;
        uint8_t *p = tw_pickle(k_good, 5, od, &len);
        qk_pt_state s;
        qk_err err = {{0}};
        int rc = qk_pickle_state_dict("data.pkl", p, len, &s, &err);
        CHECK_MSG(rc == QK_OK, "%s", err.msg);
        if (rc == QK_OK) {
            CHECK_EQ_INT(s.n, 5);
            for (size_t i = 0; i < s.n && i < 5; i++) {
                const qk_pt_tensor *t = &s.tensors[i];
                CHECK_STR(t->name, k_good[i].name);
                CHECK_STR(t->storage_key, k_good[i].key);
                CHECK_EQ_INT(t->storage_numel, k_good[i].storage_numel);
                CHECK_EQ_INT(t->offset, k_good[i].offset);
                CHECK_EQ_INT(t->n_dims, k_good[i].nd);
                for (int d = 0; d < t->n_dims; d++)
                    CHECK(t->shape[d] == k_good[i].shape[d] && t->stride[d] == k_good[i].stride[d]);
            }
            CHECK_EQ_INT(s.tensors[0].dtype, QK_ST_F32);
            CHECK_EQ_INT(s.tensors[1].dtype, QK_ST_F16);
            CHECK_EQ_INT(s.tensors[3].dtype, QK_ST_BF16);
            CHECK_EQ_INT(s.tensors[4].dtype, QK_ST_I64);
            CHECK_EQ_INT(s.tensors[4].n_elements, 1);
            CHECK_EQ_INT(s.tensors[3].span, 6);
            CHECK(qk_pt_tensor_contiguous(&s.tensors[0]));
            CHECK(qk_pt_tensor_contiguous(&s.tensors[2]));
            CHECK(!qk_pt_tensor_contiguous(&s.tensors[3]));
            qk_pt_state_free(&s);
        }
        /* every truncation is refused cleanly */
        int accepted = 0;
        for (size_t cut = 0; cut < len; cut++)
            if (qk_pickle_state_dict("cut.pkl", p, cut, &s, &err) == QK_OK) accepted++, qk_pt_state_free(&s);
        CHECK_EQ_INT(accepted, 0);
        free(p);
    }
}

/* Protocol 4 as Python 3.8+ pickles: FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE. */
static void test_protocol4(void) {
    pk_buf p = {0};
    pk_op(&p, 0x80), pk_op(&p, 4);
    pk_op(&p, 0x95);
    uint8_t fr[8] = {0};
    pk_bytes(&p, fr, 8);
    pk_op(&p, '}'), pk_op(&p, 0x94);
    uint8_t s1[] = {0x8c, 1, 'w'};
    pk_bytes(&p, s1, 3), pk_op(&p, 0x94);
    uint8_t m1[] = {0x8c, 12, 't', 'o', 'r', 'c', 'h', '.', '_', 'u', 't', 'i', 'l', 's'};
    pk_bytes(&p, m1, sizeof m1);
    uint8_t n1[] = {0x8c, 18, '_', 'r', 'e', 'b', 'u', 'i', 'l', 'd', '_', 't', 'e', 'n', 's', 'o', 'r', '_', 'v', '2'};
    pk_bytes(&p, n1, sizeof n1), pk_op(&p, 0x93), pk_op(&p, 0x94);
    pk_op(&p, '('), pk_op(&p, '(');
    pk_str(&p, "storage");
    uint8_t m2[] = {0x8c, 5, 't', 'o', 'r', 'c', 'h'};
    uint8_t n2[] = {0x8c, 12, 'F', 'l', 'o', 'a', 't', 'S', 't', 'o', 'r', 'a', 'g', 'e'};
    pk_bytes(&p, m2, sizeof m2), pk_bytes(&p, n2, sizeof n2), pk_op(&p, 0x93);
    pk_str(&p, "0"), pk_str(&p, "cpu"), pk_int(&p, 8), pk_op(&p, 't'), pk_op(&p, 'Q');
    pk_int(&p, 0), pk_int(&p, 2), pk_int(&p, 4), pk_op(&p, 0x86), pk_int(&p, 4), pk_int(&p, 1), pk_op(&p, 0x86);
    pk_op(&p, 0x89), pk_op(&p, 'N'), pk_op(&p, 't'), pk_op(&p, 'R');
    pk_op(&p, 's'), pk_op(&p, '.');
    qk_pt_state s;
    qk_err err = {{0}};
    int rc = qk_pickle_state_dict("p4.pkl", p.b, p.len, &s, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (rc == QK_OK) {
        CHECK_EQ_INT(s.n, 1);
        CHECK_STR(s.tensors[0].name, "w");
        CHECK_EQ_INT(s.tensors[0].shape[1], 4);
        qk_pt_state_free(&s);
    }
    free(p.b);
}

static void expect(const char *what, pk_buf *p, const char *want1, const char *want2) {
    qk_pt_state s;
    qk_err err = {{0}};
    int rc = qk_pickle_state_dict("evil.pkl", p->b, p->len, &s, &err);
    CHECK_MSG(rc == QK_FAIL, "%s: accepted", what);
    if (rc == QK_OK) qk_pt_state_free(&s);
    CHECK_MSG(strstr(err.msg, want1) != NULL, "%s: '%s' lacks '%s'", what, err.msg, want1);
    if (want2) CHECK_MSG(strstr(err.msg, want2) != NULL, "%s: '%s' lacks '%s'", what, err.msg, want2);
    CHECK_MSG(!strchr(err.msg, '\n'), "%s: more than one line", what);
    free(p->b);
    memset(p, 0, sizeof *p);
}

/* global(args...) as REDUCE, inside a state dict value */
static void call_pickle(pk_buf *p, const char *mod, const char *name, const char *arg, bool stack_global) {
    pk_op(p, 0x80), pk_op(p, 2), pk_op(p, '}'), pk_str(p, "x");
    if (stack_global) pk_str(p, mod), pk_str(p, name), pk_op(p, 0x93);
    else pk_global(p, mod, name);
    pk_str(p, arg), pk_op(p, 0x85), pk_op(p, 'R'), pk_op(p, 's'), pk_op(p, '.');
}

static void test_code_globals(void) {
    char canary[1200], cmd[1400];
    snprintf(canary, sizeof canary, "%s/canary", qk_test_tmpdir());
    snprintf(cmd, sizeof cmd, "touch %s", canary);
    static const char *const g[][2] = {{"os", "system"}, {"posix", "system"}, {"builtins", "eval"}, {"builtins", "exec"},
                                       {"__builtin__", "eval"}, {"subprocess", "Popen"}, {"subprocess", "check_output"},
                                       {"torch", "load"}, {"torch._utils", "_rebuild_qtensor"}, {"builtins", "getattr"}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        for (int sg = 0; sg < 2; sg++) {
            pk_buf p = {0};
            call_pickle(&p, g[i][0], g[i][1], cmd, sg);
            char full[200];
            snprintf(full, sizeof full, "global '%s.%s' is not allowed", g[i][0], g[i][1]);
            expect(full, &p, full, sg ? "STACK_GLOBAL" : "GLOBAL (0x63) at offset 9");
        }
    struct stat st;
    CHECK_MSG(stat(canary, &st) != 0, "the canary file exists: something was executed");
}

static void test_hostile_structure(void) {
    pk_buf p = {0};
    /* REDUCE on a non-global */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, ']'), pk_op(&p, ')'), pk_op(&p, 'R'), pk_op(&p, '.');
    expect("reduce list", &p, "REDUCE calls a list", "offset 4");
    /* a storage class called directly */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_global(&p, "torch", "FloatStorage"), pk_op(&p, ')'), pk_op(&p, 'R'), pk_op(&p, '.');
    expect("storage call", &p, "torch.FloatStorage' cannot be called", NULL);
    /* objects */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_global(&p, "collections", "OrderedDict"), pk_op(&p, ')'), pk_op(&p, 0x81);
    pk_op(&p, '.');
    expect("newobj", &p, "creates an object of 'collections.OrderedDict'", NULL);
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, '('), pk_bytes(&p, "ios\nsystem\n", 11), pk_op(&p, '.');
    expect("inst", &p, "INST", "creates an object");
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, '('), pk_global(&p, "collections", "OrderedDict"), pk_op(&p, 'o');
    expect("obj", &p, "OBJ", NULL);
    /* BUILD on a tensor-less non-dict */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, ']'), pk_op(&p, '}'), pk_op(&p, 'b'), pk_op(&p, '.');
    expect("build list", &p, "BUILD", "on a list");
    /* out-of-band buffer */
    pk_op(&p, 0x80), pk_op(&p, 5), pk_op(&p, 0x97), pk_op(&p, '.');
    expect("oob", &p, "out-of-band", "NEXT_BUFFER");
    /* extension code, unknown opcode, protocol 0 persistent id */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, 0x82), pk_op(&p, 1), pk_op(&p, '.');
    expect("ext", &p, "extension", NULL);
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, 0xff), pk_op(&p, '.');
    expect("unknown", &p, "0xff", "not supported");
    pk_op(&p, 0x80), pk_op(&p, 9), pk_op(&p, '.');
    expect("protocol", &p, "protocol 9", NULL);
    /* deep nesting: 200 lists appended into each other */
    pk_op(&p, 0x80), pk_op(&p, 2);
    for (int i = 0; i < 200; i++) pk_op(&p, ']');
    for (int i = 0; i < 199; i++) pk_op(&p, 'a');
    pk_op(&p, '.');
    expect("deep", &p, "nest more than 64", NULL);
    /* deep MARKs */
    pk_op(&p, 0x80), pk_op(&p, 2);
    for (int i = 0; i < 5000; i++) pk_op(&p, '(');
    pk_op(&p, '.');
    expect("marks", &p, "nested MARKs", NULL);
    /* memo */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, 'h'), pk_op(&p, 7), pk_op(&p, '.');
    expect("memo get", &p, "memo index 7 was never set", NULL);
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, 'N'), pk_bytes(&p, "r\xff\xff\xff\x7f", 5), pk_op(&p, '.');
    expect("memo put", &p, "memo index 2147483647 is too large", NULL);
    /* absurd string length */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_bytes(&p, "\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", 9), pk_op(&p, '.');
    expect("string", &p, "truncated or absurd length", NULL);
    /* no STOP; not a dict */
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, '}');
    expect("no stop", &p, "without STOP", NULL);
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, ']'), pk_op(&p, '.');
    expect("list", &p, "holds a list", "expected a dict");
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, '}'), pk_op(&p, '.');
    expect("empty", &p, "no tensors", NULL);
}

/* One tensor with the given storage and layout. */
static void one(pk_buf *p, const char *cls, int64_t numel, int64_t off, int nd, const int64_t *shape, const int64_t *stride) {
    tw_tensor t = {"w", "0", cls, (uint64_t)numel, (uint64_t)off, nd, {0}, {0}, false};
    for (int i = 0; i < nd; i++) t.shape[i] = shape[i], t.stride[i] = stride[i];
    size_t len;
    uint8_t *b = tw_pickle(&t, 1, true, &len);
    pk_bytes(p, b, len);
    free(b);
}

static void test_bad_tensors(void) {
    pk_buf p = {0};
    const int64_t sh[2] = {4, 4}, st[2] = {4, 1}, tr[2] = {1, 4};
    one(&p, "FloatStorage", 15, 0, 2, sh, st);
    expect("short storage", &p, "reaches past its storage '0' of 15 elements", NULL);
    one(&p, "FloatStorage", 16, 1, 2, sh, st);
    expect("offset past end", &p, "reaches past", NULL);
    one(&p, "FloatStorage", 16, 1, 2, sh, tr);
    expect("transposed past end", &p, "reaches past", NULL);
    const int64_t big[2] = {(int64_t)1 << 40, (int64_t)1 << 40}, bst[2] = {(int64_t)1 << 40, 1};
    one(&p, "FloatStorage", 16, 0, 2, big, bst);
    expect("absurd size", &p, "overflow", NULL);
    one(&p, "FloatStorage", (int64_t)1 << 60, 0, 2, sh, st);
    expect("absurd storage", &p, "absurdly large", NULL);
    one(&p, "FloatStorage", 16, -1, 2, sh, st);
    expect("negative offset", &p, "storage offset is not a non-negative int", NULL);
    one(&p, "FloatStorage", 16, 0, 2, (const int64_t[2]){4, -4}, st);
    expect("negative size", &p, "tensor size[1] is not a non-negative int", NULL);
    one(&p, "Float8Storage", 16, 0, 2, sh, st);
    expect("unknown storage", &p, "global 'torch.Float8Storage' is not allowed", NULL);
    /* the same storage declared with two types */
    tw_tensor two[2] = {{"a", "0", "FloatStorage", 16, 0, 1, {16}, {1}, false},
                        {"b", "0", "HalfStorage", 32, 0, 1, {32}, {1}, false}};
    size_t len;
    uint8_t *b = tw_pickle(two, 2, true, &len);
    pk_bytes(&p, b, len);
    free(b);
    expect("storage twice", &p, "storage '0' is declared as F32 x 16 for 'a' but F16 x 32 for 'b'", NULL);
    tw_tensor dup[2] = {{"a", "0", "FloatStorage", 16, 0, 1, {16}, {1}, false},
                        {"a", "1", "FloatStorage", 16, 0, 1, {16}, {1}, false}};
    b = tw_pickle(dup, 2, false, &len);
    pk_bytes(&p, b, len);
    free(b);
    expect("duplicate names", &p, "tensor 'a' appears twice", NULL);
    tw_tensor key[1] = {{"a", "../x", "FloatStorage", 16, 0, 1, {16}, {1}, false}};
    b = tw_pickle(key, 1, false, &len);
    pk_bytes(&p, b, len);
    free(b);
    expect("storage key", &p, "storage key '../x'", NULL);
}

/* Random byte flips of a good pickle: refused or accepted, never a crash (ASan/UBSan build). */
static void test_mutations(void) {
    size_t len;
    uint8_t *p = tw_pickle(k_good, 5, true, &len);
    uint8_t *c = malloc(len);
    qk_rng r = {77};
    for (int k = 0; k < 20000; k++) {
        memcpy(c, p, len);
        for (int f = 0; f < 1 + k % 4; f++) c[qk_rng_next(&r) % len] = (uint8_t)qk_rng_next(&r);
        qk_pt_state s;
        qk_err err;
        if (qk_pickle_state_dict("m.pkl", c, len, &s, &err) == QK_OK) qk_pt_state_free(&s);
    }
    free(c), free(p);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_state_dict);
    RUN(test_protocol4);
    RUN(test_code_globals);
    RUN(test_hostile_structure);
    RUN(test_bad_tensors);
    RUN(test_mutations);
    return qk_test_summary();
}
