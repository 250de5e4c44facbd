/* cmd_verify.c - `quantkit verify`: is this file whole, and the one I think it is? */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cli_util.h"
#include "compare.h"
#include "manifest.h"
#include "ggml_types.h"
#include "verify.h"

static const char *CMD = "verify";

static void help(void) {
    printf("usage: quantkit verify [options] FILE...\n"
           "\n"
           "Checks GGUF files (a split set by its first shard): structure (every parser check,\n"
           "truncation, zero padding), the integrity hashes quantkit embeds (naming any damaged\n"
           "tensor or the metadata), NaN/Inf in data and scales, what llama.cpp needs to load the\n"
           "model (tensors and shapes for llama, tokenizer arrays, special-token ids, file type),\n"
           "and split-set consistency. Exit 0 only when every check passes.\n"
           "\n"
           "options:\n"
           "  --write-manifest M   write sizes and hashes of FILE... to M (includes llama-gguf-hash's\n"
           "                       xxh64 lines, so `llama-gguf-hash --check M` works too)\n"
           "  --manifest M         also check FILE... against manifest M (ours or llama-gguf-hash's)\n"
           "  --against SOURCE     also measure, per tensor, what quantization cost against SOURCE (the\n"
           "                       Hugging Face folder or GGUF it came from): RMSE, max error, SNR, cosine\n"
           "  --threads N          hashing threads (default: all cores)\n"
           "  --json               machine-readable report on stdout\n"
           "  -h, --help           this text\n"
           "exit codes: 0 all checks passed, 1 a check failed or a file is unreadable, 2 usage error\n");
}

int qk_cmd_verify(int argc, char **argv) {
    const char *files[256];
    int n_files = 0;
    const char *write_m = NULL, *check_m = NULL, *against = NULL;
    bool json = false;
    qk_verify_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
            return 0;
        } else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--write-manifest")) {
            if (!(write_m = qk_cli_value(CMD, argc, argv, &i))) return QK_EXIT_USAGE;
        } else if (!strcmp(a, "--against")) {
            if (!(against = qk_cli_value(CMD, argc, argv, &i))) return QK_EXIT_USAGE;
        } else if (!strcmp(a, "--manifest")) {
            if (!(check_m = qk_cli_value(CMD, argc, argv, &i))) return QK_EXIT_USAGE;
        } else if (!strcmp(a, "--threads")) {
            const char *v = qk_cli_value(CMD, argc, argv, &i);
            if (!v || !qk_cli_int(v, &o.n_threads)) return qk_cli_usage(CMD, "--threads takes a number");
        } else if (a[0] == '-' && a[1]) {
            return qk_cli_usage(CMD, "unknown option '%s'", a);
        } else if (n_files < 256) {
            files[n_files++] = a;
        }
    }
    if (!n_files) return qk_cli_usage(CMD, "no FILE given");
    qk_err err;
    if (write_m) {
        qk_afile *out;
        if (qk_afile_open(&out, write_m, &err)) return qk_cli_fail(CMD, &err);
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        int rc = QK_OK;
        fprintf(mem, "# quantkit manifest: size, xxh3-128 of each file, xxh3-64 and xxh64 (llama-gguf-hash) of each tensor\n");
        for (int i = 0; rc == QK_OK && i < n_files; i++) rc = qk_manifest_write_file(mem, files[i], o.n_threads, &err);
        fclose(mem);
        if (rc == QK_OK) rc = qk_afile_write(out, text, len, &err);
        free(text);
        if (rc == QK_OK) rc = qk_afile_commit(out, &err);
        else qk_afile_abort(out);
        if (rc) return qk_cli_fail(CMD, &err);
        if (!json) fprintf(stderr, "quantkit verify: wrote %s for %d file%s\n", write_m, n_files, n_files == 1 ? "" : "s");
    }
    int failed = 0;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (int i = 0; i < n_files; i++) {
        qk_verify_report rep;
        qk_verify_gguf(files[i], &o, &rep);
        if (check_m && qk_manifest_check_file(check_m, files[i], o.n_threads, &rep, &err)) {
            cJSON_Delete(arr);
            qk_verify_report_free(&rep);
            return qk_cli_fail(CMD, &err);
        }
        qk_compare_report cmp = {0};
        bool have_cmp = false;
        if (against) {
            if (qk_compare(files[i], against, &cmp, &err)) qk_verify_problem(&rep, "--against: %s", err.msg);
            else have_cmp = true;
        }
        bool ok = rep.n_problems == 0;
        failed += !ok;
        if (json) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "path", files[i]);
            cJSON_AddBoolToObject(r, "ok", ok);
            cJSON_AddBoolToObject(r, "parsed", rep.parsed);
            cJSON_AddNumberToObject(r, "shards", rep.n_shards);
            cJSON_AddNumberToObject(r, "tensors", (double)rep.n_tensors);
            cJSON_AddNumberToObject(r, "bytes", (double)rep.bytes);
            cJSON_AddBoolToObject(r, "integrity_present", rep.integrity_present);
            cJSON_AddBoolToObject(r, "integrity_ok", rep.integrity_ok);
            cJSON *p = cJSON_AddArrayToObject(r, "problems");
            for (size_t k = 0; k < rep.n_problems; k++) cJSON_AddItemToArray(p, cJSON_CreateString(rep.problems[k]));
            cJSON *nt = cJSON_AddArrayToObject(r, "notes");
            for (size_t k = 0; k < rep.n_notes; k++) cJSON_AddItemToArray(nt, cJSON_CreateString(rep.notes[k]));
            if (have_cmp) {
                cJSON *c = cJSON_AddObjectToObject(r, "against");
                cJSON_AddStringToObject(c, "source", against);
                cJSON_AddNumberToObject(c, "rmse", cmp.rmse);
                cJSON_AddNumberToObject(c, "snr_db", cmp.snr_db);
                cJSON_AddNumberToObject(c, "cosine", cmp.cosine);
                cJSON *ta = cJSON_AddArrayToObject(c, "tensors");
                for (size_t k = 0; k < cmp.n; k++) {
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddStringToObject(o, "name", cmp.tensors[k].name);
                    cJSON_AddStringToObject(o, "type", qk_type_get(cmp.tensors[k].type)->name);
                    cJSON_AddNumberToObject(o, "rmse", cmp.tensors[k].rmse);
                    cJSON_AddNumberToObject(o, "max_abs", cmp.tensors[k].max_abs);
                    cJSON_AddNumberToObject(o, "snr_db", isfinite(cmp.tensors[k].snr_db) ? cmp.tensors[k].snr_db : 999);
                    cJSON_AddNumberToObject(o, "cosine", cmp.tensors[k].cosine);
                    cJSON_AddItemToArray(ta, o);
                }
            }
            cJSON_AddItemToArray(arr, r);
        } else {
            for (size_t k = 0; k < rep.n_problems; k++) fprintf(stderr, "quantkit verify: %s\n", rep.problems[k]);
            for (size_t k = 0; k < rep.n_notes; k++) printf("note: %s\n", rep.notes[k]);
            if (have_cmp) {
                printf("%s against %s:\n  %-44s %-7s %12s %12s %9s %10s\n", files[i], against, "tensor", "type", "rmse",
                       "max abs", "SNR dB", "cosine");
                for (size_t k = 0; k < cmp.n; k++)
                    printf("  %-44s %-7s %12.3e %12.3e %9.2f %10.6f\n", cmp.tensors[k].name,
                           qk_type_get(cmp.tensors[k].type)->name, cmp.tensors[k].rmse, cmp.tensors[k].max_abs,
                           cmp.tensors[k].snr_db, cmp.tensors[k].cosine);
                printf("  overall: RMSE %.3e, SNR %.2f dB, cosine %.6f; worst tensor %s (cosine %.6f)\n", cmp.rmse,
                       cmp.snr_db, cmp.cosine, cmp.worst, cmp.worst_cosine);
            }
            if (ok)
                printf("%s: OK (%u shard%s, %llu tensors%s%s)\n", files[i], rep.n_shards, rep.n_shards == 1 ? "" : "s",
                       (unsigned long long)rep.n_tensors, rep.integrity_present ? ", integrity hashes match" : "",
                       check_m ? ", matches the manifest" : "");
            else
                printf("%s: FAILED (%zu problem%s)\n", files[i], rep.n_problems, rep.n_problems == 1 ? "" : "s");
        }
        qk_compare_report_free(&cmp);
        qk_verify_report_free(&rep);
    }
    if (json) {
        char *s = cJSON_Print(arr);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(arr);
    }
    return failed ? QK_EXIT_FAIL : QK_EXIT_OK;
}
