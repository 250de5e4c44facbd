#include "fuzz_targets.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "gguf.h"
#include "gguf_set.h"
#include "gguf_writer.h"
#include "hf_checkpoint.h"
#include "imatrix.h"
#include "imatrix_file.h"
#include "manifest.h"
#include "ggml_types.h"
#include "pickle.h"
#include "safetensors.h"
#include "sentencepiece_model.h"
#include "split.h"
#include "tokenizer_json.h"
#include "vocab.h"
#include "vocab_kv.h"
#include "zip.h"

int qk_fuzz_accepted;

/* GGUF metadata, as read from a file of exactly these bytes. */
static int fuzz_gguf(const uint8_t *d, size_t n) {
    qk_gguf_meta m;
    qk_err err;
    if ((qk_fuzz_accepted = qk_gguf_parse_buffer(d, n, n, "fuzz.gguf", &m, &err) == QK_OK)) {
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
    if ((qk_fuzz_accepted = qk_st_parse_header((const char *)d, n, 1 << 20, &f, &err) == QK_OK)) {
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
    if ((qk_fuzz_accepted = qk_spm_parse(d, n, "fuzz.model", &m, &err) == QK_OK)) {
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
    qk_fuzz_accepted = 0;
    if (!j) return 0;
    qk_err err;
    qk_tokjson_kind kind;
    if ((qk_fuzz_accepted = qk_tokjson_kind_of(j, "fuzz.json", &kind, &err) == QK_OK)) {
        qk_vocab v;
        qk_vocab_init(&v);
        if (kind == QK_TOKJSON_BPE) qk_tokjson_bpe_vocab(j, "fuzz.json", 0, NULL, NULL, &v, &err);
        else qk_tokjson_llama_hf_vocab(j, "fuzz.json", NULL, 0, &v, &err);
        qk_vocab_free(&v);
    }
    const char *pre;
    qk_pre_detect(j, "fuzz.json", NULL, &pre, &err);
    cJSON_Delete(j);
    return 0;
}

/* A legacy imatrix .dat. */
static int fuzz_imatrix(const uint8_t *d, size_t n) {
    qk_imatrix im;
    qk_err err;
    if ((qk_fuzz_accepted = qk_imatrix_parse_dat(d, n, "fuzz.dat", &im, &err) == QK_OK)) qk_imatrix_free(&im);
    return 0;
}

/* A config.json as the architecture layer reads it (no weights). */
static int fuzz_config(const uint8_t *d, size_t n) {
    cJSON *j = cJSON_ParseWithLength((const char *)d, n);
    qk_fuzz_accepted = 0;
    if (!j) return 0;
    qk_hf_checkpoint ck = {.dir = "fuzz", .config = j};
    qk_conv_plan p;
    qk_err err;
    /* without weights the plan always fails (model.embed_tokens.weight is missing): no acceptance signal */
    qk_arch_plan(&ck, &p, &err);
    qk_fuzz_accepted = -1;
    qk_arch_plan_free(&p);
    cJSON_Delete(j);
    return 0;
}

/* ---- targets that need files on disk ----
 * Each writes its input into files of a private folder of this process (in
 * $QK_FUZZ_TMPDIR when set, else on tmpfs when /dev/shm is there), runs the
 * opener on them and empties the folder again; the folder is removed at a
 * normal exit (a crash skips atexit: scripts/fuzz.sh points QK_FUZZ_TMPDIR
 * at a folder of its own and removes that). A harness that cannot write its
 * files aborts: that is an environment failure, never a finding. */

static char g_fuzz_dir[512];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}
static void rm_fuzz_dir(void) {
    if (g_fuzz_dir[0]) nftw(g_fuzz_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* <private folder>/<sub>, created (empty) on first use. */
static const char *fuzz_dir(const char *sub, char *buf, size_t cap) {
    if (!g_fuzz_dir[0]) {
        const char *base = getenv("QK_FUZZ_TMPDIR");
        if (!base || !*base) {
            struct stat st;
            base = getenv("TMPDIR");
            if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) base = "/dev/shm";
            else if (!base || !*base) base = "/tmp";
        }
        snprintf(g_fuzz_dir, sizeof g_fuzz_dir, "%s/qk-fuzz-XXXXXX", base);
        if (!mkdtemp(g_fuzz_dir)) abort();
        atexit(rm_fuzz_dir);
    }
    snprintf(buf, cap, "%s/%s", g_fuzz_dir, sub);
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) abort();
    return buf;
}

/* Removes every file (and folder) inside dir, keeping dir. */
static void clear_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        else unlink(p);
    }
    closedir(d);
}

static void put_file(const char *dir, const char *name, const void *data, size_t n) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    if (fclose(f) != 0 || w != n) abort();
}

/* A split set: byte 0 = s; 1 + (s & 3) % 3 shards are written, named
 * m-0000K-of-0000N.gguf with N = the shard count + ((s >> 3) & 1) (so a set can
 * miss its last shard), or m.gguf for a single shard when (s >> 2) & 1. Then
 * for every shard but the last a u16 LE length and its bytes; the last shard
 * is the rest. The set is opened from its first file, every tensor is read
 * through the set (first and last bytes), and the set is merged into one file
 * and split again, both of which must read back. */
static int fuzz_gguf_split(const uint8_t *d, size_t n) {
    qk_fuzz_accepted = 0;
    if (n < 1) return 0;
    const unsigned nf = 1u + (d[0] & 3u) % 3u, named = nf + ((d[0] >> 3) & 1u);
    const bool plain = nf == 1 && ((d[0] >> 2) & 1u);
    char dir[600], prefix[700], path[3][800];
    fuzz_dir("gguf_split", dir, sizeof dir);
    snprintf(prefix, sizeof prefix, "%s/m", dir);
    size_t off = 1;
    for (unsigned i = 0; i < nf; i++) {
        size_t len = n - off;
        if (i + 1 < nf) {
            if (n - off < 2) break;
            len = (size_t)d[off] | (size_t)d[off + 1] << 8;
            off += 2;
            if (len > n - off) len = n - off;
        }
        if (plain) snprintf(path[i], sizeof path[i], "%s.gguf", prefix);
        else qk_split_path(path[i], sizeof path[i], prefix, i + 1, named);
        put_file(dir, strrchr(path[i], '/') + 1, d + off, len);
        off += len;
    }
    qk_gguf_set s;
    qk_err err;
    if ((qk_fuzz_accepted = qk_gguf_set_open(path[0], &s, &err) == QK_OK)) {
        unsigned char buf[64];
        int64_t v;
        qk_gguf_get_int(qk_gguf_set_meta(&s), "split.tensors.count", &v);
        for (uint64_t i = 0; i < s.n_tensors; i++) {
            const qk_gguf_tensor *t = qk_gguf_set_tensor(&s, i);
            const qk_gguf_file *f = qk_gguf_set_file(&s, i);
            size_t k = t->nbytes < sizeof buf ? (size_t)t->nbytes : sizeof buf;
            qk_gguf_read_tensor(f, t, 0, buf, k, &err);
            qk_gguf_read_tensor(f, t, t->nbytes - k, buf, k, &err);
            if (qk_gguf_find_tensor(&f->meta, t->name) < 0) abort(); /* the set's index points at it */
        }
        const uint64_t n_tensors = s.n_tensors;
        qk_gguf_set_close(&s);
        /* what quantkit writes from an accepted set it must read back: the merged file, and the set
         * split again (into 1-2 shards) */
        char out[800];
        snprintf(out, sizeof out, "%s/merged.gguf", dir);
        if (qk_merge_model(path[0], out, "fuzz", &err) == QK_OK) {
            qk_gguf_file *g;
            if (qk_gguf_open(out, &g, &err) != QK_OK || g->meta.n_tensors != n_tensors) abort();
            qk_gguf_close(g);
        }
        snprintf(prefix, sizeof prefix, "%s/r", dir);
        qk_split_opts o = {.max_tensors = n_tensors > 1 ? (n_tensors + 1) / 2 : 1, .command_line = "fuzz"};
        uint32_t got;
        if (qk_split_model(path[0], prefix, &o, &got, &err) == QK_OK) {
            qk_split_path(out, sizeof out, prefix, 1, got);
            if (qk_gguf_set_open(out, &s, &err) != QK_OK || s.n_tensors != n_tensors) abort();
            qk_gguf_set_close(&s);
        }
    }
    clear_dir(dir);
    return 0;
}

/* The model file the manifest target checks manifests against: three small
 * tensors of known names (also used by qk_make_fuzz_seeds). */
int qk_fuzz_write_manifest_model(const char *path, qk_err *err) {
    qk_gguf_writer *w = qk_gguf_writer_new();
    if (!w) return qk_fail(err, "out of memory");
    static const struct { const char *name; uint32_t type, n_dims; int64_t ne[2]; } ts[3] = {
        {"token_embd.weight", QK_TYPE_F32, 2, {4, 3}},
        {"blk.0.attn_q.weight", QK_TYPE_F16, 2, {4, 4}},
        {"output_norm.weight", QK_TYPE_F32, 1, {4, 1}},
    };
    int rc = qk_gguf_writer_add_str(w, "general.architecture", "llama", err);
    for (int i = 0; rc == QK_OK && i < 3; i++) rc = qk_gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, err);
    if (rc == QK_OK) rc = qk_gguf_writer_begin(w, path, err);
    unsigned char data[64];
    for (int i = 0; rc == QK_OK && i < 3; i++) {
        size_t nb = (size_t)(ts[i].ne[0] * ts[i].ne[1]) * (ts[i].type == QK_TYPE_F16 ? 2 : 4);
        for (size_t k = 0; k < nb; k++) data[k] = (unsigned char)(k * 37 + (size_t)i * 11 + 1);
        rc = qk_gguf_writer_write(w, data, nb, err);
    }
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, err);
    qk_gguf_writer_free(w);
    return rc;
}

/* A manifest (the whole input), checked against a fixed GGUF model.gguf and
 * against other.bin, a file that is not a GGUF. */
static int fuzz_manifest(const uint8_t *d, size_t n) {
    static char model[800], other[800];
    char dir[600], man[800];
    fuzz_dir("manifest", dir, sizeof dir);
    qk_err err;
    if (!model[0]) {
        snprintf(model, sizeof model, "%s/model.gguf", dir);
        snprintf(other, sizeof other, "%s/other.bin", dir);
        if (qk_fuzz_write_manifest_model(model, &err)) abort();
        put_file(dir, "other.bin", "not a gguf file\n", 16);
    }
    snprintf(man, sizeof man, "%s/m.txt", dir);
    put_file(dir, "m.txt", d, n);
    const char *files[2] = {model, other};
    qk_fuzz_accepted = 1;
    for (int i = 0; i < 2; i++) {
        qk_verify_report rep;
        memset(&rep, 0, sizeof rep);
        if (qk_manifest_check_file(man, files[i], 1, &rep, &err) || (i == 0 && rep.n_problems)) qk_fuzz_accepted = 0;
        qk_verify_report_free(&rep);
    }
    unlink(man);
    return 0;
}

/* ---- tokenizer_config: the special-token files of a Hugging Face folder ----
 * A small fixed vocabulary in one of three forms (SentencePiece
 * tokenizer.model, byte-level BPE tokenizer.json, Llama-HF tokenizer.json) plus
 * a fixed tokenizer_config.json; the input replaces one file. */
static const char k_tok_bpe[] =
    "{\"version\":\"1.0\",\"added_tokens\":["
    "{\"id\":6,\"content\":\"<s>\",\"special\":true},{\"id\":7,\"content\":\"</s>\",\"special\":true},"
    "{\"id\":8,\"content\":\"<|eot_id|>\",\"special\":true},{\"id\":9,\"content\":\"<unk>\",\"special\":true}],"
    "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
    "\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":1}},"
    "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],\"special_tokens\":{}},"
    "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"byte_fallback\":false,"
    "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"bc\":4,\"abc\":5},\"merges\":[\"a b\",\"b c\",\"ab c\"]}}";
static const char k_tok_llama_hf[] =
    "{\"version\":\"1.0\",\"added_tokens\":["
    "{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true},"
    "{\"id\":2,\"content\":\"</s>\",\"special\":true},{\"id\":9,\"content\":\"<|eot_id|>\",\"special\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},\"pre_tokenizer\":null,"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{}},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},"
    "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\",\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"<0x41>\":3,\"\\u2581\":4,\"a\":5,\"b\":6,\"\\u2581a\":7,\"ab\":8},"
    "\"merges\":[\"\\u2581 a\",\"a b\"]}}";
static const char k_tcfg[] =
    "{\"add_bos_token\":true,\"add_eos_token\":false,\"bos_token\":\"<s>\","
    "\"eos_token\":{\"__type\":\"AddedToken\",\"content\":\"</s>\",\"lstrip\":false},\"unk_token\":\"<unk>\","
    "\"added_tokens_decoder\":{\"9\":{\"content\":\"<|eot_id|>\",\"special\":true}},"
    "\"tokenizer_class\":\"LlamaTokenizer\"}";

static void pb_varint(unsigned char *b, size_t *n, uint64_t v) {
    do {
        unsigned char c = (unsigned char)(v & 0x7F);
        v >>= 7;
        b[(*n)++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
}

/* tokenizer.model: <unk> <s> </s> and a few pieces, BPE, no byte fallback. */
static size_t tiny_spm(unsigned char *out) {
    static const struct { const char *text; int type; } pieces[] = {
        {"<unk>", 2}, {"<s>", 3}, {"</s>", 3}, {"\xe2\x96\x81", 1}, {"a", 1}, {"b", 1},
        {"\xe2\x96\x81" "a", 1}, {"ab", 1}, {"<|eot_id|>", 4},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        unsigned char p[64];
        size_t m = 0, l = strlen(pieces[i].text);
        float score = -(float)i;
        p[m++] = 1 << 3 | 2, p[m++] = (unsigned char)l;
        memcpy(p + m, pieces[i].text, l), m += l;
        p[m++] = 2 << 3 | 5;
        memcpy(p + m, &score, 4), m += 4;
        p[m++] = 3 << 3, p[m++] = (unsigned char)pieces[i].type;
        out[n++] = 1 << 3 | 2, out[n++] = (unsigned char)m;
        memcpy(out + n, p, m), n += m;
    }
    unsigned char t[32];
    size_t m = 0;
    pb_varint(t, &m, 3 << 3), pb_varint(t, &m, 2);  /* model_type BPE */
    pb_varint(t, &m, 40 << 3), pb_varint(t, &m, 0); /* unk_id */
    pb_varint(t, &m, 41 << 3), pb_varint(t, &m, 1); /* bos_id */
    pb_varint(t, &m, 42 << 3), pb_varint(t, &m, 2); /* eos_id */
    out[n++] = 2 << 3 | 2, out[n++] = (unsigned char)m;
    memcpy(out + n, t, m), n += m;
    return n;
}

static const char *const k_tokcfg_files[7] = {"tokenizer_config.json", "special_tokens_map.json", "config.json",
                                              "chat_template.json", "chat_template.jinja", "tokenizer.json",
                                              "added_tokens.json"};

/* Byte 0 = s: the rest is file k_tokcfg_files[s % 7] of a folder whose
 * vocabulary is (s / 7) % 3: 0 tokenizer.model, 1 byte-level BPE tokenizer.json,
 * 2 Llama-HF tokenizer.json. vocab_size comes from the input when it is
 * config.json (bounded to 4096 here, so padding stays cheap), as convert does.
 * The folder is loaded with qk_vocab_load_hf (SpecialVocab: bos/eos as string
 * or {content}, added_tokens_decoder, chat_template string or list) and the
 * result written as GGUF KVs. */
static int fuzz_tokenizer_config(const uint8_t *d, size_t n) {
    qk_fuzz_accepted = 0;
    if (n < 1) return 0;
    const unsigned file = d[0] % 7u, kind = (d[0] / 7u) % 3u;
    char dir[600];
    fuzz_dir("tokenizer_config", dir, sizeof dir);
    if (kind == 0) {
        unsigned char spm[512];
        put_file(dir, "tokenizer.model", spm, tiny_spm(spm));
    }
    if (file != 5 && kind == 1) put_file(dir, "tokenizer.json", k_tok_bpe, sizeof k_tok_bpe - 1);
    if (file != 5 && kind == 2) put_file(dir, "tokenizer.json", k_tok_llama_hf, sizeof k_tok_llama_hf - 1);
    if (file != 0) put_file(dir, "tokenizer_config.json", k_tcfg, sizeof k_tcfg - 1);
    put_file(dir, k_tokcfg_files[file], d + 1, n - 1);
    uint64_t vocab_size = 0;
    if (file == 2) {
        cJSON *c = cJSON_ParseWithLength((const char *)d + 1, n - 1);
        const cJSON *vs = cJSON_GetObjectItemCaseSensitive(c, "vocab_size");
        if (cJSON_IsNumber(vs) && vs->valuedouble >= 0 && vs->valuedouble <= 4096) vocab_size = (uint64_t)vs->valuedouble;
        cJSON_Delete(c);
    }
    qk_vocab v;
    qk_err err;
    if ((qk_fuzz_accepted = qk_vocab_load_hf(dir, NULL, vocab_size, &v, &err) == QK_OK)) {
        qk_gguf_writer *w = qk_gguf_writer_new();
        if (!w || qk_vocab_add_kvs(w, &v, &err)) qk_fuzz_accepted = 0;
        qk_gguf_writer_free(w);
        qk_vocab_free(&v);
    }
    clear_dir(dir);
    return 0;
}

/* An importance matrix file as llama-quantize reads it (GGUF imatrix when it
 * starts with "GGUF", else the legacy .dat), then the lookups quantize makes. */
static int fuzz_imatrix_gguf(const uint8_t *d, size_t n) {
    char dir[600], path[800];
    fuzz_dir("imatrix_gguf", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/imatrix.gguf", dir);
    put_file(dir, "imatrix.gguf", d, n);
    qk_imatrix im;
    qk_err err;
    if ((qk_fuzz_accepted = qk_imatrix_load(path, &im, &err) == QK_OK)) {
        for (size_t i = 0; i < im.n_entries; i++) {
            const qk_imatrix_entry *e = &im.entries[i];
            if (qk_imatrix_find(&im, e->name) != e) abort(); /* sorted and unique */
            const float *vec;
            qk_imatrix_for_tensor(&im, e->name, (int64_t)e->n, 1, false, &vec, &err);
        }
        qk_imatrix_check_finite(&im, &err);
        qk_imatrix_kv kv;
        qk_imatrix_kv_get(&im, path, &kv);
        const char *inc[1] = {"attn"};
        qk_imatrix_filter(&im, inc, 1, NULL, 0, &err);
        qk_imatrix_free(&im);
    }
    unlink(path);
    return 0;
}

/* A zip archive in memory: open (every structural check), then every entry
 * read whole (inflate bounded by the declared size, CRC) and streamed with a
 * skip. */
static int fuzz_zip(const uint8_t *d, size_t n) {
    qk_zip *z;
    qk_err err;
    if ((qk_fuzz_accepted = qk_zip_open_mem("fuzz.zip", d, n, &z, &err) == QK_OK)) {
        for (size_t i = 0; i < z->n_entries; i++) {
            const qk_zip_entry *e = &z->entries[i];
            qk_zip_find(z, e->name);
            uint8_t *b;
            size_t len;
            if (qk_zip_read_all(z, e, 1 << 20, &b, &len, &err) == QK_OK) free(b);
            qk_zip_stream s;
            if (e->size <= (1 << 20) && qk_zip_stream_open(z, e, &s, &err) == QK_OK) {
                uint8_t tail[16];
                uint64_t k = e->size < 16 ? e->size : 16;
                if (qk_zip_stream_skip(&s, e->size - k, &err) == QK_OK) qk_zip_stream_read(&s, tail, (size_t)k, &err);
                qk_zip_stream_close(&s);
            }
            if (e->method == QK_ZIP_STORED && e->size) qk_zip_pread_stored(z, e, e->size - 1, 1, &(uint8_t){0}, &err);
        }
        qk_zip_close(z);
    }
    return 0;
}

/* A torch state-dict pickle (data.pkl): nothing executed, tensors checked. */
static int fuzz_pickle(const uint8_t *d, size_t n) {
    qk_pt_state st;
    qk_err err;
    if ((qk_fuzz_accepted = qk_pickle_state_dict("fuzz.pkl", d, n, &st, &err) == QK_OK)) {
        for (size_t i = 0; i < st.n; i++) qk_pt_tensor_contiguous(&st.tensors[i]);
        qk_pt_state_free(&st);
    }
    return 0;
}

const qk_fuzz_target qk_fuzz_targets[] = {
    {"gguf", fuzz_gguf},       {"safetensors", fuzz_safetensors}, {"spm", fuzz_spm},
    {"tokenizer_json", fuzz_tokenizer_json}, {"imatrix", fuzz_imatrix}, {"config", fuzz_config},
    {"gguf_split", fuzz_gguf_split}, {"manifest", fuzz_manifest}, {"tokenizer_config", fuzz_tokenizer_config},
    {"imatrix_gguf", fuzz_imatrix_gguf}, {"zip", fuzz_zip}, {"pickle", fuzz_pickle},
};
const int qk_fuzz_n_targets = (int)(sizeof qk_fuzz_targets / sizeof qk_fuzz_targets[0]);

qk_fuzz_fn qk_fuzz_find(const char *name) {
    for (int i = 0; i < qk_fuzz_n_targets; i++)
        if (!strcmp(qk_fuzz_targets[i].name, name)) return qk_fuzz_targets[i].fn;
    return NULL;
}
