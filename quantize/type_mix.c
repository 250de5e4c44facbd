#include "type_mix.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "ftypes.h"
#include "ggml_types.h"

typedef enum {
    CAT_TOKEN_EMBD,
    CAT_ATTN_Q,
    CAT_ATTN_V,
    CAT_ATTN_K,
    CAT_ATTN_QKV,
    CAT_ATTN_KV_B,
    CAT_ATTN_OUTPUT,
    CAT_FFN_UP,
    CAT_FFN_GATE,
    CAT_FFN_DOWN,
    CAT_OUTPUT,
    CAT_OTHER
} category;

void qk_mix_options_init(qk_mix_options *o) {
    memset(o, 0, sizeof *o);
    o->ftype = QK_FTYPE_Q8_0;
    o->output_tensor_type = QK_MIX_TYPE_UNSET;
    o->token_embedding_type = QK_MIX_TYPE_UNSET;
}

static bool is_token_embd(const char *n) {
    return strcmp(n, "token_embd.weight") == 0 || strcmp(n, "per_layer_token_embd.weight") == 0;
}

/* tensor_get_category: the first substring test that hits decides. */
static category get_category(const char *n) {
    if (strcmp(n, "output.weight") == 0) return CAT_OUTPUT;
    if (is_token_embd(n)) return CAT_TOKEN_EMBD;
    if (strstr(n, "attn_qkv.weight")) return CAT_ATTN_QKV;
    if (strstr(n, "attn_kv_b.weight")) return CAT_ATTN_KV_B;
    if (strstr(n, "attn_v.weight")) return CAT_ATTN_V;
    if (strstr(n, "attn_k.weight")) return CAT_ATTN_K;
    if (strstr(n, "attn_q.weight")) return CAT_ATTN_Q;
    if (strstr(n, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (strstr(n, "ffn_up")) return CAT_FFN_UP;
    if (strstr(n, "ffn_gate")) return CAT_FFN_GATE;
    if (strstr(n, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool cat_is_attn_v(category c) { return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B; }

int qk_mix_layer_of(const char *name, bool *ok) {
    if (ok) *ok = false;
    if (strncmp(name, "blk.", 4) != 0) return -1;
    /* glibc's %d converts with strtol and narrows to int; the "." after the
     * number does not affect the return value of sscanf. */
    const char *p = name + 4;
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) return -1;
    if (ok) *ok = true;
    return (int)(unsigned int)(unsigned long)v; /* wraps like the narrowing store */
}

int qk_mix_name_compare(const char *a, const char *b) {
    int la = qk_mix_layer_of(a, NULL), lb = qk_mix_layer_of(b, NULL);
    if (la != lb) return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

static int n_dims_of(const int64_t ne[4]) {
    for (int i = 3; i >= 1; i--)
        if (ne[i] != 1) return i + 1;
    return 1;
}

/* name.rfind("weight") == name.size() - 6, including its unsigned wrap:
 * a 5-character name compares npos with npos and counts as "ends with weight". */
static bool ends_with_weight_cpp(const char *n) {
    size_t len = strlen(n);
    if (len == 5) return true;
    return len >= 6 && strcmp(n + len - 6, "weight") == 0;
}

bool qk_mix_allows_quantization(const char *n, const int64_t ne[4], bool leave_output_tensor) {
    static const char *const k_never[] = {
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
        "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight",
        "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
        "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
        "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
        "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.",
        "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    };
    if (n_dims_of(ne) < 2) return false;
    if (!ends_with_weight_cpp(n)) return false;
    if (leave_output_tensor && strcmp(n, "output.weight") == 0) return false;
    for (size_t i = 0; i < sizeof k_never / sizeof k_never[0]; i++)
        if (strstr(n, k_never[i])) return false;
    /* LLM_TN(arch)(POS_EMBD / TOKEN_TYPES, "weight") is arch-independent. */
    if (strcmp(n, "position_embd.weight") == 0 || strcmp(n, "token_types.weight") == 0) return false;
    return true;
}

bool qk_mix_is_70b(const qk_mix_model *m) {
    const char *a = m->arch ? m->arch : "";
    uint32_t n_layer = m->n_layer >= m->n_layer_nextn ? m->n_layer - m->n_layer_nextn : 0;
    if (strcmp(a, "llama") == 0) return m->n_expert != 8 && n_layer == 80 && m->n_head != m->n_head_kv;
    if (strcmp(a, "qwen2") == 0 || strcmp(a, "deci") == 0 || strcmp(a, "olmo") == 0) return n_layer == 80;
    if (strcmp(a, "jais2") == 0) return n_layer == 68;
    return false;
}

/* ---- regex translation ---- */

typedef struct { char *p; size_t n, cap; } sbuf;

static bool sb_put(sbuf *b, const char *s) {
    size_t l = strlen(s);
    if (b->n + l + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 64);
        while (cap < b->n + l + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return false;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
    return true;
}

int qk_mix_regex_translate(const char *pat, char **out, qk_err *err) {
    sbuf b = {0};
    bool in_br = false, ok = true;
    size_t br_start = 0;
    *out = NULL;
    for (size_t i = 0; pat[i] && ok; i++) {
        char c = pat[i];
        char one[2] = {c, 0};
        if (!in_br) {
            if (c == '\\') {
                char d = pat[i + 1];
                const char *rep = NULL;
                switch (d) {
                case 'd': rep = "[0-9]"; break;
                case 'D': rep = "[^0-9]"; break;
                case 's': rep = "[[:space:]]"; break;
                case 'S': rep = "[^[:space:]]"; break;
                case 'w': rep = "[[:alnum:]_]"; break;
                case 'W': rep = "[^[:alnum:]_]"; break;
                case 'b': case 'B': case 0:
                    free(b.p);
                    return qk_fail(err, "tensor-type pattern '%s': '\\%c' is not supported (POSIX extended regex)", pat,
                                   d ? d : ' ');
                default: break;
                }
                if (rep) { ok = sb_put(&b, rep); i++; continue; }
                char two[3] = {'\\', d, 0};
                ok = sb_put(&b, two);
                i++;
                continue;
            }
            if (c == '(' && pat[i + 1] == '?') {
                free(b.p);
                return qk_fail(err, "tensor-type pattern '%s': '(?' groups are not supported (POSIX extended regex)", pat);
            }
            if ((c == '*' || c == '+' || c == '?' || c == '}') && pat[i + 1] == '?') {
                free(b.p);
                return qk_fail(err, "tensor-type pattern '%s': lazy quantifier '%c?' is not supported (POSIX extended regex)",
                               pat, c);
            }
            if (c == '[') {
                in_br = true;
                br_start = i + 1;
                if (pat[i + 1] == '^') { ok = sb_put(&b, "[^"); i++; br_start = i + 1; continue; }
            }
            ok = sb_put(&b, one);
        } else {
            if (c == ']' && i != br_start) { in_br = false; ok = sb_put(&b, one); continue; }
            if (c == '\\') {
                char d = pat[i + 1];
                const char *rep = NULL;
                if (d == 'd') rep = "0-9";
                else if (d == 's') rep = "[:space:]";
                else if (d == 'w') rep = "[:alnum:]_";
                else if (d == '\\') rep = "\\";
                else if (d && strchr(".+*?()|{}$/,:=!<>@#%&'\"~`;", d)) { char lit[2] = {d, 0}; ok = sb_put(&b, lit); i++; continue; }
                if (!rep) {
                    free(b.p);
                    return qk_fail(err, "tensor-type pattern '%s': escape '\\%c' inside [...] is not supported (POSIX extended regex)",
                                   pat, d ? d : ' ');
                }
                ok = sb_put(&b, rep);
                i++;
                continue;
            }
            ok = sb_put(&b, one);
        }
    }
    if (ok && !b.p) ok = sb_put(&b, "");
    if (!ok) {
        free(b.p);
        return qk_fail(err, "tensor-type pattern '%s': out of memory", pat);
    }
    *out = b.p;
    return QK_OK;
}

int qk_mix_parse_tensor_type(const char *arg, char **pattern_out, int *type_out, qk_err *err) {
    *pattern_out = NULL;
    const char *sep = strchr(arg, '=');
    if (!sep) return qk_fail(err, "--tensor-type '%s': malformed, expected pattern=type", arg);
    size_t tn = (size_t)(sep - arg);
    if (tn == 0) return qk_fail(err, "--tensor-type '%s': missing tensor name", arg);
    if (sep[1] == 0) return qk_fail(err, "--tensor-type '%s': missing quantization type", arg);
    int t = qk_type_from_name(sep + 1);
    if (t < 0) return qk_fail(err, "--tensor-type '%s': invalid ggml type '%s'", arg, sep + 1);
    char *p = malloc(tn + 1);
    if (!p) return qk_fail(err, "--tensor-type '%s': out of memory", arg);
    for (size_t i = 0; i < tn; i++) p[i] = (char)tolower((unsigned char)arg[i]);
    p[tn] = 0;
    *pattern_out = p;
    *type_out = t;
    return QK_OK;
}

int qk_mix_read_tensor_type_file(const char *path, char **patterns, int *types, size_t cap, size_t *n_out, qk_err *err) {
    *n_out = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return qk_fail(err, "--tensor-type-file '%s': cannot open: %s", path, strerror(errno));
    int rc = QK_OK;
    char word[4096];
    size_t wl = 0;
    for (;;) {
        const int c = fgetc(f);
        /* std::ifstream >> std::string: words split at isspace() */
        if (c != EOF && !isspace(c)) {
            if (wl + 1 >= sizeof word) { rc = qk_fail(err, "--tensor-type-file '%s': entry longer than %zu bytes", path, sizeof word - 1); break; }
            word[wl++] = (char)c;
            continue;
        }
        if (wl) {
            word[wl] = 0;
            wl = 0;
            if (*n_out == cap) { rc = qk_fail(err, "--tensor-type-file '%s': more than %zu entries", path, cap); break; }
            if (qk_mix_parse_tensor_type(word, &patterns[*n_out], &types[*n_out], err) != QK_OK) {
                qk_fail_prefix(err, "--tensor-type-file '%s'", path);
                rc = QK_FAIL;
                break;
            }
            ++*n_out;
        }
        if (c == EOF) break;
    }
    if (rc == QK_OK && ferror(f)) rc = qk_fail(err, "--tensor-type-file '%s': read error", path);
    fclose(f);
    return rc;
}

/* ---- the mix ---- */

typedef struct {
    const qk_mix_model *m;
    const qk_mix_options *o;
    regex_t *re;
    size_t n_re;
    int n_attention_wv, i_attention_wv;
    int n_ffn_down, n_ffn_gate, n_ffn_up, i_ffn_down, i_ffn_gate, i_ffn_up;
    bool has_tied_embeddings;
    bool falcon, bailingmoe3, is70b;
    uint32_t n_gqa;
    int n_fallback;
    int last_wanted; /* the type the last shape fallback replaced */
} state;

static int blck(int t) {
    const qk_type_info *ti = qk_type_get((uint32_t)t);
    return ti ? (int)ti->blck_size : 0;
}

static bool is_quantized(int t) {
    const qk_type_info *ti = qk_type_get((uint32_t)t);
    return ti && ti->is_quantized;
}

static const char *tname(int t) {
    const qk_type_info *ti = qk_type_get((uint32_t)t);
    return ti ? ti->name : "?";
}

static int fallback(state *s, const qk_mix_tensor *t, int target, int *out, bool *used, qk_err *err) {
    int64_t ncols = t->ne[0];
    int qk = blck(target);
    *out = target;
    *used = false;
    if (qk <= 0) return qk_fail(err, "tensor '%s': invalid target type %d", t->name, target);
    if (ncols % qk == 0) return QK_OK;
    s->n_fallback++;
    *used = true;
    s->last_wanted = target;
    int r;
    switch (target) {
    case QK_TYPE_IQ1_S: case QK_TYPE_IQ1_M: case QK_TYPE_IQ2_XXS: case QK_TYPE_IQ2_XS: case QK_TYPE_IQ2_S:
    case QK_TYPE_IQ3_XXS: case QK_TYPE_IQ3_S: case QK_TYPE_IQ4_XS: r = QK_TYPE_IQ4_NL; break;
    case QK_TYPE_Q2_0: case QK_TYPE_Q2_K: case QK_TYPE_Q3_K: case QK_TYPE_TQ1_0: case QK_TYPE_TQ2_0: r = QK_TYPE_Q4_0; break;
    case QK_TYPE_Q4_K: r = QK_TYPE_Q5_0; break;
    case QK_TYPE_Q5_K: r = QK_TYPE_Q5_1; break;
    case QK_TYPE_Q6_K: r = QK_TYPE_Q8_0; break;
    default:
        if (qk <= 32) { r = target; break; }
        return qk_fail(err, "tensor '%s': row length %lld is not a multiple of %d and no fallback is defined for type %s",
                       t->name, (long long)ncols, qk, tname(target));
    }
    if (ncols % blck(r) != 0) r = QK_TYPE_F16;
    *out = r;
    return QK_OK;
}

static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* layer_info: the tensor's own layer for MoE models, else the running counter. */
static int layer_info(const state *s, int counter, int n_layer, const char *name, int *i_layer, qk_err *err) {
    *i_layer = counter;
    uint32_t ne = s->m->n_expert;
    if (ne > 1) {
        bool ok;
        int l = qk_mix_layer_of(name, &ok);
        if (!ok) return qk_fail(err, "tensor '%s': failed to determine its layer (expected a 'blk.N.' prefix in a MoE model)", name);
        if (l < 0 || l >= n_layer)
            return qk_fail(err, "tensor '%s': bad layer %d, expected 0..%d", name, l, n_layer - 1);
        *i_layer = l;
    }
    return QK_OK;
}

static int get_type_impl(state *s, int nt, const qk_mix_tensor *t, category cat, int *out, qk_err *err) {
    const int ft = s->o->ftype;
    const uint32_t n_expert = s->m->n_expert;
    const bool falcon = s->falcon;
    const char *name = t->name;

    if (cat == CAT_OUTPUT || (s->has_tied_embeddings && cat == CAT_TOKEN_EMBD)) {
        if (s->o->output_tensor_type != QK_MIX_TYPE_UNSET) {
            nt = s->o->output_tensor_type;
        } else {
            int64_t nx = t->ne[0];
            int qk = blck(nt);
            if (ft == QK_FTYPE_MXFP4_MOE) nt = QK_TYPE_Q8_0;
            else if (falcon || nx % qk != 0) nt = QK_TYPE_Q8_0;
            else if (ft == QK_FTYPE_IQ2_XXS || ft == QK_FTYPE_IQ2_XS || ft == QK_FTYPE_IQ3_XXS || ft == QK_FTYPE_IQ1_S ||
                     ft == QK_FTYPE_IQ2_S || ft == QK_FTYPE_IQ2_M || ft == QK_FTYPE_IQ1_M)
                nt = QK_TYPE_Q5_K;
            else if (nt != QK_TYPE_Q8_0) nt = QK_TYPE_Q6_K;
        }
    } else if (ft == QK_FTYPE_MXFP4_MOE) {
        bool bm3_expert = s->bailingmoe3 && (cat == CAT_FFN_UP || cat == CAT_FFN_GATE || cat == CAT_FFN_DOWN);
        nt = (t->ne[2] > 1 && (!s->bailingmoe3 || bm3_expert)) ? QK_TYPE_MXFP4 : QK_TYPE_Q8_0;
    } else if (cat == CAT_TOKEN_EMBD) {
        if (s->o->token_embedding_type != QK_MIX_TYPE_UNSET) nt = s->o->token_embedding_type;
        else if (ft == QK_FTYPE_IQ2_XXS || ft == QK_FTYPE_IQ2_XS || ft == QK_FTYPE_IQ1_S || ft == QK_FTYPE_IQ1_M) nt = QK_TYPE_Q2_K;
        else if (ft == QK_FTYPE_IQ2_S || ft == QK_FTYPE_IQ2_M) nt = QK_TYPE_IQ3_S;
        else if (ft == QK_FTYPE_IQ3_XXS) nt = QK_TYPE_IQ3_S;
        else if (ft == QK_FTYPE_TQ1_0 || ft == QK_FTYPE_TQ2_0 || ft == QK_FTYPE_Q2_0) nt = QK_TYPE_Q4_K;
    } else if (ft == QK_FTYPE_IQ2_XXS || ft == QK_FTYPE_IQ2_XS || ft == QK_FTYPE_IQ1_S || ft == QK_FTYPE_IQ2_S ||
               ft == QK_FTYPE_IQ2_M || ft == QK_FTYPE_IQ1_M) {
        bool s_or_m = ft == QK_FTYPE_IQ2_S || ft == QK_FTYPE_IQ2_M;
        if (cat_is_attn_v(cat)) {
            if (s->n_gqa >= 4 || n_expert >= 4) nt = QK_TYPE_Q4_K;
            else nt = s_or_m ? QK_TYPE_IQ3_S : QK_TYPE_Q2_K;
            ++s->i_attention_wv;
        } else if (n_expert == 8 && cat == CAT_ATTN_K) {
            nt = QK_TYPE_Q4_K;
        } else if (cat == CAT_FFN_DOWN) {
            if (s->i_ffn_down < s->n_ffn_down / 8) nt = s_or_m ? QK_TYPE_IQ3_S : QK_TYPE_Q2_K;
            ++s->i_ffn_down;
        } else if (cat == CAT_ATTN_OUTPUT) {
            if (n_expert == 8) nt = QK_TYPE_Q5_K;
            else if (ft == QK_FTYPE_IQ1_S || ft == QK_FTYPE_IQ1_M) nt = QK_TYPE_IQ2_XXS;
            else if (s_or_m) nt = QK_TYPE_IQ3_S;
        }
    } else if (cat_is_attn_v(cat)) {
        const uint32_t gqa = s->n_gqa;
        if (ft == QK_FTYPE_Q2_K) nt = gqa >= 4 ? QK_TYPE_Q4_K : QK_TYPE_Q3_K;
        else if (ft == QK_FTYPE_Q2_K_S && gqa >= 4) nt = QK_TYPE_Q4_K;
        else if (ft == QK_FTYPE_IQ3_XXS) nt = gqa >= 4 ? QK_TYPE_Q4_K : !s->o->has_imatrix ? QK_TYPE_IQ3_S : QK_TYPE_IQ3_XXS;
        else if ((ft == QK_FTYPE_IQ3_XS || ft == QK_FTYPE_IQ3_S) && gqa >= 4) nt = QK_TYPE_Q4_K;
        else if (ft == QK_FTYPE_IQ3_M) nt = QK_TYPE_Q4_K;
        else if (ft == QK_FTYPE_Q3_K_M) nt = s->i_attention_wv < 2 ? QK_TYPE_Q5_K : QK_TYPE_Q4_K;
        else if (ft == QK_FTYPE_Q3_K_L) nt = QK_TYPE_Q5_K;
        else if ((ft == QK_FTYPE_IQ4_NL || ft == QK_FTYPE_IQ4_XS) && gqa >= 4) nt = QK_TYPE_Q5_K;
        else if ((ft == QK_FTYPE_Q4_K_M || ft == QK_FTYPE_Q5_K_M) && use_more_bits(s->i_attention_wv, s->n_attention_wv))
            nt = QK_TYPE_Q6_K;
        else if (ft == QK_FTYPE_Q4_K_S && s->i_attention_wv < 4) nt = QK_TYPE_Q5_K;
        if (s->is70b && (nt == QK_TYPE_Q3_K || nt == QK_TYPE_Q4_K)) nt = QK_TYPE_Q5_K;
        if (n_expert == 8) nt = QK_TYPE_Q8_0;
        ++s->i_attention_wv;
    } else if (cat == CAT_ATTN_K) {
        if (n_expert == 8) nt = QK_TYPE_Q8_0;
        else if (ft == QK_FTYPE_IQ3_XS) nt = QK_TYPE_IQ3_XXS;
        else if (ft == QK_FTYPE_IQ3_XXS) nt = QK_TYPE_IQ2_S;
    } else if (cat == CAT_ATTN_Q) {
        if (ft == QK_FTYPE_IQ3_XS) nt = QK_TYPE_IQ3_XXS;
        else if (ft == QK_FTYPE_IQ3_XXS) nt = QK_TYPE_IQ2_S;
    } else if (cat == CAT_FFN_DOWN) {
        int il, nl = s->n_ffn_down;
        if (layer_info(s, s->i_ffn_down, nl, name, &il, err) != QK_OK) return QK_FAIL;
        if (ft == QK_FTYPE_Q2_K) nt = QK_TYPE_Q3_K;
        else if (ft == QK_FTYPE_Q2_K_S) { if (il < nl / 8) nt = QK_TYPE_Q4_K; }
        else if (ft == QK_FTYPE_IQ3_XXS && !s->o->has_imatrix) nt = il < nl / 8 ? QK_TYPE_Q4_K : QK_TYPE_Q3_K;
        else if (ft == QK_FTYPE_Q3_K_M)
            nt = il < nl / 16 ? QK_TYPE_Q5_K : (!falcon || use_more_bits(il, nl)) ? QK_TYPE_Q4_K : QK_TYPE_Q3_K;
        else if (ft == QK_FTYPE_IQ3_M && (il < nl / 8 || (n_expert == 8 && use_more_bits(il, nl)))) nt = QK_TYPE_Q4_K;
        else if (ft == QK_FTYPE_Q3_K_L) nt = falcon ? QK_TYPE_Q4_K : QK_TYPE_Q5_K;
        else if (ft == QK_FTYPE_Q4_K_M) {
            if (falcon) nt = il < nl / 16 ? QK_TYPE_Q6_K : use_more_bits(il, nl) ? QK_TYPE_Q5_K : QK_TYPE_Q4_K;
            else if (use_more_bits(il, nl)) nt = QK_TYPE_Q6_K;
        } else if (il < nl / 8 && (ft == QK_FTYPE_IQ4_NL || ft == QK_FTYPE_IQ4_XS) && !s->o->has_imatrix) nt = QK_TYPE_Q5_K;
        else if (ft == QK_FTYPE_Q5_K_M && use_more_bits(il, nl)) nt = QK_TYPE_Q6_K;
        else if (ft == QK_FTYPE_Q4_K_S && !falcon && il < nl / 8) nt = QK_TYPE_Q5_K;
        else if ((ft == QK_FTYPE_Q4_0 || ft == QK_FTYPE_Q5_0) && s->o->has_imatrix && il < nl / 8)
            nt = ft == QK_FTYPE_Q4_0 ? QK_TYPE_Q4_1 : QK_TYPE_Q5_1;
        ++s->i_ffn_down;
    } else if (cat == CAT_ATTN_OUTPUT) {
        if (!falcon) {
            if (n_expert == 8) {
                if (ft == QK_FTYPE_Q2_K || ft == QK_FTYPE_IQ3_XS || ft == QK_FTYPE_IQ3_XXS || ft == QK_FTYPE_Q3_K_S ||
                    ft == QK_FTYPE_Q3_K_M || ft == QK_FTYPE_IQ4_NL || ft == QK_FTYPE_Q4_K_S || ft == QK_FTYPE_Q4_K_M ||
                    ft == QK_FTYPE_IQ3_S || ft == QK_FTYPE_IQ3_M || ft == QK_FTYPE_IQ4_XS)
                    nt = QK_TYPE_Q5_K;
            } else {
                if (ft == QK_FTYPE_Q2_K) nt = QK_TYPE_Q3_K;
                else if (ft == QK_FTYPE_IQ3_XXS) nt = QK_TYPE_IQ3_S;
                else if (ft == QK_FTYPE_Q3_K_M) nt = QK_TYPE_Q4_K;
                else if (ft == QK_FTYPE_Q3_K_L) nt = QK_TYPE_Q5_K;
                else if (ft == QK_FTYPE_IQ3_M) nt = QK_TYPE_Q4_K;
            }
        } else if (ft == QK_FTYPE_Q3_K_L) {
            nt = QK_TYPE_Q4_K;
        }
    } else if (cat == CAT_ATTN_QKV) {
        /* Unreachable (attn_qkv is an attn_v category above), kept as in llama.cpp. */
        if (ft == QK_FTYPE_Q3_K_M || ft == QK_FTYPE_Q3_K_L || ft == QK_FTYPE_IQ3_M) nt = QK_TYPE_Q4_K;
        else if (ft == QK_FTYPE_Q4_K_M) nt = QK_TYPE_Q5_K;
        else if (ft == QK_FTYPE_Q5_K_M) nt = QK_TYPE_Q6_K;
    } else if (cat == CAT_FFN_GATE || cat == CAT_FFN_UP) {
        int *ctr = cat == CAT_FFN_GATE ? &s->i_ffn_gate : &s->i_ffn_up;
        int nl = cat == CAT_FFN_GATE ? s->n_ffn_gate : s->n_ffn_up;
        int il;
        if (layer_info(s, *ctr, nl, name, &il, err) != QK_OK) return QK_FAIL;
        if (ft == QK_FTYPE_IQ3_XS && il >= nl / 8 && il < 7 * nl / 8) nt = QK_TYPE_IQ3_XXS;
        ++*ctr;
    }
    *out = nt;
    return QK_OK;
}

static bool pattern_match(const state *s, const char *name, int *type) {
    for (size_t i = 0; i < s->n_re; i++)
        if (regexec(&s->re[i], name, 0, NULL, 0) == 0) {
            if (type) *type = s->o->overrides[i].type;
            return true;
        }
    return false;
}

/* llama_tensor_get_type for a tensor that allows quantization. */
static int get_type(state *s, const qk_mix_tensor *t, category cat, int default_type, int *out, bool *fb, qk_err *err) {
    const qk_mix_options *o = s->o;
    *fb = false;
    if (o->token_embedding_type != QK_MIX_TYPE_UNSET && cat == CAT_TOKEN_EMBD) {
        /* per_layer_token_embd can be named by a --tensor-type pattern instead. */
        bool named = strcmp(t->name, "per_layer_token_embd.weight") == 0 && pattern_match(s, t->name, NULL);
        if (!named) { *out = o->token_embedding_type; return QK_OK; }
    }
    if (o->output_tensor_type != QK_MIX_TYPE_UNSET && cat == CAT_OUTPUT) {
        *out = o->output_tensor_type;
        return QK_OK;
    }
    int nt = default_type;
    if (is_quantized(default_type)) {
        int mt;
        bool manual = pattern_match(s, t->name, &mt);
        if (manual) nt = mt;
        if (!manual && !o->pure)
            if (get_type_impl(s, nt, t, cat, &nt, err) != QK_OK) return QK_FAIL;
        if (fallback(s, t, nt, &nt, fb, err) != QK_OK) return QK_FAIL;
    }
    *out = nt;
    return QK_OK;
}

static bool requires_imatrix(const char *name, int type, int ftype) {
    if (is_token_embd(name) || strcmp(name, "output.weight") == 0) return false;
    switch (type) {
    case QK_TYPE_IQ3_XXS: case QK_TYPE_IQ2_XXS: case QK_TYPE_IQ2_XS: case QK_TYPE_IQ2_S: case QK_TYPE_IQ1_M:
    case QK_TYPE_IQ1_S: return true;
    case QK_TYPE_Q2_K: return ftype == QK_FTYPE_Q2_K_S;
    default: return false;
    }
}

/* The bulk type, or another type of the mix (IQ3_XS puts attn_q and the
 * middle layers' ffn_gate/ffn_up in IQ3_XXS), on a layer tensor. */
bool qk_mix_ftype_requires_imatrix(int ftype) {
    const qk_ftype_info *fi = qk_ftype_by_id(ftype);
    if (!fi) return false;
    bool req = fi->default_type >= 0 && requires_imatrix("blk.0.attn_q.weight", fi->default_type, ftype);
    for (int i = 0; i < 2; i++) req |= fi->uses[i] > 0 && requires_imatrix("blk.0.attn_q.weight", fi->uses[i], ftype);
    return req;
}

typedef struct { int layer; const char *name; size_t idx; } sort_key;

/* keep_split: llama_model_quantize sorts by (split index, file offset) */
typedef struct { uint32_t shard; uint64_t offset; size_t idx; } shard_key;

static int cmp_shard_offset(const void *a, const void *b) {
    const shard_key *x = a, *y = b;
    if (x->shard != y->shard) return x->shard < y->shard ? -1 : 1;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_keys(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return strcmp(x->name, y->name);
}

void qk_mix_plan_free(qk_mix_plan *p) {
    if (!p) return;
    free(p->entries);
    free(p->order);
    memset(p, 0, sizeof *p);
}

static bool valid_type(int t) { return t >= 0 && qk_type_get((uint32_t)t) != NULL; }

int qk_mix_plan_compute(const qk_mix_model *m, const qk_mix_options *o, qk_mix_plan *out, qk_err *err) {
    memset(out, 0, sizeof *out);
    const qk_ftype_info *fi = qk_ftype_by_id(o->ftype);
    int default_type = qk_ftype_default_type(o->ftype);
    if (!fi || default_type < 0) return qk_fail(err, "invalid output file type %d", o->ftype);
    if (o->output_tensor_type != QK_MIX_TYPE_UNSET && !valid_type(o->output_tensor_type))
        return qk_fail(err, "output tensor type %d is not a ggml type", o->output_tensor_type);
    if (o->token_embedding_type != QK_MIX_TYPE_UNSET && !valid_type(o->token_embedding_type))
        return qk_fail(err, "token embedding type %d is not a ggml type", o->token_embedding_type);
    if (m->n_tensors && !m->tensors) return qk_fail(err, "model has %zu tensors but no tensor list", m->n_tensors);
    if (m->n_layer == 0) return qk_fail(err, "model: block_count is 0, expected at least 1");
    if (m->n_layer > 0x7fffffffu) return qk_fail(err, "model: block_count %u is too large", m->n_layer);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const qk_mix_tensor *t = &m->tensors[i];
        if (!t->name) return qk_fail(err, "tensor %zu has no name", i);
        if (!valid_type(t->type)) return qk_fail(err, "tensor '%s': type %d is not a ggml type", t->name, t->type);
        for (int d = 0; d < 4; d++)
            if (t->ne[d] < 1) return qk_fail(err, "tensor '%s': dimension %d is %lld, expected >= 1", t->name, d, (long long)t->ne[d]);
    }

    state s;
    memset(&s, 0, sizeof s);
    s.m = m;
    s.o = o;
    s.falcon = m->arch && strcmp(m->arch, "falcon") == 0;
    s.bailingmoe3 = m->arch && strcmp(m->arch, "bailingmoe3") == 0;
    s.is70b = qk_mix_is_70b(m);
    s.n_gqa = m->n_head_kv == 0 ? 0 : m->n_head / m->n_head_kv;
    s.has_tied_embeddings = true;
    s.n_ffn_down = s.n_ffn_gate = s.n_ffn_up = (int)m->n_layer;

    sort_key *keys = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *keys);
    qk_mix_entry *ent = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *ent);
    size_t *order = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *order);
    s.re = calloc(o->n_overrides ? o->n_overrides : 1, sizeof *s.re);
    int rc = QK_FAIL;
    if (!keys || !ent || !order || !s.re) { qk_fail(err, "out of memory planning %zu tensors", m->n_tensors); goto done; }

    for (size_t i = 0; i < o->n_overrides; i++) {
        const qk_mix_override *ov = &o->overrides[i];
        if (!ov->pattern) { qk_fail(err, "tensor-type override %zu has no pattern", i); goto done; }
        if (!valid_type(ov->type)) { qk_fail(err, "tensor-type '%s': type %d is not a ggml type", ov->pattern, ov->type); goto done; }
        char *tr;
        if (qk_mix_regex_translate(ov->pattern, &tr, err) != QK_OK) goto done;
        int e = regcomp(&s.re[i], tr, REG_EXTENDED | REG_NOSUB);
        free(tr);
        if (e != 0) {
            char buf[128];
            regerror(e, NULL, buf, sizeof buf);
            qk_fail(err, "tensor-type pattern '%s': invalid regex: %s", ov->pattern, buf);
            goto done;
        }
        s.n_re = i + 1;
    }

    for (size_t i = 0; i < m->n_tensors; i++) {
        keys[i].layer = qk_mix_layer_of(m->tensors[i].name, NULL);
        keys[i].name = m->tensors[i].name;
        keys[i].idx = i;
    }
    qsort(keys, m->n_tensors, sizeof *keys, cmp_keys);
    for (size_t k = 0; k + 1 < m->n_tensors; k++)
        if (strcmp(keys[k].name, keys[k + 1].name) == 0) { qk_fail(err, "tensor '%s' appears twice", keys[k].name); goto done; }
    for (size_t k = 0; k < m->n_tensors; k++) order[k] = keys[k].idx;
    if (o->keep_split) {
        shard_key *sk = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *sk);
        if (!sk) { qk_fail(err, "out of memory planning %zu tensors", m->n_tensors); goto done; }
        for (size_t i = 0; i < m->n_tensors; i++) sk[i] = (shard_key){m->tensors[i].shard, m->tensors[i].offset, i};
        qsort(sk, m->n_tensors, sizeof *sk, cmp_shard_offset);
        for (size_t k = 0; k < m->n_tensors; k++) order[k] = sk[k].idx;
        free(sk);
    }
    for (size_t k = 0; k < m->n_tensors; k++) {
        category c = get_category(keys[k].name);
        if (cat_is_attn_v(c)) s.n_attention_wv++;
        if (c == CAT_OUTPUT) s.has_tied_embeddings = false;
    }

    /* The preliminary loop of llama_model_quantize_impl, in output order
     * (the mixture counters depend on it; keep_split changes it). */
    for (size_t k = 0; k < m->n_tensors; k++) {
        const qk_mix_tensor *t = &m->tensors[order[k]];
        qk_mix_entry *e = &ent[order[k]];
        e->allows_quantization = qk_mix_allows_quantization(t->name, t->ne, o->leave_output_tensor);
        e->type = t->type;
        if (e->allows_quantization &&
            get_type(&s, t, get_category(t->name), default_type, &e->type, &e->fallback, err) != QK_OK)
            goto done;
        e->wanted_type = e->fallback ? s.last_wanted : e->type;
        e->requires_imatrix = requires_imatrix(t->name, e->type, o->ftype);
        if (!o->has_imatrix && e->allows_quantization && e->requires_imatrix) {
            /* one line: the type, and where an importance matrix comes from */
            qk_fail(err,
                    "%s needs an importance matrix (tensor '%s' gets type %s): pass --imatrix FILE, using an imatrix "
                    "file published beside the model (e.g. <model>.imatrix or imatrix.gguf) or one made with "
                    "llama-imatrix",
                    fi->name, t->name, tname(e->type));
            goto done;
        }
    }
    /* The main loop's checks. */
    for (size_t k = 0; k < m->n_tensors; k++) {
        const qk_mix_tensor *t = &m->tensors[order[k]];
        qk_mix_entry *e = &ent[order[k]];
        e->convert = e->type != t->type;
        /* --output-tensor-type / --token-embedding-type skip the shape fallback
         * in llama.cpp, which then writes past its buffers (heap corruption);
         * refuse instead. */
        if (e->convert && t->ne[0] % blck(e->type) != 0) {
            qk_fail(err, "tensor '%s': row length %lld is not a multiple of the %s block size %d", t->name,
                    (long long)t->ne[0], tname(e->type), blck(e->type));
            goto done;
        }
        if (e->convert && is_quantized(t->type) && !o->allow_requantize) {
            qk_fail(err, "tensor '%s': requantizing from type %s is disabled (use --allow-requantize)", t->name, tname(t->type));
            goto done;
        }
    }
    out->n = m->n_tensors;
    out->entries = ent;
    out->order = order;
    out->n_fallback = s.n_fallback;
    ent = NULL;
    order = NULL;
    rc = QK_OK;
done:
    for (size_t i = 0; i < s.n_re; i++) regfree(&s.re[i]);
    free(s.re);
    free(keys);
    free(ent);
    free(order);
    return rc;
}

int qk_mix_check_supported(const qk_mix_model *m, const qk_mix_plan *p, qk_err *err) {
    for (size_t i = 0; i < p->n && i < m->n_tensors; i++) {
        const qk_mix_entry *e = &p->entries[i];
        if (!e->convert) continue;
        const qk_type_info *ti = qk_type_get((uint32_t)e->type);
        if (!ti || !ti->can_quantize)
            return qk_fail(err, "tensor '%s': target type %s is not supported by quantkit", m->tensors[i].name,
                           ti ? ti->name : "?");
        const qk_type_info *si = qk_type_get((uint32_t)m->tensors[i].type);
        if (!si || !si->can_quantize)
            return qk_fail(err, "tensor '%s': cannot read input type %s (quantkit has no dequantizer for it)",
                           m->tensors[i].name, si ? si->name : "?");
    }
    return QK_OK;
}
