#include "quantize_model.h"

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
#include "ggml_types.h"
#include "tensor_pipeline.h"
#include "tensor_rows.h"

void qk_quantize_report_free(qk_quantize_report *r) {
    free(r->tensors);
    for (size_t i = 0; r->shards && i < r->n_shards; i++) free(r->shards[i].path);
    free(r->shards);
    memset(r, 0, sizeof *r);
}

static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Adds the output KVs in llama-quantize's order (see quant_kv.h). */
static int add_kvs(qk_gguf_writer *w, const qk_gguf_meta *m, const qk_quantize_opts *o, const qk_imatrix_kv *ikv,
                   qk_err *err) {
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
            if (sl->index < n_user) {
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

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* One output file: its writer and integrity hashes. */
typedef struct {
    char *path;
    qk_gguf_writer *w;
    qk_integrity_writer *iw;
    bool committed;
} out_shard;

/* Declares the KVs of output shard s of n (see quantize_model.h). */
static int shard_kvs(out_shard *sh, uint32_t s, uint32_t n, const qk_gguf_set *set, const char *in_path,
                     const qk_quantize_opts *o, const qk_imatrix_kv *ikv, qk_err *err) {
    const qk_gguf_meta *meta = qk_gguf_set_meta(set);
    int rc = QK_OK;
    /* keep the input's alignment (llama-quantize keeps the key but pads
     * to 32, writing an unreadable file when they differ); later shards
     * have no general.alignment and use 32, the writer's default */
    if (s == 0) qk_gguf_writer_set_alignment(sh->w, meta->alignment);
    if (s == 0) rc = add_kvs(sh->w, meta, o, ikv, err);
    if (rc == QK_OK && n > 1) {
        /* llama_model_quantize sets these after the others: no, count, tensors.count */
        uint16_t no = (uint16_t)s, cnt = (uint16_t)n;
        rc = qk_gguf_writer_add_scalar(sh->w, "split.no", QK_GGUF_U16, &no, err);
        if (rc == QK_OK) rc = qk_gguf_writer_add_scalar(sh->w, "split.count", QK_GGUF_U16, &cnt, err);
        if (rc == QK_OK) rc = qk_gguf_writer_add_i32(sh->w, "split.tensors.count", (int32_t)set->n_tensors, err);
    }
    if (s != 0) return rc;
    /* provenance */
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(sh->w, "quantkit.version", QK_VERSION, err);
    if (rc == QK_OK && o->command_line) rc = qk_gguf_writer_add_str(sh->w, "quantkit.command", o->command_line, err);
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(sh->w, "quantkit.source.file", base_name(in_path), err);
    return rc;
}

int qk_quantize_model(const char *in_path, const char *out_path, const qk_quantize_opts *o, qk_quantize_report *rep,
                      qk_err *err) {
    memset(rep, 0, sizeof *rep);
    const double t0 = qk_now_s();
    qk_gguf_set set;
    if (qk_gguf_set_open(in_path, &set, err)) return QK_FAIL;
    const qk_gguf_meta *meta = qk_gguf_set_meta(&set);
    const size_t n = (size_t)set.n_tensors;

    int rc = QK_OK;
    qk_mix_tensor *mt = calloc(n ? n : 1, sizeof *mt);
    qk_mix_plan plan = {0};
    out_shard *shards = NULL;
    uint32_t n_out = 1;
    const float **imx = calloc(n ? n : 1, sizeof *imx);
    if (!mt || !imx) rc = qk_fail(err, "out of memory");
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        const qk_gguf_tensor *t = qk_gguf_set_tensor(&set, i);
        mt[i].name = t->name;
        memcpy(mt[i].ne, t->ne, sizeof mt[i].ne);
        mt[i].type = (int)t->type;
        mt[i].shard = set.tensors[i].shard;
        mt[i].offset = t->offset;
        rep->in_tensor_bytes += t->nbytes;
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
            rc = qk_imatrix_for_tensor(o->imatrix, mt[i].name, mt[i].ne[0], mt[i].ne[2], e->requires_imatrix, &imx[i],
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
                if (same_file(set.files[f]->path, sh->path))
                    rc = qk_fail(err, "%s: the output would overwrite the input; choose another output name", sh->path);
        if (rc == QK_OK) rc = shard_kvs(sh, s, n_out, &set, in_path, o, &ikv, err);
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

    if (rc == QK_OK && !o->dry_run) {
        /* the tensors come shard by shard (plan.order is sorted by shard with
         * keep_split); a shard may be empty only if it is the first */
        size_t k = 0;
        qk_pipeline_opts po = {.n_threads = o->n_threads, .progress = o->progress};
        for (uint32_t s = 0; rc == QK_OK && s < n_out; s++) {
            qk_gguf_writer *w = shards[s].w;
            rc = qk_gguf_writer_begin(w, shards[s].path, err);
            for (; rc == QK_OK && k < n && (!o->keep_split || mt[plan.order[k]].shard == s); k++) {
                size_t i = plan.order[k];
                const qk_mix_entry *e = &plan.entries[i];
                qk_gguf_rows src = qk_gguf_rows_of(qk_gguf_set_file(&set, i), qk_gguf_set_tensor(&set, i));
                const qk_kernel *ko = qk_kernel_active((qk_type)e->type);
                qk_tensor_job job = {.name = mt[i].name,
                                     .out_type = (uint32_t)e->type,
                                     .quantize = ko ? ko->quantize : NULL,
                                     .imatrix = imx[i],
                                     .read_rows = e->convert ? qk_gguf_rows_read : NULL,
                                     .read_raw = e->convert ? NULL : qk_gguf_rows_read_raw,
                                     .src_ctx = &src};
                memcpy(job.ne, mt[i].ne, sizeof job.ne);
                qk_progress_item(o->progress, mt[i].name);
                rc = qk_tensor_job_run(&job, &po, qk_sink_gguf_writer, w, err);
            }
            if (rc == QK_OK) rc = qk_integrity_finalize(shards[s].iw, err);
        }
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
    for (uint32_t s = 0; shards && s < n_out; s++) {
        qk_integrity_free(shards[s].iw);
        qk_gguf_writer_free(shards[s].w); /* aborts (removes the temporary) unless finished */
        free(shards[s].path);
    }
    free(shards);
    qk_mix_plan_free(&plan);
    free(mt);
    free(imx);
    qk_gguf_set_close(&set);
    return rc;
}
