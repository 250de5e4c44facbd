/* llama3_special.c - data: Llama 3's special-token tables (llama3_special.h).
 *
 * Each table is its named tokens at ids 128000.. and then
 * "<|reserved_special_token_N|>" for N counting up from first_reserved until
 * 256 tokens are there.
 *
 * Llama 3.0: Meta's llama3 repository, llama/tokenizer.py (Tokenizer.__init__),
 * the same list as transformers' convert_llama_weights_to_hf.py
 * DEFAULT_LLAMA_SPECIAL_TOKENS["3"] and as the added_tokens of the
 * Meta-Llama-3 tokenizer.json (128008 <|reserved_special_token_4|>, 128009
 * <|eot_id|>, 128255 <|reserved_special_token_250|>).
 *
 * Llama 3.1+: transformers' DEFAULT_LLAMA_SPECIAL_TOKENS["3.1"] (and "3.2"),
 * which is what the Hugging Face releases of Llama 3.1 / 3.2 / 3.3 hold in
 * tokenizer.json (128004 <|finetune_right_pad_id|>, 128005
 * <|reserved_special_token_2|>, 128008 <|eom_id|>, 128010 <|python_tag|>,
 * 128255 <|reserved_special_token_247|>). Meta's own llama-models
 * models/llama3/tokenizer.py names two things differently: 128005 is
 * "<|step_id|>" there and its reserved tokens count from 2 at 128011 (so
 * 128255 is <|reserved_special_token_246|>). convert follows the Hugging
 * Face release, so that the original folder converts to the GGUF of its
 * Hugging Face twin; ids and types are the same either way (every one of
 * the 256 is a control token), only those texts differ. */
#include "llama3_special.h"

#include <stdio.h>

typedef struct {
    const char *name;
    const char *const *named;
    size_t n_named;
    int first_reserved;
} table;

static const char *const k_named_30[] = {
    "<|begin_of_text|>",           "<|end_of_text|>",
    "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
    "<|start_header_id|>",         "<|end_header_id|>",
    "<|reserved_special_token_4|>", "<|eot_id|>", /* end of turn */
};

static const char *const k_named_31[] = {
    "<|begin_of_text|>",            "<|end_of_text|>",
    "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",    "<|reserved_special_token_2|>",
    "<|start_header_id|>",          "<|end_header_id|>",
    "<|eom_id|>", /* end of message */ "<|eot_id|>", /* end of turn */
    "<|python_tag|>",
};

static const table k_tables[] = {
    [QK_LLAMA3_TABLE_30] = {"Llama 3.0 (Meta's llama3 tokenizer.py)", k_named_30,
                            sizeof k_named_30 / sizeof k_named_30[0], 5},
    [QK_LLAMA3_TABLE_31] = {"Llama 3.1+ (the Hugging Face releases' tokenizer.json, transformers' 3.1 list)",
                            k_named_31, sizeof k_named_31 / sizeof k_named_31[0], 3},
};

const char *qk_llama3_special_text(qk_llama3_table t, size_t i, char *buf, size_t cap) {
    const table *tb = &k_tables[t];
    if (i < tb->n_named) snprintf(buf, cap, "%s", tb->named[i]);
    else snprintf(buf, cap, "<|reserved_special_token_%zu|>", (size_t)tb->first_reserved + (i - tb->n_named));
    return buf;
}

const char *qk_llama3_table_name(qk_llama3_table t) { return k_tables[t].name; }
