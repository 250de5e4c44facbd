#include "info_hf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arch.h"
#include "cli_util.h"
#include "torch_file.h"
#include "hf_checkpoint.h"
#include "kernels.h"
#include "sizes.h"

static const char *CMD = "info";

static void shape_str(char *buf, size_t n, const qk_st_tensor *t) {
    buf[0] = 0;
    for (int d = 0; d < t->n_dims; d++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%lld", d ? " x " : "", (long long)t->shape[d]);
    }
    if (!t->n_dims) snprintf(buf, n, "scalar");
}

static int print_tensors(cJSON *j, const qk_st_file *const *files, const qk_st_tensor *const *ts, const uint32_t *fidx,
                         size_t n, bool json, uint64_t *params, uint64_t *bytes) {
    cJSON *arr = json ? cJSON_AddArrayToObject(j, "tensors") : NULL;
    if (!json) printf("\ntensors:\n  %-56s %-8s %-24s %12s\n", "name", "dtype", "shape (PyTorch order)", "bytes");
    for (size_t i = 0; i < n; i++) {
        const qk_st_tensor *t = ts[i];
        *params += t->n_elements;
        *bytes += t->end - t->begin;
        char sh[96];
        shape_str(sh, sizeof sh, t);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", t->name);
            cJSON_AddStringToObject(o, "dtype", qk_st_dtype_name(t->dtype));
            cJSON *s = cJSON_AddArrayToObject(o, "shape");
            for (int d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t->shape[d]));
            cJSON_AddNumberToObject(o, "bytes", (double)(t->end - t->begin));
            if (fidx) cJSON_AddStringToObject(o, "file", strrchr(files[fidx[i]]->path, '/') ? strrchr(files[fidx[i]]->path, '/') + 1 : files[fidx[i]]->path);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("  %-56s %-8s %-24s %12llu\n", t->name, qk_st_dtype_name(t->dtype), sh,
                   (unsigned long long)(t->end - t->begin));
        }
    }
    return 0;
}

static void tokenizer_summary(cJSON *j, const char *dir, bool json) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/tokenizer.model", dir);
    bool spm = !stat(p, &st);
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    bool tj = !stat(p, &st);
    cJSON *tc = NULL;
    qk_err err;
    qk_hf_read_json(dir, "tokenizer_config.json", &tc, &err);
    snprintf(p, sizeof p, "%s/chat_template.jinja", dir);
    bool tmpl = !stat(p, &st) || (tc && cJSON_GetObjectItemCaseSensitive(tc, "chat_template"));
    const char *bos = tc ? qk_hf_cfg_str(tc, "bos_token") : NULL, *eos = tc ? qk_hf_cfg_str(tc, "eos_token") : NULL;
    if (json) {
        cJSON *o = cJSON_AddObjectToObject(j, "tokenizer");
        cJSON_AddBoolToObject(o, "tokenizer_model", spm);
        cJSON_AddBoolToObject(o, "tokenizer_json", tj);
        cJSON_AddBoolToObject(o, "chat_template", tmpl);
        if (bos) cJSON_AddStringToObject(o, "bos_token", bos);
        if (eos) cJSON_AddStringToObject(o, "eos_token", eos);
    } else {
        printf("  tokenizer:     %s%s%s, chat template: %s", spm ? "tokenizer.model (SentencePiece)" : "",
               spm && tj ? " + " : "", tj ? "tokenizer.json" : (!spm ? "(none found)" : ""), tmpl ? "yes" : "no");
        if (bos || eos) printf(", bos '%s', eos '%s'", bos ? bos : "-", eos ? eos : "-");
        printf("\n");
    }
    cJSON_Delete(tc);
}

int qk_info_hf(const char *path, bool json, bool all) {
    (void)all;
    struct stat st;
    qk_err err;
    if (stat(path, &st)) return qk_cli_failf(CMD, "%s: no such file or folder", path);
    cJSON *j = json ? cJSON_CreateObject() : NULL;
    uint64_t params = 0, bytes = 0;
    if (S_ISDIR(st.st_mode)) {
        qk_hf_checkpoint ck;
        if (qk_hf_open(path, &ck, &err)) {
            cJSON_Delete(j);
            return qk_cli_fail(CMD, &err);
        }
        const cJSON *archs = cJSON_GetObjectItemCaseSensitive(ck.config, "architectures");
        const char *arch = cJSON_IsArray(archs) && cJSON_IsString(archs->child) ? archs->child->valuestring : NULL;
        /* what convert would do with it: the registry's plan (the text model's config for multimodal releases) */
        qk_conv_plan plan;
        qk_err perr;
        const bool convertible = qk_arch_plan(&ck, &plan, &perr) == QK_OK;
        const cJSON *hcfg = convertible && plan.config ? plan.config : ck.config;
        static const char *keys[] = {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                                     "intermediate_size", "vocab_size", "max_position_embeddings", "head_dim",
                                     "num_local_experts", "rope_theta", "rms_norm_eps"};
        if (json) {
            cJSON_AddStringToObject(j, "path", path);
            cJSON_AddStringToObject(j, "format", "huggingface");
            cJSON_AddStringToObject(j, "weights", ck.weights);
            if (arch) cJSON_AddStringToObject(j, "architecture", arch);
            cJSON *cv = cJSON_AddObjectToObject(j, "convert");
            cJSON_AddBoolToObject(cv, "supported", convertible);
            if (convertible) {
                cJSON_AddStringToObject(cv, "gguf_architecture", plan.arch);
                cJSON_AddStringToObject(cv, "family", plan.family);
                cJSON_AddNumberToObject(cv, "tensors", (double)plan.n_tensors);
                if (plan.caveat) cJSON_AddStringToObject(cv, "caveat", plan.caveat);
                cJSON *lo = cJSON_AddArrayToObject(cv, "left_out");
                for (int g = 0; g < plan.n_left_out; g++) {
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "prefix", plan.left_out[g].prefix);
                    cJSON_AddNumberToObject(e, "tensors", plan.left_out[g].n_tensors);
                    cJSON_AddItemToArray(lo, e);
                }
            } else {
                cJSON_AddStringToObject(cv, "error", perr.msg);
            }
            cJSON_AddNumberToObject(j, "shards", (double)ck.n_files);
            cJSON_AddNumberToObject(j, "file_size", (double)ck.total_bytes);
            cJSON *hp = cJSON_AddObjectToObject(j, "hyperparameters");
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                double v;
                if (qk_hf_cfg_num(hcfg, keys[i], &v)) cJSON_AddNumberToObject(hp, keys[i], v);
            }
        } else {
            char sz[32];
            qk_format_size(sz, sizeof sz, ck.total_bytes);
            printf("%s: Hugging Face folder, %zu %s file%s, %s\n", path, ck.n_files, ck.torch ? "PyTorch" : "safetensors",
                   ck.n_files == 1 ? "" : "s", sz);
            printf("  weights:       %s\n", ck.weights);
            printf("  architecture:  %s\n", arch ? arch : "(none in config.json)");
            if (convertible) {
                printf("  converts to:   %s (%s), %zu tensors\n", plan.arch, plan.family, plan.n_tensors);
                if (plan.caveat) printf("  note:          %s\n", plan.caveat);
                for (int g = 0; g < plan.n_left_out; g++)
                    printf("  left out:      %s* (%u tensors; llama.cpp runs them from a separate mmproj file)\n",
                           plan.left_out[g].prefix, plan.left_out[g].n_tensors);
            } else {
                printf("  converts to:   no - %s\n", perr.msg);
            }
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                double v;
                if (qk_hf_cfg_num(hcfg, keys[i], &v)) printf("  %-24s %g\n", keys[i], v);
            }
        }
        tokenizer_summary(j, path, json);
        const qk_st_tensor **ts = malloc((ck.n_tensors ? ck.n_tensors : 1) * sizeof *ts);
        uint32_t *fi = malloc((ck.n_tensors ? ck.n_tensors : 1) * sizeof *fi);
        for (size_t i = 0; i < ck.n_tensors; i++) ts[i] = ck.tensors[i].t, fi[i] = ck.tensors[i].file;
        print_tensors(j, (const qk_st_file *const *)ck.files, ts, fi, ck.n_tensors, json, &params, &bytes);
        free(ts), free(fi);
        qk_arch_plan_free(&plan);
        qk_hf_close(&ck);
    } else {
        qk_st_file *f;
        size_t pl = strlen(path);
        bool torch = !(pl > 12 && !strcmp(path + pl - 12, ".safetensors")) && qk_torch_sniff(path);
        if (torch ? qk_torch_open(path, &f, &err) : qk_st_open(path, &f, &err)) {
            cJSON_Delete(j);
            return qk_cli_fail(CMD, &err);
        }
        if (json) {
            cJSON_AddStringToObject(j, "path", path);
            cJSON_AddStringToObject(j, "format", torch ? "pytorch" : "safetensors");
            cJSON_AddNumberToObject(j, "file_size", (double)f->file_size);
            cJSON *md = cJSON_AddObjectToObject(j, "metadata");
            for (size_t i = 0; i < f->n_meta; i++) cJSON_AddStringToObject(md, f->meta_keys[i], f->meta_values[i]);
        } else {
            char sz[32];
            qk_format_size(sz, sizeof sz, f->file_size);
            printf("%s: %s, %s, %zu tensors\n", path, torch ? "PyTorch checkpoint (zip; pickle read without running it)"
                                                           : "safetensors", sz, f->n_tensors);
            for (size_t i = 0; i < f->n_meta; i++) printf("  metadata %s = %s\n", f->meta_keys[i], f->meta_values[i]);
        }
        const qk_st_tensor **ts = malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *ts);
        for (size_t i = 0; i < f->n_tensors; i++) ts[i] = &f->tensors[i];
        print_tensors(j, NULL, ts, NULL, f->n_tensors, json, &params, &bytes);
        free(ts);
        qk_st_close(f);
    }
    if (json) {
        cJSON_AddNumberToObject(j, "parameters", (double)params);
        cJSON_AddNumberToObject(j, "tensor_bytes", (double)bytes);
        cJSON_AddNumberToObject(j, "bits_per_weight", params ? 8.0 * (double)bytes / (double)params : 0);
        char *s = cJSON_Print(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("\n  parameters:    %llu (%.2f M), %.2f bits per weight\n", (unsigned long long)params,
               (double)params / 1e6, params ? 8.0 * (double)bytes / (double)params : 0);
    }
    return 0;
}

int qk_info_cpu(bool json) {
    const char *isa = qk_isa_name(qk_isa_active());
    char avail[128] = "";
    for (int i = 0; i < QK_ISA_COUNT; i++)
        if (qk_isa_available((qk_isa)i)) {
            size_t l = strlen(avail);
            snprintf(avail + l, sizeof avail - l, "%s%s", l ? " " : "", qk_isa_name((qk_isa)i));
        }
    const char *env = qk_isa_env_error();
    if (json) {
        printf("{\"active_kernels\": \"%s\", \"available\": \"%s\"}\n", isa, avail);
    } else {
        printf("kernel variants available: %s\nactive: %s (force one with QUANTKIT_ISA=scalar|avx2|avx512|neon)\n",
               avail, isa);
        if (env) fprintf(stderr, "quantkit info: %s\n", env);
    }
    return 0;
}
