/* cmd_split.c - `quantkit split` and `quantkit merge` (gguf-split compatible). */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "naming.h"
#include "sizes.h"
#include "split.h"

int qk_cmd_split(int argc, char **argv) {
    qk_split_opts o = {0};
    const char *in = NULL, *prefix = NULL;
    char cmdline[1024] = "split";
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(cmdline);
        snprintf(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: quantkit split IN.gguf OUT_PREFIX (--max-size SIZE | --max-tensors N) [--dry-run]\n"
                   "\n"
                   "Writes OUT_PREFIX-00001-of-0000N.gguf ... as llama.cpp's gguf-split does (llama.cpp loads\n"
                   "the set from its first shard; `quantkit merge` joins it again). SIZE counts tensor data\n"
                   "(e.g. 4G, 3800M, 2GiB); a tensor larger than SIZE gets a shard of its own. On a FAT32\n"
                   "destination a shard that would reach 4 GiB is refused before anything is written.\n"
                   "exit codes: 0 ok, 1 failed, 2 usage error\n");
            return 0;
        } else if (!strcmp(a, "--max-size") || !strcmp(a, "--split-max-size")) {
            if (!(v = qk_cli_value("split", argc, argv, &i))) return QK_EXIT_USAGE;
            if (!qk_parse_size(v, &o.max_bytes) || !o.max_bytes) return qk_cli_usage("split", "--max-size: cannot read '%s'", v);
        } else if (!strcmp(a, "--max-tensors") || !strcmp(a, "--split-max-tensors")) {
            int n;
            if (!(v = qk_cli_value("split", argc, argv, &i))) return QK_EXIT_USAGE;
            if (!qk_cli_int(v, &n) || n < 1) return qk_cli_usage("split", "--max-tensors takes a positive number");
            o.max_tensors = (uint64_t)n;
        } else if (!strcmp(a, "--dry-run")) {
            o.dry_run = 1;
        } else if (a[0] == '-' && a[1]) {
            return qk_cli_usage("split", "unknown option '%s'", a);
        } else if (!in) in = a;
        else if (!prefix) prefix = a;
        else return qk_cli_usage("split", "unexpected argument '%s'", a);
    }
    if (!in || !prefix) return qk_cli_usage("split", "needs IN.gguf and OUT_PREFIX");
    if (!o.max_bytes && !o.max_tensors) return qk_cli_usage("split", "give --max-size or --max-tensors");
    o.command_line = cmdline;
    uint32_t n;
    qk_err err;
    if (qk_split_model(in, prefix, &o, &n, &err)) return qk_cli_fail("split", &err);
    char shown[4096]; /* the prefix the shards got: "out.gguf" names them out-0000k-of-0000N.gguf */
    qk_split_prefix_of(shown, sizeof shown, prefix);
    printf("%s: %u shard%s %s %s-00001-of-%05u.gguf\n", in, n, n == 1 ? "" : "s", o.dry_run ? "would be" : "written as",
           shown, n);
    return 0;
}

int qk_cmd_merge(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: quantkit merge FIRST_SHARD.gguf OUT.gguf\n\n"
                   "Joins a split set (quantkit's or gguf-split's) into one GGUF file.\n"
                   "exit codes: 0 ok, 1 failed, 2 usage error\n");
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) return qk_cli_usage("merge", "unknown option '%s'", argv[i]);
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return qk_cli_usage("merge", "unexpected argument '%s'", argv[i]);
    }
    if (!in || !out) return qk_cli_usage("merge", "needs FIRST_SHARD.gguf and OUT.gguf");
    qk_err err;
    if (qk_merge_model(in, out, "merge", &err)) return qk_cli_fail("merge", &err);
    printf("%s: merged into %s\n", in, out);
    return 0;
}
