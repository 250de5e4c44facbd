#include "plan_report.h"

#include <stdio.h>
#include <string.h>

#include "ggml_types.h"
#include "sizes.h"

static const char *tname(int t) {
    const qk_type_info *ti = t >= 0 ? qk_type_get((uint32_t)t) : NULL;
    return ti ? ti->name : "?";
}

void qk_cli_plan_table(const qk_plan_row *rows, size_t n) {
    printf("%-48s %-20s %-16s %12s  %s\n", "tensor", "shape", "type", "bytes", "note");
    for (size_t i = 0; i < n; i++) {
        const qk_plan_row *r = &rows[i];
        char shape[64], types[40], note[96] = "";
        snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)r->ne[0], (long long)r->ne[1],
                 (long long)(r->ne[2] * r->ne[3]));
        if (r->from >= 0) snprintf(types, sizeof types, "%s -> %s", tname(r->from), tname(r->to));
        else snprintf(types, sizeof types, "%s", tname(r->to));
        if (r->fallback)
            snprintf(note, sizeof note, "FALLBACK from %s (row %lld)", tname(r->wanted), (long long)r->ne[0]);
        printf("%-48s %-20s %-16s %12llu  %s\n", r->name, shape, types, (unsigned long long)r->bytes, note);
    }
    size_t ne;
    const uint64_t eb = qk_cli_expert_bytes(rows, n, &ne);
    if (ne) {
        uint64_t all = 0;
        for (size_t i = 0; i < n; i++) all += rows[i].bytes;
        char sz[32];
        qk_format_size(sz, sizeof sz, eb);
        printf("experts: %zu stacked tensors, %s (%llu bytes), %.1f%% of the tensor data\n", ne, sz,
               (unsigned long long)eb, all ? 100.0 * (double)eb / (double)all : 0.0);
    }
}

static bool is_expert(const qk_plan_row *r) {
    const char *e = strstr(r->name, "_exps.");
    return e && r->ne[2] > 1 && !strncmp(r->name, "blk.", 4);
}

uint64_t qk_cli_expert_bytes(const qk_plan_row *rows, size_t n, size_t *n_tensors) {
    uint64_t b = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_expert(&rows[i])) b += rows[i].bytes, k++;
    if (n_tensors) *n_tensors = k;
    return b;
}

void qk_cli_size_candidate(char *buf, size_t len, const char *type_name, uint64_t file_size, const qk_plan_row *rows,
                           size_t n) {
    size_t ne;
    const uint64_t eb = qk_cli_expert_bytes(rows, n, &ne);
    char sz[32], experts[48] = "";
    if (ne) {
        qk_format_size(sz, sizeof sz, eb);
        snprintf(experts, sizeof experts, " (experts %s)", sz);
    }
    qk_format_size(sz, sizeof sz, file_size);
    const size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%s%s %s%s", l ? ", " : "", type_name, sz, experts);
}

void qk_cli_expert_json(cJSON *report, const qk_plan_row *rows, size_t n) {
    size_t ne;
    const uint64_t eb = qk_cli_expert_bytes(rows, n, &ne);
    if (!ne) return;
    cJSON_AddNumberToObject(report, "expert_tensors", (double)ne);
    cJSON_AddNumberToObject(report, "expert_bytes", (double)eb);
}

void qk_cli_fallback_summary(char *buf, size_t len, const qk_plan_row *rows, size_t n, const char *type_name) {
    size_t nf = 0;
    uint64_t el = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t e = rows[i].ne[0] * rows[i].ne[1] * rows[i].ne[2] * rows[i].ne[3];
        el += (uint64_t)e;
        bytes += rows[i].bytes;
        nf += rows[i].fallback;
    }
    if (!nf) {
        if (len) buf[0] = 0;
        return;
    }
    snprintf(buf, len,
             "%zu of %zu tensors are not %s's planned types: their rows are not a multiple of the block size, "
             "so llama.cpp's fallback types were used; the file is %.2f bits per weight",
             nf, n, type_name, el ? 8.0 * (double)bytes / (double)el : 0.0);
}

void qk_cli_fallback_lines(const char *cmd, const qk_plan_row *rows, size_t n, const char *type_name) {
    for (size_t i = 0; i < n; i++)
        if (rows[i].fallback)
            fprintf(stderr, "quantkit %s: %s: row length %lld is not a multiple of %s's block of %u; using %s instead\n",
                    cmd, rows[i].name, (long long)rows[i].ne[0], tname(rows[i].wanted),
                    qk_type_get((uint32_t)rows[i].wanted) ? qk_type_get((uint32_t)rows[i].wanted)->blck_size : 0,
                    tname(rows[i].to));
    char s[512];
    qk_cli_fallback_summary(s, sizeof s, rows, n, type_name);
    if (s[0]) fprintf(stderr, "quantkit %s: warning: %s\n", cmd, s);
}

void qk_cli_fallback_json(cJSON *tensor, const qk_plan_row *row) {
    if (row->fallback) cJSON_AddStringToObject(tensor, "fallback_from", tname(row->wanted));
}
