/* The model-running half of the harness on files written by others: a
 * llama.cpp-written vocab reproduces llama.cpp's own tokenizer test vectors,
 * and ollama's tiny model loads and decodes. (Both need the fixtures: without
 * them ctest shows this test Skipped.) */
#include "llama_run.h"
#include "qk_test.h"
#include "vocab_vectors.h"

static void test_vocab_vectors_spm(void) {
    const char *dir = qk_test_fixture("gguf-by-others/llama.cpp-vocab");
    if (!dir) return;
    char gguf[1200], inp[1200], out[1200];
    snprintf(gguf, sizeof gguf, "%s/ggml-vocab-llama-spm.gguf", dir);
    snprintf(inp, sizeof inp, "%s/ggml-vocab-llama-spm.gguf.inp", dir);
    snprintf(out, sizeof out, "%s/ggml-vocab-llama-spm.gguf.out", dir);
    llama_run_model *m = llama_run_load(gguf, true);
    CHECK_MSG(m != NULL, "%s", llama_run_error());
    if (!m) return;
    vocab_vectors v;
    CHECK(vocab_vectors_load(inp, out, &v) == 0);
    CHECK(v.n > 20);
    int bad = 0;
    for (size_t i = 0; i < v.n; i++) {
        int32_t ids[4096];
        int n = llama_run_tokenize(m, v.text[i], v.text_len[i], false, false, ids, 4096);
        if (n != v.n_ids[i] || memcmp(ids, v.ids[i], (size_t)n * 4) != 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    vocab_vectors_free(&v);
    llama_run_free(m);
}

static void test_ollama_model_decodes(void) {
    const char *path = qk_test_fixture("gguf-by-others/ollama-llama-2-tiny-random.gguf");
    if (!path) return;
    llama_run_model *m = llama_run_load(path, false);
    CHECK_MSG(m != NULL, "%s", llama_run_error());
    if (!m) return;
    CHECK_EQ_INT(llama_run_n_vocab(m), 32000);
    int32_t prompt[3] = {1, 450, 4996};
    int32_t out[4];
    CHECK_MSG(llama_run_greedy(m, prompt, 3, 4, out), "%s", llama_run_error());
    llama_run_free(m);
}

int main(void) {
    RUN(test_vocab_vectors_spm);
    RUN(test_ollama_model_decodes);
    return qk_test_summary();
}
