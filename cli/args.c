#include "args.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "ftypes.h"

void qk_args_init(qk_args *a, const char *cmd, const qk_opt *opts, size_t n_opts, int argc, char **argv) {
    *a = (qk_args){.cmd = cmd, .opts = opts, .n_opts = n_opts, .argc = argc, .argv = argv, .i = 1};
}

static size_t edit_distance(const char *s, const char *t) {
    size_t n = strlen(s), m = strlen(t);
    if (n > 64 || m > 64) return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= m; j++) prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t c = prev[j - 1] + (tolower((unsigned char)s[i - 1]) != tolower((unsigned char)t[j - 1]));
            if (prev[j] + 1 < c) c = prev[j] + 1;
            if (cur[j - 1] + 1 < c) c = cur[j - 1] + 1;
            cur[j] = c;
        }
        memcpy(prev, cur, (m + 1) * sizeof *prev);
    }
    return prev[m];
}

/* lower case without '_' and '-': "q4km" and "Q4_K_M" are the same key */
static void squash(char *out, size_t n, const char *s) {
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (*s != '_' && *s != '-') out[k++] = (char)tolower((unsigned char)*s);
    out[k] = 0;
}

const char *qk_suggest(const char *word, const char *const *cands, size_t n) {
    if (!word || !*word) return NULL;
    char w[80], c[80];
    squash(w, sizeof w, word);
    for (size_t i = 0; i < n; i++) {
        squash(c, sizeof c, cands[i]);
        if (!strcmp(w, c)) return cands[i];
    }
    const char *best = NULL;
    size_t best_d = (size_t)-1, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < best_d) best_d = d, best = cands[i];
    }
    /* close enough: at most a third of the word, and at most 3 edits */
    size_t limit = wl / 3 < 1 ? 1 : wl / 3;
    if (limit > 3) limit = 3;
    return best_d <= limit ? best : NULL;
}

const char *qk_suggest_ftype(const char *word) {
    const char *names[128];
    size_t n = 0;
    for (size_t i = 0; i < qk_ftype_count() && n < 128; i++) names[n++] = qk_ftype_at(i)->name;
    return qk_suggest(word, names, n);
}

static int unknown_option(qk_args *a, const char *arg) {
    const char *names[128];
    char buf[128][40];
    size_t n = 0;
    for (size_t i = 0; i < a->n_opts && n < 128; i++) {
        snprintf(buf[n], sizeof buf[n], "--%s", a->opts[i].name);
        names[n] = buf[n];
        n++;
    }
    char word[128];
    snprintf(word, sizeof word, "%s", arg);
    char *eq = strchr(word, '=');
    if (eq) *eq = 0;
    const char *s = qk_suggest(word, names, n);
    if (s) qk_cli_usage(a->cmd, "unknown option '%s' (did you mean %s?)", word, s);
    else qk_cli_usage(a->cmd, "unknown option '%s'", word);
    return QK_ARGS_ERR;
}

int qk_args_next(qk_args *a, const char **value) {
    *value = NULL;
    if (a->i >= a->argc) return QK_ARGS_END;
    const char *arg = a->argv[a->i++];
    if (a->only_pos || arg[0] != '-' || !arg[1]) {
        *value = arg;
        return QK_ARGS_POS;
    }
    if (!strcmp(arg, "--")) {
        a->only_pos = true;
        return qk_args_next(a, value);
    }
    const qk_opt *o = NULL;
    const char *inline_val = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < a->n_opts && !o; i++)
            if (strlen(a->opts[i].name) == len && !strncmp(a->opts[i].name, name, len)) o = &a->opts[i];
        if (!o) return unknown_option(a, arg);
        if (eq) inline_val = eq + 1;
    } else {
        for (size_t i = 0; i < a->n_opts && !o; i++)
            if (a->opts[i].short_name && a->opts[i].short_name == arg[1]) o = &a->opts[i];
        if (!o) return unknown_option(a, arg);
        if (arg[2]) {
            if (!o->has_value) return unknown_option(a, arg);
            inline_val = arg + 2;
        }
    }
    a->opt = arg;
    if (!o->has_value) {
        if (inline_val) {
            qk_cli_usage(a->cmd, "option --%s takes no value (got '%s')", o->name, inline_val);
            return QK_ARGS_ERR;
        }
        return o->id;
    }
    if (inline_val) {
        *value = inline_val;
        return o->id;
    }
    if (a->i >= a->argc) {
        qk_cli_usage(a->cmd, "option --%s needs a value", o->name);
        return QK_ARGS_ERR;
    }
    *value = a->argv[a->i++];
    return o->id;
}
