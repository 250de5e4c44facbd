#include "zip_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put(zip_writer *w, uint8_t **b, size_t *len, size_t *cap, const void *p, size_t n) {
    if (w->oom) return;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n) c *= 2;
        uint8_t *nb = realloc(*b, c);
        if (!nb) { w->oom = true; return; }
        *b = nb, *cap = c;
    }
    memcpy(*b + *len, p, n);
    *len += n;
}
static void put_le(zip_writer *w, bool cd, uint64_t v, int bytes) {
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    if (cd) put(w, &w->cd, &w->cd_len, &w->cd_cap, b, (size_t)bytes);
    else put(w, &w->buf, &w->len, &w->cap, b, (size_t)bytes);
}

void zw_init(zip_writer *w, bool zip64, unsigned align) {
    memset(w, 0, sizeof *w);
    w->zip64 = zip64, w->align = align;
}

void zw_add(zip_writer *w, const char *name, const void *data, size_t len, const zw_opts *o) {
    static const zw_opts none;
    if (!o) o = &none;
    const uint8_t *stored = data;
    uint8_t *comp = NULL;
    size_t clen = len;
    if (o->deflate) {
        z_stream zs = {0};
        deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        size_t cap = deflateBound(&zs, (uLong)len) + 16;
        comp = malloc(cap);
        zs.next_in = (Bytef *)(uintptr_t)data, zs.avail_in = (uInt)len;
        zs.next_out = comp, zs.avail_out = (uInt)cap;
        deflate(&zs, Z_FINISH);
        clen = cap - zs.avail_out;
        deflateEnd(&zs);
        stored = comp;
    }
    uint32_t crc = o->set_crc ? o->crc : (uint32_t)crc32(crc32(0, Z_NULL, 0), data, (uInt)len);
    uint64_t usize = o->set_size ? o->size : len;
    uint16_t method = o->deflate ? 8 : 0;
    size_t nlen = strlen(name);
    uint64_t hoff = w->len;
    /* local header */
    size_t ex = w->zip64 ? 20 : 0;
    size_t pad = 0;
    if (w->align) {
        size_t at = w->len + 30 + nlen + ex;
        size_t want = (at + 4 + w->align - 1) / w->align * w->align; /* room for a 4-byte field header */
        pad = want - at;
    }
    put_le(w, false, 0x04034b50, 4);
    put_le(w, false, w->zip64 ? 45 : 20, 2);
    put_le(w, false, 0, 2), put_le(w, false, method, 2), put_le(w, false, 0, 4);
    put_le(w, false, crc, 4);
    put_le(w, false, w->zip64 ? 0xffffffffu : clen, 4);
    put_le(w, false, w->zip64 ? 0xffffffffu : usize, 4);
    put_le(w, false, nlen, 2), put_le(w, false, ex + pad, 2);
    put(w, &w->buf, &w->len, &w->cap, name, nlen);
    if (w->zip64) put_le(w, false, 1, 2), put_le(w, false, 16, 2), put_le(w, false, usize, 8), put_le(w, false, clen, 8);
    if (pad) {
        put_le(w, false, 0x4b46, 2), put_le(w, false, pad - 4, 2); /* "FK": torch's padding field id */
        for (size_t i = 4; i < pad; i++) put_le(w, false, 'Z', 1);
    }
    put(w, &w->buf, &w->len, &w->cap, stored, clen);
    free(comp);
    /* central record */
    put_le(w, true, 0x02014b50, 4);
    put_le(w, true, w->zip64 ? 45 : 20, 2), put_le(w, true, w->zip64 ? 45 : 20, 2);
    put_le(w, true, 0, 2), put_le(w, true, method, 2), put_le(w, true, 0, 4);
    put_le(w, true, crc, 4);
    put_le(w, true, w->zip64 ? 0xffffffffu : clen, 4);
    put_le(w, true, w->zip64 ? 0xffffffffu : usize, 4);
    put_le(w, true, nlen, 2), put_le(w, true, w->zip64 ? 28 : 0, 2), put_le(w, true, 0, 2);
    put_le(w, true, 0, 2), put_le(w, true, 0, 2), put_le(w, true, 0, 4);
    put_le(w, true, w->zip64 ? 0xffffffffu : hoff, 4);
    put(w, &w->cd, &w->cd_len, &w->cd_cap, name, nlen);
    if (w->zip64) put_le(w, true, 1, 2), put_le(w, true, 24, 2), put_le(w, true, usize, 8), put_le(w, true, clen, 8),
        put_le(w, true, hoff, 8);
    w->n++;
}

const uint8_t *zw_finish(zip_writer *w, size_t *len) {
    uint64_t cd_off = w->len;
    put(w, &w->buf, &w->len, &w->cap, w->cd, w->cd_len);
    if (w->zip64) {
        uint64_t e64 = w->len;
        put_le(w, false, 0x06064b50, 4), put_le(w, false, 44, 8), put_le(w, false, 45, 2), put_le(w, false, 45, 2);
        put_le(w, false, 0, 4), put_le(w, false, 0, 4), put_le(w, false, w->n, 8), put_le(w, false, w->n, 8);
        put_le(w, false, w->cd_len, 8), put_le(w, false, cd_off, 8);
        put_le(w, false, 0x07064b50, 4), put_le(w, false, 0, 4), put_le(w, false, e64, 8), put_le(w, false, 1, 4);
    }
    put_le(w, false, 0x06054b50, 4), put_le(w, false, 0, 2), put_le(w, false, 0, 2);
    put_le(w, false, w->zip64 ? 0xffff : w->n, 2), put_le(w, false, w->zip64 ? 0xffff : w->n, 2);
    put_le(w, false, w->zip64 ? 0xffffffffu : w->cd_len, 4), put_le(w, false, w->zip64 ? 0xffffffffu : cd_off, 4);
    put_le(w, false, 0, 2);
    if (w->oom) return NULL;
    *len = w->len;
    return w->buf;
}

void zw_free(zip_writer *w) {
    free(w->buf), free(w->cd);
    memset(w, 0, sizeof *w);
}

int zw_write_file(zip_writer *w, const char *path) {
    size_t n;
    const uint8_t *b = zw_finish(w, &n);
    if (!b) return -1;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}
