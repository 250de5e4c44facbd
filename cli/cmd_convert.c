/* cmd_convert.c - `quantkit convert`: a Hugging Face folder to GGUF. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arch.h"
#include "args.h"
#include "ftypes.h"
#include "atomic_file.h"
#include "cli_util.h"
#include "convert_model.h"
#include "imatrix_file.h"
#include "plan_report.h"
#include "progress_tty.h"
#include "ggml_types.h"
#include "sizes.h"
#include "split.h"

static const char *CMD = "convert";

/* The report's tensors as plan rows (malloc'd; NULL when out of memory). */
static qk_plan_row *plan_rows(const qk_convert_report *r) {
    qk_plan_row *rows = calloc(r->n_tensor_reports ? r->n_tensor_reports : 1, sizeof *rows);
    for (size_t i = 0; rows && i < r->n_tensor_reports; i++) {
        const qk_convert_tensor_report *t = &r->tensors[i];
        rows[i] = (qk_plan_row){t->name, t->ne, -1, t->out_type, t->wanted_type, t->fallback, t->bytes};
    }
    return rows;
}

static void help(void) {
    printf("usage: quantkit convert MODEL_DIR [-o OUT.gguf] [--type TYPE] [options]\n"
           "\n"
           "Converts a Hugging Face model folder (config.json, model.safetensors or shards with\n"
           "model.safetensors.index.json, tokenizer.model and/or tokenizer.json, tokenizer_config.json)\n"
           "to a GGUF file llama.cpp runs, in one pass, with no intermediate file.\n"
           "\n"
           "options:\n"
           "  -o, --output OUT         output file (default: <Name>-<Size>-<Type>.gguf in the current folder)\n"
           "  --type TYPE              auto (BF16 if the weights are BF16, else F16), f32, f16, bf16, or any\n"
           "                           `quantkit quantize` type: q8_0, q4_k_m, q6_k, iq4_xs ...\n"
           "  --imatrix FILE           importance matrix for quantized types\n"
           "  --tensor-type PATTERN=T  per-tensor type override (repeatable, first match wins)\n"
           "  --output-tensor-type T   type for output.weight\n"
           "  --pre-tokenizer NAME     use llama.cpp's pre-tokenizer NAME instead of detecting it\n"
           "  -t, --threads N          worker threads (default: all cores); output identical for any N\n"
           "  --dry-run                check everything and print the plan and exact size; write nothing\n"
           "  --max-size SIZE          with a quantized --type omitted: pick the best mix that fits SIZE\n"
           "  --split-max-size SIZE    write shards of at most SIZE of tensor data (gguf-split layout);\n"
           "                           on a FAT32 destination shards are made below 4 GiB automatically\n"
           "  --allow-nonfinite        write NaN/Inf source weights as they are (default: an error naming\n"
           "                           the tensor and the first bad element)\n"
           "  --json                   machine-readable report on stdout\n"
           "Options take their value as --opt VALUE or --opt=VALUE.\n"
           "exit codes: 0 ok, 1 failed (bad input, I/O), 2 usage error\n"
           "\n"
           "supported architectures (config.json architectures[0] -> GGUF architecture):\n");
    int w_hf = 0, w_gguf = 0; /* columns as wide as the longest names */
    for (size_t i = 0; i < qk_arch_count(); i++) {
        qk_arch_info a;
        if (!qk_arch_info_at(i, &a)) continue;
        if ((int)strlen(a.hf_arch) > w_hf) w_hf = (int)strlen(a.hf_arch);
        if ((int)strlen(a.gguf_arch) > w_gguf) w_gguf = (int)strlen(a.gguf_arch);
    }
    for (size_t i = 0; i < qk_arch_count(); i++) {
        qk_arch_info a;
        if (qk_arch_info_at(i, &a))
            printf("  %-*s -> %-*s  %s%s%s%s\n", w_hf, a.hf_arch, w_gguf, a.gguf_arch, a.family,
                   a.text_model_type ? " [text model_type " : "", a.text_model_type ? a.text_model_type : "",
                   a.text_model_type ? "]" : "");
    }
}

int qk_cmd_convert(int argc, char **argv) {
    qk_convert_opts o = {.type = "auto", .output_tensor_type = QK_MIX_TYPE_UNSET};
    const char *dir = NULL, *out = NULL, *imatrix_path = NULL, *max_size_s = NULL, *split_s = NULL;
    bool json = false;
    qk_mix_override tt[64];
    char *tt_pat[64];
    size_t n_tt = 0;
    qk_imatrix im = {0};
    bool have_im = false;
    int exit_code = 0;
    qk_err err = {{0}};
    char cmdline[2048];
    qk_cli_command_line(cmdline, sizeof cmdline, "convert", argc, argv);
#define USAGE(...) do { exit_code = qk_cli_usage(CMD, __VA_ARGS__); goto done; } while (0)
    enum { O_HELP = 1, O_OUT, O_TYPE, O_IMATRIX, O_PRETOK, O_MAX_SIZE, O_SPLIT_MAX, O_DRY, O_JSON, O_THREADS,
           O_OUT_TYPE, O_TENSOR_TYPE, O_NONFINITE };
    static const qk_opt opts[] = {
        {"help", 'h', false, O_HELP}, {"output", 'o', true, O_OUT}, {"outfile", 0, true, O_OUT},
        {"type", 0, true, O_TYPE}, {"outtype", 0, true, O_TYPE}, {"imatrix", 0, true, O_IMATRIX},
        {"pre-tokenizer", 0, true, O_PRETOK}, {"max-size", 0, true, O_MAX_SIZE},
        {"split-max-size", 0, true, O_SPLIT_MAX}, {"dry-run", 0, false, O_DRY}, {"json", 0, false, O_JSON},
        {"threads", 't', true, O_THREADS}, {"output-tensor-type", 0, true, O_OUT_TYPE},
        {"tensor-type", 0, true, O_TENSOR_TYPE}, {"allow-nonfinite", 0, false, O_NONFINITE},
    };
    qk_args args;
    qk_args_init(&args, CMD, opts, sizeof opts / sizeof opts[0], argc, argv);
    const char *v;
    for (int id; (id = qk_args_next(&args, &v)) != QK_ARGS_END;) {
        switch (id) {
        case QK_ARGS_ERR: exit_code = QK_EXIT_USAGE; goto done;
        case QK_ARGS_POS:
            if (dir) USAGE("unexpected argument '%s' (usage: convert MODEL_DIR [-o OUT.gguf] [--type TYPE])", v);
            dir = v;
            break;
        case O_HELP: help(); goto done;
        case O_OUT: out = v; break;
        case O_TYPE:
            if (strcasecmp(v, "auto") && !qk_ftype_lookup(v)) {
                const char *sug = qk_suggest_ftype(v);
                if (sug) USAGE("--type: '%s' is not a type (did you mean %s? `quantkit types` lists them)", v, sug);
                USAGE("--type: '%s' is not a type (auto, or one of `quantkit types`)", v);
            }
            o.type = v;
            break;
        case O_IMATRIX: imatrix_path = v; break;
        case O_PRETOK: o.pre_tokenizer = v; break;
        case O_MAX_SIZE: max_size_s = v; break;
        case O_SPLIT_MAX: split_s = v; break;
        case O_DRY: o.dry_run = true; break;
        case O_NONFINITE: o.allow_nonfinite = true; break;
        case O_JSON: json = true; break;
        case O_THREADS:
            if (!qk_cli_int(v, &o.n_threads)) USAGE("--threads takes a number, got '%s'", v);
            break;
        case O_OUT_TYPE:
            if ((o.output_tensor_type = qk_type_from_name(v)) < 0) USAGE("unknown tensor type '%s'", v);
            break;
        case O_TENSOR_TYPE: {
            if (n_tt == 64) USAGE("too many --tensor-type options");
            int t;
            if (qk_mix_parse_tensor_type(v, &tt_pat[n_tt], &t, &err)) USAGE("%s", err.msg);
            tt[n_tt].pattern = tt_pat[n_tt], tt[n_tt].type = t;
            n_tt++;
            break;
        }
        default: break;
        }
    }
    if (!dir) USAGE("missing MODEL_DIR");
    o.overrides = tt;
    o.n_overrides = n_tt;
    o.command_line = cmdline;
    if (imatrix_path) {
        if (qk_imatrix_load(imatrix_path, &im, &err) || qk_imatrix_check_finite(&im, &err)) {
            exit_code = qk_cli_fail(CMD, &err);
            goto done;
        }
        have_im = true;
        o.imatrix = &im;
    }
    if (max_size_s) {
        uint64_t limit;
        if (!qk_parse_size(max_size_s, &limit)) USAGE("--max-size: cannot read '%s'", max_size_s);
        static const char *ladder[] = {"BF16", "F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M",
                                       "Q4_K_S", "IQ4_XS", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K"};
        const char *chosen = NULL;
        char sizes[1024] = "";
        /* an explicit --type is kept: --max-size then only checks that it fits */
        const bool explicit_type = strcasecmp(o.type, "auto") != 0;
        const size_t n_ladder = explicit_type ? 1 : sizeof ladder / sizeof ladder[0];
        for (size_t k = 0; k < n_ladder && !chosen; k++) {
            qk_convert_opts d = o;
            d.type = explicit_type ? o.type : ladder[k];
            d.dry_run = true;
            d.report_tensors = true; /* the experts' share, for a MoE model */
            qk_convert_report r;
            qk_err e2;
            if (qk_convert_model(dir, NULL, &d, &r, &e2)) {
                if (explicit_type) {
                    exit_code = qk_cli_fail(CMD, &e2);
                    goto done;
                }
                continue;
            }
            qk_plan_row *rows = plan_rows(&r);
            qk_cli_size_candidate(sizes, sizeof sizes, r.type_name, r.file_size, rows, rows ? r.n_tensor_reports : 0);
            free(rows);
            if (r.file_size <= limit) chosen = explicit_type ? o.type : ladder[k];
            qk_convert_report_free(&r);
        }
        if (!chosen && explicit_type) {
            exit_code = qk_cli_failf(CMD, "the %s output does not fit --max-size %s (%s); omit --type to pick the best "
                                          "type that fits", o.type, max_size_s, sizes);
            goto done;
        }
        if (!chosen) {
            exit_code = qk_cli_failf(CMD, "no type fits %s: %s", max_size_s, sizes);
            goto done;
        }
        if (cli_quiet()) {
        } else if (!json && explicit_type)
            fprintf(stderr, "quantkit convert: the %s output fits %s (%s)\n", chosen, max_size_s, sizes);
        else if (!json)
            fprintf(stderr, "quantkit convert: %s is the highest-quality type that fits %s (%s)\n", chosen,
                    max_size_s, sizes);
        o.type = chosen;
    }
    uint64_t split_bytes = 0;
    if (split_s && (!qk_parse_size(split_s, &split_bytes) || !split_bytes)) USAGE("--split-max-size: cannot read '%s'", split_s);
    /* size and name the output first (a dry run is cheap: no tensor data is read) */
    qk_convert_opts d = o;
    d.dry_run = true;
    qk_convert_report rep;
    if (qk_convert_model(dir, out, &d, &rep, &err)) {
        exit_code = qk_cli_fail(CMD, &err);
        goto done;
    }
    const char *dest = out ? out : rep.default_name;
    char dest_buf[256];
    snprintf(dest_buf, sizeof dest_buf, "%s", dest);
    dest = dest_buf;
    if (!o.dry_run && !split_bytes && qk_dest_is_fat(dest) && rep.file_size > QK_FAT32_MAX_FILE) {
        split_bytes = QK_FAT32_SPLIT_BYTES;
        fprintf(stderr, "quantkit convert: %s is on FAT32 and the output would be %llu bytes; writing shards below 4 GiB\n",
                dest, (unsigned long long)rep.file_size);
    }
    char staging[4200];
    qk_split_staging_path(staging, sizeof staging, dest);
    if (!o.dry_run && qk_afile_check_space(dest, split_bytes ? 2 * rep.file_size : rep.file_size, &err) != QK_OK) {
        exit_code = qk_cli_fail(CMD, &err);
        goto done;
    }
    if (!o.dry_run) o.progress = cli_progress_new("converting", rep.file_size);
    o.report_tensors = true; /* the plan, and the fallbacks to report */
    int rc = qk_convert_model(dir, split_bytes && !o.dry_run ? staging : dest, &o, &rep, &err);
    cli_progress_done(o.progress);
    if (rc == QK_OK && split_bytes && !o.dry_run) {
        uint32_t n;
        rc = qk_split_finish(staging, dest, split_bytes, cmdline, &n, &err);
        if (rc == QK_OK && !json && !cli_quiet()) fprintf(stderr, "quantkit convert: wrote %u shard%s\n", n, n == 1 ? "" : "s");
    }
    if (rc) {
        exit_code = qk_cli_fail(CMD, &err);
        goto done;
    }
    char sz[32];
    qk_format_size(sz, sizeof sz, rep.file_size);
    qk_plan_row *rows = plan_rows(&rep);
    if (!json && rows) {
        if (o.dry_run) qk_cli_plan_table(rows, rep.n_tensor_reports);
        qk_cli_fallback_lines(CMD, rows, rep.n_tensor_reports, rep.type_name);
    }
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "input", dir);
        cJSON_AddStringToObject(j, "output", dest);
        cJSON_AddStringToObject(j, "type", rep.type_name);
        cJSON_AddBoolToObject(j, "dry_run", o.dry_run);
        cJSON_AddNumberToObject(j, "file_size", (double)rep.file_size);
        cJSON_AddNumberToObject(j, "parameters", (double)rep.n_params);
        cJSON_AddNumberToObject(j, "n_tensors", (double)rep.n_tensors);
        cJSON_AddNumberToObject(j, "seconds", rep.seconds);
        if (rep.hf_arch) cJSON_AddStringToObject(j, "hf_architecture", rep.hf_arch);
        if (rep.weights[0]) cJSON_AddStringToObject(j, "weights", rep.weights);
        if (rep.tokenizer[0]) cJSON_AddStringToObject(j, "tokenizer", rep.tokenizer);
        if (rep.gguf_arch) cJSON_AddStringToObject(j, "architecture", rep.gguf_arch);
        cJSON_AddNumberToObject(j, "fallbacks", rep.n_fallback);
        if (rows) qk_cli_expert_json(j, rows, rep.n_tensor_reports);
        cJSON *warn = cJSON_AddArrayToObject(j, "warnings");
        if (rows) {
            char summary[512];
            qk_cli_fallback_summary(summary, sizeof summary, rows, rep.n_tensor_reports, rep.type_name);
            if (summary[0]) cJSON_AddItemToArray(warn, cJSON_CreateString(summary));
        }
        if (rep.caveat) cJSON_AddItemToArray(warn, cJSON_CreateString(rep.caveat));
        cJSON *ta = cJSON_AddArrayToObject(j, "tensors");
        for (size_t i = 0; rows && i < rep.n_tensor_reports; i++) {
            const qk_convert_tensor_report *t = &rep.tensors[i];
            cJSON *to = cJSON_CreateObject();
            cJSON_AddStringToObject(to, "name", t->name);
            cJSON *ne = cJSON_AddArrayToObject(to, "ne");
            for (int d = 0; d < 4; d++) cJSON_AddItemToArray(ne, cJSON_CreateNumber((double)t->ne[d]));
            cJSON_AddStringToObject(to, "to", qk_type_get((uint32_t)t->out_type)->name);
            cJSON_AddNumberToObject(to, "bytes", (double)t->bytes);
            qk_cli_fallback_json(to, &rows[i]);
            cJSON_AddItemToArray(ta, to);
        }
        cJSON *lo = cJSON_AddArrayToObject(j, "left_out");
        for (int i = 0; i < rep.n_left_out; i++) {
            cJSON *g = cJSON_CreateObject();
            cJSON_AddStringToObject(g, "prefix", rep.left_out[i].prefix);
            cJSON_AddNumberToObject(g, "tensors", rep.left_out[i].n_tensors);
            cJSON_AddNumberToObject(g, "bytes", (double)rep.left_out[i].n_bytes);
            cJSON_AddItemToArray(lo, g);
        }
        char *s = cJSON_Print(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("%s: %s, %zu tensors, %llu parameters, %s%s in %.1f s\n", dest, rep.type_name, rep.n_tensors,
               (unsigned long long)rep.n_params, sz, o.dry_run ? " (dry run: nothing written)" : "", rep.seconds);
        if (strchr(rep.weights, '(')) printf("  weights: %s\n", rep.weights); /* PyTorch read, or safetensors preferred */
        if (rep.tokenizer[0]) printf("  tokenizer: %s\n", rep.tokenizer); /* Meta's Llama 3 rank file */
        if (rep.caveat) printf("  note: %s\n", rep.caveat);
        for (int i = 0; i < rep.n_left_out; i++) {
            char lsz[32];
            qk_format_size(lsz, sizeof lsz, rep.left_out[i].n_bytes);
            printf("  left out: %s* (%u tensors, %s)%s\n", rep.left_out[i].prefix, rep.left_out[i].n_tensors, lsz,
                   i + 1 < rep.n_left_out ? "" : " - the text model only; llama.cpp runs vision/audio from a separate "
                                                 "projector (mmproj) file");
        }
    }
    free(rows);
    qk_convert_report_free(&rep);
done:
    for (size_t i = 0; i < n_tt; i++) free(tt_pat[i]);
    if (have_im) qk_imatrix_free(&im);
    return exit_code;
#undef USAGE
}
