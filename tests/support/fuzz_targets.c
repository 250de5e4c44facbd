#include "fuzz_targets.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "gguf.h"
#include "hf_checkpoint.h"
#include "imatrix.h"
#include "safetensors.h"
#include "sentencepiece_model.h"
#include "tokenizer_json.h"
#include "vocab.h"

/* GGUF metadata, as read from a file of exactly these bytes. */
static int fuzz_gguf(const uint8_t *d, size_t n) {
    qk_gguf_meta m;
    qk_err err;
    if (qk_gguf_parse_buffer(d, n, n, "fuzz.gguf", &m, &err) == QK_OK) {
        /* exercise the accessors on whatever parsed */
        int64_t v;
        double f;
        for (uint64_t i = 0; i < m.n_kv; i++) {
            qk_gguf_get_int(&m, m.kv[i].key, &v);
            qk_gguf_get_float(&m, m.kv[i].key, &f);
            qk_gguf_arr_int(&m.kv[i], 0, &v);
        }
        qk_gguf_meta_free(&m);
    }
    return 0;
}

/* A safetensors header (the JSON) for a data section of 1 MiB. */
static int fuzz_safetensors(const uint8_t *d, size_t n) {
    qk_st_file f = {.path = "fuzz.safetensors", .fd = -1};
    qk_err err;
    if (qk_st_parse_header((const char *)d, n, 1 << 20, &f, &err) == QK_OK) {
        for (size_t i = 0; i < f.n_tensors; i++) qk_st_find(&f, f.tensors[i].name);
        for (size_t i = 0; i < f.n_tensors; i++) free(f.tensors[i].name);
        free(f.tensors);
        for (size_t i = 0; i < f.n_meta; i++) free(f.meta_keys[i]), free(f.meta_values[i]);
        free(f.meta_keys), free(f.meta_values);
    }
    return 0;
}

/* A SentencePiece tokenizer.model and its conversion to a vocabulary. */
static int fuzz_spm(const uint8_t *d, size_t n) {
    qk_spm_model m;
    qk_err err;
    if (qk_spm_parse(d, n, "fuzz.model", &m, &err) == QK_OK) {
        qk_vocab v;
        qk_vocab_init(&v);
        qk_spm_to_vocab(&m, 0, &v, &err);
        qk_vocab_free(&v);
        qk_spm_free(&m);
    }
    return 0;
}

/* A tokenizer.json: importer choice, pre-tokenizer detection, both importers. */
static int fuzz_tokenizer_json(const uint8_t *d, size_t n) {
    cJSON *j = cJSON_ParseWithLength((const char *)d, n);
    if (!j) return 0;
    qk_err err;
    qk_tokjson_kind kind;
    if (qk_tokjson_kind_of(j, "fuzz.json", &kind, &err) == QK_OK) {
        qk_vocab v;
        qk_vocab_init(&v);
        if (kind == QK_TOKJSON_BPE) qk_tokjson_bpe_vocab(j, "fuzz.json", 0, NULL, &v, &err);
        else qk_tokjson_llama_hf_vocab(j, "fuzz.json", NULL, 0, &v, &err);
        qk_vocab_free(&v);
    }
    const char *pre;
    qk_pre_detect(j, "fuzz.json", &pre, &err);
    cJSON_Delete(j);
    return 0;
}

/* A legacy imatrix .dat. */
static int fuzz_imatrix(const uint8_t *d, size_t n) {
    qk_imatrix im;
    qk_err err;
    if (qk_imatrix_parse_dat(d, n, "fuzz.dat", &im, &err) == QK_OK) qk_imatrix_free(&im);
    return 0;
}

/* A config.json as the architecture layer reads it (no weights). */
static int fuzz_config(const uint8_t *d, size_t n) {
    cJSON *j = cJSON_ParseWithLength((const char *)d, n);
    if (!j) return 0;
    qk_hf_checkpoint ck = {.dir = "fuzz", .config = j};
    qk_conv_plan p;
    qk_err err;
    qk_arch_plan(&ck, &p, &err);
    qk_arch_plan_free(&p);
    cJSON_Delete(j);
    return 0;
}

const qk_fuzz_target qk_fuzz_targets[] = {
    {"gguf", fuzz_gguf},       {"safetensors", fuzz_safetensors}, {"spm", fuzz_spm},
    {"tokenizer_json", fuzz_tokenizer_json}, {"imatrix", fuzz_imatrix}, {"config", fuzz_config},
};
const int qk_fuzz_n_targets = (int)(sizeof qk_fuzz_targets / sizeof qk_fuzz_targets[0]);

qk_fuzz_fn qk_fuzz_find(const char *name) {
    for (int i = 0; i < qk_fuzz_n_targets; i++)
        if (!strcmp(qk_fuzz_targets[i].name, name)) return qk_fuzz_targets[i].fn;
    return NULL;
}
