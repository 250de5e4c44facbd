/* vocab.h - a tokenizer vocabulary as llama.cpp's GGUF stores it, independent of the source format.
 *
 * The importers (sentencepiece_model.c, tokenizer_json.c, special_tokens.c, vocab_hf.c) fill a
 * qk_vocab exactly as llama.cpp's convert_hf_to_gguf.py + gguf-py SpecialVocab would, and the GGUF
 * writer maps it 1:1 to KVs:
 *   model            -> tokenizer.ggml.model        ("llama" = sentencepiece, "gpt2" = byte-level BPE,
 *                                                   "gemma4" = Gemma 4's sentencepiece-style BPE)
 *   pre              -> tokenizer.ggml.pre          (set by the importers except for "gemma4")
 *   tokens           -> tokenizer.ggml.tokens       (string array, n_tokens)
 *   scores           -> tokenizer.ggml.scores       (f32 array; NULL = not written, as for "gpt2")
 *   token_type       -> tokenizer.ggml.token_type   (i32 array)
 *   merges           -> tokenizer.ggml.merges       (string array "a b"; n_merges == 0 = not written)
 *   special[QK_SPECIAL_x] >= 0 -> the u32 key named by qk_special_key(x) (cls has no key: not written)
 *   add_bos/add_eos/add_sep/add_space_prefix != QK_TRI_UNSET -> tokenizer.ggml.add_*  (bool)
 *   normalizer_lowercase / normalizer_strip_accents != UNSET -> tokenizer.ggml.normalizer_* (bool)
 *   chat_template    -> tokenizer.chat_template (NULL = not written)
 *   named templates  -> tokenizer.chat_template.<name> each, plus tokenizer.chat_templates = names
 */
#ifndef QK_VOCAB_H
#define QK_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

/* llama.cpp's llama_token_type / gguf TokenType values. */
enum {
    QK_TOKEN_NORMAL = 1,
    QK_TOKEN_UNKNOWN = 2,
    QK_TOKEN_CONTROL = 3,
    QK_TOKEN_USER_DEFINED = 4,
    QK_TOKEN_UNUSED = 5,
    QK_TOKEN_BYTE = 6,
};

typedef enum { QK_TRI_UNSET = -1, QK_TRI_FALSE = 0, QK_TRI_TRUE = 1 } qk_tri;

/* Special token roles, in gguf-py SpecialVocab's order (bos..mask), then the
 * ones it adds on demand. */
enum {
    QK_SPECIAL_BOS,
    QK_SPECIAL_EOS,
    QK_SPECIAL_UNK,
    QK_SPECIAL_SEP,
    QK_SPECIAL_PAD,
    QK_SPECIAL_CLS,
    QK_SPECIAL_MASK,
    QK_SPECIAL_EOT,
    QK_SPECIAL_EOM,
    QK_SPECIAL_COUNT
};

typedef struct qk_named_template {
    char *name;     /* sanitized as gguf-py does: [A-Za-z0-9] kept, others '_' */
    char *text;
} qk_named_template;

typedef struct qk_vocab {
    char *model;            /* "llama", "gpt2" or "gemma4" */
    char *pre;              /* pre-tokenizer name ("default" for "llama"; NULL for "gemma4": not written) */
    size_t n_tokens;
    char **tokens;          /* NUL-terminated UTF-8; token_len[i] bytes (no embedded NUL) */
    uint32_t *token_len;
    float *scores;          /* NULL when the format has none ("gpt2") */
    int32_t *token_type;    /* QK_TOKEN_* */
    size_t n_merges;
    char **merges;          /* "left right" */
    int64_t special[QK_SPECIAL_COUNT]; /* token id, or -1 if absent */
    qk_tri add_bos, add_eos, add_sep;
    qk_tri add_space_prefix; /* tokenizer_config.json add_prefix_space (Llama-family convert) */
    /* a llama-style vocabulary's own add_dummy_prefix: the SentencePiece model's, or for tokenizer.json whether its
     * normalizer prepends U+2581; UNSET for byte-level BPE. Not written: a family's set_vocab may use it. */
    qk_tri dummy_prefix;
    /* the token that is one NUL byte (InternLM 2's "\x00" piece; a tokenizer.json key "\u0000"), held as U+1F409
     * as InternLM2Model writes it; -1: none. qk_vocab_apply_arch refuses it for every other family. */
    int64_t nul_token;
    qk_tri normalizer_lowercase, normalizer_strip_accents;
    char *chat_template;    /* the default template, or NULL */
    size_t n_named_templates;
    qk_named_template *named_templates; /* non-default named templates, sorted by name */
} qk_vocab;

/* Puts v in the empty state (all ids -1, tri-states unset, pointers NULL). */
void qk_vocab_init(qk_vocab *v);
/* Frees everything v owns and re-initializes it. Safe on an initialized or freed vocab. */
void qk_vocab_free(qk_vocab *v);

/* GGUF key of a special role ("tokenizer.ggml.bos_token_id"...), or NULL for
 * roles convert_hf_to_gguf does not write (cls). */
const char *qk_special_key(int role);
/* SpecialVocab's short name of a role ("bos", "eos", "unk", ...). */
const char *qk_special_name(int role);

/* ---- building blocks for the importers ---- */

/* Upper bound on n_tokens (real vocabularies are at most ~262k; vocab_size comes from config.json,
 * an untrusted file, and each slot costs an allocation). */
#define QK_VOCAB_MAX_TOKENS ((size_t)1 << 22)

/* Allocates n tokens (1..QK_VOCAB_MAX_TOKENS), all "[PAD{i}]" typed `fill_type`, score `fill_score` (scores only if with_scores). */
int qk_vocab_alloc_tokens(qk_vocab *v, size_t n, int with_scores, float fill_score, int32_t fill_type,
                          qk_err *err);
/* Replaces token i's text with a copy of s[0..len). A text that is exactly one NUL byte becomes U+1F409 and
 * sets v->nul_token = i; any other embedded NUL, or too long, fails. */
int qk_vocab_set_token(qk_vocab *v, size_t i, const char *s, size_t len, qk_err *err);
/* Appends a copy of a merge string. */
int qk_vocab_add_merge(qk_vocab *v, const char *s, size_t len, qk_err *err);
/* Sets model / pre (copies). */
int qk_vocab_set_model(qk_vocab *v, const char *model, const char *pre, qk_err *err);

/* Does the text look like a control token although the source did not mark it
 * special (convert_hf_to_gguf's does_token_look_special)? */
int qk_token_looks_special(const char *s);

/* Copies s with every U+2581 (the sentencepiece space) replaced by ' '
 * (convert's pre-normalization of user-defined tokens). Caller frees. */
char *qk_replace_spm_space(const char *s);

/* ---- the one entry point for Hugging Face folders (vocab_hf.c) ---- */

/* Loads the tokenizer of a Hugging Face model folder the way convert_hf_to_gguf.py does for
 * Llama-family models (LlamaModel.set_vocab):
 *   tokenizer.model present            -> sentencepiece, model "llama", pre "default", padded to
 *                                         vocab_size with [PAD{i}] (UNUSED, score -10000)
 *   else tokenizer.json BPE with byte_fallback and a Sequence decoder (and not Llama-3 style)
 *                                      -> model "llama" from tokenizer.json (LlamaHfVocab)
 *   else tokenizer.json                -> byte-level BPE, model "gpt2", pre detected from the
 *                                         pre_tokenizer config (or pre_override), merges
 * then special token ids / add_* flags / chat template (SpecialVocab).
 * pre_override: NULL, or a llama.cpp pre-tokenizer name used instead of detection (BPE only; must be
 * a name llama.cpp knows). vocab_size_from_config: config.json vocab_size, or 0 if absent.
 * On success *out owns everything (free with qk_vocab_free); on failure *out is empty. */
int qk_vocab_load_hf(const char *dir, const char *pre_override, uint64_t vocab_size_from_config,
                     qk_vocab *out, qk_err *err);
/* The same for a model family whose converter names its own tokenizer's pre-tokenizer family_pre (the
 * registry's; NULL: none): a byte-level BPE configuration several llama.cpp pre-tokenizers share is then
 * taken as that one when it is among them (qk_pre_detect). */
int qk_vocab_load_hf_for(const char *dir, const char *family_pre, const char *pre_override,
                         uint64_t vocab_size_from_config, qk_vocab *out, qk_err *err);

/* Kimi K2's tokenizer (vocab_kimi.c): dir has tiktoken.model, no tokenizer.json, and tokenizer_config.json's
 * auto_map names tokenization_kimi's AutoTokenizer. */
bool qk_vocab_is_kimi(const char *dir);
/* Its vocabulary as llama.cpp's converter writes it (DeepseekV2Model.set_vocab, "kimi-k2"): the ranks' tokens
 * and QwenModel.bpe merges, ids n..vocab_size-1 Kimi's special tokens (added_tokens_decoder's text or
 * "<|reserved_token_ID|>", control), pre kimi-k2 (or pre_override, which must be known), SpecialVocab without
 * tokenizer.json. vocab_size (config.json) must lie in n..n+256. note (if note_cap) says what was built. */
int qk_vocab_load_kimi(const char *dir, const char *pre_override, uint64_t vocab_size, qk_vocab *out, char *note,
                       size_t note_cap, qk_err *err);

/* Hunyuan-A13B's tokenizer (vocab_hunyuan.c), as HunYuanMoEModel.set_vocab writes it: hy.tiktoken's 127957
 * ranks (QwenModel.bpe merges), tokenization_hy.py's 210 special tokens at ids 127957..128166 (control), pre
 * hunyuan (or pre_override, which must be known), SpecialVocab without tokenizer.json, BOS 127959. Other counts
 * (ranks, config.json vocab_size) are refused. note (if note_cap) says what was built. */
int qk_vocab_load_hunyuan(const char *dir, const char *pre_override, uint64_t vocab_size, qk_vocab *out, char *note,
                          size_t note_cap, qk_err *err);

/* Meta's original Llama 3 folder (vocab_llama3_original.c): is dir's tokenizer.model a tiktoken rank file? */
bool qk_vocab_tiktoken_model(const char *dir);
/* The vocabulary of Meta's original Llama 3 folder: the rank file's tokens (type NORMAL) and merges
 * (tiktoken_ranks.h), then the 256 special tokens of llama3_special.h (CONTROL), Llama 3.1+'s table when
 * params.json says use_scaled_rope: true, else Llama 3.0's; model "gpt2", pre "llama-bpe" (or
 * pre_override, a name llama.cpp knows), BOS = first special (<|begin_of_text|>), EOS = second
 * (<|end_of_text|>), no add_* flags, no chat template. The token count must equal params.json vocab_size
 * (or, when params.json has none, vocab_size: the embedding's rows), else refused naming both.
 * note (note_cap bytes) says what was read and chosen, for the plan. */
int qk_vocab_load_llama3_original(const char *dir, const char *pre_override, uint64_t vocab_size, qk_vocab *out,
                                  char *note, size_t note_cap, qk_err *err);

/* Gemma4Model.set_vocab (Gemma 4): tokenizer.json only, read as gguf-py's LlamaHfVocab reads it
 * (qk_tokjson_llama_hf_vocab's tokens and types, the special tokens as transformers 5's all_special_tokens:
 * the named roles, every other tokenizer_config.json "*_token" string such as sot_token / image_token, and
 * extra_special_tokens; a tokenizer that is not BPE with byte_fallback and a
 * Sequence decoder is refused, as LlamaHfVocab refuses it), then: model "gemma4" and no pre (llama.cpp
 * sets its own), every score -1000 (LlamaHfVocab's placeholder: llama.cpp tokenizes "gemma4" as BPE by
 * merge rank), "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", "<|tool_response>",
 * "<tool_response|>" and "<|\"|>" USER_DEFINED, tokenizer.json's merges or else merges.txt (none: refused,
 * llama.cpp needs them), SpecialVocab's ids (not range-checked: the converter passes no n_vocab) / flags /
 * chat template, add_space_prefix false, add_bos true.
 * pre_override (--pre-tokenizer) must be NULL: the converter has none and llama.cpp fixes the pre. */
int qk_vocab_load_gemma4(const char *dir, const char *pre_override, qk_vocab *out, qk_err *err);

/* Phi3MiniModel.set_vocab where it differs from the Llama path, applied to a vocabulary
 * qk_vocab_load_hf read from a tokenizer.model (nothing to do otherwise, or with tokenizer_class
 * GPT2Tokenizer): tokenizer_config.json's added_tokens_decoder and then tokenizer.json's
 * added_tokens set their ids verbatim (no U+2581 rewrite), score -1000, CONTROL if "special"
 * else USER_DEFINED (no look-special guess); tokenizer.ggml.add_space_prefix is not written. */
int qk_vocab_apply_phi3(const char *dir, qk_vocab *v, qk_err *err);

/* What each family's set_vocab does to the vocabulary qk_vocab_load_hf read, for GGUF architecture
 * arch (the one place convert and the tokenizer tests take it from):
 *   gemma: CodeGemma's special ids (qk_special_vocab_gemma);
 *   gemma, gemma2, gemma3: add_space_prefix false; and for a folder without tokenizer.model (read from
 *     tokenizer.json as LlamaHfVocab reads it), tokenizer_config.json's added_tokens_decoder typed as
 *     _create_vocab_sentencepiece types it (CONTROL if special or looking special, else USER_DEFINED):
 *     the converter reads these families' tokenizer.model, of which tokenizer.json is the same
 *     vocabulary, so a folder that lacks it converts as the complete folder would (llama.cpp's own
 *     converter refuses it for Gemma 2 and falls back to byte-level BPE for Gemma 3);
 *   gemma4 and the rest of the gemma* names: add_space_prefix false;
 *   phi3, phimoe: qk_vocab_apply_phi3;
 *   internlm2: InternLM2Model.set_vocab's fixes (a llama-style vocabulary only): "[UNUSED" pieces unused,
 *     tokenizer_config.json's and tokenizer.json's added tokens verbatim, "<|im_end|>" as EOS;
 *   nemotron_h (the dense Nemotron-H): add_bos true, as NemotronHModel.set_vocab sets it;
 *   every family but internlm2: a NUL-byte token (v->nul_token) is refused, naming it. */
int qk_vocab_apply_arch(const char *arch, const char *dir, qk_vocab *v, qk_err *err);

#endif
