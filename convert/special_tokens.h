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

#endif
