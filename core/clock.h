/* clock.h - the one clock quantkit measures durations with: monotonic (never
 * jumps with the wall clock), in seconds. */
#ifndef QK_CLOCK_H
#define QK_CLOCK_H

double qk_now_s(void);

#endif
