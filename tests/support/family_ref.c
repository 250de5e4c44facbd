/* family_ref.c - see family_ref.h */
#include "family_ref.h"

int family_ref(logit_ref *r, char *dir, size_t n, convert_spec_fn spec, const char *arch, const char *dtype) {
    tiny_hf_spec s;
    spec(&s, arch);
    s.dtype = dtype;
    return logit_ref_tiny(r, &s, dir, n);
}
