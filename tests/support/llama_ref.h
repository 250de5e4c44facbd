/* llama_ref.h - the real llama.cpp, loaded with dlopen, for tests to compare against.
 *
 * The tests prove compatibility against the pinned prebuilt llama.cpp
 * (npm @node-llama-cpp/linux-x64@3.21.1 = llama.cpp v0.4.0, ggml 0.23.0),
 * fetched by scripts/fetch-llama.sh. Its folder comes from $QK_LLAMA_DIR or
 * the default cache (~/.cache/quantkit/llama-3.21.1/package/bins/linux-x64).
 *
 * Only the prototypes and structs used are declared here, matching that exact
 * release (struct sizes are checked at load against the *_default_params()
 * functions where the release offers them). Nothing from llama.cpp is copied.
 *
 * llama_ref_get() loads once and returns NULL when the libraries are missing
 * or do not match; tests must then FAIL (the reference is part of the suite),
 * printing llama_ref_error().
 */
#ifndef QK_LLAMA_REF_H
#define QK_LLAMA_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- ggml (libggml-base) ---- */
struct ggml_context;
struct ggml_tensor;
struct gguf_context;

typedef void (*ggml_to_float_fn)(const void *x, float *y, int64_t k);
typedef void (*ggml_from_float_fn)(const float *x, void *y, int64_t k);

/* struct ggml_type_traits of this release (56 bytes). */
typedef struct ref_ggml_type_traits {
    const char *type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    ggml_to_float_fn to_float;
    ggml_from_float_fn from_float_ref;
} ref_ggml_type_traits;

struct ref_ggml_init_params {
    size_t mem_size;
    void *mem_buffer;
    bool no_alloc;
};

struct ref_gguf_init_params {
    bool no_alloc;
    struct ggml_context **ctx;
};

/* ---- llama (libllama) ---- */
struct llama_model;

struct ref_llama_model_imatrix_data {
    const char *name;
    const float *data;
    size_t size;
};

struct ref_llama_model_tensor_override {
    const char *pattern;
    int type; /* enum ggml_type */
};

enum { REF_KV_OVERRIDE_INT = 0, REF_KV_OVERRIDE_FLOAT, REF_KV_OVERRIDE_BOOL, REF_KV_OVERRIDE_STR };
struct ref_llama_model_kv_override {
    int tag;
    char key[128];
    union {
        int64_t val_i64;
        double val_f64;
        bool val_bool;
        char val_str[128];
    };
};

/* llama_model_quantize_params of this release (64 bytes). */
typedef struct ref_llama_model_quantize_params {
    int32_t nthread;
    int ftype;                /* enum llama_ftype */
    int output_tensor_type;   /* enum ggml_type, GGML_TYPE_COUNT = unset */
    int token_embedding_type; /* enum ggml_type, GGML_TYPE_COUNT = unset */
    bool allow_requantize;
    bool quantize_output_tensor;
    bool only_copy;
    bool pure;
    bool keep_split;
    bool dry_run;
    const struct ref_llama_model_imatrix_data *imatrix; /* terminated by name == NULL */
    const struct ref_llama_model_kv_override *kv_overrides; /* terminated by key[0] == 0 */
    const struct ref_llama_model_tensor_override *tt_overrides; /* terminated by pattern == NULL */
    const int32_t *prune_layers;
    size_t max_buf_size;
} ref_llama_model_quantize_params;

/* llama_model_params of this release (80 bytes). */
typedef struct ref_llama_model_params {
    void *devices;
    const void *tensor_buft_overrides;
    int32_t n_gpu_layers;
    int split_mode;
    int load_mode;
    int lazy_mode;
    int32_t main_gpu;
    const float *tensor_split;
    bool (*progress_callback)(float progress, void *user_data);
    void *progress_callback_user_data;
    const void *kv_overrides;
    bool vocab_only;
    bool check_tensors;
    bool use_extra_bufts;
    bool no_host;
    bool no_alloc;
    bool load_mtp;
} ref_llama_model_params;

typedef struct llama_ref {
    /* ggml-base */
    size_t (*ggml_quantize_chunk)(int type, const float *src, void *dst, int64_t start,
                                  int64_t nrows, int64_t n_per_row, const float *imatrix);
    bool (*ggml_quantize_requires_imatrix)(int type);
    const ref_ggml_type_traits *(*ggml_get_type_traits)(int type);
    size_t (*ggml_row_size)(int type, int64_t ne);
    void (*ggml_fp32_to_fp16_row)(const float *x, uint16_t *y, int64_t n);
    void (*ggml_fp32_to_bf16_row_ref)(const float *x, uint16_t *y, int64_t n);
    bool (*ggml_validate_row_data)(int type, const void *data, size_t nbytes);
    struct ggml_context *(*ggml_init)(struct ref_ggml_init_params params);
    void (*ggml_free)(struct ggml_context *ctx);
    struct ggml_tensor *(*ggml_get_tensor)(struct ggml_context *ctx, const char *name);
    struct ggml_tensor *(*ggml_get_first_tensor)(const struct ggml_context *ctx);
    struct ggml_tensor *(*ggml_get_next_tensor)(const struct ggml_context *ctx, struct ggml_tensor *t);

    /* gguf (in ggml-base) */
    struct gguf_context *(*gguf_init_empty)(void);
    struct gguf_context *(*gguf_init_from_file)(const char *fname, struct ref_gguf_init_params params);
    struct gguf_context *(*gguf_init_from_buffer)(const void *data, size_t size, struct ref_gguf_init_params params);
    void (*gguf_free)(struct gguf_context *ctx);
    uint32_t (*gguf_get_version)(const struct gguf_context *ctx);
    size_t (*gguf_get_alignment)(const struct gguf_context *ctx);
    size_t (*gguf_get_data_offset)(const struct gguf_context *ctx);
    int64_t (*gguf_get_n_kv)(const struct gguf_context *ctx);
    int64_t (*gguf_find_key)(const struct gguf_context *ctx, const char *key);
    const char *(*gguf_get_key)(const struct gguf_context *ctx, int64_t id);
    int (*gguf_get_kv_type)(const struct gguf_context *ctx, int64_t id);
    int (*gguf_get_arr_type)(const struct gguf_context *ctx, int64_t id);
    const void *(*gguf_get_val_data)(const struct gguf_context *ctx, int64_t id);
    const char *(*gguf_get_val_str)(const struct gguf_context *ctx, int64_t id);
    size_t (*gguf_get_arr_n)(const struct gguf_context *ctx, int64_t id);
    const void *(*gguf_get_arr_data)(const struct gguf_context *ctx, int64_t id);
    const char *(*gguf_get_arr_str)(const struct gguf_context *ctx, int64_t id, size_t i);
    int64_t (*gguf_get_n_tensors)(const struct gguf_context *ctx);
    int64_t (*gguf_find_tensor)(const struct gguf_context *ctx, const char *name);
    size_t (*gguf_get_tensor_offset)(const struct gguf_context *ctx, int64_t id);
    const char *(*gguf_get_tensor_name)(const struct gguf_context *ctx, int64_t id);
    const int64_t *(*gguf_get_tensor_ne)(const struct gguf_context *ctx, int64_t id);
    int (*gguf_get_tensor_type)(const struct gguf_context *ctx, int64_t id);
    size_t (*gguf_get_tensor_size)(const struct gguf_context *ctx, int64_t id);
    void (*gguf_set_kv)(struct gguf_context *ctx, const struct gguf_context *src);
    void (*gguf_add_tensor)(struct gguf_context *ctx, const struct ggml_tensor *t);
    bool (*gguf_write_to_file)(const struct gguf_context *ctx, const char *fname, bool only_meta);

    /* ggml (backend registry): needed before loading models */
    void (*ggml_backend_load_all_from_path)(const char *dir);

    /* llama */
    void (*llama_backend_init)(void);
    ref_llama_model_quantize_params (*llama_model_quantize_default_params)(void);
    uint32_t (*llama_model_quantize)(const char *fname_inp, const char *fname_out,
                                     const ref_llama_model_quantize_params *params);
    ref_llama_model_params (*llama_model_default_params)(void);
    struct llama_model *(*llama_model_load_from_file)(const char *path, ref_llama_model_params params);
    struct llama_model *(*llama_model_load_from_splits)(const char **paths, size_t n, ref_llama_model_params params);
    void (*llama_model_free)(struct llama_model *model);
    void (*llama_log_set)(void (*cb)(int level, const char *text, void *ud), void *ud);
    void (*ggml_log_set)(void (*cb)(int level, const char *text, void *ud), void *ud);

    /* handles, for extensions that dlsym more (see llama_ref_sym) */
    void *h_ggml_base, *h_ggml, *h_llama;
    char dir[1024];
} llama_ref;

/* Loads (once) and returns the reference, or NULL (see llama_ref_error()). */
const llama_ref *llama_ref_get(void);
const char *llama_ref_error(void);

/* dlsym in libllama, then libggml, then libggml-base; NULL if absent. */
void *llama_ref_sym(const char *name);

/* Loads the CPU backends (needed once before llama_model_load_from_file).
 * Returns false if none could be loaded. Also silences llama.cpp's logging
 * unless QK_LLAMA_LOG is set. */
bool llama_ref_init_backend(void);

/* The test-side verdict when the reference is missing: prints why and returns
 * NULL; callers CHECK the result (so a missing reference fails the test). */
const llama_ref *llama_ref_require(void);

#endif
