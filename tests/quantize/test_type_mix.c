/* The type mix, proven against the real llama_model_quantize.
 *
 * Small Llama-shaped GGUF models are written with the real ggml (gguf API),
 * quantized by llama.cpp for every ftype under several option sets, and the
 * output's tensor types and order (and KV order) must equal what
 * quantize/type_mix.c and quantize/quant_kv.c compute. llama_model_quantize
 * loads only hparams, so tensor shapes need not be consistent with them: each
 * tensor has the real row length (ne[0]) but only a few rows, to stay fast.
 * Also: the ftype table, --tensor-type / --override-kv parsing. (The imatrix
 * parsers are quantize/test_imatrix_file.c's.)
 */
#include "ftypes.h"
#include "kernels.h"
#include "imatrix.h"
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"
#include "quant_kv.h"
#include "type_mix.h"

#include <math.h>
#include <time.h>

/* ---- the ggml / gguf functions the harness does not declare ---- */
static struct ggml_tensor *(*p_ggml_new_tensor)(struct ggml_context *, int, int, const int64_t *);
static struct ggml_tensor *(*p_ggml_set_name)(struct ggml_tensor *, const char *);
static void *(*p_ggml_get_data)(const struct ggml_tensor *);
static size_t (*p_ggml_nbytes)(const struct ggml_tensor *);
static void (*p_gguf_set_val_str)(struct gguf_context *, const char *, const char *);
static void (*p_gguf_set_val_u32)(struct gguf_context *, const char *, uint32_t);
static void (*p_gguf_set_val_u16)(struct gguf_context *, const char *, uint16_t);
static void (*p_gguf_set_val_f32)(struct gguf_context *, const char *, float);
static void (*p_gguf_set_arr_str)(struct gguf_context *, const char *, const char **, size_t);
static uint32_t (*p_gguf_get_val_u32)(const struct gguf_context *, int64_t);

#define MAX_T 400
#define MAX_T_LOG 400

static const llama_ref *R;

/* Dry runs: llama_model_quantize logs "[ i/ n] name - [...], type = t, " then
 * "size = ... (newtype)" (converted) or "size = ... MiB" (copied) per tensor. */
typedef struct { bool on; size_t n; char names[MAX_T_LOG][64]; int types[MAX_T_LOG]; bool pending; int pending_type; } capture;
static capture g_cap;

static char g_llama_err[512];

static void log_cb(int level, const char *text, void *ud) {
    (void)level; (void)ud;
    const char *fq = strstr(text, "failed to quantize: ");
    if (fq) snprintf(g_llama_err, sizeof g_llama_err, "%s", fq + 20);
    if (!g_cap.on) { if (getenv("QK_LLAMA_LOG")) fputs(text, stderr); return; }
    char name[64], type[32];
    if (text[0] == '[' && sscanf(text, "[%*d/%*d] %63s - [%*[^]]], type = %31s", name, type) == 2) {
        if (g_cap.n < MAX_T_LOG) {
            snprintf(g_cap.names[g_cap.n], 64, "%s", name);
            char *c = strchr(type, ',');
            if (c) *c = 0;
            g_cap.pending_type = qk_type_from_name(type);
            g_cap.pending = true;
        }
    } else if (g_cap.pending && strncmp(text, "size = ", 7) == 0) {
        const char *lp = strrchr(text, '(');
        int t = g_cap.pending_type;
        if (lp && sscanf(lp, "(%31[^)])", type) == 1) t = qk_type_from_name(type);
        g_cap.types[g_cap.n++] = t;
        g_cap.pending = false;
    }
}

static bool load_syms(void) {
    *(void **)&p_ggml_new_tensor = llama_ref_sym("ggml_new_tensor");
    *(void **)&p_ggml_set_name = llama_ref_sym("ggml_set_name");
    *(void **)&p_ggml_get_data = llama_ref_sym("ggml_get_data");
    *(void **)&p_ggml_nbytes = llama_ref_sym("ggml_nbytes");
    *(void **)&p_gguf_set_val_str = llama_ref_sym("gguf_set_val_str");
    *(void **)&p_gguf_set_val_u32 = llama_ref_sym("gguf_set_val_u32");
    *(void **)&p_gguf_set_val_u16 = llama_ref_sym("gguf_set_val_u16");
    *(void **)&p_gguf_set_val_f32 = llama_ref_sym("gguf_set_val_f32");
    *(void **)&p_gguf_set_arr_str = llama_ref_sym("gguf_set_arr_str");
    *(void **)&p_gguf_get_val_u32 = llama_ref_sym("gguf_get_val_u32");
    return p_ggml_new_tensor && p_ggml_set_name && p_ggml_get_data && p_ggml_nbytes && p_gguf_set_val_str &&
           p_gguf_set_val_u32 && p_gguf_set_val_u16 && p_gguf_set_val_f32 && p_gguf_set_arr_str && p_gguf_get_val_u32;
}

/* ---- model description ---- */

typedef struct {
    const char *label;
    uint32_t n_layer, n_embd, n_head, n_head_kv, n_ff, n_expert, n_vocab;
    bool tied;
    bool odd_tensors; /* extra: a 5-char 2-D name, a [n,1] weight, rope_freqs, a router-like shexp gate */
    bool q8_tensor;   /* one input tensor already Q8_0 (requantize rule) */
    /* filled by build_model */
    qk_mix_tensor t[MAX_T];
    char names[MAX_T][64];
    size_t n;
    char path[512];
} model;

static void add(model *m, const char *name, int type, int64_t ne0, int64_t ne1, int64_t ne2) {
    CHECK(m->n < MAX_T);
    if (m->n >= MAX_T) return;
    snprintf(m->names[m->n], sizeof m->names[m->n], "%s", name);
    qk_mix_tensor *t = &m->t[m->n];
    t->name = m->names[m->n];
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = ne2; t->ne[3] = 1;
    t->type = type;
    m->n++;
}

/* Tensors in a deliberately non-sorted input order (convert order is per
 * layer, but blk.10 < blk.2 lexically; the output must be sorted by layer). */
static void describe(model *m) {
    char b[64];
    const int F16 = QK_TYPE_F16, F32 = QK_TYPE_F32;
    const int64_t rows = 4; /* few rows: only ne[0] matters for the mix */
    m->n = 0;
    add(m, "token_embd.weight", F16, m->n_embd, m->n_vocab, 1);
    for (uint32_t l = 0; l < m->n_layer; l++) {
        snprintf(b, sizeof b, "blk.%u.attn_norm.weight", l); add(m, b, F32, m->n_embd, 1, 1);
        snprintf(b, sizeof b, "blk.%u.attn_q.weight", l); add(m, b, F16, m->n_embd, rows, 1);
        snprintf(b, sizeof b, "blk.%u.attn_k.weight", l); add(m, b, F16, m->n_embd, rows, 1);
        snprintf(b, sizeof b, "blk.%u.attn_v.weight", l); add(m, b, F16, m->n_embd, rows, 1);
        snprintf(b, sizeof b, "blk.%u.attn_output.weight", l); add(m, b, F16, m->n_embd, rows, 1);
        snprintf(b, sizeof b, "blk.%u.ffn_norm.weight", l); add(m, b, F32, m->n_embd, 1, 1);
        if (m->n_expert > 1) {
            snprintf(b, sizeof b, "blk.%u.ffn_gate_inp.weight", l); add(m, b, F32, m->n_embd, m->n_expert, 1);
            snprintf(b, sizeof b, "blk.%u.ffn_gate_exps.weight", l); add(m, b, F16, m->n_embd, 2, m->n_expert);
            snprintf(b, sizeof b, "blk.%u.ffn_up_exps.weight", l); add(m, b, F16, m->n_embd, 2, m->n_expert);
            snprintf(b, sizeof b, "blk.%u.ffn_down_exps.weight", l); add(m, b, F16, m->n_ff, 2, m->n_expert);
        } else {
            snprintf(b, sizeof b, "blk.%u.ffn_gate.weight", l); add(m, b, F16, m->n_embd, rows, 1);
            snprintf(b, sizeof b, "blk.%u.ffn_up.weight", l); add(m, b, F16, m->n_embd, rows, 1);
            snprintf(b, sizeof b, "blk.%u.ffn_down.weight", l); add(m, b, F16, m->n_ff, rows, 1);
        }
    }
    add(m, "output_norm.weight", F32, m->n_embd, 1, 1);
    if (!m->tied) add(m, "output.weight", F16, m->n_embd, m->n_vocab, 1);
    if (m->odd_tensors) {
        add(m, "rope_freqs.weight", F32, 32, 1, 1);
        add(m, "abcde", F16, 64, 2, 1);                /* 5 chars: llama.cpp treats it as "ends with weight" */
        add(m, "blk.1.column.weight", F16, 256, 1, 1); /* [256,1] is 1-D for ggml_n_dims */
        add(m, "blk.0.ffn_gate_inp_shexp.weight", F16, m->n_embd, 2, 1);
        add(m, "blk.2.attn_k.bias", F32, 64, 2, 1);    /* 2-D but not a weight */
        add(m, "position_embd.weight", F16, 256, 2, 1);
        add(m, "blk.1.attn_v.weight.lora_b", F16, 256, 2, 1);
    }
    if (m->q8_tensor) add(m, "blk.0.extra_q8.weight", QK_TYPE_Q8_0, 256, 2, 1);
}

static bool build_model(model *m, const char *dir) {
    describe(m);
    snprintf(m->path, sizeof m->path, "%s/%s.gguf", dir, m->label);
    size_t mem = 1024 * 1024;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t rs = 0;
        qk_row_size((uint32_t)m->t[i].type, m->t[i].ne[0], &rs);
        mem += rs * (size_t)(m->t[i].ne[1] * m->t[i].ne[2]) + 512;
    }
    struct ref_ggml_init_params ip = {mem, NULL, false};
    struct ggml_context *ctx = R->ggml_init(ip);
    struct gguf_context *g = R->gguf_init_empty();
    if (!ctx || !g) return false;
    p_gguf_set_val_str(g, "general.architecture", "llama");
    p_gguf_set_val_str(g, "general.name", m->label);
    p_gguf_set_val_u32(g, "llama.block_count", m->n_layer);
    p_gguf_set_val_u32(g, "llama.context_length", 128);
    p_gguf_set_val_u32(g, "llama.embedding_length", m->n_embd);
    p_gguf_set_val_u32(g, "llama.feed_forward_length", m->n_ff);
    p_gguf_set_val_u32(g, "llama.attention.head_count", m->n_head);
    p_gguf_set_val_u32(g, "llama.attention.head_count_kv", m->n_head_kv);
    p_gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    p_gguf_set_val_u32(g, "llama.rope.dimension_count", m->n_embd / m->n_head);
    if (m->n_expert) {
        p_gguf_set_val_u32(g, "llama.expert_count", m->n_expert);
        p_gguf_set_val_u32(g, "llama.expert_used_count", 2);
    }
    p_gguf_set_val_u32(g, "general.file_type", 1);
    p_gguf_set_val_u16(g, "split.count", 1); /* dropped by quantize */
    const char *toks[3] = {"a", "b", "c"};
    p_gguf_set_arr_str(g, "tokenizer.ggml.tokens", toks, 3);
    qk_rng rng = {0x9E3779B97F4A7C15ull ^ m->n_layer};
    for (size_t i = 0; i < m->n; i++) {
        const qk_mix_tensor *t = &m->t[i];
        int nd = t->ne[2] > 1 ? 3 : (t->ne[1] > 1 ? 2 : 1);
        if (strcmp(t->name, "blk.1.column.weight") == 0) nd = 2; /* stored [256,1] */
        struct ggml_tensor *gt = p_ggml_new_tensor(ctx, t->type, nd, t->ne);
        if (!gt) return false;
        p_ggml_set_name(gt, t->name);
        size_t nb = p_ggml_nbytes(gt);
        unsigned char *d = p_ggml_get_data(gt);
        if (t->type == QK_TYPE_F32) {
            for (size_t k = 0; k < nb / 4; k++) { float x = qk_rng_gauss(&rng) * 0.1f + 1.0f; memcpy(d + 4 * k, &x, 4); }
        } else if (t->type == QK_TYPE_F16) {
            size_t ne = nb / 2;
            float *tmp = malloc(ne * sizeof *tmp);
            for (size_t k = 0; k < ne; k++) tmp[k] = qk_rng_gauss(&rng) * 0.05f;
            R->ggml_fp32_to_fp16_row(tmp, (uint16_t *)d, (int64_t)ne);
            free(tmp);
        } else {
            memset(d, 0, nb); /* Q8_0 with d = 0: valid */
        }
        R->gguf_add_tensor(g, gt);
    }
    bool ok = R->gguf_write_to_file(g, m->path, false);
    R->gguf_free(g);
    R->ggml_free(ctx);
    return ok;
}

static qk_mix_model facts(const model *m) {
    qk_mix_model f = {"llama", m->n_layer, 0, m->n_head, m->n_head_kv, m->n_expert, m->t, m->n};
    return f;
}

/* llama-quantize's default options for ftype. */
static qk_mix_options mix_options(int ftype) {
    qk_mix_options o;
    qk_mix_options_init(&o);
    o.ftype = ftype;
    return o;
}

/* ---- one comparison run ---- */

typedef struct {
    const char *label;
    bool pure, leave_output, imatrix, allow_requantize;
    int out_type, tok_type; /* -1 = unset */
    const qk_mix_override *ov;
    size_t n_ov;
    bool dry_run; /* compare llama.cpp's dry-run log instead of an output file */
    bool kv_overrides; /* pass --override-kv style overrides */
} optset;

/* parsed like llama-quantize's --override-kv */
static const char *const k_kvo_args[] = {"llama.context_length=int:-256", "quantize.imatrix.file=str:my.dat",
                                         "general.name=str:renamed", "zz.flag=bool:true", "zz.f=float:0.25"};
#define N_KVO (sizeof k_kvo_args / sizeof k_kvo_args[0])

static int g_runs, g_both_failed, g_skipped;

static void compare(const model *m, int ftype, const optset *os) {
    qk_mix_options o = mix_options(ftype);
    o.pure = os->pure;
    o.leave_output_tensor = os->leave_output;
    o.allow_requantize = os->allow_requantize;
    o.output_tensor_type = os->out_type;
    o.token_embedding_type = os->tok_type;
    o.overrides = os->ov;
    o.n_overrides = os->n_ov;
    o.has_imatrix = os->imatrix;
    qk_mix_model f = facts(m);
    qk_mix_plan plan;
    qk_err err = {{0}};
    int rc = qk_mix_plan_compute(&f, &o, &plan, &err);

    if (rc != QK_OK && strstr(err.msg, "is not a multiple of the")) {
        /* llama.cpp would corrupt its heap here (explicit type, no fallback). */
        g_skipped++;
        return;
    }
    ref_llama_model_quantize_params p = R->llama_model_quantize_default_params();
    p.nthread = 1;
    p.ftype = ftype;
    p.pure = os->pure;
    p.quantize_output_tensor = !os->leave_output;
    p.allow_requantize = os->allow_requantize;
    p.output_tensor_type = os->out_type < 0 ? QK_TYPE_COUNT : os->out_type;
    p.token_embedding_type = os->tok_type < 0 ? QK_TYPE_COUNT : os->tok_type;
    struct ref_llama_model_tensor_override tto[8];
    if (os->n_ov) {
        for (size_t i = 0; i < os->n_ov; i++) { tto[i].pattern = os->ov[i].pattern; tto[i].type = os->ov[i].type; }
        tto[os->n_ov].pattern = NULL;
        tto[os->n_ov].type = QK_TYPE_COUNT;
        p.tt_overrides = tto;
    }
    struct ref_llama_model_imatrix_data imd[MAX_T + 1];
    float *ones = NULL;
    if (os->imatrix) {
        size_t k = 0, maxn = 1;
        for (size_t i = 0; i < m->n; i++)
            if ((size_t)(m->t[i].ne[0] * m->t[i].ne[2]) > maxn) maxn = (size_t)(m->t[i].ne[0] * m->t[i].ne[2]);
        ones = malloc(maxn * sizeof *ones);
        for (size_t i = 0; i < maxn; i++) ones[i] = 1.0f + (float)(i % 7) * 0.25f;
        for (size_t i = 0; i < m->n; i++) {
            imd[k].name = m->t[i].name;
            imd[k].data = ones;
            imd[k].size = (size_t)(m->t[i].ne[0] * m->t[i].ne[2]);
            k++;
        }
        imd[k].name = NULL; imd[k].data = NULL; imd[k].size = 0;
        p.imatrix = imd;
    }
    char out[600];
    snprintf(out, sizeof out, "%s/out.gguf", qk_test_tmpdir());
    remove(out);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct ref_llama_model_kv_override kvo[N_KVO + 1];
    qk_kv_override qo[N_KVO];
    const char *ov_keys[N_KVO];
    if (os->kv_overrides) {
        memset(kvo, 0, sizeof kvo);
        for (size_t i = 0; i < N_KVO; i++) {
            CHECK(qk_kv_override_parse(k_kvo_args[i], &qo[i], &err) == QK_OK);
            ov_keys[i] = qo[i].key;
            kvo[i].tag = (int)qo[i].tag; /* same numbering as llama_model_kv_override_type */
            memcpy(kvo[i].key, qo[i].key, sizeof kvo[i].key);
            if (qo[i].tag == QK_KVO_INT) kvo[i].val_i64 = qo[i].val_i64;
            else if (qo[i].tag == QK_KVO_FLOAT) kvo[i].val_f64 = qo[i].val_f64;
            else if (qo[i].tag == QK_KVO_BOOL) kvo[i].val_bool = qo[i].val_bool;
            else memcpy(kvo[i].val_str, qo[i].val_str, sizeof kvo[i].val_str);
        }
        p.kv_overrides = kvo;
    }
    p.dry_run = os->dry_run;
    g_cap.n = 0;
    g_cap.pending = false;
    g_cap.on = os->dry_run;
    g_llama_err[0] = 0;
    uint32_t lrc = R->llama_model_quantize(m->path, out, &p);
    g_cap.on = false;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("QK_TRACE_RUNS"))
        fprintf(stderr, "run %s %d %s %.1f ms\n", m->label, ftype, os->label,
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    free(ones);
    g_runs++;
    const qk_ftype_info *fi = qk_ftype_by_id(ftype);
    const char *fname = fi ? fi->name : "?";
    CHECK_MSG((rc == QK_OK) == (lrc == 0), "%s %s %s: quantkit %s (%s), llama.cpp %s", m->label, fname, os->label,
              rc == QK_OK ? "ok" : "failed", err.msg, lrc == 0 ? "ok" : "failed");
    if (rc != QK_OK || lrc != 0) {
        if (rc != QK_OK && lrc != 0) {
            g_both_failed++;
            /* the same reason on both sides */
            const char *why = strstr(err.msg, "requantizing") ? "requantizing"
                              : strstr(err.msg, "importance matrix") ? "requires an imatrix"
                              : strstr(err.msg, "no fallback") ? "no tensor type fallback"
                                                                 : "(unexpected quantkit error)";
            CHECK_MSG(strstr(g_llama_err, why) != NULL, "%s %s %s: quantkit '%s', llama.cpp '%s'", m->label, fname,
                      os->label, err.msg, g_llama_err);
            if (getenv("QK_TRACE_RUNS")) fprintf(stderr, "both-failed %s %s %s: %s\n", m->label, fname, os->label, err.msg);
        }
        if (rc == QK_OK) qk_mix_plan_free(&plan);
        return;
    }
    if (os->dry_run) {
        CHECK_EQ_INT(g_cap.n, plan.n);
        int bad = 0;
        for (size_t k = 0; k < g_cap.n && k < plan.n && bad < 5; k++) {
            const qk_mix_tensor *t = &m->t[plan.order[k]];
            int want = plan.entries[plan.order[k]].type;
            if (strcmp(g_cap.names[k], t->name) != 0 || g_cap.types[k] != want) {
                bad++;
                CHECK_MSG(0, "%s %s %s (dry run): tensor %zu: llama.cpp %s %d, quantkit %s %d", m->label, fname, os->label, k,
                          g_cap.names[k], g_cap.types[k], t->name, want);
            }
        }
        qk_mix_plan_free(&plan);
        return;
    }
    struct ref_gguf_init_params gp = {true, NULL};
    struct gguf_context *g = R->gguf_init_from_file(out, gp);
    CHECK(g != NULL);
    if (!g) { qk_mix_plan_free(&plan); return; }
    int64_t nt = R->gguf_get_n_tensors(g);
    CHECK_EQ_INT(nt, (int64_t)plan.n);
    int bad = 0;
    for (int64_t k = 0; k < nt && (size_t)k < plan.n && bad < 5; k++) {
        const qk_mix_tensor *t = &m->t[plan.order[k]];
        const char *gn = R->gguf_get_tensor_name(g, k);
        int gt = R->gguf_get_tensor_type(g, k);
        int want = plan.entries[plan.order[k]].type;
        if (strcmp(gn, t->name) != 0 || gt != want) {
            bad++;
            CHECK_MSG(0, "%s %s %s: output tensor %lld: llama.cpp %s %s, quantkit %s %s", m->label, fname, os->label,
                      (long long)k, gn, qk_type_get((uint32_t)gt) ? qk_type_get((uint32_t)gt)->name : "?", t->name,
                      qk_type_get((uint32_t)want) ? qk_type_get((uint32_t)want)->name : "?");
        }
    }
    /* KV order: input keys then the moved/dropped ones. */
    struct gguf_context *gi = R->gguf_init_from_file(m->path, gp);
    CHECK(gi != NULL);
    if (gi) {
        int64_t ni = R->gguf_get_n_kv(gi);
        const char **keys = calloc((size_t)ni, sizeof *keys);
        for (int64_t i = 0; i < ni; i++) keys[i] = R->gguf_get_key(gi, i);
        qk_kv_slot *slots;
        size_t ns;
        CHECK(qk_quant_kv_order(keys, (size_t)ni, os->kv_overrides ? ov_keys : NULL, os->kv_overrides ? N_KVO : 0, &slots,
                                &ns, &err) == QK_OK);
        if (os->kv_overrides) {
            int64_t ck = R->gguf_find_key(g, "llama.context_length");
            CHECK(ck >= 0 && p_gguf_get_val_u32(g, ck) == qk_kv_override_u32(qo[0].val_i64));
        }
        CHECK_EQ_INT(R->gguf_get_n_kv(g), (int64_t)ns);
        for (size_t i = 0; i < ns && (int64_t)i < R->gguf_get_n_kv(g); i++)
            CHECK_STR(R->gguf_get_key(g, (int64_t)i), slots[i].key);
        int64_t ftk = R->gguf_find_key(g, "general.file_type");
        CHECK(ftk >= 0 && p_gguf_get_val_u32(g, ftk) == (uint32_t)ftype);
        free(slots);
        free(keys);
        R->gguf_free(gi);
    }
    R->gguf_free(g);
    qk_mix_plan_free(&plan);
}

static model g_models[4] = {
    /* 8 layers, no GQA, ffn 96 (not /256), untied, odd tensors, a Q8_0 input tensor */
    {.label = "dense8", .n_layer = 8, .n_embd = 256, .n_head = 8, .n_head_kv = 8, .n_ff = 96, .n_vocab = 16,
     .odd_tensors = true, .q8_tensor = true},
    /* 16 layers, GQA 4, ffn 172 (not /32), tied embeddings */
    {.label = "gqa16tied", .n_layer = 16, .n_embd = 256, .n_head = 8, .n_head_kv = 2, .n_ff = 172, .n_vocab = 16,
     .tied = true},
    /* 8-expert MoE, 4 layers, GQA 2, expert ffn 64 */
    {.label = "moe8", .n_layer = 4, .n_embd = 256, .n_head = 8, .n_head_kv = 4, .n_ff = 64, .n_expert = 8, .n_vocab = 16},
    /* rows of 96 everywhere (nothing is /256), 12 layers, GQA 8, tied */
    {.label = "narrow12", .n_layer = 12, .n_embd = 96, .n_head = 8, .n_head_kv = 1, .n_ff = 288, .n_vocab = 16, .tied = true},
};

static bool models_ready(void) {
    static int state;
    if (state) return state > 0;
    state = -1;
    R = llama_ref_require();
    if (!R) return false;
    if (!llama_ref_init_backend() || !load_syms()) {
        fprintf(stderr, "missing ggml/gguf symbols\n");
        return false;
    }
    R->llama_log_set(log_cb, NULL);
    if (0) { fprintf(stderr, "missing ggml/gguf symbols\n"); return false; }
    for (size_t i = 0; i < sizeof g_models / sizeof g_models[0]; i++)
        if (!build_model(&g_models[i], qk_test_tmpdir())) { fprintf(stderr, "cannot build %s\n", g_models[i].label); return false; }
    state = 1;
    return true;
}

static const qk_mix_override k_ov[] = {
    {"attn_v", QK_TYPE_Q8_0},
    {"blk\\.1[0-9]?\\.ffn_(up|gate)", QK_TYPE_Q4_0},
    {"\\d\\.attn_k", QK_TYPE_IQ4_NL},
    {"^output", QK_TYPE_Q5_1},
    {"per_layer|token_embd", QK_TYPE_Q6_K},
};

static void test_supported_ftypes_vs_llama(void) {
    CHECK(models_ready());
    if (!models_ready()) return;
    const optset sets[] = {
        {"default", false, false, false, false, -1, -1, NULL, 0, false, false},
        {"pure", true, false, false, false, -1, -1, NULL, 0, false, false},
        {"leave-output", false, true, false, false, -1, -1, NULL, 0, false, false},
        {"out=q4_1", false, false, false, false, QK_TYPE_Q4_1, -1, NULL, 0, false, false},
        {"tok=q6_k", false, false, false, false, -1, QK_TYPE_Q6_K, NULL, 0, false, false},
        {"out=f16,tok=q8_0,pure", true, false, false, false, QK_TYPE_F16, QK_TYPE_Q8_0, NULL, 0, false, false},
        {"tensor-types", false, false, false, false, -1, -1, k_ov, sizeof k_ov / sizeof k_ov[0], false, false},
        {"tensor-types+tok", false, false, false, false, -1, QK_TYPE_Q5_0, k_ov + 1, 2, false, false},
        {"imatrix", false, false, true, false, -1, -1, NULL, 0, false, false},
        {"allow-requantize", false, false, false, true, -1, -1, NULL, 0, false, false},
        {"override-kv", false, false, false, true, -1, -1, NULL, 0, false, true},
    };
    for (size_t mi = 0; mi < sizeof g_models / sizeof g_models[0]; mi++)
        for (size_t i = 0; i < qk_ftype_count(); i++) {
            const qk_ftype_info *fi = qk_ftype_at(i);
            if (!qk_ftype_supported(fi) || fi->is_alias) continue;
            for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) compare(&g_models[mi], fi->ftype, &sets[s]);
        }
}

/* The mix for ftypes quantkit refuses is still llama.cpp's (with an imatrix,
 * which the IQ types need); without one both must fail or both succeed. */
static void test_other_ftypes_vs_llama(void) {
    CHECK(models_ready());
    if (!models_ready()) return;
    const optset with = {"imatrix", false, false, true, true, -1, -1, NULL, 0, false, false};
    /* IQ1/IQ2 kernels need grid tables that take seconds to build: dry run */
    const optset with_dry = {"imatrix dry-run", false, false, true, true, -1, -1, NULL, 0, true, false};
    const optset without = {"no-imatrix", false, false, false, true, -1, -1, NULL, 0, false, false};
    for (size_t mi = 0; mi < sizeof g_models / sizeof g_models[0]; mi++)
        for (size_t i = 0; i < qk_ftype_count(); i++) {
            const qk_ftype_info *fi = qk_ftype_at(i);
            if (qk_ftype_supported(fi) || fi->is_alias) continue;
            int dt = fi->default_type;
            bool slow = dt == QK_TYPE_IQ1_S || dt == QK_TYPE_IQ1_M || dt == QK_TYPE_IQ2_XXS || dt == QK_TYPE_IQ2_XS ||
                        dt == QK_TYPE_IQ2_S || fi->ftype == QK_FTYPE_IQ3_XXS /* attn_q/k -> IQ2_S */;
            compare(&g_models[mi], fi->ftype, slow ? &with_dry : &with);
            compare(&g_models[mi], fi->ftype, &without);
        }
    fprintf(stderr, "  %d llama_model_quantize runs compared, %d failed on both sides, %d not run (shape refused)\n", g_runs,
            g_both_failed, g_skipped);
}

/* Hand-checked facts, independent of llama.cpp: a 32-layer Q4_K_M. */
static void test_q4_k_m_known_layers(void) {
    static qk_mix_tensor t[32 * 2 + 2];
    static char names[32 * 2 + 2][40];
    size_t n = 0;
    for (int l = 0; l < 32; l++) {
        snprintf(names[n], 40, "blk.%d.attn_v.weight", l);
        t[n] = (qk_mix_tensor){names[n], {4096, 1024, 1, 1}, QK_TYPE_F16, 0, 0}; n++;
        snprintf(names[n], 40, "blk.%d.ffn_down.weight", l);
        t[n] = (qk_mix_tensor){names[n], {14336, 4096, 1, 1}, QK_TYPE_F16, 0, 0}; n++;
    }
    t[n++] = (qk_mix_tensor){"token_embd.weight", {4096, 128256, 1, 1}, QK_TYPE_BF16, 0, 0};
    t[n++] = (qk_mix_tensor){"output.weight", {4096, 128256, 1, 1}, QK_TYPE_BF16, 0, 0};
    qk_mix_model m = {"llama", 32, 0, 32, 8, 0, t, n};
    qk_mix_options o = mix_options(QK_FTYPE_Q4_K_M);
    qk_mix_plan p;
    qk_err err;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_OK);
    const int six[] = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
    for (int l = 0; l < 32; l++) {
        bool q6 = false;
        for (size_t k = 0; k < sizeof six / sizeof six[0]; k++) q6 |= six[k] == l;
        CHECK_EQ_INT(p.entries[2 * l].type, q6 ? QK_TYPE_Q6_K : QK_TYPE_Q4_K);
        CHECK_EQ_INT(p.entries[2 * l + 1].type, q6 ? QK_TYPE_Q6_K : QK_TYPE_Q4_K);
    }
    CHECK_EQ_INT(p.entries[n - 2].type, QK_TYPE_Q4_K);
    CHECK_EQ_INT(p.entries[n - 1].type, QK_TYPE_Q6_K);
    /* order: output, token_embd, then blk.0 ... blk.31 (not blk.0, blk.1, blk.10) */
    CHECK_STR(t[p.order[0]].name, "output.weight");
    CHECK_STR(t[p.order[1]].name, "token_embd.weight");
    CHECK_STR(t[p.order[2]].name, "blk.0.attn_v.weight");
    CHECK_STR(t[p.order[6]].name, "blk.2.attn_v.weight");
    qk_mix_plan_free(&p);

    /* 70B: 80 layers with GQA bumps Q4_K attn_v to Q5_K */
    m.n_layer = 80;
    CHECK(qk_mix_is_70b(&m));
    m.n_head_kv = 32;
    CHECK(!qk_mix_is_70b(&m));
}

/* keep_split: tensors are visited by (shard, offset), and the attn_v counter
 * follows that order. 8 layers stored last layer first over two shards:
 * use_more_bits(i, 8) holds for i = 0, 3, 6, 7, so Q6_K goes to layers
 * 7, 4, 1, 0 instead of 0, 3, 6, 7. */
static void test_keep_split_order(void) {
    qk_mix_tensor t[8];
    char names[8][32];
    for (int l = 0; l < 8; l++) {
        snprintf(names[l], sizeof names[l], "blk.%d.attn_v.weight", l);
        /* layers 7..4 in shard 0, 3..0 in shard 1, each in descending layer order by offset */
        t[l] = (qk_mix_tensor){names[l], {256, 256, 1, 1}, QK_TYPE_F16, l >= 4 ? 0u : 1u, (uint64_t)(8 - l) * 4096};
    }
    qk_mix_model m = {"llama", 8, 0, 8, 8, 0, t, 8};
    qk_mix_options o = mix_options(QK_FTYPE_Q4_K_M);
    qk_mix_plan p;
    qk_err err;
    for (int keep = 0; keep <= 1; keep++) {
        o.keep_split = keep;
        CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_OK);
        for (int k = 0; k < 8; k++) CHECK_EQ_INT(p.order[k], keep ? 7 - k : k);
        for (int l = 0; l < 8; l++) {
            bool six = keep ? (l == 7 || l == 4 || l == 1 || l == 0) : (l == 0 || l == 3 || l == 6 || l == 7);
            CHECK_EQ_INT(p.entries[l].type, six ? QK_TYPE_Q6_K : QK_TYPE_Q4_K);
        }
        qk_mix_plan_free(&p);
    }
}

static void test_mix_errors(void) {
    qk_mix_tensor t[2] = {{"blk.0.ffn_down.weight", {256, 4, 1, 1}, QK_TYPE_F16, 0, 0},
                          {"ffn_down_x.weight", {256, 4, 1, 1}, QK_TYPE_F16, 0, 0}};
    qk_mix_model m = {"llama", 4, 0, 8, 8, 8, t, 2};
    qk_mix_options o = mix_options(QK_FTYPE_Q4_K_M);
    qk_mix_plan p;
    qk_err err;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "ffn_down_x.weight");
    m.n_expert = 0;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_OK);
    qk_mix_plan_free(&p);
    o.ftype = QK_FTYPE_IQ2_XS;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "importance matrix");
    o.ftype = 5;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_FAIL);
    o.ftype = QK_FTYPE_Q4_0;
    qk_mix_override bad = {"blk(", QK_TYPE_Q8_0};
    o.overrides = &bad;
    o.n_overrides = 1;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "blk(");
    qk_mix_override lazy = {"blk.*?down", QK_TYPE_Q8_0};
    o.overrides = &lazy;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "lazy");
    /* a target without a kernel is refused by the supported check only */
    qk_mix_override iq = {"down", QK_TYPE_Q8_1};
    o.overrides = &iq;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_OK);
    CHECK(qk_mix_check_supported(&m, &p, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "q8_1");
    qk_mix_plan_free(&p);
    /* duplicate names */
    t[1].name = "blk.0.ffn_down.weight";
    o.overrides = NULL;
    o.n_overrides = 0;
    CHECK(qk_mix_plan_compute(&m, &o, &p, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "twice");
}

static void test_layer_parse_and_order(void) {
    bool ok;
    CHECK_EQ_INT(qk_mix_layer_of("blk.12.attn_q.weight", &ok), 12); CHECK(ok);
    CHECK_EQ_INT(qk_mix_layer_of("output.weight", &ok), -1); CHECK(!ok);
    CHECK_EQ_INT(qk_mix_layer_of("blk.x.attn", &ok), -1); CHECK(!ok);
    CHECK_EQ_INT(qk_mix_layer_of("blk.7", &ok), 7); CHECK(ok);
    CHECK(qk_mix_name_compare("blk.2.a", "blk.10.a") < 0);
    CHECK(qk_mix_name_compare("zzz", "blk.0.a") < 0);
    CHECK(qk_mix_name_compare("blk.3.attn_k.weight", "blk.3.attn_q.weight") < 0);
    int64_t ne2[4] = {256, 4, 1, 1}, ne1[4] = {256, 1, 1, 1};
    CHECK(qk_mix_allows_quantization("blk.0.attn_q.weight", ne2, false));
    CHECK(!qk_mix_allows_quantization("blk.0.attn_q.weight", ne1, false));
    CHECK(!qk_mix_allows_quantization("blk.0.attn_norm.weight", ne2, false));
    CHECK(!qk_mix_allows_quantization("output.weight", ne2, true));
    CHECK(qk_mix_allows_quantization("abcde", ne2, false));
    CHECK(!qk_mix_allows_quantization("abcd", ne2, false));
}

static void test_tensor_type_parse(void) {
    char *pat;
    int t;
    qk_err err;
    CHECK(qk_mix_parse_tensor_type("Blk\\.0\\.ATTN_Q=Q8_0", &pat, &t, &err) == QK_OK);
    CHECK_STR(pat, "blk\\.0\\.attn_q");
    CHECK_EQ_INT(t, QK_TYPE_Q8_0);
    free(pat);
    CHECK(qk_mix_parse_tensor_type("attn_q", &pat, &t, &err) == QK_FAIL);
    CHECK(qk_mix_parse_tensor_type("=q8_0", &pat, &t, &err) == QK_FAIL);
    CHECK(qk_mix_parse_tensor_type("attn=", &pat, &t, &err) == QK_FAIL);
    CHECK(qk_mix_parse_tensor_type("attn=q9_9", &pat, &t, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "q9_9");
    char *tr;
    CHECK(qk_mix_regex_translate("blk\\.\\d+\\.[\\d\\.]x", &tr, &err) == QK_OK);
    CHECK_STR(tr, "blk\\.[0-9]+\\.[0-9.]x");
    free(tr);
    CHECK(qk_mix_regex_translate("(?=x)", &tr, &err) == QK_FAIL);
    CHECK(qk_mix_regex_translate("a\\b", &tr, &err) == QK_FAIL);
    CHECK(qk_mix_regex_translate("[\\]]", &tr, &err) == QK_FAIL);
}

static void test_ftypes(void) {
    const qk_ftype_info *f;
    CHECK((f = qk_ftype_lookup("q4_k_m")) && f->ftype == 15 && !f->is_alias);
    CHECK((f = qk_ftype_lookup("Q4_K")) && f->ftype == 15 && f->is_alias);
    CHECK((f = qk_ftype_lookup("q3_k")) && f->ftype == 12);
    CHECK((f = qk_ftype_lookup("Q5_K")) && f->ftype == 17);
    CHECK((f = qk_ftype_lookup("15")) && strcmp(f->name, "Q4_K") == 0);
    CHECK((f = qk_ftype_lookup(" 7x")) && strcmp(f->name, "Q8_0") == 0);
    CHECK((f = qk_ftype_lookup("0")) && strcmp(f->name, "F32") == 0);
    CHECK(qk_ftype_lookup("4") == NULL);
    CHECK(qk_ftype_lookup("Q4_K_X") == NULL);
    CHECK(qk_ftype_lookup("99999999999") == NULL);
    qk_err err;
    /* supported = every type of the mix has a kernel */
    if (!qk_kernel_get(QK_TYPE_IQ2_XS, QK_ISA_SCALAR)) {
        CHECK(qk_ftype_parse("IQ2_XS", &f, &err) == QK_FAIL);
        CHECK_CONTAINS(err.msg, "not supported");
        CHECK_CONTAINS(err.msg, "no kernel for type iq2_xs");
    }
    if (!qk_kernel_get(QK_TYPE_IQ2_XXS, QK_ISA_SCALAR)) CHECK(!qk_ftype_supported(qk_ftype_lookup("IQ1_S")));
    static const char *now[] = {"TQ1_0", "TQ2_0", "MXFP4_MOE", "Q2_K_S", "Q1_0", "Q2_0"};
    for (size_t i = 0; i < sizeof now / sizeof now[0]; i++) CHECK(qk_ftype_parse(now[i], &f, &err) == QK_OK);
    CHECK(qk_ftype_parse("bogus", &f, &err) == QK_FAIL);
    CHECK_CONTAINS(err.msg, "unknown");
    CHECK(qk_ftype_parse("iq4_xs", &f, &err) == QK_OK && f->default_type == QK_TYPE_IQ4_XS);
    CHECK(qk_ftype_parse("COPY", &f, &err) == QK_FAIL);
    CHECK_EQ_INT(qk_ftype_default_type(QK_FTYPE_IQ2_M), QK_TYPE_IQ2_S);
    CHECK_EQ_INT(qk_ftype_default_type(QK_FTYPE_Q3_K_L), QK_TYPE_Q3_K);
    CHECK_EQ_INT(qk_ftype_default_type(33), -1);
    CHECK_STR(qk_ftype_by_id(15)->name, "Q4_K_M");
    int n_sup = 0;
    for (size_t i = 0; i < qk_ftype_count(); i++) {
        const qk_ftype_info *x = qk_ftype_at(i);
        n_sup += qk_ftype_supported(x) && !x->is_alias;
        if (qk_ftype_supported(x)) CHECK(qk_kernel_get((qk_type)x->default_type, QK_ISA_SCALAR) != NULL);
    }
    CHECK(n_sup >= 25); /* 19 before issue 14, + Q1_0 Q2_0 MXFP4_MOE TQ1_0 TQ2_0 Q2_K_S */
    CHECK(!qk_ftype_supported(qk_ftype_lookup("COPY")));
}

static void test_kv_order_and_overrides(void) {
    const char *in[] = {"general.architecture", "general.file_type", "split.no", "llama.block_count",
                        "general.quantization_version", "split.count", "tokenizer.ggml.model"};
    const char *ov[] = {"llama.block_count", "quantize.imatrix.file", "quantize.imatrix.entries_count"};
    qk_kv_slot *s;
    size_t n;
    qk_err err;
    CHECK(qk_quant_kv_order(in, 7, ov, 3, &s, &n, &err) == QK_OK);
    const char *want[] = {"general.architecture", "tokenizer.ggml.model", "general.quantization_version",
                          "general.file_type", "llama.block_count", "quantize.imatrix.file",
                          "quantize.imatrix.entries_count"};
    CHECK_EQ_INT(n, 7);
    for (size_t i = 0; i < n && i < 7; i++) CHECK_STR(s[i].key, want[i]);
    CHECK_EQ_INT(s[0].src, QK_KV_SRC_INPUT);
    CHECK_EQ_INT(s[1].index, 6);
    CHECK_EQ_INT(s[4].src, QK_KV_SRC_OVERRIDE);
    free(s);
    qk_kv_override o;
    CHECK(qk_kv_override_parse("a.b=int:-7", &o, &err) == QK_OK && o.tag == QK_KVO_INT && o.val_i64 == -7);
    CHECK_EQ_INT(qk_kv_override_u32(o.val_i64), 7);
    CHECK(qk_kv_override_parse("k=float:0.5", &o, &err) == QK_OK && o.val_f64 == 0.5);
    CHECK(qk_kv_override_parse("k=bool:true", &o, &err) == QK_OK && o.val_bool);
    CHECK(qk_kv_override_parse("k=bool:yes", &o, &err) == QK_FAIL);
    CHECK(qk_kv_override_parse("k=str:hello", &o, &err) == QK_OK && strcmp(o.val_str, "hello") == 0);
    CHECK(qk_kv_override_parse("k=blob:1", &o, &err) == QK_FAIL);
    CHECK(qk_kv_override_parse("novalue", &o, &err) == QK_FAIL);
    char longv[200];
    memset(longv, 'x', sizeof longv);
    memcpy(longv, "k=str:", 6);
    longv[6 + 128] = 0;
    CHECK(qk_kv_override_parse(longv, &o, &err) == QK_FAIL);
}

int main(void) {
    RUN(test_ftypes);
    RUN(test_layer_parse_and_order);
    RUN(test_tensor_type_parse);
    RUN(test_q4_k_m_known_layers);
    RUN(test_mix_errors);
    RUN(test_keep_split_order);
    RUN(test_kv_order_and_overrides);
    RUN(test_supported_ftypes_vs_llama);
    RUN(test_other_ftypes_vs_llama);
    return qk_test_summary();
}
