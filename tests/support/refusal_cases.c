/* refusal_cases.c - see refusal_cases.h */
#include "refusal_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_edit.h"
#include "qk_test.h"

/* The rows of one table: the parsed file (which owns the strings) and the fields of each row, n_fields a row. */
typedef struct {
    cJSON *top;
    const char **f;
    size_t n;
} table_rows;

/* Field names[k] of row i into out[k]: a string, or NULL where names[k] is `nullable` and the row has null there.
 * 0, or -1 after a failed CHECK naming where. */
static int read_row(const cJSON *row, const char *const *names, size_t n_names, const char *nullable, const char **out,
                    const char *where, size_t i) {
    if (!cJSON_IsObject(row)) {
        CHECK_MSG(0, "%s row %zu is not an object", where, i);
        return -1;
    }
    for (const cJSON *c = row->child; c; c = c->next) { /* a misspelt field is not silently left out */
        bool known = !strcmp(c->string, "why") && cJSON_IsString(c);
        for (size_t k = 0; k < n_names && !known; k++) known = !strcmp(c->string, names[k]);
        if (!known) {
            CHECK_MSG(0, "%s row %zu: unknown field '%s'", where, i, c->string);
            return -1;
        }
    }
    for (size_t k = 0; k < n_names; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, names[k]);
        if (cJSON_IsString(v)) out[k] = v->valuestring;
        else if (cJSON_IsNull(v) && nullable && !strcmp(names[k], nullable)) out[k] = NULL;
        else {
            CHECK_MSG(0, "%s row %zu: '%s' is missing or not a string", where, i, names[k]);
            return -1;
        }
    }
    return 0;
}

/* Table `table` of tests/data/refusals/<test>.json read into t: 0, or -1 after a failed CHECK (t then empty). */
static int read_table(table_rows *t, const char *test, const char *table, const char *const *names, size_t n_names,
                      const char *nullable) {
    memset(t, 0, sizeof *t);
    const char *src = getenv("QK_SOURCE_DIR");
    char path[1200], where[1400];
    snprintf(path, sizeof path, "%s/tests/data/refusals/%s.json", src ? src : ".", test);
    snprintf(where, sizeof where, "%s table '%s'", path, table);
    t->top = json_file_read_checked(path);
    if (!t->top) return -1;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(t->top, table);
    const int n = cJSON_IsArray(rows) ? cJSON_GetArraySize(rows) : 0;
    t->f = n > 0 ? malloc((size_t)n * n_names * sizeof *t->f) : NULL;
    CHECK_MSG(t->f != NULL, "%s: missing, empty or not an array", where);
    int rc = t->f ? 0 : -1;
    for (int i = 0; !rc && i < n; i++)
        rc = read_row(cJSON_GetArrayItem(rows, i), names, n_names, nullable, t->f + (size_t)i * n_names, where,
                      (size_t)i);
    if (rc) {
        free(t->f), cJSON_Delete(t->top);
        memset(t, 0, sizeof *t);
        return -1;
    }
    t->n = (size_t)n;
    return 0;
}

static void free_table(table_rows *t) {
    free(t->f);
    cJSON_Delete(t->top);
}

void refusal_edit_table(const char *test, const char *table, convert_spec_fn spec) {
    static const char *const names[] = {"arch", "file", "from", "to", "want"};
    table_rows t;
    if (read_table(&t, test, table, names, 5, NULL)) return;
    convert_edit_case *c = malloc(t.n * sizeof *c);
    CHECK(c != NULL);
    for (size_t i = 0; c && i < t.n; i++) {
        const char **f = t.f + i * 5;
        c[i] = (convert_edit_case){.arch = f[0], .file = f[1], .from = f[2], .to = f[3], .want = f[4]};
    }
    if (c) convert_expect_edit_refusals(table, c, t.n, spec);
    free(c);
    free_table(&t);
}

void refusal_config_table(const char *test, const char *table, convert_spec_fn spec) {
    static const char *const names[] = {"arch", "key", "json", "what", "want"};
    table_rows t;
    if (read_table(&t, test, table, names, 5, "json")) return;
    for (size_t i = 0; i < t.n; i++) {
        const char **f = t.f + i * 5;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s-%zu/hf", qk_test_tmpdir(), table, i);
        tiny_hf_spec s;
        spec(&s, f[0]);
        convert_expect_config_refusal(dir, &s, f[1], f[2], f[3], f[4]);
    }
    free_table(&t);
}

void refusal_config_table_in(const char *test, const char *table, const char *dir) {
    static const char *const names[] = {"key", "json", "what", "want"};
    table_rows t;
    if (read_table(&t, test, table, names, 4, "json")) return;
    convert_config_case *c = malloc(t.n * sizeof *c);
    CHECK(c != NULL);
    for (size_t i = 0; c && i < t.n; i++) {
        const char **f = t.f + i * 4;
        c[i] = (convert_config_case){.key = f[0], .json = f[1], .what = f[2], .want = f[3]};
    }
    if (c) convert_expect_config_refusals_in(dir, c, t.n);
    free(c);
    free_table(&t);
}

void refusal_quant_table(const char *test, const char *table, const char *src) {
    static const char *const names[] = {"quantization_config", "want"};
    table_rows t;
    if (read_table(&t, test, table, names, 2, NULL)) return;
    /* the rows' fields lie two by two, as the runner's [][2] table */
    convert_expect_quant_refusals(src, table, (const char *const(*)[2])t.f, t.n);
    free_table(&t);
}
