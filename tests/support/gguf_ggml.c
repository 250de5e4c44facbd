#include "gguf_ggml.h"

#include "gguf.h"
#include "llama_ref.h"
#include "qk_test.h"

/* Compares one KV between our reader and ggml's context. */
static void compare_kv(const llama_ref *r, struct gguf_context *g, const qk_gguf_kv *kv) {
    int64_t id = r->gguf_find_key(g, kv->key);
    CHECK_MSG(id >= 0, "ggml lacks key %s", kv->key);
    if (id < 0) return;
    CHECK_MSG((uint32_t)r->gguf_get_kv_type(g, id) == kv->type, "type of %s", kv->key);
    if (kv->type == QK_GGUF_STRING) {
        CHECK_STR(r->gguf_get_val_str(g, id), ((qk_gguf_str *)kv->data)->s);
    } else if (kv->type == QK_GGUF_ARRAY) {
        CHECK_MSG((uint32_t)r->gguf_get_arr_type(g, id) == kv->arr_type, "arr type of %s", kv->key);
        CHECK_MSG(r->gguf_get_arr_n(g, id) == kv->n, "arr n of %s", kv->key);
        if (kv->arr_type == QK_GGUF_STRING) {
            for (uint64_t i = 0; i < kv->n && i < r->gguf_get_arr_n(g, id); i++)
                CHECK_STR(r->gguf_get_arr_str(g, id, i), ((qk_gguf_str *)kv->data)[i].s);
        } else if (kv->n) {
            CHECK(memcmp(r->gguf_get_arr_data(g, id), kv->data, kv->n * qk_gguf_type_size(kv->arr_type)) == 0);
        }
    } else {
        CHECK_MSG(memcmp(r->gguf_get_val_data(g, id), kv->data, qk_gguf_type_size(kv->type)) == 0, "value of %s",
                  kv->key);
    }
}

void gguf_ggml_agrees(const char *path, bool ggml_rewrite) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    qk_gguf_file *f;
    qk_err err;
    CHECK_MSG(qk_gguf_open(path, &f, &err) == QK_OK, "%s", err.msg);
    if (!f) return;
    struct ggml_context *gctx = NULL;
    struct ref_gguf_init_params ip = {.no_alloc = false, .ctx = &gctx};
    struct gguf_context *g = r->gguf_init_from_file(path, ip);
    CHECK_MSG(g != NULL, "ggml rejects %s", path);
    if (!g) { qk_gguf_close(f); return; }
    CHECK_EQ_INT(r->gguf_get_n_kv(g), f->meta.n_kv);
    CHECK_EQ_INT(r->gguf_get_n_tensors(g), f->meta.n_tensors);
    CHECK_EQ_INT(r->gguf_get_data_offset(g), f->meta.data_offset);
    for (uint64_t i = 0; i < f->meta.n_kv; i++) {
        CHECK_STR(r->gguf_get_key(g, (int64_t)i), f->meta.kv[i].key);
        compare_kv(r, g, &f->meta.kv[i]);
    }
    for (uint64_t i = 0; i < f->meta.n_tensors; i++) {
        const qk_gguf_tensor *t = &f->meta.tensors[i];
        CHECK_STR(r->gguf_get_tensor_name(g, (int64_t)i), t->name);
        CHECK_EQ_INT(r->gguf_get_tensor_type(g, (int64_t)i), t->type);
        CHECK_EQ_INT(r->gguf_get_tensor_offset(g, (int64_t)i), t->offset);
        CHECK_EQ_INT(r->gguf_get_tensor_size(g, (int64_t)i), t->nbytes);
        const int64_t *ne = r->gguf_get_tensor_ne(g, (int64_t)i);
        for (int d = 0; d < 4; d++) CHECK_EQ_INT(ne[d], t->ne[d]);
    }
    /* ggml writes the same content; it drops trailing 1-dims (ggml_n_dims),
     * so byte identity is expected when our n_dims has none; and it pads
     * after the KVs even when there is no data section (our writer, like
     * gguf-py, does not), so only for files with tensors. */
    bool trailing_ones = false;
    for (uint64_t i = 0; i < f->meta.n_tensors; i++)
        if (f->meta.tensors[i].n_dims > 1 && f->meta.tensors[i].ne[f->meta.tensors[i].n_dims - 1] == 1)
            trailing_ones = true;
    if (ggml_rewrite && !trailing_ones && f->meta.n_tensors > 0) {
        struct gguf_context *o = r->gguf_init_empty();
        r->gguf_set_kv(o, g);
        /* by name: gctx also holds the data blob ggml read the tensors into */
        for (int64_t i = 0; i < r->gguf_get_n_tensors(g); i++)
            r->gguf_add_tensor(o, r->ggml_get_tensor(gctx, r->gguf_get_tensor_name(g, i)));
        char out[700];
        snprintf(out, sizeof out, "%s.ggml", path);
        CHECK(r->gguf_write_to_file(o, out, false));
        size_t la, lb;
        unsigned char *a = qk_test_read_file(path, &la), *b = qk_test_read_file(out, &lb);
        CHECK_MSG(a && b && la == lb && memcmp(a, b, la) == 0, "ggml's rewrite of %s differs (%zu vs %zu bytes)",
                  path, la, lb);
        free(a), free(b);
        r->gguf_free(o);
    }
    r->gguf_free(g);
    r->ggml_free(gctx);
    qk_gguf_close(f);
}
