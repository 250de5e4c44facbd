/* convert reads PyTorch checkpoints: the generated tiny model written as
 * torch.save archives by the format's specification (tests/support/
 * torch_write.c: pickle protocol 2, <prefix>/data.pkl + <prefix>/data/<key>)
 * - F32, F16 and BF16 storages, single and sharded (pytorch_model.bin.index
 * .json), storages shared by two tensors at offsets, transposed views,
 * deflated entries, ZIP64, a .pth - converts to exactly the GGUF tensors of
 * its safetensors twin. Safetensors win in a folder holding both; a broken
 * .bin writes nothing. */
#include <dirent.h>
#include <sys/stat.h>

#include "convert_model.h"
#include "convert_run.h"
#include "gguf.h"
#include "gguf_compare.h"
#include "hf_checkpoint.h"
#include "qk_test.h"
#include "tiny_hf.h"
#include "torch_file.h"
#include "torch_write.h"

typedef struct bin_opts {
    bool share, transpose, deflate, zip64;
    const char *single_name; /* file name of a single-file checkpoint ("pytorch_model.bin", "model.pth") */
    int break_storage;       /* 1: leave one storage out; 2: one storage a byte short */
} bin_opts;

static const char *torch_cls(qk_st_dtype d) {
    return d == QK_ST_F32 ? "FloatStorage" : d == QK_ST_F16 ? "HalfStorage" : d == QK_ST_BF16 ? "BFloat16Storage" : "?";
}

static int copy_file(const char *from, const char *to) {
    size_t n;
    unsigned char *b = qk_test_read_file(from, &n);
    if (!b) return -1;
    int rc = qk_test_write_file(to, b, n);
    free(b);
    return rc;
}

/* Writes the safetensors folder `src` as PyTorch checkpoints in `dst` (with its other files). */
static int st_to_bin(const char *src, const char *dst, const bin_opts *o) {
    mkdir(dst, 0755);
    DIR *d = opendir(src);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || (l > 12 && !strcmp(e->d_name + l - 12, ".safetensors")) ||
            !strcmp(e->d_name, "model.safetensors.index.json"))
            continue;
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", src, e->d_name), snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
        if (copy_file(a, b)) return -1;
    }
    if (d) closedir(d);
    qk_hf_checkpoint ck;
    qk_err err;
    if (qk_hf_open(src, &ck, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    cJSON *wmap = cJSON_CreateObject();
    int rc = 0;
    for (size_t fi = 0; fi < ck.n_files && !rc; fi++) {
        const qk_st_file *f = ck.files[fi];
        const char *base = strrchr(f->path, '/') + 1;
        char bin[256];
        if (ck.n_files == 1) snprintf(bin, sizeof bin, "%s", o->single_name ? o->single_name : "pytorch_model.bin");
        else snprintf(bin, sizeof bin, "pytorch_model%s", base + 5), strcpy(strstr(bin, ".safetensors"), ".bin");
        size_t n = f->n_tensors;
        tw_tensor *tt = calloc(n, sizeof *tt);
        tw_storage *ss = calloc(n, sizeof *ss);
        char (*keys)[16] = calloc(n, sizeof *keys);
        void **bufs = calloc(n, sizeof *bufs);
        size_t ns = 0;
        for (size_t i = 0; i < n; i++) {
            const qk_st_tensor *t = &f->tensors[i];
            const size_t es = qk_st_dtype_size(t->dtype), nb = (size_t)(t->end - t->begin);
            uint8_t *raw = malloc(nb ? nb : 1);
            if (qk_st_read_raw(f, t, 0, nb, raw, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
            cJSON_AddStringToObject(wmap, t->name, bin);
            tw_tensor *w = &tt[i];
            *w = (tw_tensor){.name = t->name, .cls = torch_cls(t->dtype), .nd = t->n_dims, .parameter = (i % 3) == 1};
            for (int k = 0; k < t->n_dims; k++) w->shape[k] = t->shape[k];
            int64_t st = 1;
            for (int k = t->n_dims - 1; k >= 0; k--) w->stride[k] = st, st *= t->shape[k];
            const qk_st_tensor *nx = i + 1 < n ? &f->tensors[i + 1] : NULL;
            bool share = o->share && i % 4 == 0 && nx && nx->dtype == t->dtype;
            bool transpose = o->transpose && !share && i % 4 == 2 && t->n_dims == 2;
            snprintf(keys[ns], sizeof keys[ns], "%zu", ns);
            w->key = keys[ns];
            if (share) { /* [3 pad][t][next][5 pad] in one storage */
                const size_t nb2 = (size_t)(nx->end - nx->begin);
                uint8_t *s = calloc(1, 8 * es + nb + nb2);
                memcpy(s + 3 * es, raw, nb);
                if (qk_st_read_raw(f, nx, 0, nb2, s + 3 * es + nb, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
                free(raw);
                uint64_t numel = 8 + (nb + nb2) / es;
                w->storage_numel = numel, w->offset = 3;
                tw_tensor *w2 = &tt[i + 1];
                *w2 = (tw_tensor){.name = nx->name, .key = keys[ns], .cls = w->cls, .storage_numel = numel,
                                  .offset = 3 + nb / es, .nd = nx->n_dims};
                st = 1;
                for (int k = nx->n_dims - 1; k >= 0; k--) w2->shape[k] = nx->shape[k], w2->stride[k] = st, st *= nx->shape[k];
                cJSON_AddStringToObject(wmap, nx->name, bin);
                ss[ns] = (tw_storage){keys[ns], s, 8 * es + nb + nb2, o->deflate && ns % 2};
                bufs[ns++] = s;
                i++;
                continue;
            }
            if (transpose) { /* the storage holds W^T row-major; the tensor is its transposed view */
                const int64_t R = t->shape[0], C = t->shape[1];
                uint8_t *s = malloc(nb);
                for (int64_t r = 0; r < R; r++)
                    for (int64_t c = 0; c < C; c++) memcpy(s + (size_t)(c * R + r) * es, raw + (size_t)(r * C + c) * es, es);
                free(raw);
                raw = s;
                w->stride[0] = 1, w->stride[1] = R;
            }
            w->storage_numel = nb / es;
            ss[ns] = (tw_storage){keys[ns], raw, nb, o->deflate && ns % 2};
            bufs[ns++] = raw;
        }
        if (o->break_storage == 1) ss[--ns].key = "gone", free(bufs[ns]), bufs[ns] = NULL;
        if (o->break_storage == 2) ss[0].nbytes--;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dst, bin);
        rc = tw_write_bin(p, "archive", tt, n, ss, o->break_storage == 1 ? ns + 0 : ns, o->zip64);
        if (o->break_storage == 1) ss[ns].key = NULL;
        for (size_t i = 0; i < n; i++) free(bufs[i]);
        free(tt), free(ss), free(keys), free(bufs);
    }
    if (ck.n_files > 1) {
        cJSON *idx = cJSON_CreateObject();
        cJSON_AddItemToObject(idx, "metadata", cJSON_CreateObject());
        cJSON_AddItemToObject(idx, "weight_map", wmap);
        char *s = cJSON_Print(idx), p[1200];
        snprintf(p, sizeof p, "%s/pytorch_model.bin.index.json", dst);
        rc |= qk_test_write_file(p, s, strlen(s));
        free(s), cJSON_Delete(idx);
    } else
        cJSON_Delete(wmap);
    qk_hf_close(&ck);
    return rc;
}

/* Same tensors (names, types, shapes, bytes) in both GGUFs. */
static void same_tensors(const char *a, const char *b) { CHECK_MSG(gguf_same_tensors(a, b, b), "%s vs %s", a, b); }

static void twin(const char *tag, const char *dtype, int shards, const bin_opts *o, const char *type) {
    char st[1024], bin[1024], g1[1100], g2[1100];
    snprintf(st, sizeof st, "%s/%s-st", qk_test_tmpdir(), tag);
    snprintf(bin, sizeof bin, "%s/%s-bin", qk_test_tmpdir(), tag);
    snprintf(g1, sizeof g1, "%s/%s-st.gguf", qk_test_tmpdir(), tag);
    snprintf(g2, sizeof g2, "%s/%s-bin.gguf", qk_test_tmpdir(), tag);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.dtype = dtype, s.shards = shards;
    CHECK(tiny_hf_write(st, &s) == 0);
    CHECK(st_to_bin(st, bin, o) == 0);
    qk_hf_checkpoint ck;
    qk_err err = {{0}};
    CHECK_MSG(qk_hf_open(bin, &ck, &err) == QK_OK, "%s", err.msg);
    if (!err.msg[0]) {
        CHECK(ck.torch);
        CHECK_EQ_INT(ck.n_files, shards > 1 ? shards : 1);
        CHECK_CONTAINS(ck.weights, shards > 1 ? "pytorch_model.bin.index.json" : o->single_name ? o->single_name : "pytorch_model.bin");
        qk_hf_close(&ck);
    }
    CHECK_MSG(convert_run(st, g1, type, 2, &err) == QK_OK, "%s", err.msg);
    CHECK_MSG(convert_run(bin, g2, type, 2, &err) == QK_OK, "%s: %s", tag, err.msg);
    same_tensors(g1, g2);
}

static void test_f32_single_shared_transposed(void) {
    twin("f32", "F32", 1, &(bin_opts){.share = true, .transpose = true}, "f32");
}
static void test_f16_sharded_deflated(void) {
    twin("f16", "F16", 2, &(bin_opts){.share = true, .transpose = true, .deflate = true}, "f16");
}
static void test_bf16_zip64_q8(void) {
    twin("bf16", "BF16", 1, &(bin_opts){.transpose = true, .deflate = true, .zip64 = true}, "q8_0");
}
static void test_pth(void) {
    twin("pth", "F32", 1, &(bin_opts){.share = true, .single_name = "model.pth"}, "f16");
}

/* Safetensors and .bin side by side: the safetensors are read, and the choice is stated. */
static void test_mixed_folder(void) {
    char st[1024], bin[1024];
    snprintf(st, sizeof st, "%s/mixed-st", qk_test_tmpdir());
    snprintf(bin, sizeof bin, "%s/mixed-bin", qk_test_tmpdir());
    tiny_hf_spec s;
    tiny_hf_default(&s);
    CHECK(tiny_hf_write(st, &s) == 0);
    CHECK(st_to_bin(st, bin, &(bin_opts){0}) == 0);
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/pytorch_model.bin", bin), snprintf(b, sizeof b, "%s/pytorch_model.bin", st);
    CHECK(copy_file(a, b) == 0);
    qk_hf_checkpoint ck;
    qk_err err = {{0}};
    CHECK_MSG(qk_hf_open(st, &ck, &err) == QK_OK, "%s", err.msg);
    if (!err.msg[0]) {
        CHECK(!ck.torch);
        CHECK_CONTAINS(ck.weights, "model.safetensors (preferred over pytorch_model.bin");
        qk_hf_close(&ck);
    }
}

/* A broken .bin: one line naming the storage, and no output file. */
static void broken(int how, const char *want) {
    char st[1024], bin[1024], out[1100];
    snprintf(st, sizeof st, "%s/broken%d-st", qk_test_tmpdir(), how);
    snprintf(bin, sizeof bin, "%s/broken%d-bin", qk_test_tmpdir(), how);
    snprintf(out, sizeof out, "%s/broken%d-out", qk_test_tmpdir(), how);
    mkdir(out, 0755);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    CHECK(tiny_hf_write(st, &s) == 0);
    CHECK(st_to_bin(st, bin, &(bin_opts){.break_storage = how}) == 0);
    char g[1200];
    snprintf(g, sizeof g, "%s/m.gguf", out);
    qk_err err = {{0}};
    CHECK(convert_run(bin, g, "f16", 2, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, want);
    CHECK(!strchr(err.msg, '\n'));
    CHECK_EQ_INT(qk_test_count_entries(out), 0);
}
static void test_broken(void) {
    broken(1, "is missing (no entry archive/data/");
    broken(2, "bytes; expected");
}

/* Files torch.save wrote before the zip format: named, not misread. */
static void test_legacy_formats(void) {
    char p[1200];
    snprintf(p, sizeof p, "%s/legacy.bin", qk_test_tmpdir());
    /* pickle protocol 2 of the magic number 0x1950a86a20f9469cfc6c, as torch < 1.6 began its files */
    static const uint8_t legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
    CHECK(qk_test_write_file(p, legacy, sizeof legacy) == 0);
    qk_st_file *f = NULL;
    qk_err err = {{0}};
    CHECK(qk_torch_open(p, &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "torch < 1.6");
    uint8_t tar[1024] = {0};
    memcpy(tar, "sys_info", 8);
    memcpy(tar + 257, "ustar", 5);
    CHECK(qk_test_write_file(p, tar, sizeof tar) == 0);
    CHECK(qk_torch_open(p, &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "torch < 0.4");
    CHECK(qk_test_write_file(p, "hello", 5) == 0);
    CHECK(qk_torch_open(p, &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "not a zip archive");
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_f32_single_shared_transposed);
    RUN(test_f16_sharded_deflated);
    RUN(test_bf16_zip64_q8);
    RUN(test_pth);
    RUN(test_mixed_folder);
    RUN(test_broken);
    RUN(test_legacy_formats);
    return qk_test_summary();
}
