/* The man page and the bash completion: installed by `cmake --install`, the
 * man page documents every command and every option each command's --help
 * lists (so a new option without documentation fails here), and the
 * completion completes commands, options and type names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "ftypes.h"
#include "qk_test.h"

static const char *src_dir(void) {
    const char *s = getenv("QK_SOURCE_DIR");
    return s ? s : ".";
}

static char *read_text(const char *path) {
    char *t = (char *)qk_test_read_file(path, NULL);
    CHECK_MSG(t != NULL, "cannot read %s", path);
    return t;
}

/* Runs a shell command; its stdout (malloc'd). */
static char *sh(const char *cmd) {
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return NULL;
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (!out) abort();
    size_t r;
    while ((r = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) {
            cap *= 2;
            out = realloc(out, cap);
            if (!out) abort();
        }
    }
    out[len] = 0;
    pclose(p);
    return out;
}

static void test_install(void) {
    const char *bd = getenv("QK_BUILD_DIR");
    char cmd[3000], prefix[800], path[1200];
    snprintf(prefix, sizeof prefix, "%s/inst", qk_test_tmpdir());
    snprintf(cmd, sizeof cmd, "cmake --install '%s' --prefix '%s' >/dev/null 2>&1", bd ? bd : "build", prefix);
    CHECK_EQ_INT(system(cmd), 0);
    static const char *files[] = {"bin/quantkit", "share/man/man1/quantkit.1",
                                  "share/bash-completion/completions/quantkit"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        CHECK_MSG(access(path, F_OK) == 0, "cmake --install did not install %s", files[i]);
    }
}

/* "--dry-run" as roff writes it: "\-\-dry\-run" */
static void roff(char *out, size_t n, const char *opt) {
    size_t k = 0;
    for (; *opt && k + 3 < n; opt++) {
        if (*opt == '-') out[k++] = '\\';
        out[k++] = *opt;
    }
    out[k] = 0;
}

static void test_man_page_complete(void) {
    char p[1200];
    snprintf(p, sizeof p, "%s/docs/quantkit.1", src_dir());
    char *man = read_text(p);
    if (!man) return;
    cli_result top = cli_run("--help");
    /* the commands: the lines after "commands:" */
    const char *c = strstr(top.out, "commands:\n");
    CHECK(c != NULL);
    int n_cmds = 0;
    for (const char *line = c ? strchr(c, '\n') + 1 : ""; *line == ' '; line = strchr(line, '\n') + 1) {
        char name[32];
        if (sscanf(line, " %31s", name) != 1) break;
        char tp[64];
        snprintf(tp, sizeof tp, ".B %s\n", name);
        bool as_tp = strstr(man, tp) != NULL;
        snprintf(tp, sizeof tp, ".BR %s ", name);
        CHECK_MSG(as_tp || strstr(man, tp), "docs/quantkit.1 does not document the command '%s'", name);
        n_cmds++;
        if (!strcmp(name, "help") || !strcmp(name, "version")) continue;
        /* its options: "  --opt" or "  -x, --opt" at the start of a --help line */
        cli_result h = cli_run(name, "--help");
        for (const char *l = h.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            const char *q = l;
            while (*q == ' ') q++;
            if (q == l) continue;
            if (q[0] == '-' && q[1] != '-' && q[2] == ',' && q[3] == ' ') q += 4;
            if (strncmp(q, "--", 2) != 0) continue;
            char opt[64], r[140];
            size_t k = 0;
            while (k < sizeof opt - 1 && (q[k] == '-' || (q[k] >= 'a' && q[k] <= 'z') || (q[k] >= '0' && q[k] <= '9')))
                opt[k] = q[k], k++;
            opt[k] = 0;
            roff(r, sizeof r, opt);
            CHECK_MSG(strstr(man, r) != NULL, "docs/quantkit.1 does not document `quantkit %s %s` (add it)", name, opt);
        }
        cli_result_free(&h);
    }
    CHECK(n_cmds >= 8);
    static const char *more[] = {"QUANTKIT_NO_PROGRESS", "QUANTKIT_ISA", "\\-\\-quiet", "\\-\\-progress", "EXIT STATUS"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) CHECK_MSG(strstr(man, more[i]), "man page lacks %s", more[i]);
    cli_result_free(&top);
    free(man);
    /* it is valid roff: man renders it without warnings */
    if (system("command -v groff >/dev/null 2>&1") == 0) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "groff -man -Tutf8 -ww -z '%s' 2>&1", p);
        char *w = sh(cmd);
        CHECK_MSG(w && w[0] == 0, "groff warns: %s", w ? w : "");
        free(w);
    }
}

/* What the completion offers for the words typed so far. */
static char *complete(const char *words, int cword) {
    const char *bd = getenv("QK_BUILD_DIR");
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "PATH='%s':\"$PATH\" bash -c 'source \"%s/scripts/quantkit-completion.bash\"; COMP_WORDS=(%s); "
             "COMP_CWORD=%d; _quantkit; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
             bd ? bd : "build", src_dir(), words, cword);
    return sh(cmd);
}

static void test_completion(void) {
    if (!cli_exe()) return;
    /* line, word index, expected lines: all of them (exact) or each among them (subset) */
    static const struct { const char *line; int word; const char *want; bool exact; } k[] = {
        {"quantkit conv", 1, "convert\n", true},
        {"quantkit cop", 1, "copy\n", true},
        {"quantkit copy --js", 2, "--json\n", true},
        {"quantkit typ", 1, "types\n", true},
        {"quantkit quantize --dry", 2, "--dry-run\n", false},
        {"quantkit quantize --allow-r", 2, "--allow-requantize\n", true},
        {"quantkit quantize in.gguf Q4_K_", 3, "Q4_K_M\nQ4_K_S\n", false},
        {"quantkit convert d --type q8", 4, "q8_0\n", false},
    };
    char *r;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        r = complete(k[i].line, k[i].word);
        bool ok = r != NULL;
        if (ok && k[i].exact) ok = !strcmp(r, k[i].want);
        for (const char *w = k[i].want; ok && !k[i].exact && *w; w = strchr(w, '\n') + 1) {
            char one[64];
            snprintf(one, sizeof one, "%.*s", (int)(strchr(w, '\n') - w + 1), w);
            ok = strstr(r, one) != NULL;
        }
        CHECK_MSG(ok, "'%s': got '%s', want '%s'", k[i].line, r ? r : "", k[i].want);
        free(r);
    }
    /* every type of the table is offered */
    r = complete("quantkit convert d --type \"\"", 4);
    for (size_t i = 0; r && i < qk_ftype_count(); i++) {
        char want[40];
        snprintf(want, sizeof want, "\n%s\n", qk_ftype_at(i)->name);
        CHECK_MSG(strstr(r, want) || !strncmp(r, want + 1, strlen(want + 1)), "type %s not offered", qk_ftype_at(i)->name);
    }
    free(r);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_install);
    RUN(test_man_page_complete);
    RUN(test_completion);
    return qk_test_summary();
}
