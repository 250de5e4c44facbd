/* main.c - the `quantkit` executable: git-style dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

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
};

static void usage(FILE *out) {
    fprintf(out,
            "quantkit %s - convert, quantize and verify models for llama.cpp\n\n"
            "usage: quantkit <command> [options]\n\ncommands:\n",
            QK_VERSION);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(out, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "show this list, or `help COMMAND` for one command");
    fprintf(out, "\nexit codes: 0 ok, 1 failed check or bad input, 2 usage error\n");
}

static const command *find(const char *name) {
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (strcmp(k_commands[i].name, name) == 0) return &k_commands[i];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) {
        printf("quantkit %s\n", QK_VERSION);
        return 0;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const command *c = find(argv[2]);
        if (!c) {
            fprintf(stderr, "quantkit: unknown command '%s' (see `quantkit help`)\n", argv[2]);
            return 2;
        }
        char *hargv[] = {argv[2], "--help", NULL};
        return c->fn(2, hargv);
    }
    const command *c = find(name);
    if (!c) {
        fprintf(stderr, "quantkit: unknown command '%s' (see `quantkit help`)\n", name);
        return 2;
    }
    return c->fn(argc - 1, argv + 1);
}
