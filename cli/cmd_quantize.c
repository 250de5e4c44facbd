/* cmd_quantize.c - `quantkit quantize`: the CLI over quantize_model. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include "args.h"
#include "atomic_file.h"
#include "cli_util.h"
#include "gguf_set.h"
#include "ftypes.h"
#include "imatrix_file.h"
#include "plan_report.h"
#include "naming.h"
#include "progress_tty.h"
#include "types_table.h"
#include "ggml_types.h"
#include "quantize_model.h"
#include "sizes.h"
#include "split.h"

static const char *CMD = "quantize";

static void help(void) {
    printf(
        "usage: quantkit quantize [options] IN.gguf [OUT.gguf] TYPE [THREADS]\n"
        "       quantkit quantize [options] IN.gguf -o OUT.gguf TYPE\n"
        "\n"
        "Quantizes a GGUF model (F32/F16/BF16, or quantized with --allow-requantize) to TYPE,\n"
        "writing the same tensors llama-quantize writes, in one streaming pass.\n"
        "TYPE is a llama-quantize name (case-insensitive) or ftype number, e.g. Q4_K_M, Q8_0, Q5_K_S.\n"
        "Without OUT the file is written next to IN as <name>-<TYPE>.gguf.\n"
        "\n"
        "options:\n"
        "  -o, --output OUT            output file (instead of the positional OUT)\n"
        "  --type TYPE                 TYPE as an option (as convert takes it) instead of a positional\n"
        "  -t, --threads N             worker threads (default: all cores); output is identical for any N\n"
        "  --pure                      no mixture rules: every quantizable tensor gets TYPE\n"
        "  --leave-output-tensor       keep output.weight as it is\n"
        "  --output-tensor-type T      type for output.weight (ggml name, e.g. q8_0)\n"
        "  --token-embedding-type T    type for token_embd.weight\n"
        "  --tensor-type PATTERN=T     type for tensors matching the regex (repeatable, first match wins)\n"
        "  --tensor-type-file FILE     PATTERN=T entries read from FILE, separated by spaces or newlines\n"
        "  --prune-layers L0,L1,...    drop these layers (the others are renumbered, block_count updated)\n"
        "  --imatrix FILE              importance matrix (llama-imatrix .dat or GGUF)\n"
        "  --include-weights NAME      use the imatrix only for tensors containing NAME (repeatable)\n"
        "  --exclude-weights NAME      do not use the imatrix for tensors containing NAME (repeatable)\n"
        "  --allow-requantize          accept already-quantized input (it is dequantized first)\n"
        "  --override-kv KEY=TYPE:VAL  set a metadata value (TYPE int, float, bool or str)\n"
        "  --dry-run                   print the per-tensor plan and the exact output size; write nothing\n"
        "  --max-buffer-size MiB       float32 rows of one tensor held at once (default 32; at least one\n"
        "                              row per thread), as llama-quantize's; the output does not change\n"
        "  --max-size SIZE             pick the highest-quality standard mix whose output fits SIZE\n"
        "                              (e.g. 4.5G, 3800M, 4GiB); TYPE may then be omitted. With a\n"
        "                              TYPE it only checks that the output fits (else fails)\n"
        "  --split-max-size SIZE       write shards of at most SIZE of tensor data (gguf-split layout);\n"
        "                              on a FAT32 destination shards are made below 4 GiB automatically\n"
        "  --keep-split                a split input gives one output shard per input shard, as\n"
        "                              llama-quantize --keep-split: <OUT without .gguf>-0000k-of-0000N.gguf\n"
        "                              (also for a single-file input: -00001-of-00001); tensors are taken\n"
        "                              shard by shard, which can change the mixture's choices. Without it\n"
        "                              a split input is merged into one OUT\n"
        "  --ignore-integrity          write even when the input's embedded hashes do not match (by\n"
        "                              default they are checked as the input is read, and a damaged\n"
        "                              input fails with nothing written)\n"
        "  --json                      machine-readable report on stdout\n"
        "  -h, --help                  this text\n"
        "\n"
        "Options take their value as --opt VALUE or --opt=VALUE.\n"
        "exit codes: 0 ok, 1 failed (bad input, I/O), 2 usage error\n"
        "\n"
        "types (also `quantkit types`):\n");
    qk_cli_print_types(stdout);
}

/* Candidate mixes for --max-size, best quality first. */
static const char *k_size_ladder[] = {"Q8_0",   "Q6_K",   "Q5_K_M", "Q5_K_S",  "Q4_K_M", "Q4_K_S",
                                      "IQ4_XS", "Q3_K_L", "Q3_K_M", "IQ3_M",   "IQ3_S",  "Q3_K_S",
                                      "IQ3_XS", "IQ3_XXS", "Q2_K",  "Q2_K_S",  "IQ2_M",  "IQ2_S",
                                      "IQ2_XS", "IQ2_XXS", "IQ1_M", "IQ1_S"};

static void default_out(char *buf, size_t n, const char *in, const char *ftype_name) {
    const char *slash = strrchr(in, '/');
    size_t dir_len = slash ? (size_t)(slash - in + 1) : 0;
    const char *base = slash ? slash + 1 : in;
    char stem[1024];
    snprintf(stem, sizeof stem, "%s", base);
    size_t l = strlen(stem);
    if (l > 5 && !strcasecmp(stem + l - 5, ".gguf")) stem[l -= 5] = '\0';
    /* drop a split suffix and a trailing precision tag: Llama-7B-F16 -> Llama-7B */
    unsigned s, c;
    char tail[16];
    if (l > 15 && sscanf(stem + l - 15, "-%5u-of-%5u%15s", &s, &c, tail) == 2) stem[l -= 15] = '\0';
    static const char *tags[] = {"-f32", "-f16", "-bf16", "-F32", "-F16", "-BF16"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        size_t tl = strlen(tags[i]);
        if (l > tl && !strcmp(stem + l - tl, tags[i])) {
            stem[l -= tl] = '\0';
            break;
        }
    }
    snprintf(buf, n, "%.*s%s-%s.gguf", (int)dir_len, in, stem, ftype_name);
}

/* The report's tensors as plan rows (malloc'd; NULL when out of memory). */
static qk_plan_row *plan_rows(const qk_quantize_report *r) {
    qk_plan_row *rows = calloc(r->n_tensors ? r->n_tensors : 1, sizeof *rows);
    for (size_t i = 0; rows && i < r->n_tensors; i++) {
        const qk_quantize_tensor_report *t = &r->tensors[i];
        rows[i] = (qk_plan_row){t->name, t->ne, t->in_type, t->out_type, t->wanted_type, t->fallback, t->bytes};
    }
    return rows;
}

static void print_plan(const qk_quantize_report *r, const char *ftype, bool dry) {
    qk_plan_row *rows = plan_rows(r);
    if (rows) qk_cli_plan_table(rows, r->n_tensors);
    free(rows);
    char sz[32];
    for (size_t i = 0; r->n_shards > 1 && i < r->n_shards; i++) {
        qk_format_size(sz, sizeof sz, r->shards[i].file_size);
        printf("shard %zu/%zu %s: %zu tensors, %s (%llu bytes)\n", i + 1, r->n_shards, r->shards[i].path,
               r->shards[i].n_tensors, sz, (unsigned long long)r->shards[i].file_size);
    }
    qk_format_size(sz, sizeof sz, r->file_size);
    printf("%s: %zu tensors, %s (%llu bytes), %.2f bits per weight%s\n", ftype, r->n_tensors, sz,
           (unsigned long long)r->file_size, r->n_elements ? 8.0 * (double)r->tensor_bytes / (double)r->n_elements : 0,
           dry ? " (dry run: nothing written)" : "");
}

static void print_json(const qk_quantize_report *r, const char *in, const char *out, const char *ftype, bool dry,
                       bool keep_split, const char *why) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "input", in);
    cJSON_AddStringToObject(j, "output", keep_split && r->n_shards ? r->shards[0].path : out);
    cJSON_AddStringToObject(j, "type", ftype);
    cJSON_AddBoolToObject(j, "dry_run", dry);
    if (why) cJSON_AddStringToObject(j, "chosen_because", why);
    cJSON_AddNumberToObject(j, "file_size", (double)r->file_size);
    cJSON_AddNumberToObject(j, "tensor_bytes", (double)r->tensor_bytes);
    cJSON_AddNumberToObject(j, "input_tensor_bytes", (double)r->in_tensor_bytes);
    cJSON_AddNumberToObject(j, "elements", (double)r->n_elements);
    cJSON_AddNumberToObject(j, "bits_per_weight",
                            r->n_elements ? 8.0 * (double)r->tensor_bytes / (double)r->n_elements : 0);
    cJSON_AddNumberToObject(j, "fallbacks", r->n_fallback);
    qk_plan_row *rows = plan_rows(r);
    cJSON *warn = cJSON_AddArrayToObject(j, "warnings");
    if (rows) {
        char summary[512];
        qk_cli_fallback_summary(summary, sizeof summary, rows, r->n_tensors, ftype);
        if (summary[0]) cJSON_AddItemToArray(warn, cJSON_CreateString(summary));
        qk_cli_expert_json(j, rows, r->n_tensors);
    }
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON *ph = cJSON_AddObjectToObject(j, "phases");
    cJSON_AddNumberToObject(ph, "plan", r->seconds_plan);
    cJSON_AddNumberToObject(ph, "tensors", r->seconds_tensors);
    cJSON_AddNumberToObject(ph, "commit", r->seconds_commit);
    cJSON_AddBoolToObject(j, "keep_split", keep_split);
    cJSON *sh = cJSON_AddArrayToObject(j, "shards");
    for (size_t i = 0; i < r->n_shards; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", r->shards[i].path);
        cJSON_AddNumberToObject(o, "tensors", (double)r->shards[i].n_tensors);
        cJSON_AddNumberToObject(o, "file_size", (double)r->shards[i].file_size);
        cJSON_AddItemToArray(sh, o);
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "tensors");
    for (size_t i = 0; i < r->n_tensors; i++) {
        const qk_quantize_tensor_report *t = &r->tensors[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON *ne = cJSON_AddArrayToObject(o, "ne");
        for (int d = 0; d < 4; d++) cJSON_AddItemToArray(ne, cJSON_CreateNumber((double)t->ne[d]));
        cJSON_AddStringToObject(o, "from", qk_type_get((uint32_t)t->in_type)->name);
        cJSON_AddStringToObject(o, "to", qk_type_get((uint32_t)t->out_type)->name);
        cJSON_AddNumberToObject(o, "bytes", (double)t->bytes);
        if (keep_split) cJSON_AddNumberToObject(o, "shard", t->shard);
        int64_t nel = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        cJSON_AddNumberToObject(o, "bits_per_weight", nel ? 8.0 * (double)t->bytes / (double)nel : 0);
        if (rows) qk_cli_fallback_json(o, &rows[i]);
        cJSON_AddItemToArray(arr, o);
    }
    free(rows);
    char *s = cJSON_Print(j);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
}

int qk_cmd_quantize(int argc, char **argv) {
    qk_quantize_opts o = {0};
    qk_mix_options_init(&o.mix);
    const char *pos[4], *v0;
    int npos = 0;
    const char *imatrix_path = NULL, *max_size_s = NULL, *split_s = NULL;
    bool json = false;
    const char *incl[64], *excl[64];
    size_t n_incl = 0, n_excl = 0;
    enum { MAX_TT = 4096 }; /* a --tensor-type-file may list every tensor */
    static qk_mix_override tt[MAX_TT];
    static char *tt_pat[MAX_TT];
    int32_t *prune = NULL;
    size_t n_prune = 0;
    size_t n_tt = 0;
    qk_kv_override kvo[64];
    size_t n_kvo = 0;
    int exit_code = QK_EXIT_OK;
    qk_err err = {{0}};
    qk_imatrix im = {0};
    bool have_im = false;

    char cmdline[2048];
    qk_cli_command_line(cmdline, sizeof cmdline, "quantize", argc, argv);

#define FAIL_USAGE(...) do { exit_code = qk_cli_usage(CMD, __VA_ARGS__); goto done; } while (0)
    enum { O_HELP = 1, O_PURE, O_LEAVE_OUT, O_REQUANT, O_DRY, O_JSON, O_THREADS, O_OUT_TYPE, O_EMB_TYPE,
           O_TENSOR_TYPE, O_IMATRIX, O_INCLUDE, O_EXCLUDE, O_KV, O_SPLIT_MAX, O_MAX_SIZE, O_KEEP_SPLIT, O_OUTPUT, O_TT_FILE, O_PRUNE,
           O_IGNORE_INTEGRITY, O_TYPE, O_MAX_BUF };
    static const qk_opt opts[] = {
        {"help", 'h', false, O_HELP}, {"pure", 0, false, O_PURE}, {"leave-output-tensor", 0, false, O_LEAVE_OUT},
        {"allow-requantize", 0, false, O_REQUANT}, {"dry-run", 0, false, O_DRY}, {"json", 0, false, O_JSON},
        {"threads", 't', true, O_THREADS}, {"output-tensor-type", 0, true, O_OUT_TYPE},
        {"token-embedding-type", 0, true, O_EMB_TYPE}, {"tensor-type", 0, true, O_TENSOR_TYPE},
        {"imatrix", 0, true, O_IMATRIX}, {"include-weights", 0, true, O_INCLUDE},
        {"exclude-weights", 0, true, O_EXCLUDE}, {"override-kv", 0, true, O_KV},
        {"split-max-size", 0, true, O_SPLIT_MAX}, {"max-size", 0, true, O_MAX_SIZE},
        {"keep-split", 0, false, O_KEEP_SPLIT}, {"output", 'o', true, O_OUTPUT},
        {"tensor-type-file", 0, true, O_TT_FILE}, {"prune-layers", 0, true, O_PRUNE},
        {"ignore-integrity", 0, false, O_IGNORE_INTEGRITY}, {"type", 0, true, O_TYPE},
        {"max-buffer-size", 0, true, O_MAX_BUF},
    };
    const char *out_opt = NULL, *type_opt = NULL;
    qk_args args;
    qk_args_init(&args, CMD, opts, sizeof opts / sizeof opts[0], argc, argv);
    for (int id; (id = qk_args_next(&args, &v0)) != QK_ARGS_END;) {
        const char *v = v0;
        switch (id) {
        case QK_ARGS_ERR: exit_code = QK_EXIT_USAGE; goto done;
        case QK_ARGS_POS:
            if (npos == 4) FAIL_USAGE("too many arguments: '%s' (usage: quantize IN [OUT] TYPE [THREADS])", v);
            pos[npos++] = v;
            break;
        case O_HELP: help(); goto done;
        case O_PURE: o.mix.pure = true; break;
        case O_LEAVE_OUT: o.mix.leave_output_tensor = true; break;
        case O_REQUANT: o.mix.allow_requantize = true; break;
        case O_DRY: o.dry_run = true; break;
        case O_JSON: json = true; break;
        case O_KEEP_SPLIT: o.keep_split = true; break;
        case O_IGNORE_INTEGRITY: o.ignore_integrity = true; break;
        case O_OUTPUT: out_opt = v; break;
        case O_TYPE: type_opt = v; break;
        case O_THREADS:
            if (!qk_cli_int(v, &o.n_threads)) FAIL_USAGE("--threads takes a number, got '%s'", v);
            break;
        case O_MAX_BUF: {
            int mib;
            if (!qk_cli_int(v, &mib) || mib <= 0 || mib > (1 << 20))
                FAIL_USAGE("--max-buffer-size takes a number of MiB from 1 to 1048576, got '%s'", v);
            o.max_buffer_bytes = (size_t)mib << 20;
            break;
        }
        case O_OUT_TYPE: case O_EMB_TYPE: {
            int t = qk_type_from_name(v);
            if (t < 0) FAIL_USAGE("unknown tensor type '%s' for %s", v, args.opt);
            if (id == O_OUT_TYPE) o.mix.output_tensor_type = t; else o.mix.token_embedding_type = t;
            break;
        }
        case O_TENSOR_TYPE: {
            if (n_tt == MAX_TT) FAIL_USAGE("too many --tensor-type options");
            int t;
            if (qk_mix_parse_tensor_type(v, &tt_pat[n_tt], &t, &err)) FAIL_USAGE("%s", err.msg);
            tt[n_tt].pattern = tt_pat[n_tt];
            tt[n_tt].type = t;
            n_tt++;
            break;
        }
        case O_TT_FILE: {
            static int tt_types[MAX_TT];
            size_t got = 0;
            int frc = qk_mix_read_tensor_type_file(v, tt_pat + n_tt, tt_types + n_tt, MAX_TT - n_tt, &got, &err);
            for (size_t k = n_tt; k < n_tt + got; k++) tt[k] = (qk_mix_override){tt_pat[k], tt_types[k]};
            n_tt += got;
            if (frc) FAIL_USAGE("%s", err.msg);
            break;
        }
        case O_PRUNE:
            free(prune);
            prune = NULL;
            if (qk_prune_layers_parse(v, &prune, &n_prune, &err)) FAIL_USAGE("%s", err.msg);
            break;
        case O_IMATRIX: imatrix_path = v; break;
        case O_INCLUDE: case O_EXCLUDE:
            if (n_incl == 64 || n_excl == 64) FAIL_USAGE("too many --include-weights/--exclude-weights options");
            if (id == O_INCLUDE) incl[n_incl++] = v; else excl[n_excl++] = v;
            break;
        case O_KV:
            if (n_kvo == 64) FAIL_USAGE("too many --override-kv options");
            if (qk_kv_override_parse(v, &kvo[n_kvo], &err)) FAIL_USAGE("%s", err.msg);
            n_kvo++;
            break;
        case O_SPLIT_MAX: split_s = v; break;
        case O_MAX_SIZE: max_size_s = v; break;
        default: break;
        }
    }
    if (o.keep_split && split_s) FAIL_USAGE("--keep-split and --split-max-size cannot be combined");
    if (n_incl && n_excl) FAIL_USAGE("--include-weights and --exclude-weights cannot be combined");
    if ((n_incl || n_excl) && !imatrix_path) FAIL_USAGE("--include-weights/--exclude-weights need --imatrix");

    /* positional: IN [OUT] TYPE [THREADS], read as llama-quantize reads them:
     * the argument after IN is TYPE if it parses as one, else it is OUT and
     * TYPE follows; a number may follow TYPE. With --max-size TYPE may be
     * absent; with -o there is no positional OUT. */
    const char *in = NULL, *out = out_opt, *type_s = NULL;
    const qk_ftype_info *fi = NULL;
    if (npos == 0) FAIL_USAGE("missing input file (usage: quantize IN [OUT] TYPE [THREADS])");
    if (type_opt) { /* --type T (as convert takes it): T goes where the positional TYPE would be */
        const char *np[4];
        int m = 0, j = 1;
        np[m++] = pos[0];
        if (!out_opt && j < npos) {
            if (qk_ftype_lookup(pos[j]))
                FAIL_USAGE("two types given, --type %s and '%s' (quantize IN [OUT] --type TYPE [THREADS])", type_opt, pos[j]);
            np[m++] = pos[j++];
        }
        np[m++] = type_opt;
        if (j < npos) np[m++] = pos[j++];
        if (j < npos) FAIL_USAGE("unexpected argument '%s' (quantize IN [OUT] --type TYPE [THREADS])", pos[j]);
        memcpy(pos, np, (size_t)m * sizeof *pos);
        npos = m;
    }
    in = pos[0];
    int k = 1;
    if (k < npos && !qk_ftype_lookup(pos[k])) {
        bool type_expected = !max_size_s || npos > 2 || out_opt;
        if (out_opt || (type_expected && npos == 2)) {
            /* this one must be TYPE */
            const char *sug = qk_suggest_ftype(pos[k]);
            if (sug) FAIL_USAGE("'%s' is not a quantization type (did you mean %s? `quantkit types` lists them)", pos[k], sug);
            FAIL_USAGE("'%s' is not a quantization type (`quantkit types` lists them)", pos[k]);
        }
        out = pos[k++];
    }
    if (k < npos) {
        if (!qk_ftype_lookup(pos[k])) {
            const char *sug = qk_suggest_ftype(pos[k]);
            if (sug) FAIL_USAGE("'%s' is not a quantization type (did you mean %s? `quantkit types` lists them)", pos[k], sug);
            FAIL_USAGE("'%s' is not a quantization type (`quantkit types` lists them)", pos[k]);
        }
        type_s = pos[k++];
    }
    if (k < npos) {
        if (qk_ftype_lookup(pos[k]) && !qk_cli_int(pos[k], &o.n_threads))
            FAIL_USAGE("two types given, '%s' and '%s': the output file comes before TYPE (quantize IN [OUT] TYPE [THREADS])",
                       type_s, pos[k]);
        if (!qk_cli_int(pos[k], &o.n_threads))
            FAIL_USAGE("'%s' after TYPE %s is not a thread count (quantize IN [OUT] TYPE [THREADS])", pos[k], type_s);
        k++;
    }
    if (k < npos) FAIL_USAGE("unexpected argument '%s' (quantize IN [OUT] TYPE [THREADS])", pos[k]);
    if (!type_s && !max_size_s) FAIL_USAGE("missing TYPE (or --max-size); `quantkit types` lists the types");
    {
        struct stat st;
        if (stat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
            exit_code = qk_cli_failf(CMD, "%s is a folder; quantize takes a GGUF file. To quantize a Hugging Face "
                                          "model folder, use `quantkit convert %s --type %s`", in, in,
                                     type_s ? type_s : "Q8_0");
            goto done;
        }
    }
    if (type_s && qk_ftype_parse(type_s, &fi, &err)) { exit_code = qk_cli_fail(CMD, &err); goto done; }

    if (imatrix_path) {
        if (qk_imatrix_load(imatrix_path, &im, &err) || qk_imatrix_filter(&im, incl, n_incl, excl, n_excl, &err) ||
            qk_imatrix_check_finite(&im, &err)) {
            exit_code = qk_cli_fail(CMD, &err);
            goto done;
        }
        have_im = true;
        o.imatrix = &im;
        o.imatrix_path = imatrix_path;
    }
    o.mix.overrides = tt;
    o.mix.n_overrides = n_tt;
    o.kv_overrides = kvo;
    o.n_kv_overrides = n_kvo;
    o.command_line = cmdline;
    o.prune_layers = prune;
    o.n_prune_layers = n_prune;

    const char *why = NULL;
    char why_buf[512];
    if (max_size_s) {
        uint64_t limit;
        if (!qk_parse_size(max_size_s, &limit)) FAIL_USAGE("--max-size: cannot read '%s' (e.g. 4.5G, 3800M, 4GiB)", max_size_s);
        const qk_ftype_info *best = NULL;
        char tried[1024] = "";
        /* an explicit TYPE is kept: --max-size then only checks that it fits */
        const size_t n_ladder = fi ? 1 : sizeof k_size_ladder / sizeof k_size_ladder[0];
        for (size_t k = 0; k < n_ladder; k++) {
            const qk_ftype_info *cand = fi ? fi : qk_ftype_lookup(k_size_ladder[k]);
            if (!cand || !qk_ftype_supported(cand)) continue;
            qk_quantize_opts d = o;
            d.dry_run = true;
            d.mix.ftype = cand->ftype;
            qk_quantize_report r;
            qk_err e2;
            if (qk_quantize_model(in, "/dev/null", &d, &r, &e2)) {
                size_t l = strlen(tried);
                /* a mix needing an imatrix is a candidate only when one is given */
                if (strstr(e2.msg, "needs an importance matrix")) {
                    snprintf(tried + l, sizeof tried - l, "%s%s: needs --imatrix", l ? "; " : "", cand->name);
                    continue;
                }
                snprintf(tried + l, sizeof tried - l, "%s%s: %s", l ? "; " : "", cand->name, e2.msg);
                continue;
            }
            qk_plan_row *rows = plan_rows(&r);
            qk_cli_size_candidate(tried, sizeof tried, cand->name, r.file_size, rows, rows ? r.n_tensors : 0);
            free(rows);
            const uint64_t fsize = r.file_size; /* read before the report is freed */
            qk_quantize_report_free(&r);
            if (fsize <= limit) {
                best = cand;
                char sz[32], lim[32];
                qk_format_size(sz, sizeof sz, fsize);
                qk_format_size(lim, sizeof lim, limit);
                if (fi)
                    snprintf(why_buf, sizeof why_buf, "the %s output (%s) fits %s", cand->name, sz, lim);
                else
                    snprintf(why_buf, sizeof why_buf,
                             "%s is the highest-quality mix whose output (%s) fits %s; sizes: %s", cand->name, sz,
                             lim, tried);
                why = why_buf;
                break;
            }
        }
        if (!best && fi) {
            exit_code = qk_cli_failf(CMD, "the %s output does not fit --max-size %s (%s); omit TYPE to pick the best "
                                          "mix that fits", fi->name, max_size_s, tried);
            goto done;
        }
        if (!best) {
            exit_code = qk_cli_failf(CMD, "no standard mix fits %s: %s", max_size_s, tried);
            goto done;
        }
        fi = best;
        if (!json && !cli_quiet()) fprintf(stderr, "quantkit quantize: %s\n", why);
    }
    o.mix.ftype = fi->ftype;

    char out_buf[4096];
    if (!out) {
        default_out(out_buf, sizeof out_buf, in, fi->name);
        out = out_buf;
    }
    /* --keep-split: OUT names the shards' prefix, as llama-quantize strips .gguf
     * (a shard name such as x-00001-of-00003.gguf gives the prefix x) */
    char prefix[4096];
    if (o.keep_split) qk_split_prefix_of(prefix, sizeof prefix, out); /* as split names its shards */
    uint64_t split_bytes = 0;
    if (split_s && (!qk_parse_size(split_s, &split_bytes) || !split_bytes))
        FAIL_USAGE("--split-max-size: cannot read '%s'", split_s);
    uint64_t total_bytes = 0;
    if (!o.dry_run) {
        /* size the output first (no tensor data is read): the progress total,
         * the free-space check, and FAT32's 4 GiB limit */
        qk_quantize_opts d = o;
        d.dry_run = true;
        qk_quantize_report r0;
        if (qk_quantize_model(in, o.keep_split ? prefix : out, &d, &r0, &err) != QK_OK) {
            exit_code = qk_cli_fail(CMD, &err);
            goto done;
        }
        total_bytes = r0.tensor_bytes;
        const bool fat = !split_bytes && qk_dest_is_fat(out);
        for (size_t s = 0; fat && o.keep_split && s < r0.n_shards; s++)
            if (r0.shards[s].file_size > QK_FAT32_MAX_FILE) {
                exit_code = qk_cli_failf(CMD, "%s: the destination is FAT32 and this shard would be %llu bytes (limit "
                                              "4 GiB - 1); quantize without --keep-split to get shards below 4 GiB",
                                         r0.shards[s].path, (unsigned long long)r0.shards[s].file_size);
                qk_quantize_report_free(&r0);
                goto done;
            }
        if (fat && !o.keep_split && r0.file_size > QK_FAT32_MAX_FILE) {
            split_bytes = QK_FAT32_SPLIT_BYTES;
            if (!cli_quiet())
                fprintf(stderr, "quantkit quantize: %s is on FAT32 and the output would be %llu bytes; writing shards below 4 GiB\n",
                        out, (unsigned long long)r0.file_size);
        }
        /* a split output is staged whole first, then cut into shards */
        const uint64_t need = split_bytes ? 2 * r0.file_size : r0.file_size;
        qk_quantize_report_free(&r0);
        if (qk_afile_check_space(o.keep_split ? prefix : out, need, &err) != QK_OK) {
            exit_code = qk_cli_fail(CMD, &err);
            goto done;
        }
    }
    if (!o.dry_run) o.progress = cli_progress_new("quantizing", total_bytes);
    qk_quantize_report rep;
    char staging[4200];
    qk_split_staging_path(staging, sizeof staging, out);
    int rc = qk_quantize_model(in, o.keep_split ? prefix : split_bytes && !o.dry_run ? staging : out, &o, &rep, &err);
    cli_progress_done(o.progress);
    if (rc == QK_OK && !o.dry_run && split_bytes) {
        uint32_t n;
        rc = qk_split_finish(staging, out, split_bytes, cmdline, &n, &err);
        if (rc == QK_OK && !json && !cli_quiet()) fprintf(stderr, "quantkit quantize: wrote %u shard%s\n", n, n == 1 ? "" : "s");
    }
    if (rc) {
        exit_code = qk_cli_fail(CMD, &err);
        qk_quantize_report_free(&rep);
        goto done;
    }
    if (!json) {
        qk_plan_row *rows = plan_rows(&rep);
        if (rows) qk_cli_fallback_lines(CMD, rows, rep.n_tensors, fi->name);
        free(rows);
    }
    if (json) {
        print_json(&rep, in, out, fi->name, o.dry_run, o.keep_split, why);
    } else if (o.dry_run) {
        print_plan(&rep, fi->name, true);
    } else {
        char sz[32], in_sz[32];
        qk_format_size(sz, sizeof sz, rep.file_size);
        qk_format_size(in_sz, sizeof in_sz, rep.in_tensor_bytes);
        printf("%s: %s, %zu tensors, %s of tensors -> %s (%.2f bits per weight) in %.1f s\n",
               o.keep_split && rep.n_shards ? rep.shards[0].path : out, fi->name, rep.n_tensors, in_sz, sz,
               rep.n_elements ? 8.0 * (double)rep.tensor_bytes / (double)rep.n_elements : 0, rep.seconds);
        for (size_t s = 0; o.keep_split && s < rep.n_shards; s++) {
            qk_format_size(sz, sizeof sz, rep.shards[s].file_size);
            printf("  shard %zu/%zu %s: %zu tensors, %s (%llu bytes)\n", s + 1, rep.n_shards, rep.shards[s].path,
                   rep.shards[s].n_tensors, sz, (unsigned long long)rep.shards[s].file_size);
        }
    }
    qk_quantize_report_free(&rep);
done:
    for (size_t i = 0; i < n_tt; i++) free(tt_pat[i]);
    free(prune);
    if (have_im) qk_imatrix_free(&im);
    return exit_code;
#undef FAIL_USAGE
}
