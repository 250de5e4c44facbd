/* sentencepiece_model.c - protobuf wire-format reading of tokenizer.model, by hand.
 *
 * Field numbers (sentencepiece_model.proto):
 *   ModelProto:      1 pieces (repeated SentencePiece), 2 trainer_spec, 3 normalizer_spec
 *   SentencePiece:   1 piece (string), 2 score (float), 3 type (enum)
 *   TrainerSpec:     3 model_type, 4 vocab_size, 35 byte_fallback,
 *                    40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id
 *   NormalizerSpec:  1 name, 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces
 */
#include "sentencepiece_model.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"
#include "tiktoken_ranks.h"

#define SPM_MAX_FILE ((size_t)1 << 30)

typedef struct {
    const uint8_t *p, *end;
    const uint8_t *base; /* start of the file, for offsets in errors */
    const char *name;
} rd;

static size_t off(const rd *r, const uint8_t *p) { return (size_t)(p - r->base); }

static int rd_varint(rd *r, uint64_t *v, const char *what, qk_err *err) {
    uint64_t x = 0;
    const uint8_t *start = r->p;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return qk_fail(err, "%s: %s: varint at byte %zu runs past the end of its message", r->name, what,
                           off(r, start));
        uint8_t b = *r->p++;
        if (i == 9 && b > 1)
            return qk_fail(err, "%s: %s: varint at byte %zu overflows 64 bits", r->name, what, off(r, start));
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return QK_OK;
        }
    }
    return qk_fail(err, "%s: %s: varint at byte %zu is longer than 10 bytes", r->name, what, off(r, start));
}

/* Reads a length prefix and returns the sub-range, checked against the enclosing end. */
static int rd_len(rd *r, rd *sub, const char *what, qk_err *err) {
    const uint8_t *at = r->p;
    uint64_t n;
    if (rd_varint(r, &n, what, err)) return QK_FAIL;
    if (n > (uint64_t)(r->end - r->p))
        return qk_fail(err, "%s: %s at byte %zu: length %llu runs past the end of its message (%zu bytes left)",
                       r->name, what, off(r, at), (unsigned long long)n, (size_t)(r->end - r->p));
    sub->p = r->p;
    sub->end = r->p + n;
    sub->base = r->base;
    sub->name = r->name;
    r->p += n;
    return QK_OK;
}

static int rd_fixed32(rd *r, uint32_t *v, const char *what, qk_err *err) {
    if (r->end - r->p < 4)
        return qk_fail(err, "%s: %s: 4-byte value at byte %zu runs past the end of its message", r->name, what,
                       off(r, r->p));
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return QK_OK;
}

/* Skips one field of the given wire type. */
static int rd_skip(rd *r, unsigned wt, uint64_t field, const char *msg, qk_err *err) {
    uint64_t v = 0;
    rd sub = {0};
    switch (wt) {
    case 0: return rd_varint(r, &v, msg, err);
    case 1:
        if (r->end - r->p < 8)
            return qk_fail(err, "%s: %s field %llu: 8-byte value at byte %zu runs past the end", r->name, msg,
                           (unsigned long long)field, off(r, r->p));
        r->p += 8;
        return QK_OK;
    case 2: return rd_len(r, &sub, msg, err);
    case 5: {
        uint32_t u = 0;
        return rd_fixed32(r, &u, msg, err);
    }
    default:
        return qk_fail(err, "%s: %s field %llu at byte %zu: wire type %u is not valid here (expected 0, 1, 2 or 5)",
                       r->name, msg, (unsigned long long)field, off(r, r->p), wt);
    }
}

static int rd_key(rd *r, uint64_t *field, unsigned *wt, const char *msg, qk_err *err) {
    uint64_t k;
    const uint8_t *at = r->p;
    if (rd_varint(r, &k, msg, err)) return QK_FAIL;
    *field = k >> 3;
    *wt = (unsigned)(k & 7);
    if (*field == 0) return qk_fail(err, "%s: %s: field number 0 at byte %zu is invalid", r->name, msg, off(r, at));
    return QK_OK;
}

static int expect_wt(const rd *r, unsigned wt, unsigned want, const char *what, qk_err *err) {
    if (wt != want)
        return qk_fail(err, "%s: %s has wire type %u at byte %zu, expected %u", r->name, what, wt, off(r, r->p),
                       want);
    return QK_OK;
}

/* proto int32 / enum / bool values are varints; int32 negatives are sign-extended to 64 bits. */
static int rd_int32(rd *r, unsigned wt, int32_t *out, const char *what, qk_err *err) {
    uint64_t v = 0;
    if (expect_wt(r, wt, 0, what, err) || rd_varint(r, &v, what, err)) return QK_FAIL;
    *out = (int32_t)(uint32_t)v;
    return QK_OK;
}

/* A length-delimited UTF-8 string field without NULs, copied NUL-terminated
 * into *out (replacing what was there). lone_nul: a text that is exactly one
 * NUL byte is accepted too (InternLM 2's "\x00" piece; *len says 1). */
static int rd_string(rd *r, unsigned wt, char **out, uint32_t *len, bool lone_nul, const char *what, qk_err *err) {
    rd s = {0};
    if (expect_wt(r, wt, 2, what, err) || rd_len(r, &s, what, err)) return QK_FAIL;
    size_t n = (size_t)(s.end - s.p);
    if (!(lone_nul && n == 1 && s.p[0] == 0) && (!qk_utf8_valid((const char *)s.p, n, NULL) || memchr(s.p, 0, n)))
        return qk_fail(err, "%s: %s at byte %zu: text is not valid UTF-8 (or holds a NUL)", r->name, what, off(r, s.p));
    char *t = malloc(n + 1);
    if (!t) return qk_fail(err, "%s: out of memory", r->name);
    memcpy(t, s.p, n);
    t[n] = '\0';
    free(*out);
    *out = t;
    if (len) *len = (uint32_t)n;
    return QK_OK;
}

static int parse_piece(rd *r, size_t idx, qk_spm_piece *pc, qk_err *err) {
    char what[64];
    snprintf(what, sizeof what, "piece %zu", idx);
    pc->type = QK_SPM_NORMAL;
    pc->score = 0.0f;
    int have_text = 0;
    while (r->p < r->end) {
        uint64_t f;
        unsigned wt;
        if (rd_key(r, &f, &wt, what, err)) return QK_FAIL;
        if (f == 1) {
            if (rd_string(r, wt, &pc->text, &pc->len, true, what, err)) return QK_FAIL;
            have_text = 1;
        } else if (f == 2) {
            uint32_t u = 0;
            if (expect_wt(r, wt, 5, "piece score", err) || rd_fixed32(r, &u, what, err)) return QK_FAIL;
            memcpy(&pc->score, &u, 4);
        } else if (f == 3) {
            if (rd_int32(r, wt, &pc->type, what, err)) return QK_FAIL;
            if (pc->type < QK_SPM_NORMAL || pc->type > QK_SPM_BYTE)
                return qk_fail(err, "%s: %s: type %d, expected 1..6 (NORMAL..BYTE)", r->name, what, (int)pc->type);
        } else if (rd_skip(r, wt, f, what, err)) {
            return QK_FAIL;
        }
    }
    if (!have_text) {
        pc->text = strdup("");
        if (!pc->text) return qk_fail(err, "%s: out of memory", r->name);
        pc->len = 0;
    }
    return QK_OK;
}

/* The fields of TrainerSpec and NormalizerSpec quantkit uses, each stored in
 * a member of qk_spm_model; every other field is skipped. */
typedef struct {
    uint64_t field;
    enum { F_INT32, F_BOOL, F_STRING } kind;
    size_t offset;           /* of an int32_t, an int or a char * in qk_spm_model */
    const char *name;
} spec_field;

#define SPEC(f, kind, member, name) {f, kind, offsetof(qk_spm_model, member), name}
static const spec_field k_trainer_spec[] = {
    SPEC(3, F_INT32, model_type, "trainer_spec.model_type"),
    SPEC(4, F_INT32, vocab_size, "trainer_spec.vocab_size"),
    SPEC(35, F_BOOL, byte_fallback, "trainer_spec.byte_fallback"),
    SPEC(40, F_INT32, unk_id, "trainer_spec.unk_id"),
    SPEC(41, F_INT32, bos_id, "trainer_spec.bos_id"),
    SPEC(42, F_INT32, eos_id, "trainer_spec.eos_id"),
    SPEC(43, F_INT32, pad_id, "trainer_spec.pad_id"),
};
static const spec_field k_normalizer_spec[] = {
    SPEC(1, F_STRING, normalizer_name, "normalizer_spec.name"),
    SPEC(3, F_BOOL, add_dummy_prefix, "normalizer_spec.add_dummy_prefix"),
    SPEC(4, F_BOOL, remove_extra_whitespaces, "normalizer_spec.remove_extra_whitespaces"),
    SPEC(5, F_BOOL, escape_whitespaces, "normalizer_spec.escape_whitespaces"),
};
#undef SPEC

static int parse_spec(rd *r, const char *msg, const spec_field *fields, size_t n_fields, qk_spm_model *m,
                      qk_err *err) {
    while (r->p < r->end) {
        uint64_t f;
        unsigned wt;
        if (rd_key(r, &f, &wt, msg, err)) return QK_FAIL;
        const spec_field *sf = NULL;
        for (size_t i = 0; i < n_fields && !sf; i++)
            if (fields[i].field == f) sf = &fields[i];
        char *dst = sf ? (char *)m + sf->offset : NULL;
        int32_t v;
        if (!sf) {
            if (rd_skip(r, wt, f, msg, err)) return QK_FAIL;
        } else if (sf->kind == F_STRING) {
            if (rd_string(r, wt, (char **)(void *)dst, NULL, false, sf->name, err)) return QK_FAIL;
        } else {
            if (rd_int32(r, wt, &v, sf->name, err)) return QK_FAIL;
            if (sf->kind == F_BOOL) *(int *)(void *)dst = v != 0;
            else *(int32_t *)(void *)dst = v;
        }
    }
    return QK_OK;
}

void qk_spm_free(qk_spm_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_pieces; i++) free(m->pieces[i].text);
    free(m->pieces);
    free(m->normalizer_name);
    memset(m, 0, sizeof *m);
}

int qk_spm_parse(const uint8_t *data, size_t len, const char *name, qk_spm_model *m, qk_err *err) {
    memset(m, 0, sizeof *m);
    m->model_type = QK_SPM_UNIGRAM;
    m->unk_id = 0;
    m->bos_id = 1;
    m->eos_id = 2;
    m->pad_id = -1;
    m->add_dummy_prefix = m->remove_extra_whitespaces = m->escape_whitespaces = 1;
    rd r = {data, data + len, data, name};
    size_t cap = 0;
    while (r.p < r.end) {
        uint64_t f;
        unsigned wt;
        if (rd_key(&r, &f, &wt, "ModelProto", err)) goto fail;
        if (f == 1 || f == 2 || f == 3) {
            rd sub = {0};
            const char *what = f == 1 ? "pieces" : f == 2 ? "trainer_spec" : "normalizer_spec";
            if (expect_wt(&r, wt, 2, what, err) || rd_len(&r, &sub, what, err)) goto fail;
            if (f == 1) {
                if (m->n_pieces == cap) {
                    /* each piece takes at least 2 bytes of the file, which bounds growth */
                    size_t ncap = cap ? cap * 2 : 1024;
                    qk_spm_piece *np = realloc(m->pieces, ncap * sizeof *np);
                    if (!np) {
                        qk_fail(err, "%s: out of memory for pieces", name);
                        goto fail;
                    }
                    m->pieces = np;
                    cap = ncap;
                }
                qk_spm_piece *pc = &m->pieces[m->n_pieces++];
                memset(pc, 0, sizeof *pc);
                if (parse_piece(&sub, m->n_pieces - 1, pc, err)) goto fail;
            } else if (f == 2) {
                if (parse_spec(&sub, what, k_trainer_spec, sizeof k_trainer_spec / sizeof *k_trainer_spec, m, err))
                    goto fail;
            } else if (parse_spec(&sub, what, k_normalizer_spec,
                                  sizeof k_normalizer_spec / sizeof *k_normalizer_spec, m, err)) {
                goto fail;
            }
        } else if (rd_skip(&r, wt, f, "ModelProto", err)) {
            goto fail;
        }
    }
    if (m->n_pieces == 0) {
        qk_fail(err, "%s: no pieces: not a sentencepiece model (or an empty one)", name);
        goto fail;
    }
    return QK_OK;
fail:
    qk_spm_free(m);
    return QK_FAIL;
}

int qk_spm_load(const char *path, qk_spm_model *out, qk_err *err) {
    char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (qk_read_text_file(path, SPM_MAX_FILE, &buf, &len, err)) return QK_FAIL;
    if (qk_tiktoken_sniff(buf, len)) {
        free(buf);
        return qk_fail(err, "%s: this is a tiktoken BPE rank file (\"<base64 token> <rank>\" lines, as Llama 3's "
                            "original/ folder ships), not a SentencePiece model; quantkit reads one only in Meta's original "
                            "Llama 3 layout (beside params.json, where Meta's special tokens are known): convert that "
                            "folder, or the Hugging Face folder of this model (with tokenizer.json)",
                       path);
    }
    int rc = qk_spm_parse((const uint8_t *)buf, len, path, out, err);
    free(buf);
    return rc;
}

int qk_spm_to_vocab(const qk_spm_model *m, uint64_t vocab_size, qk_vocab *v, qk_err *err) {
    uint64_t n = vocab_size ? vocab_size : m->n_pieces;
    if (n > QK_VOCAB_MAX_TOKENS)
        return qk_fail(err, "vocab_size %llu is larger than %zu", (unsigned long long)n, QK_VOCAB_MAX_TOKENS);
    if (qk_vocab_set_model(v, "llama", "default", err)) return QK_FAIL;
    if (qk_vocab_alloc_tokens(v, (size_t)n, 1, -10000.0f, QK_TOKEN_UNUSED, err)) return QK_FAIL;
    size_t lim = m->n_pieces < n ? m->n_pieces : (size_t)n;
    for (size_t i = 0; i < lim; i++) {
        const qk_spm_piece *pc = &m->pieces[i];
        if (qk_vocab_set_token(v, i, pc->text, pc->len, err)) return QK_FAIL;
        v->scores[i] = pc->score;
        int32_t t = QK_TOKEN_NORMAL;
        switch (pc->type) {
        case QK_SPM_UNKNOWN: t = QK_TOKEN_UNKNOWN; break;
        case QK_SPM_CONTROL: t = QK_TOKEN_CONTROL; break;
        case QK_SPM_UNUSED: t = QK_TOKEN_UNUSED; break;
        case QK_SPM_BYTE: t = QK_TOKEN_BYTE; break;
        default: t = QK_TOKEN_NORMAL; break; /* NORMAL, USER_DEFINED */
        }
        v->token_type[i] = t;
    }
    return QK_OK;
}
