/* tiktoken_write.h - a tiktoken rank file ("<base64 token bytes> <rank>"
 * lines, the format of Llama 3's original tokenizer.model) rebuilt from a
 * byte-level BPE tokenizer.json: token id i of model.vocab, its GPT-2
 * byte-to-unicode text turned back into bytes, is rank i. That is the file
 * Meta's tokenizer.json was made from (transformers' TikTokenConverter maps
 * ranks to ids one to one). */
#ifndef QK_TEST_TIKTOKEN_WRITE_H
#define QK_TEST_TIKTOKEN_WRITE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The rank file text of tokenizer.json tj's model.vocab, ids 0..n-1 with
 * n = the vocab's size minus `drop` (the last ids left out), written in the
 * order (k * stride) mod n (stride coprime with n; 1 = rank order): malloc'd,
 * its length in *len. NULL (after printing why) if an id is missing or a
 * token is not GPT-2 byte text. */
char *tiktoken_text_of_tokjson(const cJSON *tj, size_t drop, size_t stride, size_t *len);

/* The same for the tokenizer.json file at src, written to the file dst in
 * rank order; 0 on success, else prints why. */
int tiktoken_write_of_tokjson(const char *src, const char *dst, size_t drop);

#endif
