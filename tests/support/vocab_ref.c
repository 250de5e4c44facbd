/* vocab_ref.c - see vocab_ref.h */
#include "vocab_ref.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llama_ref.h"
#include "qk_test.h"

enum { GGUF_T_UINT32 = 4, GGUF_T_INT32 = 5, GGUF_T_FLOAT32 = 6, GGUF_T_STRING = 8, GGUF_T_ARRAY = 9 };

int vocab_check_against_gguf(const qk_vocab *v, const char *gguf_path) {
    int before = qk_test_checks_failed;
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
    if (!r) return 1;
    struct ref_gguf_init_params ip = {true, NULL};
    struct gguf_context *g = r->gguf_init_from_file(gguf_path, ip);
    CHECK_MSG(g != NULL, "reference gguf cannot read %s", gguf_path);
    if (!g) return 1;
    int64_t k;
    if ((k = r->gguf_find_key(g, "tokenizer.ggml.model")) >= 0) CHECK_STR(v->model, r->gguf_get_val_str(g, k));
    if ((k = r->gguf_find_key(g, "tokenizer.ggml.pre")) >= 0) CHECK_STR(v->pre, r->gguf_get_val_str(g, k));

    k = r->gguf_find_key(g, "tokenizer.ggml.tokens");
    CHECK(k >= 0);
    size_t n = k >= 0 ? r->gguf_get_arr_n(g, k) : 0;
    CHECK_EQ_INT(v->n_tokens, n);
    int shown = 0;
    for (size_t i = 0; k >= 0 && i < n && i < v->n_tokens; i++) {
        const char *t = r->gguf_get_arr_str(g, k, i);
        if (strcmp(t, v->tokens[i]) != 0 || strlen(t) != v->token_len[i]) {
            if (shown++ < 5) fprintf(stderr, "  token %zu: ours '%s' ref '%s'\n", i, v->tokens[i], t);
            qk_test_checks_failed++;
        }
    }
    k = r->gguf_find_key(g, "tokenizer.ggml.scores");
    CHECK_MSG((k >= 0) == (v->scores != NULL), "scores present in gguf: %d, ours: %d", k >= 0, v->scores != NULL);
    if (k >= 0 && v->scores && r->gguf_get_arr_n(g, k) == v->n_tokens) {
        const float *s = r->gguf_get_arr_data(g, k);
        shown = 0;
        for (size_t i = 0; i < v->n_tokens; i++)
            if (memcmp(&s[i], &v->scores[i], 4) != 0) {
                if (shown++ < 5) fprintf(stderr, "  score %zu: ours %.9g ref %.9g\n", i, v->scores[i], s[i]);
                qk_test_checks_failed++;
            }
    }
    k = r->gguf_find_key(g, "tokenizer.ggml.token_type");
    CHECK(k >= 0);
    if (k >= 0 && r->gguf_get_arr_n(g, k) == v->n_tokens) {
        const int32_t *t = r->gguf_get_arr_data(g, k);
        shown = 0;
        for (size_t i = 0; i < v->n_tokens; i++)
            if (t[i] != v->token_type[i]) {
                if (shown++ < 5) fprintf(stderr, "  type %zu ('%s'): ours %d ref %d\n", i, v->tokens[i], v->token_type[i], t[i]);
                qk_test_checks_failed++;
            }
    }
    k = r->gguf_find_key(g, "tokenizer.ggml.merges");
    size_t nm = k >= 0 ? r->gguf_get_arr_n(g, k) : 0;
    CHECK_EQ_INT(v->n_merges, nm);
    shown = 0;
    for (size_t i = 0; i < nm && i < v->n_merges; i++) {
        const char *m = r->gguf_get_arr_str(g, k, i);
        if (strcmp(m, v->merges[i]) != 0) {
            if (shown++ < 5) fprintf(stderr, "  merge %zu: ours '%s' ref '%s'\n", i, v->merges[i], m);
            qk_test_checks_failed++;
        }
    }
    for (int role = 0; role < QK_SPECIAL_COUNT; role++) {
        const char *key = qk_special_key(role);
        if (!key) continue;
        k = r->gguf_find_key(g, key);
        if (k < 0) continue; /* the reference converter's folder may have had more files than ours */
        uint32_t id;
        memcpy(&id, r->gguf_get_val_data(g, k), 4);
        CHECK_MSG(v->special[role] == (int64_t)id, "%s: ours %lld ref %u", key, (long long)v->special[role], id);
    }
    static const char *const add_keys[3] = {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                                            "tokenizer.ggml.add_sep_token"};
    const qk_tri ours[3] = {v->add_bos, v->add_eos, v->add_sep};
    for (int i = 0; i < 3; i++) {
        k = r->gguf_find_key(g, add_keys[i]);
        if (k < 0) continue;
        int val = *(const unsigned char *)r->gguf_get_val_data(g, k) != 0;
        CHECK_MSG(ours[i] == (val ? QK_TRI_TRUE : QK_TRI_FALSE), "%s: ours %d ref %d", add_keys[i], ours[i], val);
    }
    r->gguf_free(g);
    return qk_test_checks_failed - before;
}

const char *vocab_test_dir(const char *name) {
    static char bufs[4][1024];
    static int slot;
    char *b = bufs[slot++ % 4];
    snprintf(b, 1024, "%s/%s", qk_test_tmpdir(), name);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b);
    if (system(cmd) != 0) fprintf(stderr, "cannot clear %s\n", b);
    mkdir(b, 0755);
    return b;
}

void vocab_test_put(const char *dir, const char *file, const char *text) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    if (qk_test_write_file(p, text, strlen(text)) != 0) fprintf(stderr, "cannot write %s\n", p);
}

void vocab_test_link(const char *dir, const char *file, const char *target) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    unlink(p);
    if (symlink(target, p) != 0) perror(p);
}

bool vocab_test_load(const char *dir, uint64_t vocab_size, qk_vocab *v) {
    qk_err err = {{0}};
    const int rc = qk_vocab_load_hf(dir, NULL, vocab_size, v, &err);
    CHECK_MSG(rc == QK_OK, "%s: %s", dir, err.msg);
    return rc == QK_OK;
}
