#include "quantize_model.h"
#include "str_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "gguf_set.h"
#include "gguf_writer.h"
#include "integrity.h"
#include "kernels.h"
#include "model_facts.h"
#include "same_file.h"
#include "ggml_types.h"
#include "tensor_pipeline.h"
#include "tensor_rows.h"

void qk_quantize_report_free(qk_quantize_report *r) {
    free(r->tensors);
    for (size_t i = 0; r->shards && i < r->n_shards; i++) free(r->shards[i].path);
    free(r->shards);
    memset(r, 0, sizeof *r);
}

/* Adds the output KVs in llama-quantize's order (see quant_kv.h). */
static int add_kvs(qk_gguf_writer *w, const qk_gguf_meta *m, const qk_quantize_opts *o, const qk_imatrix_kv *ikv,
                   const char *block_count_key, uint32_t block_count, qk_err *err) {
    const char **in_keys = malloc((m->n_kv ? m->n_kv : 1) * sizeof *in_keys);
    size_t *in_idx = malloc((m->n_kv ? m->n_kv : 1) * sizeof *in_idx);
    size_t n_in = 0;
    if (!in_keys || !in_idx) {
        free(in_keys), free(in_idx);
        return qk_fail(err, "out of memory");
    }
    for (uint64_t i = 0; i < m->n_kv; i++) {
        if (!strncmp(m->kv[i].key, "quantkit.", 9)) continue; /* our own keys are written fresh */
        in_idx[n_in] = (size_t)i;
        in_keys[n_in++] = m->kv[i].key;
    }
    const char *ov_keys[256 + 4];
    size_t n_ov = 0;
    for (size_t i = 0; i < o->n_kv_overrides && n_ov < 256; i++) ov_keys[n_ov++] = o->kv_overrides[i].key;
    const size_t n_user = n_ov;
    if (ikv && ikv->present) {
        ov_keys[n_ov++] = "quantize.imatrix.file";
        if (ikv->has_dataset) ov_keys[n_ov++] = "quantize.imatrix.dataset";
        ov_keys[n_ov++] = "quantize.imatrix.entries_count";
        if (ikv->has_chunks_count) ov_keys[n_ov++] = "quantize.imatrix.chunks_count";
    }
    /* --prune-layers: llama_model_quantize sets <arch>.block_count after the overrides */
    const size_t i_block_count = block_count_key ? n_ov : SIZE_MAX;
    if (block_count_key) ov_keys[n_ov++] = block_count_key;
    qk_kv_slot *slots = NULL;
    size_t n_slots = 0;
    int rc = qk_quant_kv_order(in_keys, n_in, ov_keys, n_ov, &slots, &n_slots, err);
    for (size_t s = 0; rc == QK_OK && s < n_slots; s++) {
        const qk_kv_slot *sl = &slots[s];
        switch (sl->src) {
        case QK_KV_SRC_INPUT: rc = qk_gguf_writer_add_kv(w, &m->kv[in_idx[sl->index]], err); break;
        case QK_KV_SRC_QUANT_VERSION: rc = qk_gguf_writer_add_u32(w, sl->key, 2, err); break;
        case QK_KV_SRC_FILE_TYPE: rc = qk_gguf_writer_add_u32(w, sl->key, (uint32_t)o->mix.ftype, err); break;
        case QK_KV_SRC_OVERRIDE:
            if (sl->index == i_block_count) {
                rc = qk_gguf_writer_add_u32(w, sl->key, block_count, err);
            } else if (sl->index < n_user) {
                const qk_kv_override *ov = &o->kv_overrides[sl->index];
                switch (ov->tag) {
                case QK_KVO_INT: rc = qk_gguf_writer_add_u32(w, ov->key, qk_kv_override_u32(ov->val_i64), err); break;
                case QK_KVO_FLOAT: rc = qk_gguf_writer_add_f32(w, ov->key, (float)ov->val_f64, err); break;
                case QK_KVO_BOOL: rc = qk_gguf_writer_add_bool(w, ov->key, ov->val_bool, err); break;
                case QK_KVO_STR: rc = qk_gguf_writer_add_str(w, ov->key, ov->val_str, err); break;
                }
            } else if (!strcmp(sl->key, "quantize.imatrix.file")) {
                rc = qk_gguf_writer_add_str(w, sl->key, ikv->file, err);
            } else if (!strcmp(sl->key, "quantize.imatrix.dataset")) {
                rc = qk_gguf_writer_add_str(w, sl->key, ikv->dataset, err);
            } else if (!strcmp(sl->key, "quantize.imatrix.entries_count")) {
                rc = qk_gguf_writer_add_u32(w, sl->key, ikv->entries_count, err);
            } else {
                rc = qk_gguf_writer_add_u32(w, sl->key, ikv->chunks_count, err);
            }
            break;
        }
    }
    free(slots), free(in_keys), free(in_idx);
    return rc;
}

/* The first "blk.<digits>." in a name (std::regex_search of blk\.(\d+)\.):
 * the digits' start and length, or false. */
static bool find_blk(const char *name, size_t *pos, size_t *len) {
    for (const char *p = strstr(name, "blk."); p; p = strstr(p + 1, "blk.")) {
        size_t d = 0;
        while (p[4 + d] >= '0' && p[4 + d] <= '9') d++;
        if (d && p[4 + d] == '.') {
            *pos = (size_t)(p + 4 - name);
            *len = d;
            return true;
        }
    }
    return false;
}

typedef struct { int64_t layer; char *str; } blk_map; /* str NULL: pruned */

/* remap_layer of llama-quant.cpp for every tensor, visited in
 * weight_name_comparer order: names[i] is the new name of tensor i (malloc'd)
 * or NULL if pruned; *blk_count the next free layer number. */
static int prune_remap(const qk_gguf_set *set, const int32_t *prune, size_t n_prune, char **names, uint32_t *blk_count,
                       qk_err *err) {
    const size_t n = (size_t)set->n_tensors;
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    blk_map *map = calloc(n ? n : 1, sizeof *map);
    size_t n_map = 0;
    int64_t next_id = 0;
    int rc = QK_OK;
    if (!ord || !map) rc = qk_fail(err, "out of memory");
    for (size_t i = 0; rc == QK_OK && i < n; i++) ord[i] = i;
    /* insertion sort by weight_name_comparer: n is a model's tensor count */
    for (size_t i = 1; rc == QK_OK && i < n; i++) {
        size_t v = ord[i], j = i;
        while (j > 0 && qk_mix_name_compare(qk_gguf_set_tensor(set, ord[j - 1])->name, qk_gguf_set_tensor(set, v)->name) > 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = v;
    }
    for (size_t k = 0; rc == QK_OK && k < n; k++) {
        const char *name = qk_gguf_set_tensor(set, ord[k])->name;
        size_t pos, len;
        if (!find_blk(name, &pos, &len)) {
            if (!(names[ord[k]] = strdup(name))) rc = qk_fail(err, "out of memory");
            continue;
        }
        /* std::stoi: more than int's range throws, and llama_model_quantize fails */
        int64_t blk = 0;
        for (size_t d = 0; d < len && blk <= INT32_MAX; d++) blk = blk * 10 + (name[pos + d] - '0');
        if (blk > INT32_MAX) {
            rc = qk_fail(err, "tensor '%s': layer number out of range for --prune-layers", name);
            break;
        }
        blk_map *m = NULL;
        for (size_t q = 0; q < n_map && !m; q++)
            if (map[q].layer == blk) m = &map[q];
        if (!m) {
            m = &map[n_map++];
            m->layer = blk;
            bool pruned = false;
            for (size_t q = 0; q < n_prune && !pruned; q++) pruned = prune[q] == blk;
            int64_t id = -1;
            if (pruned) id = -1;
            else if (blk < prune[0]) id = blk, next_id = blk + 1;
            else id = next_id++;
            if (id >= 0) {
                char buf[24];
                snprintf(buf, sizeof buf, "%lld", (long long)id);
                if (!(m->str = strdup(buf))) { rc = qk_fail(err, "out of memory"); break; }
            }
        }
        if (!m->str) continue; /* pruned: names[] stays NULL */
        size_t nl = strlen(name) - len + strlen(m->str) + 1;
        char *nn = malloc(nl);
        if (!nn) { rc = qk_fail(err, "out of memory"); break; }
        snprintf(nn, nl, "%.*s%s%s", (int)pos, name, m->str, name + pos + len);
        names[ord[k]] = nn;
    }
    if (rc == QK_OK && (next_id < 0 || next_id > UINT32_MAX)) rc = qk_fail(err, "--prune-layers: layer count out of range");
    *blk_count = (uint32_t)next_id;
    for (size_t q = 0; q < n_map; q++) free(map[q].str);
    free(map);
    free(ord);
    return rc;
}

int qk_prune_layers_parse(const char *s, int32_t **out, size_t *n_out, qk_err *err) {
    *out = NULL;
    *n_out = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    int32_t *v = malloc(cap * sizeof *v);
    if (!v) return qk_fail(err, "out of memory");
    size_t n = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(l < sizeof buf - 1 ? l : sizeof buf - 1), p);
        char *end;
        errno = 0;
        long x = strtol(buf, &end, 10);
        if (end == buf || errno == ERANGE || x < 0 || x > INT32_MAX || l >= sizeof buf) {
            free(v);
            return qk_fail(err, "--prune-layers: invalid layer id '%.*s' (expected a number >= 0)", (int)l, p);
        }
        v[n++] = (int32_t)x;
        if (!e) break;
        p = e + 1;
    }
    /* sort, unique */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int32_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || v[u - 1] != v[i]) v[u++] = v[i];
    *out = v;
    *n_out = u;
    return QK_OK;
}

/* One output file: its writer and integrity hashes. */
typedef struct {
    char *path;
    qk_gguf_writer *w;
    qk_integrity_writer *iw;
    bool committed;
} out_shard;

/* Declares the KVs of output shard s of n (see quantize_model.h). */
static int shard_kvs(out_shard *sh, uint32_t s, uint32_t n, const qk_gguf_set *set, size_t n_tensors, const char *in_path,
                     const qk_quantize_opts *o, const qk_imatrix_kv *ikv, const char *block_count_key,
                     uint32_t block_count, qk_err *err) {
    const qk_gguf_meta *meta = qk_gguf_set_meta(set);
    int rc = QK_OK;
    /* keep the input's alignment (llama-quantize keeps the key but pads
     * to 32, writing an unreadable file when they differ); later shards
     * have no general.alignment and use 32, the writer's default */
    if (s == 0) qk_gguf_writer_set_alignment(sh->w, meta->alignment);
    if (s == 0) rc = add_kvs(sh->w, meta, o, ikv, block_count_key, block_count, err);
    if (rc == QK_OK && n > 1) {
        /* llama_model_quantize sets these after the others: no, count, tensors.count */
        uint16_t no = (uint16_t)s, cnt = (uint16_t)n;
        rc = qk_gguf_writer_add_scalar(sh->w, "split.no", QK_GGUF_U16, &no, err);
        if (rc == QK_OK) rc = qk_gguf_writer_add_scalar(sh->w, "split.count", QK_GGUF_U16, &cnt, err);
        if (rc == QK_OK) rc = qk_gguf_writer_add_i32(sh->w, "split.tensors.count", (int32_t)n_tensors, err);
    }
    if (s != 0) return rc;
    /* provenance */
    if (rc == QK_OK) rc = qk_gguf_writer_add_provenance(sh->w, o->command_line, err);
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(sh->w, "quantkit.source.file", qk_path_base(in_path), err);
    return rc;
}

int qk_quantize_model(const char *in_path, const char *out_path, const qk_quantize_opts *o, qk_quantize_report *rep,
                      qk_err *err) {
    memset(rep, 0, sizeof *rep);
    const double t0 = qk_now_s();
    qk_gguf_set set;
    if (qk_gguf_set_open(in_path, &set, err)) return QK_FAIL;
    const qk_gguf_meta *meta = qk_gguf_set_meta(&set);
    const size_t n_in = (size_t)set.n_tensors;

    int rc = QK_OK;
    if (!o->ignore_integrity && !o->dry_run) rc = qk_gguf_set_guard(&set, NULL, err);
    /* tensor i of the output plan is input tensor src[i] (--prune-layers drops some) */
    size_t *src = calloc(n_in ? n_in : 1, sizeof *src);
    char **new_names = calloc(n_in ? n_in : 1, sizeof *new_names);
    qk_mix_tensor *mt = calloc(n_in ? n_in : 1, sizeof *mt);
    qk_mix_plan plan = {0};
    out_shard *shards = NULL;
    uint32_t n_out = 1;
    const float **imx = calloc(n_in ? n_in : 1, sizeof *imx);
    uint32_t block_count = 0;
    char block_count_key[160] = "";
    if (!mt || !imx || !src || !new_names) rc = qk_fail(err, "out of memory");
    const bool prune = o->prune_layers && o->n_prune_layers > 0;
    for (size_t q = 0; rc == QK_OK && prune && q < o->n_prune_layers; q++)
        if (o->prune_layers[q] < 0) rc = qk_fail(err, "--prune-layers: invalid layer id %d", (int)o->prune_layers[q]);
    if (rc == QK_OK && prune) {
        rc = prune_remap(&set, o->prune_layers, o->n_prune_layers, new_names, &block_count, err);
        const char *arch = qk_gguf_get_str(meta, "general.architecture");
        if (rc == QK_OK && !arch) rc = qk_fail(err, "%s: no general.architecture, needed for --prune-layers", in_path);
        if (rc == QK_OK) snprintf(block_count_key, sizeof block_count_key, "%s.block_count", arch);
    }
    size_t n = 0;
    for (size_t j = 0; rc == QK_OK && j < n_in; j++) {
        const qk_gguf_tensor *t = qk_gguf_set_tensor(&set, j);
        rep->in_tensor_bytes += t->nbytes;
        if (prune && !new_names[j]) continue;
        const size_t i = n++;
        src[i] = j;
        mt[i].name = prune ? new_names[j] : t->name;
        memcpy(mt[i].ne, t->ne, sizeof mt[i].ne);
        mt[i].type = (int)t->type;
        mt[i].shard = set.tensors[j].shard;
        mt[i].offset = t->offset;
    }
    if (rc == QK_OK && o->keep_split) {
        /* llama.cpp: one output per split index up to the largest that holds
         * a tensor; it crashes on a shard without tensors after the first */
        for (size_t i = 0; i < n; i++)
            if (mt[i].shard + 1 > n_out) n_out = mt[i].shard + 1;
        for (uint32_t s = 1; rc == QK_OK && s < set.n_files; s++)
            if (set.files[s]->meta.n_tensors == 0)
                rc = qk_fail(err, "%s: shard %u of %u holds no tensors; --keep-split needs tensors in every shard after the "
                                  "first (quantize without --keep-split to get one file)",
                             set.files[s]->path, s + 1, set.n_files);
    }
    qk_mix_model model;
    if (rc == QK_OK) rc = qk_model_facts(meta, mt, n, &model, err);
    if (rc != QK_OK) qk_fail_prefix(err, "%s", in_path);
    qk_mix_options mix = o->mix;
    mix.has_imatrix = o->imatrix && o->imatrix->n_entries > 0;
    mix.keep_split = o->keep_split;
    if (rc == QK_OK) rc = qk_mix_plan_compute(&model, &mix, &plan, err);

    /* every converted tensor needs a kernel for its output and its input type */
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        const qk_mix_entry *e = &plan.entries[i];
        if (!e->convert) continue;
        const qk_kernel *ko = qk_kernel_active((qk_type)e->type), *ki = qk_kernel_active((qk_type)mt[i].type);
        const qk_type_info *to = qk_type_get((uint32_t)e->type), *ti = qk_type_get((uint32_t)mt[i].type);
        if (!ko || !ko->quantize)
            rc = qk_fail(err, "tensor '%s': quantkit cannot write type %s yet", mt[i].name, to ? to->name : "?");
        else if (!ki || !ki->dequantize)
            rc = qk_fail(err, "tensor '%s': quantkit cannot read input type %s", mt[i].name, ti ? ti->name : "?");
        else if (o->imatrix && mix.has_imatrix)
            rc = qk_imatrix_for_tensor(o->imatrix, qk_gguf_set_tensor(&set, src[i])->name, mt[i].ne[0], mt[i].ne[2], e->requires_imatrix, &imx[i],
                                       err);
    }

    qk_imatrix_kv ikv = {0};
    if (rc == QK_OK && mix.has_imatrix) qk_imatrix_kv_get(o->imatrix, o->imatrix_path, &ikv);
    if (rc == QK_OK) {
        shards = calloc(n_out, sizeof *shards);
        rep->shards = calloc(n_out, sizeof *rep->shards);
        if (!shards || !rep->shards) rc = qk_fail(err, "out of memory");
        else rep->n_shards = n_out;
    }
    for (uint32_t s = 0; rc == QK_OK && s < n_out; s++) {
        out_shard *sh = &shards[s];
        size_t len = strlen(out_path) + 32;
        sh->path = malloc(len);
        rep->shards[s].path = malloc(len);
        sh->w = qk_gguf_writer_new();
        if (!sh->path || !rep->shards[s].path || !sh->w) {
            rc = qk_fail(err, "out of memory");
            break;
        }
        if (o->keep_split) qk_split_path(sh->path, len, out_path, s + 1, n_out);
        else snprintf(sh->path, len, "%s", out_path);
        memcpy(rep->shards[s].path, sh->path, len);
        if (!o->dry_run)
            for (uint32_t f = 0; rc == QK_OK && f < set.n_files; f++)
                if (qk_same_file(set.files[f]->path, sh->path))
                    rc = qk_fail(err, "%s: the output would overwrite the input; choose another output name", sh->path);
        if (rc == QK_OK)
            rc = shard_kvs(sh, s, n_out, &set, n, in_path, o, &ikv, prune ? block_count_key : NULL, block_count, err);
    }

    if (rc == QK_OK) {
        rep->tensors = calloc(n ? n : 1, sizeof *rep->tensors);
        if (!rep->tensors) rc = qk_fail(err, "out of memory");
    }
    for (size_t k = 0; rc == QK_OK && k < n; k++) {
        size_t i = plan.order[k];
        const qk_mix_entry *e = &plan.entries[i];
        const uint32_t s = o->keep_split ? mt[i].shard : 0;
        qk_gguf_writer *w = shards[s].w;
        rc = qk_gguf_writer_add_tensor(w, mt[i].name, (uint32_t)e->type, qk_ggml_n_dims(mt[i].ne), mt[i].ne, err);
        if (rc) break;
        qk_quantize_tensor_report *tr = &rep->tensors[rep->n_tensors++];
        snprintf(tr->name, sizeof tr->name, "%s", mt[i].name);
        memcpy(tr->ne, mt[i].ne, sizeof tr->ne);
        tr->in_type = mt[i].type;
        tr->out_type = e->type;
        tr->fallback = e->fallback;
        tr->wanted_type = e->fallback ? e->wanted_type : e->type;
        tr->shard = s;
        const qk_gguf_meta *wm = qk_gguf_writer_meta(w);
        tr->bytes = wm->tensors[wm->n_tensors - 1].nbytes;
        rep->tensor_bytes += tr->bytes;
        rep->n_elements += (uint64_t)(mt[i].ne[0] * mt[i].ne[1] * mt[i].ne[2] * mt[i].ne[3]);
        rep->shards[s].n_tensors++;
    }
    rep->n_fallback = plan.n_fallback;
    for (uint32_t s = 0; rc == QK_OK && s < n_out; s++) {
        shards[s].iw = qk_integrity_attach(shards[s].w, err);
        if (!shards[s].iw) rc = QK_FAIL;
        else {
            rep->shards[s].file_size = qk_gguf_writer_file_size(shards[s].w);
            rep->file_size += rep->shards[s].file_size;
        }
    }

    double t_stream = qk_now_s(), t_commit = t_stream;
    if (rc == QK_OK && !o->dry_run) {
        /* the tensors come shard by shard (plan.order is sorted by shard with
         * keep_split); a shard may be empty only if it is the first */
        size_t k = 0;
        /* one set of worker threads for the whole run */
        qk_pipeline_scratch scratch = {0};
        qk_pipeline_opts po = {.n_threads = o->n_threads, .progress = o->progress, .pool = qk_pool_new(o->n_threads),
                               .scratch = &scratch, .chunk_bytes = o->max_buffer_bytes};
        uint64_t in_bytes = 0;
        for (uint32_t f = 0; f < set.n_files; f++) in_bytes += set.files[f]->file_size;
        const bool drop_behind = qk_larger_than_memory(in_bytes);
        for (uint32_t s = 0; rc == QK_OK && s < n_out; s++) {
            qk_gguf_writer *w = shards[s].w;
            rc = qk_gguf_writer_begin(w, shards[s].path, err);
            for (; rc == QK_OK && k < n && (!o->keep_split || mt[plan.order[k]].shard == s); k++) {
                size_t i = plan.order[k];
                const qk_mix_entry *e = &plan.entries[i];
                qk_gguf_rows rows = qk_gguf_rows_of(qk_gguf_set_file(&set, src[i]), qk_gguf_set_tensor(&set, src[i]));
                rows.drop_behind = drop_behind;
                const qk_kernel *ko = qk_kernel_active((qk_type)e->type);
                qk_tensor_job job = {.name = mt[i].name,
                                     .out_type = (uint32_t)e->type,
                                     .quantize = ko ? ko->quantize : NULL,
                                     .imatrix = imx[i],
                                     .read_rows = e->convert ? qk_gguf_rows_read : NULL,
                                     .hint = qk_gguf_rows_hint,
                                     .read_raw = e->convert ? NULL : qk_gguf_rows_read_raw,
                                     .src_ctx = &rows};
                memcpy(job.ne, mt[i].ne, sizeof job.ne);
                qk_progress_item(o->progress, mt[i].name);
                rc = qk_tensor_job_run(&job, &po, qk_sink_gguf_writer, w, err);
            }
            if (rc == QK_OK) rc = qk_integrity_finalize(shards[s].iw, err);
        }
        qk_pool_free(po.pool);
        qk_pipeline_scratch_free(&scratch);
        t_commit = qk_now_s();
        /* the input was what its hashes say (checked as it streamed), or nothing is put in place */
        if (rc == QK_OK && !o->ignore_integrity) rc = qk_gguf_set_guard_check(&set, 0, UINT64_MAX, err);
        /* all written: now put them in place, or none */
        for (uint32_t s = 0; rc == QK_OK && s < n_out; s++) {
            rc = qk_gguf_writer_finish(shards[s].w, err);
            shards[s].committed = rc == QK_OK;
        }
        if (rc != QK_OK)
            for (uint32_t s = 0; s < n_out; s++)
                if (shards[s].committed) unlink(shards[s].path);
    }
    rep->seconds = qk_now_s() - t0;
    rep->seconds_plan = t_stream - t0;
    rep->seconds_tensors = t_commit - t_stream;
    rep->seconds_commit = t0 + rep->seconds - t_commit;
    for (uint32_t s = 0; shards && s < n_out; s++) {
        qk_integrity_free(shards[s].iw);
        qk_gguf_writer_free(shards[s].w); /* aborts (removes the temporary) unless finished */
        free(shards[s].path);
    }
    free(shards);
    qk_mix_plan_free(&plan);
    for (size_t j = 0; new_names && j < n_in; j++) free(new_names[j]);
    free(new_names);
    free(src);
    free(mt);
    free(imx);
    qk_gguf_set_close(&set);
    return rc;
}
