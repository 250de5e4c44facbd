/* lowbit_search_avx2.c - the AVX2 build of the lane-wise Q2_K / Q3_K / IQ4
 * searches (lowbit_search_body.h; contract in lowbit_internal.h). */
#define QK_LANES_AVX2 1
#include "vec_x86.h"
#include "lanes_body.h"
