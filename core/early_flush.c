#include "early_flush.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct qk_early_flush {
    int fd;
    bool wanted, stop;
    int err; /* the first failed fdatasync's errno */
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cv;
};

static void *flusher(void *arg) {
    qk_early_flush *ef = arg;
    pthread_mutex_lock(&ef->lock);
    for (;;) {
        while (!ef->wanted && !ef->stop) pthread_cond_wait(&ef->cv, &ef->lock);
        if (!ef->wanted) break; /* stop, nothing requested */
        ef->wanted = false;
        pthread_mutex_unlock(&ef->lock);
        int e = 0;
        while (fdatasync(ef->fd) != 0) {
            if (errno == EINTR) continue;
            e = errno;
            break;
        }
        pthread_mutex_lock(&ef->lock);
        if (e && !ef->err) ef->err = e;
    }
    pthread_mutex_unlock(&ef->lock);
    return NULL;
}

qk_early_flush *qk_ef_start(int fd) {
    qk_early_flush *ef = calloc(1, sizeof *ef);
    if (!ef) return NULL;
    ef->fd = fd;
    pthread_mutex_init(&ef->lock, NULL);
    pthread_cond_init(&ef->cv, NULL);
    if (pthread_create(&ef->tid, NULL, flusher, ef) != 0) {
        pthread_mutex_destroy(&ef->lock);
        pthread_cond_destroy(&ef->cv);
        free(ef);
        return NULL;
    }
    return ef;
}

void qk_ef_kick(qk_early_flush *ef) {
    pthread_mutex_lock(&ef->lock);
    ef->wanted = true;
    pthread_cond_signal(&ef->cv);
    pthread_mutex_unlock(&ef->lock);
}

int qk_ef_stop(qk_early_flush *ef) {
    if (!ef) return 0;
    pthread_mutex_lock(&ef->lock);
    ef->stop = true;
    pthread_cond_signal(&ef->cv);
    pthread_mutex_unlock(&ef->lock);
    pthread_join(ef->tid, NULL);
    const int e = ef->err;
    pthread_mutex_destroy(&ef->lock);
    pthread_cond_destroy(&ef->cv);
    free(ef);
    return e;
}
