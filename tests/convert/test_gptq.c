/* GPTQ checkpoints (quantization_config.quant_method "gptq"): made here from
 * the generated tiny model (2-, 4- and 8-bit; act-order g_idx permutations;
 * v1 and v2 zero conventions; F16 scales), they convert to exactly the GGUF
 * tensors of a float32 twin holding the reference rule's values
 * (convert_hf_to_gguf.py's dequant_gptq: scales[g_idx[k]][o] * (q - zero),
 * zero = stored + 1 for v1), q/k head permutation included; the converted
 * model loads and decodes in the pinned llama.cpp. Malformed GPTQ layers and
 * the methods llama.cpp does not dequantize (AWQ, 3-bit) are refused by name
 * with nothing written. */
#include <math.h>
#include <sys/stat.h>

#include "convert_model.h"
#include "convert_run.h"
#include "float_formats.h"
#include "gguf.h"
#include "hf_checkpoint.h"
#include "llama_run.h"
#include "qk_test.h"
#include "refusal_cases.h"
#include "st_write.h"
#include "tiny_hf.h"

typedef struct gptq_case {
    const char *tag;
    int bits, group;
    bool act_order, v2;
} gptq_case;

/* Quantizes w (O x I) the GPTQ way into the four tensors at it[0..4) and
 * overwrites w with the reference rule's dequantized values. */
static void gptq_layer(const char *name, float *w, int64_t O, int64_t I, const gptq_case *c, qk_rng *rng, st_item *it) {
    const int pack = 32 / c->bits;
    const int32_t maxq = (1 << c->bits) - 1, off = c->v2 ? 0 : 1;
    const int64_t G = (I + c->group - 1) / c->group;
    int32_t *gidx = malloc((size_t)I * 4);
    int64_t *perm = malloc((size_t)I * sizeof *perm);
    for (int64_t k = 0; k < I; k++) perm[k] = k;
    for (int64_t k = I - 1; c->act_order && k > 0; k--) { /* desc_act: groups follow a column permutation */
        int64_t j = (int64_t)(qk_rng_next(rng) % (uint64_t)(k + 1)), t = perm[k];
        perm[k] = perm[j], perm[j] = t;
    }
    for (int64_t k = 0; k < I; k++) gidx[perm[k]] = (int32_t)(k / c->group);
    uint16_t *sc = malloc((size_t)(G * O) * 2);
    int32_t *zs = malloc((size_t)(G * O) * 4); /* stored zero points */
    uint32_t *qw = calloc((size_t)(I / pack * O), 4), *qz = calloc((size_t)(G * O / pack), 4);
    for (int64_t g = 0; g < G; g++)
        for (int64_t o = 0; o < O; o++) {
            float lo = 0, hi = 0;
            for (int64_t k = 0; k < I; k++)
                if (gidx[k] == g) lo = fminf(lo, w[o * I + k]), hi = fmaxf(hi, w[o * I + k]);
            float s = hi > lo ? (hi - lo) / (float)maxq : 1.0f;
            int32_t z = (int32_t)lrintf(-lo / s);
            z = z < off ? off : z > maxq ? maxq : z; /* v1 stores z - 1: keep it >= 0 */
            sc[g * O + o] = qk_fp32_to_fp16(s);
            zs[g * O + o] = z - off;
            qz[g * (O / pack) + o / pack] |= (uint32_t)(z - off) << ((o % pack) * c->bits);
        }
    for (int64_t o = 0; o < O; o++)
        for (int64_t k = 0; k < I; k++) {
            const int64_t g = gidx[k];
            const float s = qk_fp16_to_fp32(sc[g * O + o]);
            int32_t q = (int32_t)lrintf(w[o * I + k] / s) + zs[g * O + o] + off;
            q = q < 0 ? 0 : q > maxq ? maxq : q;
            qw[(k / pack) * O + o] |= (uint32_t)q << ((k % pack) * c->bits);
            w[o * I + k] = s * (float)(q - (zs[g * O + o] + off)); /* the reference rule */
        }
    const size_t bl = strlen(name) - strlen(".weight");
    it[0] = (st_item){.dtype = "I32", .nd = 2, .shape = {I / pack, O}, .data = qw, .nbytes = (size_t)(I / pack * O) * 4};
    it[1] = (st_item){.dtype = "I32", .nd = 2, .shape = {G, O / pack}, .data = qz, .nbytes = (size_t)(G * O / pack) * 4};
    it[2] = (st_item){.dtype = "F16", .nd = 2, .shape = {G, O}, .data = sc, .nbytes = (size_t)(G * O) * 2};
    it[3] = (st_item){.dtype = "I32", .nd = 1, .shape = {I}, .data = gidx, .nbytes = (size_t)I * 4};
    static const char *const sfx[4] = {"qweight", "qzeros", "scales", "g_idx"};
    for (int i = 0; i < 4; i++) snprintf(it[i].name, sizeof it[i].name, "%.*s.%s", (int)bl, name, sfx[i]);
    free(zs), free(perm);
}

/* Writes <root>/gptq/tiny and its float32 twin <root>/twin/tiny (one folder
 * name: the GGUFs' general.name agree) from the tiny model in src. */
static int make_pair(const char *src, const char *gdir, const char *twin, const gptq_case *c) {
    char qj[200];
    snprintf(qj, sizeof qj, "{\"quant_method\":\"gptq\",\"bits\":%d,\"group_size\":%d,\"desc_act\":%s%s}", c->bits,
             c->group, c->act_order ? "true" : "false", c->v2 ? ",\"checkpoint_format\":\"gptq_v2\"" : "");
    st_item *b;
    size_t n;
    if (st_pair_begin(src, gdir, twin, qj, &b, &n)) return -1;
    st_item *a = calloc(4 * n, sizeof *a);
    size_t na = 0;
    qk_rng rng = {0x6774717ull + (uint64_t)c->bits};
    for (size_t i = 0; i < n; i++) {
        if (st_item_is_linear(&b[i])) {
            gptq_layer(b[i].name, b[i].data, b[i].shape[0], b[i].shape[1], c, &rng, a + na);
            na += 4;
        } else
            a[na++] = st_item_dup(&b[i]);
    }
    return st_write_pair(gdir, a, na, twin, b, n);
}

static void make_dirs(const char *tag, char *src, char *g, char *tw, size_t n) {
    char a[1024], b[1024];
    snprintf(src, n, "%s/%s-src", qk_test_tmpdir(), tag);
    snprintf(a, sizeof a, "%s/%s-gptq", qk_test_tmpdir(), tag), mkdir(a, 0755);
    snprintf(b, sizeof b, "%s/%s-twin", qk_test_tmpdir(), tag), mkdir(b, 0755);
    snprintf(g, n, "%s/tiny", a), snprintf(tw, n, "%s/tiny", b);
}

/* Every tensor of the GPTQ conversion a equals the twin b's tensor of that
 * name (type, shape, bytes); with check_order (a float conversion: a
 * quantized one takes llama-quantize's order), a lists the dequantized
 * weights last, as convert_hf_to_gguf.py's dequant_model appends them. */
static void same_tensors_gptq_last(const char *a, const char *b, const char *tag, bool check_order) {
    qk_gguf_file *x = NULL, *y = NULL;
    qk_err err;
    CHECK_MSG(qk_gguf_open(a, &x, &err) == QK_OK, "%s", err.msg);
    CHECK_MSG(qk_gguf_open(b, &y, &err) == QK_OK, "%s", err.msg);
    if (!x || !y) goto done;
    CHECK_EQ_INT(x->meta.n_tensors, y->meta.n_tensors);
    int differ = 0, first_linear = -1, n_linear = 0;
    for (uint64_t i = 0; i < x->meta.n_tensors; i++) {
        const qk_gguf_tensor *s = &x->meta.tensors[i], *t = NULL;
        for (uint64_t j = 0; j < y->meta.n_tensors && !t; j++)
            if (!strcmp(y->meta.tensors[j].name, s->name)) t = &y->meta.tensors[j];
        CHECK_MSG(t != NULL, "%s: %s has no twin", tag, s->name);
        if (!t) continue;
        const bool linear = strstr(s->name, "blk.") && !strstr(s->name, "norm");
        if (linear && first_linear < 0) first_linear = (int)i;
        n_linear += linear;
        CHECK(s->type == t->type && s->nbytes == t->nbytes && !memcmp(s->ne, t->ne, sizeof s->ne));
        if (s->nbytes != t->nbytes) continue;
        uint8_t *p = malloc(s->nbytes), *q = malloc(t->nbytes);
        CHECK(qk_gguf_read_tensor(x, s, 0, p, s->nbytes, &err) == QK_OK);
        CHECK(qk_gguf_read_tensor(y, t, 0, q, t->nbytes, &err) == QK_OK);
        if (memcmp(p, q, s->nbytes)) differ++, fprintf(stderr, "%s: tensor %s differs\n", tag, s->name);
        free(p), free(q);
    }
    CHECK_EQ_INT(differ, 0);
    CHECK_EQ_INT(n_linear, 14);
    if (check_order) CHECK_EQ_INT(first_linear, (int)x->meta.n_tensors - n_linear);
done:
    qk_gguf_close(x), qk_gguf_close(y);
}

static void gptq_run(const gptq_case *c) {
    char src[1024], g[1024], tw[1024];
    make_dirs(c->tag, src, g, tw, sizeof src);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    CHECK(tiny_hf_write(src, &s) == 0);
    CHECK(make_pair(src, g, tw, c) == 0);
    static const char *const types[] = {"f32", "q8_0"};
    for (int k = 0; k < 2; k++) {
        char g1[1200], g2[1200];
        snprintf(g1, sizeof g1, "%s-%s.gguf", g, types[k]);
        snprintf(g2, sizeof g2, "%s-%s.gguf", tw, types[k]);
        qk_err err = {{0}};
        CHECK_MSG(convert_run(g, g1, types[k], 2, &err) == QK_OK, "%s: %s", c->tag, err.msg);
        CHECK_MSG(convert_run(tw, g2, types[k], 2, &err) == QK_OK, "%s: %s", c->tag, err.msg);
        same_tensors_gptq_last(g1, g2, c->tag, k == 0);
        if (k == 0) CHECK_MSG(llama_run_decodes(g1), "%s", llama_run_error()); /* loads and decodes in llama.cpp */
    }
}

static void test_gptq_4bit_act_order(void) { gptq_run(&(gptq_case){"g4", 4, 64, true, false}); }
static void test_gptq_8bit(void) { gptq_run(&(gptq_case){"g8", 8, 128, false, false}); }
static void test_gptq_2bit_v2(void) { gptq_run(&(gptq_case){"g2", 2, 32, true, true}); }

/* Rewrites one tensor's bytes (or its header entry) in a GPTQ folder's
 * safetensors: edits by name through a fresh pair. */
typedef void (*gptq_damage)(st_item *it, size_t n);

static void dmg_gidx_range(st_item *it, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strstr(it[i].name, "layers.1.mlp.up_proj.g_idx")) ((int32_t *)it[i].data)[7] = 1000;
}
static void dmg_scales_shape(st_item *it, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strstr(it[i].name, "layers.0.self_attn.k_proj.scales")) it[i].shape[1] /= 2, it[i].nbytes /= 2;
}
static void dmg_no_gidx(st_item *it, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strstr(it[i].name, "layers.0.mlp.down_proj.g_idx")) snprintf(it[i].name, sizeof it[i].name, "zz.unused");
}

/* A GPTQ folder with one damaged tensor, re-written from a healthy one. */
static void damaged(const char *tag, gptq_damage d, const char *want) {
    char src[1024], g[1024], tw[1024];
    make_dirs(tag, src, g, tw, sizeof src);
    tiny_hf_spec s;
    tiny_hf_default(&s);
    CHECK(tiny_hf_write(src, &s) == 0);
    gptq_case c = {tag, 4, 64, false, false};
    CHECK(make_pair(src, g, tw, &c) == 0);
    /* reload the written tensors, damage, write back */
    qk_hf_checkpoint ck;
    qk_err err;
    CHECK_MSG(qk_hf_open(g, &ck, &err) == QK_OK, "%s", err.msg);
    st_item *it = calloc(ck.n_tensors, sizeof *it);
    for (size_t i = 0; i < ck.n_tensors; i++) {
        const qk_st_tensor *t = ck.tensors[i].t;
        const size_t nb = (size_t)(t->end - t->begin);
        it[i] = (st_item){.dtype = qk_st_dtype_name(t->dtype), .nd = t->n_dims, .data = malloc(nb), .nbytes = nb};
        snprintf(it[i].name, sizeof it[i].name, "%s", t->name);
        for (int k = 0; k < t->n_dims; k++) it[i].shape[k] = t->shape[k];
        CHECK(qk_st_read_raw(ck.files[ck.tensors[i].file], t, 0, nb, it[i].data, &err) == QK_OK);
    }
    const size_t n = ck.n_tensors;
    d(it, n);
    char p[1200];
    snprintf(p, sizeof p, "%s/model.safetensors", g);
    qk_hf_close(&ck); /* dtype names are static strings: still valid */
    CHECK(st_write_file(p, it, n) == 0);
    for (size_t i = 0; i < n; i++) free(it[i].data);
    free(it);
    convert_expect_refusal(g, want);
}

static void test_gptq_refusals(void) {
    damaged("rg", dmg_gidx_range, "g_idx[7] is 1000, expected a group in [0, 4)");
    damaged("rs", dmg_scales_shape, "shapes do not fit 4-bit packing");
    damaged("rn", dmg_no_gidx, "has no g_idx beside it");
    /* methods and settings llama.cpp's converter does not dequantize */
    char src[1024];
    tiny_hf_tmp(src, sizeof src, "rm-src");
    refusal_quant_table("test_gptq", "rm", src);
}

int main(int argc, char **argv) {
    qk_test_init(argc, argv);
    RUN(test_gptq_4bit_act_order);
    RUN(test_gptq_8bit);
    RUN(test_gptq_2bit_v2);
    RUN(test_gptq_refusals);
    return qk_test_summary();
}
