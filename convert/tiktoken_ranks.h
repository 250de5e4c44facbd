/* tiktoken_ranks.h - a tiktoken BPE rank file ("<base64 token bytes> <rank>"
 * per line, as OpenAI's tiktoken and Llama 3's original/tokenizer.model store
 * a vocabulary) as the byte-level BPE vocabulary and merges a
 * tokenizer.json would hold.
 *
 * Tokens come out in GPT-2's byte-to-unicode text (the form of
 * tokenizer.json's vocab and of GGUF's "gpt2" tokens), token i = rank i.
 * Merges are rebuilt by one of two rules:
 *   QK_TT_MERGES_HF: as transformers' TikTokenConverter does
 *     (convert_slow_tokenizer.py, extract_vocab_merges_from_model): for each
 *     token in rank order, every split into a left and a right part that are
 *     both tokens, ordered by (rank of left, rank of right). That is how
 *     Meta's Llama 3 tokenizer.json was made from its tiktoken file.
 *   QK_TT_MERGES_QWEN: as convert_hf_to_gguf's QwenModel.bpe does for the
 *     tiktoken vocabularies it reads through a model's own tokenizer code
 *     (Qwen 1, Hunyuan, Kimi K2): for each token in file order, its bytes are
 *     merged BPE-style with only the ranks below its own; the two parts that
 *     leaves are its one merge (a token that does not end in two parts has
 *     none). Both rules give merges under which llama.cpp's BPE tokenizes
 *     as tiktoken does.
 *
 * The file is untrusted: every line is checked (base64 alphabet and
 * padding, a decimal rank, ranks 0..n-1 each exactly once, no token twice,
 * a bounded size), errors name the file and the line. */
#ifndef QK_TIKTOKEN_RANKS_H
#define QK_TIKTOKEN_RANKS_H

#include <stdbool.h>
#include <stddef.h>

#include "qk_error.h"

typedef struct qk_tiktoken {
    size_t n_tokens;
    char **tokens;    /* GPT-2 byte-to-unicode text, NUL-terminated */
    size_t n_merges;
    char **merges;    /* "left right" */
} qk_tiktoken;

typedef enum { QK_TT_MERGES_HF = 0, QK_TT_MERGES_QWEN = 1 } qk_tiktoken_merge_rule;

int qk_tiktoken_load(const char *path, qk_tiktoken_merge_rule rule, qk_tiktoken *out, qk_err *err);
/* The same from bytes in memory (name for messages). */
int qk_tiktoken_parse(const char *buf, size_t len, const char *name, qk_tiktoken_merge_rule rule, qk_tiktoken *out,
                      qk_err *err);
void qk_tiktoken_free(qk_tiktoken *t);
/* Whether bytes that begin a file look like a rank file: the first line is
 * "<base64> <decimal>" (a SentencePiece ModelProto starts with the tag byte
 * 0x0a, never a base64 character), so a tokenizer.model can be told apart. */
bool qk_tiktoken_sniff(const char *buf, size_t len);

#endif
