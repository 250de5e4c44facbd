#include "pickle.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK (1u << 20)
#define MAX_MARKS 4096u
#define MAX_MEMO (1u << 24)

/* ---- values ------------------------------------------------------------ */

enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_BYTES, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR };
static const char *const k_kind[] = {"None",  "bool", "int",    "float",   "str",    "bytes",
                                     "tuple", "list", "dict",   "global",  "storage", "tensor"};

enum {
    G_REBUILD_V2, G_REBUILD_V1, G_PARAM, G_PARAM_STATE, G_ODICT, G_STORAGE /* + dtype */
};

typedef struct pv {
    uint8_t kind;
    uint16_t depth;          /* containers: nesting below, at the time of insertion */
    int64_t i;
    char *s;                 /* STR/BYTES bytes (NUL-terminated), GLOBAL "module.name", STORAGE key */
    size_t slen;
    int gid;                 /* GLOBAL */
    qk_st_dtype dtype;       /* GLOBAL storage class, STORAGE, TENSOR */
    struct pv **items;       /* TUPLE/LIST; DICT as key, value, key, value ... */
    size_t n, cap;
    uint64_t numel;          /* STORAGE */
    qk_pt_tensor t;          /* TENSOR (name NULL, storage_key borrowed) */
} pv;

typedef struct pm {
    const char *label;
    const uint8_t *d;
    size_t len, pos;
    size_t op_at;            /* offset of the current opcode */
    uint8_t op;
    qk_err *err;
    pv **all;                /* every value, for freeing */
    size_t n_all, cap_all;
    pv **stack;
    size_t sp, scap;
    size_t *marks;
    size_t n_marks, cap_marks;
    pv **memo;
    size_t n_memo;           /* allocated slots */
    size_t n_set;            /* slots set (MEMOIZE's next index, as len(memo)) */
} pm;

static const char *op_name(uint8_t op) {
    switch (op) {
    case 0x80: return "PROTO"; case 0x95: return "FRAME"; case '.': return "STOP"; case '(': return "MARK";
    case '}': return "EMPTY_DICT"; case ']': return "EMPTY_LIST"; case ')': return "EMPTY_TUPLE";
    case 't': return "TUPLE"; case 0x85: return "TUPLE1"; case 0x86: return "TUPLE2"; case 0x87: return "TUPLE3";
    case 'l': return "LIST"; case 'd': return "DICT"; case 'a': return "APPEND"; case 'e': return "APPENDS";
    case 's': return "SETITEM"; case 'u': return "SETITEMS"; case 'q': return "BINPUT"; case 'r': return "LONG_BINPUT";
    case 'p': return "PUT"; case 0x94: return "MEMOIZE"; case 'h': return "BINGET"; case 'j': return "LONG_BINGET";
    case 'g': return "GET"; case 'J': return "BININT"; case 'K': return "BININT1"; case 'M': return "BININT2";
    case 0x8a: return "LONG1"; case 0x8b: return "LONG4"; case 'I': return "INT"; case 'L': return "LONG";
    case 'G': return "BINFLOAT"; case 'F': return "FLOAT"; case 'N': return "NONE"; case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE"; case 'X': return "BINUNICODE"; case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8"; case 'T': return "BINSTRING"; case 'U': return "SHORT_BINSTRING";
    case 'B': return "BINBYTES"; case 'C': return "SHORT_BINBYTES"; case 0x8e: return "BINBYTES8";
    case 0x96: return "BYTEARRAY8"; case 'c': return "GLOBAL"; case 0x93: return "STACK_GLOBAL"; case 'R': return "REDUCE";
    case 'b': return "BUILD"; case 0x81: return "NEWOBJ"; case 0x92: return "NEWOBJ_EX"; case 'i': return "INST";
    case 'o': return "OBJ"; case 'Q': return "BINPERSID"; case 'P': return "PERSID"; case '0': return "POP";
    case '1': return "POP_MARK"; case '2': return "DUP"; case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER"; case 0x82: return "EXT1"; case 0x83: return "EXT2"; case 0x84: return "EXT4";
    case 0x8f: return "EMPTY_SET"; case 0x90: return "ADDITEMS"; case 0x91: return "FROZENSET"; case 'S': return "STRING";
    case 'V': return "UNICODE";
    default: return "unknown";
    }
}

static int failf(pm *m, const char *fmt, ...) QK_PRINTF(2, 3);
static int failf(pm *m, const char *fmt, ...) {
    char buf[QK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return qk_fail(m->err, "%s: opcode %s (0x%02x) at offset %zu: %s", m->label, op_name(m->op), m->op, m->op_at, buf);
}

static pv *new_v(pm *m, int kind) {
    if (m->n_all == m->cap_all) {
        size_t c = m->cap_all ? m->cap_all * 2 : 256;
        pv **a = realloc(m->all, c * sizeof *a);
        if (!a) return NULL;
        m->all = a, m->cap_all = c;
    }
    pv *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = (uint8_t)kind;
    m->all[m->n_all++] = v;
    return v;
}

static int push(pm *m, pv *v) {
    if (!v) return failf(m, "out of memory");
    if (m->sp == m->scap) {
        if (m->scap >= MAX_STACK) return failf(m, "the stack holds more than %u values", MAX_STACK);
        size_t c = m->scap ? m->scap * 2 : 64;
        pv **s = realloc(m->stack, c * sizeof *s);
        if (!s) return failf(m, "out of memory");
        m->stack = s, m->scap = c;
    }
    m->stack[m->sp++] = v;
    return QK_OK;
}

static size_t floor_sp(const pm *m) { return m->n_marks ? m->marks[m->n_marks - 1] : 0; }

static pv *pop(pm *m) {
    if (m->sp <= floor_sp(m)) return NULL;
    return m->stack[--m->sp];
}

static int add_item(pm *m, pv *c, pv *x) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        pv **it = realloc(c->items, cap * sizeof *it);
        if (!it) return failf(m, "out of memory");
        c->items = it, c->cap = cap;
    }
    c->items[c->n++] = x;
    if (x->depth + 1 > c->depth) c->depth = (uint16_t)(x->depth + 1);
    if (c->depth > QK_PICKLE_MAX_DEPTH)
        return failf(m, "containers nest more than %d deep (a hostile pickle?)", QK_PICKLE_MAX_DEPTH);
    return QK_OK;
}

/* ---- input ------------------------------------------------------------- */

static int need(pm *m, size_t n) {
    if (n > m->len - m->pos)
        return failf(m, "needs %zu bytes but %zu remain (truncated pickle)", n, m->len - m->pos);
    return QK_OK;
}
static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static int arg_le(pm *m, int n, uint64_t *v) {
    if (need(m, (size_t)n)) return QK_FAIL;
    *v = le(m->d + m->pos, n);
    m->pos += (size_t)n;
    return QK_OK;
}
/* A text argument up to '\n' (protocol 0 opcodes; GLOBAL). */
static int arg_line(pm *m, const char **s, size_t *n) {
    const uint8_t *nl = memchr(m->d + m->pos, '\n', m->len - m->pos);
    if (!nl) return failf(m, "no end of line in its argument (truncated pickle)");
    *s = (const char *)m->d + m->pos;
    *n = (size_t)(nl - (m->d + m->pos));
    m->pos += *n + 1;
    return QK_OK;
}

static pv *new_str(pm *m, int kind, const char *s, size_t n) {
    pv *v = new_v(m, kind);
    if (!v) return NULL;
    v->s = malloc(n + 1);
    if (!v->s) return NULL;
    memcpy(v->s, s, n);
    v->s[n] = 0;
    v->slen = n;
    return v;
}

/* ---- globals ------------------------------------------------------------ */

static const struct { const char *name; qk_st_dtype dtype; } k_storages[] = {
    {"torch.DoubleStorage", QK_ST_F64}, {"torch.FloatStorage", QK_ST_F32}, {"torch.HalfStorage", QK_ST_F16},
    {"torch.BFloat16Storage", QK_ST_BF16}, {"torch.LongStorage", QK_ST_I64}, {"torch.IntStorage", QK_ST_I32},
    {"torch.ShortStorage", QK_ST_I16}, {"torch.CharStorage", QK_ST_I8}, {"torch.ByteStorage", QK_ST_U8},
    {"torch.BoolStorage", QK_ST_BOOL},
};

static int make_global(pm *m, const char *mod, size_t ml, const char *name, size_t nl) {
    char full[512];
    if (ml + nl + 2 > sizeof full) return failf(m, "global name of %zu bytes is too long", ml + nl + 1);
    memcpy(full, mod, ml);
    full[ml] = '.';
    memcpy(full + ml + 1, name, nl);
    full[ml + 1 + nl] = 0;
    for (size_t i = 0; i < ml + 1 + nl; i++)
        if ((unsigned char)full[i] < 0x20 || (unsigned char)full[i] >= 0x7f) full[i] = '?';
    static const struct { const char *name; int gid; } k_funcs[] = {
        {"torch._utils._rebuild_tensor_v2", G_REBUILD_V2}, {"torch._utils._rebuild_tensor", G_REBUILD_V1},
        {"torch._utils._rebuild_parameter", G_PARAM}, {"torch._utils._rebuild_parameter_with_state", G_PARAM_STATE},
        {"collections.OrderedDict", G_ODICT},
    };
    int gid = -1;
    qk_st_dtype dt = QK_ST_F32;
    for (size_t i = 0; i < sizeof k_funcs / sizeof k_funcs[0]; i++)
        if (!strcmp(full, k_funcs[i].name)) gid = k_funcs[i].gid;
    for (size_t i = 0; i < sizeof k_storages / sizeof k_storages[0]; i++)
        if (!strcmp(full, k_storages[i].name)) gid = G_STORAGE, dt = k_storages[i].dtype;
    if (gid < 0)
        return failf(m, "global '%s' is not allowed (a torch state dict needs only torch's tensor rebuild "
                        "functions, storage classes and collections.OrderedDict; nothing is executed)", full);
    pv *v = new_str(m, V_GLOBAL, full, strlen(full));
    if (!v) return failf(m, "out of memory");
    v->gid = gid, v->dtype = dt;
    return push(m, v);
}

/* ---- torch's callables, interpreted ------------------------------------ */

static bool as_int(const pv *v, int64_t *out) {
    if (v->kind == V_INT || v->kind == V_BOOL) { *out = v->i; return true; }
    return false;
}

static int int_tuple(pm *m, const pv *v, const char *what, int64_t *out, int *n) {
    if (v->kind != V_TUPLE && v->kind != V_LIST) return failf(m, "%s is a %s; expected a tuple of ints", what, k_kind[v->kind]);
    if (v->n > QK_ST_MAX_DIMS) return failf(m, "%s has %zu dimensions; at most %d supported", what, v->n, QK_ST_MAX_DIMS);
    for (size_t i = 0; i < v->n; i++)
        if (!as_int(v->items[i], &out[i]) || out[i] < 0)
            return failf(m, "%s[%zu] is not a non-negative int", what, i);
    *n = (int)v->n;
    return QK_OK;
}

static int rebuild_tensor(pm *m, const pv *args, bool v2) {
    if (args->kind != V_TUPLE || args->n < 4)
        return failf(m, "_rebuild_tensor%s takes (storage, offset, size, stride, ...); got a %s of %zu", v2 ? "_v2" : "",
                     k_kind[args->kind], args->n);
    const pv *st = args->items[0];
    if (st->kind != V_STORAGE) return failf(m, "_rebuild_tensor_v2's storage is a %s; expected a storage persistent id", k_kind[st->kind]);
    int64_t off;
    if (!as_int(args->items[1], &off) || off < 0) return failf(m, "_rebuild_tensor_v2's storage offset is not a non-negative int");
    pv *t = new_v(m, V_TENSOR);
    if (!t) return failf(m, "out of memory");
    int nd, nd2;
    if (int_tuple(m, args->items[2], "tensor size", t->t.shape, &nd)) return QK_FAIL;
    if (int_tuple(m, args->items[3], "tensor stride", t->t.stride, &nd2)) return QK_FAIL;
    if (nd != nd2) return failf(m, "tensor size has %d dimensions but its stride %d", nd, nd2);
    uint64_t numel = 1, last = 0;
    bool empty = false;
    for (int i = 0; i < nd; i++) {
        uint64_t s = (uint64_t)t->t.shape[i], str = (uint64_t)t->t.stride[i];
        if (s == 0) empty = true;
        if (s && numel > UINT64_MAX / s) return failf(m, "tensor size overflows 64 bits");
        numel *= s;
        if (s) {
            if (str && s - 1 > (UINT64_MAX / 2) / str) return failf(m, "tensor stride %llu x size %llu overflows",
                                                                  (unsigned long long)str, (unsigned long long)s);
            if (last > UINT64_MAX / 2 - (s - 1) * str) return failf(m, "tensor extent overflows 64 bits");
            last += (s - 1) * str;
        }
    }
    if (numel > ((uint64_t)1 << 53)) return failf(m, "tensor of %llu elements is absurdly large", (unsigned long long)numel);
    t->t.n_dims = nd;
    t->t.n_elements = numel;
    t->t.offset = (uint64_t)off;
    t->t.span = empty ? 0 : last + 1;
    t->t.dtype = st->dtype;
    t->t.storage_key = st->s;
    t->t.storage_numel = st->numel;
    if (!empty && ((uint64_t)off > st->numel || t->t.span > st->numel - (uint64_t)off))
        return failf(m, "tensor (offset %lld, last element %llu past it) reaches past its storage '%s' of %llu elements",
                     (long long)off, (unsigned long long)last, st->s, (unsigned long long)st->numel);
    return push(m, t);
}

static int reduce(pm *m) {
    pv *args = pop(m), *fn = pop(m);
    if (!args || !fn) return failf(m, "stack underflow");
    if (fn->kind != V_GLOBAL) return failf(m, "REDUCE calls a %s; only whitelisted globals can be called", k_kind[fn->kind]);
    switch (fn->gid) {
    case G_ODICT:
        if (args->kind != V_TUPLE || args->n != 0)
            return failf(m, "global '%s' called with arguments; expected ()", fn->s);
        return push(m, new_v(m, V_DICT));
    case G_REBUILD_V2: return rebuild_tensor(m, args, true);
    case G_REBUILD_V1: return rebuild_tensor(m, args, false);
    case G_PARAM:
    case G_PARAM_STATE:
        if (args->kind != V_TUPLE || args->n < 1 || args->items[0]->kind != V_TENSOR)
            return failf(m, "global '%s' takes (tensor, ...); got something else", fn->s);
        return push(m, args->items[0]);
    default:
        return failf(m, "global '%s' cannot be called (storages come only from persistent ids)", fn->s);
    }
}

/* ('storage', storage class, key, location, numel) */
static int persistent_id(pm *m, const pv *pid) {
    if (pid->kind != V_TUPLE || pid->n != 5 || pid->items[0]->kind != V_STR || strcmp(pid->items[0]->s, "storage"))
        return failf(m, "persistent id is not ('storage', class, key, location, numel)");
    const pv *cls = pid->items[1], *key = pid->items[2], *loc = pid->items[3];
    int64_t numel;
    if (cls->kind != V_GLOBAL || cls->gid != G_STORAGE)
        return failf(m, "persistent id's storage class is %s%s%s; expected a torch.*Storage class",
                     cls->kind == V_GLOBAL ? "'" : "a ", cls->kind == V_GLOBAL ? cls->s : k_kind[cls->kind],
                     cls->kind == V_GLOBAL ? "'" : "");
    if (key->kind != V_STR || key->slen == 0 || key->slen > 64)
        return failf(m, "persistent id's storage key is not a short string");
    for (size_t i = 0; i < key->slen; i++) {
        char c = key->s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
            return failf(m, "storage key '%.64s' has a character other than [0-9A-Za-z_]", key->s);
    }
    if (loc->kind != V_STR) return failf(m, "persistent id's location is not a string");
    if (!as_int(pid->items[4], &numel) || numel < 0)
        return failf(m, "storage '%s': element count is not a non-negative int", key->s);
    if ((uint64_t)numel > ((uint64_t)1 << 56) / qk_st_dtype_size(cls->dtype))
        return failf(m, "storage '%s': %lld elements is absurdly large", key->s, (long long)numel);
    pv *v = new_str(m, V_STORAGE, key->s, key->slen);
    if (!v) return failf(m, "out of memory");
    v->dtype = cls->dtype;
    v->numel = (uint64_t)numel;
    return push(m, v);
}

/* ---- the machine ------------------------------------------------------- */

static int set_memo(pm *m, uint64_t idx) {
    if (!m->sp) return failf(m, "memoizes an empty stack");
    /* picklers number memo entries from 0 up, one per PUT: an index past the pickle's length is hostile (and
     * would make a small input allocate a large memo) */
    if (idx >= MAX_MEMO || idx > m->len)
        return failf(m, "memo index %llu is too large (at most %u and the pickle's %zu bytes)", (unsigned long long)idx,
                     MAX_MEMO, m->len);
    if (idx >= m->n_memo) {
        size_t n = m->n_memo ? m->n_memo : 64;
        while (n <= idx) n *= 2;
        pv **mm = realloc(m->memo, n * sizeof *mm);
        if (!mm) return failf(m, "out of memory");
        memset(mm + m->n_memo, 0, (n - m->n_memo) * sizeof *mm);
        m->memo = mm, m->n_memo = n;
    }
    if (!m->memo[idx]) m->n_set++;
    m->memo[idx] = m->stack[m->sp - 1];
    return QK_OK;
}

static int get_memo(pm *m, uint64_t idx) {
    if (idx >= m->n_memo || !m->memo[idx]) return failf(m, "memo index %llu was never set", (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

static int pop_mark(pm *m, size_t *from) {
    if (!m->n_marks) return failf(m, "no MARK before it");
    *from = m->marks[--m->n_marks];
    return QK_OK;
}

static int collect(pm *m, int kind) {
    size_t from = 0;
    if (pop_mark(m, &from)) return QK_FAIL;
    pv *c = new_v(m, kind);
    if (!c) return failf(m, "out of memory");
    if (kind == V_DICT && (m->sp - from) % 2) return failf(m, "odd number of items for a dict");
    for (size_t i = from; i < m->sp; i++)
        if (add_item(m, c, m->stack[i])) return QK_FAIL;
    m->sp = from;
    return push(m, c);
}

static int step(pm *m, pv **result) {
    m->op_at = m->pos;
    m->op = m->d[m->pos++];
    uint64_t n;
    pv *a, *b, *c;
    switch (m->op) {
    case 0x80:
        if (arg_le(m, 1, &n)) return QK_FAIL;
        if (n < 2 || n > 5) return failf(m, "pickle protocol %llu; expected 2 to 5", (unsigned long long)n);
        return QK_OK;
    case 0x95:
        if (arg_le(m, 8, &n)) return QK_FAIL;
        if (n > m->len - m->pos) return failf(m, "frame of %llu bytes runs past the end", (unsigned long long)n);
        return QK_OK;
    case '.':
        if (m->n_marks) return failf(m, "a MARK is still open");
        if (!(*result = pop(m))) return failf(m, "empty stack");
        return QK_OK;
    case '(':
        if (m->n_marks == MAX_MARKS) return failf(m, "more than %u nested MARKs", MAX_MARKS);
        if (m->n_marks == m->cap_marks) {
            size_t cap = m->cap_marks ? m->cap_marks * 2 : 16;
            size_t *mk = realloc(m->marks, cap * sizeof *mk);
            if (!mk) return failf(m, "out of memory");
            m->marks = mk, m->cap_marks = cap;
        }
        m->marks[m->n_marks++] = m->sp;
        return QK_OK;
    case '}': return push(m, new_v(m, V_DICT));
    case ']': return push(m, new_v(m, V_LIST));
    case ')': return push(m, new_v(m, V_TUPLE));
    case 't': return collect(m, V_TUPLE);
    case 'l': return collect(m, V_LIST);
    case 'd': return collect(m, V_DICT);
    case 0x85: case 0x86: case 0x87: {
        size_t k = (size_t)(m->op - 0x84);
        if (m->sp < floor_sp(m) + k) return failf(m, "stack underflow");
        pv *t = new_v(m, V_TUPLE);
        if (!t) return failf(m, "out of memory");
        for (size_t i = m->sp - k; i < m->sp; i++)
            if (add_item(m, t, m->stack[i])) return QK_FAIL;
        m->sp -= k;
        return push(m, t);
    }
    case 'a':
        if (!(a = pop(m)) || m->sp <= floor_sp(m)) return failf(m, "stack underflow");
        b = m->stack[m->sp - 1];
        if (b->kind != V_LIST) return failf(m, "APPEND to a %s; expected a list", k_kind[b->kind]);
        return add_item(m, b, a);
    case 'e': case 'u': {
        size_t from = 0;
        if (pop_mark(m, &from)) return QK_FAIL;
        if (from <= floor_sp(m)) return failf(m, "stack underflow");
        b = m->stack[from - 1];
        int want = m->op == 'e' ? V_LIST : V_DICT;
        if (b->kind != want) return failf(m, "adds items to a %s; expected a %s", k_kind[b->kind], k_kind[want]);
        if (want == V_DICT && (m->sp - from) % 2) return failf(m, "odd number of items for a dict");
        for (size_t i = from; i < m->sp; i++)
            if (add_item(m, b, m->stack[i])) return QK_FAIL;
        m->sp = from;
        return QK_OK;
    }
    case 's':
        if (!(a = pop(m)) || !(c = pop(m)) || m->sp <= floor_sp(m)) return failf(m, "stack underflow");
        b = m->stack[m->sp - 1];
        if (b->kind != V_DICT) return failf(m, "SETITEM on a %s; expected a dict", k_kind[b->kind]);
        if (add_item(m, b, c)) return QK_FAIL;
        return add_item(m, b, a);
    case 'q': return arg_le(m, 1, &n) ? QK_FAIL : set_memo(m, n);
    case 'r': return arg_le(m, 4, &n) ? QK_FAIL : set_memo(m, n);
    case 0x94: return set_memo(m, m->n_set);
    case 'h': return arg_le(m, 1, &n) ? QK_FAIL : get_memo(m, n);
    case 'j': return arg_le(m, 4, &n) ? QK_FAIL : get_memo(m, n);
    case 'p': case 'g': {
        const char *s = NULL;
        size_t l = 0;
        if (arg_line(m, &s, &l)) return QK_FAIL;
        uint64_t idx = 0;
        if (!l || l > 9) return failf(m, "memo index is not a number");
        for (size_t i = 0; i < l; i++) {
            if (s[i] < '0' || s[i] > '9') return failf(m, "memo index is not a number");
            idx = idx * 10 + (uint64_t)(s[i] - '0');
        }
        return m->op == 'p' ? set_memo(m, idx) : get_memo(m, idx);
    }
    case 'J': case 'K': case 'M': {
        int w = m->op == 'J' ? 4 : m->op == 'K' ? 1 : 2;
        if (arg_le(m, w, &n)) return QK_FAIL;
        pv *v = new_v(m, V_INT);
        if (v) v->i = w == 4 ? (int64_t)(int32_t)(uint32_t)n : (int64_t)n;
        return push(m, v);
    }
    case 0x8a: case 0x8b: {
        if (arg_le(m, m->op == 0x8a ? 1 : 4, &n)) return QK_FAIL;
        if (n > 8) return failf(m, "integer of %llu bytes; at most 8 supported", (unsigned long long)n);
        if (need(m, (size_t)n)) return QK_FAIL;
        uint64_t u = le(m->d + m->pos, (int)n);
        if (n && n < 8 && (m->d[m->pos + n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        m->pos += (size_t)n;
        pv *v = new_v(m, V_INT);
        if (v) v->i = (int64_t)u;
        return push(m, v);
    }
    case 'I': case 'L': {
        const char *s = NULL;
        size_t l = 0;
        if (arg_line(m, &s, &l)) return QK_FAIL;
        if (l && s[l - 1] == 'L') l--;
        pv *v = new_v(m, V_INT);
        if (!v) return failf(m, "out of memory");
        if (m->op == 'I' && l == 2 && (!memcmp(s, "00", 2) || !memcmp(s, "01", 2))) {
            v->kind = V_BOOL, v->i = s[1] == '1';
            return push(m, v);
        }
        size_t i = 0;
        bool neg = l && s[0] == '-';
        i = neg;
        if (i == l || l - i > 18) return failf(m, "integer literal is not a number of at most 18 digits");
        int64_t x = 0;
        for (; i < l; i++) {
            if (s[i] < '0' || s[i] > '9') return failf(m, "integer literal is not a number");
            x = x * 10 + (s[i] - '0');
        }
        v->i = neg ? -x : x;
        return push(m, v);
    }
    case 'G': {
        if (need(m, 8)) return QK_FAIL;
        m->pos += 8; /* floats are never needed to find tensors */
        return push(m, new_v(m, V_FLOAT));
    }
    case 'N': return push(m, new_v(m, V_NONE));
    case 0x88: case 0x89: {
        pv *v = new_v(m, V_BOOL);
        if (v) v->i = m->op == 0x88;
        return push(m, v);
    }
    case 'X': case 0x8c: case 0x8d: case 'T': case 'U': case 'B': case 'C': case 0x8e: case 0x96: {
        int w = (m->op == 0x8c || m->op == 'U' || m->op == 'C') ? 1 : (m->op == 0x8d || m->op == 0x8e || m->op == 0x96) ? 8 : 4;
        if (arg_le(m, w, &n)) return QK_FAIL;
        if (m->op == 'T' && (n & 0x80000000u)) return failf(m, "negative string length");
        if (n > m->len - m->pos)
            return failf(m, "string of %llu bytes but %zu remain (truncated or absurd length)", (unsigned long long)n,
                         m->len - m->pos);
        int kind = (m->op == 'X' || m->op == 0x8c || m->op == 0x8d || m->op == 'T' || m->op == 'U') ? V_STR : V_BYTES;
        pv *v = new_str(m, kind, (const char *)m->d + m->pos, (size_t)n);
        m->pos += (size_t)n;
        return push(m, v);
    }
    case 'c': {
        const char *mod = NULL, *name = NULL;
        size_t ml = 0, nl = 0;
        if (arg_line(m, &mod, &ml) || arg_line(m, &name, &nl)) return QK_FAIL;
        return make_global(m, mod, ml, name, nl);
    }
    case 0x93:
        if (!(a = pop(m)) || !(b = pop(m))) return failf(m, "stack underflow");
        if (a->kind != V_STR || b->kind != V_STR) return failf(m, "module and name are not strings");
        return make_global(m, b->s, b->slen, a->s, a->slen);
    case 'R': return reduce(m);
    case 'b':
        if (!(a = pop(m)) || m->sp <= floor_sp(m)) return failf(m, "stack underflow");
        b = m->stack[m->sp - 1];
        if (b->kind != V_DICT)
            return failf(m, "BUILD (setting the state of an object) on a %s; only a dict's attributes are accepted "
                            "(and dropped)", k_kind[b->kind]);
        return QK_OK;
    case 0x81: case 0x92: case 'i': case 'o': {
        const char *g = m->sp && m->stack[m->sp - 1]->kind == V_GLOBAL ? m->stack[m->sp - 1]->s : NULL;
        if (m->op == 0x81 && m->sp >= 2 && m->stack[m->sp - 2]->kind == V_GLOBAL) g = m->stack[m->sp - 2]->s;
        return failf(m, "creates an object%s%s%s; refused (a torch state dict has none)", g ? " of '" : "", g ? g : "",
                     g ? "'" : "");
    }
    case 'Q':
        if (!(a = pop(m))) return failf(m, "stack underflow");
        return persistent_id(m, a);
    case 'P': return failf(m, "text persistent ids are not torch's format; refused");
    case '0':
        if (!pop(m)) return failf(m, "stack underflow");
        return QK_OK;
    case '1': {
        size_t from = 0;
        if (pop_mark(m, &from)) return QK_FAIL;
        m->sp = from;
        return QK_OK;
    }
    case '2':
        if (m->sp <= floor_sp(m)) return failf(m, "stack underflow");
        return push(m, m->stack[m->sp - 1]);
    case 0x97: case 0x98: return failf(m, "out-of-band buffers (pickle protocol 5) are refused");
    case 0x82: case 0x83: case 0x84: return failf(m, "extension registry codes are refused");
    default: return failf(m, "opcode not supported in a torch checkpoint");
    }
}

/* ---- the state dict ---------------------------------------------------- */

void qk_pt_state_free(qk_pt_state *s) {
    for (size_t i = 0; s->tensors && i < s->n; i++) free(s->tensors[i].name), free(s->tensors[i].storage_key);
    free(s->tensors);
    s->tensors = NULL, s->n = 0;
}

static size_t count_tensors(const pv *d) {
    size_t k = 0;
    for (size_t i = 0; i + 1 < d->n; i += 2) k += d->items[i]->kind == V_STR && d->items[i + 1]->kind == V_TENSOR;
    return k;
}

static const pv *pick_state_dict(const pv *root) {
    if (root->kind != V_DICT) return NULL;
    if (count_tensors(root)) return root;
    static const char *const keys[] = {"state_dict", "model", "module", "model_state_dict"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (size_t i = 0; i + 1 < root->n; i += 2)
            if (root->items[i]->kind == V_STR && !strcmp(root->items[i]->s, keys[k]) && root->items[i + 1]->kind == V_DICT &&
                count_tensors(root->items[i + 1]))
                return root->items[i + 1];
    return root;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const qk_pt_tensor *const *)a)->name, (*(const qk_pt_tensor *const *)b)->name);
}
static int cmp_key(const void *a, const void *b) {
    return strcmp((*(const qk_pt_tensor *const *)a)->storage_key, (*(const qk_pt_tensor *const *)b)->storage_key);
}

/* Names are unique; tensors sharing a storage agree on its type and size
 * (torch memoizes a storage, so a disagreement is a hostile or broken file). */
static int check_unique(const char *label, const qk_pt_state *s, qk_err *err) {
    const qk_pt_tensor **p = malloc(s->n * sizeof *p);
    if (!p) return qk_fail(err, "%s: out of memory", label);
    for (size_t i = 0; i < s->n; i++) p[i] = &s->tensors[i];
    int rc = QK_OK;
    qsort(p, s->n, sizeof *p, cmp_name);
    for (size_t i = 1; i < s->n && !rc; i++)
        if (!strcmp(p[i - 1]->name, p[i]->name))
            rc = qk_fail(err, "%s: tensor '%s' appears twice in the state dict", label, p[i]->name);
    qsort(p, s->n, sizeof *p, cmp_key);
    for (size_t i = 1; i < s->n && !rc; i++)
        if (!strcmp(p[i - 1]->storage_key, p[i]->storage_key) &&
            (p[i - 1]->dtype != p[i]->dtype || p[i - 1]->storage_numel != p[i]->storage_numel))
            rc = qk_fail(err, "%s: storage '%s' is declared as %s x %llu for '%s' but %s x %llu for '%s'", label,
                         p[i]->storage_key, qk_st_dtype_name(p[i - 1]->dtype), (unsigned long long)p[i - 1]->storage_numel,
                         p[i - 1]->name, qk_st_dtype_name(p[i]->dtype), (unsigned long long)p[i]->storage_numel, p[i]->name);
    free(p);
    return rc;
}

int qk_pickle_state_dict(const char *label, const uint8_t *data, size_t len, qk_pt_state *out, qk_err *err) {
    memset(out, 0, sizeof *out);
    pm m = {.label = label, .d = data, .len = len, .err = err};
    pv *root = NULL;
    int rc = QK_OK;
    while (!root) {
        if (m.pos >= m.len) {
            qk_fail(err, "%s: the pickle ends at offset %zu without STOP (truncated)", label, m.pos);
            rc = QK_FAIL;
            break;
        }
        if ((rc = step(&m, &root))) break;
    }
    if (rc == QK_OK) {
        const pv *sd = pick_state_dict(root);
        if (!sd) rc = qk_fail(err, "%s: the pickle holds a %s; expected a dict of tensors (a state dict)", label, k_kind[root->kind]);
        else {
            size_t k = count_tensors(sd);
            out->tensors = calloc(k ? k : 1, sizeof *out->tensors);
            if (!out->tensors) rc = qk_fail(err, "%s: out of memory", label);
            for (size_t i = 0; rc == QK_OK && i + 1 < sd->n; i += 2) {
                const pv *key = sd->items[i], *val = sd->items[i + 1];
                if (key->kind != V_STR || val->kind != V_TENSOR) continue;
                if (strlen(key->s) != key->slen || key->slen == 0) {
                    rc = qk_fail(err, "%s: a tensor name is empty or has a NUL byte", label);
                    break;
                }
                qk_pt_tensor *t = &out->tensors[out->n];
                *t = val->t;
                t->name = strdup(key->s);
                t->storage_key = strdup(val->t.storage_key);
                out->n++;
                if (!t->name || !t->storage_key) rc = qk_fail(err, "%s: out of memory", label);
            }
            if (rc == QK_OK && out->n == 0) rc = qk_fail(err, "%s: the state dict holds no tensors", label);
            if (rc == QK_OK) rc = check_unique(label, out, err);
        }
    }
    for (size_t i = 0; i < m.n_all; i++) free(m.all[i]->s), free(m.all[i]->items), free(m.all[i]);
    free(m.all), free(m.stack), free(m.marks), free(m.memo);
    if (rc) qk_pt_state_free(out);
    return rc;
}

int qk_pt_tensor_contiguous(const qk_pt_tensor *t) {
    int64_t want = 1;
    for (int i = t->n_dims - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != want) return 0;
        want *= t->shape[i];
    }
    return 1;
}
