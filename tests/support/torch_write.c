#include "torch_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_build.h"
#include "zip_write.h"

void pk_bytes(pk_buf *p, const void *d, size_t n) { /* gguf_build's growable buffer */
    gb_buf g = {p->b, p->len, p->cap};
    gb_bytes(&g, d, n);
    p->b = g.p, p->len = g.len, p->cap = g.cap;
}
void pk_op(pk_buf *p, uint8_t op) { pk_bytes(p, &op, 1); }
void pk_int(pk_buf *p, int64_t v) {
    uint8_t b[9];
    if (v >= 0 && v < 256) b[0] = 'K', b[1] = (uint8_t)v, pk_bytes(p, b, 2);
    else if (v >= 0 && v < 65536) b[0] = 'M', b[1] = (uint8_t)v, b[2] = (uint8_t)(v >> 8), pk_bytes(p, b, 3);
    else if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = 'J';
        for (int i = 0; i < 4; i++) b[1 + i] = (uint8_t)((uint64_t)v >> (8 * i));
        pk_bytes(p, b, 5);
    } else {
        b[0] = 0x8a, b[1] = 8;
        pk_bytes(p, b, 2);
        for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)v >> (8 * i));
        pk_bytes(p, b, 8);
    }
}
void pk_str(pk_buf *p, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    uint8_t b[5] = {'X', (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    pk_bytes(p, b, 5);
    pk_bytes(p, s, n);
}
void pk_global(pk_buf *p, const char *module, const char *name) {
    pk_op(p, 'c');
    pk_bytes(p, module, strlen(module));
    pk_op(p, '\n');
    pk_bytes(p, name, strlen(name));
    pk_op(p, '\n');
}
void pk_put(pk_buf *p) {
    if (p->memo < 256) {
        uint8_t b[2] = {'q', (uint8_t)p->memo};
        pk_bytes(p, b, 2);
    } else {
        uint8_t b[5] = {'r', (uint8_t)p->memo, (uint8_t)(p->memo >> 8), (uint8_t)(p->memo >> 16), (uint8_t)(p->memo >> 24)};
        pk_bytes(p, b, 5);
    }
    p->memo++;
}

static void tuple_of(pk_buf *p, const int64_t *v, int n) {
    if (n == 0) { pk_op(p, ')'); return; }
    if (n > 3) pk_op(p, '(');
    for (int i = 0; i < n; i++) pk_int(p, v[i]);
    pk_op(p, n == 1 ? 0x85 : n == 2 ? 0x86 : n == 3 ? 0x87 : 't');
    pk_put(p);
}

uint8_t *tw_pickle(const tw_tensor *t, size_t n, bool ordered_dict, size_t *len) {
    pk_buf p = {0};
    pk_op(&p, 0x80), pk_op(&p, 2);
    if (ordered_dict) {
        pk_global(&p, "collections", "OrderedDict"), pk_put(&p);
        pk_op(&p, ')'), pk_op(&p, 'R'), pk_put(&p);
    } else
        pk_op(&p, '}'), pk_put(&p);
    pk_op(&p, '(');
    for (size_t i = 0; i < n; i++) {
        pk_str(&p, t[i].name), pk_put(&p);
        if (t[i].parameter) pk_global(&p, "torch._utils", "_rebuild_parameter"), pk_put(&p), pk_op(&p, '(');
        pk_global(&p, "torch._utils", "_rebuild_tensor_v2"), pk_put(&p);
        pk_op(&p, '(');
        pk_op(&p, '(');
        pk_str(&p, "storage"), pk_put(&p);
        pk_global(&p, "torch", t[i].cls), pk_put(&p);
        pk_str(&p, t[i].key), pk_put(&p);
        pk_str(&p, "cpu"), pk_put(&p);
        pk_int(&p, (int64_t)t[i].storage_numel);
        pk_op(&p, 't'), pk_put(&p);
        pk_op(&p, 'Q');
        pk_int(&p, (int64_t)t[i].offset);
        tuple_of(&p, t[i].shape, t[i].nd);
        tuple_of(&p, t[i].stride, t[i].nd);
        pk_op(&p, 0x89);
        pk_global(&p, "collections", "OrderedDict"), pk_put(&p);
        pk_op(&p, ')'), pk_op(&p, 'R'), pk_put(&p);
        pk_op(&p, 't'), pk_put(&p);
        pk_op(&p, 'R'), pk_put(&p);
        if (t[i].parameter) {
            pk_op(&p, 0x88);
            pk_global(&p, "collections", "OrderedDict"), pk_put(&p);
            pk_op(&p, ')'), pk_op(&p, 'R'), pk_put(&p);
            pk_op(&p, 't'), pk_put(&p), pk_op(&p, 'R'), pk_put(&p);
        }
    }
    pk_op(&p, 'u');
    if (ordered_dict) { /* state_dict()._metadata, as torch pickles it: BUILD with {'_metadata': OrderedDict(...)} */
        pk_op(&p, '}'), pk_put(&p);
        pk_str(&p, "_metadata"), pk_put(&p);
        pk_global(&p, "collections", "OrderedDict"), pk_put(&p);
        pk_op(&p, ')'), pk_op(&p, 'R'), pk_put(&p);
        pk_str(&p, ""), pk_op(&p, '}'), pk_put(&p), pk_str(&p, "version"), pk_int(&p, 1), pk_op(&p, 's');
        pk_op(&p, 's');
        pk_op(&p, 's');
        pk_op(&p, 'b');
    }
    pk_op(&p, '.');
    *len = p.len;
    return p.b;
}

int tw_write_bin(const char *path, const char *prefix, const tw_tensor *t, size_t n, const tw_storage *s, size_t ns,
                 bool zip64) {
    zip_writer w;
    zw_init(&w, zip64, 64);
    char name[512];
    size_t plen;
    uint8_t *pkl = tw_pickle(t, n, true, &plen);
    snprintf(name, sizeof name, "%s/data.pkl", prefix);
    zw_add(&w, name, pkl, plen, NULL);
    free(pkl);
    snprintf(name, sizeof name, "%s/byteorder", prefix);
    zw_add(&w, name, "little", 6, NULL);
    for (size_t i = 0; i < ns; i++) {
        snprintf(name, sizeof name, "%s/data/%s", prefix, s[i].key);
        zw_add(&w, name, s[i].data, s[i].nbytes, &(zw_opts){.deflate = s[i].deflate});
    }
    snprintf(name, sizeof name, "%s/version", prefix);
    zw_add(&w, name, "3\n", 2, NULL);
    snprintf(name, sizeof name, "%s/.data/serialization_id", prefix);
    zw_add(&w, name, "1234567890", 10, NULL);
    int rc = zw_write_file(&w, path);
    zw_free(&w);
    return rc;
}
