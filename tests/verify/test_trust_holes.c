/* The integrity workflow has no hole (issue 12, holes 1-6), driven through
 * the built `quantkit` as a user types it:
 * 1. a manifest is never written over a model, an input or a non-manifest;
 * 2. a manifest check reports every listed file OK / FAILED / MISSING and
 *    fails on a missing one, also with no file list (beside the manifest);
 * 3. a split set is one manifest group, each shard verifiable alone;
 * 4. split / merge / quantize refuse a damaged input (nothing put in place)
 *    unless --ignore-integrity;
 * 5. no command writes over one of its inputs (same path, hard link,
 *    symlink, a source folder's own files);
 * 6. merge of quantkit's split is the original, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ggml_types.h"
#include "gguf.h"
#include "qk_test.h"
#include "quantize_model.h"
#include "run_cli.h"
#include "split.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

static char g_model[600], g_dir[600];
static char out[65536];

static void make_model(void) {
    if (g_model[0]) return;
    snprintf(g_dir, sizeof g_dir, "%s", qk_test_tmpdir());
    snprintf(g_model, sizeof g_model, "%s/model.gguf", g_dir);
    const tiny_gguf_spec s = {2, 256, 4, 2, 256, 260, 0, false, QK_TYPE_F16, 7};
    tiny_quantized_tmp("h-in.gguf", &s, 7 /* Q8_0 */, g_model);
}

static void copy_file(const char *from, const char *to) {
    size_t l;
    unsigned char *b = qk_test_read_file(from, &l);
    CHECK(b && qk_test_write_file(to, b, l) == 0);
    free(b);
}

/* a folder of its own under the temporary folder */
static void subdir(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", qk_test_tmpdir(), name);
    mkdir(buf, 0755);
}

/* Splits the model into 3 shards at dir/p-0000k-of-00003.gguf. */
static void split3(const char *dir, char shards[3][700]) {
    char prefix[700];
    snprintf(prefix, sizeof prefix, "%s/p", dir);
    int rc = qk_run_cli(out, sizeof out, "split", g_model, prefix, "--max-tensors", "8", NULL);
    CHECK_MSG(rc == 0, "split: %d %s", rc, out);
    for (int k = 0; k < 3; k++) {
        snprintf(shards[k], 700, "%s-%05d-of-00003.gguf", prefix, k + 1);
        CHECK_MSG(access(shards[k], F_OK) == 0, "no %s (%s)", shards[k], out);
    }
}

/* 1: `verify --write-manifest *.gguf` (the manifest name forgotten) */
static void test_manifest_never_over_a_model(void) {
    make_model();
    char d[700], a[800], b[800], keep[800], txt[800], st[800], m[800];
    subdir(d, sizeof d, "h1");
    snprintf(a, sizeof a, "%s/a.gguf", d);
    snprintf(b, sizeof b, "%s/b.gguf", d);
    snprintf(keep, sizeof keep, "%s/keep.gguf", d);
    copy_file(g_model, a), copy_file(g_model, b), copy_file(g_model, keep);
    int rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", a, b, NULL);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(a, keep));
    /* a text file that is not a manifest, and a safetensors file */
    snprintf(txt, sizeof txt, "%s/notes.txt", d);
    CHECK(qk_test_write_file(txt, "my notes\nabout models\n", 22) == 0);
    rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", txt, b, NULL);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "not a manifest");
    size_t l;
    char *t = (char *)qk_test_read_file(txt, &l);
    CHECK(t && l == 22 && !memcmp(t, "my notes", 8));
    free(t);
    snprintf(st, sizeof st, "%s/w.safetensors", d);
    const char sf[] = "\x0f\0\0\0\0\0\0\0{\"a\":\"bcdefg\"}   ";
    CHECK(qk_test_write_file(st, sf, sizeof sf - 1) == 0);
    rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", st, b, NULL);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "safetensors");
    /* a symlink to an input */
    snprintf(m, sizeof m, "%s/link.sums", d);
    CHECK(symlink(b, m) == 0);
    rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, b, NULL);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(b, keep));
    /* an existing manifest is replaced */
    snprintf(m, sizeof m, "%s/SHA256SUMS", d);
    CHECK(qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, b, NULL) == 0);
    CHECK_MSG(qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, a, b, NULL) == 0, "%s", out);
}

/* 2: 4 of 6 listed files absent must not pass; no file list checks beside the manifest */
static void test_missing_files_fail(void) {
    make_model();
    char d[700], f[6][800], m[800];
    subdir(d, sizeof d, "h2");
    for (int i = 0; i < 6; i++) {
        snprintf(f[i], sizeof f[i], "%s/m%d.gguf", d, i);
        copy_file(g_model, f[i]);
    }
    snprintf(m, sizeof m, "%s/SHA.txt", d);
    int rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, f[0], f[1], f[2], f[3], f[4], f[5], NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, NULL);
    CHECK_MSG(rc == 0, "all present, no file list: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "m5.gguf: OK");
    for (int i = 2; i < 6; i++) unlink(f[i]);
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, f[0], f[1], NULL);
    CHECK_MSG(rc == 1, "4 missing, 2 given: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "m3.gguf: MISSING");
    CHECK_CONTAINS(out, "2 OK, 0 FAILED, 4 MISSING");
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, NULL);
    CHECK_MSG(rc == 1, "4 missing, no list: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "m5.gguf: MISSING");
    /* a damaged one is FAILED, named with what differs */
    size_t l;
    unsigned char *b = qk_test_read_file(f[1], &l);
    if (!b) return;
    b[l - 100] ^= 0x10;
    CHECK(qk_test_write_file(f[1], b, l) == 0);
    free(b);
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, NULL);
    CHECK(rc == 1);
    CHECK_CONTAINS(out, "m1.gguf: FAILED (");
    CHECK_CONTAINS(out, "SHA-256");
}

/* 3: the README's split workflow */
static void test_split_set_is_one_group(void) {
    make_model();
    char d[700], sh[3][700], m[800];
    subdir(d, sizeof d, "h3");
    split3(d, sh);
    snprintf(m, sizeof m, "%s/SHA.txt", d);
    int rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, sh[0], sh[1], sh[2], NULL);
    CHECK_MSG(rc == 0, "every healthy shard passes: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "shard 2 of 3 checked alone");
    /* naming only the first shard lists the whole set */
    rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, sh[0], NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
    size_t l;
    char *t = (char *)qk_test_read_file(m, &l);
    if (!t) return;
    t = realloc(t, l + 1);
    t[l] = 0;
    CHECK_CONTAINS(t, "p-00001-of-00003.gguf");
    CHECK_CONTAINS(t, "p-00002-of-00003.gguf");
    CHECK_CONTAINS(t, "p-00003-of-00003.gguf");
    free(t);
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
    CHECK_CONTAINS(out, "3 OK, 0 FAILED, 0 MISSING");
    /* each shard alone */
    rc = qk_run_cli(out, sizeof out, "verify", sh[2], NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
}

static void damage_a_tensor(const char *path) {
    size_t l;
    unsigned char *b = qk_test_read_file(path, &l);
    qk_gguf_file *f;
    qk_err err;
    CHECK(b != NULL);
    if (!b || qk_gguf_open(path, &f, &err) != QK_OK) {
        CHECK_MSG(0, "%s: cannot open", path);
        free(b);
        return;
    }
    uint64_t off = f->meta.data_offset + f->meta.tensors[1].offset + 3;
    qk_gguf_close(f);
    b[off] ^= 0x01;
    CHECK(qk_test_write_file(path, b, l) == 0);
    free(b);
}

/* 4: damage is not laundered */
static void test_damage_is_refused(void) {
    make_model();
    char d[700], bad[800], prefix[800], first[800], merged[800], sh[3][700], q[800];
    subdir(d, sizeof d, "h4");
    snprintf(bad, sizeof bad, "%s/bad.gguf", d);
    copy_file(g_model, bad);
    damage_a_tensor(bad);
    snprintf(prefix, sizeof prefix, "%s/bp", d);
    snprintf(first, sizeof first, "%s-00001-of-00003.gguf", prefix);
    int rc = qk_run_cli(out, sizeof out, "split", bad, prefix, "--max-tensors", "8", NULL);
    CHECK_MSG(rc == 1, "split of a damaged file: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "does not match its embedded hash");
    CHECK_MSG(qk_test_count_entries(d) == 1, "split left files behind");
    rc = qk_run_cli(out, sizeof out, "split", "--ignore-integrity", bad, prefix, "--max-tensors", "8", NULL);
    CHECK_MSG(rc == 0, "--ignore-integrity: exit %d: %s", rc, out);
    /* merge of a set with a damaged shard */
    char d2[700];
    subdir(d2, sizeof d2, "h4m");
    split3(d2, sh);
    damage_a_tensor(sh[1]);
    snprintf(merged, sizeof merged, "%s/merged.gguf", d2);
    rc = qk_run_cli(out, sizeof out, "merge", sh[0], merged, NULL);
    CHECK_MSG(rc == 1, "merge of a damaged set: exit %d: %s", rc, out);
    CHECK(access(merged, F_OK) != 0);
    CHECK_MSG(qk_test_count_entries(d2) == 3, "merge left files behind");
    rc = qk_run_cli(out, sizeof out, "merge", "--ignore-integrity", sh[0], merged, NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
    /* quantize (the library's default; the CLI passes --ignore-integrity through the same option) */
    snprintf(q, sizeof q, "%s/q.gguf", d);
    qk_quantize_report rep;
    qk_err err;
    for (int raw = 0; raw < 2; raw++) { /* requantized rows, and tensors copied as they are */
        qk_quantize_opts o = tiny_quantize_opts(raw ? 7 : 2); /* Q8_0 (the input's type) / Q4_0 */
        o.mix.allow_requantize = true;
        CHECK(qk_quantize_model(bad, q, &o, &rep, &err) == QK_FAIL);
        qk_quantize_report_free(&rep);
        CHECK_CONTAINS(err.msg, "does not match its embedded hash");
        CHECK(access(q, F_OK) != 0);
    }
    qk_quantize_opts o = tiny_quantize_opts(2);
    o.mix.allow_requantize = true;
    o.ignore_integrity = true;
    CHECK_MSG(qk_quantize_model(bad, q, &o, &rep, &err) == QK_OK, "%s", err.msg);
    qk_quantize_report_free(&rep);
}

/* 5: outputs onto inputs */
static void test_output_never_an_input(void) {
    make_model();
    char d[700], sh[3][700], keep[800], hl[800], sl[800];
    subdir(d, sizeof d, "h5");
    split3(d, sh);
    snprintf(keep, sizeof keep, "%s/keep1", qk_test_tmpdir());
    copy_file(sh[0], keep);
    int rc = qk_run_cli(out, sizeof out, "merge", sh[0], sh[0], NULL);
    CHECK_MSG(rc == 1, "merge onto its first shard: exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(sh[0], keep));
    snprintf(keep, sizeof keep, "%s/keep2", qk_test_tmpdir());
    copy_file(sh[1], keep);
    rc = qk_run_cli(out, sizeof out, "merge", sh[0], sh[1], NULL);
    CHECK_MSG(rc == 1, "merge onto shard 2: exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(sh[1], keep));
    snprintf(hl, sizeof hl, "%s/hard.gguf", d);
    CHECK(link(sh[1], hl) == 0);
    rc = qk_run_cli(out, sizeof out, "merge", sh[0], hl, NULL);
    CHECK_MSG(rc == 1, "merge onto a hard link: exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(sh[1], keep));
    snprintf(sl, sizeof sl, "%s/sym.gguf", d);
    CHECK(symlink(g_model, sl) == 0);
    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/again", d);
    /* split whose shard name is a link to its input */
    char s1[900];
    snprintf(s1, sizeof s1, "%s-00001-of-00003.gguf", prefix);
    CHECK(symlink(g_model, s1) == 0);
    snprintf(keep, sizeof keep, "%s/keep3", qk_test_tmpdir());
    copy_file(g_model, keep);
    rc = qk_run_cli(out, sizeof out, "split", g_model, prefix, "--max-tensors", "8", NULL);
    CHECK_MSG(rc == 1, "split onto a link to its input: exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(g_model, keep));
    /* quantize onto a symlink of its input */
    rc = qk_run_cli(out, sizeof out, "quantize", g_model, sl, "Q4_0", NULL);
    CHECK_MSG(rc == 1, "quantize onto a link to its input: exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(g_model, keep));
    /* convert DIR -o DIR/model.safetensors */
    char hf[700], st[800], stkeep[800];
    subdir(hf, sizeof hf, "h5hf");
    tiny_hf_spec hs;
    tiny_hf_default(&hs);
    hs.n_layer = 1, hs.n_embd = 64, hs.n_head = 2, hs.n_head_kv = 1, hs.n_ff = 128;
    CHECK(tiny_hf_write(hf, &hs) == 0);
    snprintf(st, sizeof st, "%s/model.safetensors", hf);
    snprintf(stkeep, sizeof stkeep, "%s/st.keep", qk_test_tmpdir());
    copy_file(st, stkeep);
    rc = qk_run_cli(out, sizeof out, "convert", hf, "-o", st, NULL);
    CHECK_MSG(rc == 1, "convert onto its source weights: exit %d: %s", rc, out);
    CHECK(qk_test_same_bytes(st, stkeep));
    char cfg[800];
    snprintf(cfg, sizeof cfg, "%s/config.json", hf);
    rc = qk_run_cli(out, sizeof out, "convert", hf, "-o", cfg, NULL);
    CHECK_MSG(rc == 1, "convert onto config.json: exit %d: %s", rc, out);
    /* a new name in the folder is fine */
    char ok[800];
    snprintf(ok, sizeof ok, "%s/out.gguf", hf);
    rc = qk_run_cli(out, sizeof out, "convert", hf, "-o", ok, NULL);
    CHECK_MSG(rc == 0, "convert to a new file in the folder: exit %d: %s", rc, out);
}

/* 6: merge is the inverse of split */
static void test_merge_inverts_split(void) {
    make_model();
    char d[700], sh[3][700], merged[800], m[800];
    subdir(d, sizeof d, "h6");
    split3(d, sh);
    snprintf(m, sizeof m, "%s/orig.sums", d);
    int rc = qk_run_cli(out, sizeof out, "verify", "--write-manifest", m, g_model, NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
    snprintf(merged, sizeof merged, "%s/model.gguf", d);
    rc = qk_run_cli(out, sizeof out, "merge", sh[0], merged, NULL);
    CHECK_MSG(rc == 0, "%d %s", rc, out);
    CHECK_MSG(qk_test_same_bytes(merged, g_model), "merge(split(x)) != x");
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, merged, NULL);
    CHECK_MSG(rc == 0, "the original's manifest on the merged file: exit %d: %s", rc, out);
    /* the provenance is still there */
    qk_gguf_file *f;
    qk_err err;
    CHECK(qk_gguf_open(merged, &f, &err) == QK_OK);
    CHECK(qk_gguf_get_str(&f->meta, "quantkit.source.file") != NULL);
    qk_gguf_close(f);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_manifest_never_over_a_model);
    RUN(test_missing_files_fail);
    RUN(test_split_set_is_one_group);
    RUN(test_damage_is_refused);
    RUN(test_output_never_an_input);
    RUN(test_merge_inverts_split);
    return qk_test_summary();
}
