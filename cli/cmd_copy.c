/* cmd_copy.c - `quantkit copy MODEL... DEST`: put models on a stick and prove it
 * (the work is verify/copy.c; this prints it). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_util.h"
#include "copy.h"
#include "progress_tty.h"

static const char *CMD = "copy";

static void help(void) {
    printf("usage: quantkit copy [--json] MODEL... DEST\n"
           "\n"
           "Copies GGUF files into the folder DEST (a USB stick) and proves the copy: a shard brings its\n"
           "whole split set, a manifest (SHA256SUMS) brings every file it lists. Before writing, the free\n"
           "space is checked. On a FAT file system (found by the mount's type, FUSE mounts included) a file\n"
           "above 4 GiB - 1 is written as a split set below it, which llama.cpp loads directly. Each file\n"
           "goes to a temporary, is fsync'd and renamed; then its pages are dropped from the cache and\n"
           "every byte is read back from the device and compared with the source (a split shard with the\n"
           "hashes embedded from the source), so a failing or fake-capacity stick is caught now. A file\n"
           "that does not read back equal is removed and reported FAILED. The source is checked against a\n"
           "SHA256SUMS beside it when there is one.\n"
           "The LICENSE*, README*, USE_POLICY* and NOTICE* files beside the model, or beside the Hugging\n"
           "Face folder it was converted from, are copied too; a model that looks like Meta Llama (whose\n"
           "license must travel with it) without a license gets a warning.\n"
           "DEST/SHA256SUMS lists everything copied (`sha256sum -c SHA256SUMS` in DEST checks it, as does\n"
           "`quantkit verify --manifest DEST/SHA256SUMS`). Running it again skips files already on DEST\n"
           "that read back equal to their source.\n"
           "\n"
           "options:\n"
           "  --json        machine-readable report on stdout\n"
           "  -h, --help    this text\n"
           "exit codes: 0 everything copied and read back equal, 1 a file failed (or bad input), 2 usage error\n");
}

static const char *status_name(qk_copy_status s) {
    switch (s) {
    case QK_COPY_COPIED: return "copied";
    case QK_COPY_SPLIT: return "split";
    case QK_COPY_SKIPPED: return "skipped";
    default: return "failed";
    }
}

static void print_json(const char *dest, const qk_copy_report *rep) {
    cJSON *top = cJSON_CreateObject();
    cJSON_AddStringToObject(top, "dest", dest);
    cJSON_AddStringToObject(top, "fs_type", rep->fs_type);
    cJSON_AddBoolToObject(top, "fat", rep->fat);
    if (rep->max_file != UINT64_MAX) cJSON_AddNumberToObject(top, "max_file", (double)rep->max_file);
    else cJSON_AddNullToObject(top, "max_file");
    if (rep->manifest) cJSON_AddStringToObject(top, "manifest", rep->manifest);
    else cJSON_AddNullToObject(top, "manifest");
    cJSON *files = cJSON_AddArrayToObject(top, "files");
    for (size_t i = 0; i < rep->n; i++) {
        const qk_copy_file *f = &rep->files[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source", f->source);
        cJSON_AddStringToObject(o, "dest", f->dest);
        cJSON_AddStringToObject(o, "status", status_name(f->status));
        cJSON_AddBoolToObject(o, "extra", f->extra);
        cJSON_AddNumberToObject(o, "bytes", (double)f->bytes);
        cJSON_AddStringToObject(o, "sha256", f->sha256);
        if (f->problem) cJSON_AddStringToObject(o, "problem", f->problem);
        cJSON_AddItemToArray(files, o);
    }
    cJSON *w = cJSON_AddArrayToObject(top, "warnings");
    for (size_t i = 0; i < rep->n_warnings; i++) cJSON_AddItemToArray(w, cJSON_CreateString(rep->warnings[i]));
    cJSON_AddNumberToObject(top, "bytes_written", (double)rep->bytes_written);
    cJSON_AddNumberToObject(top, "bytes_read_back", (double)rep->bytes_read_back);
    cJSON_AddBoolToObject(top, "ok", rep->n_failed == 0);
    char *s = cJSON_Print(top);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(top);
}

static void print_text(const char *dest, const qk_copy_report *rep) {
    if (rep->fat && !cli_quiet())
        fprintf(stderr, "quantkit copy: %s is a FAT file system (%s): files above %llu bytes are split\n", dest,
                rep->fs_type, (unsigned long long)rep->max_file);
    size_t n[4] = {0};
    for (size_t i = 0; i < rep->n; i++) {
        const qk_copy_file *f = &rep->files[i];
        n[f->status]++;
        switch (f->status) {
        case QK_COPY_COPIED: printf("%s: OK (copied from %s, read back equal)\n", f->dest, f->source); break;
        case QK_COPY_SPLIT: printf("%s: OK (a shard of %s, read back matching its hashes)\n", f->dest, f->source); break;
        case QK_COPY_SKIPPED: printf("%s: OK (already there, read back equal to %s; skipped)\n", f->dest, f->source); break;
        default: printf("%s: FAILED (%s)\n", f->dest, f->problem ? f->problem : "?"); break;
        }
    }
    for (size_t i = 0; i < rep->n_warnings; i++) fprintf(stderr, "quantkit copy: warning: %s\n", rep->warnings[i]);
    if (rep->manifest)
        printf("%s: lists the files (check with `sha256sum -c SHA256SUMS` in %s)\n", rep->manifest, dest);
    printf("%s: %zu copied, %zu split shards, %zu skipped (already there), %zu FAILED\n", dest, n[QK_COPY_COPIED],
           n[QK_COPY_SPLIT], n[QK_COPY_SKIPPED], n[QK_COPY_FAILED]);
}

int qk_cmd_copy(int argc, char **argv) {
    bool json = false;
    enum { O_HELP = 1, O_JSON };
    static const qk_opt opts[] = {{"help", 'h', false, O_HELP}, {"json", 0, false, O_JSON}};
    qk_args a;
    qk_args_init(&a, CMD, opts, sizeof opts / sizeof opts[0], argc, argv);
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    size_t n_pos = 0;
    if (!pos) return QK_EXIT_FAIL;
    const char *v;
    for (int id; (id = qk_args_next(&a, &v)) != QK_ARGS_END;) {
        switch (id) {
        case QK_ARGS_ERR: free(pos); return QK_EXIT_USAGE;
        case QK_ARGS_POS: pos[n_pos++] = v; break;
        case O_HELP: free(pos); help(); return QK_EXIT_OK;
        case O_JSON: json = true; break;
        default: break;
        }
    }
    if (n_pos < 2) {
        free(pos);
        return qk_cli_usage(CMD, n_pos ? "needs a destination folder after the models" : "needs MODEL... and DEST");
    }
    const char *dest = pos[n_pos - 1];
    qk_err err;
    qk_copy_plan *plan;
    uint64_t total = 0;
    if (qk_copy_plan_make(pos, n_pos - 1, dest, &plan, &total, &err)) {
        free(pos);
        return qk_cli_fail(CMD, &err);
    }
    free(pos);
    qk_copy_opts o = {.progress = cli_progress_new("copying", total)};
    qk_copy_report rep;
    int rc = qk_copy_run(plan, &o, &rep, &err);
    cli_progress_done(o.progress);
    qk_copy_plan_free(plan);
    if (json) print_json(dest, &rep);
    else print_text(dest, &rep);
    int code = rep.n_failed ? QK_EXIT_FAIL : QK_EXIT_OK;
    qk_copy_report_free(&rep);
    if (rc) return qk_cli_fail(CMD, &err);
    return code;
}
