#include "quant_kv.h"

#include <stdlib.h>
#include <string.h>

typedef struct { qk_kv_slot *v; size_t n; } list;

static void list_remove(list *l, const char *key) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].key, key) == 0) {
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
            l->n--;
            return;
        }
}

/* gguf_set_*: remove, then append. Capacity is preallocated by the caller. */
static void list_set(list *l, const char *key, qk_kv_source src, size_t index) {
    list_remove(l, key);
    l->v[l->n].key = key;
    l->v[l->n].src = src;
    l->v[l->n].index = index;
    l->n++;
}

int qk_quant_kv_order(const char *const *input_keys, size_t n_input, const char *const *override_keys,
                      size_t n_overrides, qk_kv_slot **out, size_t *n_out, qk_err *err) {
    *out = NULL;
    *n_out = 0;
    if (n_input > ((size_t)-1) / sizeof(qk_kv_slot) / 2 || n_overrides > ((size_t)-1) / sizeof(qk_kv_slot) / 2)
        return qk_fail(err, "too many metadata keys (%zu + %zu)", n_input, n_overrides);
    list l = {calloc(n_input + n_overrides + 2, sizeof(qk_kv_slot)), 0};
    if (!l.v) return qk_fail(err, "out of memory ordering %zu metadata keys", n_input + n_overrides);
    for (size_t i = 0; i < n_input; i++) {
        if (!input_keys[i]) { free(l.v); return qk_fail(err, "input metadata key %zu is NULL", i); }
        list_set(&l, input_keys[i], QK_KV_SRC_INPUT, i);
    }
    list_set(&l, "general.quantization_version", QK_KV_SRC_QUANT_VERSION, 0);
    list_set(&l, "general.file_type", QK_KV_SRC_FILE_TYPE, 0);
    list_remove(&l, "split.no");
    list_remove(&l, "split.count");
    list_remove(&l, "split.tensors.count");
    for (size_t i = 0; i < n_overrides; i++) {
        if (!override_keys[i]) { free(l.v); return qk_fail(err, "override key %zu is NULL", i); }
        list_set(&l, override_keys[i], QK_KV_SRC_OVERRIDE, i);
    }
    *out = l.v;
    *n_out = l.n;
    return QK_OK;
}

int qk_kv_override_parse(const char *arg, qk_kv_override *out, qk_err *err) {
    memset(out, 0, sizeof *out);
    const char *sep = strchr(arg, '=');
    if (!sep || sep - arg >= 128) return qk_fail(err, "--override-kv '%s': malformed, expected KEY=TYPE:VALUE with a key under 128 bytes", arg);
    memcpy(out->key, arg, (size_t)(sep - arg));
    out->key[sep - arg] = 0;
    sep++;
    if (strncmp(sep, "int:", 4) == 0) {
        out->tag = QK_KVO_INT;
        out->val_i64 = atol(sep + 4);
    } else if (strncmp(sep, "float:", 6) == 0) {
        out->tag = QK_KVO_FLOAT;
        out->val_f64 = atof(sep + 6);
    } else if (strncmp(sep, "bool:", 5) == 0) {
        out->tag = QK_KVO_BOOL;
        if (strcmp(sep + 5, "true") == 0) out->val_bool = true;
        else if (strcmp(sep + 5, "false") == 0) out->val_bool = false;
        else return qk_fail(err, "--override-kv '%s': invalid boolean value, expected true or false", arg);
    } else if (strncmp(sep, "str:", 4) == 0) {
        out->tag = QK_KVO_STR;
        size_t l = strlen(sep + 4);
        if (l > 127) return qk_fail(err, "--override-kv '%s': value is %zu bytes, at most 127 allowed", arg, l);
        memcpy(out->val_str, sep + 4, l + 1);
    } else {
        return qk_fail(err, "--override-kv '%s': invalid type, expected int:, float:, bool: or str:", arg);
    }
    return QK_OK;
}

uint32_t qk_kv_override_u32(int64_t v) {
    /* std::abs(INT64_MIN) is undefined in C++; take the two's-complement result. */
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return (uint32_t)a;
}
