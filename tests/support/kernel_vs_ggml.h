/* kernel_vs_ggml.h - one kernel against the pinned ggml, the step every
 * kernel test repeats: our quantized bytes == ggml_quantize_chunk's, our
 * dequantization of ggml's bytes == ggml's to_float; the sweep over the
 * input cases of kernel_cases.h; random bytes through both dequantizers. */
#ifndef QK_KERNEL_VS_GGML_H
#define QK_KERNEL_VS_GGML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "llama_ref.h"
#include "qk_test.h"

typedef struct {
    size_t got, want;               /* what k->quantize / ggml_quantize_chunk returned */
    size_t diff_at;                 /* first differing byte (where the shorter one ends if none) */
    unsigned ours_at, theirs_at;    /* the bytes there (0 past ggml's end) */
    bool quant_differs;             /* sizes or bytes differ */
    bool dequant_differs;           /* our dequantizer of ggml's bytes != ggml's to_float */
} kvg_result;

/* Adjusts our bytes before they are compared (only when the sizes agree),
 * for differences the test accepts on purpose; NULL for none. */
typedef void (*kvg_relax_fn)(qk_type t, unsigned char *ours, const unsigned char *theirs, size_t bytes);

/* Quantizes x (nrows rows of n values) with k (output prefilled 0xAA) and
 * with ggml_quantize_chunk (prefilled 0x55), same imatrix (may be NULL), and
 * compares; then dequantizes ggml's bytes with k and with ggml's to_float (a
 * copy for F32, which has none) and compares the floats bit for bit. Fills
 * *res; returns true when both agree. */
bool kvg_compare(const llama_ref *r, const qk_kernel *k, const float *x, int64_t nrows, int64_t n,
                 const float *imatrix, kvg_relax_fn relax, kvg_result *res);

/* kvg_compare's quantized bytes of k == ggml's on nrows rows of n values at x
 * (no imatrix); when not, a failed CHECK naming the type, k's ISA, what (the
 * input case), the blocks per row and the first differing byte. */
bool kvg_same_quant(const llama_ref *r, const qk_kernel *k, const float *x, int64_t nrows, int64_t n, const char *what);

/* For each row length lens[0..nl-1], without and then with an imatrix
 * (qk_quant_imatrix(len)), and every case c of kernel_cases.h (row i filled
 * with kc_fill(c, i * 131 + len)): kvg_compare on 3 rows; each mismatch fails
 * a CHECK naming type, case, length and first differing byte. Prints the
 * per-type tally and returns the number of mismatched combinations. */
int kvg_sweep_cases(const llama_ref *r, const qk_kernel *k, const int64_t *lens, int nl, kvg_relax_fn relax);

/* Dequantizes the row of n values made of random bytes from g (any scale,
 * code, NaN/inf) with k and with ggml's to_float; true when bit-identical. */
bool kvg_dequant_random_matches(const llama_ref *r, const qk_kernel *k, int64_t n, qk_rng *g);

/* For each type's scalar kernel in turn, kvg_dequant_random_matches on n
 * values (one generator seeded with seed across the types); a failed CHECK
 * names the type (and one fails when the reference or a kernel is missing). */
void kvg_check_dequant_random(const qk_type *types, size_t n_types, int64_t n, uint64_t seed);

/* The kernels of type t this CPU runs, into out[0..QK_ISA_COUNT-1]: the
 * scalar one first, then each ISA variant that is one (not the scalar
 * kernel standing in). Returns how many. */
int kvg_variants(qk_type t, const qk_kernel **out);

/* One kernel against ggml on the rows it fills at x (room for the x_floats
 * given to kvg_variants_vs_ggml): returns the mismatched row sets (each
 * after a failed CHECK naming it). */
typedef int (*kvg_rows_fn)(const llama_ref *r, const qk_kernel *k, float *x);

/* For each of types[0..nt-1], its scalar kernel and each variant this CPU
 * runs (kvg_variants; a failed CHECK when a type has none): rows(r, k, x)
 * and a line "  <type> <isa> vs ggml: ok|MISMATCH". A failed CHECK when the
 * pinned llama.cpp cannot be loaded (llama_ref_require). */
void kvg_variants_vs_ggml(const qk_type *types, int nt, int64_t x_floats, kvg_rows_fn rows);

#endif
