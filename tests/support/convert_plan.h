/* convert_plan.h - the converter's plan for a checkpoint (a dry run, nothing written) as the tests read it: the caveat
 * it carries for families llama.cpp computes otherwise than the model, and the GGUF architecture. */
#ifndef QK_CONVERT_PLAN_H
#define QK_CONVERT_PLAN_H

#include <stddef.h>

#include "convert_model.h"

/* A dry run converting dir to type (nothing written): QK_OK with *rep filled (the caller frees it with
 * qk_convert_report_free), or QK_FAIL after a failed CHECK with the converter's message. */
int convert_plan(const char *dir, const char *type, qk_convert_report *rep);

/* The plan of a Q8_0 conversion of dir: with n > 0 its caveat holds each of words[0..n), with n 0 it has none; its
 * architecture is arch unless arch is NULL. Failed CHECKs naming dir otherwise (the dry run failing too). */
void convert_check_caveat(const char *dir, const char *arch, const char *const *words, size_t n);

#endif
