/* `quantize --keep-split` against the real llama_model_quantize with
 * keep_split = true: a split input gives one output shard per input shard,
 * and every shard equals llama.cpp's (same KVs in the same order except the
 * quantkit.* keys, same alignment, tensor infos, offsets and data bytes).
 * The models: tiny_gguf's layer order, and the same weights stored in
 * strcmp order (blk.0, blk.1, blk.10, blk.11, blk.2 ... as converters
 * writing safetensors' sorted keys produce), where the shard-by-shard order
 * changes the mixture's choices. Also: without --keep-split a split input is
 * merged into llama-quantize's one file; a single-file input with keep_split
 * is named -00001-of-00001 as llama.cpp does; the set passes verify; the CLI's
 * --dry-run --json reports the shards' exact sizes; a failure in a later
 * shard leaves no file behind. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftypes.h"
#include "gguf.h"
#include "gguf_set.h"
#include "gguf_writer.h"
#include "imatrix_ref.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "split.h"
#include "tiny_gguf.h"
#include "verify.h"

static bool is_qk_key(const char *k) { return !strncmp(k, "quantkit.", 9); }

/* Next non-quantkit KV at or after *i, or NULL. */
static const qk_gguf_kv *next_kv(const qk_gguf_meta *m, uint64_t *i) {
    while (*i < m->n_kv && is_qk_key(m->kv[*i].key)) (*i)++;
    return *i < m->n_kv ? &m->kv[(*i)++] : NULL;
}

static bool same_kv_value(const qk_gguf_kv *a, const qk_gguf_kv *b) {
    if (a->type != b->type || a->n != b->n) return false;
    if (a->type == QK_GGUF_STRING) return !strcmp(((qk_gguf_str *)a->data)->s, ((qk_gguf_str *)b->data)->s);
    if (a->type == QK_GGUF_ARRAY) {
        if (a->arr_type != b->arr_type) return false;
        if (a->arr_type == QK_GGUF_STRING) {
            const qk_gguf_str *x = a->data, *y = b->data;
            for (uint64_t k = 0; k < a->n; k++)
                if (x[k].len != y[k].len || memcmp(x[k].s, y[k].s, x[k].len)) return false;
            return true;
        }
        return !memcmp(a->data, b->data, qk_gguf_type_size(a->arr_type) * a->n);
    }
    return !memcmp(a->data, b->data, qk_gguf_type_size(a->type));
}

/* Our file equals llama.cpp's except for quantkit.* keys (on either side:
 * llama.cpp copies the input's, quantkit writes its own): same non-quantkit
 * KVs in the same order, alignment, tensor infos with the same relative
 * offsets, and the same data bytes. */
static bool same_file_but_qk_keys(const char *ours, const char *theirs, const char *what) {
    qk_gguf_file *a, *b;
    qk_err err;
    if (qk_gguf_open(ours, &a, &err)) { fprintf(stderr, "%s: %s\n", what, err.msg); return false; }
    if (qk_gguf_open(theirs, &b, &err)) { fprintf(stderr, "%s: %s\n", what, err.msg); qk_gguf_close(a); return false; }
    bool ok = a->meta.alignment == b->meta.alignment;
    if (!ok) fprintf(stderr, "%s: alignment %u vs %u\n", what, a->meta.alignment, b->meta.alignment);
    uint64_t i = 0, j = 0;
    while (ok) {
        const qk_gguf_kv *ka = next_kv(&a->meta, &i), *kb = next_kv(&b->meta, &j);
        if (!ka && !kb) break;
        if (!ka || !kb || strcmp(ka->key, kb->key)) {
            fprintf(stderr, "%s: key ours %s, llama.cpp %s\n", what, ka ? ka->key : "(end)", kb ? kb->key : "(end)");
            ok = false;
        } else if (!same_kv_value(ka, kb)) {
            fprintf(stderr, "%s: value of %s differs\n", what, ka->key);
            ok = false;
        }
    }
    if (ok && a->meta.n_tensors != b->meta.n_tensors) {
        fprintf(stderr, "%s: %llu tensors vs %llu\n", what, (unsigned long long)a->meta.n_tensors,
                (unsigned long long)b->meta.n_tensors);
        ok = false;
    }
    for (uint64_t t = 0; ok && t < a->meta.n_tensors; t++) {
        const qk_gguf_tensor *ta = &a->meta.tensors[t], *tb = &b->meta.tensors[t];
        if (strcmp(ta->name, tb->name) || ta->type != tb->type || ta->n_dims != tb->n_dims ||
            memcmp(ta->ne, tb->ne, sizeof ta->ne) || ta->offset != tb->offset || ta->nbytes != tb->nbytes) {
            fprintf(stderr, "%s: tensor %llu: ours %s %s @%llu, llama.cpp %s %s @%llu\n", what, (unsigned long long)t,
                    ta->name, qk_type_get(ta->type)->name, (unsigned long long)ta->offset, tb->name,
                    qk_type_get(tb->type)->name, (unsigned long long)tb->offset);
            ok = false;
            break;
        }
        unsigned char *da = malloc(ta->nbytes), *db = malloc(tb->nbytes);
        if (qk_gguf_read_tensor(a, ta, 0, da, ta->nbytes, &err) || qk_gguf_read_tensor(b, tb, 0, db, tb->nbytes, &err) ||
            memcmp(da, db, ta->nbytes)) {
            fprintf(stderr, "%s: data of %s (%s) differs\n", what, ta->name, qk_type_get(ta->type)->name);
            ok = false;
        }
        free(da), free(db);
    }
    /* the data sections end alike (last tensor padded the same way) */
    if (ok && a->file_size - a->meta.data_offset != b->file_size - b->meta.data_offset) {
        fprintf(stderr, "%s: data sections of %llu vs %llu bytes\n", what,
                (unsigned long long)(a->file_size - a->meta.data_offset),
                (unsigned long long)(b->file_size - b->meta.data_offset));
        ok = false;
    }
    qk_gguf_close(a), qk_gguf_close(b);
    return ok;
}

static int cmp_names(const void *x, const void *y) {
    const qk_gguf_tensor *const *a = x, *const *b = y;
    return strcmp((*a)->name, (*b)->name);
}

/* Writes the tiny model s to `out` with its tensors stored in strcmp order
 * of their names (through "<out>.plain", the model as tiny_gguf writes it). */
static int write_strcmp_model(const tiny_gguf_spec *s, const char *out) {
    char in[700];
    snprintf(in, sizeof in, "%s.plain", out);
    if (tiny_gguf_write(in, s)) return -1;
    qk_gguf_file *f;
    qk_err err;
    if (qk_gguf_open(in, &f, &err)) return -1;
    const qk_gguf_meta *m = &f->meta;
    const qk_gguf_tensor **ts = malloc(m->n_tensors * sizeof *ts);
    for (uint64_t i = 0; i < m->n_tensors; i++) ts[i] = &m->tensors[i];
    qsort(ts, m->n_tensors, sizeof *ts, cmp_names);
    qk_gguf_writer *w = qk_gguf_writer_new();
    qk_gguf_writer_set_alignment(w, m->alignment);
    int rc = QK_OK;
    for (uint64_t i = 0; rc == QK_OK && i < m->n_kv; i++) rc = qk_gguf_writer_add_kv(w, &m->kv[i], &err);
    for (uint64_t i = 0; rc == QK_OK && i < m->n_tensors; i++)
        rc = qk_gguf_writer_add_tensor(w, ts[i]->name, ts[i]->type, ts[i]->n_dims, ts[i]->ne, &err);
    if (rc == QK_OK) rc = qk_gguf_writer_begin(w, out, &err);
    for (uint64_t i = 0; rc == QK_OK && i < m->n_tensors; i++) {
        unsigned char *buf = malloc(ts[i]->nbytes);
        rc = qk_gguf_read_tensor(f, ts[i], 0, buf, ts[i]->nbytes, &err);
        if (rc == QK_OK) rc = qk_gguf_writer_write(w, buf, ts[i]->nbytes, &err);
        free(buf);
    }
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, &err);
    if (rc) fprintf(stderr, "write_strcmp_model: %s\n", err.msg);
    qk_gguf_writer_free(w);
    free(ts);
    qk_gguf_close(f);
    return rc;
}

static bool file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* Quantizes `first` with quantkit and llama.cpp (keep_split as given) into
 * prefixes under dir; compares every output file. Returns the number of
 * output files found identical, -1 on a difference. rep_out (optional)
 * receives quantkit's report. */
static int compare_run(const char *dir, const char *label, const char *first, int ftype, bool keep_split,
                       const char *dat, imatrix_ref *tim, qk_quantize_report *rep_out) {
    const llama_ref *r = llama_ref_get();
    char ours[700], theirs[700], what[300];
    snprintf(ours, sizeof ours, "%s/ours-%s", dir, label);
    snprintf(theirs, sizeof theirs, "%s/theirs-%s", dir, label);
    if (!keep_split) strcat(ours, ".gguf"), strcat(theirs, ".gguf");
    qk_quantize_opts o = tiny_quantize_opts(ftype);
    o.keep_split = keep_split;
    o.n_threads = 2;
    o.command_line = "quantize (test_keep_split)";
    if (tim) o.imatrix = &tim->im, o.imatrix_path = dat;
    qk_quantize_report rep;
    qk_err err;
    int rc = qk_quantize_model(first, ours, &o, &rep, &err);
    CHECK_MSG(rc == QK_OK, "%s: %s", label, err.msg);

    ref_llama_model_quantize_params p = r->llama_model_quantize_default_params();
    p.nthread = 2;
    p.ftype = ftype;
    p.keep_split = keep_split;
    struct ref_llama_model_kv_override kvo[5];
    memset(kvo, 0, sizeof kvo);
    if (tim) {
        p.imatrix = tim->data;
        imatrix_ref_kv_overrides(tim, dat, kvo, 0); /* what llama-quantize's CLI adds for an imatrix */
        p.kv_overrides = kvo;
    }
    uint32_t lrc = r->llama_model_quantize(first, theirs, &p);
    CHECK_MSG(lrc == 0, "%s: llama_model_quantize failed", label);
    int same = -1;
    if (rc == QK_OK && lrc == 0) {
        same = 0;
        for (size_t s = 0; s < rep.n_shards; s++) {
            char a[760], b[760];
            if (keep_split) {
                qk_split_path(a, sizeof a, ours, (uint32_t)s + 1, (uint32_t)rep.n_shards);
                qk_split_path(b, sizeof b, theirs, (uint32_t)s + 1, (uint32_t)rep.n_shards);
                CHECK_STR(rep.shards[s].path, a);
            } else {
                snprintf(a, sizeof a, "%s", ours), snprintf(b, sizeof b, "%s", theirs);
            }
            snprintf(what, sizeof what, "%s shard %zu/%zu", label, s + 1, rep.n_shards);
            CHECK_MSG(file_exists(b), "%s: llama.cpp wrote no %s", what, b);
            struct stat st;
            CHECK(stat(a, &st) == 0 && (uint64_t)st.st_size == rep.shards[s].file_size);
            if (same_file_but_qk_keys(a, b, what)) same++;
            else same = -1000;
        }
        /* llama.cpp wrote no more shards than we did */
        if (keep_split) {
            char b[760];
            qk_split_path(b, sizeof b, theirs, (uint32_t)rep.n_shards + 1, (uint32_t)rep.n_shards + 1);
            CHECK(!file_exists(b));
        }
        /* quantkit verify passes on our output */
        char first_out[760];
        if (keep_split) qk_split_path(first_out, sizeof first_out, ours, 1, (uint32_t)rep.n_shards);
        else snprintf(first_out, sizeof first_out, "%s", ours);
        qk_verify_opts vo = {0};
        qk_verify_report vr;
        qk_verify_gguf(first_out, &vo, &vr);
        for (size_t i = 0; i < vr.n_problems; i++) fprintf(stderr, "  %s: %s\n", label, vr.problems[i]);
        CHECK_EQ_INT(vr.n_problems, 0);
        CHECK_EQ_INT(vr.n_shards, rep.n_shards);
        CHECK(vr.integrity_present && vr.integrity_ok);
        qk_verify_report_free(&vr);
    }
    if (same < 0) same = -1;
    CHECK_MSG(same == (int)rep.n_shards, "%s: %d of %zu files identical", label, same, rep.n_shards);
    if (rep_out) *rep_out = rep;
    else qk_quantize_report_free(&rep);
    return same;
}

static int g_identical, g_files;

static void tally(int same, size_t n) {
    g_files += (int)n;
    if (same > 0) g_identical += same;
}

static void test_keep_split_vs_llama(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    llama_ref_init_backend();
    const char *dir = qk_test_tmpdir();
    char plain[600], sorted[600], pa[600], pb[600], first_a[700], first_b[700], dat[600];
    qk_err err;
    uint32_t n;

    /* A: 8 layers in layer order, 3 shards of 25 tensors (boundaries inside layers) */
    snprintf(plain, sizeof plain, "%s/a.gguf", dir);
    tiny_gguf_spec sa = {8, 256, 8, 2, 512, 300, 0, false, QK_TYPE_F16, 11};
    CHECK(tiny_gguf_write(plain, &sa) == 0);
    snprintf(pa, sizeof pa, "%s/a-part", dir);
    qk_split_opts so = {.max_tensors = 25};
    CHECK_MSG(qk_split_model(plain, pa, &so, &n, &err) == QK_OK, "%s", err.msg);
    CHECK_EQ_INT(n, 3);
    qk_split_path(first_a, sizeof first_a, pa, 1, n);

    /* B: 12 layers stored in strcmp order, untied, 3 shards of 40 tensors */
    snprintf(sorted, sizeof sorted, "%s/b.gguf", dir);
    tiny_gguf_spec sb = {12, 256, 4, 2, 256, 280, 0, false, QK_TYPE_F16, 12};
    CHECK(write_strcmp_model(&sb, sorted) == 0);
    snprintf(pb, sizeof pb, "%s/b-part", dir);
    so.max_tensors = 40;
    CHECK_MSG(qk_split_model(sorted, pb, &so, &n, &err) == QK_OK, "%s", err.msg);
    CHECK_EQ_INT(n, 3);
    qk_split_path(first_b, sizeof first_b, pb, 1, n);
    snprintf(dat, sizeof dat, "%s/b.imatrix.dat", dir);
    imatrix_ref tim = {0};
    CHECK(imatrix_ref_write(first_b, dat, 77, &tim) == 0);

    /* B with Q4_K_M: the shard-by-shard order must change some types, or
     * this test would not exercise it */
    qk_quantize_report kept, merged;
    tally(compare_run(dir, "b-q4km-keep", first_b, QK_FTYPE_Q4_K_M, true, NULL, NULL, &kept), 3);
    tally(compare_run(dir, "b-q4km-merged", first_b, QK_FTYPE_Q4_K_M, false, NULL, NULL, &merged), 1);
    int differ = 0;
    for (size_t i = 0; i < kept.n_tensors; i++)
        for (size_t j = 0; j < merged.n_tensors; j++)
            if (!strcmp(kept.tensors[i].name, merged.tensors[j].name))
                differ += kept.tensors[i].out_type != merged.tensors[j].out_type;
    CHECK_MSG(differ > 0, "keep_split chose the same types as the merged run");
    fprintf(stderr, "keep_split changes the type of %d tensors of the strcmp-ordered model (Q4_K_M)\n", differ);
    CHECK_EQ_INT(kept.n_shards, 3);
    CHECK(kept.tensors[0].shard == 0 && kept.tensors[kept.n_tensors - 1].shard == 2);
    qk_quantize_report_free(&kept), qk_quantize_report_free(&merged);

    tally(compare_run(dir, "b-q4km-imatrix", first_b, QK_FTYPE_Q4_K_M, true, dat, &tim, NULL), 3);
    if (!QK_TEST_SANITIZED) {
        tally(compare_run(dir, "b-q3km", first_b, QK_FTYPE_Q3_K_M, true, NULL, NULL, NULL), 3);
        tally(compare_run(dir, "b-q5ks-imatrix", first_b, QK_FTYPE_Q5_K_S, true, dat, &tim, NULL), 3);
        tally(compare_run(dir, "b-q8", first_b, QK_FTYPE_Q8_0, true, NULL, NULL, NULL), 3);
        tally(compare_run(dir, "a-q6k", first_a, QK_FTYPE_Q6_K, true, NULL, NULL, NULL), 3);
        tally(compare_run(dir, "a-q4km-merged", first_a, QK_FTYPE_Q4_K_M, false, NULL, NULL, NULL), 1);
    }
    tally(compare_run(dir, "a-q4km", first_a, QK_FTYPE_Q4_K_M, true, NULL, NULL, NULL), 3);
    /* a single file with keep_split: one shard named -00001-of-00001, no split keys */
    tally(compare_run(dir, "a-single", plain, QK_FTYPE_Q4_K_M, true, NULL, NULL, NULL), 1);
    imatrix_ref_free(&tim);
    fprintf(stderr, "%d of %d output files identical with llama_model_quantize\n", g_identical, g_files);
    CHECK_EQ_INT(g_identical, g_files);
}

/* The CLI: --dry-run --json reports each shard's exact size; the real run
 * writes exactly those; an output prefix equal to the input's is refused. */
static void test_cli(void) {
    const char *bd = getenv("QK_BUILD_DIR");
    const char *dir = qk_test_tmpdir();
    char in[600], pre[600], first[700], cmd[3000];
    snprintf(in, sizeof in, "%s/cli.gguf", dir);
    tiny_gguf_spec s = {2, 256, 4, 2, 256, 270, 0, true, QK_TYPE_F16, 13};
    CHECK(tiny_gguf_write(in, &s) == 0);
    snprintf(pre, sizeof pre, "%s/cli-part", dir);
    qk_split_opts so = {.max_tensors = 8};
    uint32_t n;
    qk_err err;
    CHECK(qk_split_model(in, pre, &so, &n, &err) == QK_OK);
    CHECK_EQ_INT(n, 3);
    qk_split_path(first, sizeof first, pre, 1, n);
    char exe[700];
    snprintf(exe, sizeof exe, "%s/quantkit", bd ? bd : "build");
    for (int dry = 1; dry >= 0; dry--) {
        snprintf(cmd, sizeof cmd, "%s quantize --keep-split %s --json %s %s/cli-q.gguf q8_0 2>&1", exe,
                 dry ? "--dry-run" : "", first, dir);
        FILE *p = popen(cmd, "r");
        CHECK(p != NULL);
        if (!p) return;
        char *out = calloc(1, 1 << 20);
        size_t len = fread(out, 1, (1 << 20) - 1, p);
        out[len] = 0;
        CHECK_EQ_INT(pclose(p), 0);
        cJSON *j = cJSON_Parse(out);
        CHECK_MSG(j != NULL, "not JSON: %s", out);
        const cJSON *sh = cJSON_GetObjectItem(j, "shards");
        CHECK(cJSON_IsArray(sh) && cJSON_GetArraySize(sh) == 3);
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "keep_split")));
        double total = 0;
        for (int k = 0; k < cJSON_GetArraySize(sh); k++) {
            const cJSON *e = cJSON_GetArrayItem(sh, k);
            char want[700];
            snprintf(want, sizeof want, "%s/cli-q", dir);
            char path[760];
            qk_split_path(path, sizeof path, want, (uint32_t)k + 1, 3);
            const cJSON *jp = cJSON_GetObjectItem(e, "path");
            CHECK(cJSON_IsString(jp) && !strcmp(jp->valuestring, path));
            double fs = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "file_size"));
            total += fs;
            struct stat st;
            if (dry) CHECK(stat(path, &st) != 0); /* nothing written */
            else CHECK(stat(path, &st) == 0 && (double)st.st_size == fs);
            CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(e, "tensors")) > 0);
        }
        CHECK(total == cJSON_GetNumberValue(cJSON_GetObjectItem(j, "file_size")));
        cJSON_Delete(j);
        free(out);
    }
    /* --keep-split with --split-max-size is a usage error; an output over the input is refused */
    snprintf(cmd, sizeof cmd, "%s quantize --keep-split --split-max-size 1M %s q8_0 >/dev/null 2>&1", exe, first);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof cmd, "%s quantize --keep-split %s %s.gguf q8_0 >/dev/null 2>&1", exe, first, pre);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(file_exists(first));
    /* merging onto a later input shard is refused too */
    char second[700];
    qk_split_path(second, sizeof second, pre, 2, 3);
    qk_quantize_opts o = {0};
    qk_mix_options_init(&o.mix);
    qk_quantize_report rep;
    CHECK(qk_quantize_model(first, second, &o, &rep, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "overwrite the input");
    qk_quantize_report_free(&rep);
}

/* A write failure in the last shard (file-size limit between the shard
 * sizes) leaves no output file, not even the shards already written. */
static void test_failure_leaves_nothing(void) {
    const char *dir0 = qk_test_tmpdir();
    char in[600], pre[600], first[700], dir[600], out[700];
    snprintf(in, sizeof in, "%s/fail.gguf", dir0);
    /* strcmp order puts the big output and token_embd last: the last shard is the largest */
    tiny_gguf_spec s = {2, 256, 4, 2, 256, 2000, 0, false, QK_TYPE_F16, 14};
    CHECK(write_strcmp_model(&s, in) == 0);
    snprintf(pre, sizeof pre, "%s/fail-part", dir0);
    qk_split_opts so = {.max_tensors = 9};
    uint32_t n;
    qk_err err;
    CHECK(qk_split_model(in, pre, &so, &n, &err) == QK_OK);
    qk_split_path(first, sizeof first, pre, 1, n);
    snprintf(dir, sizeof dir, "%s/fail-out", dir0);
    mkdir(dir, 0755);
    snprintf(out, sizeof out, "%s/q", dir);
    qk_quantize_opts o = tiny_quantize_opts(QK_FTYPE_Q8_0);
    o.keep_split = true;
    o.dry_run = true;
    qk_quantize_report rep;
    CHECK(qk_quantize_model(first, out, &o, &rep, &err) == QK_OK);
    uint64_t lo = 0, hi; /* the largest earlier shard, the last one */
    for (size_t k = 0; k + 1 < rep.n_shards; k++)
        if (rep.shards[k].file_size > lo) lo = rep.shards[k].file_size;
    hi = rep.shards[rep.n_shards - 1].file_size;
    CHECK_MSG(hi > lo + 8192, "last shard %llu bytes, others up to %llu", (unsigned long long)hi, (unsigned long long)lo);
    qk_quantize_report_free(&rep);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)(lo + 4096), (rlim_t)(lo + 4096)};
        setrlimit(RLIMIT_FSIZE, &rl);
        o.dry_run = false;
        qk_err e2 = {{0}};
        int rc = qk_quantize_model(first, out, &o, &rep, &e2);
        if (write(fds[1], e2.msg, strlen(e2.msg)) < 0) _exit(3);
        _exit(rc ? 1 : 0);
    }
    close(fds[1]);
    char msg[1100];
    ssize_t r = read(fds[0], msg, sizeof msg - 1);
    msg[r > 0 ? r : 0] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: %s", st, msg);
    CHECK_CONTAINS(msg, "too large");
    CHECK_MSG(qk_test_count_entries(dir) == 0, "%d files left behind", qk_test_count_entries(dir));
}

int main(void) {
    RUN(test_keep_split_vs_llama);
    RUN(test_cli);
    RUN(test_failure_leaves_nothing);
    return qk_test_summary();
}
