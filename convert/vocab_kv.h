/* vocab_kv.h - writing a qk_vocab as llama.cpp's tokenizer.* GGUF keys, in
 * the order convert_hf_to_gguf.py writes them (see vocab.h for the map). */
#ifndef QK_VOCAB_KV_H
#define QK_VOCAB_KV_H

#include "gguf_writer.h"
#include "vocab.h"

int qk_vocab_add_kvs(qk_gguf_writer *w, const qk_vocab *v, qk_err *err);

#endif
