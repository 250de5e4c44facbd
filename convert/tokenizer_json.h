/* tokenizer_json.h - vocabularies from a Hugging Face tokenizer.json (already parsed with cJSON).
 *
 * Two shapes, as convert_hf_to_gguf.py distinguishes them for Llama-family models:
 *  - sentencepiece-style BPE (model.type "BPE", byte_fallback true, decoder type "Sequence",
 *    e.g. Mistral / Llama 2 exported by transformers) -> gguf-py LlamaHfVocab: model "llama",
 *    "<0xXX>" tokens BYTE, the named special tokens CONTROL, added tokens
 *    past the base vocab appended (USER_DEFINED unless special). No padding to vocab_size.
 *    Scores differ from LlamaHfVocab's (-1000.0 for every token, a placeholder that makes
 *    llama.cpp tokenize differently from Hugging Face): -r for the token merge number r produces
 *    first, -n_merges for tokens no merge produces, so that llama.cpp's highest-score-first merging
 *    follows the merge order (tests/convert/test_tokenize_parity.c checks the ids against Hugging Face's).
 *  - byte-level BPE (everything else of type BPE) -> get_vocab_base + SpecialVocab merges:
 *    model "gpt2", vocab_size slots ([PAD{i}] UNUSED for ids nobody has), added tokens
 *    CONTROL (special, or looks special) / USER_DEFINED (U+2581 -> ' '), others NORMAL;
 *    merges as "a b" (list-form pairs get ' ' written as U+0120, as gguf-py does); pre from
 *    the pre_tokenizer configuration (qk_pre_detect) unless overridden.
 */
#ifndef QK_TOKENIZER_JSON_H
#define QK_TOKENIZER_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "qk_error.h"
#include "vocab.h"

typedef enum { QK_TOKJSON_LLAMA_HF, QK_TOKJSON_BPE } qk_tokjson_kind;

/* Which importer convert_hf_to_gguf would use (LlamaHfVocab's checks). Fails if the file has no
 * model object or the model is not BPE (WordPiece/Unigram are not Llama-family tokenizers). */
int qk_tokjson_kind_of(const cJSON *tok, const char *name, qk_tokjson_kind *kind, qk_err *err);

/* Byte-level BPE. vocab_size: config.json vocab_size or 0 (then the number of distinct token
 * strings, as len(tokenizer.vocab)). pre_override: NULL or a name llama.cpp knows.
 * Fills model, pre, tokens, token_type, merges (may be 0: the caller then tries merges.txt). */
int qk_tokjson_bpe_vocab(const cJSON *tok, const char *name, uint64_t vocab_size, const char *pre_override,
                         const char *family_pre, qk_vocab *v, qk_err *err);

/* Sentencepiece-style BPE from tokenizer.json. special_texts: the tokenizer's
 * all_special_tokens (named special tokens + additional_special_tokens), n_special of them. */
int qk_tokjson_llama_hf_vocab(const cJSON *tok, const char *name, const char *const *special_texts,
                              size_t n_special, qk_vocab *v, qk_err *err);

/* The llama.cpp pre-tokenizer name matching tok's pre_tokenizer (and model.ignore_merges), from a
 * table of configurations known to quantkit. Several pre-tokenizers can share a configuration (StarCoder's,
 * Refact's, Command-R's, EXAONE 3's and SmolLM's: single digits, then GPT-2's regex; GLM-4's and Llama 3's):
 * family_pre (the name llama.cpp's converter gives the model family's own tokenizer, or NULL) is chosen when it
 * fits the configuration. Unknown or still ambiguous configurations fail with a message that describes the
 * configuration and names the --pre-tokenizer NAME override. */
int qk_pre_detect(const cJSON *tok, const char *name, const char *family_pre, const char **pre, qk_err *err);

/* Is name a pre-tokenizer llama.cpp (the pinned release) accepts in tokenizer.ggml.pre? */
int qk_pre_known(const char *name);

/* Appends tokenizer.json model.merges to v (string form or [a, b] pair form). A missing or empty
 * list adds nothing; any other shape fails. */
int qk_tokjson_merges(const cJSON *tok, const char *name, qk_vocab *v, qk_err *err);

#endif
