/* family_check.h - the loop the end-to-end convert tests of the tiny families share: the HF folder converted to
 * each type of a table, loaded in llama.cpp, its metadata read back, its logits compared with the reference's
 * (logit_match.h), the file compared with the folder, and the F16 file's tensor types. A test names its family's
 * own checks through the two callbacks. */
#ifndef QK_FAMILY_CHECK_H
#define QK_FAMILY_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "llama_run.h"
#include "logit_match.h"

/* One output type and the largest relative logit error it may have: at every position when all, else only where
 * the reference routes with a margin >= the check's margin_min. */
typedef struct {
    const char *type;
    double tol;
    bool all;
} family_type;

typedef struct family_check family_check;
struct family_check {
    const char *arch, *dtype; /* the files are "<tmp>/tiny-<arch>-<dtype>-<type>.gguf", the messages "<arch> <dtype> -> <type>" */
    const char *dir;          /* the HF folder converted */
    const logit_ref *r;       /* the reference's logits of dir */
    const family_type *types;
    size_t n_types;
    double margin_min;
    const char *pre;          /* the GGUF architecture: the KVs below are "<pre>.<key>" */
    const char *(*kv)[2];     /* llama.cpp reads kv[i][0] as the text kv[i][1], i < n_kv */
    size_t n_kv;
    bool compare;             /* qk_compare the file with dir (the F32 file exactly) and every tensor of it */
    int n_tensors;            /* the file holds this many tensors (0: not checked) */
    const char *const *f32s;  /* the F16 file: convert_check_f16_types with these F32 names (n_f32s 0: not checked) */
    size_t n_f32s;
    /* optional: more checks of the loaded model, before its logits are compared */
    void (*on_model)(const family_check *fc, llama_run_model *m, const char *what);
    /* optional: more checks of the file out */
    void (*on_file)(const family_check *fc, const char *out, const char *what);
    const void *ctx;          /* the test's own, for the callbacks */
};

/* F32 within 1e-4 and F16 within 5e-3 at every position (llama.cpp's F16 KV cache alone costs ~1e-5 on the tiny
 * hybrids), Q8_0 within 0.06: routed, only where the routing has a margin; dense, at every position. */
extern const family_type family_types_routed[3], family_types_dense[3];

/* For each type of fc->types: convert, load, check as above; every failure a failed CHECK naming the type. */
void family_check_run(const family_check *fc);

#endif
