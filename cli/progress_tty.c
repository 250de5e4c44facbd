#include "progress_tty.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

typedef struct {
    qk_progress base; /* first: the library sees only this */
    pthread_mutex_t lock;
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

static void draw(tty_progress *p, double t) {
    char done[32], total[32], rate[32];
    double el = t - p->t0;
    double bps = el > 0 ? (double)p->done / el : 0;
    human(done, sizeof done, (double)p->done);
    human(total, sizeof total, (double)p->total);
    human(rate, sizeof rate, bps);
    if (p->total && bps > 0) {
        double eta = (double)(p->total - (p->done < p->total ? p->done : p->total)) / bps;
        fprintf(stderr, "\r\033[K%s %5.1f%% %s / %s  %s/s  ETA %.0fs  %s", p->what,
                100.0 * (double)p->done / (double)p->total, done, total, rate, eta, p->item);
    } else {
        fprintf(stderr, "\r\033[K%s %s  %s/s  %s", p->what, done, rate, p->item);
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
    if (t - p->last_draw >= 0.1) draw(p, t);
    pthread_mutex_unlock(&p->lock);
}

qk_progress *cli_progress_new(const char *what, uint64_t total_bytes) {
    if (getenv("QUANTKIT_NO_PROGRESS") || !isatty(STDERR_FILENO)) return NULL;
    tty_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->base = (qk_progress){tty_item, tty_add};
    pthread_mutex_init(&p->lock, NULL);
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total = total_bytes;
    p->t0 = qk_now_s();
    return &p->base;
}

void cli_progress_done(qk_progress *base) {
    if (!base) return;
    tty_progress *p = (tty_progress *)base;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
