/* torch_file.h - a PyTorch checkpoint (pytorch_model.bin, *.pth: torch.save's
 * zip format since torch 1.6) as a tensor file, without running pickle.
 *
 * Layout: a zip archive (formats/zip.h) with <prefix>/data.pkl, the state
 * dict pickled (formats/pickle.h: nothing executed, whitelisted torch
 * rebuild functions only), and <prefix>/data/<key> per storage, the
 * storage's raw little-endian elements; <prefix>/byteorder when present must
 * say "little".
 *
 * qk_torch_open returns a qk_st_file like a safetensors file's: tensor
 * names, dtypes, shapes, and [begin, end) a contiguous byte range of each
 * tensor as if it were stored alone (the tensors' bytes in C order), so every
 * reader of qk_st_file (qk_st_read_raw, qk_st_read_f32, the HF folder, the
 * converter, info) works unchanged. Checked at open: exactly one data.pkl;
 * every storage present with exactly elements x element size bytes; every
 * tensor (offset, shape, strides) inside its storage.
 *
 * Reading: a tensor stored as contiguous rows in a STORED entry (what torch
 * writes) is read in place with pread, bounded memory; the entry's CRC-32 is
 * checked whenever its bytes are read in order to the end (a whole tensor read
 * row by row). A view (strides other than contiguous rows: a transposed
 * tensor) or a tensor in a DEFLATED entry is materialized once as contiguous
 * rows (its storage streamed once, CRC-checked), at most
 * QK_TORCH_MAX_MATERIALIZE bytes, else refused with a message saying so; the
 * last one materialized is kept for the following reads. Thread-safe. */
#ifndef QK_TORCH_FILE_H
#define QK_TORCH_FILE_H

#include "safetensors.h"

#define QK_TORCH_MAX_PICKLE ((uint64_t)256 << 20)
#define QK_TORCH_MAX_MATERIALIZE ((uint64_t)2 << 30)

struct qk_torch_file;

int qk_torch_open(const char *path, qk_st_file **out, qk_err *err);
/* qk_st_read_raw of a torch file (qk_st_read_raw dispatches here). */
int qk_torch_read_raw(const qk_st_file *f, const qk_st_tensor *t, uint64_t off, size_t n, void *dst, qk_err *err);
void qk_torch_free(struct qk_torch_file *tf);

/* Whether a file starts like a torch.save output (zip or the legacy pickle);
 * for choosing a reader by content. */
bool qk_torch_sniff(const char *path);

#endif
