/* hf_forward_family.h - the contract of a model family whose reference
 * forward pass lives in a file of its own (hf_forward_gemma4.c,
 * hf_forward_lfm2.c, hf_forward_qwen35.c, hf_forward_granitehybrid.c, hf_forward_nemotronh.c,
 * hf_forward_falconh1.c, hf_forward_mamba.c, hf_forward_hunyuan.c, hf_forward_jamba.c):
 * hf_forward.c picks the family
 * by the config's model_type and calls it only through its table, so a new
 * family adds a table, not another set of declarations and branches.
 * Also the helpers those files share. Float32 weights; test support only. */
#ifndef QK_HF_FORWARD_FAMILY_H
#define QK_HF_FORWARD_FAMILY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_forward.h"

typedef struct hf_family {
    const char *model_types[4]; /* the config model_types it computes, NULL after the last */
    /* cfg: the text config (text_config when there is one); the model, or
     * NULL with a reason in err */
    void *(*load)(const cJSON *cfg, hf_tensor_get get, void *ctx, char *err, size_t errlen);
    int (*vocab)(const void *m);
    /* token at position pos (0, 1, ... in order; 0 starts over); the caller has checked that token is below
     * vocab(m); logits (vocab floats) may be NULL. 0, or -1 with a reason in err */
    int (*next)(void *m, int32_t token, int pos, float *logits, char *err, size_t errlen);
    /* the last token's smallest gap between a chosen and an unchosen router
     * probability over the MoE layers; NULL for a family without MoE */
    double (*route_margin)(const void *m);
    void (*free)(void *m); /* NULL is a no-op */
} hf_family;

extern const hf_family hf_family_gemma4, hf_family_lfm2, hf_family_qwen35, hf_family_granitehybrid,
    hf_family_nemotronh, hf_family_falconh1, hf_family_mamba, hf_family_hunyuan,
    hf_family_jamba;

/* The family computing model_type mt, or NULL. */
const hf_family *hf_family_for(const char *mt);

/* A malloc'd copy of the tensor named by fmt, which must have the shape
 * d0 (x d1 (x d2)), a 0 ending the dims; NULL with "tensor <name> is
 * missing", "... wrong shape" or "out of memory" in err. */
float *hf_family_take(hf_tensor_get get, void *ctx, int64_t d0, int64_t d1, int64_t d2, char *err, size_t errlen,
                      const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* The number c[k] (def when absent or not a number; c may be NULL). */
double hf_cfg_num(const cJSON *c, const char *k, double def);
int hf_cfg_int(const cJSON *c, const char *k, int def);

/* The k largest of the router logits lg[0..E) (E <= 256) in idx, largest first, the lower index on a tie; *margin
 * lowered to the smallest gap between the k-th chosen logit and an unchosen one (a near-tie another implementation
 * may break the other way). */
void hf_family_topk(const double *lg, int E, int k, int *idx, double *margin);

/* What a family's model starts with (its first member): the config's vocab_size, hidden_size and
 * num_hidden_layers, the embeddings [vocab][H], the final norm [H], lm_head [vocab][H] (NULL: tied to the
 * embeddings), and the layers, n_layer of layer_size bytes, which the trunk owns (the family reads them through a
 * typed pointer of its own) and frees with free_layer. */
typedef struct {
    int vocab, H, n_layer;
    float *embed, *lm_head, *final_norm;
    void *layers;
    size_t layer_size;
    void (*free_layer)(void *l);
} hf_trunk;

/* A zeroed model of size bytes that starts with its hf_trunk, the trunk's sizes from cfg (0 when absent, for the
 * family's size check to refuse), or NULL. */
void *hf_trunk_new(size_t size, const cJSON *cfg);

/* The start of a family's load: the embeddings named embed, the final norm named norm and lm_head.weight (required
 * with head_required, else taken when the checkpoint has one) into t, then t->n_layer zeroed layers of layer_size
 * bytes (freed with free_layer), returned; NULL with a reason in err (what was taken stays in t for
 * hf_trunk_free). */
void *hf_trunk_take(hf_trunk *t, size_t layer_size, void (*free_layer)(void *l), const char *embed, const char *norm,
                    int head_required, hf_tensor_get get, void *ctx, char *err, size_t errlen);

/* A model that starts with its hf_trunk freed: free_layer on each layer, the layers, the trunk's tensors, the model
 * (a family's free when it holds nothing else; NULL is a no-op). */
void hf_trunk_free(void *m);

/* The vocab() of a family whose model starts with its hf_trunk. */
int hf_trunk_vocab(const void *m);

/* One tensor of a layer's table: where it goes, its shape d0 (x d1 (x d2)) as hf_family_take checks it, and its
 * name after the layer's prefix. A row whose d0 is 0 names a tensor this layer does not have: it is not taken. */
typedef struct {
    float **dst;
    int64_t d0, d1, d2;
    const char *name;
} hf_take_row;

/* Each row's tensor "<pfx><name>" taken into *dst, in order; 0, or -1 with a reason in err at the first one missing
 * or of another shape (what was taken stays in its place for the family's free). */
int hf_family_take_rows(hf_tensor_get get, void *ctx, const hf_take_row *rows, size_t n, const char *pfx, char *err,
                        size_t errlen);

/* E experts' [d0][d1] weights "<pfx>.experts.<e>.<name>" stacked into one malloc'd [E][d0][d1] block, or NULL
 * with a reason in err */
float *hf_family_take_experts(hf_tensor_get get, void *ctx, int E, int d0, int d1, const char *pfx, const char *name,
                              char *err, size_t errlen);

/* Each row's E experts ("<pfx>.experts.<e>.<name>", [d0][d1] each; d2 unused) stacked by hf_family_take_experts
 * into *dst; 0, or -1 with a reason in err (what was taken stays in its place for the family's free). */
int hf_family_take_expert_rows(hf_tensor_get get, void *ctx, int E, const hf_take_row *rows, size_t n,
                               const char *pfx, char *err, size_t errlen);

/* out = w * x / sqrt(mean(x^2) + eps) in float32, the sum of squares in double (LlamaRMSNorm's float32 path); out
 * may be x. */
void hf_rmsnorm_f(float *out, const float *x, const float *w, int n, double eps);

/* The end of a family's load: m when ok, else NULL after free_fn(m) (which frees what the load took so far). */
void *hf_family_loaded(void *m, int ok, void (*free_fn)(void *));

/* A family's model freed layer by layer: free_layer on each of the n_layer layers, layer_size bytes apart from
 * layers (none when layers is NULL), then layers itself. */
void hf_family_free_layers(void *layers, int n_layer, size_t layer_size, void (*free_layer)(void *l));

/* free() on each of ps[0..n) (NULL entries are no-ops); HF_FREE_ALL(a, b, ...) on its arguments. */
void hf_free_each(void *const *ps, size_t n);
#define HF_FREE_ALL(...) hf_free_each((void *const[]){__VA_ARGS__}, sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))

/* y[o] = sum_i w[o * in + i] * x[i] over o < out, accumulated in double. */
void hf_matvec_f32(const float *w, const float *x, float *y, int out, int in);

#endif
