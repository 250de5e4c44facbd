/* file_advice.h - tells the kernel how an input file is about to be read.
 *
 * The streaming pipeline reads each chunk of rows with pread on its worker
 * threads. Without advice, the first reads of a chunk wait for the disk (a
 * USB stick, a cold cache); with WILLNEED for the NEXT chunk issued while the
 * current one is computed, the kernel reads it in the background. When the
 * input is larger than memory, DONE drops what was consumed, so a 40 GB model
 * does not push the rest of the page cache (and the output) out.
 * Advice is never required for correctness: every call may be ignored by the
 * file system, and failures are deliberately silent (the reads that follow
 * report real errors). */
#ifndef QK_FILE_ADVICE_H
#define QK_FILE_ADVICE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    QK_ADVISE_WILLNEED, /* start reading [off, off + n) in the background */
    QK_ADVISE_DONE,     /* [off, off + n) was consumed and will not be read again */
} qk_advice;

void qk_advise_range(int fd, uint64_t off, uint64_t n, qk_advice advice);

/* True when `bytes` of input would not stay cached: more than half of the
 * physical memory (what a model and its output compete for). */
bool qk_larger_than_memory(uint64_t bytes);

#endif
