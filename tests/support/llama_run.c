#include "llama_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama_ref.h"

/* ---- declarations matching llama.cpp v0.4.0's include/llama.h ---- */
struct llama_context;
struct llama_vocab;

typedef struct ref_llama_context_params { /* 160 bytes in this release */
    uint32_t n_ctx, n_batch, n_ubatch, n_seq_max, n_rs_seq, n_outputs_max, n_outputs_max_per_seq;
    int32_t n_threads, n_threads_batch;
    int ctx_type, rope_scaling_type, pooling_type, attention_type, flash_attn_type;
    float rope_freq_base, rope_freq_scale, yarn_ext_factor, yarn_attn_factor, yarn_beta_fast, yarn_beta_slow;
    uint32_t yarn_orig_ctx;
    float defrag_thold;
    void *cb_eval;
    void *cb_eval_user_data;
    int type_k, type_v;
    void *abort_callback;
    void *abort_callback_data;
    bool embeddings, offload_kqv, no_perf, op_offload, swa_full, kv_unified;
    void *samplers;
    size_t n_samplers;
    struct llama_context *ctx_other;
} ref_llama_context_params;

typedef struct ref_llama_batch { /* 56 bytes */
    int32_t n_tokens;
    int32_t *token;
    float *embd;
    int32_t *pos;
    int32_t *n_seq_id;
    int32_t **seq_id;
    int8_t *logits;
} ref_llama_batch;

_Static_assert(sizeof(ref_llama_context_params) == 160, "llama_context_params is 160 bytes in v0.4.0");
_Static_assert(sizeof(ref_llama_batch) == 56, "llama_batch is 56 bytes in v0.4.0");
_Static_assert(sizeof(ref_llama_model_params) == 80, "llama_model_params is 80 bytes in v0.4.0");
_Static_assert(sizeof(ref_llama_model_quantize_params) == 64, "quantize params are 64 bytes in v0.4.0");
_Static_assert(sizeof(ref_ggml_type_traits) == 56, "ggml_type_traits is 56 bytes in v0.4.0");

static struct {
    ref_llama_context_params (*context_default_params)(void);
    struct llama_context *(*init_from_model)(struct llama_model *, ref_llama_context_params);
    void (*free_ctx)(struct llama_context *);
    const struct llama_vocab *(*get_vocab)(const struct llama_model *);
    int32_t (*n_tokens)(const struct llama_vocab *);
    int32_t (*bos)(const struct llama_vocab *);
    uint64_t (*n_params)(const struct llama_model *);
    int32_t (*meta_val_str)(const struct llama_model *, const char *, char *, size_t);
    int32_t (*tokenize)(const struct llama_vocab *, const char *, int32_t, int32_t *, int32_t, bool, bool);
    ref_llama_batch (*batch_init)(int32_t, int32_t, int32_t);
    void (*batch_free)(ref_llama_batch);
    int32_t (*decode)(struct llama_context *, ref_llama_batch);
    float *(*get_logits_ith)(struct llama_context *, int32_t);
    bool ok;
} L;

static char g_err[512];
const char *llama_run_error(void) { return g_err; }

struct llama_run_model {
    struct llama_model *model;
    const struct llama_vocab *vocab;
};

static bool bind(void) {
    if (L.ok) return true;
    if (!llama_ref_require() || !llama_ref_init_backend()) {
        snprintf(g_err, sizeof g_err, "llama.cpp reference unavailable: %s", llama_ref_error());
        return false;
    }
#define SYM(field, name)                                                   \
    do {                                                                   \
        *(void **)(&L.field) = llama_ref_sym(name);                        \
        if (!L.field) {                                                    \
            snprintf(g_err, sizeof g_err, "symbol %s missing", name);      \
            return false;                                                  \
        }                                                                  \
    } while (0)
    SYM(context_default_params, "llama_context_default_params");
    SYM(init_from_model, "llama_init_from_model");
    SYM(free_ctx, "llama_free");
    SYM(get_vocab, "llama_model_get_vocab");
    SYM(n_tokens, "llama_vocab_n_tokens");
    SYM(bos, "llama_vocab_bos");
    SYM(n_params, "llama_model_n_params");
    SYM(meta_val_str, "llama_model_meta_val_str");
    SYM(tokenize, "llama_tokenize");
    SYM(batch_init, "llama_batch_init");
    SYM(batch_free, "llama_batch_free");
    SYM(decode, "llama_decode");
    SYM(get_logits_ith, "llama_get_logits_ith");
#undef SYM
    L.ok = true;
    return true;
}

static llama_run_model *wrap(struct llama_model *model, const char *what) {
    if (!model) {
        snprintf(g_err, sizeof g_err, "llama.cpp could not load %s", what);
        return NULL;
    }
    llama_run_model *m = calloc(1, sizeof *m);
    m->model = model;
    m->vocab = L.get_vocab(model);
    return m;
}

/* The parameters every model of the tests is loaded with. */
static ref_llama_model_params load_params(const llama_ref *r) {
    ref_llama_model_params p = r->llama_model_default_params();
    p.n_gpu_layers = 0;
    p.check_tensors = true; /* let llama.cpp validate the tensor data too */
    /* No extra buffer types (weight repacking): on a CPU with AMX, ggml
     * 0.4.0 loads its sapphirerapids backend, which repacks Q8_0 weights
     * into AMX buffers; a tiny DeepSeek-V3 then aborts in
     * ggml_backend_sched_split_graph (GGML_ASSERT(*cur_backend_id != -1)) and
     * a tiny Qwen3.5-MoE F16 model's logits move by 5% of the largest. The
     * reference is the CPU backend without repacking, on every machine. */
    p.use_extra_bufts = false;
    return p;
}

llama_run_model *llama_run_load(const char *path, bool vocab_only) {
    if (!bind()) return NULL;
    const llama_ref *r = llama_ref_get();
    ref_llama_model_params p = load_params(r);
    p.vocab_only = vocab_only;
    return wrap(r->llama_model_load_from_file(path, p), path);
}

llama_run_model *llama_run_load_splits(const char **paths, size_t n) {
    if (!bind()) return NULL;
    const llama_ref *r = llama_ref_get();
    return wrap(r->llama_model_load_from_splits(paths, n, load_params(r)), n ? paths[0] : "(no shards)");
}

void llama_run_free(llama_run_model *m) {
    if (!m) return;
    llama_ref_get()->llama_model_free(m->model);
    free(m);
}

int32_t llama_run_n_vocab(const llama_run_model *m) { return L.n_tokens(m->vocab); }
int32_t llama_run_bos(const llama_run_model *m) { return L.bos(m->vocab); }
uint64_t llama_run_n_params(const llama_run_model *m) { return L.n_params(m->model); }

bool llama_run_meta(const llama_run_model *m, const char *key, char *buf, size_t n) {
    return L.meta_val_str(m->model, key, buf, n) >= 0;
}

int llama_run_tokenize(const llama_run_model *m, const char *text, size_t len, bool add_special,
                       bool parse_special, int32_t *ids, int max) {
    int32_t n = L.tokenize(m->vocab, text, (int32_t)len, ids, max, add_special, parse_special);
    if (n < 0) {
        snprintf(g_err, sizeof g_err, "llama_tokenize needs %d ids (max %d)", -n, max);
        return -1;
    }
    return n;
}

static bool g_f32_attention;
void llama_run_f32_attention(bool on) { g_f32_attention = on; }

static struct llama_context *new_ctx(llama_run_model *m, int n_ctx) {
    ref_llama_context_params cp = L.context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = (uint32_t)n_ctx;
    cp.n_ubatch = (uint32_t)n_ctx;
    cp.n_seq_max = 1;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.no_perf = true;
    if (g_f32_attention) cp.type_k = 0, cp.type_v = 0, cp.flash_attn_type = 0; /* GGML_TYPE_F32; disabled */
    struct llama_context *ctx = L.init_from_model(m->model, cp);
    if (!ctx) snprintf(g_err, sizeof g_err, "llama_init_from_model failed");
    return ctx;
}

static bool decode_at(struct llama_context *ctx, const int32_t *tokens, int n, int pos0, bool all_logits) {
    ref_llama_batch b = L.batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = tokens[i];
        b.pos[i] = pos0 + i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = (int8_t)(all_logits || i == n - 1);
    }
    b.n_tokens = n;
    int32_t rc = L.decode(ctx, b);
    L.batch_free(b);
    if (rc != 0) snprintf(g_err, sizeof g_err, "llama_decode returned %d", rc);
    return rc == 0;
}

bool llama_run_logits(llama_run_model *m, const int32_t *tokens, int n, float *logits) {
    int n_ctx = n < 32 ? 32 : n;
    struct llama_context *ctx = new_ctx(m, n_ctx);
    if (!ctx) return false;
    bool ok = decode_at(ctx, tokens, n, 0, true);
    int nv = llama_run_n_vocab(m);
    for (int i = 0; ok && i < n; i++) {
        const float *l = L.get_logits_ith(ctx, i);
        if (!l) {
            snprintf(g_err, sizeof g_err, "no logits for position %d", i);
            ok = false;
        } else {
            memcpy(logits + (size_t)i * nv, l, (size_t)nv * sizeof(float));
        }
    }
    L.free_ctx(ctx);
    return ok;
}

bool llama_run_greedy(llama_run_model *m, const int32_t *prompt, int n_prompt, int n_gen, int32_t *out) {
    struct llama_context *ctx = new_ctx(m, n_prompt + n_gen + 1);
    if (!ctx) return false;
    int nv = llama_run_n_vocab(m);
    bool ok = decode_at(ctx, prompt, n_prompt, 0, false);
    int pos = n_prompt;
    for (int i = 0; ok && i < n_gen; i++) {
        const float *l = L.get_logits_ith(ctx, -1);
        if (!l) {
            snprintf(g_err, sizeof g_err, "no logits at step %d", i);
            ok = false;
            break;
        }
        int best = 0;
        for (int v = 1; v < nv; v++)
            if (l[v] > l[best]) best = v;
        out[i] = best;
        int32_t t = best;
        ok = decode_at(ctx, &t, 1, pos++, false);
    }
    L.free_ctx(ctx);
    return ok;
}

bool llama_run_decodes(const char *path) {
    llama_run_model *m = llama_run_load(path, false);
    if (!m) return false;
    const int nv = llama_run_n_vocab(m);
    int32_t prompt[3] = {llama_run_bos(m), 5 % nv, 9 % nv};
    float *l = malloc((size_t)nv * 3 * sizeof *l);
    bool ok = l && llama_run_logits(m, prompt, 3, l);
    bool varied = false;
    for (int i = 0; ok && i < 3 * nv; i++) {
        if (!isfinite(l[i])) {
            snprintf(g_err, sizeof g_err, "%s: logit %d is not finite", path, i);
            ok = false;
        }
        varied |= l[i] != l[0];
    }
    if (ok && !varied) snprintf(g_err, sizeof g_err, "%s: all logits are equal", path), ok = false;
    free(l);
    llama_run_free(m);
    return ok;
}
