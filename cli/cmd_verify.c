/* cmd_verify.c - `quantkit verify`: is this file whole, and the one I think it is? */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "atomic_file.h"
#include "cli_util.h"
#include "compare.h"
#include "hf_cache.h"
#include "manifest.h"
#include "progress_tty.h"
#include "ggml_types.h"
#include "sha256.h"
#include "verify.h"

static const char *CMD = "verify";

static bool is_gguf_path(const char *p) {
    FILE *f = fopen(p, "rb");
    char m[4] = {0};
    bool r = f && fread(m, 1, 4, f) == 4 && !memcmp(m, "GGUF", 4);
    if (f) fclose(f);
    return r;
}

/* Prints each entry of a manifest or download check (or adds it to json):
 * OK, FAILED (where), MISSING (missing_why), NOT LISTED (in unlisted_in). */
static void print_entries(const qk_manifest_result *mr, cJSON *json, const char *missing_why, const char *unlisted_in) {
    static const char *const st[] = {"OK", "FAILED", "MISSING", "NOT LISTED"};
    for (size_t k = 0; k < mr->n; k++) {
        const qk_manifest_entry *e = &mr->e[k];
        if (json) {
            cJSON *je = cJSON_CreateObject();
            cJSON_AddStringToObject(je, "name", e->name);
            cJSON_AddStringToObject(je, "path", e->path);
            cJSON_AddStringToObject(je, "status", st[e->status]);
            if (e->where) cJSON_AddStringToObject(je, "where", e->where);
            cJSON_AddItemToArray(json, je);
        } else if (e->status == QK_ENTRY_OK) {
            printf("%s: OK\n", e->path);
        } else if (e->status == QK_ENTRY_FAILED) {
            printf("%s: FAILED (%s%s)\n", e->path, e->where ? e->where : "?", e->n_problems > 1 ? " and more" : "");
        } else if (e->status == QK_ENTRY_MISSING) {
            printf("%s: MISSING (%s)\n", e->name, missing_why);
        } else {
            printf("%s: NOT LISTED in %s%s%s\n", e->name, unlisted_in, e->where ? "; " : "", e->where ? e->where : "");
        }
    }
}

/* A Hugging Face download (cache snapshot, repo folder, --local-dir): every
 * LFS file against the SHA-256 its blob name or etag gives. 1 if it fails. */
static int verify_download(const char *dir, int n_threads, cJSON *jarr) {
    qk_manifest_result r;
    qk_err err;
    cJSON *jd = jarr ? cJSON_CreateObject() : NULL;
    if (jd) {
        cJSON_AddStringToObject(jd, "path", dir);
        cJSON_AddItemToArray(jarr, jd);
    }
    qk_progress *pg = cli_progress_new("checking", 0);
    const int rc = qk_hf_check(dir, n_threads, pg, &r, &err);
    cli_progress_done(pg);
    if (rc) {
        if (jd) cJSON_AddBoolToObject(jd, "ok", false), cJSON_AddStringToObject(jd, "problem", err.msg);
        else qk_cli_fail(CMD, &err);
        return 1;
    }
    const bool ok = !r.n_failed && !r.n_missing;
    if (jd) {
        cJSON_AddBoolToObject(jd, "ok", ok);
        cJSON_AddNumberToObject(jd, "not_checked", r.n_unknown);
    }
    print_entries(&r, jd ? cJSON_AddArrayToObject(jd, "files") : NULL, "its blob is absent: the download is incomplete",
                  dir);
    if (!jd) {
        printf("%s: %zu OK, %zu FAILED, %zu MISSING (each LFS file of the Hugging Face download against its SHA-256)\n",
               dir, r.n_ok, r.n_failed, r.n_missing);
        if (r.n_unknown)
            printf("note: %d file%s without a SHA-256 in the download (git files: config, tokenizer) not checked\n",
                   r.n_unknown, r.n_unknown == 1 ? "" : "s");
    }
    qk_manifest_result_free(&r);
    return !ok;
}

static void help(void) {
    printf("usage: quantkit verify [options] FILE...\n"
           "       quantkit verify --manifest SHA256SUMS [FILE...]\n"
           "\n"
           "Checks GGUF files (a split set by its first shard): structure (every parser check,\n"
           "truncation, zero padding), the integrity hashes quantkit embeds (naming any damaged\n"
           "tensor or the metadata), NaN/Inf in data and scales, what llama.cpp needs to load the\n"
           "model (tensors and shapes for llama, tokenizer arrays, special-token ids, file type),\n"
           "and split-set consistency. Exit 0 only when every check passes.\n"
           "A FILE that is a Hugging Face download (a cache's models--ORG--NAME or snapshots/REV\n"
           "folder, or a `huggingface-cli download --local-dir` folder) has every LFS file (the\n"
           "weights) checked against the SHA-256 its blob name or etag gives: OK, FAILED or MISSING.\n"
           "\n"
           "options:\n"
           "  -o, --write-manifest M\n"
           "                       write the SHA-256 of FILE... to M as sha256sum does (`sha256sum -c M`\n"
           "                       checks it); a shard brings its whole split set. M is never written\n"
           "                       over a model, one of FILE..., or any file that is not a manifest\n"
           "  --format F           manifest format: sha256 (default) or gguf-hash (size, xxh3-128, and\n"
           "                       llama-gguf-hash's xxh64 lines: `llama-gguf-hash --check M` works)\n"
           "  --manifest M         check every file M lists (SHA256SUMS, ours or llama-gguf-hash's):\n"
           "                       each is OK, FAILED (what differs) or MISSING; with FILE... a listed\n"
           "                       file is looked for among them, without them beside M\n"
           "  --sha256 HEX         check FILE against the SHA-256 a web page shows (one FILE)\n"
           "  --against SOURCE     also measure, per tensor, what quantization cost against SOURCE (the\n"
           "                       Hugging Face folder or GGUF it came from): RMSE, max error, SNR, cosine\n"
           "  -t, --threads N      hashing threads (default: all cores)\n"
           "  --json               machine-readable report on stdout\n"
           "  -h, --help           this text\n"
           "options are written --opt VALUE or --opt=VALUE\n"
           "exit codes: 0 all checks passed, 1 a check failed or a file is unreadable, 2 usage error\n");
}

int qk_cmd_verify(int argc, char **argv) {
    const char *files[256];
    int n_files = 0;
    const char *write_m = NULL, *check_m = NULL, *against = NULL, *sha_hex = NULL;
    unsigned char sha_want[32];
    qk_manifest_format fmt = QK_MANIFEST_SHA256SUMS;
    bool json = false;
    qk_verify_opts o = {0};
    enum { O_HELP = 1, O_JSON, O_WRITE_M, O_AGAINST, O_MANIFEST, O_SHA256, O_FORMAT, O_THREADS };
    static const qk_opt opts[] = {
        {"help", 'h', false, O_HELP}, {"json", 0, false, O_JSON}, {"write-manifest", 'o', true, O_WRITE_M},
        {"against", 0, true, O_AGAINST}, {"manifest", 0, true, O_MANIFEST}, {"sha256", 0, true, O_SHA256},
        {"format", 0, true, O_FORMAT}, {"threads", 't', true, O_THREADS},
    };
    qk_args args;
    qk_args_init(&args, CMD, opts, sizeof opts / sizeof opts[0], argc, argv);
    const char *v;
    for (int id; (id = qk_args_next(&args, &v)) != QK_ARGS_END;) {
        switch (id) {
        case QK_ARGS_ERR: return QK_EXIT_USAGE;
        case QK_ARGS_POS:
            if (n_files == 256) return qk_cli_usage(CMD, "too many files at '%s' (at most 256 in one run)", v);
            files[n_files++] = v;
            break;
        case O_HELP: help(); return 0;
        case O_JSON: json = true; break;
        case O_WRITE_M: write_m = v; break;
        case O_AGAINST: against = v; break;
        case O_MANIFEST: check_m = v; break;
        case O_SHA256:
            sha_hex = v;
            if (!qk_sha256_parse(sha_hex, sha_want)) return qk_cli_usage(CMD, "--sha256 takes 64 hex digits, got '%s'", v);
            break;
        case O_FORMAT:
            if (!strcmp(v, "sha256") || !strcmp(v, "sha256sum")) fmt = QK_MANIFEST_SHA256SUMS;
            else if (!strcmp(v, "gguf-hash") || !strcmp(v, "quantkit")) fmt = QK_MANIFEST_GGUF_HASH;
            else return qk_cli_usage(CMD, "--format is sha256 or gguf-hash, not '%s'", v);
            break;
        case O_THREADS:
            if (!qk_cli_int(v, &o.n_threads)) return qk_cli_usage(CMD, "--threads takes a number, got '%s'", v);
            break;
        default: break;
        }
    }
    if (!n_files && !check_m) return qk_cli_usage(CMD, "no FILE given");
    if (!n_files && write_m) return qk_cli_usage(CMD, "--write-manifest needs the files to list");
    if (sha_hex && n_files != 1) return qk_cli_usage(CMD, "--sha256 checks one FILE");
    qk_err err;
    if (write_m) {
        char **list;
        size_t n_list;
        if (qk_manifest_expand(files, (size_t)n_files, &list, &n_list, &err)) return qk_cli_fail(CMD, &err);
        int rc = qk_manifest_check_target(write_m, (const char *const *)list, n_list, &err);
        const char *fin[256];
        for (int i = 0; i < n_files; i++) fin[i] = files[i];
        if (rc == QK_OK) rc = qk_manifest_check_target(write_m, fin, (size_t)n_files, &err);
        char *text = NULL;
        size_t len = 0;
        if (rc == QK_OK) {
            qk_progress *pg = cli_progress_new("hashing", 0);
            rc = qk_manifest_build((const char *const *)list, n_list, fmt, o.n_threads, pg, &text, &len, &err);
            cli_progress_done(pg);
        }
        qk_afile *out = NULL;
        if (rc == QK_OK) rc = qk_afile_open(&out, write_m, &err);
        if (rc == QK_OK) rc = qk_afile_write(out, text, len, &err);
        if (rc == QK_OK) rc = qk_afile_commit(out, &err);
        else qk_afile_abort(out);
        free(text);
        qk_manifest_expand_free(list, n_list);
        if (rc) return qk_cli_fail(CMD, &err);
        if (!json && !cli_quiet())
            fprintf(stderr, "quantkit verify: wrote %s (%s) for %zu file%s\n", write_m,
                    fmt == QK_MANIFEST_SHA256SUMS ? "sha256sum format" : "gguf-hash format", n_list, n_list == 1 ? "" : "s");
    }
    int mfailed = 0;
    cJSON *mjson = NULL, *shajson = NULL;
    if (check_m) {
        qk_manifest_result mr;
        qk_progress *pg = cli_progress_new("checking", 0);
        const int rc = qk_manifest_check(check_m, files, (size_t)n_files, o.n_threads, pg, &mr, &err);
        cli_progress_done(pg);
        if (rc) return qk_cli_fail(CMD, &err);
        mfailed = mr.n_failed + mr.n_missing + mr.n_unlisted > 0;
        if (json) mjson = cJSON_CreateArray();
        char why[4200];
        snprintf(why, sizeof why, "listed in %s, not found%s", check_m, n_files ? " among the files given" : " beside it");
        print_entries(&mr, mjson, why, check_m);
        if (!json) {
            printf("%s: %zu OK, %zu FAILED, %zu MISSING%s\n", check_m, mr.n_ok, mr.n_failed, mr.n_missing,
                   mr.n_unlisted ? ", some files not listed" : "");
            if (mr.n_unknown)
                printf("note: %d manifest entr%s with algorithms quantkit does not compute (sha1/uuid) not checked\n",
                       mr.n_unknown, mr.n_unknown == 1 ? "y" : "ies");
        }
        qk_manifest_result_free(&mr);
    }
    if (sha_hex) {
        unsigned char d[32];
        char hx[65];
        struct stat sst;
        qk_progress *pg = cli_progress_new("hashing", stat(files[0], &sst) == 0 && sst.st_size > 0 ? (uint64_t)sst.st_size : 0);
        const int rc = qk_sha256_file(files[0], d, NULL, pg, &err);
        cli_progress_done(pg);
        if (rc) return qk_cli_fail(CMD, &err);
        qk_sha256_hex(d, hx);
        bool ok = !memcmp(d, sha_want, 32);
        if (!json) printf("%s: SHA-256 %s: %s\n", files[0], hx, ok ? "OK (matches)" : "FAILED (expected another)");
        if (!ok) mfailed = 1;
        if (json) {
            shajson = cJSON_CreateObject();
            cJSON_AddStringToObject(shajson, "path", files[0]);
            cJSON_AddStringToObject(shajson, "sha256", hx);
            cJSON_AddBoolToObject(shajson, "ok", ok);
        }
    }
    int failed = 0;
    cJSON *arr = json ? cJSON_CreateArray() : NULL, *downloads = NULL;
    for (int i = 0; i < n_files; i++) {
        struct stat dst;
        if (!check_m && !sha_hex && stat(files[i], &dst) == 0 && S_ISDIR(dst.st_mode)) {
            if (json && !downloads) downloads = cJSON_CreateArray();
            failed += verify_download(files[i], o.n_threads, downloads);
            continue;
        }
        /* a manifest or --sha256 covers any file; the GGUF checks need a GGUF */
        if ((check_m || sha_hex) && !is_gguf_path(files[i])) continue;
        qk_verify_report rep;
        o.progress = cli_progress_new("verifying", 0);
        qk_verify_gguf(files[i], &o, &rep);
        cli_progress_done(o.progress);
        o.progress = NULL;
        qk_compare_report cmp = {0};
        bool have_cmp = false;
        if (against) {
            qk_progress *pg = cli_progress_new("comparing", 0);
            const int rc = qk_compare(files[i], against, pg, &cmp, &err);
            cli_progress_done(pg);
            if (rc) qk_verify_problem(&rep, "--against: %s", err.msg);
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
                       "");
            else
                printf("%s: FAILED (%zu problem%s)\n", files[i], rep.n_problems, rep.n_problems == 1 ? "" : "s");
        }
        qk_compare_report_free(&cmp);
        qk_verify_report_free(&rep);
    }
    if (json && (mjson || sha_hex || downloads)) {
        /* with a manifest: {"files": [...], "manifest": [...]} */
        cJSON *top = cJSON_CreateObject();
        cJSON_AddItemToObject(top, "files", arr);
        if (mjson) cJSON_AddItemToObject(top, "manifest", mjson);
        if (shajson) cJSON_AddItemToObject(top, "sha256", shajson);
        if (downloads) cJSON_AddItemToObject(top, "downloads", downloads);
        cJSON_AddBoolToObject(top, "ok", !failed && !mfailed);
        arr = top;
    }
    if (json) {
        char *s = cJSON_Print(arr);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(arr);
    }
    return failed || mfailed ? QK_EXIT_FAIL : QK_EXIT_OK;
}
