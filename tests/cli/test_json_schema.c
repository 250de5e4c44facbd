/* Every --json output (and --progress=json line) checked against the schema
 * documented in docs/json-schema.md, on normal and on degraded inputs; and
 * what `info --json` must carry: every KV with n_kv, arrays with length and
 * a truncated flag (all items with --full), hashes as hex strings; a later
 * shard or a truncated file shown as far as its header goes, exit 1; an HF
 * folder whose config.json is not JSON, not an object or not UTF-8 refused. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "ggml_types.h"
#include "json_schema.h"
#include "qk_test.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

static char g_doc[1200], g_in[700], g_narrow[700], g_hf[700], g_q[700];

static void setup(void) {
    if (g_in[0]) return;
    const char *src = getenv("QK_SOURCE_DIR");
    snprintf(g_doc, sizeof g_doc, "%s/docs/json-schema.md", src ? src : ".");
    const tiny_gguf_spec s = TINY_GGUF_SMALL, n = {2, 64, 4, 2, 128, 300, 0, false, QK_TYPE_F16, 9};
    tiny_gguf_tmp(g_in, sizeof g_in, "Tiny-F16.gguf", &s);
    tiny_gguf_tmp(g_narrow, sizeof g_narrow, "narrow-F16.gguf", &n);
    tiny_hf_tmp(g_hf, sizeof g_hf, "hf");
    /* a quantkit output: it carries the integrity hashes (u64 arrays) */
    snprintf(g_q, sizeof g_q, "%s/Tiny-Q8_0.gguf", qk_test_tmpdir());
    cli_result r = cli_run("quantize", g_in, g_q, "Q8_0");
    CHECK_EQ_INT(r.code, 0);
    cli_result_free(&r);
}

/* Parses `text` and checks it against the doc's schema `name`; returns the
 * parsed document (caller frees) or NULL. */
static cJSON *conforms(const char *name, const char *text) {
    cJSON *schema = js_load_doc_schema(g_doc, name);
    cJSON *v = cJSON_Parse(text);
    CHECK_MSG(v != NULL, "%s: output is not JSON: %.300s", name, text);
    char why[600];
    if (schema && v) CHECK_MSG(js_check(schema, v, why, sizeof why), "%s output breaks the schema: %s", name, why);
    cJSON_Delete(schema);
    return v;
}

/* The checker itself catches what it must (else a test of it proves nothing). */
static void test_checker(void) {
    setup();
    cJSON *schema = js_load_doc_schema(g_doc, "types");
    char why[600];
    cJSON *bad = cJSON_Parse("{\"types\":[{\"name\":\"Q8_0\",\"ftype\":7.5,\"bits_per_weight\":8.5,\"note\":\"\","
                             "\"needs_imatrix\":false,\"alias\":false,\"supported\":true}]}");
    CHECK(schema && bad && !js_check(schema, bad, why, sizeof why) && strstr(why, "ftype"));
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"types\":[{\"name\":\"Q8_0\",\"ftype\":7,\"bits_per_weight\":8.5,\"note\":\"\","
                      "\"needs_imatrix\":false,\"alias\":false,\"supported\":true,\"extra\":1}]}");
    CHECK(bad && !js_check(schema, bad, why, sizeof why) && strstr(why, "extra"));
    cJSON_Delete(bad);
    bad = cJSON_Parse("{}");
    CHECK(bad && !js_check(schema, bad, why, sizeof why) && strstr(why, "types"));
    cJSON_Delete(bad);
    cJSON_Delete(schema);
}

static void test_quantize_convert_types_progress(void) {
    setup();
    cli_result r = cli_run("quantize", "--dry-run", "--json", g_narrow, "Q4_K_M");
    CHECK_EQ_INT(r.code, 0);
    cJSON *v = conforms("quantize", r.out);
    cJSON_Delete(v);
    cli_result_free(&r);
    r = cli_run("convert", g_hf, "--dry-run", "--json", "--type", "q4_k_m");
    CHECK_EQ_INT(r.code, 0);
    cJSON_Delete(conforms("convert", r.out));
    cli_result_free(&r);
    r = cli_run("types", "--json");
    CHECK_EQ_INT(r.code, 0);
    cJSON_Delete(conforms("types", r.out));
    cli_result_free(&r);
    char out[800];
    snprintf(out, sizeof out, "%s/p.gguf", qk_test_tmpdir());
    /* quantize writes the file, verify then reads it: the same event lines */
    static const char *const cmds[][6] = {{"quantize", "--progress=json", NULL, NULL, "Q4_0", NULL},
                                          {"verify", "--progress=json", NULL, NULL, NULL, NULL}};
    for (int k = 0; k < 2; k++) {
        const char *args[6];
        memcpy(args, cmds[k], sizeof args);
        if (k == 0) args[2] = g_in, args[3] = out;
        else args[2] = out;
        r = cli_runv(args);
        CHECK_MSG(r.code == 0, "%s: %d %s", args[0], r.code, r.err);
        char *save = NULL;
        int lines = 0;
        for (char *l = strtok_r(r.err, "\n", &save); l; l = strtok_r(NULL, "\n", &save), lines++)
            cJSON_Delete(conforms("progress", l));
        CHECK_MSG(lines >= 2, "%s: %d progress lines", args[0], lines);
        cli_result_free(&r);
    }
    unlink(out);
}

static const cJSON *md(const cJSON *j, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "metadata"), key);
}

static void test_info_complete(void) {
    setup();
    cli_result r = cli_run("info", "--json", g_q);
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = conforms("info", r.out);
    if (j) {
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
        CHECK_EQ_INT((int)cJSON_GetObjectItem(j, "n_kv")->valuedouble,
                     cJSON_GetArraySize(cJSON_GetObjectItem(j, "metadata")));
        const cJSON *toks = md(j, "tokenizer.ggml.tokens");
        CHECK_MSG(toks != NULL, "tokenizer.ggml.tokens is missing from metadata");
        if (toks) {
            CHECK(cJSON_GetObjectItem(toks, "length")->valuedouble == 1000);
            CHECK(cJSON_IsTrue(cJSON_GetObjectItem(toks, "truncated")));
            CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(toks, "items")), 16);
        }
        /* the integrity hashes: hex strings, all of them counted */
        const cJSON *hx = md(j, "quantkit.integrity.tensor_xxh3");
        CHECK_MSG(hx != NULL, "no quantkit.integrity.tensor_xxh3");
        const cJSON *it = hx ? cJSON_GetObjectItem(hx, "items") : NULL, *e;
        CHECK(it && cJSON_GetArraySize(it) > 0);
        cJSON_ArrayForEach(e, it) CHECK_MSG(cJSON_IsString(e) && strlen(e->valuestring) == 16 &&
                                                strspn(e->valuestring, "0123456789abcdef") == 16,
                                            "hash item is not 16 hex digits");
    }
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("info", "--json", "--full", g_q);
    CHECK_EQ_INT(r.code, 0);
    j = conforms("info", r.out);
    const cJSON *toks = j ? md(j, "tokenizer.ggml.tokens") : NULL;
    CHECK(toks && cJSON_GetArraySize(cJSON_GetObjectItem(toks, "items")) == 1000 &&
          cJSON_IsFalse(cJSON_GetObjectItem(toks, "truncated")));
    cJSON_Delete(j);
    cli_result_free(&r);
}

/* A later shard and a truncated file: the header is shown, complete false,
 * the error says what is wrong, exit 1. */
static void test_info_partial(void) {
    setup();
    char dir[700], prefix[800], shard2[900];
    qk_test_mkdir(dir, sizeof dir, "shards");
    snprintf(prefix, sizeof prefix, "%s/m", dir);
    cli_result r = cli_run("split", "--max-tensors", "8", g_in, prefix);
    CHECK_EQ_INT(r.code, 0);
    cli_result_free(&r);
    snprintf(shard2, sizeof shard2, "%s-00002-of-00003.gguf", prefix);
    r = cli_run("info", "--json", shard2);
    CHECK_EQ_INT(r.code, 1);
    cJSON *j = conforms("info", r.out);
    if (j) {
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "complete")));
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error"));
        CHECK_MSG(e && strstr(e, "shard 2 of 3"), "error: %s", e ? e : "(none)");
        CHECK(cJSON_GetObjectItem(j, "n_tensors")->valuedouble > 0);
    }
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("info", shard2);
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.out, "PROBLEM") && cli_has(r.out, "blk.") && cli_has(r.err, "shard 2 of 3"), "stdout: %.400s",
              r.out);
    cli_result_free(&r);
    /* truncated: the last 4 KiB of the data cut off */
    size_t len;
    unsigned char *b = qk_test_read_file(g_in, &len);
    char cut[800];
    snprintf(cut, sizeof cut, "%s/cut.gguf", qk_test_tmpdir());
    CHECK(b && len > 8192 && qk_test_write_file(cut, b, len - 4096) == 0);
    free(b);
    r = cli_run("info", "--json", cut);
    CHECK_EQ_INT(r.code, 1);
    j = conforms("info", r.out);
    if (j) {
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "complete")));
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error"));
        CHECK_MSG(e && strstr(e, "truncated"), "error: %s", e ? e : "(none)");
        CHECK(md(j, "general.architecture") != NULL);
    }
    cJSON_Delete(j);
    cli_result_free(&r);
}

static void write_config(const char *dir, const char *bytes) {
    char p[900];
    snprintf(p, sizeof p, "%s/config.json", dir);
    CHECK(qk_test_write_file(p, bytes, strlen(bytes)) == 0);
}

/* An HF folder whose config.json is not JSON, not an object or not UTF-8. */
static void test_info_bad_config(void) {
    setup();
    static const char *configs[] = {"not json {", "[1, 2, 3]", "\"a string\"",
                                    "{\"architectures\": [\"LlamaForCausalLM\"], \"name\": \"\xff\xfe\"}"};
    static const char *says[] = {"not valid JSON", "JSON object", "JSON object", "UTF-8"};
    for (int i = 0; i < 4; i++) {
        char d[800];
        snprintf(d, sizeof d, "%s/badcfg%d", qk_test_tmpdir(), i);
        tiny_hf_spec h;
        tiny_hf_default(&h);
        CHECK(tiny_hf_write(d, &h) == 0);
        write_config(d, configs[i]);
        cli_result r = cli_run("info", d);
        CHECK_MSG(r.code == 1 && cli_has(r.err, says[i]), "config %d: exit %d, stderr %s", i, r.code, r.err);
        cli_result_free(&r);
    }
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_checker);
    RUN(test_quantize_convert_types_progress);
    RUN(test_info_complete);
    RUN(test_info_partial);
    RUN(test_info_bad_config);
    return qk_test_summary();
}
