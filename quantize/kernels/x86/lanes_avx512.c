/* lanes_avx512.c - the AVX-512 build of the lane-wise Q2_K / Q3_K / IQ4 and
 * legacy-imatrix searches (lanes_body.h through x86/lanes_x86_body.h;
 * contract in lanes_x86.h). */
#define QK_LANES_AVX512 1
#include "vec_x86.h"
#include "lanes_x86_body.h"
