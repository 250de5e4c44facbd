/* The command line as a user meets it: the built `quantkit` driven through
 * tests/support/cli_run (stdout, stderr, exit code), on small generated
 * models. Each test names the issue-13 complaint it pins. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "ggml_types.h"
#include "qk_test.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

static char g_in[600], g_hf[600], g_dir[600];

static void setup(void) {
    if (g_in[0]) return;
    snprintf(g_dir, sizeof g_dir, "%s/w", qk_test_tmpdir());
    mkdir(g_dir, 0755);
    snprintf(g_in, sizeof g_in, "%s/Tiny-F16.gguf", qk_test_tmpdir());
    tiny_gguf_spec s = {2, 256, 4, 2, 512, 1000, 0, false, QK_TYPE_F16, 5};
    CHECK(tiny_gguf_write(g_in, &s) == 0);
    snprintf(g_hf, sizeof g_hf, "%s/hf", qk_test_tmpdir());
    tiny_hf_spec h;
    tiny_hf_default(&h);
    CHECK(tiny_hf_write(g_hf, &h) == 0);
}

/* Parses stdout as JSON; NULL (a failed check) if it is not. */
static cJSON *json_of(const cli_result *r) {
    cJSON *j = cJSON_Parse(r->out);
    CHECK_MSG(j != NULL, "stdout is not JSON: %.300s (stderr %.300s)", r->out, r->err);
    return j;
}

static const char *jstr(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The exact output size of quantizing g_in to type (a dry run). */
static unsigned long long quant_size(const char *type) {
    cli_result r = cli_run("quantize", "--dry-run", "--json", g_in, type);
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    unsigned long long s = j ? (unsigned long long)jnum(j, "file_size") : 0;
    cJSON_Delete(j);
    cli_result_free(&r);
    return s;
}

/* `quantize --max-size` read the dry run's size after freeing the report, so
 * it always picked Q8_0, and it replaced an explicit TYPE. */
static void test_quantize_max_size(void) {
    setup();
    unsigned long long q8 = quant_size("Q8_0"), q4 = quant_size("Q4_K_M");
    CHECK(q4 > 0 && q8 > q4);
    char lim[32];
    snprintf(lim, sizeof lim, "%llu", q4);
    cli_result r = cli_run("quantize", "--dry-run", "--json", "--max-size", lim, g_in);
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    if (j) {
        CHECK_MSG(strcmp(jstr(j, "type"), "Q8_0") != 0, "picked Q8_0 for a limit of %s", lim);
        CHECK((unsigned long long)jnum(j, "file_size") <= q4);
    }
    cJSON_Delete(j);
    cli_result_free(&r);
    /* an explicit TYPE is kept: a fitting one is used, one too big is an error */
    r = cli_run("quantize", "--dry-run", "--json", "--max-size", "1G", g_in, "Q4_0");
    CHECK_EQ_INT(r.code, 0);
    j = json_of(&r);
    if (j) CHECK_STR(jstr(j, "type"), "Q4_0");
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("quantize", "--dry-run", "--max-size", lim, g_in, "Q8_0");
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.err, "does not fit"), "stderr: %s", r.err);
    cli_result_free(&r);
}

/* `convert --max-size ... --type q8_0` dropped --type. */
static void test_convert_max_size_keeps_type(void) {
    setup();
    cli_result r = cli_run("convert", g_hf, "--dry-run", "--json", "--max-size", "1G", "--type", "q8_0");
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    if (j) CHECK_STR(jstr(j, "type"), "Q8_0");
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("convert", g_hf, "--dry-run", "--max-size", "10K", "--type", "q8_0");
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.err, "does not fit"), "stderr: %s", r.err);
    cli_result_free(&r);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_quantize_max_size);
    RUN(test_convert_max_size_keeps_type);
    return qk_test_summary();
}
