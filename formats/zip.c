#include "zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define MAX_CD_BYTES ((uint64_t)256 << 20)
#define IN_CHUNK (64u << 10)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int read_at(const qk_zip *z, uint64_t off, size_t n, void *dst, const char *what, qk_err *err) {
    if (off > z->file_size || n > z->file_size - off)
        return qk_fail(err, "%s: %s: %zu bytes at offset %llu run past the end of the archive (size %llu)", z->path, what,
                       n, (unsigned long long)off, (unsigned long long)z->file_size);
    if (z->mem) {
        memcpy(dst, z->mem + off, n);
        return QK_OK;
    }
    uint8_t *d = dst;
    while (n) {
        ssize_t r = pread(z->fd, d, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return qk_fail(err, "%s: %s: read error: %s", z->path, what, strerror(errno));
        if (r == 0) return qk_fail(err, "%s: %s: the file ended early (it shrank while being read?)", z->path, what);
        d += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return QK_OK;
}

void qk_zip_close(qk_zip *z) {
    if (!z) return;
    for (size_t i = 0; z->entries && i < z->n_entries; i++) free(z->entries[i].name);
    free(z->entries);
    if (z->fd >= 0) close(z->fd);
    free(z->path);
    free(z);
}

/* A name that cannot address anything outside the folder it would be
 * extracted into, and that can be printed. */
static const char *bad_name(const char *s, size_t n) {
    if (n == 0) return "an empty name";
    if (memchr(s, 0, n)) return "a NUL byte in the name";
    if (s[0] == '/') return "an absolute path";
    if (memchr(s, '\\', n)) return "a backslash (a Windows path)";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20) return "a control character in the name";
    size_t b = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || s[i] == '/') {
            size_t l = i - b;
            if ((l == 1 && s[b] == '.') || (l == 2 && s[b] == '.' && s[b + 1] == '.'))
                return "a '.' or '..' path component (a path traversal)";
            if (l == 0 && i != n) return "an empty path component";
            b = i + 1;
        }
    return NULL;
}

static int cmp_entry_name(const void *a, const void *b) {
    return strcmp(((const qk_zip_entry *)a)->name, ((const qk_zip_entry *)b)->name);
}

static int cmp_entry_off(const void *a, const void *b) {
    const qk_zip_entry *x = *(const qk_zip_entry *const *)a, *y = *(const qk_zip_entry *const *)b;
    return x->header_offset < y->header_offset ? -1 : x->header_offset > y->header_offset;
}

/* The ZIP64 extended-information field (0x0001) of an extra block: holds, in
 * this order, exactly the fields whose 32-bit (16-bit) values are all ones. */
static int zip64_extra(const qk_zip *z, const char *ename, const uint8_t *ex, size_t exlen, uint64_t *usize,
                       uint64_t *csize, uint64_t *hoff, bool need_u, bool need_c, bool need_h, qk_err *err) {
    if (!need_u && !need_c && !need_h) return QK_OK;
    size_t p = 0;
    while (p + 4 <= exlen) {
        uint16_t id = rd16(ex + p), len = rd16(ex + p + 2);
        if (len > exlen - p - 4)
            return qk_fail(err, "%s: entry '%s': extra field 0x%04x of %u bytes runs past its extra block (%zu bytes)",
                           z->path, ename, id, len, exlen);
        if (id == 1) {
            const uint8_t *d = ex + p + 4;
            size_t need = 8u * ((size_t)need_u + need_c + need_h);
            if (len < need)
                return qk_fail(err, "%s: entry '%s': ZIP64 extra field has %u bytes, expected at least %zu", z->path,
                               ename, len, need);
            if (need_u) *usize = rd64(d), d += 8;
            if (need_c) *csize = rd64(d), d += 8;
            if (need_h) *hoff = rd64(d);
            return QK_OK;
        }
        p += 4u + len;
    }
    return qk_fail(err, "%s: entry '%s': a size or offset is 0xffffffff but there is no ZIP64 extra field", z->path, ename);
}

static int check_local(qk_zip *z, qk_zip_entry *e, uint16_t cd_flags, uint64_t cd_end_limit, qk_err *err) {
    uint8_t h[30];
    if (e->header_offset > cd_end_limit || cd_end_limit - e->header_offset < 30)
        return qk_fail(err, "%s: entry '%s': local header offset %llu is not before the central directory (at %llu)",
                       z->path, e->name, (unsigned long long)e->header_offset, (unsigned long long)cd_end_limit);
    if (read_at(z, e->header_offset, 30, h, e->name, err)) return QK_FAIL;
    if (rd32(h) != SIG_LOCAL)
        return qk_fail(err, "%s: entry '%s': no local header signature at offset %llu (found 0x%08x, expected 0x%08x)",
                       z->path, e->name, (unsigned long long)e->header_offset, rd32(h), SIG_LOCAL);
    uint16_t flags = rd16(h + 6), method = rd16(h + 8), nlen = rd16(h + 26), elen = rd16(h + 28);
    if (method != e->method)
        return qk_fail(err, "%s: entry '%s': local header says method %u, the central directory %u", z->path, e->name,
                       method, e->method);
    if (flags & 1) return qk_fail(err, "%s: entry '%s': encrypted entries are not supported", z->path, e->name);
    uint64_t vend = e->header_offset + 30u + nlen + elen;
    if (vend > cd_end_limit)
        return qk_fail(err, "%s: entry '%s': local header (%u-byte name, %u-byte extra) runs into the central directory",
                       z->path, e->name, nlen, elen);
    size_t cnl = strlen(e->name);
    uint8_t *buf = malloc((size_t)nlen + elen + 1u);
    if (!buf) return qk_fail(err, "%s: out of memory", z->path);
    if (read_at(z, e->header_offset + 30, (size_t)nlen + elen, buf, e->name, err)) return free(buf), QK_FAIL;
    if (nlen != cnl || memcmp(buf, e->name, cnl)) {
        free(buf);
        return qk_fail(err, "%s: entry '%s': the local header names it differently (%u-byte name)", z->path, e->name,
                       nlen);
    }
    if (!(cd_flags & 8) && !(flags & 8)) {
        uint32_t crc = rd32(h + 14);
        uint64_t cs = rd32(h + 18), us = rd32(h + 22);
        if (zip64_extra(z, e->name, buf + nlen, elen, &us, &cs, NULL, us == 0xffffffffu, cs == 0xffffffffu, false, err))
            return free(buf), QK_FAIL;
        if (crc != e->crc32 || cs != e->comp_size || us != e->size) {
            free(buf);
            return qk_fail(err,
                           "%s: entry '%s': local header (crc 0x%08x, %llu -> %llu bytes) disagrees with the central "
                           "directory (crc 0x%08x, %llu -> %llu bytes)",
                           z->path, e->name, crc, (unsigned long long)cs, (unsigned long long)us, e->crc32,
                           (unsigned long long)e->comp_size, (unsigned long long)e->size);
        }
    }
    free(buf);
    e->data_offset = vend;
    if (e->comp_size > cd_end_limit - vend)
        return qk_fail(err, "%s: entry '%s': its %llu stored bytes at offset %llu run past the central directory (at %llu)",
                       z->path, e->name, (unsigned long long)e->comp_size, (unsigned long long)vend,
                       (unsigned long long)cd_end_limit);
    return QK_OK;
}

static int parse(qk_zip *z, qk_err *err) {
    const uint64_t fs = z->file_size;
    if (fs < 22) return qk_fail(err, "%s: not a zip archive (%llu bytes, smaller than an end record)", z->path,
                                (unsigned long long)fs);
    size_t tail = fs < 22 + 65535 ? (size_t)fs : 22 + 65535;
    uint8_t *t = malloc(tail);
    if (!t) return qk_fail(err, "%s: out of memory", z->path);
    if (read_at(z, fs - tail, tail, t, "end of central directory", err)) return free(t), QK_FAIL;
    size_t at = SIZE_MAX;
    for (size_t i = tail - 22 + 1; i-- > 0;)
        if (rd32(t + i) == SIG_EOCD && i + 22u + rd16(t + i + 20) == tail) { at = i; break; }
    if (at == SIZE_MAX) {
        free(t);
        return qk_fail(err, "%s: not a zip archive (no end of central directory record in the last %zu bytes)", z->path,
                       tail);
    }
    const uint64_t eocd_off = fs - tail + at;
    const uint8_t *e = t + at;
    uint64_t disk = rd16(e + 4), cd_disk = rd16(e + 6), n_disk = rd16(e + 8), n_total = rd16(e + 10);
    uint64_t cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    free(t);
    uint64_t limit = eocd_off; /* everything else lies before this */
    uint8_t loc[20];
    if (eocd_off >= 20 && read_at(z, eocd_off - 20, 20, loc, "ZIP64 locator", err) == QK_OK && rd32(loc) == SIG_LOC64) {
        uint64_t o64 = rd64(loc + 8);
        if (rd32(loc + 4) != 0 || rd32(loc + 16) > 1)
            return qk_fail(err, "%s: a multi-disk archive (ZIP64 locator: disk %u of %u); expected one file", z->path,
                           rd32(loc + 4), rd32(loc + 16));
        if (o64 > eocd_off - 20 || eocd_off - 20 - o64 < 56)
            return qk_fail(err, "%s: ZIP64 end record offset %llu is not before its locator (at %llu)", z->path,
                           (unsigned long long)o64, (unsigned long long)(eocd_off - 20));
        uint8_t r[56];
        if (read_at(z, o64, 56, r, "ZIP64 end record", err)) return QK_FAIL;
        if (rd32(r) != SIG_EOCD64)
            return qk_fail(err, "%s: no ZIP64 end record at offset %llu (found 0x%08x, expected 0x%08x)", z->path,
                           (unsigned long long)o64, rd32(r), SIG_EOCD64);
        const uint64_t v[6] = {rd32(r + 16), rd32(r + 20), rd64(r + 24), rd64(r + 32), rd64(r + 40), rd64(r + 48)};
        uint64_t *f[6] = {&disk, &cd_disk, &n_disk, &n_total, &cd_size, &cd_off};
        const uint64_t ones[6] = {0xffff, 0xffff, 0xffff, 0xffff, 0xffffffffu, 0xffffffffu};
        static const char *const names[6] = {"disk", "directory disk", "entries on disk", "entries",
                                             "directory size", "directory offset"};
        for (int i = 0; i < 6; i++) {
            if (*f[i] != ones[i] && *f[i] != v[i])
                return qk_fail(err, "%s: the end record says %s %llu, the ZIP64 end record %llu", z->path, names[i],
                               (unsigned long long)*f[i], (unsigned long long)v[i]);
            *f[i] = v[i];
        }
        limit = o64;
    }
    if (disk != 0 || cd_disk != 0 || n_disk != n_total)
        return qk_fail(err, "%s: a multi-disk archive (disk %llu, directory disk %llu, %llu of %llu entries); expected "
                            "one file", z->path, (unsigned long long)disk, (unsigned long long)cd_disk,
                       (unsigned long long)n_disk, (unsigned long long)n_total);
    if (cd_off > limit || cd_size > limit - cd_off)
        return qk_fail(err, "%s: central directory (%llu bytes at offset %llu) is not before the end record (at %llu)",
                       z->path, (unsigned long long)cd_size, (unsigned long long)cd_off, (unsigned long long)limit);
    if (n_total > QK_ZIP_MAX_ENTRIES || n_total > cd_size / 46 || cd_size > MAX_CD_BYTES)
        return qk_fail(err, "%s: %llu entries in a %llu-byte central directory (at most %u entries of >= 46 bytes, at "
                            "most %llu bytes)", z->path, (unsigned long long)n_total, (unsigned long long)cd_size,
                       QK_ZIP_MAX_ENTRIES, (unsigned long long)MAX_CD_BYTES);
    uint8_t *cd = malloc(cd_size ? (size_t)cd_size : 1);
    z->entries = calloc(n_total ? (size_t)n_total : 1, sizeof *z->entries);
    qk_zip_entry **by_off = malloc((n_total ? (size_t)n_total : 1) * sizeof *by_off);
    if (!cd || !z->entries || !by_off) {
        free(cd), free(by_off);
        return qk_fail(err, "%s: out of memory", z->path);
    }
    if (read_at(z, cd_off, (size_t)cd_size, cd, "central directory", err)) goto fail;
    size_t p = 0;
    for (uint64_t i = 0; i < n_total; i++) {
        if (cd_size - p < 46 || rd32(cd + p) != SIG_CENTRAL) {
            qk_fail(err, "%s: central directory record %llu of %llu at offset %llu: %s", z->path,
                    (unsigned long long)i + 1, (unsigned long long)n_total, (unsigned long long)(cd_off + p),
                    cd_size - p < 46 ? "truncated (fewer than 46 bytes left)" : "bad signature");
            goto fail;
        }
        const uint8_t *r = cd + p;
        uint16_t flags = rd16(r + 8), method = rd16(r + 10), nlen = rd16(r + 28), elen = rd16(r + 30),
                 clen = rd16(r + 32);
        size_t rec = 46u + nlen + elen + clen;
        if (rec > cd_size - p) {
            qk_fail(err, "%s: central directory record %llu: its %zu bytes run past the directory's end", z->path,
                    (unsigned long long)i + 1, rec);
            goto fail;
        }
        qk_zip_entry *en = &z->entries[z->n_entries];
        en->name = malloc((size_t)nlen + 1);
        if (!en->name) { qk_fail(err, "%s: out of memory", z->path); goto fail; }
        memcpy(en->name, r + 46, nlen);
        en->name[nlen] = 0;
        z->n_entries++;
        const char *why = bad_name((const char *)r + 46, nlen);
        if (why) {
            for (char *c = en->name; *c; c++)
                if ((unsigned char)*c < 0x20) *c = '?';
            qk_fail(err, "%s: entry '%s': refused: %s", z->path, en->name, why);
            goto fail;
        }
        if (flags & 0x41) {
            qk_fail(err, "%s: entry '%s': encrypted entries are not supported", z->path, en->name);
            goto fail;
        }
        if (method != QK_ZIP_STORED && method != QK_ZIP_DEFLATED) {
            qk_fail(err, "%s: entry '%s': compression method %u is not supported (expected 0 stored or 8 deflated)",
                    z->path, en->name, method);
            goto fail;
        }
        en->method = method;
        en->crc32 = rd32(r + 16);
        en->comp_size = rd32(r + 20);
        en->size = rd32(r + 24);
        en->header_offset = rd32(r + 42);
        if (rd16(r + 34) != 0 && rd16(r + 34) != 0xffff) {
            qk_fail(err, "%s: entry '%s': on disk %u; expected a single-file archive", z->path, en->name, rd16(r + 34));
            goto fail;
        }
        if (zip64_extra(z, en->name, r + 46 + nlen, elen, &en->size, &en->comp_size, &en->header_offset,
                        en->size == 0xffffffffu, en->comp_size == 0xffffffffu, en->header_offset == 0xffffffffu, err))
            goto fail;
        if (method == QK_ZIP_STORED && en->comp_size != en->size) {
            qk_fail(err, "%s: entry '%s': stored (not compressed) but %llu bytes stored for %llu bytes of data", z->path,
                    en->name, (unsigned long long)en->comp_size, (unsigned long long)en->size);
            goto fail;
        }
        if (check_local(z, en, flags, cd_off, err)) goto fail;
        by_off[i] = en;
        p += rec;
    }
    qsort(by_off, z->n_entries, sizeof *by_off, cmp_entry_off);
    for (size_t i = 1; i < z->n_entries; i++)
        if (by_off[i - 1]->data_offset + by_off[i - 1]->comp_size > by_off[i]->header_offset) {
            qk_fail(err, "%s: entries '%s' and '%s' overlap in the archive (at offsets %llu and %llu)", z->path,
                    by_off[i - 1]->name, by_off[i]->name, (unsigned long long)by_off[i - 1]->header_offset,
                    (unsigned long long)by_off[i]->header_offset);
            goto fail;
        }
    qsort(z->entries, z->n_entries, sizeof *z->entries, cmp_entry_name);
    for (size_t i = 1; i < z->n_entries; i++)
        if (!strcmp(z->entries[i - 1].name, z->entries[i].name)) {
            qk_fail(err, "%s: entry '%s' appears twice; expected unique names", z->path, z->entries[i].name);
            goto fail;
        }
    free(cd), free(by_off);
    return QK_OK;
fail:
    free(cd), free(by_off);
    return QK_FAIL;
}

static qk_zip *new_zip(const char *path) {
    qk_zip *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->fd = -1;
    size_t n = strlen(path) + 1;
    z->path = malloc(n);
    if (!z->path) return free(z), NULL;
    memcpy(z->path, path, n);
    return z;
}

int qk_zip_open(const char *path, qk_zip **out, qk_err *err) {
    *out = NULL;
    qk_zip *z = new_zip(path);
    if (!z) return qk_fail(err, "%s: out of memory", path);
    z->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (z->fd < 0 || fstat(z->fd, &st) || !S_ISREG(st.st_mode)) {
        int e = z->fd < 0 ? errno : EINVAL;
        qk_zip_close(z);
        return qk_fail(err, "%s: cannot open: %s", path, e == EINVAL ? "not a regular file" : strerror(e));
    }
    z->file_size = (uint64_t)st.st_size;
    if (parse(z, err)) {
        qk_zip_close(z);
        return QK_FAIL;
    }
    *out = z;
    return QK_OK;
}

int qk_zip_open_mem(const char *label, const void *data, size_t len, qk_zip **out, qk_err *err) {
    *out = NULL;
    qk_zip *z = new_zip(label);
    if (!z) return qk_fail(err, "%s: out of memory", label);
    z->mem = data;
    z->file_size = len;
    if (parse(z, err)) {
        qk_zip_close(z);
        return QK_FAIL;
    }
    *out = z;
    return QK_OK;
}

static int cmp_name_entry(const void *name, const void *e) { return strcmp(name, ((const qk_zip_entry *)e)->name); }

const qk_zip_entry *qk_zip_find(const qk_zip *z, const char *name) {
    return z->n_entries ? bsearch(name, z->entries, z->n_entries, sizeof *z->entries, cmp_name_entry) : NULL;
}

int qk_zip_pread_stored(const qk_zip *z, const qk_zip_entry *e, uint64_t off, size_t n, void *dst, qk_err *err) {
    if (e->method != QK_ZIP_STORED)
        return qk_fail(err, "%s: entry '%s' is compressed; expected a stored entry for in-place reads", z->path, e->name);
    if (off > e->size || n > e->size - off)
        return qk_fail(err, "%s: entry '%s': read of %zu bytes at %llu is outside its %llu bytes", z->path, e->name, n,
                       (unsigned long long)off, (unsigned long long)e->size);
    return read_at(z, e->data_offset + off, n, dst, e->name, err);
}

uint32_t qk_zip_crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k, n -= k;
    }
    return crc;
}

int qk_zip_stream_open(const qk_zip *z, const qk_zip_entry *e, qk_zip_stream *s, qk_err *err) {
    memset(s, 0, sizeof *s);
    s->z = z, s->e = e;
    s->crc = (uint32_t)crc32(0, Z_NULL, 0);
    if (e->method == QK_ZIP_STORED) return QK_OK;
    z_stream *zs = calloc(1, sizeof *zs);
    s->inbuf = malloc(IN_CHUNK);
    if (!zs || !s->inbuf) {
        free(zs), free(s->inbuf), s->inbuf = NULL;
        return qk_fail(err, "%s: out of memory", z->path);
    }
    if (inflateInit2(zs, -MAX_WBITS) != Z_OK) {
        free(zs), free(s->inbuf), s->inbuf = NULL;
        return qk_fail(err, "%s: entry '%s': cannot start the inflater", z->path, e->name);
    }
    s->zs = zs;
    return QK_OK;
}

void qk_zip_stream_close(qk_zip_stream *s) {
    if (s->zs) inflateEnd(s->zs);
    free(s->zs), free(s->inbuf);
    s->zs = NULL, s->inbuf = NULL;
}

/* Feeds the inflater the next chunk of compressed bytes when it has used up
 * the last one and the entry has more. */
static int refill(qk_zip_stream *s, qk_err *err) {
    z_stream *zs = s->zs;
    const qk_zip_entry *e = s->e;
    if (zs->avail_in || s->in_pos >= e->comp_size) return QK_OK;
    const uint64_t left = e->comp_size - s->in_pos;
    const size_t k = left < IN_CHUNK ? (size_t)left : IN_CHUNK;
    if (read_at(s->z, e->data_offset + s->in_pos, k, s->inbuf, e->name, err)) return QK_FAIL;
    s->in_pos += k;
    zs->next_in = s->inbuf, zs->avail_in = (uInt)k;
    return QK_OK;
}

/* Inflates exactly n bytes into dst. */
static int inflate_n(qk_zip_stream *s, uint8_t *dst, size_t n, qk_err *err) {
    const qk_zip *z = s->z;
    const qk_zip_entry *e = s->e;
    z_stream *zs = s->zs;
    while (n) {
        if (refill(s, err)) return QK_FAIL;
        if (s->ended)
            return qk_fail(err, "%s: entry '%s': the deflate stream ends after %llu bytes; its declared size is %llu",
                           z->path, e->name, (unsigned long long)(s->out_pos), (unsigned long long)e->size);
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        zs->next_out = dst, zs->avail_out = k;
        int rc = inflate(zs, Z_NO_FLUSH);
        size_t got = k - zs->avail_out;
        dst += got, n -= got, s->out_pos += got;
        if (rc == Z_STREAM_END) s->ended = true;
        else if (rc == Z_BUF_ERROR && zs->avail_in == 0 && s->in_pos == e->comp_size)
            return qk_fail(err, "%s: entry '%s': the compressed data (%llu bytes) ends after %llu of %llu bytes "
                                "(truncated)", z->path, e->name, (unsigned long long)e->comp_size,
                           (unsigned long long)s->out_pos, (unsigned long long)e->size);
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return qk_fail(err, "%s: entry '%s': invalid deflate data after %llu bytes (%s)", z->path, e->name,
                           (unsigned long long)s->out_pos, zs->msg ? zs->msg : "zlib error");
        if (s->ended && n)
            return qk_fail(err, "%s: entry '%s': the deflate stream ends after %llu bytes; its declared size is %llu",
                           z->path, e->name, (unsigned long long)s->out_pos, (unsigned long long)e->size);
    }
    return QK_OK;
}

/* At the declared end: the stream must end there (never more inflated than
 * declared: one byte of look-ahead at most) and the CRC must match. */
static int finish(qk_zip_stream *s, qk_err *err) {
    const qk_zip *z = s->z;
    const qk_zip_entry *e = s->e;
    if (s->zs && !s->ended) {
        z_stream *zs = s->zs;
        uint8_t extra;
        for (;;) {
            if (refill(s, err)) return QK_FAIL;
            zs->next_out = &extra, zs->avail_out = 1;
            int rc = inflate(zs, Z_NO_FLUSH);
            if (zs->avail_out == 0)
                return qk_fail(err, "%s: entry '%s': inflates to more than its declared %llu bytes (a zip bomb?)",
                               z->path, e->name, (unsigned long long)e->size);
            if (rc == Z_STREAM_END) { s->ended = true; break; }
            if (rc == Z_BUF_ERROR && zs->avail_in == 0 && s->in_pos == e->comp_size)
                return qk_fail(err, "%s: entry '%s': the compressed data ends before the deflate stream does "
                                    "(truncated)", z->path, e->name);
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return qk_fail(err, "%s: entry '%s': invalid deflate data at its end (%s)", z->path, e->name,
                               zs->msg ? zs->msg : "zlib error");
        }
    }
    if (s->crc != e->crc32)
        return qk_fail(err, "%s: entry '%s': CRC-32 0x%08x of its %llu bytes does not match the recorded 0x%08x "
                            "(corrupted)", z->path, e->name, s->crc, (unsigned long long)e->size, e->crc32);
    return QK_OK;
}

int qk_zip_stream_read(qk_zip_stream *s, void *dst, size_t n, qk_err *err) {
    const qk_zip_entry *e = s->e;
    if (n > e->size - s->out_pos)
        return qk_fail(err, "%s: entry '%s': read of %zu bytes at %llu is past its %llu bytes", s->z->path, e->name, n,
                       (unsigned long long)s->out_pos, (unsigned long long)e->size);
    if (!s->zs) {
        if (read_at(s->z, e->data_offset + s->out_pos, n, dst, e->name, err)) return QK_FAIL;
        s->out_pos += n;
    } else if (inflate_n(s, dst, n, err))
        return QK_FAIL;
    s->crc = qk_zip_crc32_update(s->crc, dst, n);
    if (s->out_pos == e->size && n) return finish(s, err);
    if (e->size == 0 && s->out_pos == 0) return finish(s, err);
    return QK_OK;
}

int qk_zip_stream_skip(qk_zip_stream *s, uint64_t n, qk_err *err) {
    uint8_t *buf = malloc(IN_CHUNK);
    if (!buf) return qk_fail(err, "%s: out of memory", s->z->path);
    while (n) {
        size_t k = n < IN_CHUNK ? (size_t)n : IN_CHUNK;
        if (qk_zip_stream_read(s, buf, k, err)) return free(buf), QK_FAIL;
        n -= k;
    }
    free(buf);
    return QK_OK;
}

int qk_zip_read_all(const qk_zip *z, const qk_zip_entry *e, uint64_t max_size, uint8_t **out, size_t *len,
                    qk_err *err) {
    *out = NULL, *len = 0;
    if (e->size > max_size)
        return qk_fail(err, "%s: entry '%s' is %llu bytes; at most %llu expected", z->path, e->name,
                       (unsigned long long)e->size, (unsigned long long)max_size);
    uint8_t *buf = malloc((size_t)e->size + 1);
    if (!buf) return qk_fail(err, "%s: entry '%s': out of memory for %llu bytes", z->path, e->name,
                             (unsigned long long)e->size);
    qk_zip_stream s;
    if (qk_zip_stream_open(z, e, &s, err)) return free(buf), QK_FAIL;
    int rc = qk_zip_stream_read(&s, buf, (size_t)e->size, err);
    qk_zip_stream_close(&s);
    if (rc) return free(buf), QK_FAIL;
    buf[e->size] = 0;
    *out = buf, *len = (size_t)e->size;
    return QK_OK;
}
