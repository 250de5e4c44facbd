/* logit_ref_as.c - see logit_ref_as.h */
#include "logit_ref_as.h"

#include <stdio.h>

#include "convert_run.h"

int logit_ref_hf_as(logit_ref *r, const char *dir, const char *mt, const char *written) {
    char json[128];
    snprintf(json, sizeof json, "\"%s\"", mt);
    convert_edit_config(dir, "model_type", json);
    const int rc = logit_ref_hf(r, dir);
    snprintf(json, sizeof json, "\"%s\"", written);
    convert_edit_config(dir, "model_type", json);
    return rc;
}
