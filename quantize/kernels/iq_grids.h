/* iq_grids.h - the lattice codebooks of the IQ1/IQ2/IQ3 formats and the
 * search structures the quantizers build from them.
 *
 * The grids are part of the file format: a block stores indices into them,
 * and every reader must expand an index to the same 8 (IQ1/IQ2) or 4 (IQ3)
 * coordinates. qk_iq*_grid hold the values of ggml-common.h of llama.cpp
 * commit 80fb11ac (tag v0.4.0, the pinned release), one byte per coordinate,
 * element k of a point in byte k (little-endian):
 *   IQ2_XXS/IQ2_XS/IQ2_S  coordinates {8, 25, 43}          (x d/8 when decoded)
 *   IQ3_XXS               {4, 12, 20, 28, 36, 44, 52, 62}
 *   IQ3_S                 {1, 3, 5, ..., 15}
 *   IQ1_S/IQ1_M           int8 {-1, 0, +1}
 * test_kernels_iq_grid proves every point equal to the pinned build by
 * dequantizing it through ggml's to_float.
 *
 * qk_lattice_get() returns the search view of one grid: each coordinate as
 * its level l (0, 1, 2, ...) stored as 2l+1, the map from a packed level
 * vector to its grid point, and for each packed vector that is not a grid
 * point the list of nearby grid points the quantizer tries (ggml's
 * iq2xs_init_impl / iq3xs_init_impl neighbour rule). Built once, lazily and
 * thread-safely (pthread_once), on first use; never freed.
 */
#ifndef QK_IQ_GRIDS_H
#define QK_IQ_GRIDS_H

#include <stdint.h>

extern const uint64_t qk_iq2xxs_grid[256];
extern const uint64_t qk_iq2xs_grid[512];
extern const uint64_t qk_iq2s_grid[1024];
extern const uint32_t qk_iq3xxs_grid[256];
extern const uint32_t qk_iq3s_grid[512];
extern const uint64_t qk_iq1s_grid[2048];

/* The 7 stored sign bits of a group of 8 expanded to 8: bit 7 makes the
 * number of negative signs even (ggml's ksigns_iq2xs[s]). */
static inline uint8_t qk_iq_signs8(uint32_t s7) {
    uint32_t p = s7 & 127;
    uint32_t par = p ^ (p >> 4);
    par ^= par >> 2;
    par ^= par >> 1;
    return (uint8_t)(p | ((par & 1) << 7));
}

typedef enum {
    QK_LATTICE_IQ2XXS,
    QK_LATTICE_IQ2XS,
    QK_LATTICE_IQ2S,
    QK_LATTICE_IQ1S, /* IQ1_S and IQ1_M */
    QK_LATTICE_IQ3XXS,
    QK_LATTICE_IQ3S,
    QK_LATTICE_COUNT
} qk_lattice_id;

typedef struct qk_lattice {
    int ngrid;                  /* grid points */
    int dim;                    /* coordinates per point: 8 or 4 */
    int bits;                   /* bits per level in a packed vector: 2 or 3 */
    const int8_t *pos;          /* [ngrid * dim] 2l+1 of each coordinate */
    const int32_t *map;         /* [1 << bits*dim] packed levels -> grid point j >= 0,
                                   or -(o+1): neighbours[o] = count, then the points */
    const uint16_t *neighbours;
    /* [as neighbours, + 16 zeros] the packed levels of each listed point
     * (zero at the counts), for the SIMD searches: W consecutive entries
     * load as one vector, and a load past the last list stays in bounds */
    const uint16_t *nb_levels;
    int levels;                 /* distinct levels per coordinate: 3 or 8 */
} qk_lattice;

/* The lattice, built on first call; NULL only if memory ran out. */
const qk_lattice *qk_lattice_get(qk_lattice_id id);

#endif
