/* weight_dict.h - an in-memory checkpoint for the reference forward pass
 * tests: named float32 tensors of 1 or 2 dimensions (PyTorch order), with
 * wd_get as the hf_forward tensor provider (ctx = the wdict).
 *
 * A zero-initialized wdict is empty; wd_free empties it again (and it can be
 * reused). wd_put returns zeroed storage for a new tensor (d1 < 0: one
 * dimension); wd_rand fills it with mean + sd * gauss(r). Lookups are by
 * exact name; the edits (scale, rename, remove) do nothing for an absent
 * name. */
#ifndef QK_TEST_WEIGHT_DICT_H
#define QK_TEST_WEIGHT_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "qk_test.h"

typedef struct {
    char name[128];
    int64_t shape[2]; /* PyTorch order */
    int nd;
    float *data;
} wt_t;

typedef struct {
    wt_t *t;
    int n, cap;
} wdict;

float *wd_put(wdict *d, const char *name, int64_t d0, int64_t d1);
float *wd_rand(wdict *d, qk_rng *r, const char *name, int64_t d0, int64_t d1, float mean, float sd);
size_t wd_numel(const wt_t *t);
wt_t *wd_find(wdict *d, const char *name);
const float *wd_get(void *ctx, const char *name, int64_t *shape, int *nd);
void wd_free(wdict *d);
/* dst (empty) becomes a deep copy of src. */
void wd_copy(wdict *dst, const wdict *src);
void wd_scale(wdict *d, const char *name, float c);
void wd_rename(wdict *d, const char *from, const char *to);
void wd_remove(wdict *d, const char *name);

#endif
