/* plan_report.h - how quantize and convert show a per-tensor plan and the
 * type changes nobody asked for (llama.cpp's shape fallback: a row length
 * that is not a multiple of the chosen type's block gets another type).
 * llama-quantize prints each fallback and a summary; so do we, in text on
 * stderr (the plan table marks them) and in the JSON report. Expert tensors
 * of a MoE model are summed apart, since they are most of its bytes. */
#ifndef QK_PLAN_REPORT_H
#define QK_PLAN_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qk_plan_row {
    const char *name;
    const int64_t *ne;   /* 4 dims */
    int from;            /* input type, or -1 when there is none (convert) */
    int to;              /* output type */
    int wanted;          /* type before the fallback */
    bool fallback;
    uint64_t bytes;      /* output bytes */
} qk_plan_row;

/* The table on stdout: tensor, shape, [from ->] to, bytes, and a note for a
 * fallback; then, for a MoE model, a line with the experts' share. */
void qk_cli_plan_table(const qk_plan_row *rows, size_t n);

/* One stderr line per fallback tensor and a summary line; nothing without fallbacks. */
void qk_cli_fallback_lines(const char *cmd, const qk_plan_row *rows, size_t n, const char *type_name);

/* The summary sentence (empty without fallbacks), for text and JSON. */
void qk_cli_fallback_summary(char *buf, size_t len, const qk_plan_row *rows, size_t n, const char *type_name);

/* The stacked expert tensors (3-D blk.N.ffn_*_exps) of a mixture-of-experts
 * model, which dominate its size: how many and their output bytes (0, 0
 * for a dense model). */
uint64_t qk_cli_expert_bytes(const qk_plan_row *rows, size_t n, size_t *n_tensors);

/* --max-size's list of the types tried: appends "<type_name> <file size>" to the list in buf (", " between
 * entries), with " (experts 15.9 GiB)" after it for a MoE model. rows may be NULL (n 0): no experts note. */
void qk_cli_size_candidate(char *buf, size_t len, const char *type_name, uint64_t file_size, const qk_plan_row *rows,
                           size_t n);

/* "expert_tensors" and "expert_bytes" in a JSON report of a MoE model. */
void qk_cli_expert_json(cJSON *report, const qk_plan_row *rows, size_t n);

/* Adds "fallback_from" (the wanted type's name) to a tensor's JSON object when it fell back. */
void qk_cli_fallback_json(cJSON *tensor, const qk_plan_row *row);

#endif
