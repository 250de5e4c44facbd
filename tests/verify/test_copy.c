/* `quantkit copy` (verify/copy.c) through the built binary, as a user runs it:
 * - a plain folder: the copy equals the source, SHA256SUMS passes
 *   `sha256sum -c` and `verify --manifest`, the license and README of the
 *   Hugging Face folder it was converted from travel with it, a re-run skips
 *   what reads back equal and recopies what does not, a source that does not
 *   match the SHA256SUMS beside it is refused, a manifest names what to copy,
 *   a destination without room is refused before anything is written, a
 *   Llama-looking model without a license is warned about;
 * - a destination that returns other bytes than were written (the LD_PRELOAD
 *   shim tests/shim/readback_shim.c): FAILED naming the file, exit 1, the
 *   file not left there nor listed;
 * - part "fat": a real FAT32 file system (mkfs.vfat image mounted by
 *   fusefat through FUSE), with QK_TEST_FAT_LIMIT standing in for 4 GiB: the
 *   model arrives as a split set below the limit, `sha256sum -c` passes, the
 *   shards merge back to the source byte for byte, a re-run skips, and a
 *   removed shard is MISSING for `verify --manifest`. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fs_type.h"
#include "ggml_types.h"
#include "json_schema.h"
#include "qk_test.h"
#include "cli_run.h"
#include "run_cli.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

static char g_dir[600], g_hf[700], g_src[700], g_model[800];
static char out[1 << 16];

/* A Q8_0 GGUF converted from a Hugging Face folder that holds a LICENSE and a
 * README: src/Llama-3-tiny.gguf (its quantkit.command names the folder). */
static void setup(void) {
    if (g_model[0]) return;
    snprintf(g_dir, sizeof g_dir, "%s", qk_test_tmpdir());
    snprintf(g_hf, sizeof g_hf, "%s/hf-Llama-3-tiny", g_dir);
    snprintf(g_src, sizeof g_src, "%s/src", g_dir);
    snprintf(g_model, sizeof g_model, "%s/Llama-3-tiny.gguf", g_src);
    mkdir(g_src, 0755);
    tiny_hf_spec hs;
    tiny_hf_default(&hs);
    hs.n_layer = 2, hs.n_embd = 128, hs.n_head = 2, hs.n_head_kv = 1, hs.n_ff = 256;
    CHECK(tiny_hf_write(g_hf, &hs) == 0);
    char p[900];
    snprintf(p, sizeof p, "%s/LICENSE", g_hf);
    CHECK(qk_test_write_file(p, "LLAMA 3 COMMUNITY LICENSE AGREEMENT\n", 36) == 0);
    snprintf(p, sizeof p, "%s/README.md", g_hf);
    CHECK(qk_test_write_file(p, "# tiny\n", 7) == 0);
    int rc = qk_run_cli(out, sizeof out, "convert", g_hf, "-o", g_model, "--type", "q8_0", NULL);
    CHECK_MSG(rc == 0, "convert: %d %s", rc, out);
}

static void subdir(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", g_dir, name);
    mkdir(buf, 0755);
}

static void flip_byte(const char *path, long off) { CHECK(qk_test_flip_byte(path, off, 0x20)); }

/* `sha256sum -c SHA256SUMS` run in dir: its exit code */
static int sha256sum_c(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum -c SHA256SUMS >/dev/null 2>&1", dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool has_file(const char *dir, const char *name) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static char *manifest_text(const char *dir) {
    char p[1200];
    snprintf(p, sizeof p, "%s/SHA256SUMS", dir);
    size_t l;
    unsigned char *t = qk_test_read_file(p, &l);
    if (!t) return NULL;
    char *s = realloc(t, l + 1);
    if (s) s[l] = 0;
    return s;
}

static void test_copy_to_a_folder(void) {
    setup();
    char d[700], m[900];
    subdir(d, sizeof d, "dest");
    int rc = qk_run_cli(out, sizeof out, "copy", g_model, d, NULL);
    CHECK_MSG(rc == 0, "copy: exit %d: %s", rc, out);
    snprintf(m, sizeof m, "%s/Llama-3-tiny.gguf", d);
    CHECK(qk_test_same_bytes(m, g_model));
    /* the license and README of the folder it was converted from came along */
    CHECK(has_file(d, "LICENSE") && has_file(d, "README.md"));
    CHECK(!cli_has(out, "warning"));
    char *t = manifest_text(d);
    CHECK_MSG(t && strstr(t, "  Llama-3-tiny.gguf\n") && strstr(t, "  LICENSE\n") && strstr(t, "  README.md\n"),
              "SHA256SUMS: %s", t ? t : "(none)");
    free(t);
    CHECK_EQ_INT(sha256sum_c(d), 0);
    snprintf(m, sizeof m, "%s/SHA256SUMS", d);
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "3 OK"), "verify --manifest: %d %s", rc, out);
    /* again: everything there reads back equal, nothing is written */
    rc = qk_run_cli(out, sizeof out, "copy", g_model, d, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "0 copied") && cli_has(out, "3 skipped"), "re-run: %d %s", rc, out);
    /* a copy damaged since is not skipped: copied again */
    snprintf(m, sizeof m, "%s/Llama-3-tiny.gguf", d);
    flip_byte(m, 5000);
    rc = qk_run_cli(out, sizeof out, "copy", g_model, d, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "1 copied") && cli_has(out, "2 skipped"), "re-run after damage: %d %s", rc, out);
    CHECK(qk_test_same_bytes(m, g_model));
    CHECK_EQ_INT(sha256sum_c(d), 0);
}

static void test_copy_json(void) {
    setup();
    char d[700], schema_path[900];
    subdir(d, sizeof d, "dest-json");
    int rc = qk_run_cli(out, sizeof out, "copy", "--json", g_model, d, NULL);
    CHECK_MSG(rc == 0, "copy --json: exit %d: %s", rc, out);
    const char *brace = strchr(out, '{');
    cJSON *j = brace ? cJSON_Parse(brace) : NULL;
    CHECK_MSG(j != NULL, "not JSON: %s", out);
    if (!j) return;
    const char *src = getenv("QK_SOURCE_DIR");
    snprintf(schema_path, sizeof schema_path, "%s/docs/json-schema.md", src ? src : ".");
    cJSON *schema = js_load_doc_schema(schema_path, "copy");
    char why[512];
    CHECK_MSG(schema && js_check(schema, j, why, sizeof why), "copy --json against docs/json-schema.md: %s", why);
    cJSON_Delete(schema);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "fat")));
    const cJSON *files = cJSON_GetObjectItem(j, "files");
    CHECK_EQ_INT(cJSON_GetArraySize(files), 3);
    const cJSON *f0 = cJSON_GetArrayItem(files, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(f0, "status")), "copied");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(f0, "extra")));
    CHECK_EQ_INT(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(f0, "sha256"))), 64);
    cJSON_Delete(j);
}

/* The SHA256SUMS beside the source vouches for it: a source damaged since is not copied. */
static void test_damaged_source_refused(void) {
    setup();
    char s[700], d[700], m[900], sums[900];
    subdir(s, sizeof s, "src-damaged");
    subdir(d, sizeof d, "dest-damaged");
    snprintf(m, sizeof m, "%s/model.gguf", s);
    size_t l;
    unsigned char *b = qk_test_read_file(g_model, &l);
    CHECK(b && qk_test_write_file(m, b, l) == 0);
    free(b);
    snprintf(sums, sizeof sums, "%s/SHA256SUMS", s);
    CHECK(qk_run_cli(out, sizeof out, "verify", "--write-manifest", sums, m, NULL) == 0);
    flip_byte(m, 7000);
    int rc = qk_run_cli(out, sizeof out, "copy", m, d, NULL);
    CHECK_MSG(rc == 1 && cli_has(out, "FAILED") && cli_has(out, "source itself is damaged"), "exit %d: %s", rc, out);
    CHECK(!has_file(d, "model.gguf"));
    /* a manifest as the argument: every file it lists, checked against it */
    flip_byte(m, 7000);
    rc = qk_run_cli(out, sizeof out, "copy", sums, d, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "1 copied"), "copy MANIFEST: exit %d: %s", rc, out);
    CHECK(has_file(d, "model.gguf"));
}

/* A model named like Meta Llama with no license anywhere near: a warning; a TinyLlama: none. */
static void test_license_warning(void) {
    char s[700], d[700], m[900];
    snprintf(g_dir, sizeof g_dir, "%s", qk_test_tmpdir());
    subdir(s, sizeof s, "src-nolicense");
    subdir(d, sizeof d, "dest-nolicense");
    tiny_gguf_spec ts = {1, 64, 2, 1, 128, 64, 0, false, QK_TYPE_F16, 3};
    snprintf(m, sizeof m, "%s/Meta-Llama-3.1-8B-tiny.gguf", s);
    CHECK(tiny_gguf_write(m, &ts) == 0);
    int rc = qk_run_cli(out, sizeof out, "copy", m, d, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "warning") && cli_has(out, "Meta Llama") && cli_has(out, "LICENSE"),
              "exit %d: %s", rc, out);
    snprintf(m, sizeof m, "%s/TinyLlama-1.1B-tiny.gguf", s);
    CHECK(tiny_gguf_write(m, &ts) == 0);
    rc = qk_run_cli(out, sizeof out, "copy", m, d, NULL);
    CHECK_MSG(rc == 0 && !cli_has(out, "warning"), "exit %d: %s", rc, out);
}

/* Not enough room: refused before anything is written. */
static void test_no_room(void) {
    char s[700], d[700], m[900];
    snprintf(g_dir, sizeof g_dir, "%s", qk_test_tmpdir());
    subdir(s, sizeof s, "src-huge");
    subdir(d, sizeof d, "dest-huge");
    snprintf(m, sizeof m, "%s/huge.gguf", s);
    int fd = open(m, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)1 << 42) == 0); /* 4 TiB, a hole */
    close(fd);
    int rc = qk_run_cli(out, sizeof out, "copy", m, d, NULL);
    CHECK_MSG(rc == 1 && cli_has(out, "not enough free space"), "exit %d: %s", rc, out);
    CHECK_EQ_INT(qk_test_count_entries(d), 0);
    unlink(m);
}

/* A destination that returns other bytes than were written. */
static void test_lying_destination(void) {
    setup();
    char d[700], shim[700], m[900], asan[1200];
    subdir(d, sizeof d, "stick-that-lies");
    const char *bd = getenv("QK_BUILD_DIR");
    snprintf(shim, sizeof shim, "%s/libqk_readback_shim.so", bd ? bd : "build");
    CHECK_MSG(access(shim, R_OK) == 0, "no %s (the build makes it)", shim);
    char preload[800];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
    /* the sanitizer runtime wants to come first; the shim only wraps reads */
    const char *ao = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", ao ? ao : "", ao && *ao ? ":" : "");
    const char *env[] = {preload, "QK_SHIM_CORRUPT=/stick-that-lies/", "QK_SHIM_OFFSET=4321", asan, NULL};
    int rc = qk_run_cli_env(env, out, sizeof out, "copy", g_model, d, NULL);
    CHECK_MSG(rc == 1, "copy onto a lying destination: exit %d: %s", rc, out);
    CHECK_MSG(cli_has(out, "Llama-3-tiny.gguf: FAILED") && cli_has(out, "byte 4321"), "%s", out);
    snprintf(m, sizeof m, "%s/Llama-3-tiny.gguf", d);
    CHECK_MSG(access(m, F_OK) != 0, "%s left on the destination", m);
    char *t = manifest_text(d);
    CHECK_MSG(!t || !strstr(t, "Llama-3-tiny.gguf"), "listed: %s", t);
    free(t);
    /* without the shim the same copy passes: the shim is what failed it */
    rc = qk_run_cli(out, sizeof out, "copy", g_model, d, NULL);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
}

static void test_usage(void) {
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "copy", NULL), 2);
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "copy", "x.gguf", NULL), 2);
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "copy", "--jsn", "a", "b", NULL), 2);
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "copy", "--help", NULL), 0);
    CHECK_CONTAINS(out, "usage: quantkit copy");
    /* a destination that is not a folder, a missing source */
    char f[700];
    snprintf(f, sizeof f, "%s/not-a-folder", qk_test_tmpdir());
    CHECK(qk_test_write_file(f, "x", 1) == 0);
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "copy", f, f, NULL), 1);
    CHECK_CONTAINS(out, "must be a folder");
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "copy", "/nonexistent/m.gguf", qk_test_tmpdir(), NULL), 1);
}

static void test_fs_type(void) {
    char type[64], src[256];
    CHECK(qk_fs_mount_of("/", type, sizeof type, src, sizeof src) && type[0]);
    CHECK(qk_fs_mount_of(qk_test_tmpdir(), type, sizeof type, src, sizeof src));
    CHECK(!qk_fs_is_fat(qk_test_tmpdir()));
}

/* ---- part "fat": a real FAT32 file system through FUSE ---- */

static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_fat32_stick(void) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
        qk_test_skip("no usable /dev/fuse");
        return;
    }
    if (sh("(command -v fusefat && command -v mkfs.vfat && command -v fusermount) >/dev/null") != 0) {
        qk_test_skip("fusefat, mkfs.vfat or fusermount missing (scripts/setup.sh installs fusefat and dosfstools)");
        return;
    }
    setup();
    char img[700], mnt[700], cmd[2400];
    snprintf(img, sizeof img, "%s/stick.img", g_dir);
    subdir(mnt, sizeof mnt, "stick");
    snprintf(cmd, sizeof cmd, "truncate -s 64M '%s' && mkfs.vfat -F 32 '%s' >/dev/null && fusefat -o rw+ '%s' '%s' "
                              ">/dev/null 2>&1", img, img, img, mnt);
    if (sh(cmd) != 0) {
        qk_test_skip("fusefat could not mount a FAT32 image here");
        return;
    }
    /* FAT is found by the mount's type: statfs only says FUSE */
    struct statfs sf;
    CHECK(statfs(mnt, &sf) == 0 && sf.f_type != 0x4d44);
    CHECK_MSG(qk_fs_is_fat(mnt), "fusefat mount not recognised as FAT");
    struct stat st;
    CHECK(stat(g_model, &st) == 0);
    char limit[64], env_limit[100];
    snprintf(limit, sizeof limit, "%lld", (long long)st.st_size * 45 / 100);
    snprintf(env_limit, sizeof env_limit, "QK_TEST_FAT_LIMIT=%s", limit);
    const char *env[] = {env_limit, NULL};
    int rc = qk_run_cli_env(env, out, sizeof out, "copy", g_model, mnt, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "FAT file system") && cli_has(out, "split shards"), "copy: exit %d: %s", rc, out);
    /* a split set below the limit, no single file */
    CHECK(!has_file(mnt, "Llama-3-tiny.gguf"));
    int n = 0;
    char shard[1000], first[1000] = "", second[1000] = "";
    for (int count = 2; count < 10 && !n; count++)
        for (int k = 1; k <= count; k++) {
            snprintf(shard, sizeof shard, "%s/Llama-3-tiny-%05d-of-%05d.gguf", mnt, k, count);
            if (stat(shard, &st) != 0) break;
            n = count;
            CHECK_MSG(st.st_size < atoll(limit), "%s: %lld bytes, limit %s", shard, (long long)st.st_size, limit);
            if (k == 1) snprintf(first, sizeof first, "%s", shard);
            if (k == 2) snprintf(second, sizeof second, "%s", shard);
        }
    CHECK_MSG(n >= 2, "no split set on the stick: %s", out);
    CHECK(has_file(mnt, "LICENSE"));
    CHECK_EQ_INT(sha256sum_c(mnt), 0);
    /* the shards are the model: merged, the source byte for byte */
    char merged[800];
    snprintf(merged, sizeof merged, "%s/merged.gguf", g_dir);
    rc = qk_run_cli(out, sizeof out, "merge", first, merged, NULL);
    CHECK_MSG(rc == 0 && qk_test_same_bytes(merged, g_model), "merge: %d %s", rc, out);
    /* again: skipped, nothing rewritten */
    rc = qk_run_cli_env(env, out, sizeof out, "copy", g_model, mnt, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "0 split shards") && cli_has(out, "skipped"), "re-run: %d %s", rc, out);
    /* a shard removed: MISSING for the manifest check, naming it */
    if (second[0]) unlink(second);
    char m[800];
    snprintf(m, sizeof m, "%s/SHA256SUMS", mnt);
    rc = qk_run_cli(out, sizeof out, "verify", "--manifest", m, NULL);
    const char *b = strrchr(second, '/');
    char want[300];
    snprintf(want, sizeof want, "%s: MISSING", b ? b + 1 : second);
    CHECK_MSG(rc == 1 && cli_has(out, want), "verify --manifest after removing a shard: %d %s", rc, out);
    snprintf(cmd, sizeof cmd, "fusermount -u '%s'", mnt);
    CHECK_EQ_INT(sh(cmd), 0);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_usage);
    RUN(test_fs_type);
    RUN(test_copy_to_a_folder);
    RUN(test_copy_json);
    RUN(test_damaged_source_refused);
    RUN(test_license_warning);
    RUN(test_no_room);
    RUN(test_lying_destination);
    RUN_PART("fat", test_fat32_stick);
    return qk_test_summary();
}
