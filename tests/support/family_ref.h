/* family_ref.h - the first step of the tiny families' end-to-end convert tests (family_check.h): the test's tiny
 * checkpoint of a family, stored in a dtype, and the reference's logits of it. */
#ifndef QK_FAMILY_REF_H
#define QK_FAMILY_REF_H

#include <stddef.h>

#include "convert_run.h"
#include "logit_match.h"

/* spec(arch) stored in dtype ("BF16", "F32"), written to dir = "<tmp>/tiny-<arch>-<dtype>/hf", and r its reference
 * logits (logit_ref_tiny): 0, or -1 after a skip (llama.cpp's libraries are not available) or a failed CHECK. */
int family_ref(logit_ref *r, char *dir, size_t n, convert_spec_fn spec, const char *arch, const char *dtype);

#endif
