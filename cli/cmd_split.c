/* cmd_split.c - `quantkit split` and `quantkit merge` (gguf-split compatible). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli_util.h"
#include "naming.h"
#include "progress_tty.h"
#include "sizes.h"
#include "split.h"

/* What split and merge read from their command lines: an input and an output (a second positional, or -o) and,
 * for split, the shard limits; one parser serves both, each command listing only its own options. */
typedef struct {
    const char *cmd, *what_in, *what_out, *usage, *help;
    const char *in, *out;
    bool out_by_opt;
    qk_split_opts o; /* split's options; merge reads ignore_integrity */
} io_args;

enum { O_HELP = 1, O_IGNORE, O_OUT, O_MAX_SIZE, O_MAX_TENSORS, O_DRY };

/* The second positional is the output unless -o named it; a third is a
 * mistake, named precisely (a size there was meant as --max-size). */
static int take_positional(io_args *a, const char *v) {
    uint64_t sz;
    if (!a->in) a->in = v;
    else if (!a->out) a->out = v;
    else if (!strcmp(a->cmd, "split") && qk_parse_size(v, &sz))
        return qk_cli_usage(a->cmd, "unexpected argument '%s' after %s and %s (a shard size is --max-size %s)", v,
                            a->what_in, a->what_out, v);
    else
        return qk_cli_usage(a->cmd, "unexpected argument '%s' (%s takes %s and %s%s)", v, a->cmd, a->what_in,
                            a->what_out, a->out_by_opt ? ", and -o gave the output" : "");
    return 0;
}

/* Reads argv into a: -1 when the command is to run, else its exit code (0 after --help). */
static int parse_io(int argc, char **argv, const qk_opt *opts, size_t n_opts, io_args *a) {
    qk_args args;
    qk_args_init(&args, a->cmd, opts, n_opts, argc, argv);
    const char *v;
    for (int id; (id = qk_args_next(&args, &v)) != QK_ARGS_END;) {
        switch (id) {
        case QK_ARGS_ERR: return QK_EXIT_USAGE;
        case QK_ARGS_POS:
            if (take_positional(a, v)) return QK_EXIT_USAGE;
            break;
        case O_HELP: fputs(a->help, stdout); return 0;
        case O_MAX_SIZE:
            if (!qk_parse_size(v, &a->o.max_bytes) || !a->o.max_bytes)
                return qk_cli_usage(a->cmd, "--max-size: cannot read '%s'", v);
            break;
        case O_MAX_TENSORS: {
            int n;
            if (!qk_cli_int(v, &n) || n < 1)
                return qk_cli_usage(a->cmd, "--max-tensors takes a positive number, got '%s'", v);
            a->o.max_tensors = (uint64_t)n;
            break;
        }
        case O_DRY: a->o.dry_run = 1; break;
        case O_IGNORE: a->o.ignore_integrity = true; break;
        case O_OUT:
            if (a->out) return qk_cli_usage(a->cmd, "-o '%s': the output is already '%s'", v, a->out);
            a->out = v, a->out_by_opt = true;
            break;
        default: break;
        }
    }
    if (!a->in) return qk_cli_usage(a->cmd, "missing %s (usage: %s)", a->what_in, a->usage);
    if (!a->out) return qk_cli_usage(a->cmd, "missing %s after '%s' (or -o %s)", a->what_out, a->in, a->what_out);
    return -1;
}

static const char k_split_help[] =
    "usage: quantkit split IN.gguf OUT_PREFIX (--max-size SIZE | --max-tensors N) [--dry-run]\n"
    "       quantkit split IN.gguf -o OUT_PREFIX ...\n"
    "\n"
    "Writes OUT_PREFIX-00001-of-0000N.gguf ... as llama.cpp's gguf-split does (llama.cpp loads\n"
    "the set from its first shard; `quantkit merge` joins it again). SIZE counts tensor data\n"
    "(e.g. 4G, 3800M, 2GiB); a tensor larger than SIZE gets a shard of its own. On a FAT32\n"
    "destination a shard that would reach 4 GiB is refused before anything is written.\n"
    "The input's embedded hashes are checked as it is read: a damaged input fails and no\n"
    "shard is left (--ignore-integrity splits it anyway). An output that is the input fails.\n"
    "options (--opt VALUE or --opt=VALUE):\n"
    "  --max-size SIZE      tensor data per shard (also --split-max-size)\n"
    "  --max-tensors N      tensors per shard (also --split-max-tensors)\n"
    "  -o, --output PREFIX  the shards' prefix (\"out.gguf\" names them out-00001-of-0000N.gguf)\n"
    "  --dry-run            say how many shards, write nothing\n"
    "  --ignore-integrity   split even when the input's embedded hashes do not match\n"
    "  -h, --help           this text\n"
    "exit codes: 0 ok, 1 failed, 2 usage error\n";

int qk_cmd_split(int argc, char **argv) {
    char cmdline[1024];
    qk_cli_command_line(cmdline, sizeof cmdline, "split", argc, argv);
    static const qk_opt opts[] = {
        {"help", 'h', false, O_HELP}, {"max-size", 0, true, O_MAX_SIZE}, {"split-max-size", 0, true, O_MAX_SIZE},
        {"max-tensors", 0, true, O_MAX_TENSORS}, {"split-max-tensors", 0, true, O_MAX_TENSORS},
        {"dry-run", 0, false, O_DRY}, {"ignore-integrity", 0, false, O_IGNORE}, {"output", 'o', true, O_OUT},
    };
    io_args a = {.cmd = "split", .what_in = "IN.gguf", .what_out = "OUT_PREFIX",
                 .usage = "split IN.gguf OUT_PREFIX --max-size SIZE", .help = k_split_help};
    const int done = parse_io(argc, argv, opts, sizeof opts / sizeof opts[0], &a);
    if (done >= 0) return done;
    qk_split_opts o = a.o;
    const char *in = a.in, *prefix = a.out;
    if (!o.max_bytes && !o.max_tensors) return qk_cli_usage("split", "give --max-size or --max-tensors");
    o.command_line = cmdline;
    uint32_t n;
    qk_err err;
    if (!o.dry_run) o.progress = cli_progress_new("splitting", 0);
    int rc = qk_split_model(in, prefix, &o, &n, &err);
    cli_progress_done(o.progress);
    if (rc) return qk_cli_fail("split", &err);
    char shown[4096]; /* the prefix the shards got: "out.gguf" names them out-0000k-of-0000N.gguf */
    qk_split_prefix_of(shown, sizeof shown, prefix);
    printf("%s: %u shard%s %s %s-00001-of-%05u.gguf\n", in, n, n == 1 ? "" : "s", o.dry_run ? "would be" : "written as",
           shown, n);
    return 0;
}

static const char k_merge_help[] =
    "usage: quantkit merge [--ignore-integrity] FIRST_SHARD.gguf OUT.gguf\n"
    "       quantkit merge FIRST_SHARD.gguf -o OUT.gguf\n\n"
    "Joins a split set (quantkit's or gguf-split's) into one GGUF file; merging quantkit's\n"
    "split of a file gives back that file byte for byte. The shards' embedded hashes are\n"
    "checked as they are read: a damaged shard fails and nothing is written\n"
    "(--ignore-integrity merges anyway). An output that is one of the shards fails.\n"
    "options: -o, --output OUT.gguf; --ignore-integrity; -h, --help\n"
    "exit codes: 0 ok, 1 failed, 2 usage error\n";

int qk_cmd_merge(int argc, char **argv) {
    static const qk_opt opts[] = {
        {"help", 'h', false, O_HELP}, {"ignore-integrity", 0, false, O_IGNORE}, {"output", 'o', true, O_OUT},
    };
    io_args a = {.cmd = "merge", .what_in = "FIRST_SHARD.gguf", .what_out = "OUT.gguf",
                 .usage = "merge FIRST_SHARD.gguf OUT.gguf", .help = k_merge_help};
    const int done = parse_io(argc, argv, opts, sizeof opts / sizeof opts[0], &a);
    if (done >= 0) return done;
    qk_err err;
    qk_merge_opts mo = {.command_line = "merge", .ignore_integrity = a.o.ignore_integrity,
                        .progress = cli_progress_new("merging", 0)};
    int rc = qk_merge_model_opts(a.in, a.out, &mo, &err);
    cli_progress_done(mo.progress);
    if (rc) return qk_cli_fail("merge", &err);
    printf("%s: merged into %s\n", a.in, a.out);
    return 0;
}
