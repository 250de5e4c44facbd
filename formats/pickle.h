/* pickle.h - reading the pickle torch.save writes (data.pkl) without
 * executing anything.
 *
 * A stack machine over the opcodes of protocols 2-5 that torch's pickler
 * emits. Nothing is imported or called: GLOBAL / STACK_GLOBAL only name a
 * callable, and a name outside this whitelist is refused on the spot:
 *   torch._utils._rebuild_tensor_v2, torch._utils._rebuild_tensor,
 *   torch._utils._rebuild_parameter, torch._utils._rebuild_parameter_with_state
 *       -> a tensor description (storage, offset, shape, strides)
 *   collections.OrderedDict -> a dict
 *   torch.{Double,Float,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage
 *       -> only inside a persistent id ('storage', class, key, location, numel)
 * REDUCE on anything else, BUILD on anything but a dict (whose state - the
 * state_dict's _metadata - is dropped), INST/OBJ/NEWOBJ, persistent ids of
 * another shape, out-of-band buffers (protocol 5 NEXT_BUFFER), extension
 * codes and unknown opcodes are refused. Bounded: containers nest at most
 * QK_PICKLE_MAX_DEPTH deep, the stack and memo are bounded, every length is
 * checked against the bytes left. Errors: "<label>: opcode NAME at offset N:
 * ..." naming the global where one is involved.
 *
 * The result is the state dict: the top-level dict of the pickle, or (for
 * .pth training checkpoints) its "state_dict" / "model" / "module" entry when
 * the top level holds no tensor. Non-tensor values are skipped. */
#ifndef QK_PICKLE_H
#define QK_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"
#include "safetensors.h"

#define QK_PICKLE_MAX_DEPTH 64

typedef struct qk_pt_tensor {
    char *name;
    qk_st_dtype dtype;
    char *storage_key;        /* the storage's bytes are <prefix>/data/<storage_key> */
    uint64_t storage_numel;   /* elements of the storage, as its persistent id says */
    uint64_t offset;          /* storage offset in elements */
    int n_dims;
    int64_t shape[QK_ST_MAX_DIMS];  /* PyTorch order */
    int64_t stride[QK_ST_MAX_DIMS]; /* elements */
    uint64_t n_elements;
    uint64_t span;            /* elements from offset to the last one addressed + 1 (0 if empty) */
} qk_pt_tensor;

typedef struct qk_pt_state {
    size_t n;
    qk_pt_tensor *tensors;    /* in pickle order */
} qk_pt_state;

int qk_pickle_state_dict(const char *label, const uint8_t *data, size_t len, qk_pt_state *out, qk_err *err);
void qk_pt_state_free(qk_pt_state *s);

/* Whether a tensor is stored as contiguous rows (C order) from its offset. */
int qk_pt_tensor_contiguous(const qk_pt_tensor *t);

#endif
