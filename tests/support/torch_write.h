/* torch_write.h - writes PyTorch checkpoints (torch.save's zip format) by the
 * format's specification, for the tests (torch is not installable here):
 * a pickle protocol 2 state dict as torch's pickler emits it
 * (collections.OrderedDict, torch._utils._rebuild_tensor_v2 with typed
 * storage persistent ids, _rebuild_parameter, the state dict's _metadata
 * BUILD), stored in <prefix>/data.pkl beside <prefix>/data/<key> per storage,
 * <prefix>/version and <prefix>/byteorder, each entry's data aligned to 64
 * bytes as torch's writer does. Plus a byte builder for hand-made pickles. */
#ifndef QK_TORCH_WRITE_H
#define QK_TORCH_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- raw pickle bytes ---- */
typedef struct pk_buf {
    uint8_t *b;
    size_t len, cap;
    uint32_t memo;   /* next BINPUT index */
} pk_buf;
void pk_bytes(pk_buf *p, const void *d, size_t n);
void pk_op(pk_buf *p, uint8_t op);
void pk_int(pk_buf *p, int64_t v);          /* BININT1/BININT2/BININT/LONG1 as pickle chooses */
void pk_str(pk_buf *p, const char *s);      /* BINUNICODE */
void pk_global(pk_buf *p, const char *module, const char *name); /* GLOBAL */
void pk_put(pk_buf *p);                     /* BINPUT next */

typedef struct tw_tensor {
    const char *name;
    const char *key;          /* storage key (file <prefix>/data/<key>) */
    const char *cls;          /* "FloatStorage", "HalfStorage", "BFloat16Storage", ... */
    uint64_t storage_numel;
    uint64_t offset;
    int nd;
    int64_t shape[4], stride[4];
    bool parameter;           /* wrapped in torch._utils._rebuild_parameter */
} tw_tensor;

/* The state dict pickle (malloc'd, *len bytes). */
uint8_t *tw_pickle(const tw_tensor *t, size_t n, bool ordered_dict, size_t *len);

typedef struct tw_storage {
    const char *key;
    const void *data;
    size_t nbytes;
    bool deflate;
} tw_storage;

/* Writes the archive; 0 on success. */
int tw_write_bin(const char *path, const char *prefix, const tw_tensor *t, size_t n, const tw_storage *s, size_t ns,
                 bool zip64);

#endif
