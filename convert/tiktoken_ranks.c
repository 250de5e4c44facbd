#include "tiktoken_ranks.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"

#define TT_MAX_FILE ((size_t)64 << 20)
#define TT_MAX_TOKEN 1024 /* bytes of one token (Llama 3's longest is 128) */

/* ---- the token bytes, and a hash map from bytes to rank ---- */
typedef struct {
    unsigned char *arena;
    size_t *off, *len; /* by rank */
    size_t *order;     /* the ranks in file order */
    size_t n;
    int64_t *slots;    /* rank + 1, 0 = empty */
    size_t nslots;
} ranks;

static uint64_t fnv(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* the rank of bytes p[0..n), or -1 */
static int64_t rank_of(const ranks *r, const unsigned char *p, size_t n) {
    for (size_t i = (size_t)fnv(p, n) & (r->nslots - 1);; i = (i + 1) & (r->nslots - 1)) {
        const int64_t s = r->slots[i];
        if (!s) return -1;
        const size_t k = (size_t)(s - 1);
        if (r->len[k] == n && !memcmp(r->arena + r->off[k], p, n)) return (int64_t)k;
    }
}

static int b64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool qk_tiktoken_sniff(const char *b, size_t len) {
    size_t i = 0;
    while (i < len && (b64_value((unsigned char)b[i]) >= 0 || b[i] == '=')) i++;
    if (!i || i >= len || b[i] != ' ') return false;
    size_t nd = 0;
    for (i++; i < len && b[i] >= '0' && b[i] <= '9'; i++) nd++;
    return nd && (i == len || b[i] == '\n' || b[i] == '\r');
}

/* standard base64 with padding; decoded bytes to out (room for 3/4 of n); -1 if malformed */
static long b64_decode(const char *s, size_t n, unsigned char *out) {
    if (n == 0 || n % 4) return -1;
    long k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (s[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0, pad++;
            } else {
                if (pad) return -1; /* data after '=' */
                if ((v[j] = b64_value((unsigned char)s[i + j])) < 0) return -1;
            }
        }
        const uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[k++] = (unsigned char)(w >> 16);
        if (pad < 2) out[k++] = (unsigned char)(w >> 8);
        if (pad < 1) out[k++] = (unsigned char)w;
    }
    return k;
}

/* GPT-2's bytes_to_unicode: printable bytes map to themselves, the other 68
 * to U+0100 on, in byte order; as UTF-8 (at most 2 bytes) */
static size_t byte_text(unsigned char b, char *out) {
    unsigned cp;
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE)) {
        cp = b;
    } else {
        unsigned k = 0; /* index of b among the non-printable bytes */
        for (unsigned c = 0; c < b; c++)
            k += !((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE));
        cp = 256 + k;
    }
    if (cp < 0x80) return out[0] = (char)cp, 1;
    out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

static char *text_of(const unsigned char *p, size_t n) {
    char *s = malloc(2 * n + 1);
    if (!s) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += byte_text(p[i], s + k);
    s[k] = 0;
    return s;
}

void qk_tiktoken_free(qk_tiktoken *t) {
    for (size_t i = 0; t->tokens && i < t->n_tokens; i++) free(t->tokens[i]);
    for (size_t i = 0; t->merges && i < t->n_merges; i++) free(t->merges[i]);
    free(t->tokens), free(t->merges);
    memset(t, 0, sizeof *t);
}

typedef struct {
    int64_t left, right; /* ranks */
} split;

static int cmp_split(const void *a, const void *b) {
    const split *x = a, *y = b;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return (x->right > y->right) - (x->right < y->right);
}

/* appends the merge "tokens[a] tokens[b]" (growing *cap) */
static int add_merge(qk_tiktoken *out, size_t *cap, int64_t a, int64_t b) {
    if (out->n_merges == *cap) {
        const size_t nc = *cap ? *cap * 2 : 4096;
        char **m = realloc(out->merges, nc * sizeof *m);
        if (!m) return QK_FAIL;
        out->merges = m, *cap = nc;
    }
    const char *x = out->tokens[a], *y = out->tokens[b];
    const size_t la = strlen(x), lb = strlen(y);
    char *m = malloc(la + lb + 2);
    if (!m) return QK_FAIL;
    memcpy(m, x, la), m[la] = ' ', memcpy(m + la + 1, y, lb + 1);
    out->merges[out->n_merges++] = m;
    return QK_OK;
}

/* TikTokenConverter: per token in rank order, every split into two tokens, by (rank left, rank right) */
static int merges_hf(const ranks *r, qk_tiktoken *out) {
    size_t cap = 0;
    split local[TT_MAX_TOKEN];
    for (size_t k = 0; k < r->n; k++) {
        const unsigned char *p = r->arena + r->off[k];
        const size_t n = r->len[k];
        size_t nl = 0;
        for (size_t i = 1; i < n; i++) {
            const int64_t a = rank_of(r, p, i), b = a >= 0 ? rank_of(r, p + i, n - i) : -1;
            if (b >= 0) local[nl++] = (split){a, b};
        }
        qsort(local, nl, sizeof *local, cmp_split);
        for (size_t j = 0; j < nl; j++)
            if (add_merge(out, &cap, local[j].left, local[j].right)) return QK_FAIL;
    }
    return QK_OK;
}

/* QwenModel.bpe: per token in file order, its bytes merged as BPE would with only the ranks below its own
 * (the lowest-ranked adjacent pair first, the leftmost on a tie); the two parts it stops at are its merge,
 * and a token that does not end in two parts has none */
static int merges_qwen(const ranks *r, qk_tiktoken *out) {
    size_t cap = 0, cut[TT_MAX_TOKEN + 1];
    for (size_t o = 0; o < r->n; o++) {
        const size_t k = r->order[o];
        const unsigned char *p = r->arena + r->off[k];
        const size_t n = r->len[k];
        if (n < 2) continue;
        size_t np = n; /* part i is p[cut[i] .. cut[i + 1]) */
        for (size_t i = 0; i <= n; i++) cut[i] = i;
        for (;;) {
            int64_t best = -1, best_rank = -1;
            for (size_t i = 0; i + 1 < np; i++) {
                const int64_t rk = rank_of(r, p + cut[i], cut[i + 2] - cut[i]);
                if (rk >= 0 && (best < 0 || rk < best_rank)) best = (int64_t)i, best_rank = rk;
            }
            if (best < 0 || best_rank >= (int64_t)k) break;
            memmove(cut + best + 1, cut + best + 2, (np - (size_t)best - 1) * sizeof *cut);
            np--;
        }
        if (np == 2 && add_merge(out, &cap, rank_of(r, p, cut[1]), rank_of(r, p + cut[1], n - cut[1]))) return QK_FAIL;
    }
    return QK_OK;
}

int qk_tiktoken_parse(const char *buf, size_t len, const char *name, qk_tiktoken_merge_rule rule, qk_tiktoken *out,
                      qk_err *err) {
    memset(out, 0, sizeof *out);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    if (len && buf[len - 1] != '\n') lines++;
    ranks r = {0};
    r.arena = malloc(len ? len : 1); /* decoded bytes are shorter than their base64 */
    r.off = calloc(lines ? lines : 1, sizeof *r.off);
    r.len = calloc(lines ? lines : 1, sizeof *r.len);
    r.order = calloc(lines ? lines : 1, sizeof *r.order);
    r.nslots = 16;
    while (r.nslots < 2 * lines + 16) r.nslots <<= 1;
    r.slots = calloc(r.nslots, sizeof *r.slots);
    int rc = QK_OK;
    if (!r.arena || !r.off || !r.len || !r.order || !r.slots) rc = qk_fail(err, "%s: out of memory", name);
    bool *seen = rc == QK_OK ? calloc(lines ? lines : 1, sizeof *seen) : NULL;
    if (rc == QK_OK && !seen) rc = qk_fail(err, "%s: out of memory", name);
    size_t used = 0, line = 0;
    for (size_t pos = 0; rc == QK_OK && pos < len; line++) {
        const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - s) : len - pos;
        pos += ll + (nl != NULL);
        if (ll && s[ll - 1] == '\r') ll--;
        if (ll == 0) {
            if (pos < len) rc = qk_fail(err, "%s: line %zu is empty (expected \"<base64 token> <rank>\")", name, line + 1);
            continue;
        }
        const char *sp = memchr(s, ' ', ll);
        if (!sp) {
            rc = qk_fail(err, "%s: line %zu has no space (expected \"<base64 token> <rank>\")", name, line + 1);
            break;
        }
        const size_t bl = (size_t)(sp - s);
        uint64_t rank = 0;
        size_t nd = 0;
        for (const char *d = sp + 1; d < s + ll; d++, nd++) {
            if (*d < '0' || *d > '9' || nd >= 12) { nd = 0; break; }
            rank = rank * 10 + (uint64_t)(*d - '0');
        }
        if (!nd) {
            rc = qk_fail(err, "%s: line %zu: the rank is not a decimal number", name, line + 1);
            break;
        }
        if (bl > TT_MAX_TOKEN / 3 * 4 + 4) {
            rc = qk_fail(err, "%s: line %zu: a token of more than %d bytes", name, line + 1, TT_MAX_TOKEN);
            break;
        }
        const long n = b64_decode(s, bl, r.arena + used);
        if (n <= 0) {
            rc = qk_fail(err, "%s: line %zu: '%.*s' is not base64", name, line + 1, (int)(bl < 40 ? bl : 40), s);
            break;
        }
        if (rank >= lines || seen[rank]) {
            rc = qk_fail(err, "%s: line %zu: rank %llu is %s (expected each of 0..%zu once)", name, line + 1,
                         (unsigned long long)rank, rank >= lines ? "out of range" : "given twice", lines - 1);
            break;
        }
        if (rank_of(&r, r.arena + used, (size_t)n) >= 0) {
            rc = qk_fail(err, "%s: line %zu: token '%.*s' is listed twice", name, line + 1, (int)(bl < 40 ? bl : 40), s);
            break;
        }
        seen[rank] = true;
        r.off[rank] = used, r.len[rank] = (size_t)n;
        size_t i = (size_t)fnv(r.arena + used, (size_t)n) & (r.nslots - 1);
        while (r.slots[i]) i = (i + 1) & (r.nslots - 1);
        r.slots[i] = (int64_t)rank + 1;
        used += (size_t)n;
        r.order[r.n++] = (size_t)rank;
    }
    if (rc == QK_OK && r.n == 0) rc = qk_fail(err, "%s: no tokens", name);
    /* ranks are distinct and below the line count: any gap leaves a rank below r.n unseen */
    for (size_t k = 0; rc == QK_OK && k < r.n; k++)
        if (!seen[k]) rc = qk_fail(err, "%s: rank %zu is missing (expected ranks 0..%zu)", name, k, r.n - 1);
    free(seen);
    /* tokens, then the merges token by token */
    if (rc == QK_OK) {
        out->tokens = calloc(r.n, sizeof *out->tokens);
        if (!out->tokens) rc = qk_fail(err, "%s: out of memory", name);
        else out->n_tokens = r.n;
    }
    for (size_t k = 0; rc == QK_OK && k < r.n; k++)
        if (!(out->tokens[k] = text_of(r.arena + r.off[k], r.len[k]))) rc = qk_fail(err, "%s: out of memory", name);
    if (rc == QK_OK && (rule == QK_TT_MERGES_QWEN ? merges_qwen(&r, out) : merges_hf(&r, out)))
        rc = qk_fail(err, "%s: out of memory", name);
    free(r.arena), free(r.off), free(r.len), free(r.order), free(r.slots);
    if (rc != QK_OK) qk_tiktoken_free(out);
    return rc;
}

int qk_tiktoken_load(const char *path, qk_tiktoken_merge_rule rule, qk_tiktoken *out, qk_err *err) {
    char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (qk_read_text_file(path, TT_MAX_FILE, &buf, &len, err)) return QK_FAIL;
    const int rc = qk_tiktoken_parse(buf, len, path, rule, out, err);
    free(buf);
    return rc;
}
