/* progress.h - how long operations report progress.
 *
 * The library never draws anything: a long operation (the tensor pipeline,
 * convert, quantize) calls the reporter its caller passes down, NULL meaning
 * none. The CLI's one-line terminal display (cli/progress_tty.h) is such a
 * reporter; a GUI or a test can supply another. Both callbacks may be called
 * from several threads at once, so a reporter must be thread-safe.
 */
#ifndef QK_PROGRESS_H
#define QK_PROGRESS_H

#include <stdint.h>

typedef struct qk_progress qk_progress;
struct qk_progress {
    void (*item)(qk_progress *p, const char *label); /* the current item, e.g. a tensor name */
    void (*add)(qk_progress *p, uint64_t bytes);     /* bytes done since the last call */
    /* optional: the whole amount of work in the add() unit, announced by an
     * operation that learns it only once it has opened its inputs (verify,
     * split, merge); a caller that knows it up front sets it itself */
    void (*total)(qk_progress *p, uint64_t bytes);
};

static inline void qk_progress_item(qk_progress *p, const char *label) {
    if (p && p->item) p->item(p, label);
}

static inline void qk_progress_add(qk_progress *p, uint64_t bytes) {
    if (p && p->add) p->add(p, bytes);
}

static inline void qk_progress_total(qk_progress *p, uint64_t bytes) {
    if (p && p->total) p->total(p, bytes);
}

#endif
