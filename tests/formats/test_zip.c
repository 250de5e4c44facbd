/* Proves formats/zip.c: archives written here by the format's rules
 * (tests/support/zip_write.c: stored, deflated, ZIP64, torch's 64-byte
 * alignment) read back byte for byte, and every hostile archive (CRC
 * mismatch, truncation, zip bomb, traversal and absolute names, duplicates,
 * local/central disagreement, overlapping entries) is refused with one line
 * naming the entry. */
#include <zlib.h>

#include "qk_test.h"
#include "zip.h"
#include "zip_write.h"

static uint8_t *pattern(size_t n, uint64_t seed) {
    uint8_t *p = malloc(n ? n : 1);
    qk_rng r = {seed | 1};
    for (size_t i = 0; i < n; i++) p[i] = (i % 7) ? (uint8_t)(qk_rng_next(&r) >> 56) : 0;
    return p;
}

static void check_roundtrip(bool zip64, unsigned align, bool use_file) {
    zip_writer w;
    zw_init(&w, zip64, align);
    uint8_t *a = pattern(1000, 1), *b = pattern(300000, 2), *c = pattern(0, 3);
    zw_add(&w, "archive/data.pkl", a, 1000, NULL);
    zw_add(&w, "archive/data/0", b, 300000, &(zw_opts){.deflate = true});
    zw_add(&w, "archive/data/1", b, 300000, NULL);
    zw_add(&w, "archive/empty", c, 0, &(zw_opts){.deflate = true});
    size_t n;
    const uint8_t *bytes = zw_finish(&w, &n);
    CHECK(bytes != NULL);
    qk_zip *z = NULL;
    qk_err err = {{0}};
    int rc;
    if (use_file) {
        char p[1200];
        snprintf(p, sizeof p, "%s/a%d%u.zip", qk_test_tmpdir(), zip64, align);
        CHECK(qk_test_write_file(p, bytes, n) == 0);
        rc = qk_zip_open(p, &z, &err);
    } else
        rc = qk_zip_open_mem("mem.zip", bytes, n, &z, &err);
    CHECK_MSG(rc == QK_OK, "%s", err.msg);
    if (rc == QK_OK) {
        CHECK_EQ_INT(z->n_entries, 4);
        const qk_zip_entry *e0 = qk_zip_find(z, "archive/data.pkl"), *e1 = qk_zip_find(z, "archive/data/0"),
                           *e2 = qk_zip_find(z, "archive/data/1"), *e3 = qk_zip_find(z, "archive/empty");
        CHECK(e0 && e1 && e2 && e3 && !qk_zip_find(z, "archive/data/2"));
        if (e0 && e1 && e2 && e3) {
            CHECK_EQ_INT(e1->method, QK_ZIP_DEFLATED);
            CHECK(e1->comp_size < e1->size);
            if (align) CHECK_EQ_INT(e2->data_offset % align, 0);
            uint8_t *out;
            size_t len;
            CHECK(qk_zip_read_all(z, e0, 1 << 20, &out, &len, &err) == QK_OK);
            CHECK(len == 1000 && !memcmp(out, a, 1000));
            free(out);
            CHECK_MSG(qk_zip_read_all(z, e1, 1 << 20, &out, &len, &err) == QK_OK, "%s", err.msg);
            CHECK(len == 300000 && out && !memcmp(out, b, 300000));
            free(out);
            CHECK(qk_zip_read_all(z, e3, 1 << 20, &out, &len, &err) == QK_OK && len == 0);
            free(out);
            CHECK(qk_zip_read_all(z, e1, 1000, &out, &len, &err) == QK_FAIL);
            CHECK_CONTAINS(err.msg, "at most 1000");
            uint8_t buf[100];
            CHECK(qk_zip_pread_stored(z, e2, 123456, 100, buf, &err) == QK_OK && !memcmp(buf, b + 123456, 100));
            CHECK(qk_zip_pread_stored(z, e2, 299950, 100, buf, &err) == QK_FAIL);
            CHECK(qk_zip_pread_stored(z, e1, 0, 100, buf, &err) == QK_FAIL);
            /* streaming: skip, then read to the end (CRC checked there) */
            qk_zip_stream s;
            CHECK(qk_zip_stream_open(z, e1, &s, &err) == QK_OK);
            CHECK(qk_zip_stream_skip(&s, 200000, &err) == QK_OK);
            uint8_t *rest = malloc(100000);
            CHECK_MSG(qk_zip_stream_read(&s, rest, 100000, &err) == QK_OK, "%s", err.msg);
            CHECK(!memcmp(rest, b + 200000, 100000));
            CHECK(qk_zip_stream_read(&s, rest, 1, &err) == QK_FAIL);
            qk_zip_stream_close(&s);
            free(rest);
        }
        qk_zip_close(z);
    }
    zw_free(&w);
    free(a), free(b), free(c);
}

static void test_roundtrip(void) {
    check_roundtrip(false, 0, false);
    check_roundtrip(false, 64, true);
    check_roundtrip(true, 0, false);
    check_roundtrip(true, 64, true);
}

/* Builds a one-or-two-entry archive and expects open (or reading the first
 * entry) to fail with a message containing `want`. */
static void expect_fail(const char *what, const char *n1, const char *n2, const zw_opts *o, bool at_read,
                        const char *want) {
    zip_writer w;
    zw_init(&w, false, 0);
    uint8_t *d = calloc(1, 100000);
    zw_add(&w, n1, d, 100000, o);
    if (n2) zw_add(&w, n2, d, 10, NULL);
    size_t n;
    const uint8_t *bytes = zw_finish(&w, &n);
    qk_zip *z = NULL;
    qk_err err = {{0}};
    int rc = qk_zip_open_mem("bad.zip", bytes, n, &z, &err);
    if (at_read) {
        CHECK_MSG(rc == QK_OK, "%s: %s", what, err.msg);
        if (rc == QK_OK) {
            uint8_t *out = NULL;
            size_t len;
            rc = qk_zip_read_all(z, &z->entries[0], 1 << 20, &out, &len, &err);
            free(out);
            qk_zip_close(z);
        }
    } else
        qk_zip_close(z);
    CHECK_MSG(rc == QK_FAIL, "%s: accepted", what);
    CHECK_MSG(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
    CHECK_MSG(!strchr(err.msg, '\n'), "%s: more than one line", what);
    zw_free(&w);
    free(d);
}

static void test_hostile(void) {
    expect_fail("crc", "a/data/0", NULL, &(zw_opts){.set_crc = true, .crc = 0x12345678}, true, "CRC-32");
    expect_fail("crc deflated", "a/data/0", NULL, &(zw_opts){.deflate = true, .set_crc = true, .crc = 1}, true,
                "CRC-32");
    /* a bomb: 100000 zero bytes declared as 1000 */
    expect_fail("bomb", "a/data/0", NULL, &(zw_opts){.deflate = true, .set_size = true, .size = 1000}, true,
                "more than its declared");
    expect_fail("short stream", "a/data/0", NULL, &(zw_opts){.deflate = true, .set_size = true, .size = 200000}, true,
                "ends after 100000");
    expect_fail("traversal", "archive/../../etc/passwd", NULL, NULL, false, "traversal");
    expect_fail("dotdot", "..", NULL, NULL, false, "traversal");
    expect_fail("absolute", "/etc/passwd", NULL, NULL, false, "absolute");
    expect_fail("backslash", "a\\..\\b", NULL, NULL, false, "backslash");
    expect_fail("duplicate", "archive/data.pkl", "archive/data.pkl", NULL, false, "appears twice");
}

static void test_corrupted(void) {
    zip_writer w;
    zw_init(&w, true, 64);
    uint8_t *d = pattern(5000, 9);
    zw_add(&w, "x/data.pkl", d, 5000, &(zw_opts){.deflate = true});
    zw_add(&w, "x/data/0", d, 5000, NULL);
    size_t n;
    const uint8_t *bytes = zw_finish(&w, &n);
    uint8_t *copy = malloc(n);
    qk_err err;
    qk_zip *z;
    /* every truncation: refused at open (the end records are at the end) */
    int accepted = 0;
    for (size_t cut = 0; cut < n; cut++) {
        if (qk_zip_open_mem("cut.zip", bytes, cut, &z, &err) == QK_OK) accepted++, qk_zip_close(z);
    }
    CHECK_EQ_INT(accepted, 0);
    /* every single byte flipped: open may accept (a data byte), then reading everything must fail or give the
     * original bytes (a flip inside stored data is caught by the CRC) */
    int silent = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, bytes, n);
        copy[i] ^= 0x20;
        if (qk_zip_open_mem("flip.zip", copy, n, &z, &err)) continue;
        bool all_ok = true;
        for (size_t k = 0; k < z->n_entries; k++) {
            uint8_t *out;
            size_t len;
            if (qk_zip_read_all(z, &z->entries[k], 1 << 20, &out, &len, &err)) { all_ok = false; continue; }
            if (len != 5000 || memcmp(out, d, 5000)) silent++;
            free(out);
        }
        (void)all_ok;
        qk_zip_close(z);
    }
    CHECK_EQ_INT(silent, 0);
    /* local header disagreeing with the central directory: the stored entry's local CRC */
    memcpy(copy, bytes, n);
    const char *nm = "x/data/0";
    uint8_t *lh = NULL;
    for (size_t i = 0; i + 38 < n; i++)
        if (!memcmp(copy + i, "PK\3\4", 4) && !memcmp(copy + i + 30, nm, 8)) { lh = copy + i; break; }
    CHECK(lh != NULL);
    if (lh) {
        lh[14] ^= 1;
        CHECK(qk_zip_open_mem("lh.zip", copy, n, &z, &err) == QK_FAIL);
        CHECK_CONTAINS(err.msg, "disagrees with the central directory");
    }
    /* not a zip at all */
    CHECK(qk_zip_open_mem("x.bin", "\x80\x02}q\0.", 6, &z, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not a zip archive");
    memset(copy, 0, n);
    CHECK(qk_zip_open_mem("zeros.zip", copy, n, &z, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not a zip archive");
    free(copy), free(d);
    zw_free(&w);
}

static void test_overlap(void) {
    /* two central records pointing at the same local header: the second has another name there, and even with
     * the same name (a duplicate) it is refused; an archive whose central directory points one entry into the
     * middle of another is refused as overlapping */
    zip_writer w;
    zw_init(&w, false, 0);
    uint8_t *d = pattern(4000, 5);
    zw_add(&w, "a/0", d, 4000, NULL);
    zw_add(&w, "a/1", d, 10, NULL);
    size_t n;
    const uint8_t *bytes = zw_finish(&w, &n);
    uint8_t *copy = malloc(n);
    memcpy(copy, bytes, n);
    /* move entry a/1's central record offset to a fake local header planted inside a/0's data */
    size_t cd = 0;
    for (size_t i = 0; i + 4 < n; i++)
        if (!memcmp(copy + i, "PK\1\2", 4) && !memcmp(copy + i + 46, "a/1", 3)) cd = i;
    CHECK(cd != 0);
    uint8_t *lh1 = NULL;
    for (size_t i = 4; i + 4 < n; i++)
        if (!memcmp(copy + i, "PK\3\4", 4)) { lh1 = copy + i; break; }
    CHECK(lh1 != NULL);
    if (cd && lh1) {
        memcpy(copy + 100, lh1, 30 + 3 + 10); /* plant a copy of a/1's header + data at offset 100 (inside a/0) */
        copy[cd + 42] = 100, copy[cd + 43] = 0, copy[cd + 44] = 0, copy[cd + 45] = 0;
        qk_zip *z;
        qk_err err;
        CHECK(qk_zip_open_mem("overlap.zip", copy, n, &z, &err) == QK_FAIL);
        CHECK_CONTAINS(err.msg, "overlap");
    }
    free(copy), free(d);
    zw_free(&w);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_roundtrip);
    RUN(test_hostile);
    RUN(test_corrupted);
    RUN(test_overlap);
    return qk_test_summary();
}
