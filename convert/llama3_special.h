/* llama3_special.h - the 256 special tokens Meta's Llama 3 tokenizers put
 * after the 128000 tokens of the tiktoken rank file (ids 128000..128255).
 * A rank file holds none of them: Meta's tokenizer code appends them, and
 * the Hugging Face releases list them as tokenizer.json's added_tokens.
 * Two tables exist, Llama 3.0's and Llama 3.1+'s (llama3_special.c says
 * where each comes from). */
#ifndef QK_LLAMA3_SPECIAL_H
#define QK_LLAMA3_SPECIAL_H

#include <stddef.h>

#define QK_LLAMA3_N_SPECIAL 256

typedef enum { QK_LLAMA3_TABLE_30, QK_LLAMA3_TABLE_31 } qk_llama3_table;

/* The text of special token i (0..255; id = n_ranks + i) of the table into
 * buf; buf is returned. */
const char *qk_llama3_special_text(qk_llama3_table t, size_t i, char *buf, size_t cap);
/* "Llama 3.0" / "Llama 3.1+" and the source the table follows, for plans. */
const char *qk_llama3_table_name(qk_llama3_table t);

#endif
