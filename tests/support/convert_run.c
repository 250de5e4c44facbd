/* convert_run.c - see convert_run.h. */
#include "convert_run.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert_model.h"
#include "gguf.h"
#include "json_edit.h"
#include "qk_test.h"
#include "st_write.h"
#include "str_util.h"

int convert_run(const char *dir, const char *out, const char *type, int threads, qk_err *err) {
    qk_convert_opts o = {.type = type, .output_tensor_type = -1, .n_threads = threads, .command_line = "convert (test)"};
    qk_convert_report rep;
    return qk_convert_model(dir, out, &o, &rep, err);
}

int convert_write_tiny(char *dir, size_t n, const char *name, const tiny_hf_spec *s) {
    snprintf(dir, n, "%s/%s/hf", qk_test_tmpdir(), name);
    const int wrote = tiny_hf_write(dir, s);
    CHECK_MSG(wrote == 0, "cannot write %s", dir);
    return wrote ? -1 : 0;
}

void convert_expect_refusal(const char *dir, const char *want) {
    char g[1200];
    snprintf(g, sizeof g, "%s.gguf", dir);
    qk_err err = {{0}};
    CHECK_MSG(convert_run(dir, g, "f16", 2, &err) == QK_FAIL, "%s converted", dir);
    CHECK_CONTAINS(err.msg, want);
    struct stat st;
    CHECK_MSG(stat(g, &st) != 0, "%s was left behind", g);
}

void convert_edit_file(const char *path, const char *from, const char *to) {
    size_t len;
    char *t = (char *)qk_test_read_file(path, &len);
    CHECK_MSG(t != NULL, "cannot read %s", path);
    if (!t) return;
    char *at = memmem(t, len, from, strlen(from));
    CHECK_MSG(at != NULL, "%s: no '%s'", path, from);
    if (at) {
        const size_t fl = strlen(from), tl = strlen(to), off = (size_t)(at - t);
        char *n = malloc(len - fl + tl);
        CHECK(n != NULL);
        if (n) {
            memcpy(n, t, off);
            memcpy(n + off, to, tl);
            memcpy(n + off + tl, at + fl, len - off - fl);
            if (qk_str_ends_with(path, ".safetensors")) { /* the header grew or shrank: its length prefix too */
                uint64_t hl = 0;
                for (int k = 0; k < 8; k++) hl |= (uint64_t)(unsigned char)n[k] << (8 * k);
                hl = hl + tl - fl;
                for (int k = 0; k < 8; k++) n[k] = (char)(hl >> (8 * k));
            }
            CHECK(qk_test_write_file(path, n, len - fl + tl) == 0);
            free(n);
        }
    }
    free(t);
}

void convert_expect_edit_refusal(const char *dir, const tiny_hf_spec *s, const char *file, const char *from,
                                 const char *to, const char *want) {
    CHECK_MSG(tiny_hf_write(dir, s) == 0, "cannot write %s", dir);
    char ok[1200], p[1200];
    snprintf(ok, sizeof ok, "%s.ok.gguf", dir);
    qk_err err;
    CHECK_MSG(convert_run(dir, ok, "q8_0", 2, &err) == QK_OK, "%s as written: %s", dir, err.msg);
    remove(ok);
    snprintf(p, sizeof p, "%s/%s", dir, file);
    convert_edit_file(p, from, to);
    convert_expect_refusal(dir, want);
    convert_expect_refusal(dir, dir); /* the message names the checkpoint */
}

void convert_expect_edit_refusals(const char *tag, const convert_edit_case *cases, size_t n, convert_spec_fn spec) {
    for (size_t i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s-%zu/hf", qk_test_tmpdir(), tag, i);
        tiny_hf_spec s;
        spec(&s, cases[i].arch);
        convert_expect_edit_refusal(dir, &s, cases[i].file, cases[i].from, cases[i].to, cases[i].want);
    }
}

void convert_expect_quant_refusals(const char *src, const char *tag, const char *const q[][2], size_t n) {
    for (size_t i = 0; i < n; i++) {
        char dst[1024], a[1200], b[1200];
        snprintf(dst, sizeof dst, "%s/%s-%zu", qk_test_tmpdir(), tag, i);
        CHECK(hf_copy_sidecars(src, dst, q[i][0]) == 0);
        snprintf(a, sizeof a, "%s/model.safetensors", src), snprintf(b, sizeof b, "%s/model.safetensors", dst);
        size_t len;
        unsigned char *buf = qk_test_read_file(a, &len);
        CHECK(buf && qk_test_write_file(b, buf, len) == 0);
        free(buf);
        convert_expect_refusal(dst, q[i][1]);
    }
}

void convert_edit_config(const char *dir, const char *key, const char *json) {
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *top = json_file_read_checked(path);
    if (!top) return;
    cJSON *c = cJSON_GetObjectItemCaseSensitive(top, "text_config");
    if (!c) c = top;
    cJSON_DeleteItemFromObjectCaseSensitive(c, key);
    if (json) cJSON_AddItemToObject(c, key, cJSON_Parse(json));
    CHECK_MSG(json_file_write(path, top, 0) == 0, "cannot write %s", path);
    cJSON_Delete(top);
}

/* a dry run at F16 (the plan and its checks, nothing written) */
static int convert_dry(const char *dir, qk_convert_report *rep, qk_err *err) {
    qk_convert_opts o = {.type = "f16", .output_tensor_type = -1, .n_threads = 1, .dry_run = true};
    return qk_convert_model(dir, NULL, &o, rep, err);
}

void convert_expect_dry_refusal(const char *dir, const char *what, const char *needle) {
    qk_convert_report rep;
    qk_err err;
    const int rc = convert_dry(dir, &rep, &err);
    CHECK_MSG(rc != QK_OK, "%s: converted", what);
    if (rc == QK_OK) qk_convert_report_free(&rep);
    else CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, needle);
}

void convert_expect_config_refusal(const char *dir, const tiny_hf_spec *s, const char *key, const char *json,
                                   const char *what, const char *want) {
    CHECK_MSG(tiny_hf_write(dir, s) == 0, "%s: cannot write %s", what, dir);
    convert_edit_config(dir, key, json);
    convert_expect_dry_refusal(dir, what, want);
}

void convert_expect_config_refusals_in(const char *dir, const convert_config_case *cases, size_t n) {
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    for (size_t i = 0; i < n; i++) {
        cJSON *top = json_file_read_checked(path);
        if (!top) return;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(top, "text_config"); /* where convert_edit_config edits */
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(c ? c : top, cases[i].key);
        char *keep = old ? cJSON_PrintUnformatted(old) : NULL;
        cJSON_Delete(top);
        convert_edit_config(dir, cases[i].key, cases[i].json);
        convert_expect_dry_refusal(dir, cases[i].what, cases[i].want);
        convert_edit_config(dir, cases[i].key, keep);
        free(keep);
    }
}

void convert_check_left_out(const char *dir, const char *want) {
    qk_convert_report rep;
    qk_err err;
    const int rc = convert_dry(dir, &rep, &err);
    CHECK_MSG(rc == QK_OK, "%s: %s", dir, err.msg);
    if (rc != QK_OK) return;
    char got[512] = "";
    for (int g = 0; g < rep.n_left_out; g++) {
        const size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s;", rep.left_out[g].prefix);
        CHECK_MSG(rep.left_out[g].n_tensors >= 1 && rep.left_out[g].n_bytes > 0, "%s: left-out group %s is empty", dir,
                  rep.left_out[g].prefix);
    }
    CHECK_MSG(!strcmp(got, want), "%s: left out '%s', expected '%s'", dir, got, want);
    qk_convert_report_free(&rep);
}

void convert_check_kv(const llama_run_model *m, const char *key, const char *want) {
    char v[64] = "";
    CHECK_MSG(llama_run_meta(m, key, v, sizeof v) && !strcmp(v, want), "%s = '%s', expected %s", key, v, want);
}

void convert_check_f16_types(const char *out, const char *const *f32_names, size_t n, const char *what) {
    qk_err err;
    qk_gguf_file *gf = NULL;
    CHECK_MSG(qk_gguf_open(out, &gf, &err) == QK_OK, "%s: %s", what, err.msg);
    for (uint64_t i = 0; gf && i < gf->meta.n_tensors; i++) {
        const char *nm = gf->meta.tensors[i].name, *dot = strchr(nm, '.');
        const char *tail = !strncmp(nm, "blk.", 4) && dot && strchr(dot + 1, '.') ? strchr(dot + 1, '.') + 1 : nm;
        bool f32 = false;
        for (size_t k = 0; k < n; k++) f32 |= !strcmp(tail, f32_names[k]);
        CHECK_MSG(gf->meta.tensors[i].type == (f32 ? 0u : 1u), "%s: %s is ggml type %u", what, nm,
                  gf->meta.tensors[i].type);
    }
    qk_gguf_close(gf);
}

void convert_check_kv_order(const char *out, const char *arch, const char *const *order, size_t n, const char *what) {
    qk_err err;
    qk_gguf_file *gf = NULL;
    CHECK_MSG(qk_gguf_open(out, &gf, &err) == QK_OK, "%s: %s", what, err.msg);
    const size_t pl = strlen(arch);
    size_t k = 0;
    for (uint64_t i = 0; gf && i < gf->meta.n_kv; i++) {
        const char *kn = gf->meta.kv[i].key;
        const bool ours = !strncmp(kn, arch, pl) && kn[pl] == '.', ft = !strcmp(kn, "general.file_type");
        if (!ours && !ft) continue;
        const char *want = k < n ? order[k] : "(nothing)";
        CHECK_MSG(!strcmp(ft ? kn : kn + pl + 1, want), "%s: KV %zu is %s, the converter writes %s there", what, k, kn,
                  want);
        k++;
    }
    CHECK_MSG(k == n, "%s: %zu KVs of %s, the converter writes %zu", what, k, arch, n);
    qk_gguf_close(gf);
}

void convert_check_arch_kvs(llama_run_model *m, const char *arch, const char *(*kv)[2], size_t n) {
    for (size_t k = 0; k < n; k++) {
        char key[128];
        snprintf(key, sizeof key, "%s.%s", arch, kv[k][0]);
        convert_check_kv(m, key, kv[k][1]);
    }
}

const char *convert_gguf_str_at(const qk_gguf_file *gf, const char *key, uint64_t i) {
    const qk_gguf_kv *kv = qk_gguf_find(&gf->meta, key);
    return kv && kv->type == QK_GGUF_ARRAY && kv->arr_type == QK_GGUF_STRING && i < kv->n
               ? ((const qk_gguf_str *)kv->data)[i].s
               : NULL;
}
