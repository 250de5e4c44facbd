/* special_tokens.h - special token ids, add_bos/add_eos/add_sep and chat templates of a Hugging Face
 * folder, decided exactly as gguf-py's SpecialVocab does:
 *   1. tokenizer.json (if any): normalizer Lowercase/StripAccents flags; the post_processor
 *      (RobertaProcessing, or a crude reading of TemplateProcessing) infers add_bos/add_eos/add_sep
 *      and may fill in missing bos/cls/eos/sep texts, or demote a replaced eos to eot (then eom);
 *   2. tokenizer_config.json (if any and non-empty): chat_template (string or list of {name, template};
 *      else chat_template.jinja (+ additional_chat_templates/NAME.jinja) or chat_template.json);
 *      add_{bos,eos,sep,...}_token booleans override step 1; each {role}_token text (or {"content"})
 *      is looked up among tokenizer.json's added_tokens (first with that content) -> its id;
 *   3. config.json {role}_token_id integers (or text_config's) for roles still unset.
 * The first id found for a role wins; ids >= n_vocab are dropped (when n_vocab >= 0); a negative id fails.
 * special_tokens_map.json is not read (SpecialVocab does not read it either).
 */
#ifndef QK_SPECIAL_TOKENS_H
#define QK_SPECIAL_TOKENS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "qk_error.h"
#include "vocab.h"

/* tok: the parsed tokenizer.json or NULL. tcfg: the parsed tokenizer_config.json or NULL.
 * Fills v->special, add_bos/add_eos/add_sep, normalizer_*, chat_template, named_templates. */
int qk_special_vocab_load(const char *dir, const cJSON *tok, const cJSON *tcfg, int64_t n_vocab, qk_vocab *v,
                          qk_err *err);

/* CodeGemma's fixed ids, as convert_hf_to_gguf's GemmaModel.set_vocab writes them for the "gemma"
 * architecture (GemmaForCausalLM: Gemma 1 and CodeGemma; not Gemma 2): after the usual SpecialVocab,
 * a second SpecialVocab over the same folder with special_token_types prefix, suffix, middle, fsep,
 * eot (no vocab size: ids are not range-checked), then _set_special_token prefix 67, suffix 69,
 * middle 68, fsep 70, eot 107 (each only if the files did not give one), then add_to_gguf. The pinned
 * gguf-py has no writer for prefix/suffix/middle/fsep ids, so of those only eot reaches the GGUF:
 * the files' eot (tokenizer_config eot_token among tokenizer.json added_tokens, else config.json
 * eot_token_id), else 107. The second add_to_gguf also overwrites add_bos/add_eos/add_sep with what
 * this pass infers from tokenizer.json's post_processor (tokenizer_config's add_bos_token etc. are not
 * among its types), eom if its TemplateProcessing demotes eos (to eom: eot is already a type), and
 * the normalizer flags. Reads tokenizer.json / tokenizer_config.json / config.json again, as Python
 * does. Call after qk_vocab_load_hf (convert_model.c does for arch "gemma"). */
#define QK_GEMMA_EOT_ID 107
int qk_special_vocab_gemma(const char *dir, qk_vocab *v, qk_err *err);

#endif
