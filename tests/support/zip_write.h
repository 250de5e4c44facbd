/* zip_write.h - writes zip archives for the tests (the layout PyTorch's
 * torch.save uses: local header + data per entry, optionally padded to 64
 * bytes with a local extra field as torch's writer does, then the central
 * directory and the end records, optionally ZIP64), plus knobs that make
 * hostile archives: a wrong declared size or CRC. */
#ifndef QK_ZIP_WRITE_H
#define QK_ZIP_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zw_opts {
    bool deflate;         /* DEFLATED (zlib level 6) instead of STORED */
    bool set_size;        /* declare this uncompressed size instead of the real one */
    uint64_t size;
    bool set_crc;         /* record this CRC instead of the real one */
    uint32_t crc;
} zw_opts;

typedef struct zip_writer {
    uint8_t *buf;
    size_t len, cap;
    uint8_t *cd;          /* central directory being built */
    size_t cd_len, cd_cap;
    uint64_t n;
    bool zip64;           /* ZIP64 extra fields and end records for every entry */
    unsigned align;       /* 0, or pad each entry's data to this alignment (torch: 64) */
    bool oom;
} zip_writer;

void zw_init(zip_writer *w, bool zip64, unsigned align);
void zw_add(zip_writer *w, const char *name, const void *data, size_t len, const zw_opts *o);
/* Appends the central directory and end records; returns the archive
 * (owned by w until zw_free), NULL if memory ran out. */
const uint8_t *zw_finish(zip_writer *w, size_t *len);
void zw_free(zip_writer *w);
/* Writes the finished archive to path; 0 on success. */
int zw_write_file(zip_writer *w, const char *path);

#endif
