#include "convert_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xxhash.h>

#include "arch.h"
#include "arch_priv.h"
#include "clock.h"
#include "ftypes.h"
#include "gguf_writer.h"
#include "hf_checkpoint.h"
#include "integrity.h"
#include "kernels.h"
#include "naming.h"
#include "ggml_types.h"
#include "same_file.h"
#include "sha256.h"
#include "source_rows.h"
#include "special_tokens.h"
#include "tensor_pipeline.h"
#include "vocab.h"
#include "vocab_kv.h"

void qk_convert_report_free(qk_convert_report *rep) {
    free(rep->tensors);
    free(rep->names);
    rep->tensors = NULL;
    rep->names = NULL;
    rep->n_tensor_reports = 0;
}

/* Waits for the source hashes and patches them in; a file of a Hugging Face
 * cache snapshot must have the SHA-256 its blob is named by (else the
 * download is damaged and nothing is put in place). */
static int patch_source_sha256(qk_gguf_writer *w, const qk_hf_checkpoint *ck, qk_sha256_bg *bg, qk_err *err) {
    unsigned char (*d)[32] = calloc(ck->n_files ? ck->n_files : 1, 32);
    char (*hex)[65] = calloc(ck->n_files ? ck->n_files : 1, 65);
    const char **v = calloc(ck->n_files ? ck->n_files : 1, sizeof *v);
    int rc = d && hex && v ? QK_OK : qk_fail(err, "out of memory");
    if (rc == QK_OK) rc = qk_sha256_bg_finish(bg, d, err);
    else qk_sha256_bg_finish(bg, NULL, NULL);
    for (size_t i = 0; rc == QK_OK && i < ck->n_files; i++) {
        char blob[65];
        qk_sha256_hex(d[i], hex[i]);
        v[i] = hex[i];
        if (qk_hf_blob_sha256(ck->files[i]->path, blob) && strcmp(blob, hex[i]))
            rc = qk_fail(err, "%s: its SHA-256 is %s, but the Hugging Face cache names its blob %s: the download is "
                              "damaged (nothing written)", ck->files[i]->path, hex[i], blob);
    }
    if (rc == QK_OK) rc = qk_gguf_writer_patch_strs(w, "quantkit.source.sha256", v, ck->n_files, err);
    free(d), free(hex), free(v);
    return rc;
}

int qk_convert_model(const char *dir, const char *out_path, const qk_convert_opts *o, qk_convert_report *rep,
                     qk_err *err) {
    memset(rep, 0, sizeof *rep);
    const double t0 = qk_now_s();
    qk_hf_checkpoint ck;
    if (qk_hf_open(dir, &ck, err)) return QK_FAIL;
    qk_conv_plan plan;
    qk_vocab vocab;
    qk_vocab_init(&vocab);
    qk_gguf_writer *w = NULL;
    qk_integrity_writer *iw = NULL;
    qk_mix_plan mix = {0};
    qk_mix_tensor *mt = NULL;
    uint32_t *out_types = NULL, *wanted = NULL; /* wanted: the type before any fallback */
    size_t *order = NULL;
    int rc = qk_arch_plan(&ck, &plan, err);
    char tok_note[sizeof rep->tokenizer] = "";
    /* Meta's original Llama 3 folder: its tokenizer.model (a rank file) is the tokenizer, whatever else is there */
    if (rc == QK_OK && ck.meta_layout && qk_vocab_tiktoken_model(dir))
        rc = qk_vocab_load_llama3_original(dir, o->pre_tokenizer, plan.vocab_size, &vocab, tok_note, sizeof tok_note, err);
    else if (rc == QK_OK && !strcmp(plan.arch, "deepseek2") && qk_vocab_is_kimi(dir)) /* DeepseekV2Model's kimi-k2 */
        rc = qk_vocab_load_kimi(dir, o->pre_tokenizer, plan.vocab_size, &vocab, tok_note, sizeof tok_note, err);
    else if (rc == QK_OK && !strcmp(plan.arch, "hunyuan-moe")) /* HunYuanMoEModel.set_vocab: hy.tiktoken only */
        rc = qk_vocab_load_hunyuan(dir, o->pre_tokenizer, plan.vocab_size, &vocab, tok_note, sizeof tok_note, err);
    else if (rc == QK_OK)
        rc = !strcmp(plan.arch, "gemma4") ? qk_vocab_load_gemma4(dir, o->pre_tokenizer, &vocab, err) /* Gemma4Model.set_vocab */
                                          : qk_vocab_load_hf_for(dir, plan.family_pre, o->pre_tokenizer, plan.vocab_size,
                                                                 &vocab, err);
    if (rc == QK_OK) rc = qk_vocab_apply_arch(plan.arch, dir, &vocab, err); /* the family's set_vocab */
    /* Mamba2Model.set_vocab (Granite 4.0, GraniteHybridModel) and NemotronHModel.set_vocab do not read
     * tokenizer_config.json's add_prefix_space */
    if (rc == QK_OK &&
        (!strcmp(plan.hf_arch, "GraniteMoeHybridForCausalLM") || !strcmp(plan.hf_arch, "NemotronHForCausalLM")))
        vocab.add_space_prefix = QK_TRI_UNSET;

    /* the float base type: auto = BF16 if the first >= 2-D tensor is BF16, else F16 */
    uint32_t base = QK_TYPE_F16;
    for (size_t i = 0; i < plan.n_tensors; i++)
        if ((plan.tensors[i].src || plan.tensors[i].experts) && plan.tensors[i].n_dims >= 2) {
            const qk_hf_tensor *src = plan.tensors[i].src ? plan.tensors[i].src : plan.tensors[i].experts[0];
            if (src->t->dtype == QK_ST_U8) continue; /* MXFP4 blocks (gpt-oss): the converter's guess passes over them */
            if (src->t->dtype == QK_ST_BF16) base = QK_TYPE_BF16;
            break;
        }
    const char *type = o->type ? o->type : "auto";
    const qk_ftype_info *fi = NULL;
    if (rc == QK_OK) {
        if (!strcasecmp(type, "auto")) fi = qk_ftype_by_id(base == QK_TYPE_BF16 ? 32 : 1);
        else rc = qk_ftype_parse(type, &fi, err);
    }
    bool is_float = fi && (fi->ftype == 0 || fi->ftype == 1 || fi->ftype == 32);
    if (rc == QK_OK && is_float) base = (uint32_t)fi->default_type;
    if (rc == QK_OK) snprintf(rep->type_name, sizeof rep->type_name, "%s", fi->name);

    size_t n = plan.n_tensors;
    out_types = calloc(n ? n : 1, sizeof *out_types);
    wanted = calloc(n ? n : 1, sizeof *wanted);
    order = calloc(n ? n : 1, sizeof *order);
    mt = calloc(n ? n : 1, sizeof *mt);
    if (rc == QK_OK && (!out_types || !wanted || !order || !mt)) rc = qk_fail(err, "out of memory");
    /* the float model: convert's rules */
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        const qk_conv_tensor *t = &plan.tensors[i];
        uint32_t ty = t->keep_f32 ? QK_TYPE_F32 : base;
        uint64_t rb;
        wanted[i] = ty;
        if (!qk_row_size(ty, t->ne[0], &rb)) ty = QK_TYPE_F16; /* convert's QuantError fallback */
        out_types[i] = ty;
        order[i] = i;
        mt[i].name = t->name;
        memcpy(mt[i].ne, t->ne, sizeof mt[i].ne);
        mt[i].type = (int)ty;
    }
    if (rc == QK_OK && !is_float) {
        /* llama-quantize's mix over that float model */
        qk_mix_model mm = {.arch = plan.arch, .n_layer = plan.n_layer, .n_head = plan.n_head,
                           .n_head_kv = plan.n_head_kv, .n_expert = plan.n_expert, .tensors = mt, .n_tensors = n};
        qk_mix_options mo;
        qk_mix_options_init(&mo);
        mo.ftype = fi->ftype;
        mo.overrides = o->overrides;
        mo.n_overrides = o->n_overrides;
        mo.output_tensor_type = o->output_tensor_type;
        mo.has_imatrix = o->imatrix && o->imatrix->n_entries;
        rc = qk_mix_plan_compute(&mm, &mo, &mix, err);
        for (size_t i = 0; rc == QK_OK && i < n; i++) {
            out_types[i] = (uint32_t)mix.entries[i].type;
            if (mix.entries[i].fallback) wanted[i] = (uint32_t)mix.entries[i].wanted_type;
            else wanted[i] = out_types[i];
            order[i] = mix.order[i];
        }
    }
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        const qk_kernel *k = qk_kernel_active((qk_type)out_types[i]);
        if (!k || !k->quantize)
            rc = qk_fail(err, "tensor '%s': quantkit cannot write type %s", plan.tensors[i].name,
                         qk_type_get(out_types[i])->name);
    }

    /* names */
    char name[200], computed[32], label[64] = "";
    qk_model_name(name, sizeof name, dir, qk_hf_cfg_str(ck.config, "_name_or_path"));
    qk_size_label(computed, sizeof computed, plan.n_params);
    if (rc == QK_OK)
        qk_gguf_name(rep->default_name, sizeof rep->default_name, name, computed, fi->name, label, sizeof label);

    if (rc == QK_OK) {
        w = qk_gguf_writer_new();
        if (!w) rc = qk_fail(err, "out of memory");
    }
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(w, "general.architecture", plan.arch, err);
    if (rc == QK_OK) rc = qk_arch_add_early_kvs(&plan, w, err);
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(w, "general.type", "model", err);
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(w, "general.name", name, err);
    if (rc == QK_OK) rc = qk_gguf_writer_add_str(w, "general.size_label", label, err);
    if (rc == QK_OK) rc = qk_arch_add_hparams(&ck, &plan, w, (uint32_t)fi->ftype, err);
    if (rc == QK_OK) rc = qk_gguf_writer_add_u32(w, "general.quantization_version", 2, err);
    if (rc == QK_OK) rc = qk_vocab_add_kvs(w, &vocab, err);
    /* provenance: the tool, the command, and the source files (name, size, hash of the header) */
    if (rc == QK_OK) rc = qk_gguf_writer_add_provenance(w, o->command_line, err);
    if (rc == QK_OK) {
        const char **names = calloc(ck.n_files, sizeof *names);
        uint64_t *sizes = calloc(ck.n_files, sizeof *sizes);
        for (size_t i = 0; names && sizes && i < ck.n_files; i++) {
            const char *b = strrchr(ck.files[i]->path, '/');
            names[i] = b ? b + 1 : ck.files[i]->path;
            sizes[i] = ck.files[i]->file_size;
        }
        if (names && sizes) {
            rc = qk_gguf_writer_add_arr_str(w, "quantkit.source.files", names, ck.n_files, err);
            if (rc == QK_OK) rc = qk_gguf_writer_add_arr(w, "quantkit.source.sizes", QK_GGUF_U64, sizes, ck.n_files, err);
            if (rc == QK_OK) rc = qk_gguf_writer_add_arr(w, "quantkit.source.xxh3", QK_GGUF_U64, sizes, ck.n_files, err);
            /* each file's SHA-256 (what Hugging Face shows), patched in after the data */
            static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
            for (size_t i = 0; i < ck.n_files; i++) names[i] = zeros;
            if (rc == QK_OK) rc = qk_gguf_writer_add_arr_str(w, "quantkit.source.sha256", names, ck.n_files, err);
        } else {
            rc = qk_fail(err, "out of memory");
        }
        free(names), free(sizes);
    }
    for (size_t k = 0; rc == QK_OK && k < n; k++) {
        const qk_conv_tensor *t = &plan.tensors[order[k]];
        rc = qk_gguf_writer_add_tensor(w, t->name, out_types[order[k]], t->n_dims, t->ne, err);
    }
    for (size_t i = 0; rc == QK_OK && i < n; i++)
        if (wanted[i] != out_types[i]) rep->n_fallback++;
    if (rc == QK_OK && o->report_tensors) {
        size_t names_len = 0;
        for (size_t i = 0; i < n; i++) names_len += strlen(plan.tensors[i].name) + 1;
        rep->tensors = calloc(n ? n : 1, sizeof *rep->tensors);
        rep->names = malloc(names_len ? names_len : 1);
        if (!rep->tensors || !rep->names) rc = qk_fail(err, "out of memory");
        const qk_gguf_meta *wm = rc == QK_OK ? qk_gguf_writer_meta(w) : NULL;
        char *np = rep->names;
        for (size_t k = 0; rc == QK_OK && k < n; k++) {
            const size_t i = order[k];
            qk_convert_tensor_report *tr = &rep->tensors[k];
            const size_t l = strlen(plan.tensors[i].name) + 1;
            memcpy(np, plan.tensors[i].name, l);
            tr->name = np;
            np += l;
            memcpy(tr->ne, plan.tensors[i].ne, sizeof tr->ne);
            tr->out_type = (int)out_types[i];
            tr->wanted_type = (int)wanted[i];
            tr->fallback = wanted[i] != out_types[i];
            tr->bytes = wm->tensors[k].nbytes;
        }
        if (rc == QK_OK) rep->n_tensor_reports = n;
    }
    if (rc == QK_OK) {
        iw = qk_integrity_attach(w, err);
        if (!iw) rc = QK_FAIL;
    }
    if (rc == QK_OK) {
        rep->file_size = qk_gguf_writer_file_size(w);
        rep->n_params = plan.n_params;
        rep->n_tensors = n;
        rep->hf_arch = plan.desc ? plan.desc->hf : NULL;
        snprintf(rep->weights, sizeof rep->weights, "%s", ck.weights);
        snprintf(rep->tokenizer, sizeof rep->tokenizer, "%s", tok_note);
        rep->gguf_arch = plan.desc ? plan.desc->gguf : NULL;
        rep->caveat = plan.caveat;
        memcpy(rep->left_out, plan.left_out, sizeof rep->left_out);
        rep->n_left_out = plan.n_left_out;
    }
    if (rc == QK_OK && !o->dry_run) {
        /* never onto what is read: the folder's files, a shard, a link to one */
        const char *outp = out_path ? out_path : rep->default_name;
        rc = qk_check_output(outp, &dir, 1, "output", err);
        for (size_t i = 0; rc == QK_OK && i < ck.n_files; i++) {
            const char *sp = ck.files[i]->path;
            rc = qk_check_output(outp, &sp, 1, "output", err);
        }
        if (rc == QK_OK) rc = qk_gguf_writer_begin(w, outp, err);
        /* the source files' SHA-256, hashed beside the conversion (a thread per shard, up to the thread count) */
        qk_sha256_bg *bg = NULL;
        if (rc == QK_OK) {
            const char **paths = calloc(ck.n_files ? ck.n_files : 1, sizeof *paths);
            for (size_t i = 0; paths && i < ck.n_files; i++) paths[i] = ck.files[i]->path;
            rc = paths ? qk_sha256_bg_start(paths, ck.n_files, o->n_threads, &bg, err) : qk_fail(err, "out of memory");
            free(paths);
        }
        /* one set of worker threads for the whole run */
        qk_pipeline_scratch scratch = {0};
        qk_pipeline_opts po = {.n_threads = o->n_threads, .progress = o->progress, .pool = qk_pool_new(o->n_threads),
                               .scratch = &scratch};
        for (size_t k = 0; rc == QK_OK && k < n; k++) {
            size_t i = order[k];
            const qk_conv_tensor *t = &plan.tensors[i];
            /* no drop-behind here: the SHA-256 thread reads the same source files at its own pace */
            qk_hf_rows src = {&ck, t, !o->allow_nonfinite, false};
            const float *imx = NULL;
            if (!is_float && o->imatrix && o->imatrix->n_entries)
                rc = qk_imatrix_for_tensor(o->imatrix, t->name, t->ne[0], t->ne[2], mix.entries[i].requires_imatrix,
                                           &imx, err);
            qk_tensor_job job = {.name = t->name, .out_type = out_types[i],
                                 .quantize = qk_kernel_active((qk_type)out_types[i])->quantize, .imatrix = imx,
                                 .read_rows = qk_hf_rows_read, .hint = qk_hf_rows_hint, .src_ctx = &src};
            memcpy(job.ne, t->ne, sizeof job.ne);
            if (t->x3d == QK_X3_MXFP4 && out_types[i] == QK_TYPE_MXFP4) job.read_raw = qk_hf_rows_read_mxfp4; /* as the source */
            qk_progress_item(o->progress, t->name);
            if (rc == QK_OK) rc = qk_tensor_job_run(&job, &po, qk_sink_gguf_writer, w, err);
        }
        qk_pool_free(po.pool);
        qk_pipeline_scratch_free(&scratch);
        /* the source hashes: XXH3-64 of each shard's header bytes, cheap and
         * enough to tie the GGUF to the exact checkpoint files */
        if (rc == QK_OK) {
            uint64_t *h = calloc(ck.n_files, sizeof *h);
            for (size_t i = 0; h && i < ck.n_files; i++) {
                size_t hl = (size_t)ck.files[i]->data_start;
                unsigned char *b = malloc(hl);
                if (b && pread(ck.files[i]->fd, b, hl, 0) == (ssize_t)hl) h[i] = XXH3_64bits(b, hl);
                free(b);
            }
            if (h) rc = qk_gguf_writer_patch(w, "quantkit.source.xxh3", h, ck.n_files * 8, err);
            free(h);
        }
        if (rc == QK_OK) rc = patch_source_sha256(w, &ck, bg, err);
        else qk_sha256_bg_finish(bg, NULL, NULL);
        if (rc == QK_OK) rc = qk_integrity_finalize(iw, err);
        if (rc == QK_OK) rc = qk_gguf_writer_finish(w, err);
    }
    rep->seconds = qk_now_s() - t0;
    qk_integrity_free(iw);
    qk_gguf_writer_free(w);
    qk_mix_plan_free(&mix);
    free(mt), free(out_types), free(wanted), free(order);
    if (rc != QK_OK) qk_convert_report_free(rep);
    qk_vocab_free(&vocab);
    qk_arch_plan_free(&plan);
    qk_hf_close(&ck);
    return rc;
}
