#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftypes.h"
#include "gguf_set.h"
#include "integrity.h"
#include "ggml_types.h"
#include "sanity.h"

static void add_line(char ***list, size_t *n, const char *fmt, va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    char **l = realloc(*list, (*n + 1) * sizeof **list);
    if (!l) return;
    *list = l;
    size_t len = strlen(buf) + 1;
    l[*n] = malloc(len);
    if (l[*n]) memcpy(l[(*n)++], buf, len);
}

void qk_verify_problem(qk_verify_report *rep, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_line(&rep->problems, &rep->n_problems, fmt, ap);
    va_end(ap);
}

void qk_verify_note(qk_verify_report *rep, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_line(&rep->notes, &rep->n_notes, fmt, ap);
    va_end(ap);
}

void qk_verify_report_free(qk_verify_report *rep) {
    for (size_t i = 0; i < rep->n_problems; i++) free(rep->problems[i]);
    for (size_t i = 0; i < rep->n_notes; i++) free(rep->notes[i]);
    free(rep->problems), free(rep->notes), free(rep->path);
    memset(rep, 0, sizeof *rep);
}

/* The padding between the tensor infos and the data must be zero. */
static void check_header_padding(const qk_gguf_file *f, qk_verify_report *rep) {
    uint64_t n = f->meta.data_offset - f->meta.meta_end;
    if (!n || n > (1u << 20)) return;
    unsigned char *b = malloc(n);
    qk_err err;
    if (b && !qk_gguf_pread(f, f->meta.meta_end, b, n, &err)) {
        for (uint64_t i = 0; i < n; i++)
            if (b[i]) {
                qk_verify_problem(rep, "%s: nonzero padding byte at offset %llu (before the tensor data)", f->path,
                                  (unsigned long long)(f->meta.meta_end + i));
                break;
            }
    }
    free(b);
}

static void check_integrity(const qk_gguf_file *f, const qk_verify_opts *o, qk_verify_report *rep, bool *present,
                            bool *ok) {
    qk_integrity_report ir;
    qk_err err;
    if (qk_integrity_check(f, o->n_threads, o->progress, &ir, &err)) {
        qk_verify_problem(rep, "%s", err.msg);
        *ok = false;
        return;
    }
    for (uint64_t i = 0; i < ir.n_bad_padding; i++)
        qk_verify_problem(rep, "%s: tensor '%s': nonzero padding after its data", f->path,
                          f->meta.tensors[ir.bad_padding[i]].name);
    if (ir.partial_keys) {
        qk_verify_problem(rep, "%s: quantkit keys are present but the integrity data is incomplete or malformed "
                               "(damaged metadata?)", f->path);
        *ok = false;
    }
    if (!ir.present) {
        *present = false;
    } else {
        if (!ir.header_ok) {
            qk_verify_problem(rep, "%s: the metadata (header, keys or tensor infos) does not match its hash", f->path);
            *ok = false;
        }
        for (uint64_t i = 0; i < ir.n_bad_tensors; i++) {
            const qk_gguf_tensor *t = &f->meta.tensors[ir.bad_tensors[i]];
            qk_verify_problem(rep, "%s: tensor '%s' (bytes %llu..%llu) does not match its hash", f->path, t->name,
                              (unsigned long long)(f->meta.data_offset + t->offset),
                              (unsigned long long)(f->meta.data_offset + t->offset + t->nbytes));
            *ok = false;
        }
    }
    qk_integrity_report_free(&ir);
}

static const qk_gguf_tensor *find_t(const qk_gguf_set *s, const char *name) {
    for (uint64_t i = 0; i < s->n_tensors; i++)
        if (!strcmp(qk_gguf_set_tensor(s, i)->name, name)) return qk_gguf_set_tensor(s, i);
    return NULL;
}

static void need(const qk_gguf_set *s, qk_verify_report *rep, const char *name, int64_t ne0, int64_t ne1) {
    const qk_gguf_tensor *t = find_t(s, name);
    if (!t) {
        qk_verify_problem(rep, "%s: tensor '%s' is missing (llama.cpp requires it)", rep->path, name);
        return;
    }
    if (t->ne[0] != ne0 || t->ne[1] != ne1)
        qk_verify_problem(rep, "%s: tensor '%s' has shape %lld x %lld, expected %lld x %lld from the hyper-parameters",
                          rep->path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)ne0, (long long)ne1);
}

/* Loadability checks for the llama family (llama, mistral-as-llama). */
static void check_llama(const qk_gguf_set *s, qk_verify_report *rep) {
    const qk_gguf_meta *m = qk_gguf_set_meta(s);
    const char *arch = qk_gguf_get_str(m, "general.architecture");
    if (!arch) {
        qk_verify_problem(rep, "%s: no general.architecture", rep->path);
        return;
    }
    char k[128];
    int64_t n_layer, n_embd, n_head, n_head_kv, n_ff;
#define GET(var, suffix, required)                                                                 \
    snprintf(k, sizeof k, "%s.%s", arch, suffix);                                                  \
    if (!qk_gguf_get_int(m, k, &var)) {                                                            \
        if (required) qk_verify_problem(rep, "%s: %s is missing or not an integer", rep->path, k); \
        var = -1;                                                                                  \
    }
    GET(n_layer, "block_count", true);
    if (strcmp(arch, "llama") != 0) {
        qk_verify_note(rep, "%s: architecture '%s': tensor-shape checks are implemented for llama only", rep->path, arch);
        return;
    }
    GET(n_embd, "embedding_length", true);
    GET(n_head, "attention.head_count", true);
    GET(n_head_kv, "attention.head_count_kv", false);
    GET(n_ff, "feed_forward_length", true);
#undef GET
    if (n_layer < 0 || n_embd <= 0 || n_head <= 0 || n_ff < 0) return;
    if (n_head_kv < 0) n_head_kv = n_head;
    if (n_embd % n_head) {
        qk_verify_problem(rep, "%s: embedding_length %lld is not a multiple of head_count %lld", rep->path,
                          (long long)n_embd, (long long)n_head);
        return;
    }
    const int64_t hd = n_embd / n_head;
    const qk_gguf_kv *toks = qk_gguf_find(m, "tokenizer.ggml.tokens");
    int64_t n_vocab = toks ? (int64_t)toks->n : -1;
    const qk_gguf_tensor *emb = find_t(s, "token_embd.weight");
    if (!emb) qk_verify_problem(rep, "%s: tensor 'token_embd.weight' is missing", rep->path);
    else {
        if (emb->ne[0] != n_embd)
            qk_verify_problem(rep, "%s: token_embd.weight rows are %lld wide, expected embedding_length %lld", rep->path,
                              (long long)emb->ne[0], (long long)n_embd);
        if (n_vocab >= 0 && emb->ne[1] != n_vocab)
            qk_verify_problem(rep, "%s: token_embd.weight has %lld rows but the vocabulary has %lld tokens", rep->path,
                              (long long)emb->ne[1], (long long)n_vocab);
    }
    need(s, rep, "output_norm.weight", n_embd, 1);
    for (int64_t l = 0; l < n_layer && rep->n_problems < 50; l++) {
        char nm[96];
#define NEED(suffix, a, b) (snprintf(nm, sizeof nm, "blk.%lld.%s", (long long)l, suffix), need(s, rep, nm, a, b))
        NEED("attn_norm.weight", n_embd, 1);
        NEED("attn_q.weight", n_embd, hd * n_head);
        NEED("attn_k.weight", n_embd, hd * n_head_kv);
        NEED("attn_v.weight", n_embd, hd * n_head_kv);
        NEED("attn_output.weight", hd * n_head, n_embd);
        NEED("ffn_norm.weight", n_embd, 1);
        snprintf(nm, sizeof nm, "blk.%lld.ffn_gate_inp.weight", (long long)l);
        if (!find_t(s, nm)) {
            NEED("ffn_gate.weight", n_embd, n_ff);
            NEED("ffn_down.weight", n_ff, n_embd);
            NEED("ffn_up.weight", n_embd, n_ff);
        }
#undef NEED
    }
}

static void check_tokenizer(const qk_gguf_meta *m, qk_verify_report *rep) {
    const qk_gguf_kv *toks = qk_gguf_find(m, "tokenizer.ggml.tokens");
    if (!toks) return;
    if (toks->type != QK_GGUF_ARRAY || toks->arr_type != QK_GGUF_STRING) {
        qk_verify_problem(rep, "%s: tokenizer.ggml.tokens is not an array of strings", rep->path);
        return;
    }
    static const char *arrays[] = {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"};
    for (size_t i = 0; i < 2; i++) {
        const qk_gguf_kv *a = qk_gguf_find(m, arrays[i]);
        if (a && (a->type != QK_GGUF_ARRAY || a->n != toks->n))
            qk_verify_problem(rep, "%s: %s has %llu entries but there are %llu tokens", rep->path, arrays[i],
                              (unsigned long long)(a->type == QK_GGUF_ARRAY ? a->n : 1), (unsigned long long)toks->n);
    }
    for (uint64_t i = 0; i < m->n_kv; i++) {
        const char *key = m->kv[i].key;
        size_t l = strlen(key);
        if (strncmp(key, "tokenizer.ggml.", 15) || l < 9 || strcmp(key + l - 9, "_token_id")) continue;
        int64_t id;
        if (!qk_gguf_get_int(m, key, &id)) {
            qk_verify_problem(rep, "%s: %s is not an integer", rep->path, key);
        } else if (id < 0 || (uint64_t)id >= toks->n) {
            /* llama.cpp treats -1 (u32 max) as "none"; anything else out of range is an error */
            if (id != 4294967295ll && id != -1)
                qk_verify_problem(rep, "%s: %s = %lld is outside the vocabulary of %llu tokens", rep->path, key,
                                  (long long)id, (unsigned long long)toks->n);
        }
    }
}

static void check_file_type(const qk_gguf_set *s, qk_verify_report *rep) {
    const qk_gguf_meta *m = qk_gguf_set_meta(s);
    int64_t ft;
    if (!qk_gguf_get_int(m, "general.file_type", &ft)) return;
    const qk_ftype_info *fi = qk_ftype_by_id((int)ft);
    if (!fi) {
        qk_verify_problem(rep, "%s: general.file_type %lld is not a known llama_ftype", rep->path, (long long)ft);
        return;
    }
    /* float file types hold no quantized tensors; quantized ones hold some
     * (the mix and the shape fallback decide which, so nothing more strict) */
    bool quantized = false;
    for (uint64_t i = 0; i < s->n_tensors; i++)
        if (qk_type_get(qk_gguf_set_tensor(s, i)->type)->is_quantized) quantized = true;
    const bool float_ftype = fi->ftype == 0 || fi->ftype == 1 || fi->ftype == 32;
    if (float_ftype && quantized)
        qk_verify_problem(rep, "%s: general.file_type says %s but some tensors are quantized", rep->path, fi->name);
    if (!float_ftype && !quantized && s->n_tensors)
        qk_verify_problem(rep, "%s: general.file_type says %s but no tensor is quantized", rep->path, fi->name);
    int64_t qv;
    if (quantized && (!qk_gguf_get_int(m, "general.quantization_version", &qv) || qv != 2))
        qk_verify_problem(rep, "%s: quantized tensors without general.quantization_version = 2", rep->path);
}

/* The progress total: every tensor's bytes are read once for the hashes and
 * once more for the NaN/Inf scan. */
static void announce_total(const qk_verify_opts *o, uint64_t tensor_bytes) {
    qk_progress_total(o->progress, o->skip_sanity ? tensor_bytes : 2 * tensor_bytes);
}

/* The NaN/Inf scan of one tensor, as a progress step. */
static int scan_nonfinite(const qk_verify_opts *o, const qk_gguf_file *f, const qk_gguf_tensor *t, uint64_t *bad,
                          qk_err *err) {
    qk_progress_item(o->progress, t->name);
    int rc = qk_sanity_count_nonfinite(f, t, bad, err);
    qk_progress_add(o->progress, t->nbytes);
    return rc;
}

static void verify_shard_alone(const qk_gguf_file *f, const qk_verify_opts *o, qk_verify_report *rep) {
    rep->parsed = true;
    rep->n_shards = 1;
    rep->n_tensors = f->meta.n_tensors;
    rep->bytes = f->file_size;
    bool present = true, ok = true;
    uint64_t tb = 0;
    for (uint64_t i = 0; i < f->meta.n_tensors; i++) tb += f->meta.tensors[i].nbytes;
    announce_total(o, tb);
    check_header_padding(f, rep);
    check_integrity(f, o, rep, &present, &ok);
    rep->integrity_present = present;
    rep->integrity_ok = present && ok;
    int64_t no = 0, cnt = 0;
    qk_gguf_get_int(&f->meta, "split.no", &no);
    qk_gguf_get_int(&f->meta, "split.count", &cnt);
    qk_verify_note(rep, "%s: shard %lld of %lld checked alone (give the first shard to check the whole set)", f->path,
                   (long long)no + 1, (long long)cnt);
    if (!present) qk_verify_note(rep, "%s: no embedded integrity data (not written by quantkit)", f->path);
    if (o->skip_sanity) return;
    for (uint64_t i = 0; i < f->meta.n_tensors; i++) {
        uint64_t bad;
        qk_err err;
        if (scan_nonfinite(o, f, &f->meta.tensors[i], &bad, &err)) qk_verify_problem(rep, "%s", err.msg);
        else if (bad)
            qk_verify_problem(rep, "%s: tensor '%s' has %llu NaN/Inf values or scales", f->path, f->meta.tensors[i].name,
                              (unsigned long long)bad);
    }
}

int qk_verify_gguf(const char *path, const qk_verify_opts *o, qk_verify_report *rep) {
    memset(rep, 0, sizeof *rep);
    size_t pl = strlen(path) + 1;
    rep->path = malloc(pl);
    if (rep->path) memcpy(rep->path, path, pl);
    qk_gguf_set set;
    qk_err err;
    if (qk_gguf_set_open(path, &set, &err)) {
        /* a later shard of a split set: it is checked alone (structure, its
         * own hashes, data), the set as a whole through its first shard */
        qk_gguf_file *f = NULL;
        qk_err e2;
        int64_t no = 0;
        if (qk_gguf_open(path, &f, &e2) != QK_OK) f = NULL;
        if (f && qk_gguf_get_int(&f->meta, "split.no", &no) && no > 0) {
            verify_shard_alone(f, o, rep);
            qk_gguf_close(f);
            return QK_OK;
        }
        qk_gguf_close(f);
        qk_verify_problem(rep, "%s", err.msg);
        return QK_OK;
    }
    rep->parsed = true;
    rep->n_shards = set.n_files;
    rep->n_tensors = set.n_tensors;
    bool present = true, ok = true;
    uint64_t tb = 0;
    for (uint64_t i = 0; i < set.n_tensors; i++) tb += qk_gguf_set_tensor(&set, i)->nbytes;
    announce_total(o, tb);
    for (uint32_t i = 0; i < set.n_files; i++) {
        rep->bytes += set.files[i]->file_size;
        check_header_padding(set.files[i], rep);
        check_integrity(set.files[i], o, rep, &present, &ok);
    }
    rep->integrity_present = present;
    rep->integrity_ok = present && ok;
    if (!present)
        qk_verify_note(rep, "%s: no embedded integrity data (not written by quantkit); structure and data checks only",
                       path);
    if (!o->skip_sanity) {
        for (uint64_t i = 0; i < set.n_tensors; i++) {
            uint64_t bad;
            if (scan_nonfinite(o, qk_gguf_set_file(&set, i), qk_gguf_set_tensor(&set, i), &bad, &err))
                qk_verify_problem(rep, "%s", err.msg);
            else if (bad)
                qk_verify_problem(rep, "%s: tensor '%s' has %llu NaN/Inf value%s or scale%s", path,
                                  qk_gguf_set_tensor(&set, i)->name, (unsigned long long)bad, bad == 1 ? "" : "s",
                                  bad == 1 ? "" : "s");
        }
    }
    check_llama(&set, rep);
    check_tokenizer(qk_gguf_set_meta(&set), rep);
    check_file_type(&set, rep);
    qk_gguf_set_close(&set);
    return QK_OK;
}
