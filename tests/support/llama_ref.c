#include "llama_ref.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the layout of include/llama.h in the pinned release (keep_split and dry_run included) */
_Static_assert(sizeof(ref_llama_model_quantize_params) == 64, "llama_model_quantize_params is 64 bytes in v0.4.0");
_Static_assert(offsetof(ref_llama_model_quantize_params, keep_split) == 20, "keep_split follows pure");
_Static_assert(offsetof(ref_llama_model_quantize_params, imatrix) == 24, "imatrix follows dry_run");

static llama_ref g_ref;
static int g_state; /* 0 = not tried, 1 = loaded, -1 = failed */
static char g_error[1200];

const char *llama_ref_error(void) { return g_error; }

void *llama_ref_sym(const char *name) {
    void *p = NULL;
    if (g_ref.h_llama && (p = dlsym(g_ref.h_llama, name))) return p;
    if (g_ref.h_ggml && (p = dlsym(g_ref.h_ggml, name))) return p;
    if (g_ref.h_ggml_base && (p = dlsym(g_ref.h_ggml_base, name))) return p;
    return NULL;
}

static void *open_lib(const char *file) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_ref.dir, file);
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) snprintf(g_error, sizeof g_error, "cannot load %s: %s", path, dlerror());
    return h;
}

/* Assigns each function pointer from its own name; fails on the first missing. */
#define LOAD(field)                                                                  \
    do {                                                                             \
        *(void **)(&g_ref.field) = llama_ref_sym(#field);                            \
        if (!g_ref.field) {                                                          \
            snprintf(g_error, sizeof g_error, "symbol %s not found in %s", #field,   \
                     g_ref.dir);                                                     \
            return false;                                                            \
        }                                                                            \
    } while (0)

static bool load_all(void) {
    const char *dir = getenv("QK_LLAMA_DIR");
    if (dir && *dir) {
        snprintf(g_ref.dir, sizeof g_ref.dir, "%s", dir);
    } else {
        const char *home = getenv("HOME");
        snprintf(g_ref.dir, sizeof g_ref.dir,
                 "%s/.cache/quantkit/llama-3.21.1/package/bins/linux-x64", home ? home : "/root");
    }
    if (!(g_ref.h_ggml_base = open_lib("libggml-base.so"))) return false;
    if (!(g_ref.h_ggml = open_lib("libggml.v0.4.0.so"))) return false;
    if (!(g_ref.h_llama = open_lib("libllama.v0.4.0.so"))) return false;

    LOAD(ggml_quantize_chunk);
    LOAD(ggml_quantize_requires_imatrix);
    LOAD(ggml_get_type_traits);
    LOAD(ggml_row_size);
    LOAD(ggml_fp32_to_fp16_row);
    LOAD(ggml_fp32_to_bf16_row_ref);
    LOAD(ggml_validate_row_data);
    LOAD(ggml_init);
    LOAD(ggml_free);
    LOAD(ggml_get_tensor);
    LOAD(ggml_get_first_tensor);
    LOAD(ggml_get_next_tensor);
    LOAD(gguf_init_empty);
    LOAD(gguf_init_from_file);
    LOAD(gguf_init_from_buffer);
    LOAD(gguf_free);
    LOAD(gguf_get_version);
    LOAD(gguf_get_alignment);
    LOAD(gguf_get_data_offset);
    LOAD(gguf_get_n_kv);
    LOAD(gguf_find_key);
    LOAD(gguf_get_key);
    LOAD(gguf_get_kv_type);
    LOAD(gguf_get_arr_type);
    LOAD(gguf_get_val_data);
    LOAD(gguf_get_val_str);
    LOAD(gguf_get_arr_n);
    LOAD(gguf_get_arr_data);
    LOAD(gguf_get_arr_str);
    LOAD(gguf_get_n_tensors);
    LOAD(gguf_find_tensor);
    LOAD(gguf_get_tensor_offset);
    LOAD(gguf_get_tensor_name);
    LOAD(gguf_get_tensor_ne);
    LOAD(gguf_get_tensor_type);
    LOAD(gguf_get_tensor_size);
    LOAD(gguf_set_kv);
    LOAD(gguf_add_tensor);
    LOAD(gguf_write_to_file);
    LOAD(ggml_backend_load_all_from_path);
    LOAD(llama_backend_init);
    LOAD(llama_model_quantize_default_params);
    LOAD(llama_model_quantize);
    LOAD(llama_model_default_params);
    LOAD(llama_model_load_from_file);
    LOAD(llama_model_load_from_splits);
    LOAD(llama_model_free);
    LOAD(llama_log_set);
    LOAD(ggml_log_set);

    /* The declared layouts must be this release's: check sizes and
     * known fields of the traits table against our own type table. */
    const ref_ggml_type_traits *q4k = g_ref.ggml_get_type_traits(12);
    if (!q4k || q4k->blck_size != 256 || q4k->type_size != 144 || strcmp(q4k->type_name, "q4_K") != 0) {
        snprintf(g_error, sizeof g_error, "%s: ggml_type_traits layout does not match llama.cpp v0.4.0", g_ref.dir);
        return false;
    }
    ref_llama_model_quantize_params qp = g_ref.llama_model_quantize_default_params();
    if (qp.nthread != 0 || qp.ftype != 7 /* MOSTLY_Q8_0 */ || qp.max_buf_size == 0 || qp.output_tensor_type != 43 ||
        !qp.quantize_output_tensor || qp.keep_split || qp.dry_run || qp.imatrix || qp.prune_layers) {
        snprintf(g_error, sizeof g_error, "%s: llama_model_quantize_params layout does not match v0.4.0", g_ref.dir);
        return false;
    }
    ref_llama_model_params mp = g_ref.llama_model_default_params();
    if (mp.devices != NULL || mp.vocab_only || mp.main_gpu != 0) {
        snprintf(g_error, sizeof g_error, "%s: llama_model_params layout does not match v0.4.0", g_ref.dir);
        return false;
    }
    return true;
}

const llama_ref *llama_ref_get(void) {
    if (g_state == 0) g_state = load_all() ? 1 : -1;
    return g_state == 1 ? &g_ref : NULL;
}

const llama_ref *llama_ref_require(void) {
    const llama_ref *r = llama_ref_get();
    if (!r)
        fprintf(stderr,
                "llama.cpp reference unavailable: %s\n"
                "(run scripts/fetch-llama.sh, or set QK_LLAMA_DIR)\n",
                g_error);
    return r;
}

static void quiet_log(int level, const char *text, void *ud) {
    (void)level, (void)text, (void)ud;
}

bool llama_ref_init_backend(void) {
    static int done;
    const llama_ref *r = llama_ref_get();
    if (!r) return false;
    if (!done) {
        if (!getenv("QK_LLAMA_LOG")) {
            r->llama_log_set(quiet_log, NULL);
            r->ggml_log_set(quiet_log, NULL);
        }
        r->ggml_backend_load_all_from_path(r->dir);
        r->llama_backend_init();
        done = 1;
    }
    /* ggml_backend_reg_count tells whether a CPU backend was registered. */
    size_t (*reg_count)(void) = (size_t (*)(void))llama_ref_sym("ggml_backend_reg_count");
    return reg_count && reg_count() > 0;
}
