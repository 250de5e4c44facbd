/* main.c - the `quantkit` executable: git-style dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "cpu_features.h"
#include "progress_tty.h"
#include "types_table.h"

typedef struct {
    const char *name;
    qk_cmd_fn fn;
    const char *summary;
} command;

static const command k_commands[] = {
    {"convert", qk_cmd_convert, "convert a Hugging Face folder to GGUF, to any type, in one pass"},
    {"quantize", qk_cmd_quantize, "quantize a GGUF model to Q8_0, Q4_K_M ... (llama-quantize compatible)"},
    {"verify", qk_cmd_verify, "check a model file is whole: structure, embedded hashes, data, loadability, manifests"},
    {"info", qk_cmd_info, "show what a GGUF file, safetensors file or Hugging Face folder holds"},
    {"split", qk_cmd_split, "split a GGUF into shards (gguf-split layout), e.g. below 4 GiB for FAT32"},
    {"merge", qk_cmd_merge, "join a split set back into one GGUF"},
    {"copy", qk_cmd_copy, "copy models to a folder or USB stick, split for FAT, read back and prove it"},
    {"types", qk_cmd_types, "list the quantization types: ftype number, bits per weight, imatrix need"},
};

static void usage(FILE *out) {
    fprintf(out,
            "quantkit %s - convert, quantize and verify models for llama.cpp\n\n"
            "usage: quantkit <command> [options]\n\ncommands:\n",
            QK_VERSION);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(out, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "show this list, or `help COMMAND` for one command");
    fprintf(out, "  %-10s %s\n", "version", "print the version (also --version, -V)");
    fprintf(out, "\noptions are written --opt VALUE or --opt=VALUE; `--` ends them.\n"
                 "environment: QUANTKIT_ISA=scalar|avx2|avx512|neon picks the kernel variant;\n"
                 "QUANTKIT_NO_PROGRESS=1 hides the progress line.\n"
                 "\nfor every command: -q, --quiet (no progress, no notes on stderr);\n"
                 "--progress=auto|tty|json|none (json: one JSON object per line on stderr, for GUIs;\n"
                 "auto: a line with percentage, bytes, rate and ETA when stderr is a terminal)\n"
                 "\nexit codes: 0 ok, 1 failed check or bad input, 2 usage error\n");
}

static const command *find(const char *name) {
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (strcmp(k_commands[i].name, name) == 0) return &k_commands[i];
    return NULL;
}

static int unknown_command(const char *name) {
    const char *names[32];
    size_t n = 0;
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++) names[n++] = k_commands[i].name;
    names[n++] = "help";
    names[n++] = "version";
    const char *s = qk_suggest(name, names, n);
    if (s) fprintf(stderr, "quantkit: unknown command '%s' (did you mean `quantkit %s`?)\n", name, s);
    else fprintf(stderr, "quantkit: unknown command '%s' (see `quantkit help`)\n", name);
    return 2;
}

/* QUANTKIT_ISA is read by the kernel table; a name it does not know is a
 * mistake worth stopping for (a typo would otherwise silently benchmark or
 * debug the wrong kernels). An ISA this CPU lacks is reported and ignored. */
static int check_isa_env(void) {
    const char *env = getenv("QUANTKIT_ISA");
    if (!env) return 0;
    qk_isa isa;
    qk_err err = {{0}};
    if (qk_isa_from_name(env, &isa, &err)) {
        fprintf(stderr, "quantkit: QUANTKIT_ISA=%s is not an ISA name (scalar, avx2, avx512, neon)\n", env);
        return 2;
    }
    if (!qk_isa_available(isa))
        fprintf(stderr, "quantkit: QUANTKIT_ISA=%s is not available on this CPU or build; using %s\n", env,
                qk_isa_name(qk_isa_active()));
    return 0;
}

/* --quiet / -q and --progress=MODE belong to every command: taken out of argv
 * here (up to a "--"), so each command's parser never sees them. Returns the
 * new argc, or -1 after a usage error. */
static int take_global_options(int argc, char **argv) {
    cli_progress_mode mode = CLI_PROGRESS_AUTO;
    bool quiet = false;
    int k = 1;
    bool ended = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (!ended && !strcmp(a, "--")) ended = true;
        if (ended) {
            argv[k++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = true;
            mode = CLI_PROGRESS_NONE;
            continue;
        }
        if (!strncmp(a, "--progress=", 11)) v = a + 11;
        else if (!strcmp(a, "--progress")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "quantkit: option --progress needs a value (auto, tty, json, none)\n");
                return -1;
            }
            v = argv[++i];
        }
        if (v) {
            if (!cli_progress_parse_mode(v, &mode)) {
                fprintf(stderr, "quantkit: --progress=%s: expected auto, tty, json or none\n", v);
                return -1;
            }
            continue;
        }
        argv[k++] = argv[i];
    }
    argv[k] = NULL;
    cli_progress_set_mode(mode, quiet);
    return k;
}

int main(int argc, char **argv) {
    if ((argc = take_global_options(argc, argv)) < 0) return 2;
    cli_signals_install();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V") || !strcmp(name, "version")) {
        printf("quantkit %s\n", QK_VERSION);
        return 0;
    }
    if (check_isa_env()) return 2;
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const command *c = find(argv[2]);
        if (!c) return unknown_command(argv[2]);
        char *hargv[] = {argv[2], "--help", NULL};
        return c->fn(2, hargv);
    }
    if (name[0] == '-') {
        fprintf(stderr, "quantkit: unknown option '%s' before the command (see `quantkit help`)\n", name);
        return 2;
    }
    const command *c = find(name);
    if (!c) return unknown_command(name);
    return c->fn(argc - 1, argv + 1);
}
