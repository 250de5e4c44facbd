/* `quantkit verify` of a Hugging Face download (verify/hf_cache.c), on real
 * layouts built here: a cache repo (models--ORG--NAME: blobs/<sha256> for
 * the LFS weights, blobs/<git sha1> for the rest, refs/main, snapshots/<rev>/
 * with links into ../../blobs) and a `huggingface-cli download --local-dir`
 * folder (.cache/huggingface/download/<file>.metadata with the etag). Every
 * LFS file passes against its blob name; one byte of one shard changed fails
 * naming that shard; a blob removed is MISSING. `convert` of the snapshot
 * records each source file's SHA-256 (quantkit.source.sha256): the blob
 * names, the hashes Hugging Face shows; a damaged blob fails the convert. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "gguf.h"
#include "gguf_checked.h"
#include "qk_test.h"
#include "run_cli.h"
#include "sha256.h"
#include "tiny_hf.h"

static char out[1 << 16];
static char g_plain[600], g_repo[700], g_snap[800], g_local[700];
static const char *REV = "0123456789abcdef0123456789abcdef01234567";

/* git's blob id: SHA-1 of "blob <len>\0" + content (what the cache names a non-LFS file by) */
static void git_blob_id(const unsigned char *b, size_t n, char hex[41]) {
    char head[64];
    int hl = snprintf(head, sizeof head, "blob %zu", n) + 1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char d[20];
    unsigned int dl = 0;
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    EVP_DigestUpdate(c, head, (size_t)hl);
    EVP_DigestUpdate(c, b, n);
    EVP_DigestFinal_ex(c, d, &dl);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static bool is_lfs(const char *name) {
    size_t l = strlen(name);
    return l > 12 && !strcmp(name + l - 12, ".safetensors");
}

/* The tiny checkpoint in two shards, laid out as the cache and as --local-dir. */
static void setup(void) {
    if (g_snap[0]) return;
    const char *t = qk_test_tmpdir();
    snprintf(g_plain, sizeof g_plain, "%s/plain", t);
    tiny_hf_spec hs;
    tiny_hf_default(&hs);
    hs.n_layer = 2, hs.n_embd = 64, hs.n_head = 2, hs.n_head_kv = 1, hs.n_ff = 128, hs.shards = 2;
    CHECK(tiny_hf_write(g_plain, &hs) == 0);
    char p[1200];
    snprintf(p, sizeof p, "%s/hub", t);
    mkdir(p, 0755);
    snprintf(g_repo, sizeof g_repo, "%s/hub/models--org--tiny-llama", t);
    mkdir(g_repo, 0755);
    const char *sub[] = {"blobs", "refs", "snapshots"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", g_repo, sub[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/refs/main", g_repo);
    CHECK(qk_test_write_file(p, REV, strlen(REV)) == 0); /* no newline, as huggingface_hub writes it */
    snprintf(g_snap, sizeof g_snap, "%s/snapshots/%s", g_repo, REV);
    mkdir(g_snap, 0755);
    snprintf(g_local, sizeof g_local, "%s/local", t);
    mkdir(g_local, 0755);
    snprintf(p, sizeof p, "%s/.cache", g_local);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.cache/huggingface", g_local);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.cache/huggingface/download", g_local);
    mkdir(p, 0755);
    DIR *d = opendir(g_plain);
    struct dirent *e;
    int n_lfs = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char src[1200], blob[1300], link[1300], target[200], hex[65];
        snprintf(src, sizeof src, "%s/%s", g_plain, e->d_name);
        size_t len;
        unsigned char *b = qk_test_read_file(src, &len);
        CHECK(b != NULL);
        if (!b) continue;
        if (is_lfs(e->d_name)) {
            unsigned char dg[32];
            qk_err err;
            CHECK(qk_sha256_file(src, dg, NULL, NULL, &err) == QK_OK);
            qk_sha256_hex(dg, hex);
            n_lfs++;
            /* --local-dir: the file, and its metadata (commit, etag, time) */
            char meta[1400], txt[300];
            snprintf(meta, sizeof meta, "%s/.cache/huggingface/download/%s.metadata", g_local, e->d_name);
            int tl = snprintf(txt, sizeof txt, "%s\n%s\n1733450000.0\n", REV, hex);
            CHECK(qk_test_write_file(meta, txt, (size_t)tl) == 0);
        } else {
            git_blob_id(b, len, hex);
        }
        snprintf(blob, sizeof blob, "%s/blobs/%s", g_repo, hex);
        CHECK(qk_test_write_file(blob, b, len) == 0);
        snprintf(link, sizeof link, "%s/%s", g_snap, e->d_name);
        snprintf(target, sizeof target, "../../blobs/%s", hex);
        CHECK(symlink(target, link) == 0);
        snprintf(link, sizeof link, "%s/%s", g_local, e->d_name);
        CHECK(qk_test_write_file(link, b, len) == 0);
        free(b);
    }
    if (d) closedir(d);
    CHECK_EQ_INT(n_lfs, 2);
}

static void flip(const char *path, long off) { CHECK(qk_test_flip_byte(path, off, 1)); }

/* the blob a snapshot file links to */
static void blob_of(const char *name, char *out_path, size_t n) {
    char link[1200], t[400];
    snprintf(link, sizeof link, "%s/%s", g_snap, name);
    ssize_t l = readlink(link, t, sizeof t - 1);
    CHECK(l > 0);
    t[l > 0 ? l : 0] = 0;
    snprintf(out_path, n, "%s/%s", g_snap, t);
}

static void test_snapshot_passes(void) {
    setup();
    int rc = qk_run_cli(out, sizeof out, "verify", g_snap, NULL);
    CHECK_MSG(rc == 0, "verify SNAPSHOT: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "model-00001-of-00002.safetensors: OK");
    CHECK_CONTAINS(out, "model-00002-of-00002.safetensors: OK");
    CHECK_CONTAINS(out, "2 OK, 0 FAILED, 0 MISSING");
    CHECK_CONTAINS(out, "not checked"); /* config.json & co: git files */
    /* the repo folder: the snapshot refs/main names */
    rc = qk_run_cli(out, sizeof out, "verify", g_repo, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "2 OK"), "verify REPO: exit %d: %s", rc, out);
    rc = qk_run_cli(out, sizeof out, "verify", "--json", g_snap, NULL);
    cJSON *j = cJSON_Parse(strchr(out, '{') ? strchr(out, '{') : out);
    const cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "downloads"), 0);
    CHECK_MSG(rc == 0 && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")) && cJSON_IsTrue(cJSON_GetObjectItem(d0, "ok")) &&
                  cJSON_GetArraySize(cJSON_GetObjectItem(d0, "files")) == 2,
              "--json: %d %s", rc, out);
    cJSON_Delete(j);
}

static void test_snapshot_damage_found(void) {
    setup();
    char blob[1400];
    blob_of("model-00002-of-00002.safetensors", blob, sizeof blob);
    flip(blob, 4000);
    int rc = qk_run_cli(out, sizeof out, "verify", g_snap, NULL);
    CHECK_MSG(rc == 1, "verify SNAPSHOT with a changed byte: exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "model-00002-of-00002.safetensors: FAILED");
    CHECK_CONTAINS(out, "model-00001-of-00002.safetensors: OK");
    flip(blob, 4000);
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "verify", g_snap, NULL), 0);
    /* a blob gone: the link dangles */
    char keep[1400];
    blob_of("model-00001-of-00002.safetensors", blob, sizeof blob);
    snprintf(keep, sizeof keep, "%s.keep", blob);
    CHECK(rename(blob, keep) == 0);
    rc = qk_run_cli(out, sizeof out, "verify", g_snap, NULL);
    CHECK_MSG(rc == 1 && cli_has(out, "model-00001-of-00002.safetensors: MISSING"), "exit %d: %s", rc, out);
    CHECK(rename(keep, blob) == 0);
}

static void test_local_dir(void) {
    setup();
    int rc = qk_run_cli(out, sizeof out, "verify", g_local, NULL);
    CHECK_MSG(rc == 0 && cli_has(out, "2 OK"), "verify LOCAL_DIR: exit %d: %s", rc, out);
    char f[1200];
    snprintf(f, sizeof f, "%s/model-00001-of-00002.safetensors", g_local);
    flip(f, 100);
    rc = qk_run_cli(out, sizeof out, "verify", g_local, NULL);
    CHECK_MSG(rc == 1 && cli_has(out, "model-00001-of-00002.safetensors: FAILED"), "exit %d: %s", rc, out);
    flip(f, 100);
    /* a plain folder has nothing to check against: said so, exit 1 */
    rc = qk_run_cli(out, sizeof out, "verify", g_plain, NULL);
    CHECK_MSG(rc == 1 && cli_has(out, "not a Hugging Face download"), "exit %d: %s", rc, out);
}

static void test_convert_records_sha256(void) {
    setup();
    char o[1200];
    snprintf(o, sizeof o, "%s/from-cache.gguf", qk_test_tmpdir());
    int rc = qk_run_cli(out, sizeof out, "convert", g_snap, "-o", o, "--type", "f16", NULL);
    CHECK_MSG(rc == 0, "convert SNAPSHOT: exit %d: %s", rc, out);
    qk_gguf_file *g = gguf_open_checked(o);
    if (!g) return;
    const qk_gguf_kv *files = qk_gguf_find(&g->meta, "quantkit.source.files");
    const qk_gguf_kv *sha = qk_gguf_find(&g->meta, "quantkit.source.sha256");
    CHECK(files && sha && sha->type == QK_GGUF_ARRAY && sha->arr_type == QK_GGUF_STRING && sha->n == files->n &&
          files->n == 2);
    for (uint64_t i = 0; files && sha && i < files->n && i < sha->n; i++) {
        const char *name = ((const qk_gguf_str *)files->data)[i].s, *hex = ((const qk_gguf_str *)sha->data)[i].s;
        char blob[1400];
        blob_of(name, blob, sizeof blob);
        const char *b = strrchr(blob, '/');
        CHECK_MSG(b && !strcmp(b + 1, hex), "%s: recorded %s, blob %s", name, hex, blob);
    }
    qk_gguf_close(g);
    /* and the file verifies (its header hash covers the patched digests) */
    CHECK_EQ_INT(qk_run_cli(out, sizeof out, "verify", o, NULL), 0);
    /* a damaged blob: the convert fails, nothing is written */
    char blob[1400], o2[1200];
    blob_of("model-00001-of-00002.safetensors", blob, sizeof blob);
    flip(blob, 3000);
    snprintf(o2, sizeof o2, "%s/from-damaged-cache.gguf", qk_test_tmpdir());
    rc = qk_run_cli(out, sizeof out, "convert", g_snap, "-o", o2, "--type", "f16", NULL);
    CHECK_MSG(rc == 1 && cli_has(out, "the download is damaged") && cli_has(out, "model-00001-of-00002"),
              "convert of a damaged snapshot: exit %d: %s", rc, out);
    CHECK(access(o2, F_OK) != 0);
    flip(blob, 3000);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_snapshot_passes);
    RUN(test_snapshot_damage_found);
    RUN(test_local_dir);
    RUN(test_convert_records_sha256);
    return qk_test_summary();
}
