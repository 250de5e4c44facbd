#include "types_table.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>

#include "args.h"
#include "cli_util.h"
#include "ftypes.h"
#include "ggml_types.h"
#include "type_mix.h"

static double bulk_bpw(const qk_ftype_info *f) {
    return f->default_type >= 0 ? qk_type_bpw((uint32_t)f->default_type) : 0;
}

/* llama-quantize's notes start with blanks for alignment */
static const char *trim(const char *s) {
    while (*s == ' ') s++;
    return s;
}

void qk_cli_print_types(FILE *out) {
    fprintf(out, "  %-10s %6s %6s  %-8s %-9s %s\n", "TYPE", "ftype", "bpw", "imatrix", "quantkit", "note");
    for (size_t i = 0; i < qk_ftype_count(); i++) {
        const qk_ftype_info *f = qk_ftype_at(i);
        fprintf(out, "  %-10s %6d %6.2f  %-8s %-9s %s\n", f->name, f->ftype, bulk_bpw(f),
                qk_mix_ftype_requires_imatrix(f->ftype) ? "needed" : "-", qk_ftype_supported(f) ? "yes" : "no", trim(f->desc));
    }
    fprintf(out, "  (bpw: bits per weight of the bulk type; mixes keep some tensors at more bits.\n"
                 "   A TYPE is its name, any case, or its ftype number.)\n");
}

int qk_cmd_types(int argc, char **argv) {
    enum { O_HELP = 1, O_JSON, O_NAMES };
    static const qk_opt opts[] = {{"help", 'h', false, O_HELP}, {"json", 0, false, O_JSON}, {"names", 0, false, O_NAMES}};
    qk_args a;
    qk_args_init(&a, "types", opts, sizeof opts / sizeof opts[0], argc, argv);
    bool json = false, names = false;
    const char *v;
    for (int id; (id = qk_args_next(&a, &v)) != QK_ARGS_END;) {
        if (id == QK_ARGS_ERR) return QK_EXIT_USAGE;
        if (id == QK_ARGS_POS) return qk_cli_usage("types", "unexpected argument '%s'", v);
        if (id == O_HELP) {
            printf("usage: quantkit types [--json | --names]\n\n"
                   "Lists the quantization types (llama-quantize's table): name, ftype number, bits per\n"
                   "weight of the bulk type, whether an importance matrix is needed, whether quantkit\n"
                   "writes it, and llama-quantize's note. --names: the names only, one a line (for\n"
                   "shell completion).\n");
            return QK_EXIT_OK;
        }
        if (id == O_JSON) json = true;
        if (id == O_NAMES) names = true;
    }
    if (names) {
        for (size_t i = 0; i < qk_ftype_count(); i++) printf("%s\n", qk_ftype_at(i)->name);
        return QK_EXIT_OK;
    }
    if (!json) {
        qk_cli_print_types(stdout);
        return QK_EXIT_OK;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < qk_ftype_count(); i++) {
        const qk_ftype_info *f = qk_ftype_at(i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->name);
        cJSON_AddNumberToObject(o, "ftype", f->ftype);
        cJSON_AddNumberToObject(o, "bits_per_weight", bulk_bpw(f));
        cJSON_AddStringToObject(o, "note", trim(f->desc));
        cJSON_AddBoolToObject(o, "needs_imatrix", qk_mix_ftype_requires_imatrix(f->ftype));
        cJSON_AddBoolToObject(o, "alias", f->is_alias);
        cJSON_AddBoolToObject(o, "supported", qk_ftype_supported(f));
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "types", arr);
    char *s = cJSON_Print(j);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
    return QK_EXIT_OK;
}
