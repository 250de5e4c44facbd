/* iq_search_avx512.c - the AVX-512 build of the IQ1/IQ2/IQ3 neighbour
 * search (iq_search_body.h; contract: iq_best_neighbour in iq_search.h) and
 * scale scan (iq_scan_body.h; contract: iq_scan_scale). */
#define QK_LANES_AVX512 1
#include "vec_x86.h"
#include "iq_search_body.h"
#define IQS_VW 16
#define IQS_ANY(m) (_mm512_movepi32_mask((__m512i)(m)) != 0)
#define IQS_MASK8(m) ((unsigned)_mm256_movemask_ps((__m256)(m)))
#include "iq_scan_body.h"

const iq_ops qk_iq_ops_avx512 = {qk_iq_best_neighbour_avx512, iqs_scan_scale, iqs_iq1_split, iqs_make_qp_quants,
                                 iq_sort_pairs, iqs_make_qp_quantsn};
