/* sentencepiece_model.h - a bounds-checked reader of sentencepiece's tokenizer.model.
 *
 * The file is a protobuf ModelProto (sentencepiece_model.proto). Only what llama.cpp's
 * converter uses is kept: the pieces (text, score, type), the trainer's model type and
 * special ids, and the normalizer flags. Unknown fields are skipped by wire type.
 * Every varint, length and nested message is checked against its enclosing bounds; any
 * inconsistency fails with the file name, the field and the byte offset. No protobuf
 * library is involved.
 */
#ifndef QK_SENTENCEPIECE_MODEL_H
#define QK_SENTENCEPIECE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"
#include "vocab.h"

/* SentencePiece.Type */
enum { QK_SPM_NORMAL = 1, QK_SPM_UNKNOWN = 2, QK_SPM_CONTROL = 3, QK_SPM_USER_DEFINED = 4,
       QK_SPM_UNUSED = 5, QK_SPM_BYTE = 6 };
/* TrainerSpec.ModelType */
enum { QK_SPM_UNIGRAM = 1, QK_SPM_BPE = 2, QK_SPM_WORD = 3, QK_SPM_CHAR = 4 };

typedef struct qk_spm_piece {
    char *text;       /* NUL-terminated, valid UTF-8, len bytes */
    uint32_t len;
    float score;
    int32_t type;     /* QK_SPM_* (default NORMAL) */
} qk_spm_piece;

typedef struct qk_spm_model {
    size_t n_pieces;
    qk_spm_piece *pieces;
    int32_t model_type;              /* QK_SPM_UNIGRAM (proto default), QK_SPM_BPE, ... */
    int32_t vocab_size;              /* trainer_spec.vocab_size (informative) */
    int byte_fallback;               /* trainer_spec.byte_fallback */
    int32_t unk_id, bos_id, eos_id, pad_id; /* trainer_spec, proto defaults 0, 1, 2, -1 */
    int add_dummy_prefix;            /* normalizer_spec, default true */
    int remove_extra_whitespaces;    /* normalizer_spec, default true */
    int escape_whitespaces;          /* normalizer_spec, default true */
    char *normalizer_name;           /* normalizer_spec.name or NULL */
} qk_spm_model;

/* Parses a ModelProto held in memory; `name` labels errors. */
int qk_spm_parse(const uint8_t *data, size_t len, const char *name, qk_spm_model *out, qk_err *err);
/* Reads and parses a file (at most 1 GiB). */
int qk_spm_load(const char *path, qk_spm_model *out, qk_err *err);
void qk_spm_free(qk_spm_model *m);

/* convert_hf_to_gguf's _create_vocab_sentencepiece, first half: vocab_size slots (0 = the
 * piece count) start as "[PAD{i}]" / -10000.0 / UNUSED; piece i < vocab_size sets text,
 * score and type (UNKNOWN, CONTROL, UNUSED, BYTE kept; NORMAL and USER_DEFINED -> NORMAL,
 * as SentencePieceProcessor's Is*() report them); pieces past vocab_size are dropped.
 * Sets model "llama", pre "default". added_tokens.json / tokenizer_config overrides are
 * applied by the caller (vocab_hf.c). */
int qk_spm_to_vocab(const qk_spm_model *m, uint64_t vocab_size, qk_vocab *v, qk_err *err);

#endif
