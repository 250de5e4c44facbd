/* cmd_info.c - `quantkit info PATH`: what a model file holds.
 *
 * For a GGUF (or the first shard of a split set): architecture and
 * hyper-parameters, tokenizer summary, the tensor table, parameter count,
 * bits per weight, file type, integrity data. --json gives the same as JSON.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "torch_file.h"
#include "cli_util.h"
#include "ftypes.h"
#include "gguf_set.h"
#include "info_hf.h"
#include "ggml_types.h"
#include "sizes.h"

static const char *CMD = "info";

static void help(void) {
    printf("usage: quantkit info [--json] [--all] PATH\n"
           "\n"
           "Shows what a model holds: a .gguf file (or the first shard of a split set), a .safetensors\n"
           "file, a PyTorch checkpoint (pytorch_model.bin, .pth; read without running pickle), or a\n"
           "Hugging Face folder (config.json + safetensors or pytorch_model.bin).\n"
           "  --json   machine-readable output on stdout\n"
           "  --all    list every metadata value in full (long arrays such as vocabularies included)\n"
           "  --cpu    show the CPU features and which kernel variant is active\n"
           "exit codes: 0 ok, 1 unreadable or invalid input, 2 usage error\n");
}

/* A KV value as JSON (arrays truncated to `max` elements unless all). */
static cJSON *kv_json(const qk_gguf_kv *kv, bool all) {
    uint32_t t = kv->type == QK_GGUF_ARRAY ? kv->arr_type : kv->type;
    uint64_t n = kv->type == QK_GGUF_ARRAY ? kv->n : 1;
    uint64_t shown = (!all && n > 16) ? 16 : n;
    cJSON *arr = kv->type == QK_GGUF_ARRAY ? cJSON_CreateArray() : NULL;
    for (uint64_t i = 0; i < shown; i++) {
        cJSON *v;
        if (t == QK_GGUF_STRING) {
            v = cJSON_CreateString(((qk_gguf_str *)kv->data)[i].s);
        } else if (t == QK_GGUF_BOOL) {
            v = cJSON_CreateBool(((uint8_t *)kv->data)[i] != 0);
        } else if (t == QK_GGUF_F32 || t == QK_GGUF_F64) {
            double d;
            if (kv->type == QK_GGUF_ARRAY) qk_gguf_arr_float(kv, i, &d);
            else if (t == QK_GGUF_F32) { float f; memcpy(&f, kv->data, 4); d = f; }
            else memcpy(&d, kv->data, 8);
            v = cJSON_CreateNumber(d);
        } else {
            int64_t x = 0;
            if (kv->type == QK_GGUF_ARRAY) {
                if (!qk_gguf_arr_int(kv, i, &x)) x = -1;
            } else {
                qk_gguf_meta tmp = {.n_kv = 1, .kv = (qk_gguf_kv *)kv};
                if (!qk_gguf_get_int(&tmp, kv->key, &x)) {
                    uint64_t u;
                    memcpy(&u, kv->data, 8);
                    v = cJSON_CreateNumber((double)u);
                    goto add;
                }
            }
            v = cJSON_CreateNumber((double)x);
        }
    add:
        if (!arr) return v;
        cJSON_AddItemToArray(arr, v);
    }
    return arr;
}

static void print_value(const qk_gguf_kv *kv, bool all) {
    cJSON *v = kv_json(kv, all);
    char *s = cJSON_PrintUnformatted(v);
    uint64_t n = kv->type == QK_GGUF_ARRAY ? kv->n : 1;
    if (kv->type == QK_GGUF_ARRAY) {
        const char *et = qk_gguf_type_name(kv->arr_type);
        if (!all && n > 16) printf("[%s x %llu] %.*s ...]", et, (unsigned long long)n, (int)strlen(s) - 1, s);
        else printf("[%s x %llu] %s", et, (unsigned long long)n, s);
    } else {
        size_t l = strlen(s);
        if (!all && kv->type == QK_GGUF_STRING && l > 120) printf("%.100s... (%zu chars)", s, l);
        else printf("%s", s);
    }
    free(s);
    cJSON_Delete(v);
}

static int info_gguf(const char *path, bool json, bool all) {
    qk_gguf_set set;
    qk_err err;
    if (qk_gguf_set_open(path, &set, &err)) return qk_cli_fail(CMD, &err);
    const qk_gguf_meta *m = qk_gguf_set_meta(&set);
    uint64_t n_params = 0, n_bytes = 0, file_bytes = 0;
    for (uint32_t i = 0; i < set.n_files; i++) file_bytes += set.files[i]->file_size;
    for (uint64_t i = 0; i < set.n_tensors; i++) {
        const qk_gguf_tensor *t = qk_gguf_set_tensor(&set, i);
        n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        n_bytes += t->nbytes;
    }
    const char *arch = qk_gguf_get_str(m, "general.architecture");
    int64_t ftype = -1;
    qk_gguf_get_int(m, "general.file_type", &ftype);
    const qk_ftype_info *fi = ftype >= 0 ? qk_ftype_by_id((int)ftype) : NULL;
    const qk_gguf_kv *toks = qk_gguf_find(m, "tokenizer.ggml.tokens");
    const char *tok_model = qk_gguf_get_str(m, "tokenizer.ggml.model");
    const char *tok_pre = qk_gguf_get_str(m, "tokenizer.ggml.pre");
    bool has_template = qk_gguf_find(m, "tokenizer.chat_template") != NULL;
    bool integrity = qk_gguf_find(m, "quantkit.integrity.tensor_xxh3") != NULL;
    double bpw = n_params ? 8.0 * (double)n_bytes / (double)n_params : 0;
    static const char *specials[] = {"bos", "eos", "unknown", "padding", "eot", "sep", "cls", "mask"};

    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "path", path);
        cJSON_AddStringToObject(j, "format", "gguf");
        cJSON_AddNumberToObject(j, "version", m->version);
        cJSON_AddNumberToObject(j, "shards", set.n_files);
        cJSON_AddNumberToObject(j, "file_size", (double)file_bytes);
        if (arch) cJSON_AddStringToObject(j, "architecture", arch);
        if (fi) cJSON_AddStringToObject(j, "file_type", fi->name);
        cJSON_AddNumberToObject(j, "parameters", (double)n_params);
        cJSON_AddNumberToObject(j, "tensor_bytes", (double)n_bytes);
        cJSON_AddNumberToObject(j, "bits_per_weight", bpw);
        cJSON_AddBoolToObject(j, "quantkit_integrity", integrity);
        cJSON *tok = cJSON_AddObjectToObject(j, "tokenizer");
        if (tok_model) cJSON_AddStringToObject(tok, "model", tok_model);
        if (tok_pre) cJSON_AddStringToObject(tok, "pre", tok_pre);
        cJSON_AddNumberToObject(tok, "vocab_size", toks ? (double)toks->n : 0);
        cJSON_AddBoolToObject(tok, "chat_template", has_template);
        for (size_t s = 0; s < sizeof specials / sizeof specials[0]; s++) {
            char key[96];
            int64_t id;
            snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", specials[s]);
            if (qk_gguf_get_int(m, key, &id)) {
                char k2[64];
                snprintf(k2, sizeof k2, "%s_token_id", specials[s]);
                cJSON_AddNumberToObject(tok, k2, (double)id);
            }
        }
        cJSON *md = cJSON_AddObjectToObject(j, "metadata");
        for (uint64_t i = 0; i < m->n_kv; i++) {
            const qk_gguf_kv *kv = &m->kv[i];
            if (!all && kv->type == QK_GGUF_ARRAY && kv->n > 16 && !strncmp(kv->key, "tokenizer.", 10)) continue;
            cJSON_AddItemToObject(md, kv->key, kv_json(kv, all));
        }
        cJSON *ta = cJSON_AddArrayToObject(j, "tensors");
        for (uint64_t i = 0; i < set.n_tensors; i++) {
            const qk_gguf_tensor *t = qk_gguf_set_tensor(&set, i);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", t->name);
            cJSON_AddStringToObject(o, "type", qk_type_get(t->type)->name);
            cJSON *sh = cJSON_AddArrayToObject(o, "shape");
            for (uint32_t d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->ne[d]));
            cJSON_AddNumberToObject(o, "bytes", (double)t->nbytes);
            if (set.n_files > 1) cJSON_AddNumberToObject(o, "shard", set.tensors[i].shard + 1);
            cJSON_AddItemToArray(ta, o);
        }
        char *s = cJSON_Print(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
        qk_gguf_set_close(&set);
        return 0;
    }
    char fsz[32], tsz[32];
    qk_format_size(fsz, sizeof fsz, file_bytes);
    qk_format_size(tsz, sizeof tsz, n_bytes);
    printf("%s: GGUF v%u, %s%s\n", path, m->version, fsz,
           set.n_files > 1 ? " (split set)" : "");
    if (set.n_files > 1) printf("  shards:        %u\n", set.n_files);
    printf("  architecture:  %s\n", arch ? arch : "(none)");
    const char *name = qk_gguf_get_str(m, "general.name");
    if (name) printf("  name:          %s\n", name);
    printf("  file type:     %s\n", fi ? fi->name : ftype >= 0 ? "(unknown id)" : "(not set)");
    printf("  parameters:    %llu (%.2f M)\n", (unsigned long long)n_params, (double)n_params / 1e6);
    printf("  tensors:       %llu, %s, %.2f bits per weight\n", (unsigned long long)set.n_tensors, tsz, bpw);
    printf("  tokenizer:     %s%s%s, %llu tokens, chat template: %s\n", tok_model ? tok_model : "(none)",
           tok_pre ? " / pre " : "", tok_pre ? tok_pre : "", toks ? (unsigned long long)toks->n : 0ull,
           has_template ? "yes" : "no");
    for (size_t s = 0; s < sizeof specials / sizeof specials[0]; s++) {
        char key[96];
        int64_t id;
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", specials[s]);
        if (qk_gguf_get_int(m, key, &id)) {
            const char *txt = toks && id >= 0 && (uint64_t)id < toks->n && toks->arr_type == QK_GGUF_STRING
                                  ? ((qk_gguf_str *)toks->data)[id].s
                                  : "?";
            printf("    %-8s %lld '%s'\n", specials[s], (long long)id, txt);
        }
    }
    printf("  integrity:     %s\n", integrity ? "quantkit hashes present (check with `quantkit verify`)"
                                              : "none embedded (written by another tool)");
    printf("\nmetadata (%llu keys):\n", (unsigned long long)m->n_kv);
    for (uint64_t i = 0; i < m->n_kv; i++) {
        printf("  %-44s ", m->kv[i].key);
        print_value(&m->kv[i], all);
        printf("\n");
    }
    printf("\ntensors:\n");
    printf("  %-44s %-8s %-26s %12s\n", "name", "type", "shape", "bytes");
    for (uint64_t i = 0; i < set.n_tensors; i++) {
        const qk_gguf_tensor *t = qk_gguf_set_tensor(&set, i);
        char shape[64] = "";
        for (uint32_t d = 0; d < t->n_dims; d++) {
            size_t l = strlen(shape);
            snprintf(shape + l, sizeof shape - l, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        }
        printf("  %-44s %-8s %-26s %12llu\n", t->name, qk_type_get(t->type)->name, shape,
               (unsigned long long)t->nbytes);
    }
    qk_gguf_set_close(&set);
    return 0;
}

int qk_cmd_info(int argc, char **argv) {
    bool json = false, all = false, cpu = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            help();
            return 0;
        } else if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--all")) all = true;
        else if (!strcmp(argv[i], "--cpu")) cpu = true;
        else if (argv[i][0] == '-' && argv[i][1]) return qk_cli_usage(CMD, "unknown option '%s'", argv[i]);
        else if (path) return qk_cli_usage(CMD, "more than one PATH given");
        else path = argv[i];
    }
    if (cpu) return qk_info_cpu(json);
    if (!path) return qk_cli_usage(CMD, "missing PATH");
    size_t l = strlen(path);
    FILE *f = fopen(path, "rb");
    unsigned char magic[4] = {0};
    bool is_gguf = false;
    if (f) {
        is_gguf = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "GGUF", 4);
        fclose(f);
    }
    if (is_gguf || (l > 5 && !strcmp(path + l - 5, ".gguf"))) return info_gguf(path, json, all);
    struct stat st;
    if (!stat(path, &st) && S_ISREG(st.st_mode) && !(l > 12 && !strcmp(path + l - 12, ".safetensors")) &&
        !qk_torch_sniff(path)) {
        qk_err err;
        qk_fail(&err, "%s: not a GGUF file (no \"GGUF\" magic), a .safetensors file, a PyTorch checkpoint (.bin/.pth) "
                      "or a model folder", path);
        return qk_cli_fail(CMD, &err);
    }
    return qk_info_hf(path, json, all);
}
