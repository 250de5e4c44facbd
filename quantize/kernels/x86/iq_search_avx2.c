/* iq_search_avx2.c - the AVX2 build of the IQ1/IQ2/IQ3 neighbour search
 * (iq_search_body.h; contract: iq_best_neighbour in iq_search.h). */
#define QK_LANES_AVX2 1
#include "vec_x86.h"
#include "iq_search_body.h"
