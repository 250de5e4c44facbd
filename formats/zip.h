/* zip.h - reading zip archives (PyTorch's torch.save format) safely, on zlib.
 *
 * Layout read: end of central directory record (EOCD, last 22 + comment bytes;
 * with ZIP64 its locator and the ZIP64 EOCD before it) -> central directory
 * (one 46-byte record + name + extra + comment per entry; ZIP64 sizes and
 * offsets in extra field 0x0001) -> each entry's local header (30 bytes +
 * name + extra) -> its data.
 *
 * What open checks, before anything is read from an entry:
 *   - the EOCD/ZIP64 records are inside the file and agree with each other;
 *     a single-disk archive; the central directory fits between the entries
 *     and the EOCD; the entry count fits the directory's bytes;
 *   - every central record: signature, lengths inside the directory, no
 *     encryption, method STORED (compressed size == size) or DEFLATED;
 *   - every name: non-empty, no NUL, no leading '/', no '\\', no "." or ".."
 *     component (so nothing can be made to point outside a folder), unique;
 *   - every local header: signature, same name, method and (without a data
 *     descriptor) same CRC and sizes as the central record; the entry's bytes
 *     inside the file and before the central directory; no two entries
 *     overlapping (the overlapping-entries zip bomb).
 * Reading an entry inflates at most its declared size (more output, or less,
 * is an error: no zip bombs) and checks the CRC-32 whenever an entry has been
 * read to its end. Errors name the file, the entry, the bad value and what
 * was expected. Data is read with pread at the entry's offset; the archive is
 * never loaded whole. */
#ifndef QK_ZIP_H
#define QK_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk_error.h"

#define QK_ZIP_STORED 0
#define QK_ZIP_DEFLATED 8
#define QK_ZIP_MAX_ENTRIES 1000000u

typedef struct qk_zip_entry {
    char *name;
    uint16_t method;       /* QK_ZIP_STORED or QK_ZIP_DEFLATED */
    uint32_t crc32;
    uint64_t comp_size;    /* bytes stored in the archive */
    uint64_t size;         /* bytes after inflating */
    uint64_t header_offset;/* of the local header */
    uint64_t data_offset;  /* absolute offset of the entry's stored bytes */
} qk_zip_entry;

typedef struct qk_zip {
    char *path;             /* for messages */
    int fd;                 /* -1 for an in-memory archive */
    const uint8_t *mem;     /* the in-memory archive (not owned), or NULL */
    uint64_t file_size;
    size_t n_entries;
    qk_zip_entry *entries;  /* sorted by name */
} qk_zip;

/* Opens and checks an archive file. */
int qk_zip_open(const char *path, qk_zip **out, qk_err *err);
/* The same over a buffer that must outlive the archive (label names it in
 * messages); for tests and fuzzing. */
int qk_zip_open_mem(const char *label, const void *data, size_t len, qk_zip **out, qk_err *err);
void qk_zip_close(qk_zip *z);

const qk_zip_entry *qk_zip_find(const qk_zip *z, const char *name);

/* A whole entry into a malloc'd buffer (*out, *len; one NUL byte appended
 * after the data), CRC-checked; refused before reading if its size exceeds
 * max_size. */
int qk_zip_read_all(const qk_zip *z, const qk_zip_entry *e, uint64_t max_size, uint8_t **out, size_t *len,
                    qk_err *err);

/* Bytes [off, off + n) of a STORED entry, read in place with pread; no CRC
 * (the caller checks it with qk_zip_crc_* when it reads the entry in order).
 * Thread-safe. */
int qk_zip_pread_stored(const qk_zip *z, const qk_zip_entry *e, uint64_t off, size_t n, void *dst, qk_err *err);

/* Sequential reading of any entry: at most e->size bytes come out; at the end
 * the inflater must have ended exactly there and the CRC must match. */
typedef struct qk_zip_stream {
    const qk_zip *z;
    const qk_zip_entry *e;
    void *zs;              /* z_stream (DEFLATED) */
    uint8_t *inbuf;
    uint64_t in_pos;       /* compressed bytes consumed from the archive */
    uint64_t out_pos;      /* bytes handed out */
    uint32_t crc;
    bool ended;            /* inflate returned Z_STREAM_END */
} qk_zip_stream;

int qk_zip_stream_open(const qk_zip *z, const qk_zip_entry *e, qk_zip_stream *s, qk_err *err);
/* Reads exactly n bytes (n <= size - out_pos); verifies CRC and the stream's
 * end when the last byte has been read. */
int qk_zip_stream_read(qk_zip_stream *s, void *dst, size_t n, qk_err *err);
/* Skips n bytes (inflating them into a scratch buffer). */
int qk_zip_stream_skip(qk_zip_stream *s, uint64_t n, qk_err *err);
void qk_zip_stream_close(qk_zip_stream *s);

#endif
