#include "progress_tty.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "clock.h"

static cli_progress_mode g_mode = CLI_PROGRESS_AUTO;
static bool g_quiet;
/* a progress line is on the terminal: the signal handler clears it */
static volatile sig_atomic_t g_line_shown;

void cli_progress_set_mode(cli_progress_mode m, bool quiet) {
    g_mode = m;
    g_quiet = quiet;
}

bool cli_quiet(void) { return g_quiet; }

bool cli_progress_parse_mode(const char *s, cli_progress_mode *out) {
    static const struct { const char *n; cli_progress_mode m; } k[] = {
        {"auto", CLI_PROGRESS_AUTO}, {"tty", CLI_PROGRESS_TTY}, {"json", CLI_PROGRESS_JSON}, {"none", CLI_PROGRESS_NONE}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(s, k[i].n)) {
            *out = k[i].m;
            return true;
        }
    return false;
}

typedef struct {
    qk_progress base; /* first: the library sees only this */
    pthread_mutex_t lock;
    bool json;
    char what[64];
    char item[96];
    uint64_t total, done;
    double t0, last_draw;
} tty_progress;

static void human(char *buf, size_t n, double bytes) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (bytes >= 1024.0 && i < 4) bytes /= 1024.0, i++;
    snprintf(buf, n, "%.1f %s", bytes, u[i]);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void draw(tty_progress *p, double t, bool final) {
    double el = t - p->t0;
    double bps = el > 0 ? (double)p->done / el : 0;
    uint64_t done = p->total && p->done > p->total ? p->total : p->done;
    double pct = p->total ? 100.0 * (double)done / (double)p->total : -1;
    double eta = p->total && bps > 0 ? (double)(p->total - done) / bps : -1;
    if (p->json) {
        fprintf(stderr, "{\"event\":\"%s\",\"what\":", final ? "done" : "progress");
        json_str(stderr, p->what);
        fprintf(stderr, ",\"item\":");
        json_str(stderr, p->item);
        fprintf(stderr, ",\"done\":%llu,\"total\":%llu,\"percent\":%.1f,\"bytes_per_second\":%.0f,\"eta_seconds\":%.1f}\n",
                (unsigned long long)p->done, (unsigned long long)p->total, pct, bps, eta);
    } else {
        /* set before drawing: a signal arriving mid-draw must still clear the line */
        g_line_shown = 1;
        char d[32], tot[32], rate[32];
        human(d, sizeof d, (double)done);
        human(tot, sizeof tot, (double)p->total);
        human(rate, sizeof rate, bps);
        if (p->total && eta >= 0)
            fprintf(stderr, "\r\033[K%s %5.1f%%  %s / %s  %s/s  ETA %.0fs  %.40s", p->what, pct, d, tot, rate, eta, p->item);
        else if (p->total)
            fprintf(stderr, "\r\033[K%s %5.1f%%  %s / %s  %.40s", p->what, pct, d, tot, p->item);
        else
            fprintf(stderr, "\r\033[K%s %s  %s/s  %.40s", p->what, d, rate, p->item);
    }
    fflush(stderr);
    p->last_draw = t;
}

static void tty_item(qk_progress *base, const char *label) {
    tty_progress *p = (tty_progress *)base;
    pthread_mutex_lock(&p->lock);
    snprintf(p->item, sizeof p->item, "%s", label);
    pthread_mutex_unlock(&p->lock);
}

static void tty_add(qk_progress *base, uint64_t bytes) {
    tty_progress *p = (tty_progress *)base;
    pthread_mutex_lock(&p->lock);
    p->done += bytes;
    double t = qk_now_s();
    if (t - p->last_draw >= 0.1) draw(p, t, false);
    pthread_mutex_unlock(&p->lock);
}

static void tty_total(qk_progress *base, uint64_t bytes) {
    tty_progress *p = (tty_progress *)base;
    pthread_mutex_lock(&p->lock);
    p->total = bytes;
    pthread_mutex_unlock(&p->lock);
}

qk_progress *cli_progress_new(const char *what, uint64_t total_bytes) {
    bool json = g_mode == CLI_PROGRESS_JSON;
    if (g_mode == CLI_PROGRESS_NONE) return NULL;
    if (g_mode == CLI_PROGRESS_AUTO && (getenv("QUANTKIT_NO_PROGRESS") || !isatty(STDERR_FILENO))) return NULL;
    tty_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->base = (qk_progress){tty_item, tty_add, tty_total};
    pthread_mutex_init(&p->lock, NULL);
    p->json = json;
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total = total_bytes;
    p->t0 = qk_now_s();
    p->last_draw = p->t0 - 1; /* draw at the first bytes */
    return &p->base;
}

void cli_progress_done(qk_progress *base) {
    if (!base) return;
    tty_progress *p = (tty_progress *)base;
    if (p->json) {
        draw(p, qk_now_s(), true);
    } else {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        g_line_shown = 0;
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void on_signal(int sig) {
    if (g_line_shown) {
        static const char clear[] = "\r\033[K";
        ssize_t r = write(STDERR_FILENO, clear, sizeof clear - 1);
        (void)r;
    }
    qk_afile_remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_signals_install(void) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}
