/* convert_run.h - qk_convert_model with the options the convert tests share. */
#ifndef QK_CONVERT_RUN_H
#define QK_CONVERT_RUN_H

#include <stddef.h>

#include "gguf.h"
#include "llama_run.h"
#include "qk_error.h"
#include "tiny_hf.h"

/* Converts the HF folder dir to out (type "f16", "q4_k_m", ...; default
 * output tensor type) with `threads` threads; QK_OK or QK_FAIL with err set. */
int convert_run(const char *dir, const char *out, const char *type, int threads, qk_err *err);

/* The tiny checkpoint of s written to dir = "<tmp>/<name>/hf": 0, or -1 after a failed CHECK naming dir. */
int convert_write_tiny(char *dir, size_t n, const char *name, const tiny_hf_spec *s);

/* Converting dir (to "<dir>.gguf", F16) fails with a message containing
 * want and leaves no output: failed CHECKs otherwise. */
void convert_expect_refusal(const char *dir, const char *want);

/* Replaces the first `from` in the file at path with `to` (any lengths; in
 * a .safetensors file inside the header, whose length prefix is updated). */
void convert_edit_file(const char *path, const char *from, const char *to);

/* A checkpoint of spec s written to dir converts as written; after
 * convert_edit_file(<dir>/<file>, from, to) it is refused with a message
 * holding want and naming dir, and leaves no output (failed CHECKs
 * otherwise). */
void convert_expect_edit_refusal(const char *dir, const tiny_hf_spec *s, const char *file, const char *from,
                                 const char *to, const char *want);

/* One edit a checkpoint of family arch is refused after: in <dir>/<file>,
 * the first `from` becomes `to`; the message holds want. */
typedef struct {
    const char *arch, *file, *from, *to, *want;
} convert_edit_case;

/* Fills s for a checkpoint of family arch (a test's sizes for it). */
typedef void (*convert_spec_fn)(tiny_hf_spec *s, const char *arch);

/* convert_expect_edit_refusal for each case i, on a checkpoint of
 * spec(cases[i].arch) in "<tmp>/<tag>-<i>/hf". */
void convert_expect_edit_refusals(const char *tag, const convert_edit_case *cases, size_t n, convert_spec_fn spec);

/* For each row {quantization_config JSON, message}: a copy of the model
 * folder src declaring that config (its safetensors as they are, in
 * "<tmp>/<tag>-<row>") is refused with that message. */
void convert_expect_quant_refusals(const char *src, const char *tag, const char *const q[][2], size_t n);

/* Every tensor of the GGUF file out is F32 when its name (after "blk.N.") is one of f32_names[0..n), else F16: the
 * converter's F16 file (a failed CHECK naming what and the tensor otherwise). */
void convert_check_f16_types(const char *out, const char *const *f32_names, size_t n, const char *what);

/* convert_check_kv of "<arch>.<kv[i][0]>" against kv[i][1] for i < n */
void convert_check_arch_kvs(llama_run_model *m, const char *arch, const char *(*kv)[2], size_t n);

/* The KVs of the GGUF file out under "<arch>." and general.file_type are, in file order, exactly order[0..n) (the
 * names after "<arch>.", and "general.file_type"): a failed CHECK naming what and the first place they differ. */
void convert_check_kv_order(const char *out, const char *arch, const char *const *order, size_t n, const char *what);

/* Sets key in dir's config.json to the JSON text json (NULL: removes it),
 * inside text_config when the config has one, else at the top level. */
void convert_edit_config(const char *dir, const char *key, const char *json);

/* A dry-run F16 conversion of dir is refused with a message holding needle
 * (failed CHECKs naming what otherwise). */
void convert_expect_dry_refusal(const char *dir, const char *what, const char *needle);

/* A dry-run F16 conversion of dir succeeds and its plan leaves out exactly
 * the prefixes of want, each followed by ';' in the plan's order ("" for
 * none), each group holding at least one tensor of some bytes. */
void convert_check_left_out(const char *dir, const char *want);

/* A checkpoint of spec s written to dir, with key of its config.json set to
 * json (NULL: removed; see convert_edit_config), is refused by a dry run
 * with a message holding want (convert_expect_dry_refusal; what names the
 * case in failures). */
void convert_expect_config_refusal(const char *dir, const tiny_hf_spec *s, const char *key, const char *json,
                                   const char *what, const char *want);

/* One row of convert_expect_config_refusals_in. */
typedef struct {
    const char *key, *json, *what, *want;
} convert_config_case;

/* convert_expect_config_refusal's check for each row on the checkpoint already in dir (one not written from a
 * spec): each row's key set, the dry run refused, the key's value put back (removed when it had none). */
void convert_expect_config_refusals_in(const char *dir, const convert_config_case *cases, size_t n);

/* Element i of the string array KV key of gf (tokenizer.ggml.tokens ...), or NULL. */
const char *convert_gguf_str_at(const qk_gguf_file *gf, const char *key, uint64_t i);

/* llama.cpp reads the metadata key of m as the text want. */
void convert_check_kv(const llama_run_model *m, const char *key, const char *want);

#endif
