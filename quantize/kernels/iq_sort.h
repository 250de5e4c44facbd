/* iq_sort.h - the (value, index) pair sort of ggml's IQ1_S / IQ1_M
 * quantizers, in the order glibc's qsort gives, without calling libc.
 * Internal to quantize/kernels/.
 *
 * ggml (quantize_row_iq1_s_impl, quantize_row_iq1_m_impl) sorts each
 * sub-block's pairs with qsort and iq1_sort_helper, which returns -1 / 1 / 0
 * (so NaN compares equal to everything). qsort is not stable by contract and
 * NaN makes that comparator inconsistent, so the order of ties and NaN is the
 * C library's. On glibc (2.36 in Debian 12; later releases kept it) an array
 * this small (total size under 1024 bytes, elements of at most 32 bytes) goes
 * to msort_with_tmp of stdlib/msort.c, a top-down merge sort: n1 = n / 2,
 * n2 = n - n1, each half sorted the same way, then merged into a temporary,
 * taking from the left run while cmp(left, right) <= 0 (here: while
 * !(left.x > right.x)), the left run's remainder after it, and the right
 * run's remainder left in place. iq_sort_pairs does exactly those merges on
 * exactly those runs, so it orders every input as ggml on glibc does, ties,
 * signed zeros and NaN included (test_kernels_simd_iq checks it, as
 * compiled for each ISA, against the C library's qsort), and quantkit's
 * bytes no longer depend on the C library.
 *
 * Without NaN the comparator is a total preorder and that merge sort is
 * stable, so its result is the one stable order: element i goes to
 * #{j : x[j] < x[i]} + #{j < i : x[j] == x[i]}. iq_sort_pairs computes those
 * ranks (branch-free compares the compiler vectorizes; without ties, the
 * usual case, only the first count, for every i at once) and uses the
 * merges only for a sub-block holding a NaN.
 */
#ifndef QK_IQ_SORT_H
#define QK_IQ_SORT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ggml's pair: the value and its index in the sub-block. */
typedef struct {
    float x;
    int i;
} iq_pair;

enum { IQ_SORT_MAX = 32 }; /* IQ1S_BLOCK_SIZE, the largest sub-block sorted */

/* msort_with_tmp's order on p[0..n-1] (n <= IQ_SORT_MAX), tmp of n. */
static inline void iq_merge_sort(iq_pair *p, int n, iq_pair *tmp) {
    if (n <= 1) return;
    const int n1 = n / 2;
    iq_merge_sort(p, n1, tmp);
    iq_merge_sort(p + n1, n - n1, tmp);
    int a = 0, b = n1, k = 0;
    while (a < n1 && b < n) tmp[k++] = p[a].x > p[b].x ? p[b++] : p[a++];
    while (a < n1) tmp[k++] = p[a++];
    for (int j = 0; j < k; ++j) p[j] = tmp[j]; /* p[b..n-1] already in place */
}

/* The stable ranks' order (no NaN in xb[0..n-1]). */
static inline void iq_sort_ranks(const float *xb, int n, iq_pair *pairs) {
    for (int i = 0; i < n; ++i) {
        const float v = xb[i];
        int rank = 0;
        for (int j = 0; j < n; ++j) rank += (xb[j] < v) | ((xb[j] == v) & (j < i));
        pairs[rank] = (iq_pair){v, i};
    }
}

/* The same order when no two of xb[0..n-1] (n a multiple of 8, no NaN)
 * compare equal, then only #{j : x[j] < x[i]} counts; false, nothing
 * written, if two do (their counts are then equal, so the ranks are not a
 * permutation). Every i at once, one j at a time, in 8-lane vectors. */
static inline bool iq_sort_distinct(const float *xb, int n, iq_pair *pairs) {
    typedef float v8f __attribute__((vector_size(32)));
    typedef int32_t v8i __attribute__((vector_size(32)));
    v8f x[IQ_SORT_MAX / 8];
    v8i r[IQ_SORT_MAX / 8];
    memcpy(x, xb, sizeof(float) * (size_t)n);
    memset(r, 0, sizeof r);
    for (int j = 0; j < n; ++j)
        for (int q = 0; q < n / 8; ++q) r[q] -= xb[j] < x[q]; /* a true lane is -1 */
    int32_t rank[IQ_SORT_MAX];
    memcpy(rank, r, sizeof(int32_t) * (size_t)n);
    uint32_t seen = 0;
    for (int i = 0; i < n; ++i) seen |= 1u << rank[i];
    if (seen != (uint32_t)((1ull << n) - 1)) return false;
    for (int i = 0; i < n; ++i) pairs[rank[i]] = (iq_pair){xb[i], i};
    return true;
}

/* pairs[j] = (xb[j], j) for j < n (n <= IQ_SORT_MAX), sorted as ggml's qsort
 * on glibc sorts them. */
static inline void iq_sort_pairs(const float *xb, int n, iq_pair *pairs) {
    int nan = 0;
    for (int j = 0; j < n; ++j) nan |= xb[j] != xb[j];
    if (nan) {
        iq_pair tmp[IQ_SORT_MAX];
        for (int j = 0; j < n; ++j) pairs[j] = (iq_pair){xb[j], j};
        iq_merge_sort(pairs, n, tmp);
        return;
    }
    /* the two sizes sorted (IQ1_S, IQ1_M) as constants: whole vectors */
    if (n == 32 ? iq_sort_distinct(xb, 32, pairs) : n == 16 && iq_sort_distinct(xb, 16, pairs)) return;
    if (n == 32) iq_sort_ranks(xb, 32, pairs);
    else if (n == 16) iq_sort_ranks(xb, 16, pairs);
    else iq_sort_ranks(xb, n, pairs);
}

#endif
