/* convert_variant.h - a tiny checkpoint converted as written, then again after the test edits it: the steps of the
 * convert tests that prove a variant of a config (another spelling of a key, keys left to their defaults) gives the
 * same file, or is refused, against the file the checkpoint gave as written. */
#ifndef QK_CONVERT_VARIANT_H
#define QK_CONVERT_VARIANT_H

#include "convert_run.h"
#include "qk_error.h"

typedef struct {
    char dir[700];    /* the checkpoint: "<tmp>/<name>/hf" */
    char config[800]; /* its config.json, for the test's edits */
    char a[800];      /* the file as written: "<tmp>/<name>-a.gguf" */
    char b[800];      /* the file after the edits: "<tmp>/<name>-b.gguf" */
    const char *type;
    int threads;
} convert_variant;

/* The checkpoint of spec(arch) written to v's dir and converted to type with `threads` threads at v->a: 0, or -1
 * after a failed CHECK naming what failed. */
int convert_variant_start(convert_variant *v, const char *name, convert_spec_fn spec, const char *arch, const char *type,
                          int threads);

/* v's dir, as edited since, converted to v->b as convert_variant_start converted it: a failed CHECK with the
 * converter's message unless that succeeds. 0 when it did. */
int convert_variant_converts(const convert_variant *v);

/* Converting v's dir, as edited since, to v->b fails with a message holding want (failed CHECKs otherwise). */
void convert_variant_refused(const convert_variant *v, const char *want);

#endif
