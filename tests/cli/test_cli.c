/* The command line as a user meets it: the built `quantkit` driven through
 * tests/support/cli_run (stdout, stderr, exit code), on small generated
 * models. Each test names the issue-13 complaint it pins. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli_run.h"
#include "gguf_build.h"
#include "ftypes.h"
#include "ggml_types.h"
#include "gguf.h"
#include "gguf_checked.h"
#include "gguf_compare.h"
#include "qk_test.h"
#include "tiny_gguf.h"
#include "tiny_hf.h"

static char g_in[600], g_hf[600], g_dir[600];

static void setup(void) {
    if (g_in[0]) return;
    qk_test_mkdir(g_dir, sizeof g_dir, "w");
    const tiny_gguf_spec s = TINY_GGUF_SMALL;
    tiny_gguf_tmp(g_in, sizeof g_in, "Tiny-F16.gguf", &s);
    tiny_hf_tmp(g_hf, sizeof g_hf, "hf");
    /* relative outputs (the default names, a mistaken positional) land here */
    CHECK(chdir(g_dir) == 0);
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
    cli_expect(1, "does not fit", "quantize", "--dry-run", "--max-size", lim, g_in, "Q8_0");
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
    cli_expect(1, "does not fit", "convert", g_hf, "--dry-run", "--max-size", "10K", "--type", "q8_0");
}


/* A MoE model's stacked experts are most of its bytes: the dry-run plan,
 * --max-size's size list and the JSON reports give their share apart, and
 * a dense model says nothing of experts. */
static void test_expert_bytes(void) {
    setup();
    char moe[700];
    snprintf(moe, sizeof moe, "%s/Tiny-MoE", g_dir);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    s.arch = "qwen3moe";
    CHECK(tiny_hf_write(moe, &s) == 0);
    cli_result r = cli_run("convert", moe, "--dry-run", "--json", "--type", "q8_0");
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    double sum = 0;
    int n = 0;
    const cJSON *t, *ts = j ? cJSON_GetObjectItem(j, "tensors") : NULL;
    cJSON_ArrayForEach(t, ts) {
        if (strstr(jstr(t, "name"), "_exps.")) sum += jnum(t, "bytes"), n++;
    }
    CHECK_MSG(n == 3 * s.n_layer && sum > 0, "%d expert tensors", n);
    if (j) CHECK_MSG(jnum(j, "expert_bytes") == sum && jnum(j, "expert_tensors") == n, "expert_bytes %.0f, sum %.0f",
                     jnum(j, "expert_bytes"), sum);
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("convert", moe, "--dry-run", "--type", "q8_0");
    CHECK_MSG(r.code == 0 && cli_has(r.out, "experts: 6 stacked tensors") && cli_has(r.out, "% of the tensor data"),
              "%s", r.out);
    cli_result_free(&r);
    char f16[800];
    snprintf(f16, sizeof f16, "%s/moe-f16.gguf", g_dir);
    r = cli_run("convert", moe, "--type", "f16", "-o", f16);
    CHECK_EQ_INT(r.code, 0);
    cli_result_free(&r);
    r = cli_run("quantize", "--dry-run", "--max-size", "1G", f16);
    CHECK_MSG(r.code == 0 && cli_has(r.err, "(experts ") && cli_has(r.out, "experts: 6 stacked tensors"), "%s | %s",
              r.err, r.out);
    cli_result_free(&r);
    /* dense: no expert line, no expert keys */
    r = cli_run("convert", g_hf, "--dry-run", "--json", "--type", "q8_0");
    j = json_of(&r);
    if (j) CHECK(!cJSON_GetObjectItem(j, "expert_bytes"));
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("quantize", "--dry-run", g_in, "Q8_0");
    CHECK_MSG(r.code == 0 && !cli_has(r.out, "experts:"), "%s", r.out);
    cli_result_free(&r);
    unlink(f16);
}

/* One parser: --opt=value, --opt value, -o and -t; -o names the output. */
static void test_option_forms(void) {
    setup();
    char out[800];
    snprintf(out, sizeof out, "%s/named.gguf", g_dir);
    cli_result r = cli_run("quantize", "--dry-run", "--json", "--threads=2", "-o", out, g_in, "q8_0");
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    if (j) CHECK_STR(jstr(j, "output"), out);
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("quantize", "--dry-run", "--json", "-t", "2", "--output=x.gguf", g_in, "Q4_0");
    CHECK_EQ_INT(r.code, 0);
    j = json_of(&r);
    if (j) CHECK_STR(jstr(j, "output"), "x.gguf");
    cJSON_Delete(j);
    cli_result_free(&r);
    /* with --max-size the output can be named positionally */
    r = cli_run("quantize", "--dry-run", "--json", "--max-size=1G", g_in, "sized.gguf");
    CHECK_EQ_INT(r.code, 0);
    j = json_of(&r);
    if (j) CHECK_STR(jstr(j, "output"), "sized.gguf");
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("convert", g_hf, "--dry-run", "--json", "--type=q8_0", "--output=c.gguf");
    CHECK_EQ_INT(r.code, 0);
    j = json_of(&r);
    if (j) {
        CHECK_STR(jstr(j, "output"), "c.gguf");
        CHECK_STR(jstr(j, "type"), "Q8_0");
    }
    cJSON_Delete(j);
    cli_result_free(&r);
    /* quantize takes --type as convert does (it was "unknown option") */
    r = cli_run("quantize", "--dry-run", "--json", "--type=q8_0", g_in, "t.gguf");
    CHECK_EQ_INT(r.code, 0);
    j = json_of(&r);
    if (j) CHECK_MSG(!strcmp(jstr(j, "output"), "t.gguf") && !strcmp(jstr(j, "type"), "Q8_0"), "%s", r.out);
    cJSON_Delete(j);
    cli_result_free(&r);
    r = cli_run("quantize", "--type", "q4km", g_in);
    CHECK_MSG(r.code == 2 && cli_has(r.err, "Q4_K_M"), "%d %s", r.code, r.err);
    cli_result_free(&r);
    r = cli_run("quantize", "--type", "Q4_0", g_in, "Q8_0");
    CHECK_MSG(r.code == 2 && cli_has(r.err, "two types"), "%d %s", r.code, r.err);
    cli_result_free(&r);
    /* a flag given a value, an option without one, a misspelt one */
    cli_expect(2, "takes no value", "quantize", "--json=1", g_in, "Q8_0");
    cli_expect(2, "needs a value", "quantize", g_in, "Q8_0", "--threads");
    cli_expect(2, "--dry-run", "convert", g_hf, "--dryrun");
}

/* Positional mistakes are named precisely, and never become file names. */
static void test_positional_mistakes(void) {
    setup();
    cli_result r = cli_run("quantize", g_in, "out.gguf", "q4km", "4");
    CHECK_EQ_INT(r.code, 2);
    CHECK_MSG(cli_has(r.err, "'q4km'") && cli_has(r.err, "Q4_K_M") && !cli_has(r.err, "'4'"), "stderr: %s", r.err);
    cli_result_free(&r);
    cli_expect(2, "did you mean Q4_K_M", "quantize", g_in, "q4km");
    r = cli_run("quantize", g_in, "Q8_0", "Q4_0");
    CHECK_EQ_INT(r.code, 2);
    CHECK_MSG(cli_has(r.err, "'Q4_0'"), "stderr: %s", r.err);
    CHECK_MSG(access("Q8_0", F_OK) != 0, "wrote a file named Q8_0");
    cli_result_free(&r);
    cli_expect(2, "'extra'", "quantize", g_in, "out.gguf", "Q8_0", "4", "extra");
    r = cli_run("quantize", g_in, "Q8_0", "many");
    CHECK_EQ_INT(r.code, 2);
    CHECK_MSG(cli_has(r.err, "'many'") && cli_has(r.err, "thread"), "stderr: %s", r.err);
    cli_result_free(&r);
    /* convert --type is checked like quantize's TYPE: a usage error */
    cli_expect(2, "Q4_K_M", "convert", g_hf, "--type", "q4km", "--dry-run");
    /* a Hugging Face folder given to quantize points to convert */
    cli_expect(1, "quantkit convert", "quantize", g_hf, "Q8_0");
}

/* Usage errors exit 2 in every command; commands and versions. */
static void test_usage_everywhere(void) {
    setup();
    static const char *cmds[] = {"convert", "quantize", "verify", "info", "split", "merge", "types"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cli_result r = cli_run(cmds[i], "--no-such-option");
        CHECK_MSG(r.code == 2, "%s --no-such-option exited %d", cmds[i], r.code);
        cli_result_free(&r);
        r = cli_run(cmds[i], "--help");
        CHECK_MSG(r.code == 0 && cli_has(r.out, "usage"), "%s --help: %d", cmds[i], r.code);
        cli_result_free(&r);
    }
    cli_result r = cli_run("convrt");
    CHECK_EQ_INT(r.code, 2);
    CHECK_MSG(cli_has(r.err, "quantkit convert"), "stderr: %s", r.err);
    cli_result_free(&r);
    static const char *vers[] = {"version", "--version", "-V"};
    for (int i = 0; i < 3; i++) {
        r = cli_run(vers[i]);
        CHECK_MSG(r.code == 0 && cli_has(r.out, "quantkit "), "%s: %d %s", vers[i], r.code, r.out);
        cli_result_free(&r);
    }
    r = cli_run("--help");
    CHECK(cli_has(r.out, "version") && cli_has(r.out, "QUANTKIT_NO_PROGRESS") && cli_has(r.out, "types"));
    cli_result_free(&r);
    const char *env[] = {"QUANTKIT_ISA=bogus-isa", NULL};
    r = cli_run_env(env, (const char *const[]){"quantize", "--dry-run", g_in, "Q8_0", NULL});
    CHECK_EQ_INT(r.code, 2);
    CHECK_MSG(cli_has(r.err, "QUANTKIT_ISA=bogus-isa"), "stderr: %s", r.err);
    cli_result_free(&r);
}

/* `quantize --help` and `quantkit types` print the whole ftype table. */
static void test_types_table(void) {
    setup();
    cli_result h = cli_run("quantize", "--help"), t = cli_run("types"), tj = cli_run("types", "--json");
    CHECK_EQ_INT(h.code, 0);
    CHECK_EQ_INT(t.code, 0);
    CHECK_EQ_INT(tj.code, 0);
    cJSON *j = json_of(&tj);
    const cJSON *arr = j ? cJSON_GetObjectItemCaseSensitive(j, "types") : NULL;
    CHECK(cJSON_IsArray(arr) && (size_t)cJSON_GetArraySize(arr) == qk_ftype_count());
    for (size_t i = 0; i < qk_ftype_count(); i++) {
        const qk_ftype_info *f = qk_ftype_at(i);
        char line[64];
        snprintf(line, sizeof line, "  %-10s %6d ", f->name, f->ftype);
        CHECK_MSG(cli_has(h.out, line) && cli_has(t.out, line), "no row '%s'", line);
        const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
        if (!e) continue;
        CHECK_STR(jstr(e, "name"), f->name);
        CHECK(jnum(e, "ftype") == f->ftype);
        CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(e, "needs_imatrix")));
        if (!strcmp(f->name, "IQ2_XS") || !strcmp(f->name, "Q2_K_S"))
            CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "needs_imatrix")));
        if (!strcmp(f->name, "Q4_K_M")) {
            CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "needs_imatrix")));
            CHECK(jnum(e, "bits_per_weight") == 4.5);
        }
    }
    cJSON_Delete(j);
    cli_result_free(&h), cli_result_free(&t), cli_result_free(&tj);
}

/* Rows 64 wide cannot be Q4_K (blocks of 256): llama.cpp falls back to other
 * types, and that was silent. Now every fallback is named, with a summary, in
 * text (the plan marks them) and in JSON. */
static void test_fallbacks_reported(void) {
    setup();
    char narrow[700], hf[700];
    snprintf(narrow, sizeof narrow, "%s/narrow-F16.gguf", qk_test_tmpdir());
    tiny_gguf_spec s = {2, 64, 4, 2, 128, 300, 0, false, QK_TYPE_F16, 9};
    CHECK(tiny_gguf_write(narrow, &s) == 0);
    snprintf(hf, sizeof hf, "%s/narrow-hf", qk_test_tmpdir());
    tiny_hf_spec h;
    tiny_hf_default(&h);
    h.n_embd = 64, h.n_ff = 128;
    CHECK(tiny_hf_write(hf, &h) == 0);

    cli_result r = cli_run("quantize", "--dry-run", narrow, "Q4_K_M");
    CHECK_EQ_INT(r.code, 0);
    CHECK_MSG(cli_has(r.out, "FALLBACK from q4_K"), "plan: %.2000s", r.out);
    CHECK_MSG(cli_has(r.err, "blk.0.attn_q.weight: row length 64") && cli_has(r.err, "warning:") &&
                  cli_has(r.err, "fallback"), "stderr: %s", r.err);
    cli_result_free(&r);

    r = cli_run("quantize", "--dry-run", "--json", narrow, "Q4_K_M");
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    if (j) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
        CHECK(cJSON_IsArray(w) && cJSON_GetArraySize(w) == 1);
        int n = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tensors")) n += cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "fallback_from"));
        CHECK(n > 0 && n == (int)jnum(j, "fallbacks"));
    }
    cJSON_Delete(j);
    cli_result_free(&r);

    /* convert --dry-run prints the whole per-tensor plan with sizes */
    r = cli_run("convert", hf, "--dry-run", "--type", "q4_k_m");
    CHECK_EQ_INT(r.code, 0);
    CHECK_MSG(cli_has(r.out, "blk.1.ffn_down.weight") && cli_has(r.out, "token_embd.weight") &&
                  cli_has(r.out, "FALLBACK from q4_K"), "plan: %.2000s", r.out);
    CHECK_MSG(cli_has(r.err, "warning:"), "stderr: %s", r.err);
    cli_result_free(&r);
    r = cli_run("convert", hf, "--dry-run", "--json", "--type", "q4_k_m");
    CHECK_EQ_INT(r.code, 0);
    j = json_of(&r);
    if (j) {
        const cJSON *ta = cJSON_GetObjectItemCaseSensitive(j, "tensors");
        CHECK(cJSON_IsArray(ta) && cJSON_GetArraySize(ta) == (int)jnum(j, "n_tensors"));
        CHECK(jnum(j, "fallbacks") > 0);
        double sum = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, ta) sum += jnum(t, "bytes");
        CHECK(sum > 0 && sum < jnum(j, "file_size"));
    }
    cJSON_Delete(j);
    cli_result_free(&r);
    /* no fallback, no warning */
    r = cli_run("quantize", "--dry-run", g_in, "Q8_0");
    CHECK_EQ_INT(r.code, 0);
    CHECK_MSG(!cli_has(r.err, "warning") && !cli_has(r.out, "FALLBACK"), "stderr: %s", r.err);
    cli_result_free(&r);
}

/* The default output name of `convert DIR --dry-run --json`, run in cwd. */
static void convert_name(const char *cwd, const char *dir, char *name, size_t n) {
    char here[1024];
    CHECK(getcwd(here, sizeof here) != NULL);
    CHECK(chdir(cwd) == 0);
    cli_result r = cli_run("convert", dir, "--dry-run", "--json", "--type", "f16");
    CHECK_EQ_INT(r.code, 0);
    cJSON *j = json_of(&r);
    snprintf(name, n, "%s", j ? jstr(j, "output") : "");
    cJSON_Delete(j);
    cli_result_free(&r);
    CHECK(chdir(here) == 0);
}

static void write_hf_at(const char *dir, const char *name_or_path) {
    tiny_hf_spec h;
    tiny_hf_default(&h);
    CHECK(tiny_hf_write(dir, &h) == 0);
    if (!name_or_path) return;
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    size_t len;
    unsigned char *b = qk_test_read_file(cfg, &len);
    cJSON *j = b ? cJSON_ParseWithLength((const char *)b, len) : NULL;
    free(b);
    CHECK(j != NULL);
    if (!j) return;
    cJSON_AddStringToObject(j, "_name_or_path", name_or_path);
    char *txt = cJSON_Print(j);
    CHECK(qk_test_write_file(cfg, txt, strlen(txt)) == 0);
    free(txt);
    cJSON_Delete(j);
}

/* <Name>-<SizeLabel>-<Type>.gguf: the label once, a name from the config or
 * a meaningful folder, never "." or "hf-bf16" or a snapshot hash. */
static void test_names(void) {
    setup();
    char base[700], d[1000], name[1200];
    qk_test_mkdir(base, sizeof base, "names");
    /* a folder named for the model, with its own size label */
    snprintf(d, sizeof d, "%s/TinyThing-1.1B", base);
    write_hf_at(d, NULL);
    convert_name(base, "TinyThing-1.1B", name, sizeof name);
    CHECK_STR(name, "TinyThing-1.1B-F16.gguf");
    /* `convert .` inside it: the real folder name, not "." */
    convert_name(d, ".", name, sizeof name);
    CHECK_STR(name, "TinyThing-1.1B-F16.gguf");
    /* hf-bf16 inside a named folder: the parent's name */
    snprintf(d, sizeof d, "%s/Parent-Model/hf-bf16", base);
    char parent[1100];
    snprintf(parent, sizeof parent, "%s/Parent-Model", base);
    mkdir(parent, 0755);
    write_hf_at(d, NULL);
    convert_name(base, d, name, sizeof name);
    CHECK_MSG(!strncmp(name, "Parent-Model-", 13) && !cli_has(name, "hf-bf16"), "name %s", name);
    /* the Hugging Face cache: models--Org--Name/snapshots/<hash> */
    snprintf(d, sizeof d, "%s/models--Org--Cool-Model/snapshots", base);
    char p2[1100];
    snprintf(p2, sizeof p2, "%s/models--Org--Cool-Model", base);
    mkdir(p2, 0755);
    mkdir(d, 0755);
    strcat(d, "/0123456789abcdef0123456789abcdef01234567");
    write_hf_at(d, NULL);
    convert_name(base, d, name, sizeof name);
    CHECK_MSG(!strncmp(name, "Cool-Model-", 11), "name %s", name);
    /* _name_or_path wins, and its size label is used once */
    snprintf(d, sizeof d, "%s/hf", base);
    write_hf_at(d, "meta-llama/Llama-3.2-1B");
    convert_name(base, d, name, sizeof name);
    CHECK_STR(name, "Llama-3.2-1B-F16.gguf");
    /* without a label in the name, the computed one is appended */
    snprintf(d, sizeof d, "%s/Plain", base);
    write_hf_at(d, NULL);
    convert_name(base, d, name, sizeof name);
    CHECK_MSG(!strncmp(name, "Plain-", 6) && strcmp(name, "Plain-F16.gguf") != 0, "name %s", name);
    /* the computed label glued to the name's last word (llama2.c's
     * "stories260K"): not appended again; after a digit it is another number */
    char label[64] = "", want[200];
    sscanf(name + 6, "%63[^-]", label);
    CHECK_MSG(label[0], "no label in %s", name);
    snprintf(d, sizeof d, "%s/tiny%s", base, label);
    write_hf_at(d, NULL);
    convert_name(base, d, name, sizeof name);
    snprintf(want, sizeof want, "tiny%s-F16.gguf", label);
    CHECK_STR(name, want);
    snprintf(d, sizeof d, "%s/tiny9%s", base, label);
    write_hf_at(d, NULL);
    convert_name(base, d, name, sizeof name);
    snprintf(want, sizeof want, "tiny9%s-%s-F16.gguf", label, label);
    CHECK_STR(name, want);
}

/* split x.gguf out.gguf writes out-00001-of-0000N.gguf, like --keep-split. */
static void test_split_names(void) {
    setup();
    char dir[700], out[800], first[900], bad[900];
    qk_test_mkdir(dir, sizeof dir, "splitnames");
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    cli_result r = cli_run("split", "--max-tensors", "8", g_in, out);
    CHECK_EQ_INT(r.code, 0);
    CHECK_MSG(cli_has(r.out, "/out-00001-of-00003.gguf"), "stdout: %s", r.out);
    cli_result_free(&r);
    snprintf(first, sizeof first, "%s/out-00001-of-00003.gguf", dir);
    snprintf(bad, sizeof bad, "%s/out.gguf-00001-of-00003.gguf", dir);
    CHECK_MSG(access(first, F_OK) == 0 && access(bad, F_OK) != 0, "no %s", first);
}

/* The free-space check before writing: a need beyond what statvfs reports
 * fails naming the shortfall (the CLI runs it with the dry run's exact size
 * before creating anything). */
static void test_free_space(void) {
    setup();
    char path[700];
    snprintf(path, sizeof path, "%s/space.gguf", g_dir);
    qk_err err = {{0}};
    CHECK(qk_afile_check_space(path, 1024, &err) == QK_OK);
    CHECK(qk_afile_check_space(path, UINT64_MAX / 2, &err) == QK_FAIL);
    CHECK_MSG(strstr(err.msg, "not enough free space") && strstr(err.msg, "short") && strstr(err.msg, g_dir),
              "message: %s", err.msg);
    /* through the binary: a sparse input that declares a 2 TiB tensor (the
     * data is a hole; nothing is read in the planning) cannot be copied to
     * any disk here, and the command says so before creating anything */
    char big[700];
    snprintf(big, sizeof big, "%s/sparse.gguf", g_dir);
    gb_buf g = {0};
    gb_bytes(&g, "GGUF", 4);
    gb_u32(&g, 3);
    gb_u64(&g, 1), gb_u64(&g, 2);
    gb_str(&g, "general.architecture"), gb_u32(&g, 8), gb_str(&g, "llama");
    gb_str(&g, "llama.block_count"), gb_u32(&g, 4), gb_u32(&g, 1);
    gb_str(&g, "token_embd.weight"), gb_u32(&g, 2), gb_u64(&g, 1u << 20), gb_u64(&g, 1u << 19), gb_u32(&g, 0), gb_u64(&g, 0);
    gb_pad(&g, 32);
    const uint64_t data = (uint64_t)4 << 39;
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, g.p, g.len) == (ssize_t)g.len && ftruncate(fd, (off_t)(g.len + data)) == 0);
    close(fd);
    gb_free(&g);
    char out[800];
    snprintf(out, sizeof out, "%s/space-out", g_dir);
    mkdir(out, 0755);
    strcat(out, "/big.gguf");
    cli_result r = cli_run("quantize", big, out, "F32");
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.err, "not enough free space") && cli_has(r.err, "short"), "stderr: %s", r.err);
    cli_result_free(&r);
    char od[800];
    snprintf(od, sizeof od, "%s/space-out", g_dir);
    CHECK_EQ_INT(qk_test_count_entries(od), 0);
    unlink(big);
}

/* Sets element `index` of tensor `name` in dir/model.safetensors (F32) to v. */
static void poke_safetensors(const char *dir, const char *name, size_t index, float v) {
    char path[800];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    size_t len;
    unsigned char *b = qk_test_read_file(path, &len);
    CHECK(b && len > 8);
    if (!b) return;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | b[i];
    cJSON *h = cJSON_ParseWithLength((const char *)b + 8, (size_t)hl);
    const cJSON *t = h ? cJSON_GetObjectItemCaseSensitive(h, name) : NULL;
    const cJSON *off = t ? cJSON_GetObjectItemCaseSensitive(t, "data_offsets") : NULL;
    CHECK_MSG(off != NULL, "no tensor %s", name);
    if (off) {
        size_t at = 8 + (size_t)hl + (size_t)cJSON_GetArrayItem(off, 0)->valuedouble + index * 4;
        CHECK(at + 4 <= len);
        if (at + 4 <= len) memcpy(b + at, &v, 4);
        CHECK(qk_test_write_file(path, b, len) == 0);
    }
    cJSON_Delete(h);
    free(b);
}

/* NaN/Inf in source weights: an error naming the tensor and the element,
 * unless --allow-nonfinite. */
static void test_nonfinite(void) {
    setup();
    char hf[700], out[800];
    snprintf(hf, sizeof hf, "%s/nan-hf", qk_test_tmpdir());
    tiny_hf_spec h;
    tiny_hf_default(&h);
    CHECK(tiny_hf_write(hf, &h) == 0);
    poke_safetensors(hf, "model.layers.1.mlp.down_proj.weight", 7, NAN);
    snprintf(out, sizeof out, "%s/nan.gguf", g_dir);
    cli_result r = cli_run("convert", hf, "-o", out, "--type", "q8_0");
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.err, "blk.1.ffn_down.weight") && cli_has(r.err, "element 7 ") && cli_has(r.err, "NaN"),
              "stderr: %s", r.err);
    CHECK(access(out, F_OK) != 0);
    cli_result_free(&r);
    r = cli_run("convert", hf, "-o", out, "--type", "f16", "--allow-nonfinite");
    CHECK_EQ_INT(r.code, 0);
    CHECK(access(out, F_OK) == 0);
    cli_result_free(&r);
    unlink(out);
    poke_safetensors(hf, "model.layers.1.mlp.down_proj.weight", 7, 1.0f);
    poke_safetensors(hf, "model.embed_tokens.weight", 300, -INFINITY);
    r = cli_run("convert", hf, "-o", out, "--type", "f16");
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.err, "token_embd.weight") && cli_has(r.err, "element 300 ") && cli_has(r.err, "-Inf"),
              "stderr: %s", r.err);
    cli_result_free(&r);
}

/* verify, split and merge parse with the one parser (cli/args): --opt=value,
 * -o for the output, did-you-mean, positional mistakes named, exit 2 (and
 * info --cpu no longer drops a PATH silently). */
static void test_args_verify_split_merge(void) {
    setup();
    char dir[700], pre[800], first[900], merged[900], sums[900];
    qk_test_mkdir(dir, sizeof dir, "argsvsm");
    snprintf(pre, sizeof pre, "%s/s.gguf", dir);
    snprintf(first, sizeof first, "%s/s-00001-of-00002.gguf", dir);
    snprintf(merged, sizeof merged, "%s/m.gguf", dir);
    snprintf(sums, sizeof sums, "%s/SHA256SUMS", dir);
    cli_result r = cli_run("split", "--max-tensors=12", g_in, "-o", pre);
    CHECK_MSG(r.code == 0 && access(first, F_OK) == 0, "split -o: %d %s", r.code, r.err);
    cli_result_free(&r);
    r = cli_run("merge", first, "-o", merged);
    CHECK_MSG(r.code == 0 && access(merged, F_OK) == 0, "merge -o: %d %s", r.code, r.err);
    cli_result_free(&r);
    r = cli_run("verify", "--threads=2", "-o", sums, merged);
    CHECK_MSG(r.code == 0 && access(sums, F_OK) == 0, "verify -o: %d %s", r.code, r.err);
    cli_result_free(&r);
    static const struct { const char *args[6]; const char *says[2]; } bad[] = {
        {{"verify", "--jsn", "x.gguf"}, {"--jsn", "did you mean --json"}},
        {{"verify", "--json=yes", "x.gguf"}, {"--json", "takes no value"}},
        {{"split", "--max-size=1G", "in.gguf"}, {"missing OUT_PREFIX", "'in.gguf'"}},
        {{"split", "in.gguf", "out", "2G"}, {"'2G'", "--max-size 2G"}},
        {{"split", "in.gguf", "-o", "out", "extra"}, {"'extra'", "-o"}},
        {{"split", "--max-tensor", "3", "a", "b"}, {"did you mean --max-tensors", NULL}},
        {{"merge", "a.gguf", "b.gguf", "c.gguf"}, {"'c.gguf'", "FIRST_SHARD"}},
        {{"merge", "a.gguf"}, {"missing OUT.gguf", NULL}},
        {{"merge", "--ignore-integrty", "a.gguf", "b.gguf"}, {"did you mean --ignore-integrity", NULL}},
        {{"info", "--cpu", "x.gguf"}, {"'x.gguf'", "--cpu"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = cli_runv(bad[i].args);
        CHECK_MSG(r.code == 2, "%s %s: exit %d", bad[i].args[0], bad[i].args[1], r.code);
        for (int k = 0; k < 2; k++)
            if (bad[i].says[k]) CHECK_MSG(cli_has(r.err, bad[i].says[k]), "%s: no '%s' in: %s", bad[i].args[0], bad[i].says[k], r.err);
        cli_result_free(&r);
    }
}

/* quantize --ignore-integrity: the library option had no flag. A GGUF with
 * a damaged tensor (its embedded hash no longer matches) fails with nothing
 * written; with the flag it is quantized anyway. */
static void test_quantize_ignore_integrity(void) {
    setup();
    char dir[700], good[800], out[800];
    qk_test_mkdir(dir, sizeof dir, "ignint");
    snprintf(good, sizeof good, "%s/hashed-Q8_0.gguf", dir);
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    cli_result r = cli_run("quantize", g_in, good, "Q8_0"); /* our output carries the hashes */
    CHECK_EQ_INT(r.code, 0);
    cli_result_free(&r);
    qk_gguf_file *f = gguf_open_checked(good);
    if (!f) return;
    const uint64_t at = f->meta.data_offset + f->meta.tensors[1].offset + 3;
    qk_gguf_close(f);
    size_t len;
    unsigned char *b = qk_test_read_file(good, &len);
    CHECK(b && at < len);
    if (!b || at >= len) {
        free(b);
        return;
    }
    b[at] ^= 0x10;
    CHECK(qk_test_write_file(good, b, len) == 0);
    free(b);
    r = cli_run("quantize", "--allow-requantize", good, out, "Q4_0");
    CHECK_EQ_INT(r.code, 1);
    CHECK_MSG(cli_has(r.err, "does not match its embedded hash"), "stderr: %s", r.err);
    CHECK_EQ_INT(qk_test_count_entries(dir), 1);
    cli_result_free(&r);
    r = cli_run("quantize", "--allow-requantize", "--ignore-integrity", good, out, "Q4_0");
    CHECK_MSG(r.code == 0 && access(out, F_OK) == 0, "--ignore-integrity: exit %d: %s", r.code, r.err);
    cli_result_free(&r);
}

/* quantize --max-buffer-size MiB (llama-quantize's): a positive number of
 * MiB, else a usage error; it bounds memory only, so the tensors are the
 * same as without it (the pipeline's own test varies the chunk size on
 * every path; this proves the flag is taken and the output unchanged). */
static void test_quantize_max_buffer_size(void) {
    setup();
    char dir[700], out[2][800];
    qk_test_mkdir(dir, sizeof dir, "maxbuf");
    for (int k = 0; k < 2; k++) { /* without, then with 1 MiB on two threads */
        snprintf(out[k], sizeof out[k], "%s/out%d.gguf", dir, k);
        cli_result r = k ? cli_run("quantize", "--max-buffer-size", "1", "-t", "2", g_in, out[k], "Q4_K_M")
                         : cli_run("quantize", g_in, out[k], "Q4_K_M");
        CHECK_MSG(r.code == 0, "%s", r.err);
        cli_result_free(&r);
    }
    CHECK(gguf_same_tensors(out[0], out[1], "--max-buffer-size 1"));
    cli_expect(2, "--max-buffer-size takes a number of MiB", "quantize", "--max-buffer-size", "0", g_in, out[1], "Q8_0");
    cli_expect(2, "got 'lots'", "quantize", "--max-buffer-size", "lots", g_in, out[1], "Q8_0");
}

/* The file's string KV key copied into buf, or "" when it has none. */
static const char *recorded_command(const char *path, const char *key, char *buf, size_t n) {
    qk_gguf_file *f = NULL;
    qk_err err;
    buf[0] = 0;
    CHECK_MSG(qk_gguf_open(path, &f, &err) == QK_OK, "%s", err.msg);
    const char *c = f ? qk_gguf_get_str(&f->meta, key) : NULL;
    snprintf(buf, n, "%s", c ? c : "");
    qk_gguf_close(f);
    return buf;
}

/* convert, quantize and split record the command as typed: the command's name, then each argument after one
 * space (qk_cli_command_line), in the provenance of what they write (split's as quantkit.split.command). The
 * outputs are named relative to g_dir, where setup() runs the commands, so the recorded lines are known text. */
static void test_command_recorded(void) {
    setup();
    char want[1200], got[1200], first[64] = "";
    cli_result r = cli_run("convert", g_hf, "-o", "cmdline.gguf", "--type=f32");
    CHECK_MSG(r.code == 0, "%s", r.err);
    cli_result_free(&r);
    snprintf(want, sizeof want, "convert %s -o cmdline.gguf --type=f32", g_hf);
    CHECK_MSG(!strcmp(recorded_command("cmdline.gguf", "quantkit.command", got, sizeof got), want), "'%s'", got);
    r = cli_run("quantize", "cmdline.gguf", "cmdline-q.gguf", "Q8_0", "1");
    CHECK_MSG(r.code == 0, "%s", r.err);
    cli_result_free(&r);
    recorded_command("cmdline-q.gguf", "quantkit.command", got, sizeof got);
    CHECK_MSG(!strcmp(got, "quantize cmdline.gguf cmdline-q.gguf Q8_0 1"), "'%s'", got);
    r = cli_run("split", "--split-max-tensors", "4", "cmdline-q.gguf", "cmdline-s");
    CHECK_MSG(r.code == 0, "%s", r.err);
    cli_result_free(&r);
    for (int n = 2; n < 100 && !first[0]; n++) { /* the first shard, whatever the count */
        snprintf(first, sizeof first, "cmdline-s-00001-of-%05d.gguf", n);
        if (access(first, F_OK)) first[0] = 0;
    }
    CHECK_MSG(first[0], "no shards named cmdline-s-*");
    if (first[0]) recorded_command(first, "quantkit.split.command", got, sizeof got);
    CHECK_MSG(!strcmp(got, "split --split-max-tensors 4 cmdline-q.gguf cmdline-s"), "'%s'", got);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_quantize_max_size);
    RUN(test_convert_max_size_keeps_type);
    RUN(test_expert_bytes);
    RUN(test_option_forms);
    RUN(test_positional_mistakes);
    RUN(test_usage_everywhere);
    RUN(test_types_table);
    RUN(test_fallbacks_reported);
    RUN(test_names);
    RUN(test_split_names);
    RUN(test_free_space);
    RUN(test_nonfinite);
    RUN(test_args_verify_split_merge);
    RUN(test_quantize_ignore_integrity);
    RUN(test_quantize_max_buffer_size);
    RUN(test_command_recorded);
    return qk_test_summary();
}
