/* cmd_info.c - `quantkit info PATH`: what a model file holds.
 *
 * For a GGUF (or the first shard of a split set): architecture and
 * hyper-parameters, tokenizer summary, the tensor table, parameter count,
 * bits per weight, file type, integrity data. --json gives the same as JSON.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cli_util.h"
#include "ftypes.h"
#include "gguf_set.h"
#include "info_hf.h"
#include "ggml_types.h"
#include "sizes.h"
#include "torch_file.h"

static const char *CMD = "info";

static void help(void) {
    printf("usage: quantkit info [--json] [--full] PATH\n"
           "\n"
           "Shows what a model holds: a .gguf file (or the first shard of a split set), a .safetensors\n"
           "file, a PyTorch checkpoint (pytorch_model.bin, .pth; read without running pickle), or a\n"
           "Hugging Face folder (config.json + safetensors or pytorch_model.bin).\n"
           "  --json   machine-readable output on stdout (schema: docs/json-schema.md); arrays show\n"
           "           their first 16 items with \"truncated\": true unless --full\n"
           "  --full   every metadata value in full (long arrays such as vocabularies included);\n"
           "           --all is the same\n"
           "  --cpu    show the CPU features and which kernel variant is active\n"
           "A later shard of a split set or a truncated file: what its header says is shown, with\n"
           "what is wrong, and the exit code is 1.\n"
           "exit codes: 0 ok, 1 unreadable or invalid input, 2 usage error\n");
}

/* Keys whose 64-bit integers are hashes: shown as hex strings (a double
 * cannot hold them, and they are compared as text). */
static bool is_hash_key(const char *key) {
    return strstr(key, "xxh3") || strstr(key, "sha256") || strstr(key, "hash") || strstr(key, "crc");
}

/* Element i of a KV (the scalar when not an array) as a JSON value: numbers
 * up to 2^53 as numbers, larger 64-bit integers as decimal strings, hashes as
 * 16-digit hex strings. */
static cJSON *kv_elem_json(const qk_gguf_kv *kv, uint64_t i) {
    const uint32_t t = kv->type == QK_GGUF_ARRAY ? kv->arr_type : kv->type;
    const unsigned char *d = kv->data;
    switch (t) {
    case QK_GGUF_STRING: return cJSON_CreateString(((qk_gguf_str *)kv->data)[i].s);
    case QK_GGUF_BOOL: return cJSON_CreateBool(d[i] != 0);
    case QK_GGUF_F32: { float f; memcpy(&f, d + 4 * i, 4); return cJSON_CreateNumber(f); }
    case QK_GGUF_F64: { double f; memcpy(&f, d + 8 * i, 8); return cJSON_CreateNumber(f); }
    case QK_GGUF_U8: return cJSON_CreateNumber(d[i]);
    case QK_GGUF_I8: return cJSON_CreateNumber((int8_t)d[i]);
    case QK_GGUF_U16: { uint16_t x; memcpy(&x, d + 2 * i, 2); return cJSON_CreateNumber(x); }
    case QK_GGUF_I16: { int16_t x; memcpy(&x, d + 2 * i, 2); return cJSON_CreateNumber(x); }
    case QK_GGUF_U32: { uint32_t x; memcpy(&x, d + 4 * i, 4); return cJSON_CreateNumber(x); }
    case QK_GGUF_I32: { int32_t x; memcpy(&x, d + 4 * i, 4); return cJSON_CreateNumber(x); }
    case QK_GGUF_U64: case QK_GGUF_I64: {
        uint64_t u;
        memcpy(&u, d + 8 * i, 8);
        char buf[32];
        if (is_hash_key(kv->key)) {
            snprintf(buf, sizeof buf, "%016llx", (unsigned long long)u);
            return cJSON_CreateString(buf);
        }
        if (t == QK_GGUF_I64) {
            const int64_t x = (int64_t)u;
            if (x >= -(1LL << 53) && x <= (1LL << 53)) return cJSON_CreateNumber((double)x);
            snprintf(buf, sizeof buf, "%lld", (long long)x);
            return cJSON_CreateString(buf);
        }
        if (u <= (1ULL << 53)) return cJSON_CreateNumber((double)u);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)u);
        return cJSON_CreateString(buf);
    }
    default: return cJSON_CreateNull();
    }
}

#define INFO_ARRAY_ITEMS 16

/* A KV as JSON: a scalar is its value; an array is
 * {"type":"array","element_type":T,"length":N,"items":[first 16, or all with
 * full],"truncated":bool}. */
static cJSON *kv_json(const qk_gguf_kv *kv, bool full) {
    if (kv->type != QK_GGUF_ARRAY) return kv_elem_json(kv, 0);
    const uint64_t shown = (!full && kv->n > INFO_ARRAY_ITEMS) ? INFO_ARRAY_ITEMS : kv->n;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "array");
    cJSON_AddStringToObject(o, "element_type", qk_gguf_type_name(kv->arr_type));
    cJSON_AddNumberToObject(o, "length", (double)kv->n);
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    for (uint64_t i = 0; i < shown; i++) cJSON_AddItemToArray(items, kv_elem_json(kv, i));
    cJSON_AddBoolToObject(o, "truncated", shown < kv->n);
    return o;
}

static void print_value(const qk_gguf_kv *kv, bool all) {
    if (kv->type == QK_GGUF_ARRAY) {
        const uint64_t n = kv->n, shown = (!all && n > INFO_ARRAY_ITEMS) ? INFO_ARRAY_ITEMS : n;
        printf("[%s x %llu] [", qk_gguf_type_name(kv->arr_type), (unsigned long long)n);
        for (uint64_t i = 0; i < shown; i++) {
            cJSON *v = kv_elem_json(kv, i);
            char *s = cJSON_PrintUnformatted(v);
            printf("%s%s", i ? "," : "", s ? s : "?");
            free(s);
            cJSON_Delete(v);
        }
        printf(shown < n ? ", ...]" : "]");
        return;
    }
    cJSON *v = kv_elem_json(kv, 0);
    char *s = cJSON_PrintUnformatted(v);
    size_t l = s ? strlen(s) : 0;
    if (!all && kv->type == QK_GGUF_STRING && l > 120) printf("%.100s... (%zu chars)", s, l);
    else printf("%s", s ? s : "?");
    free(s);
    cJSON_Delete(v);
}

/* What info shows: a whole model (a file or a split set), or, when that
 * cannot be opened, the header of the one file (problem says why). */
typedef struct {
    const qk_gguf_meta *m;
    const qk_gguf_set *set; /* NULL in the partial view */
    uint32_t n_files;
    uint64_t n_tensors, file_bytes;
    const char *problem;    /* NULL, or why only part is shown */
} gguf_view;

static const qk_gguf_tensor *view_tensor(const gguf_view *v, uint64_t i) {
    return v->set ? qk_gguf_set_tensor(v->set, i) : &v->m->tensors[i];
}

static int show_gguf(const char *path, const gguf_view *v, bool json, bool all) {
    const qk_gguf_meta *m = v->m;
    uint64_t n_params = 0, n_bytes = 0, file_bytes = v->file_bytes;
    for (uint64_t i = 0; i < v->n_tensors; i++) {
        const qk_gguf_tensor *t = view_tensor(v, i);
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
        cJSON_AddNumberToObject(j, "shards", v->n_files);
        cJSON_AddBoolToObject(j, "complete", v->problem == NULL);
        if (v->problem) cJSON_AddStringToObject(j, "error", v->problem);
        cJSON_AddNumberToObject(j, "n_kv", (double)m->n_kv);
        cJSON_AddNumberToObject(j, "n_tensors", (double)v->n_tensors);
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
            cJSON_AddItemToObject(md, kv->key, kv_json(kv, all));
        }
        cJSON *ta = cJSON_AddArrayToObject(j, "tensors");
        for (uint64_t i = 0; i < v->n_tensors; i++) {
            const qk_gguf_tensor *t = view_tensor(v, i);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", t->name);
            cJSON_AddStringToObject(o, "type", qk_type_get(t->type) ? qk_type_get(t->type)->name : "?");
            cJSON *sh = cJSON_AddArrayToObject(o, "shape");
            for (uint32_t d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->ne[d]));
            cJSON_AddNumberToObject(o, "bytes", (double)t->nbytes);
            if (v->set && v->n_files > 1) cJSON_AddNumberToObject(o, "shard", v->set->tensors[i].shard + 1);
            cJSON_AddItemToArray(ta, o);
        }
        char *s = cJSON_Print(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
        if (v->problem) fprintf(stderr, "quantkit %s: %s\n", CMD, v->problem);
        return v->problem ? QK_EXIT_FAIL : QK_EXIT_OK;
    }
    char fsz[32], tsz[32];
    qk_format_size(fsz, sizeof fsz, file_bytes);
    qk_format_size(tsz, sizeof tsz, n_bytes);
    printf("%s: GGUF v%u, %s%s\n", path, m->version, fsz, v->n_files > 1 ? " (split set)" : "");
    if (v->problem) printf("  PROBLEM:       %s\n                 (what follows is what the header says)\n", v->problem);
    if (v->n_files > 1) printf("  shards:        %u\n", v->n_files);
    printf("  architecture:  %s\n", arch ? arch : "(none)");
    const char *name = qk_gguf_get_str(m, "general.name");
    if (name) printf("  name:          %s\n", name);
    printf("  file type:     %s\n", fi ? fi->name : ftype >= 0 ? "(unknown id)" : "(not set)");
    printf("  parameters:    %llu (%.2f M)\n", (unsigned long long)n_params, (double)n_params / 1e6);
    printf("  tensors:       %llu, %s, %.2f bits per weight\n", (unsigned long long)v->n_tensors, tsz, bpw);
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
    for (uint64_t i = 0; i < v->n_tensors; i++) {
        const qk_gguf_tensor *t = view_tensor(v, i);
        char shape[64] = "";
        for (uint32_t d = 0; d < t->n_dims; d++) {
            size_t l = strlen(shape);
            snprintf(shape + l, sizeof shape - l, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        }
        printf("  %-44s %-8s %-26s %12llu\n", t->name, qk_type_get(t->type) ? qk_type_get(t->type)->name : "?",
               shape, (unsigned long long)t->nbytes);
    }
    if (v->problem) {
        qk_err e;
        qk_fail(&e, "%s", v->problem);
        return qk_cli_fail(CMD, &e);
    }
    return QK_EXIT_OK;
}

/* The header of one file, even when the model cannot be opened as a whole
 * (a later shard of a split set, a truncated data section): read up to
 * 256 MiB and parse it without the data-size check. */
static int header_only(const char *path, qk_gguf_meta *m, uint64_t *file_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return QK_FAIL;
    struct stat st;
    int rc = QK_FAIL;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0) {
        size_t len = (uint64_t)st.st_size < (256u << 20) ? (size_t)st.st_size : (256u << 20);
        unsigned char *buf = malloc(len);
        qk_err e;
        if (buf && fread(buf, 1, len, f) == len && qk_gguf_parse_buffer(buf, len, UINT64_MAX, path, m, &e) == QK_OK)
            rc = QK_OK;
        free(buf);
        *file_size = (uint64_t)st.st_size;
    }
    fclose(f);
    return rc;
}

static int info_gguf(const char *path, bool json, bool all) {
    qk_gguf_set set;
    qk_err err;
    if (qk_gguf_set_open(path, &set, &err) == QK_OK) {
        gguf_view v = {qk_gguf_set_meta(&set), &set, set.n_files, set.n_tensors, 0, NULL};
        for (uint32_t i = 0; i < set.n_files; i++) v.file_bytes += set.files[i]->file_size;
        int rc = show_gguf(path, &v, json, all);
        qk_gguf_set_close(&set);
        return rc;
    }
    qk_gguf_meta m;
    memset(&m, 0, sizeof m);
    uint64_t size = 0;
    if (header_only(path, &m, &size) != QK_OK) return qk_cli_fail(CMD, &err);
    int64_t no = -1, count = -1;
    char why[1200];
    if (qk_gguf_get_int(&m, "split.no", &no) && qk_gguf_get_int(&m, "split.count", &count) && no > 0)
        snprintf(why, sizeof why, "this is shard %lld of %lld of a split set; open the first shard for the whole model (%s)",
                 (long long)no + 1, (long long)count, err.msg);
    else
        snprintf(why, sizeof why, "%s", err.msg);
    gguf_view v = {&m, NULL, 1, m.n_tensors, size, why};
    int rc = show_gguf(path, &v, json, all);
    qk_gguf_meta_free(&m);
    return rc == QK_EXIT_OK ? QK_EXIT_FAIL : rc;
}

int qk_cmd_info(int argc, char **argv) {
    bool json = false, all = false, cpu = false;
    const char *path = NULL;
    enum { O_HELP = 1, O_JSON, O_ALL, O_CPU };
    static const qk_opt opts[] = {{"help", 'h', false, O_HELP}, {"json", 0, false, O_JSON},
                                  {"all", 0, false, O_ALL}, {"full", 0, false, O_ALL}, {"cpu", 0, false, O_CPU}};
    qk_args a;
    qk_args_init(&a, CMD, opts, sizeof opts / sizeof opts[0], argc, argv);
    const char *v;
    for (int id; (id = qk_args_next(&a, &v)) != QK_ARGS_END;) {
        switch (id) {
        case QK_ARGS_ERR: return QK_EXIT_USAGE;
        case QK_ARGS_POS:
            if (path) return qk_cli_usage(CMD, "more than one PATH given ('%s' and '%s')", path, v);
            path = v;
            break;
        case O_HELP: help(); return QK_EXIT_OK;
        case O_JSON: json = true; break;
        case O_ALL: all = true; break;
        case O_CPU: cpu = true; break;
        default: break;
        }
    }
    if (cpu && path) return qk_cli_usage(CMD, "--cpu shows this CPU, not a model: '%s' would be ignored", path);
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
        return qk_cli_failf(CMD, "%s: not a GGUF file (no \"GGUF\" magic), a .safetensors file, a PyTorch checkpoint "
                                 "(.bin/.pth) or a model folder", path);
    }
    return qk_info_hf(path, json, all);
}
