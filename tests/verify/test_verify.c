/* verify catches damage anywhere in a quantkit-written file: every byte of
 * the header and a dense sample of the data (including padding) flipped one
 * at a time is detected and located; every truncation is detected; manifests
 * round-trip, including llama-gguf-hash's xxh64 format. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "gguf.h"
#include "ggml_types.h"
#include "manifest.h"
#include "qk_test.h"
#include "quantize_model.h"
#include "tiny_gguf.h"
#include "verify.h"

static char g_model[600];

static void make_model(void) {
    if (g_model[0]) return;
    snprintf(g_model, sizeof g_model, "%s/v-q4km.gguf", qk_test_tmpdir());
    const tiny_gguf_spec s = {2, 256, 4, 2, 256, 260, 0, false, QK_TYPE_F16, 11};
    tiny_quantized_tmp("v-in.gguf", &s, 15 /* Q4_K_M */, g_model);
}

/* The model's bytes (made once), and a path `name` in the temporary folder
 * for damaged copies of it. */
static unsigned char *model_bytes(const char *name, char path[700], size_t *len) {
    make_model();
    snprintf(path, 700, "%s/%s", qk_test_tmpdir(), name);
    return qk_test_read_file(g_model, len);
}

static bool verify_ok(const char *path, qk_verify_report *rep) {
    qk_verify_opts o = {.n_threads = 2};
    qk_verify_gguf(path, &o, rep);
    return rep->n_problems == 0;
}

static void test_clean_file_passes(void) {
    make_model();
    qk_verify_report rep;
    CHECK(verify_ok(g_model, &rep));
    CHECK(rep.integrity_present && rep.integrity_ok);
    for (size_t i = 0; i < rep.n_problems; i++) fprintf(stderr, "  %s\n", rep.problems[i]);
    qk_verify_report_free(&rep);
}

static void test_every_flip_is_detected(void) {
    size_t len;
    char path[700];
    unsigned char *orig = model_bytes("flip.gguf", path, &len);
    CHECK(qk_test_write_file(path, orig, len) == 0);
    qk_gguf_file *f;
    qk_err err;
    CHECK(qk_gguf_open(g_model, &f, &err) == QK_OK);
    const uint64_t data_off = f->meta.data_offset;
    qk_gguf_close(f);
    int fd = open(path, O_RDWR);
    int tried = 0, missed = 0, unlocated = 0;
    const size_t hstep = QK_TEST_SANITIZED ? 29 : 1, dstep = QK_TEST_SANITIZED ? 1999 : 61;
    for (size_t pos = 0; pos < len; pos += pos < data_off ? hstep : dstep) {
        unsigned char b = orig[pos] ^ 0x10;
        if (pwrite(fd, &b, 1, (off_t)pos) != 1) break;
        qk_verify_report rep;
        bool ok = verify_ok(path, &rep);
        tried++;
        if (ok) {
            if (missed++ < 5) fprintf(stderr, "flip at %zu (of %zu, data at %llu) not detected\n", pos, len,
                                      (unsigned long long)data_off);
        } else if (pos >= data_off) {
            /* data damage must name a tensor (hash or padding) */
            bool named = false;
            for (size_t k = 0; k < rep.n_problems; k++) named |= strstr(rep.problems[k], "tensor '") != NULL;
            if (!named && unlocated++ < 3) fprintf(stderr, "flip at %zu: %s\n", pos, rep.problems[0]);
        }
        qk_verify_report_free(&rep);
        if (pwrite(fd, &orig[pos], 1, (off_t)pos) != 1) break;
    }
    close(fd);
    fprintf(stderr, "%d single-byte flips tried, %d missed, %d not located\n", tried, missed, unlocated);
    CHECK(tried > (QK_TEST_SANITIZED ? 150 : 1000));
    CHECK_EQ_INT(missed, 0);
    CHECK_EQ_INT(unlocated, 0);
    free(orig);
}

static void test_every_truncation_is_detected(void) {
    size_t len;
    char path[700];
    unsigned char *orig = model_bytes("trunc.gguf", path, &len);
    int missed = 0, tried = 0;
    for (size_t n = 0; n < len; n += QK_TEST_SANITIZED ? (n < 8192 ? 61 : 9973) : (n < 8192 ? 7 : 997)) {
        CHECK(qk_test_write_file(path, orig, n) == 0);
        qk_verify_report rep;
        if (verify_ok(path, &rep)) missed++;
        tried++;
        qk_verify_report_free(&rep);
    }
    CHECK(tried > (QK_TEST_SANITIZED ? 50 : 100));
    CHECK_EQ_INT(missed, 0);
    /* the classic message for a cut download */
    CHECK(qk_test_write_file(path, orig, len - 100) == 0);
    qk_verify_report rep;
    verify_ok(path, &rep);
    CHECK(rep.n_problems > 0);
    if (rep.n_problems) CHECK_CONTAINS(rep.problems[0], "truncated");
    qk_verify_report_free(&rep);
    free(orig);
}

static void test_manifest_roundtrip(void) {
    make_model();
    char man[700], copy[700];
    snprintf(man, sizeof man, "%s/m.txt", qk_test_tmpdir());
    FILE *m = fopen(man, "w");
    qk_err err;
    CHECK(qk_manifest_write_file(m, g_model, 2, &err) == QK_OK);
    fclose(m);
    qk_verify_report rep = {0};
    CHECK(qk_manifest_check_file(man, g_model, 2, &rep, &err) == QK_OK);
    CHECK_EQ_INT(rep.n_problems, 0);
    qk_verify_report_free(&rep);
    /* the xxh64 model line is llama-gguf-hash's: xxh64 over all tensor data */
    qk_gguf_file *f;
    CHECK(qk_gguf_open(g_model, &f, &err) == QK_OK);
    XXH64_state_t *s = XXH64_createState();
    XXH64_reset(s, 0);
    for (uint64_t i = 0; i < f->meta.n_tensors; i++) {
        unsigned char *b = malloc(f->meta.tensors[i].nbytes);
        qk_gguf_read_tensor(f, &f->meta.tensors[i], 0, b, f->meta.tensors[i].nbytes, &err);
        XXH64_update(s, b, f->meta.tensors[i].nbytes);
        free(b);
    }
    char want[64];
    snprintf(want, sizeof want, "xxh64     %016llx  v-q4km.gguf\n", (unsigned long long)XXH64_digest(s));
    XXH64_freeState(s);
    qk_gguf_close(f);
    size_t ml;
    char *text = (char *)qk_test_read_file(man, &ml);
    text = realloc(text, ml + 1);
    text[ml] = 0;
    CHECK_CONTAINS(text, want);
    free(text);
    /* a damaged copy with the same name fails against the manifest */
    qk_test_mkdir(copy, sizeof copy, "sub");
    snprintf(copy, sizeof copy, "%s/sub/v-q4km.gguf", qk_test_tmpdir());
    size_t len;
    unsigned char *b = qk_test_read_file(g_model, &len);
    b[len - 40] ^= 1;
    CHECK(qk_test_write_file(copy, b, len) == 0);
    free(b);
    qk_verify_report rep2 = {0};
    CHECK(qk_manifest_check_file(man, copy, 2, &rep2, &err) == QK_OK);
    CHECK(rep2.n_problems >= 2); /* whole file and one tensor (and the model hash) */
    qk_verify_report_free(&rep2);
}

/* The manifest lines themselves: a size must be all digits, hex digests match in either case, and
 * a line too long for any real entry is skipped whole (its tail is not read as an entry). */
static void test_manifest_lines(void) {
    char model[700], man[700];
    snprintf(model, sizeof model, "%s/small.bin", qk_test_tmpdir());
    snprintf(man, sizeof man, "%s/lines.txt", qk_test_tmpdir());
    CHECK(qk_test_write_file(model, "0123456789ab", 12) == 0);
    qk_err err;
    XXH128_hash_t h = XXH3_128bits("0123456789ab", 12);
    char good[200];
    snprintf(good, sizeof good, "size  12  small.bin\nxxh3-128  %016llX%016llX  small.bin\n",
             (unsigned long long)h.high64, (unsigned long long)h.low64);
    CHECK(qk_test_write_file(man, good, strlen(good)) == 0);
    qk_verify_report rep = {0};
    CHECK(qk_manifest_check_file(man, model, 1, &rep, &err) == QK_OK);
    CHECK_EQ_INT(rep.n_problems, 0);
    qk_verify_report_free(&rep);

    static const char *const bad_sizes[] = {"size  12abc  small.bin\n", "size  -1  small.bin\n",
                                            "size  18446744073709551628  small.bin\n", "size  +12  small.bin\n"};
    for (int i = 0; i < 4; i++) {
        CHECK(qk_test_write_file(man, bad_sizes[i], strlen(bad_sizes[i])) == 0);
        qk_verify_report r = {0};
        CHECK(qk_manifest_check_file(man, model, 1, &r, &err) == QK_OK);
        CHECK_MSG(r.n_problems == 1, "'%s' accepted", bad_sizes[i]);
        qk_verify_report_free(&r);
    }

    /* a line longer than the 4 KiB line buffer whose tail (from byte 4095 on) looks like an entry:
     * skipped whole, so the manifest has no entry */
    char *lng = malloc(6000);
    memset(lng, 'x', 4095);
    snprintf(lng + 4095, 1000, " size  12  small.bin\n");
    CHECK(qk_test_write_file(man, lng, strlen(lng)) == 0);
    qk_verify_report r2 = {0};
    CHECK(qk_manifest_check_file(man, model, 1, &r2, &err) == QK_OK);
    CHECK_EQ_INT(r2.n_problems, 1);
    if (r2.n_problems) CHECK_CONTAINS(r2.problems[0], "has no entry");
    qk_verify_report_free(&r2);
    free(lng);
}

int main(void) {
    RUN(test_clean_file_passes);
    RUN(test_every_flip_is_detected);
    RUN(test_every_truncation_is_detected);
    RUN(test_manifest_roundtrip);
    RUN(test_manifest_lines);
    return qk_test_summary();
}
