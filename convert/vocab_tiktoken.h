/* vocab_tiktoken.h - what the converter's set_vocab does alike for the
 * tiktoken vocabularies it reads through a model's own tokenizer code
 * (DeepseekV2Model's kimi-k2: vocab_kimi.c; HunYuanMoEModel: vocab_hunyuan.c):
 * the rank file's tokens as ids 0..n-1 (GPT-2 byte text, normal), merges
 * rebuilt by QwenModel.bpe (tiktoken_ranks.h, QK_TT_MERGES_QWEN), model
 * "gpt2"; the family then names its special ids and runs SpecialVocab over
 * tokenizer_config.json (read here) without tokenizer.json. */
#ifndef QK_VOCAB_TIKTOKEN_H
#define QK_VOCAB_TIKTOKEN_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "tiktoken_ranks.h"
#include "vocab.h"

typedef struct {
    char path[4096]; /* the rank file */
    qk_tiktoken tt;
    cJSON *tcfg;     /* tokenizer_config.json, NULL when absent */
} qk_tt_source;

/* Empties out and note (note_cap bytes; 0: none), then reads dir/file and dir/tokenizer_config.json.
 * pre_override (NULL: none) must be a pre-tokenizer llama.cpp knows; else the error says the family's tokenizer
 * splits as family_pre. QK_FAIL leaves s empty. */
int qk_tt_source_open(const char *dir, const char *file, const char *pre_override, const char *family_pre,
                      qk_tt_source *s, qk_vocab *out, char *note, size_t note_cap, qk_err *err);
void qk_tt_source_close(qk_tt_source *s);

/* out: vocab_size (>= the rank count) tokens, the ranks' first, every other "[PAD<id>]" of type fill_type; the
 * merges; model gpt2 and pre. On failure out is freed. */
int qk_tt_vocab_fill(const qk_tt_source *s, uint64_t vocab_size, int32_t fill_type, const char *pre, qk_vocab *out,
                     qk_err *err);

#endif
